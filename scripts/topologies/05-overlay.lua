-- Example 5: a multi-host overlay. Three hosts on one underlay network, each with two
-- containers on a local bridge; a VXLAN (VNI 42) joins the bridges, with FDB entries that
-- flood to every other host, so all six containers share one subnet, 10.10.0.0/24.
--   cnet --sandbox up scripts/topologies/05-overlay.lua         (every host simulated here)
--   cnet up scripts/topologies/05-overlay.lua --host h2         (h2's part, on a real h2)
-- Simulated, each host is a namespace named after it whose eth0 sits on the underlay bridge
-- ul-overlay; on real machines, eth0 is the machine's own underlay device and must already
-- hold the address given here.
local topology = require "cnet.topology"
local t = topology.new("overlay")

for i = 1, 3 do
  local h = t:host("h" .. i, {underlay = {dev = "eth0", addr = ("192.0.2.%d/24"):format(10 + i)}})
  h:bridge("br0", {mtu = 1450})
  for j = 1, 2 do
    -- 1450: the VXLAN header takes 50 bytes of the underlay's 1500
    h:container(("h%d-c%d"):format(i, j), {bridge = "br0", mtu = 1450,
                                            addr = ("10.10.0.%d/24"):format(10 * i + j)})
  end
end
t:overlay{vni = 42, bridge = "br0", dev = "vx42"}

return t
