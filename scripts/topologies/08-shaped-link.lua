-- Example 8: two sites joined by one link, shaped like a WAN: a rate, and a delay where the
-- kernel has netem (the one cnet is tested on has not: `up` then refuses the delay, changing
-- nothing, rather than making a fast link that only looks slow).
--   cnet --sandbox up scripts/topologies/08-shaped-link.lua [RATE [DELAY]]
--   cnet --sandbox up scripts/topologies/08-shaped-link.lua 10mbit 50ms
local topology = require "cnet.topology"
local rate, delay = ...
rate = rate or "10mbit"
local t = topology.new("wan")

t:netns("site-a")
t:netns("site-b")
t:veth({name = "wan0", netns = "site-a", addr = "10.0.88.1/30"},
       {name = "wan0", netns = "site-b", addr = "10.0.88.2/30"})
for _, site in ipairs{"site-a", "site-b"} do
  t:shape{netns = site, dev = "wan0", rate = rate, delay = delay}
end

return t
