-- The "bridge" recipe: the reference bridge plugin's job, on cnet's primitives.
--
-- ADD: the bridge (made if missing), a veth pair whose container end is created straight
-- inside the container's namespace under CNI_IFNAME, addresses from IPAM (the built-in
-- allocator or a delegated plugin), routes, the gateway address on the bridge, forwarding,
-- and the masquerade and port mappings in the network's own nftables table. DEL undoes all
-- of it from the network's state, also when the namespace is already gone. CHECK reports
-- every difference from what ADD made. GC removes what belongs to attachments the runtime no
-- longer lists.
--
-- Configuration keys are the reference plugin's (bridge, isGateway, isDefaultGateway,
-- forceAddress, ipMasq, mtu, hairpinMode, promiscMode, enabledad, ipam, dns) plus the
-- capabilities portMappings and ips in runtimeConfig.
local cnet = require "cnet"
local E = require "cnet.cni.error"
local ipam = require "cnet.cni.ipam"
local ipnet = require "cnet.cni.ipnet"
local nft = require "cnet.cni.nft"
local result = require "cnet.cni.result"
local state = require "cnet.cni.state"

local R = {}

R.keys = {
  bridge = "string", isGateway = "boolean", isDefaultGateway = "boolean",
  forceAddress = "boolean", ipMasq = "boolean", mtu = "integer", hairpinMode = "boolean",
  promiscMode = "boolean", enabledad = "boolean", ipam = "object", dns = "object",
}
-- The reference plugin's keys that this recipe does not implement (refused by name).
R.unsupported = {vlan = true, vlanTrunk = true, preserveDefaultVlan = true,
                 macspoofchk = true, disableContainerInterface = true, portIsolation = true}

local function bad(msg, details) E.raise(E.INVALID_CONFIG, msg, details) end

-- The configuration with its defaults, checked.
local function settings(ctx)
  local c = ctx.conf
  local s = {
    bridge = c.bridge or "cni0",
    isDefaultGateway = c.isDefaultGateway == true,
    forceAddress = c.forceAddress == true,
    ipMasq = c.ipMasq == true,
    mtu = c.mtu,
    hairpin = c.hairpinMode == true,
    promisc = c.promiscMode == true,
    dad = c.enabledad == true,
  }
  s.isGateway = c.isGateway == true or s.isDefaultGateway
  if not require("cnet.cni").good_ifname(s.bridge) then
    bad("invalid field bridge", ("bridge %q is not an interface name"):format(s.bridge))
  end
  if s.mtu ~= nil and (s.mtu < 68 or s.mtu > 65535) then
    bad("invalid field mtu", ("mtu %d: 68 to 65535"):format(s.mtu))
  end
  return s
end

-- runtimeConfig.portMappings, checked: {{hostPort=, containerPort=, protocol=, hostIP=,
-- family = "4"|"6"}, ...}. A mapping without hostIP serves both families.
local function port_mappings(ctx)
  local out = {}
  local list = ctx.runtime.portMappings
  if list == nil then return out end
  if type(list) ~= "table" then bad("invalid runtimeConfig.portMappings", "a list expected") end
  for i, p in ipairs(list) do
    local where = ("runtimeConfig.portMappings[%d]"):format(i - 1)
    if type(p) ~= "table" then bad("invalid port mapping", where .. ": object expected") end
    local proto = (p.protocol or "tcp"):lower()
    if proto ~= "tcp" and proto ~= "udp" then
      bad("invalid port mapping", ("%s.protocol %q: tcp or udp"):format(where, tostring(p.protocol)))
    end
    for _, k in ipairs{"hostPort", "containerPort"} do
      if math.type(p[k]) ~= "integer" or p[k] < 1 or p[k] > 65535 then
        bad("invalid port mapping", ("%s.%s: a port 1..65535 expected"):format(where, k))
      end
    end
    local fams = {"4", "6"}
    if p.hostIP == "0.0.0.0" or p.hostIP == "::" then p.hostIP = nil end -- any address
    if p.hostIP ~= nil and p.hostIP ~= "" then
      local b, fam = ipnet.parse(p.hostIP)
      if not b then bad("invalid port mapping", ("%s.hostIP %q is not an address"):format(where, tostring(p.hostIP))) end
      fams = {tostring(fam)}
    end
    for _, fam in ipairs(fams) do
      out[#out + 1] = {hostPort = p.hostPort, containerPort = p.containerPort, protocol = proto,
                       hostIP = (p.hostIP ~= "" and p.hostIP) or nil, family = fam}
    end
  end
  return out
