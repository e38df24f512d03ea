-- The tutorial's forwarding and NAT section, step by step, in the sandbox:
--
--     cnet --sandbox scripts/05-forwarding-nat.lua
--
-- It first builds what the earlier sections built (namespace `cool`, the veth pair, the
-- bridge br0 with 192.168.1.10/24, the default route via the bridge), then tells the story:
--   1. the ping to the internet host fails;
--   2. IPv4 forwarding alone is not enough: the internet has no way back to 192.168.1.0/24;
--   3. traceroute shows why: the first hop is the bridge, and nothing comes back after it;
--   4. the nftables rules (masquerade, forward accept for br0, forward policy drop) fix it;
--   5. the ping succeeds, traceroute reaches the host, and the web page loads.
-- Each step checks what it claims, so the recipe fails loudly if the story changes.
-- The rules live in the nftables table `ip cnet` (scripts/cleanup.lua deletes it).

local NS, VETH, PVETH, BR = "cool", "veth0", "br-veth0", "br0"
local VETH_ADDR, BR_ADDR, GW = "192.168.1.11/24", "192.168.1.10/24", "192.168.1.10"
local SUBNET = "192.168.1.0/24"
local TABLE = "ip cnet"
local TARGET = "198.51.100.1" -- the sandbox's internet host (the tutorial uses 8.8.8.8)

local cnet = cnet or require "cnet"

-- This recipe turns forwarding off first to show the failure: only ever in the sandbox.
if not pcall(cnet.netns.open, "internet") then
  error("run this recipe in the sandbox: cnet --sandbox scripts/05-forwarding-nat.lua", 0)
end

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

local function step(n, text) print(("\n== %d. %s"):format(n, text)) end

local function show_trace(hops)
  for _, h in ipairs(hops) do
    print(("   %2d  %s%s"):format(h.ttl, h.addr or "*", h.reason and ("  (" .. h.reason .. ")") or ""))
  end
end

-- What the earlier sections built: made here, or taken over from scripts/04 if it ran first.
local function exists(api, name) return (pcall(api.link.get, name)) end
local ns = cnet.netns.exists(NS) and cnet.netns.open(NS) or cnet.netns.add(NS)
ns.link.set("lo", {up = true})
if not exists(cnet, PVETH) then
  cnet.link.add{name = PVETH, type = "veth", peer = {name = VETH, netns = ns}}
end
if not exists(cnet, BR) then cnet.link.add{name = BR, type = "bridge"} end
cnet.link.set(BR, {up = true})
ns.addr.flush(VETH, {family = "inet"})
ns.addr.add(VETH, VETH_ADDR)
ns.link.set(VETH, {up = true})
cnet.link.set(PVETH, {up = true, master = BR})
cnet.addr.flush(BR, {family = "inet"})
cnet.addr.add(BR, BR_ADDR, {broadcast = "+"})
ns.route.replace{dst = "default", via = GW}
-- A new namespace may inherit forwarding from the host; start from the tutorial's state.
note_ip_forward()
cnet.sysctl.set("net.ipv4.ip_forward", 0)
print(("%s has %s and a default route via %s (the bridge)"):format(NS, VETH_ADDR, GW))

step(1, "ping " .. TARGET .. " from " .. NS)
local rtt, why = ns.ping(TARGET, {timeout = 1, count = 2})
assert(rtt == nil, "the ping should fail before forwarding and NAT")
print("   no answer: " .. tostring(why))

step(2, "sysctl -w net.ipv4.ip_forward=1")
cnet.sysctl.set("net.ipv4.ip_forward", 1)
print("   ip_forward = " .. tostring(cnet.sysctl.get("net.ipv4.ip_forward")))
rtt, why = ns.ping(TARGET, {timeout = 1, count = 2})
assert(rtt == nil, "without NAT the internet cannot answer 192.168.1.11")
print("   still no answer (" .. tostring(why) .. "): packets leave with source " ..
      VETH_ADDR:match("^[^/]+") .. ", which the internet cannot route back to")

-- Only a host that forwards answers "time exceeded": with forwarding off, Linux drops what
-- it may not forward without a word (ip_error), so the trace comes after the sysctl.
step(3, "traceroute " .. TARGET .. ": where do the packets stop?")
local hops, reached = ns.traceroute(TARGET, {max_hops = 4, timeout = 1})
show_trace(hops)
assert(hops[1] and hops[1].addr == GW, "the first hop should be the bridge")
assert(not reached, "the target should not be reached yet")
print("   the bridge answers, nothing beyond it does")

step(4, "the rules: masquerade " .. SUBNET .. ", forward accept for " .. BR .. ", policy drop")
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
for _, chain in ipairs(cnet.nft.list_chains(TABLE)) do
  print(("   chain %s (%s hook %s priority %d policy %s)"):format(chain.name, chain.type,
    chain.hook, chain.priority, chain.policy))
  for _, rule in ipairs(cnet.nft.list_rules(TABLE .. " " .. chain.name)) do
    print("     " .. rule.text)
  end
end

step(5, "try again")
rtt, why = ns.ping(TARGET, {timeout = 2, count = 3})
assert(rtt, "the ping should succeed now: " .. tostring(why))
print(("   ping %s: %.3f ms"):format(TARGET, rtt * 1000))
hops, reached = ns.traceroute(TARGET, {max_hops = 8, timeout = 1})
show_trace(hops)
assert(hops[1] and hops[1].addr == GW and reached, "traceroute should pass the bridge and arrive")
local ok, reply = ns.tcp_connect(TARGET, 80, {timeout = 2, send = "GET / HTTP/1.0\r\n\r\n"})
assert(ok, "the web page should load: " .. tostring(reply))
print("   http://" .. TARGET .. "/ says: " .. ((reply or ""):match("hello[^\r\n]*") or "?"))
print("\nforwarding + NAT: " .. NS .. " reaches the internet")
