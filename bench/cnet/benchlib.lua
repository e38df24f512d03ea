-- Shared helpers of cnet's bench scripts (bench/cnet/*.lua).
-- Each script states the API it needs with need(); a missing function ends the
-- script with exit status 77, which bench/run reports as "skipped: missing
-- API", so the bench keeps running while cnet is still being built.
local M = {}

M.cnet = rawget(_G, "cnet") or require("cnet")

-- need("netns.add", "link.set", ...): exit 77 unless every cnet.<path> exists.
function M.need(...)
  for _, path in ipairs({...}) do
    local v = M.cnet
    for part in path:gmatch("[^.]+") do
      v = type(v) == "table" and v[part] or nil
    end
    if v == nil then
      io.stderr:write("missing API: cnet." .. path .. "\n")
      os.exit(77)
    end
  end
end

-- Address of container i (1-based), as every containers(N) peer uses it.
function M.addr(i)
  local h = i + 1
  return ("10.200.%d.%d"):format(h >> 8, h & 255)
end

-- Address i of rules(M): 10.0.0.0 + i.
function M.rule_addr(i)
  return ("10.%d.%d.%d"):format((i >> 16) & 255, (i >> 8) & 255, i & 255)
end

-- With BENCH_RULE_BY_NFT=1 (the tools "cnet (rule by nft -f)"), the one
-- masquerade rule goes through the nft command instead of cnet.nft, so the
-- netlink part of containers(N) can be measured before cnet.nft exists.
local by_nft = os.getenv("BENCH_RULE_BY_NFT") == "1"

local function nft(script)
  local f = assert(io.popen("nft -f -", "w"))
  f:write(script)
  assert(f:close(), "nft -f failed")
end

-- The one masquerade rule of containers(N), in nft's syntax (issue 3's
-- declarative form).
function M.masquerade()
  if by_nft then
    return nft("add table ip cnet\n" ..
      "add chain ip cnet postrouting { type nat hook postrouting priority srcnat; }\n" ..
      "add rule ip cnet postrouting ip saddr 10.200.0.0/16 masquerade\n")
  end
  M.cnet.nft.apply{
    table = "ip cnet",
    chains = {
      postrouting = {type = "nat", hook = "postrouting", priority = "srcnat",
        "ip saddr 10.200.0.0/16 masquerade"},
    },
  }
end

-- Removing that table again.
function M.unmasquerade()
  if by_nft then return nft("delete table ip cnet\n") end
  M.cnet.nft.delete_table("ip cnet")
end

M.nft_needs = by_nft and {} or {"nft.apply", "nft.delete_table"}

-- Teardown of containers(N), one call per step: the namespaces first (the kernel then frees
-- every veth pair in one go), the bridge, the rule, ip_forward.
function M.teardown(n)
  M.need("netns.delete", "link.delete", "sysctl.set", table.unpack(M.nft_needs))
  local cnet = M.cnet
  for i = 1, n do
    cnet.netns.delete("c" .. i)
  end
  cnet.link.delete("br0")
  M.unmasquerade()
  cnet.sysctl.set("net.ipv4.ip_forward", 0)
end

return M
