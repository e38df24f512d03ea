-- The tutorial's Tl;DR as one recipe: a namespace behind a bridge, reaching the internet
-- through IPv4 forwarding and NAT. Where the tutorial flushes the host's iptables, this recipe
-- keeps its firewall in an nftables table of its own (TABLE below), applied as one atomic
-- batch, and leaves every other table alone.
--
-- Run it in the sandbox (a simulated internet: host 198.51.100.1 serving a hello page on
-- port 80, reached through uplink0 203.0.113.2/24):
--
--     cnet --sandbox scripts/tldr.lua
--
-- It checks what the tutorial checks: the ping succeeds, the traceroute's first hop is the
-- bridge, and the upstream sees the uplink's address as the source (masquerade).
-- Undo everything with scripts/cleanup.lua (it deletes TABLE too, and puts ip_forward back).

local NS = "cool"
local VETH = "veth0"
local PVETH = "br-veth0"
local BR = "br0"
local VETH_ADDR = "192.168.1.11/24"
local BR_ADDR = "192.168.1.10/24"
local GW = "192.168.1.10"
-- Not in the tutorial's list, but named once here rather than spelled out below:
local SUBNET = "192.168.1.0/24"  -- the namespace's network, masqueraded on the way out
local TABLE = "ip cnet"          -- cnet's own nftables table (what cleanup.lua deletes)
local TARGET = "198.51.100.1"    -- the sandbox's internet host (the tutorial pings 8.8.8.8)

local cnet = cnet or require "cnet"

-- The recipes change net.ipv4.ip_forward; scripts/cleanup.lua puts back the value it had
-- before the first of them did, noted once in /run (which lasts until reboot, like the sysctl).
local function note_ip_forward()
  local path = "/run/cnet-recipes.ip_forward"
  local f = io.open(path)
  if f then return f:close() end
  f = assert(io.open(path, "w"))
  f:write(cnet.sysctl.get("net.ipv4.ip_forward"), "\n")
  f:close()
end

-- sudo ip netns add $NS; sudo ip netns exec $NS ip link set up dev lo
local ns = cnet.netns.add(NS)
ns.link.set("lo", {up = true})

-- sudo ip link add $PVETH type veth peer name $VETH; sudo ip link set $VETH netns $NS
-- (the peer is created straight inside the namespace)
cnet.link.add{name = PVETH, type = "veth", peer = {name = VETH, netns = ns}}

-- sudo ip link add name $BR type bridge; sudo ip link set $BR up
cnet.link.add{name = BR, type = "bridge"}
cnet.link.set(BR, {up = true})

-- sudo ip netns exec $NS ip addr add $VETH_ADDR dev $VETH; ... ip link set $VETH up
ns.addr.add(VETH, VETH_ADDR)
ns.link.set(VETH, {up = true})

-- sudo ip link set $PVETH up; sudo ip link set $PVETH master $BR
cnet.link.set(PVETH, {up = true, master = BR})

-- sudo ip addr add $BR_ADDR brd + dev $BR
cnet.addr.add(BR, BR_ADDR, {broadcast = "+"})

-- sudo ip netns exec $NS ip route add default via $GW
ns.route.add{dst = "default", via = GW}

-- sudo sysctl -w net.ipv4.ip_forward=1
note_ip_forward()
cnet.sysctl.set("net.ipv4.ip_forward", 1)

-- iptables -P FORWARD DROP; -t nat -A POSTROUTING -s SUBNET -j MASQUERADE;
-- -A FORWARD -i $BR -j ACCEPT; -A FORWARD -o $BR -j ACCEPT -- as one nftables table
cnet.nft.apply{
  table = TABLE,
  chains = {
    postrouting = {type = "nat", hook = "postrouting", priority = "srcnat",
      "ip saddr " .. SUBNET .. " masquerade"},
    forward = {type = "filter", hook = "forward", priority = "filter", policy = "drop",
      ('iifname "%s" accept'):format(BR),
      ('oifname "%s" accept'):format(BR)},
  },
}
print(("nft table %s applied: forward policy drop, %s masqueraded"):format(TABLE, SUBNET))

-- Check it, as the tutorial does with ping and traceroute.
local rtt, why = ns.ping(TARGET, {timeout = 2, count = 3})
if not rtt then error(("%s: ping %s failed: %s"):format(NS, TARGET, why), 0) end
print(("%s: ping %s: %.3f ms"):format(NS, TARGET, rtt * 1000))

local hops, reached = ns.traceroute(TARGET, {max_hops = 8, timeout = 1})
for _, h in ipairs(hops) do print(("  %2d  %s"):format(h.ttl, h.addr or "*")) end
if not hops[1] or hops[1].addr ~= GW then
  error(("traceroute: first hop is %s, expected the bridge %s"):format(
    hops[1] and hops[1].addr or "nothing", GW), 0)
end
if not reached then error("traceroute: " .. TARGET .. " not reached", 0) end

-- Masquerade, seen from the other side: in the sandbox, count in the internet namespace who
-- the packets of one web request come from (its own table there, removed right after).
-- Masqueraded, they carry the address this host uses towards TARGET: the uplink's.
local ok, upstream = pcall(cnet.netns.open, "internet")
if ok then
  local uplink = assert(cnet.route.get(TARGET).src, "no source address towards " .. TARGET)
  upstream.nft.apply{table = "ip cnet-watch", chains = {input = {type = "filter",
    hook = "input", "ip saddr " .. SUBNET .. " counter", "ip saddr " .. uplink .. " counter"}}}
  local conn, reply = ns.tcp_connect(TARGET, 80, {timeout = 2, send = "GET / HTTP/1.0\r\n\r\n"})
  local seen = upstream.nft.list_rules("ip cnet-watch input")
  upstream.nft.delete_table("ip cnet-watch")
  if not conn then error(("%s: http://%s/ failed: %s"):format(NS, TARGET, reply), 0) end
  print(("%s: http://%s/ says: %s"):format(NS, TARGET, (reply or ""):match("hello[^\r\n]*") or "?"))
  local from_ns, from_uplink = seen[1].counter.packets, seen[2].counter.packets
  if from_ns ~= 0 or from_uplink == 0 then
    error(("upstream saw %d packets from %s and %d from %s: no masquerade"):format(
      from_ns, SUBNET, from_uplink, uplink), 0)
  end
  print(("upstream saw %d packets from %s (the uplink), none from %s"):format(
    from_uplink, uplink, SUBNET))
else
  print("no 'internet' namespace (not in cnet --sandbox): upstream check skipped")
end
print("tldr: the namespace reaches the internet through the bridge and NAT")
