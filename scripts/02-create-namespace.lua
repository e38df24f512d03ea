-- 02-create-namespace.lua: a network namespace of our own, `cool`, and what a new namespace
-- holds: a single device, `lo`, and it is down.
--
--   ip netns add cool                 ->  cnet.netns.add("cool")
--   ip netns list                     ->  cnet.netns.list()
--   ip netns exec cool ip link show   ->  cnet.netns.open("cool").link.list()
--
-- Run it:   cnet --sandbox scripts/02-create-namespace.lua
-- It leaves `cool` in place for scripts/03-server-in-namespace.lua; scripts/cleanup.lua
-- removes it. Outside a fresh sandbox, `cool` must not exist yet.
local cnet = require "cnet"

local NS = "cool"

local function step(text) print("\n== " .. text) end

local function show_links(links)
  for _, l in ipairs(links) do
    print(("  %d: %s  <%s>  up=%s operstate=%s"):format(l.index, l.name,
      table.concat(l.flags, ","), tostring(l.up), l.operstate))
  end
end

step("ip netns add " .. NS)
local ns <close> = cnet.netns.add(NS)
print("  " .. tostring(ns) .. " at " .. ns.path)

step("ip netns list")
local listed = false
for _, e in ipairs(cnet.netns.list()) do
  print("  " .. e.name)
  listed = listed or e.name == NS
end
assert(listed, NS .. " should be listed")

step("ip netns exec " .. NS .. " ip link show")
local links = ns.link.list()
show_links(links)
assert(#links == 1 and links[1].name == "lo", "a new namespace holds only lo")
assert(links[1].up == false, "and its lo is down")

step("ip link show (the namespace we started in, for comparison)")
show_links(cnet.link.list())

print("\nok: " .. NS .. " exists, with nothing but a loopback that is down")
