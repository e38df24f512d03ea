-- Example 7: dual-stack containers, IPv4 and IPv6 on one bridge, out through NAT (IPv4)
-- and routed (IPv6). IPv6 addresses are made without duplicate address detection (nodad),
-- so they work at once instead of after a second or more of "tentative".
--   cnet --sandbox up scripts/topologies/07-dual-stack.lua
local topology = require "cnet.topology"
local t = topology.new("dual")

t:bridge("br-dual", {addr = {"10.0.7.1/24", "2001:db8:7::1/64"}})
for i = 1, 2 do
  t:container("dual-c" .. i, {bridge = "br-dual",
    addr = ("10.0.7.%d/24"):format(10 + i), gw = "10.0.7.1",
    addr6 = ("2001:db8:7::%d/64"):format(10 + i), gw6 = "2001:db8:7::1"})
end
t:nat{subnet = "10.0.7.0/24"}
t:sysctl{key = "net.ipv6.conf.all.forwarding", value = 1}

return t
