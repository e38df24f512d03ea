-- rules(M) with cnet's declarative nftables form (issue 3), one transaction.
--   cnet rules.lua rules M   M rules "ip saddr A accept" in chain input
--   cnet rules.lua set M     one named set of M addresses and one rule
-- A third argument names a file holding the input already made (bench/cnet/input.sh): one
-- rule text or address per line, read instead of formatted here.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local arg = (select("#", ...) > 0) and {...} or arg
if arg == nil then io.stderr:write("missing API: script arguments (arg)\n") os.exit(77) end
local B = require("benchlib")
local cnet = B.cnet
local form, m = arg[1], assert(tonumber(arg[2]), "usage: rules.lua rules|set M")
B.need("nft.apply")

local lines = {}
if arg[3] then
  for line in io.lines(arg[3]) do lines[#lines + 1] = line end
  assert(#lines == m, "input file: expected " .. m .. " lines")
end

local input = {type = "filter", hook = "input", priority = 0}
if form == "rules" then
  for i = 1, m do
    input[i] = lines[i] or "ip saddr " .. B.rule_addr(i) .. " accept"
  end
  cnet.nft.apply{table = "ip bench", chains = {input = input}}
else
  local elements = {}
  for i = 1, m do
    elements[i] = lines[i] or B.rule_addr(i)
  end
  input[1] = "ip saddr @allow accept"
  cnet.nft.apply{
    table = "ip bench",
    sets = {allow = {type = "ipv4_addr", elements = elements}},
    chains = {input = input},
  }
end