end

-- FNV-1a (32 bits): the host veth's name follows from the attachment, so a DEL without
-- state still knows it, and parallel ADDs never pick the same name by chance.
local function fnv(s)
  local h = 0x811c9dc5
  for i = 1, #s do h = ((h ~ s:byte(i)) * 0x01000193) & 0xffffffff end
  return h
end

local function host_name(ctx, salt)
  return ("veth%08x"):format(fnv(ctx.network .. "\0" .. ctx.id .. "\0" .. ctx.ifname .. (salt or "")))
end

-- The link named `name` in `api` (cnet or a namespace handle), or nil when there is none.
local function link_or_nil(api, name)
  local ok, l = pcall(api.link.get, name)
  if ok then return l end
  if type(l) == "table" and l.code == "ENODEV" then return nil end
  error(l, 0)
end

local function open_netns(ctx, code)
  local ok, ns = pcall(cnet.netns.open, {path = ctx.netns})
  if ok then return ns end
  E.raise(code or E.INVALID_ENV, "CNI_NETNS is not a network namespace",
    ("%s: %s"):format(ctx.netns, type(ns) == "table" and ns.code and ns.extack or tostring(ns)))
end

-- A random locally administered unicast MAC address. Setting the veth ends' addresses (and
-- the bridge's, which otherwise follows its lowest port) means the result needs no read of
-- the devices afterwards.
local function random_mac()
  local f = assert(io.open("/dev/urandom", "rb"))
  local b = {f:read(6):byte(1, 6)}
  f:close()
  b[1] = (b[1] & 0xfc) | 0x02
  return ("%02x:%02x:%02x:%02x:%02x:%02x"):format(table.unpack(b))
end

-- Makes the bridge when missing (up, with the mtu and a fixed mac). Returns the bridge's mac
-- and whether this call made it; raises when the name is taken by another kind of device.
local function ensure_bridge(s)
  local br = link_or_nil(cnet, s.bridge)
  if br == nil then
    local mac = random_mac()
    local ok, err = pcall(cnet.link.add, {name = s.bridge, type = "bridge", mtu = s.mtu, mac = mac,
                                          up = true})
    if ok then return mac, true end
    if err.code ~= "EEXIST" then error(err, 0) end -- another ADD made it meanwhile
    br = cnet.link.get(s.bridge)
  end
  if br.kind ~= "bridge" then
    bad("bridge " .. s.bridge .. " is not a bridge", ("%s exists and is a %s device"):format(s.bridge, br.kind or "plain"))
  end
  if not br.up then cnet.link.set(s.bridge, {up = true}) end
  return br.mac, false
end

