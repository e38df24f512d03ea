-- Example 6: containers on macvlan devices of one parent interface (here a bridge standing in
-- for a physical NIC), in bridge mode so that they reach each other directly.
--   cnet --sandbox up scripts/topologies/06-macvlan.lua
local topology = require "cnet.topology"
local t = topology.new("macvlan")

t:bridge("mv-parent")
for i = 1, 3 do
  local name = "mv" .. i
  t:netns(name, {role = "container"})
  t:link{name = "eth0", type = "macvlan", link = "mv-parent", mode = "bridge", netns = name,
         addr = ("10.0.6.%d/24"):format(10 + i)}
end

return t
