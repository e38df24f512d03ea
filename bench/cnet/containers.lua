-- containers(N) with cnet, written the plain way: one call per step, as in
-- the tutorial's Tl;DR.   cnet containers.lua setup|teardown N
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local arg = (select("#", ...) > 0) and {...} or arg
if arg == nil then io.stderr:write("missing API: script arguments (arg)\n") os.exit(77) end
local B = require("benchlib")
local cnet = B.cnet
local phase, n = arg[1], assert(tonumber(arg[2]), "usage: containers.lua setup|teardown N")

if phase == "setup" then
  B.need("netns.add", "link.add", "link.set", "addr.add", "route.add", "sysctl.set", table.unpack(B.nft_needs))
  cnet.link.add{name = "br0", type = "bridge"}
  cnet.link.set("br0", {up = true})
  cnet.addr.add("br0", "10.200.0.1/16")
  for i = 1, n do
    local ns <close> = cnet.netns.add("c" .. i)
    ns.link.set("lo", {up = true})
    cnet.link.add{name = "veth" .. i, type = "veth", peer = {name = "eth0", netns = ns}}
    cnet.link.set("veth" .. i, {up = true, master = "br0"})
    ns.link.set("eth0", {up = true})
    ns.addr.add("eth0", B.addr(i) .. "/16")
    ns.route.add{dst = "default", via = "10.200.0.1"}
  end
  cnet.sysctl.set("net.ipv4.ip_forward", 1)
  B.masquerade()
else
  B.teardown(n)
end
