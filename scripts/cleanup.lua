-- cleanup.lua: the tutorial's Cleanup. Removes what the recipes made, and nothing else:
--
--   ip link del dev br-veth0                      (its peer veth0, inside cool, goes with it)
--   ip link set br0 down; brctl delbr br0
--   ip netns pids cool | xargs kill; ip netns del cool
--
-- plus what scripts/01-namespaces-in-the-wild.lua makes, should it have been stopped half-way
-- (cnet-veth-box, cnet-docker0, the cnet-box name), the nftables table of tldr.lua and
-- 05-forwarding-nat.lua, and net.ipv4.ip_forward as it was before they changed it. Whatever
-- is already gone is skipped, so running it twice is harmless.
--
-- Run it:   cnet --sandbox scripts/cleanup.lua   (or after the other recipes, with the same
--           cnet, in the namespace they ran in)
local cnet = require "cnet"

local function link_exists(name)
  local ok, err = pcall(cnet.link.get, name)
  if ok then return true end
  if type(err) == "table" and err.code == "ENODEV" then return false end
  error(err, 0)
end

local function delete_link(name, kind)
  if not link_exists(name) then
    print(name .. ": not there")
    return
  end
  local l = cnet.link.get(name)
  if kind and l.kind ~= kind then
    print(("%s: a %s, not the %s the recipes made: left alone"):format(name, tostring(l.kind), kind))
    return
  end
  if l.up then cnet.link.set(name, {up = false}) end
  cnet.link.delete(name)
  print(name .. ": deleted")
end

local function delete_netns(name)
  if not cnet.netns.exists(name) then
    print(name .. ": not there")
    return
  end
  local ns <close> = cnet.netns.open(name)
  local signalled = ns.kill({wait = 2})
  ns.close()
  cnet.netns.delete(name)
  print(("%s: %d process(es) killed, namespace deleted"):format(name, signalled))
end

delete_link("br-veth0", "veth")
delete_link("br0", "bridge")
delete_netns("cool")
-- scripts/01-namespaces-in-the-wild.lua, if it stopped half-way
delete_link("cnet-veth-box", "veth")
delete_link("cnet-docker0", "bridge")
delete_netns("cnet-box")
-- scripts/tldr.lua and scripts/05-forwarding-nat.lua: their nftables table, and only that one
-- (added by the nft engineer; the other tables of the ruleset are never touched)
local function delete_nft_table(family, name)
  for _, t in ipairs(cnet.nft.list_tables(family)) do
    if t.name == name then
      cnet.nft.delete_table(family .. " " .. name)
      print(("nft table %s %s: deleted"):format(family, name))
      return
    end
  end
  print(("nft table %s %s: not there"):format(family, name))
end
delete_nft_table("ip", "cnet")
-- tldr.lua and 05-forwarding-nat.lua noted ip_forward before changing it (/run/cnet-recipes.*)
local function restore_ip_forward()
  local path = "/run/cnet-recipes.ip_forward"
  local f = io.open(path)
  if not f then
    print("net.ipv4.ip_forward: no recipe changed it (left at " ..
          cnet.sysctl.get("net.ipv4.ip_forward") .. ")")
    return
  end
  local before = f:read("l")
  f:close()
  assert(before and before:match("^%d+$"), path .. ": not a noted ip_forward value")
  cnet.sysctl.set("net.ipv4.ip_forward", before)
  assert(os.remove(path))
  print("net.ipv4.ip_forward: back to " .. before)
end
restore_ip_forward()
