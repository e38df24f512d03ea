-- cnet graph [NAME] [-o FILE.svg|.png|.dot]: a picture of the live network.
local cli = require "cnet.topology.cli"
local usage = [[
usage: cnet graph [NAME] [-o FILE]
Draws the network as the kernel holds it now: every namespace this process can see (or only
topology NAME's) as a cluster, its interfaces with their addresses, veth pairs between
namespaces, bridge ports, VXLAN tunnels, NAT and port forwards. Prints Graphviz DOT, or with
-o writes FILE: .dot as text, .svg, .png or .pdf through Graphviz's dot.
]]
return function(...)
  local o = cli.parse("graph", {...}, usage, {["-o"] = "value"})
  return cli.run("graph", function()
    local graph = require "cnet.topology.graph"
    local text = graph.dot{topology = o.target}
    if o.o then graph.write(text, o.o) else io.stdout:write(text) end
    return 0
  end)
end
