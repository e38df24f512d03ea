-- The kernel's share of the CNI workload: the same changes the bridge recipe makes per
-- container (the veth pair with the host end on the bridge, the container end up, its
-- address and default route; on teardown the veth; the masquerade is one table for the
-- subnet, made with the first and deleted with the last), for N containers from ONE process,
-- with no plugin process,
-- JSON, state or lock per container. What a plugin can gain over another is bounded by this:
-- no plugin can be faster than the kernel work it asks for.
--   cnet floor.lua add|del N      (in bench/cni/plugin.sh's sandbox: namespaces c1..cN made)
local cnet = cnet or require "cnet"
local phase, n = arg[1], tonumber(arg[2])
local T = "inet cnet-floor"

local function addr(i) -- 10.200.0.2/16 onwards, as the plugins hand them out
  local v = i + 1
  return ("10.200.%d.%d/16"):format(v >> 8, v & 255)
end

if phase == "add" then
  cnet.link.add{name = "cni0", type = "bridge", mac = "02:00:00:00:00:01", up = true}
  cnet.addr.add("cni0", "10.200.0.1/16", {broadcast = "+"})
  if cnet.sysctl.get("net.ipv4.ip_forward") ~= "1" then cnet.sysctl.set("net.ipv4.ip_forward", 1) end
  cnet.nft.apply{table = T,
    sets = {nets4 = {type = "ipv4_addr", flags = "interval", elements = {"10.200.0.0/16"}}},
    chains = {postrouting = {type = "nat", hook = "postrouting", priority = "srcnat",
      "ip saddr @nets4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade"}}}
  for i = 1, n do
    local ns <close> = cnet.netns.open("c" .. i)
    cnet.link.add{name = "veth" .. i, type = "veth", master = "cni0", up = true,
                  mac = ("02:00:00:01:%02x:%02x"):format(i >> 8, i & 255), txqueues = 1, rxqueues = 1,
                  peer = {name = "eth0", netns = ns, mac = ("02:00:00:02:%02x:%02x"):format(i >> 8, i & 255),
                          txqueues = 1, rxqueues = 1}}
    ns.link.set("eth0", {up = true})
    ns.addr.add("eth0", addr(i), {broadcast = "+"})
    ns.route.add{dst = "0.0.0.0/0", via = "10.200.0.1", dev = "eth0"}
  end
elseif phase == "del" then
  for i = 1, n do
    local ns <close> = cnet.netns.open("c" .. i)
    ns.link.delete("eth0", {wait = false}) -- as the plugin deletes it
  end
  cnet.nft.delete_table(T)
  cnet.link.delete("cni0")
else
  error("usage: floor.lua add|del N")
end
