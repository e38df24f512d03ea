-- containers(N) with cnet.batch and the calls grouped by namespace: all the
-- host-side calls first, then each namespace's calls together, so the batch
-- can send many requests per sendmsg.  The same work as containers.lua.
--   cnet containers_grouped.lua setup|teardown N
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local arg = (select("#", ...) > 0) and {...} or arg
if arg == nil then io.stderr:write("missing API: script arguments (arg)\n") os.exit(77) end
local B = require("benchlib")
local cnet = B.cnet
local phase, n = arg[1], assert(tonumber(arg[2]), "usage: containers_grouped.lua setup|teardown N")

if phase == "setup" then
  B.need("batch", "netns.add", "link.add", "link.get", "link.set", "addr.add", "route.add", "sysctl.set",
    table.unpack(B.nft_needs))
  cnet.link.add{name = "br0", type = "bridge", up = true}
  cnet.addr.add("br0", "10.200.0.1/16")
  local br = cnet.link.get("br0").index
  local nss = {}
  for i = 1, n do
    nss[i] = cnet.netns.add("c" .. i)
  end
  cnet.batch(function()
    for i = 1, n do
      cnet.link.add{name = "veth" .. i, type = "veth", master = br, up = true,
        peer = {name = "eth0", netns = nss[i]}}
    end
    for i, ns in ipairs(nss) do
      ns.link.set("lo", {up = true})
      ns.link.set("eth0", {up = true})
      ns.addr.add("eth0", B.addr(i) .. "/16")
      ns.route.add{dst = "default", via = "10.200.0.1"}
    end
  end)
  for _, ns in ipairs(nss) do ns.close() end
  cnet.sysctl.set("net.ipv4.ip_forward", 1)
  B.masquerade()
else
  B.teardown(n)
end
