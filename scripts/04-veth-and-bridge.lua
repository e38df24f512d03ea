-- 04-veth-and-bridge.lua: the bridge recipe. A veth pair from `cool` to the host, a bridge,
-- addresses (the bridge's with broadcast `+`), the kernel's connected routes, the first pings,
-- and a default route, which is not enough on its own.
--
--   ip link add br-veth0 type veth peer name veth0; ip link set veth0 netns cool
--       ->  cnet.link.add{name = "br-veth0", type = "veth", peer = {name = "veth0", netns = ns}}
--   ip link add name br0 type bridge; ip link set br0 up
--       ->  cnet.link.add{name = "br0", type = "bridge"}; cnet.link.set("br0", {up = true})
--   ip netns exec cool ip addr add 192.168.1.11/24 dev veth0; ... ip link set veth0 up
--       ->  ns.addr.add("veth0", "192.168.1.11/24"); ns.link.set("veth0", {up = true})
--   ip link set br-veth0 up; ip link set br-veth0 master br0
--       ->  cnet.link.set("br-veth0", {up = true, master = "br0"})
--   ip addr add 192.168.1.10/24 brd + dev br0
--       ->  cnet.addr.add("br0", "192.168.1.10/24", {broadcast = "+"})
--   ip route show; ping 192.168.1.10; ip netns exec cool ping 192.168.1.11
--       ->  cnet.route.list(); cnet.ping("192.168.1.10"); ns.ping("192.168.1.11")
--   ip netns exec cool ip route add default via 192.168.1.10
--       ->  ns.route.add{dst = "default", via = "192.168.1.10"}
--
-- It ends with the namespace pinging the bridge, and with the default route in place: a ping
-- to the outside (198.51.100.1, the sandbox's "internet") no longer fails at once but gets
-- no answer, because nothing forwards it yet (scripts/05-forwarding-nat.lua goes on from here).
--
-- Run it:   cnet --sandbox scripts/04-veth-and-bridge.lua
-- It uses `cool` as scripts/03-server-in-namespace.lua left it (or creates it); br-veth0,
-- veth0 and br0 must not exist yet. scripts/cleanup.lua removes all of it.
local cnet = require "cnet"

local NS, VETH, PVETH, BR = "cool", "veth0", "br-veth0", "br0"
local VETH_ADDR, BR_ADDR, GW = "192.168.1.11/24", "192.168.1.10/24", "192.168.1.10"
local SUBNET = "192.168.1.0/24"
local OUTSIDE = "198.51.100.1"

local function step(text) print("\n== " .. text) end

-- Prints what a call returned: "  nil, refused".
local function show(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  print("  " .. table.concat(t, ", "))
end

local function show_links(links)
  for _, l in ipairs(links) do
    print(("  %d: %s%s  kind=%s up=%s operstate=%s%s"):format(l.index, l.name,
      l.peer_index and ("@if" .. l.peer_index) or "", l.kind or "-", tostring(l.up),
      l.operstate, l.master and ("  master " .. l.master) or ""))
  end
end

local function show_addrs(addrs)
  for _, a in ipairs(addrs) do
    if a.family == "inet" then
      print(("  %s: inet %s%s scope %s"):format(a.dev, a.cidr,
        a.broadcast and (" brd " .. a.broadcast) or "", a.scope))
    end
  end
end

local function show_routes(routes)
  for _, r in ipairs(routes) do
    print("  " .. r.dst .. (r.via and (" via " .. r.via) or "") .. (r.dev and (" dev " .. r.dev) or "")
      .. " proto " .. tostring(r.protocol) .. " scope " .. tostring(r.scope)
      .. (r.src and (" src " .. r.src) or ""))
  end
end

local function find(list, field, value)
  for _, x in ipairs(list) do if x[field] == value then return x end end
end

local ns <close> = cnet.netns.exists(NS) and cnet.netns.open(NS) or cnet.netns.add(NS)
ns.link.set("lo", {up = true})

-- The veth pair. cnet creates veth0 directly inside cool, in the same request that makes the
-- pair, so its name never exists on the host.
step(("ip link add %s type veth peer name %s; ip link set %s netns %s"):format(PVETH, VETH, VETH, NS))
cnet.link.add{name = PVETH, type = "veth", peer = {name = VETH, netns = ns}}
print("  the host:")
show_links(cnet.link.list())
print("  " .. NS .. ":")
show_links(ns.link.list())
local host_end, ns_end = cnet.link.get(PVETH), ns.link.get(VETH)
assert(host_end.kind == "veth" and ns_end.kind == "veth")
assert(ns_end.peer_index == host_end.index, VETH .. "'s peer is the host's " .. PVETH)
assert(not find(cnet.link.list(), "name", VETH), VETH .. " is not on the host")

-- The bridge.
step("ip link add name " .. BR .. " type bridge; ip link set " .. BR .. " up")
cnet.link.add{name = BR, type = "bridge"}
cnet.link.set(BR, {up = true})
assert(cnet.link.get(BR).kind == "bridge" and cnet.link.get(BR).up)

-- Addresses, and the links up.
step("ip netns exec " .. NS .. " ip address show   (before)")
show_addrs(ns.addr.list())
step(("ip netns exec %s ip addr add %s dev %s; ip link set %s up"):format(NS, VETH_ADDR, VETH, VETH))
ns.addr.add(VETH, VETH_ADDR)
ns.link.set(VETH, {up = true})
show_addrs(ns.addr.list())
assert(find(ns.addr.list(VETH), "cidr", VETH_ADDR), VETH .. " has its address")

step(("ip link set %s up; ip link set %s master %s"):format(PVETH, PVETH, BR))
cnet.link.set(PVETH, {up = true, master = BR})
show_links(cnet.link.list())
assert(cnet.link.get(PVETH).master == BR, PVETH .. " is enslaved to " .. BR)

step(("ip addr add %s brd + dev %s"):format(BR_ADDR, BR))
cnet.addr.add(BR, BR_ADDR, {broadcast = "+"})
show_addrs(cnet.addr.list(BR))
local br_addr = assert(find(cnet.addr.list(BR), "cidr", BR_ADDR))
assert(br_addr.broadcast == "192.168.1.255", "brd + sets the host bits: 192.168.1.255")

-- The connected routes the kernel added for both addresses.
step("ip route show")
show_routes(cnet.route.list())
local connected = assert(find(cnet.route.list(), "dst", SUBNET), "a route to " .. SUBNET)
assert(connected.dev == BR and connected.protocol == "kernel" and connected.scope == "link"
  and connected.src == GW, "192.168.1.0/24 dev br0 proto kernel scope link src 192.168.1.10")

step("ping " .. GW)
local rtt, why = cnet.ping(GW)
show(rtt, why)
assert(rtt, "the host pings the bridge address")

step("ip netns exec " .. NS .. " ip route show")
show_routes(ns.route.list())
connected = assert(find(ns.route.list(), "dst", SUBNET))
assert(connected.dev == VETH and connected.protocol == "kernel" and connected.src == "192.168.1.11")

step("ip netns exec " .. NS .. " ping 192.168.1.11")
rtt, why = ns.ping("192.168.1.11")
show(rtt, why)
assert(rtt, "the namespace pings its own address")

-- The pair's carrier comes up a moment after both ends are up: the kernel's link watch sets
-- it on its own schedule (at once on an idle machine, seconds later on a busy one), and the
-- bridge forwards through its port only from then on. Someone typing the commands never
-- notices; a script waits for it.
local deadline = os.time() + 30
while cnet.link.get(PVETH).operstate ~= "up" or ns.link.get(VETH).operstate ~= "up" do
  assert(os.time() < deadline, "the veth pair's carrier did not come up")
  cnet.sleep(0.02)
end

step("ip netns exec " .. NS .. " ping " .. GW .. "   (across the veth pair and the bridge)")
rtt, why = ns.ping(GW, {timeout = 2})
show(rtt, why)
assert(rtt, "the namespace pings the bridge: " .. tostring(why))

step("ip netns exec " .. NS .. " ping " .. OUTSIDE .. "   (no default route yet)")
rtt, why = ns.ping(OUTSIDE)
show(rtt, why)
assert(rtt == nil and why == "unreachable", "only 192.168.1.0/24 is routed: unreachable")

-- The default route: packets now leave, but nothing comes back.
step("ip netns exec " .. NS .. " ip route add default via " .. GW)
ns.route.add{dst = "default", via = GW}
show_routes(ns.route.list())
local default = assert(find(ns.route.list(), "dst", "default"))
assert(default.via == GW and default.dev == VETH)

step("ip netns exec " .. NS .. " ping " .. OUTSIDE .. "   (with the default route)")
rtt, why = ns.ping(OUTSIDE, {timeout = 1})
show(rtt, why)
assert(rtt == nil and why == "timeout", "out it goes, but no answer comes back: timeout")

print("\nok: " .. NS .. " pings the bridge " .. GW .. "; the default route alone gets no answer")
