-- Example 1: the tutorial's Tl;DR as a topology. A namespace `cool` behind the bridge br0,
-- reaching the internet through forwarding and NAT, with a forward chain that drops what it
-- does not know (as the tutorial's `iptables -P FORWARD DROP`).
--   cnet --sandbox up scripts/topologies/01-tldr.lua
local topology = require "cnet.topology"
local t = topology.new("tldr")

t:netns("cool")
t:bridge("br0", {addr = "192.168.1.10/24"})
t:veth({name = "br-veth0", master = "br0"},
       {name = "veth0", netns = "cool", addr = "192.168.1.11/24"})
t:route{netns = "cool", dst = "default", via = "192.168.1.10"}
t:nat{subnet = "192.168.1.0/24"}
t:firewall{policy = "drop", allow = {'iifname "br0"', 'oifname "br0"'}}

return t