-- The gateway address on the bridge: added when missing; another address of the same subnet
-- there is an error unless forceAddress, which replaces it (as the reference plugin does).
-- Once a network has checked its bridge (`checked`), later ADDs only add the address again
-- (EEXIST when it is there, as it should be) without listing the bridge's addresses.
local function ensure_gateway(s, gw, prefix, checked)
  local want = ipnet.tostring(gw)
  for _, a in ipairs(checked and {} or cnet.addr.list(s.bridge)) do
    local b = ipnet.parse(a.address)
    if b and #b == #gw and a.prefix == prefix and ipnet.contains(gw, prefix, b) then
      if b == gw then return end
      if not s.forceAddress then
        bad("bridge address conflict", ("%s already has %s in the gateway's subnet, not %s/%d (set forceAddress to replace it)")
          :format(s.bridge, a.cidr, want, prefix))
      end
      cnet.addr.delete(s.bridge, a.cidr)
    end
  end
  if #gw == 16 and not checked then
    -- The gateway is answerable at once, not after duplicate address detection's second:
    -- the allocator already keeps it unique (as the container's own addresses, below).
    cnet.sysctl.set("net/ipv6/conf/" .. s.bridge .. "/accept_dad", 0)
  end
  local ok, err = pcall(cnet.addr.add, s.bridge, want .. "/" .. prefix,
    #gw == 4 and {broadcast = "+"} or nil)
  if not ok and err.code ~= "EEXIST" then error(err, 0) end
end

local function ensure_forwarding(family)
  local key = family == 4 and "net.ipv4.ip_forward" or "net.ipv6.conf.all.forwarding"
  if cnet.sysctl.get(key) ~= "1" then cnet.sysctl.set(key, 1) end
end

-- The container's addresses with their gateways: {{cidr=, addr=, prefix=, family=, gw=}}.
local function addresses(ips)
  local out = {}
  for _, ip in ipairs(ips) do
    local c = ipnet.cidr(ip.address)
    if not c then E.raise(E.DELEGATE, "invalid address from IPAM", ip.address) end
    out[#out + 1] = {cidr = ip.address, addr = c.addr, prefix = c.prefix, family = c.family,
                     gw = ip.gateway and ipnet.parse(ip.gateway)}
  end
  return out
end

-- Removes an attachment's nftables entries. Never raises: what it cannot remove (already
-- gone behind cnet's back) is fixed by rebuilding the table from the state afterwards.
-- Called before any device is deleted, for speed: the kernel frees a commit's old objects
-- after an RCU grace period and a process closing its nftables socket waits for that;
-- deleting a veth waits for grace periods too, so the two waits overlap instead of adding up.
local function remove_nft(ctx, st, key, a)
  if a.ports and #a.ports > 0 and st.data.nft.made then
    local ok = pcall(nft.del, ctx.network, key, a)
    if not ok then st.data.nft.dirty = true end -- rebuilt from the state below
  end
end

-- Removes the host veth of an attachment if it still exists (deleting either end removes
-- the pair; it is gone already when the container's namespace went).
local function remove_veth(a)
  if a.host then
    local l = link_or_nil(cnet, a.host)
    if l and l.kind == "veth" then
      local ok, err = pcall(cnet.link.delete, a.host, {wait = false})
      if not ok and err.code ~= "ENODEV" then error(err, 0) end
    end
  end
end

local function remove_host_side(ctx, st, key, a)
  remove_nft(ctx, st, key, a)
  remove_veth(a)
end

-- Makes the network's table again from its state, counting the rebuilds (a DEL that removed
-- entries while a rebuild ran checks the count to remove them again). `also`: host addresses
-- the sets of local addresses must hold though the bridge has them not yet (nft.host_addresses).
local function rebuild(ctx, st, also)
  st.data.nft.made = nft.rebuild(ctx.network, st.data.attachments, also)
  st.data.nft.gen = (st.data.nft.gen or 0) + 1
end

-- What the network made for itself goes with its last attachment: its nftables table, and
-- the bridge when this network created it and no port is left on it.
local function finish_network(ctx, st)
  if st.data.nft.dirty then
    rebuild(ctx, st)
    st.data.nft.dirty = nil
  end
  if next(st.data.attachments) ~= nil then return end
  if st.data.nft.made then
    st.data.nft.made = nft.rebuild(ctx.network, {})
    st.data.nft.gen = (st.data.nft.gen or 0) + 1
  end
  local br = st.data.bridge_made
  if br then
    local l = link_or_nil(cnet, br)
    if l and l.kind == "bridge" and #cnet.link.list{master = br} == 0 then
      local ok, err = pcall(cnet.link.delete, br)
      if not ok and err.code ~= "ENODEV" then error(err, 0) end
    end
    st.data.bridge_made = nil
  end
  st.data.bridge = nil
end

-- After attachment `a` (key) left the state: a subnet of its that no other attachment needs
-- leaves the table by a rebuild (finish_network's), unless the table goes with the last one.
local function forget_nets(st, key, a)
  if not (a and a.masq and st.data.nft.made) or next(st.data.attachments) == nil then return end
  local used, e = nft.nets_in_use(st.data.attachments), nft.entries(a, key)
  for _, s in ipairs{"nets4", "nets6"} do
    for _, v in ipairs(e[s]) do
      if not used[v] then st.data.nft.dirty = true end
    end
  end
end

-- Forgets an attachment completely (host side, nft entries, leases).
local function drop(ctx, st, key)
  local a = st.data.attachments[key]
  if a then remove_host_side(ctx, st, key, a) end
  ipam.release(st, key)
  st.data.attachments[key] = nil
  forget_nets(st, key, a)
end

-- The gateway addresses ADD puts on the bridge (strings), from the IPAM result r. The table's
-- sets of host addresses are filled before they are there, so they are named ahead: port
-- mappings then answer on the gateway from the first ADD on.
local function gateways(s, r)
  local out = {}
  if s.isGateway then
    for _, ip in ipairs(r.ips) do
      if ip.gateway then out[#out + 1] = ip.gateway end
    end
  end
  return out
end

-- The kernel side of ADD; returns the result. Everything it made is recorded in `made` so a
-- failure can be undone.
local function build(ctx, s, a, r, made)
  local ns <close> = open_netns(ctx)
  -- The firewall entries first: the kernel frees the commit's old objects after an RCU grace
  -- period, which then passes while the devices below are made, instead of at exit (a
  -- process closing its nftables socket waits for it). When the table was just made with
  -- them (made.nft), or cannot take them (gone behind cnet's back: made.nft_rebuild, done
  -- under the lock afterwards), there is nothing to add here.
  if (a.masq or #a.ports > 0) and not made.nft then
    local ok = pcall(nft.add, ctx.network, state.key(ctx.id, ctx.ifname), a, true, gateways(s, r),
                     made.present_nets)
    if ok then made.nft = true else made.nft_rebuild = true end
  end
  -- The veth pair in one request: the host end on the bridge and up, the container end
  -- created inside the namespace under its final name (it never exists on the host). The
  -- container end goes up with its addresses below: the kernel cannot open a veth end
  -- before the pair is complete (ENOTCONN), so not in this request. The bridge is looked at
  -- only when the network has not seen it yet (made.bridge_known) or the veth cannot be put
  -- on it.
  local host_mac, cont_mac = random_mac(), random_mac()
  -- One queue each way on both ends, the one a veth uses anyway: with the driver's default
  -- (a queue per possible CPU) the kernel cuts the new pair down to one right after making
  -- it, waiting for an RCU grace period per end while it holds the routing lock that every
  -- other ADD on the machine needs (docs/performance.md, "CNI plugins").
  local spec = {name = a.host, type = "veth", mtu = s.mtu, mac = host_mac, master = s.bridge,
                up = true, txqueues = 1, rxqueues = 1,
                peer = {name = ctx.ifname, netns = ns, mtu = s.mtu, mac = cont_mac,
                        txqueues = 1, rxqueues = 1}}
  local bridge_mac = made.bridge_mac
  if not bridge_mac then bridge_mac, made.bridge = ensure_bridge(s) end
  for attempt = 1, 5 do
    local ok, err = pcall(cnet.link.add, spec)
    if ok then break end
    if err.code == "ENODEV" and err.extack and err.extack:find("master", 1, true) and attempt == 1 then
      bridge_mac, made.bridge = ensure_bridge(s) -- gone since the network last saw it
    elseif err.code ~= "EEXIST" or attempt == 5 then
      error(err, 0)
    elseif link_or_nil(ns, ctx.ifname) then
      E.raise(E.KERNEL, "link.add " .. ctx.ifname .. ": File exists",
        ("the container already has an interface %s"):format(ctx.ifname))
    else
      -- The host name is taken (a leftover of a crash, or a clash of the name hash): another.
      a.host = host_name(ctx, "\0" .. attempt)
      spec.name = a.host
    end
  end
  made.bridge_mac = bridge_mac
  made.veth = a.host
  if s.hairpin then cnet.link.set(a.host, {port = {hairpin = true}}) end
  if s.promisc then cnet.link.set(s.bridge, {promisc = true}) end

  local addrs = addresses(r.ips)
  local gws = {}
  for _, x in ipairs(addrs) do gws[x.family] = gws[x.family] or x.gw end
  local routes = r.routes
  if s.isDefaultGateway then
    for fam, gw in pairs(gws) do
      local dflt = fam == 4 and "0.0.0.0/0" or "::/0"
      local seen = false
      for _, rt in ipairs(routes) do if rt.dst == dflt then seen = true end end
      if not seen then routes[#routes + 1] = {dst = dflt, gw = ipnet.tostring(gw)} end
    end
  end
  for _, x in ipairs(addrs) do
    if x.family == 6 and not s.dad then
      ns.sysctl.set("net/ipv6/conf/" .. ctx.ifname .. "/accept_dad", 0)
      break
    end
  end
  cnet.batch(function()
    ns.link.set(ctx.ifname, {up = true})
    for _, x in ipairs(addrs) do
      ns.addr.add(ctx.ifname, x.cidr, x.family == 4 and {broadcast = "+"} or nil)
    end
  end)
  -- A route the container has already (the default route of a first network) stays: the
  -- first network wins, as with the reference plugin.
  for _, rt in ipairs(routes) do
    local c = ipnet.cidr(rt.dst)
    local via = rt.gw or (c and gws[c.family] and ipnet.tostring(gws[c.family]))
    local ok, err = pcall(ns.route.add, {dst = rt.dst, via = via, dev = ctx.ifname})
    if not ok and err.code ~= "EEXIST" then error(err, 0) end
  end
  if s.isGateway then
    for _, x in ipairs(addrs) do
      if x.gw then
        ensure_gateway(s, x.gw, x.prefix, made.gateway_checked and not made.bridge)
        ensure_forwarding(x.family)
      end
    end
  end
  local mtu = s.mtu or 1500 -- a veth's own default
  local ours = {
    interfaces = {
      {name = s.bridge, mac = bridge_mac},
      {name = a.host, mac = host_mac, mtu = mtu},
      {name = ctx.ifname, mac = cont_mac, mtu = mtu, sandbox = ctx.netns},
    },
    ips = {}, routes = routes, dns = r.dns,
  }
  for i, ip in ipairs(r.ips) do
    ours.ips[i] = {address = ip.address, gateway = ip.gateway, interface = 2}
  end
  if ctx.conf.dns and next(ctx.conf.dns) then ours.dns = result.copy(ctx.conf.dns) end
  return result.merge(ctx.prev, ours)
end

-- ADD and DEL hold the network's lock only to read and write its state (leases, records,
-- the table's first making), not while the kernel makes or removes devices: parallel calls
-- for different containers then do their kernel work side by side. Every record is written
-- before its devices are made and removed only after they are gone, so a network's last
-- attachment (whose DEL removes the table and the bridge) is never taken for the last while
-- another ADD is under way.
function R.add(ctx)
  local s = settings(ctx)
  ipam.validate(ctx)
  local ports = port_mappings(ctx)
  local cni = require "cnet.cni"
  local key = state.key(ctx.id, ctx.ifname)
  local a, r
  local made = {}
  do
    local st <close> = cni.open_state(ctx)
    if st.data.attachments[key] then
      -- ADD again without a DEL in between: what the old record holds is stale (a failed
      -- runtime, a reused id); a live interface of that name is refused below.
      drop(ctx, st, key)
    end
    a = {id = ctx.id, ifname = ctx.ifname, netns = ctx.netns, boot = state.boot_id(),
         host = host_name(ctx), bridge = s.bridge, masq = s.ipMasq, ports = ports, ips = {}}
    st.data.attachments[key] = a
    local function reclaim()
      local n = 0
      for _, k in ipairs(ipam.stale(st, function(name) return link_or_nil(cnet, name) ~= nil end)) do
        if k ~= key then
          drop(ctx, st, k)
          n = n + 1
        end
      end
      return n
    end
    local ok, res = pcall(ipam.add, ctx, st, reclaim)
    if not ok then
      st.data.attachments[key] = nil
      pcall(finish_network, ctx, st)
      st:save()
      error(res, 0)
    end
    r = res
    for _, ip in ipairs(r.ips) do a.ips[#a.ips + 1] = ip.address end
    if a.masq then a.nets = nft.subnets(a.ips) end
    -- The network's table is made under the lock, whole, this attachment's entries included
    -- (and the gateway among the host's addresses, though build() puts it on the bridge later).
    if (a.masq or #a.ports > 0) and not st.data.nft.made then
      local ok2, err = pcall(rebuild, ctx, st, gateways(s, r))
      if not ok2 then
        st.data.attachments[key] = nil
        if ipam.kind(ctx.conf) == "delegate" then pcall(ipam.del, ctx, st) else ipam.release(st, key) end
        st:save()
        error(err, 0)
      end
      made.nft = true
    elseif st.data.nft.made and not st.data.nft.dirty then
      -- the subnets other attachments have put in the table: usually all of this one's
      made.present_nets = nft.nets_in_use(st.data.attachments, key)
    end
    -- What the network learnt about its bridge before: no need to look again.
    local seen = st.data.bridge and st.data.bridge.name == s.bridge and st.data.bridge
    if seen then made.bridge_mac, made.gateway_checked = seen.mac, seen.checked end
    made.bridge_unrecorded = st.data.bridge_made == s.bridge and not seen
    -- Recorded before the kernel is touched: if this process dies half-way, DEL and GC still
    -- know the veth's name and the addresses.
    st:save()
  end
  local default_host = a.host
  local ok, out = pcall(build, ctx, s, a, r, made)
  -- Usually nothing is left to record; the lock is taken again only when something is.
  if ok and not made.bridge and a.host == default_host and not made.nft_rebuild
     and not made.bridge_unrecorded then
    return out
  end
  local st <close> = cni.open_state(ctx)
  if made.bridge then st.data.bridge_made = s.bridge end
  local rec = st.data.attachments[key] or a
  rec.host = a.host
  if not ok then
    -- Undo: nothing of a failed ADD stays behind (the runtime's DEL then finds nothing).
    if made.nft then pcall(remove_nft, ctx, st, key, rec) end
    pcall(remove_veth, rec)
    st.data.attachments[key] = nil
    forget_nets(st, key, rec)
    if ipam.kind(ctx.conf) == "delegate" then pcall(ipam.del, ctx, st) else ipam.release(st, key) end
    pcall(finish_network, ctx, st)
    st:save()
    error(out, 0)
  end
  st.data.attachments[key] = rec
  -- A bridge this network made keeps the mac cnet gave it; another one's mac may change as
  -- ports come and go, so only a bridge of our own is remembered.
  if st.data.bridge_made == s.bridge then
    st.data.bridge = {name = s.bridge, mac = made.bridge_mac, checked = true}
  end
  if made.nft_rebuild then rebuild(ctx, st) end
  st:save()
  return out
end

function R.del(ctx)
  local s = settings(ctx)
  local cni = require "cnet.cni"
  local key = state.key(ctx.id, ctx.ifname)
  -- What to remove comes from the state as it is now, read without the lock (it is replaced
  -- whole, never seen half-written); the lock is taken once, at the end, to forget it all.
  local snap = state.snapshot(ctx.datadir, ctx.network)
  local a, nft_made, gen = snap.attachments[key], snap.nft.made, snap.nft.gen
  if a == nil and ctx.prev then
    -- No record (state lost or never written): what prevResult says is all there is to go by.
    a = {ips = {}, masq = s.ipMasq, ports = port_mappings(ctx)}
    for _, ip in ipairs(ctx.prev.ips) do a.ips[#a.ips + 1] = ip.address end
    for _, i in ipairs(ctx.prev.interfaces) do
      if i.name == host_name(ctx) then a.host = i.name end
    end
  end
  local entries = a and a.ports and #a.ports > 0 -- port rules: subnets are seen to below
  local dirty = false
  if entries and nft_made then
    dirty = not pcall(nft.del, ctx.network, key, a) -- fixed by a rebuild below
  end
  -- The container's end: with a record it is the veth this network made, deleted at once;
  -- without one, only a veth of that name is deleted. Either end takes the pair along, so
  -- the host end needs a look only when the container's was not there to delete.
  local pair_gone = false
  if ctx.netns then
    local ok, ns = pcall(cnet.netns.open, {path = ctx.netns})
    if ok then
      local l = (a and a.id) and {kind = "veth"} or link_or_nil(ns, ctx.ifname)
      if l and l.kind == "veth" then
        -- wait = false: gone from both namespaces when this returns; the kernel's 20-60 ms
        -- of freeing it go to a detached process (docs/api.md, link.delete)
        local ok2, err = pcall(ns.link.delete, ctx.ifname, {wait = false})
        if not ok2 and err.code ~= "ENODEV" then error(err, 0) end
        pair_gone = ok2
      end
      ns:close()
    end
  end
  if a and not pair_gone then remove_veth(a) end
  local st <close> = cni.open_state(ctx)
  if entries and st.data.nft.made and (st.data.nft.gen ~= gen or not nft_made) then
    -- the table was made again meanwhile, from a state that still had this attachment
    dirty = not pcall(nft.del, ctx.network, key, a) or dirty
  end
  st.data.attachments[key] = nil
  forget_nets(st, key, a)
  if dirty then st.data.nft.dirty = true end
  ipam.del(ctx, st)
  finish_network(ctx, st)
  st:save()
end

local function find_route(list, dst, via)
  local want = ipnet.cidr(dst)
  for _, rt in ipairs(list) do
    local have = ipnet.cidr(rt.dst == "default" and (rt.family == "inet6" and "::/0" or "0.0.0.0/0") or rt.dst)
    if have and want and have.addr == want.addr and have.prefix == want.prefix then
      if via == nil or (rt.via and ipnet.parse(rt.via) == ipnet.parse(via)) then return true end
    end
  end
  return false
end

function R.check(ctx)
  local s = settings(ctx)
  local prev = ctx.prev
  local found = {}
  local function note(fmt, ...) found[#found + 1] = fmt:format(...) end
  local ok, ns = pcall(cnet.netns.open, {path = ctx.netns})
  if not ok then
    E.raise(E.UNKNOWN_CONTAINER, "the container's namespace is gone", ctx.netns)
  end
  -- The interfaces prevResult lists: the container's (with a sandbox) and the host veth.
  local cidx, cif
  for i, x in ipairs(prev.interfaces) do
    if x.name == ctx.ifname and x.sandbox and x.sandbox ~= "" then cidx, cif = i - 1, x end
  end
  if not cif then note("prevResult lists no interface %s in a sandbox", ctx.ifname) end
  local cl = link_or_nil(ns, ctx.ifname)
  if not cl then
    note("interface %s is missing from the container", ctx.ifname)
  else
    if cif and cif.mac and cl.mac ~= cif.mac:lower() then
      note("interface %s has mac %s, not %s", ctx.ifname, tostring(cl.mac), cif.mac)
    end
    if not cl.up then note("interface %s is down", ctx.ifname) end
    local have = {}
    for _, x in ipairs(ns.addr.list(ctx.ifname)) do
      local b = ipnet.parse(x.address)
      if b then have[b .. "/" .. x.prefix] = true end
    end
    for _, ip in ipairs(prev.ips) do
      if ip.interface == nil or ip.interface == cidx then
        local c = ipnet.cidr(ip.address)
        if c and not have[c.addr .. "/" .. c.prefix] then
          note("address %s is missing from %s", ip.address, ctx.ifname)
        end
      end
    end
    local routes = ns.route.list()
    for _, rt in ipairs(prev.routes) do
      if not find_route(routes, rt.dst, rt.gw) then
        note("route %s%s is missing from the container", rt.dst, rt.gw and (" via " .. rt.gw) or "")
      end
    end
  end
  ns:close()
  local st <close> = require("cnet.cni").open_state(ctx)
  local key = state.key(ctx.id, ctx.ifname)
  local a = st.data.attachments[key]
  local br = link_or_nil(cnet, s.bridge)
  if not br then
    note("bridge %s is missing", s.bridge)
  elseif br.kind ~= "bridge" then
    note("%s is not a bridge", s.bridge)
  end
  if not a then
    note("the network's state has no record of %s", key)
  else
    local hv = link_or_nil(cnet, a.host)
    if not hv then
      note("host veth %s is missing", a.host)
    elseif hv.master ~= s.bridge then
      note("host veth %s is %s, not on bridge %s", a.host,
        hv.master and ("on " .. hv.master) or "on no bridge", s.bridge)
    elseif not hv.up then
      note("host veth %s is down", a.host)
    end
    for _, f in ipairs(nft.check(ctx.network, key, a)) do note("%s", f) end
  end
  if s.isGateway and br then
    local have = {}
    for _, x in ipairs(cnet.addr.list(s.bridge)) do have[ipnet.parse(x.address) or ""] = true end
    for _, ip in ipairs(prev.ips) do
      local gw = ip.gateway and ipnet.parse(ip.gateway)
      if gw and not have[gw] then note("gateway %s is missing from bridge %s", ip.gateway, s.bridge) end
      if gw then
        local key4 = #gw == 4 and "net.ipv4.ip_forward" or "net.ipv6.conf.all.forwarding"
        if cnet.sysctl.get(key4) ~= "1" then note("%s is off", key4) end
      end
    end
  end
  for _, f in ipairs(ipam.check(ctx, st, prev.ips)) do note("%s", f) end
  if #found > 0 then
    E.raise(E.DRIFT, "CHECK found drift", table.concat(found, "; "))
  end
end

function R.status(ctx)
  settings(ctx)
  local st <close> = require("cnet.cni").open_state(ctx)
  local why = ipam.status(ctx, st)
  if why then E.raise(E.NOT_AVAILABLE, "cannot add containers", why) end
  if ctx.conf.ipMasq then
    local ok, err = pcall(cnet.nft.list_tables, "inet")
    if not ok then E.raise(E.NOT_AVAILABLE, "nftables is not available", tostring(err)) end
  end
end

function R.gc(ctx)
  local st <close> = require("cnet.cni").open_state(ctx)
  local errs = {}
  for key in pairs(st.data.attachments) do
    if not ctx.valid[key] then
      local ok, err = pcall(drop, ctx, st, key)
      if not ok then errs[#errs + 1] = tostring(err) end
      st.data.attachments[key] = nil
    end
  end
  local ok, err = pcall(ipam.gc, ctx, st, ctx.valid)
  if not ok then errs[#errs + 1] = tostring(err) end
  -- The table is made again from what is left: entries nobody records go too.
  if next(st.data.attachments) ~= nil then
    st.data.nft.dirty = true
  end
  local ok2, err2 = pcall(finish_network, ctx, st)
  if not ok2 then errs[#errs + 1] = tostring(err2) end
  st:save()
  if #errs > 0 then E.raise(E.KERNEL, "GC could not remove everything", table.concat(errs, "; ")) end
end

return R
