-- Example 2: three containers on one bridge, talking to each other and out through NAT.
--   cnet --sandbox up scripts/topologies/02-three-containers.lua
local topology = require "cnet.topology"
local t = topology.new("three")

t:bridge("br-three", {addr = "10.0.3.1/24"})
for i = 1, 3 do
  t:container("three-c" .. i, {bridge = "br-three", addr = ("10.0.3.%d/24"):format(10 + i),
                               gw = "10.0.3.1"})
end
t:nat{subnet = "10.0.3.0/24"}   -- masquerade what leaves the subnet; forwarding on

return t
