-- rules(M) with cnet's declarative nftables form (issue 3), one transaction.
--   cnet rules.lua rules M   M rules "ip saddr A accept" in chain input
--   cnet rules.lua set M     one named set of M addresses and one rule
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local arg = (select("#", ...) > 0) and {...} or arg
if arg == nil then io.stderr:write("missing API: script arguments (arg)\n") os.exit(77) end
local B = require("benchlib")
local cnet = B.cnet
local form, m = arg[1], assert(tonumber(arg[2]), "usage: rules.lua rules|set M")
B.need("nft.apply")

local input = {type = "filter", hook = "input", priority = 0}
if form == "rules" then
  for i = 1, m do
    input[i] = "ip saddr " .. B.rule_addr(i) .. " accept"
  end
  cnet.nft.apply{table = "ip bench", chains = {input = input}}
else
  local elements = {}
  for i = 1, m do
    elements[i] = B.rule_addr(i)
  end
  input[1] = "ip saddr @allow accept"
  cnet.nft.apply{
    table = "ip bench",
    sets = {allow = {type = "ipv4_addr", elements = elements}},
    chains = {input = input},
  }
end
