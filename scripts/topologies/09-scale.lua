-- Example 9: N containers on one bridge, NAT to the outside; N from the command line.
--   cnet --sandbox up scripts/topologies/09-scale.lua 500
-- The same network as the benchmark's containers(N): bridge br0 10.200.0.1/16, namespace cI
-- with eth0 10.200.x.y/16 whose host end vethI is a port of br0, default route via the
-- bridge, forwarding and masquerading on.
local topology = require "cnet.topology"
local n = tonumber((...)) or 10
local t = topology.new("scale")

local function addr(i)
  local h = i + 1
  return ("10.200.%d.%d/16"):format(h >> 8, h & 255)
end

t:bridge("br0", {addr = "10.200.0.1/16"})
for i = 1, n do
  t:container("c" .. i, {bridge = "br0", addr = addr(i), gw = "10.200.0.1",
                         host_ifname = "veth" .. i})
end
t:nat{subnet = "10.200.0.0/16"}
return t
