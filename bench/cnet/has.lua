-- Exit 0 when every cnet.<path> given exists, 1 otherwise (used by bench/run
-- to decide which cnet variants apply).   cnet has.lua nft.apply ...
local cnet = rawget(_G, "cnet") or require("cnet")
for _, path in ipairs(arg or {...}) do
  local v = cnet
  for part in path:gmatch("[^.]+") do
    v = type(v) == "table" and v[part] or nil
  end
  if v == nil then os.exit(1) end
end
os.exit(0)
