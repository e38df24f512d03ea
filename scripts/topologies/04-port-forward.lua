-- Example 4: a server in a container reached through a port of the host: connections to
-- 203.0.113.2:8080 (the sandbox's uplink address) go to the container's port 80.
--   cnet --sandbox up scripts/topologies/04-port-forward.lua
local topology = require "cnet.topology"
local t = topology.new("portfw")

t:bridge("br-web", {addr = "10.0.4.1/24"})
t:container("web", {bridge = "br-web", addr = "10.0.4.11/24", gw = "10.0.4.1"})
t:nat{subnet = "10.0.4.0/24"}
t:port_forward{port = 8080, to = "10.0.4.11", to_port = 80, addr = "203.0.113.2"}

return t
