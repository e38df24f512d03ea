-- 01-namespaces-in-the-wild.lua: the network namespace of a running process, reached by its
-- PID, then given a name so that `ip netns` tools see it.
--
-- The tutorial starts a Docker container and finds its namespace through the container's PID
-- (/proc/PID/ns/net), because Docker does not register its namespaces in /run/netns. Here a
-- `sleep` started in a namespace of its own plays the container: it gets an `eth0` whose veth
-- peer sits on the host, enslaved to a bridge (Docker's docker0, here cnet-docker0). Then:
--   nsenter --target PID --net ip link show   ->  cnet.netns.open{pid = PID}.link.list()
--   ip netns attach ubuntu PID                ->  cnet.netns.attach("ubuntu", PID)
--   ip netns exec ubuntu ip link show         ->  cnet.netns.open("ubuntu").link.list()
--   rm /var/run/netns/ubuntu                  ->  cnet.netns.detach("ubuntu")
-- and stopping the "container" makes its namespace, and the host end of its veth, vanish.
--
-- Run it:   cnet --sandbox scripts/01-namespaces-in-the-wild.lua
-- It leaves nothing behind (scripts/cleanup.lua also removes its objects if it was stopped
-- half-way).
local cnet = require "cnet"

local BRIDGE = "cnet-docker0"   -- plays docker0 (a name Docker does not use)
local HOST_END = "cnet-veth-box" -- plays vethf167fbb, the host end of the container's veth
local NAME = "ubuntu"           -- the name we give the container's namespace

local function step(text) print("\n== " .. text) end
local function pause(seconds) os.execute("sleep " .. seconds) end

local function show_links(links)
  for _, l in ipairs(links) do
    print(("  %d: %s%s  kind=%s up=%s%s"):format(l.index, l.name,
      l.peer_index and ("@if" .. l.peer_index) or "", l.kind or "-", tostring(l.up),
      l.master and ("  master " .. l.master) or ""))
  end
end

local function has(list, x)
  for _, y in ipairs(list) do if y == x then return true end end
  return false
end

local function names()
  local out = {}
  for _, e in ipairs(cnet.netns.list()) do out[#out + 1] = e.name end
  return out
end

local function find(list, name)
  for _, x in ipairs(list) do if x.name == name then return x end end
end

-- 1. The "container": a process in a namespace with lo and eth0, its veth peer on a bridge.
step("starting a 'container': sleep 600 in a new network namespace, eth0 plugged into " .. BRIDGE)
local box = cnet.netns.add("cnet-box")
cnet.link.add{name = BRIDGE, type = "bridge"}
cnet.link.set(BRIDGE, {up = true})
cnet.link.add{name = HOST_END, type = "veth", peer = {name = "eth0", netns = box}}
cnet.link.set(HOST_END, {up = true, master = BRIDGE})
box.link.set("lo", {up = true})
box.link.set("eth0", {up = true})
local pid = box.spawn({"sleep", "600"})
box.close()
cnet.netns.delete("cnet-box") -- like Docker: the namespace has no name, only the process
print("container PID: " .. pid)

step("ip netns list")
print("  " .. (#names() > 0 and table.concat(names(), " ") or "(nothing)"))

step("ip link show (the host)")
local host_links = cnet.link.list()
show_links(host_links)
local host_end = assert(find(host_links, HOST_END))
assert(host_end.master == BRIDGE, HOST_END .. " should be enslaved to " .. BRIDGE)

-- 2. Into the container's namespace by PID.
step(("nsenter --target %d --net ip link show"):format(pid))
local c <close> = cnet.netns.open{pid = pid}
local inside = c.link.list()
show_links(inside)
local eth0 = assert(find(inside, "eth0"), "the container has an eth0")
assert(find(inside, "lo"), "the container has its own lo")
assert(eth0.peer_index == host_end.index, "eth0's peer is the host's " .. HOST_END)
for _, n in ipairs(names()) do -- Docker does not register it: no name reaches it
  local other <close> = cnet.netns.open(n)
  assert(other ~= c, "the container's namespace should have no name yet")
end
print("  none of the names in `ip netns list` reaches this namespace: only its PID does")
assert(host_end.peer_index == eth0.index, HOST_END .. "'s peer is the container's eth0")
print(("  eth0@if%d <-> %s@if%d: the two ends of one veth pair"):format(
  eth0.peer_index, HOST_END, host_end.peer_index))

-- 3. Give it a name, as `ip netns attach` (or the tutorial's symlink) does.
step(("ip netns attach %s %d"):format(NAME, pid))
local u <close> = cnet.netns.attach(NAME, pid)
print("  ip netns list: " .. table.concat(names(), " "))
assert(has(names(), NAME), NAME .. " should be listed")
assert(u == c, "the name reaches the same namespace as the PID")

step("ip netns exec " .. NAME .. " ip link show")
local by_name = u.link.list()
show_links(by_name)
assert(#by_name == #inside and find(by_name, "eth0").index == eth0.index)

step("rm /var/run/netns/" .. NAME)
cnet.netns.detach(NAME)
print("  ip netns list: " .. (#names() > 0 and table.concat(names(), " ") or "(nothing)"))
assert(not has(names(), NAME), NAME .. " should be gone from the list")

-- 4. Stop the container: its namespace goes, and the veth with it.
step("stopping the container")
local signalled, left = c.kill({wait = 2}) -- SIGTERM, and collects what we started
print(("  signalled %d process(es), %d left"):format(signalled, left))
assert(signalled == 1 and left == 0, "the container's process should end")
c.close()
u.close()
collectgarbage() -- drop every other reference to the namespace we may hold
local gone = false
for _ = 1, 100 do -- the kernel frees a namespace asynchronously
  if not find(cnet.link.list(), HOST_END) then gone = true break end
  pause(0.05)
end
print("  " .. HOST_END .. (gone and " disappeared with the container's namespace" or " is still there"))
assert(gone, HOST_END .. " should vanish with the namespace")

cnet.link.delete(BRIDGE)
print("\nok: reached a namespace by PID, named it, and watched it vanish with its process")
