-- Example 3: two subnets joined by a router namespace whose firewall lets connections from
-- the `a` side through to the `b` side, and only their replies back.
--   cnet --sandbox up scripts/topologies/03-router.lua
local topology = require "cnet.topology"
local t = topology.new("router")

t:bridge("br-a")
t:bridge("br-b")
t:router("r1", {ports = {{bridge = "br-a", addr = "10.1.0.1/24"},     -- r1's eth0
                         {bridge = "br-b", addr = "10.2.0.1/24"}}})   -- r1's eth1
t:container("a1", {bridge = "br-a", addr = "10.1.0.11/24", gw = "10.1.0.1"})
t:container("b1", {bridge = "br-b", addr = "10.2.0.11/24", gw = "10.2.0.1"})
t:firewall{netns = "r1", policy = "drop", allow = {'iifname "eth0" oifname "eth1"'}}

return t
