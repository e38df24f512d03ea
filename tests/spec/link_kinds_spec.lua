-- Link kinds and their details (vxlan, macvlan/macvtap, bridge and bridge ports, veth peers,
-- tun/tap, ifb, aliases), each against iproute2: made by cnet and read with `ip -d -j link`,
-- made with `ip` and read by cnet, with the same fields.
local cnet = require "cnet"

-- ip writes some numbers as hex strings ("0x8001", "0" for group_fwd_mask, "0x10" for tos).
local hex_keys = {id = true, no = true, group_fwd_mask = true, tos = true, label = true}
-- What ip lists that cnet leaves out on purpose: the STP timers, which change by the second,
-- and ip's second spelling of a port's forwarding mask.
local ip_only = {hello_timer = true, tcn_timer = true, topology_change_timer = true,
                 gc_timer = true, hold_timer = true, message_age_timer = true,
                 forward_delay_timer = true, group_fwd_mask_str = true}
-- What cnet lists that this iproute2 (6.1) does not know yet.
local newer = {mst_enabled = true, mcast_eht_hosts_limit = true, mcast_eht_hosts_cnt = true}

-- Every field ip shows is in cnet's table with the same value; what cnet adds beyond ip is a
-- false/zero ip leaves out, or a field newer than this iproute2.
local function same_details(ip, mine, what)
  assert.is_table(ip, what .. ": ip shows details")
  assert.is_table(mine, what .. ": cnet shows details")
  for k, v in pairs(ip) do
    if not ip_only[k] then
      if hex_keys[k] and type(v) == "string" then v = tonumber(v:gsub("^0x", ""), 16) end
      assert.are.same(v, mine[k], what .. "." .. k)
    end
  end
  for k, v in pairs(mine) do
    if ip[k] == nil then
      assert.is_true(v == false or v == 0 or newer[k] ~= nil,
        what .. ": cnet lists " .. k .. " = " .. tostring(v) .. ", ip does not")
    end
  end
end

local function info(name, ns) return H.iplink(name, ns).linkinfo end

local function compare(name, ns)
  local ip, mine = info(name, ns), (ns and cnet.netns.open(ns).link or cnet.link).get(name)
  assert.are.equal(ip.info_kind, mine.kind)
  if ip.info_data then same_details(ip.info_data, mine.info, name .. ".info") end
  assert.are.equal(ip.info_slave_kind, mine.port_kind)
  if ip.info_slave_data then same_details(ip.info_slave_data, mine.port, name .. ".port") end
  return ip, mine
end

describe("vxlan", function()
  it("made by cnet with its options, read by ip", function()
    local low, vx, vx6 = H.name("vl"), H.name("vx"), H.name("vx")
    H.sh("ip link add " .. low .. " type veth peer name " .. low .. "p")
    cnet.link.add{name = vx, type = "vxlan", id = 4242, group = "239.1.1.1", ["local"] = "192.0.2.5",
                  link = low, ttl = 10, tos = 16, learning = false, proxy = true, l2miss = true,
                  port_range = {low = 3000, high = 4000}, ageing = 100, limit = 50, df = "set",
                  udp_csum = false}
    local ip = compare(vx).info_data
    assert.are.same({4242, "239.1.1.1", "192.0.2.5", low, 10, "0x10", false, true, 4789, 3000, 4000},
      {ip.id, ip.group, ip["local"], ip.link, ip.ttl, ip.tos, ip.learning, ip.proxy, ip.port,
       ip.port_range.low, ip.port_range.high})
    cnet.link.add{name = vx6, type = "vxlan", id = 7, remote = "2001:db8::1", local6 = "2001:db8::2",
                  dstport = 8472, label = 0x12345}
    ip = compare(vx6).info_data
    assert.are.same({"2001:db8::1", "2001:db8::2", 8472, "0x12345"},
      {ip.remote6, ip.local6, ip.port, ip.label})
    assert.are.equal("2001:db8::1", cnet.link.get(vx6).info.remote6)
    H.sh(("ip link del %s; ip link del %s; ip link del %s"):format(vx, vx6, low))
  end)

  it("made by ip, read by cnet", function()
    local low, vx = H.name("vl"), H.name("vx")
    H.sh("ip link add " .. low .. " type veth peer name " .. low .. "p")
    H.sh(("ip link add %s type vxlan id 9 remote 192.0.2.9 dev %s dstport 4790 nolearning " ..
          "srcport 1000 2000 ageing 50 maxaddr 9 l3miss rsc ttl 64"):format(vx, low))
    local _, mine = compare(vx)
    assert.are.same({9, "192.0.2.9", low, 4790, false, true, 64},
      {mine.info.id, mine.info.remote, mine.info.link, mine.info.port, mine.info.learning,
       mine.info.l3miss, mine.info.ttl})
    -- a listed info table goes back into link.add as it is
    local copy = H.name("vx")
    local spec = {name = copy, type = "vxlan"}
    for k, v in pairs(mine.info) do spec[k] = v end
    spec.id = 10
    cnet.link.add(spec)
    local a, b = H.iplink(vx).linkinfo.info_data, H.iplink(copy).linkinfo.info_data
    a.id, b.id = nil, nil
    assert.are.same(a, b)
    H.sh(("ip link del %s; ip link del %s; ip link del %s"):format(vx, copy, low))
  end)

  it("changes what the kernel lets change, and says what it refuses", function()
    local vx = H.name("vx")
    cnet.link.add{name = vx, type = "vxlan", id = 5, remote = "192.0.2.1"}
    cnet.link.set(vx, {remote = "192.0.2.2", ttl = 3, learning = false, ageing = 30})
    local ip = compare(vx).info_data
    assert.are.same({"192.0.2.2", 3, false, 30}, {ip.remote, ip.ttl, ip.learning, ip.ageing})
    local ok, err = pcall(cnet.link.set, vx, {id = 6})
    assert.is_false(ok)
    assert.are.equal("EOPNOTSUPP", err.code)
    assert.are.equal("link.set " .. vx .. ": Operation not supported: Cannot change VNI", tostring(err))
    assert.are.equal(5, H.iplink(vx).linkinfo.info_data.id)
    H.sh("ip link del " .. vx)
  end)
end)

describe("macvlan and macvtap", function()
  it("made by cnet in every mode, read by ip", function()
    local low = H.name("ml")
    H.sh("ip link add " .. low .. " type veth peer name " .. low .. "p")
    local made = {}
    for _, mode in ipairs{"private", "vepa", "bridge", "source"} do
      local n = H.name("mv")
      cnet.link.add{name = n, type = mode == "vepa" and "macvtap" or "macvlan", link = low, mode = mode,
                    macaddr_data = mode == "source" and {"02:00:00:00:00:01", "02:00:00:00:00:02"} or nil}
      local ip = compare(n)
      assert.are.equal(mode, ip.info_data.mode)
      made[#made + 1] = n
    end
    local src = H.iplink(made[4]).linkinfo.info_data
    table.sort(src.macaddr_data)
    assert.are.same({"02:00:00:00:00:01", "02:00:00:00:00:02"}, src.macaddr_data)
    -- passthru takes the lower device alone
    for _, n in ipairs(made) do H.sh("ip link del " .. n) end
    local pt = H.name("mv")
    cnet.link.add{name = pt, type = "macvlan", link = low, mode = "passthru", nopromisc = true}
    local ip = compare(pt).info_data
    assert.are.same({"passthru", true}, {ip.mode, ip.nopromisc})
    H.sh("ip link del " .. pt .. "; ip link del " .. low)
  end)

  it("made by ip, read by cnet, and changed by cnet", function()
    local low, mv = H.name("ml"), H.name("mv")
    H.sh(("ip link add %s type veth peer name %sp && ip link add %s link %s type macvtap mode private")
      :format(low, low, mv, low))
    local _, mine = compare(mv)
    assert.are.same({"macvtap", "private"}, {mine.kind, mine.info.mode})
    cnet.link.set(mv, {mode = "bridge", nodst = true})
    local ip = compare(mv).info_data
    assert.are.same({"bridge", true}, {ip.mode, ip.nodst})
    H.sh("ip link del " .. mv .. "; ip link del " .. low)
  end)
end)

describe("bridge", function()
  it("made by cnet with its options, read by ip; made by ip, read by cnet", function()
    local a, b = H.name("kb"), H.name("kb")
    cnet.link.add{name = a, type = "bridge", stp_state = 1, forward_delay = 400, hello_time = 300,
                  max_age = 1000, ageing_time = 1000, priority = 4096, mcast_snooping = 0,
                  group_fwd_mask = 8, nf_call_iptables = 1, no_linklocal_learn = 1}
    local ip = compare(a).info_data
    assert.are.same({1, 400, 300, 1000, 1000, 4096, 0, "0x8", 1, 1},
      {ip.stp_state, ip.forward_delay, ip.hello_time, ip.max_age, ip.ageing_time, ip.priority,
       ip.mcast_snooping, ip.group_fwd_mask, ip.nf_call_iptables, ip.no_linklocal_learn})
    H.sh("ip link add " .. b .. " type bridge stp_state 1 priority 8192 ageing_time 500 " ..
         "mcast_querier 1 mcast_igmp_version 3 mcast_vlan_snooping 0")
    local _, mine = compare(b)
    assert.are.same({1, 8192, 500, 1, 3}, {mine.info.stp_state, mine.info.priority,
      mine.info.ageing_time, mine.info.mcast_querier, mine.info.mcast_igmp_version})
    H.sh("ip link del " .. a .. "; ip link del " .. b)
  end)

  it("changes its options, all or nothing", function()
    local br = H.name("kb")
    H.sh("ip link add " .. br .. " type bridge")
    cnet.link.set(br, {stp_state = 1, priority = 100, ageing_time = 2000})
    local ip = compare(br).info_data
    assert.are.same({1, 100, 2000}, {ip.stp_state, ip.priority, ip.ageing_time})
    -- the kernel takes forward_delay, then refuses max_age (1 s is below 6): cnet gives the
    -- delay back
    local before = H.iplink(br).linkinfo.info_data
    local ok, err = pcall(cnet.link.set, br, {forward_delay = 500, max_age = 100})
    assert.is_false(ok)
    assert.are.equal("ERANGE", err.code)
    assert.are.equal(before.forward_delay, H.iplink(br).linkinfo.info_data.forward_delay)
    assert.are.equal(before.max_age, H.iplink(br).linkinfo.info_data.max_age)
    H.sh("ip link del " .. br)
  end)

  it("reports VLAN filtering as the kernel has it", function()
    local br = H.name("kb")
    local ok, err = pcall(cnet.link.add, {name = br, type = "bridge", vlan_filtering = 1,
                                          vlan_protocol = "802.1ad", vlan_default_pvid = 5})
    if ok then
      local ip = compare(br).info_data
      assert.are.same({1, "802.1ad", 5}, {ip.vlan_filtering, ip.vlan_protocol, ip.vlan_default_pvid})
      H.sh("ip link del " .. br)
    else
      assert.are.equal("EOPNOTSUPP", err.code)
      assert.is_nil(H.iplink(br), "nothing left behind")
      pending("this kernel has no bridge VLAN filtering (the request's bytes are checked " ..
              "against ip's in link_request_spec): " .. tostring(err))
    end
  end)
end)

describe("bridge ports", function()
  it("set by ip, read by cnet; set by cnet, read by ip", function()
    local br, p = H.name("pb"), H.name("pp")
    H.sh(("ip link add %s type bridge && ip link add %s type veth peer name %sx && " ..
          "ip link set %s master %s && ip link set dev %s type bridge_slave learning off " ..
          "flood off hairpin on isolated on cost 7 priority 9 mcast_flood off neigh_suppress on" ..
          " && ip link set %s up && ip link set %sx up && ip link set %s up")
      :format(br, p, p, p, br, p, br, p, p))
    local _, mine = compare(p)
    assert.are.same({"bridge", false, false, true, true, 7, 9, false, true},
      {mine.port_kind, mine.port.learning, mine.port.flood, mine.port.hairpin, mine.port.isolated,
       mine.port.cost, mine.port.priority, mine.port.mcast_flood, mine.port.neigh_suppress})
    cnet.link.set(p, {port = {learning = true, flood = true, hairpin = false, isolated = false,
                              cost = 100, bcast_flood = false, proxy_arp = true}})
    local ip = compare(p).info_slave_data
    assert.are.same({true, true, false, false, 100, false, true, "forwarding"},
      {ip.learning, ip.flood, ip.hairpin, ip.isolated, ip.cost, ip.bcast_flood, ip.proxy_arp,
       ip.state})
    -- port options given flat, for a device that is a port
    cnet.link.set(p, {hairpin = true, learning = false})
    ip = compare(p).info_slave_data
    assert.are.same({true, false}, {ip.hairpin, ip.learning})
    assert.has_error(function() cnet.link.set(p, {hairpin = true, port = {flood = true}}) end,
      "bad argument #2 to 'set' (port options given both flat and in 'port')")
    assert.has_error(function() cnet.link.set(p .. "x", {hairpin = true}) end,
      "bad argument #2 to 'set' (option 'hairpin' is not for type veth)")
    -- a device that is no port
    local ok, err = pcall(cnet.link.set, p .. "x", {port = {learning = false}})
    assert.is_false(ok)
    assert.are.equal("link.set", err.op)
    H.sh("ip link del " .. p .. "; ip link del " .. br)
  end)
end)

describe("veth peers", function()
  it("names the peer and, when it can, the peer's namespace", function()
    local nsname, h, l1, l2 = H.name("pns"), H.name("ph"), H.name("pl"), H.name("pl")
    local ns <close> = cnet.netns.add(nsname)
    cnet.link.add{name = h, type = "veth", peer = {name = "eth0", netns = ns}}
    H.sh(("ip link add %s type veth peer name %s"):format(l1, l2))
    local mine = cnet.link.get(h)
    assert.are.same({"eth0", nsname, H.iplink("eth0", nsname).ifindex},
      {mine.peer, mine.peer_netns, mine.peer_index})
    assert.are.equal(H.iplink(h).link_netnsid, mine.peer_netnsid)
    local local_ = cnet.link.get(l1)
    assert.are.same({l2, nil}, {local_.peer, local_.peer_netns})
    assert.are.equal(H.iplink(l1).link, local_.peer)
    -- from inside: the peer is in the sandbox's own namespace, which has no name
    local inside = ns.link.get("eth0")
    assert.are.same({h, nil}, {inside.peer, inside.peer_netns})
    local seen = {}
    for _, l in ipairs(cnet.link.list()) do seen[l.name] = l end
    assert.are.same({"eth0", nsname}, {seen[h].peer, seen[h].peer_netns})
    assert.are.equal(l2, seen[l1].peer)
    -- peers = false: the remote peers stay unnamed (no lookups in other namespaces), the
    -- local ones are still named, and the indexes the kernel gives are all there
    local cheap = {}
    for _, l in ipairs(cnet.link.list{peers = false}) do cheap[l.name] = l end
    assert.are.same({nil, nil, H.iplink("eth0", nsname).ifindex, H.iplink(h).link_netnsid},
      {cheap[h].peer, cheap[h].peer_netns, cheap[h].peer_index, cheap[h].peer_netnsid})
    assert.are.equal(l2, cheap[l1].peer)
    assert.has_error(function() cnet.link.list{peers = 1} end)
    -- once the start namespace gets a name too, the inside view names it (the name of the
    -- process's own namespace is remembered only while /run/netns is unchanged)
    local selfname = H.name("pself")
    H.sh("ip netns attach " .. selfname .. " " .. H.sh("echo $PPID"))
    assert.are.same({h, selfname}, {ns.link.get("eth0").peer, ns.link.get("eth0").peer_netns})
    H.sh("ip netns delete " .. selfname)
    assert.is_nil(ns.link.get("eth0").peer_netns)
    H.sh("ip link del " .. h .. "; ip link del " .. l1)
  end)

  it("never names the peer's namespace by a name removed in the same clock tick", function()
    -- /run/netns's mtime moves in clock ticks: a name given and taken back within one tick
    -- leaves it as it was, which once left the old name remembered (the test above failed
    -- so now and then; here, where cnet does both steps itself, within a few rounds)
    local nsname, h, selfname = H.name("pns"), H.name("ph"), H.name("pself")
    local ns <close> = cnet.netns.add(nsname)
    cnet.link.add{name = h, type = "veth", peer = {name = "eth0", netns = ns}}
    local me = tonumber(H.sh("echo $PPID"))
    for _ = 1, 50 do
      cnet.netns.attach(selfname, me):close()
      assert.are.equal(selfname, ns.link.get("eth0").peer_netns)
      cnet.netns.detach(selfname)
      assert.is_nil(ns.link.get("eth0").peer_netns)
    end
    cnet.link.delete(h)
  end)
end)

describe("tun and tap", function()
  it("made by cnet, read by ip; made by ip, read by cnet", function()
    local tap, tun, other = H.name("tp"), H.name("tn"), H.name("tq")
    cnet.link.add{name = tap, type = "tap", user = 1000, group = 100, multi_queue = true,
                  vnet_hdr = true, mtu = 1400, up = true}
    local ip, mine = compare(tap)
    assert.are.same({"tap", true, true, false, true}, {ip.info_data.type, ip.info_data.multi_queue,
      ip.info_data.vnet_hdr, ip.info_data.pi, ip.info_data.persist})
    assert.are.equal(1400, H.iplink(tap).mtu)
    assert.are.equal(1000, tonumber(H.sh("id -u " .. ip.info_data.user)))
    assert.are.equal(mine.info.user, ip.info_data.user)
    cnet.link.add{name = tun, type = "tun", pi = true}
    assert.are.same({"tun", true}, {info(tun).info_data.type, info(tun).info_data.pi})
    compare(tun)
    H.sh("ip tuntap add " .. other .. " mode tap vnet_hdr")
    local _, m2 = compare(other)
    assert.are.same({"tap", true}, {m2.info.type, m2.info.vnet_hdr})
    local ok, err = pcall(cnet.link.add, {name = tap, type = "tap"})
    assert.are.equal("EEXIST", err.code)
    assert.is_false(ok)
    assert.has_error(function() cnet.link.set(tap, {pi = true}) end,
      "bad argument #2 to 'set' (tun/tap options are fixed when the device is made)")
    -- the rest of the request is refused: the new device goes again
    ok, err = pcall(cnet.link.add, {name = H.name("tp"), type = "tap", master = other})
    assert.is_false(ok)
    assert.are.equal(3, #H.ipj("link show type tun"))
    cnet.link.delete(tap)
    H.sh("ip link del " .. tun .. "; ip link del " .. other)
  end)
end)

describe("ifb", function()
  it("made by cnet and by ip, seen by both", function()
    local a, b = H.name("ifb"), H.name("ifb")
    cnet.link.add{name = a, type = "ifb", up = true}
    assert.are.equal("ifb", info(a).info_kind)
    H.sh("ip link add " .. b .. " type ifb")
    assert.are.equal("ifb", cnet.link.get(b).kind)
    H.sh("ip link del " .. a .. "; ip link del " .. b)
  end)
end)

describe("aliases", function()
  it("are given at add and set, listed, and removed", function()
    local a = H.name("al")
    cnet.link.add{name = a, type = "bridge", alias = "uplink of rack 3"}
    assert.are.equal("uplink of rack 3", H.iplink(a).ifalias)
    assert.are.equal("uplink of rack 3", cnet.link.get(a).alias)
    H.sh("ip link set " .. a .. " alias 'set by ip'")
    assert.are.equal("set by ip", cnet.link.get(a).alias)
    cnet.link.set(a, {alias = ""})
    assert.is_nil(H.iplink(a).ifalias)
    assert.is_nil(cnet.link.get(a).alias)
    local ok, err = pcall(cnet.link.set, a, {alias = ("x"):rep(256)})
    assert.is_false(ok)
    assert.are.equal("link.set " .. a .. ": Invalid argument: alias longer than 255 bytes", tostring(err))
    H.sh("ip link del " .. a)
  end)
end)

describe("kind options", function()
  it("are checked before anything is sent", function()
    local before = #H.ipj("link show")
    assert.has_error(function() cnet.link.add{name = "x0", type = "vxlan", id = 1, colour = 1} end,
      "bad argument #1 to 'add' (unknown option 'colour')")
    assert.has_error(function() cnet.link.add{name = "x0", type = "bridge", mode = "vepa"} end,
      "bad argument #1 to 'add' (option 'mode' is not for type bridge)")
    assert.has_error(function() cnet.link.add{name = "x0", type = "macvlan", link = "lo", mode = "fast"} end,
      "bad argument #1 to 'add' (field 'mode': unknown value 'fast')")
    assert.has_error(function() cnet.link.add{name = "x0", type = "vxlan", id = 1, ttl = 256} end,
      "bad argument #1 to 'add' (field 'ttl': 256 out of range [0, 255])")
    assert.has_error(function() cnet.link.add{name = "x0", type = "vxlan", id = 2 ^ 24} end,
      "bad argument #1 to 'add' (field 'id': 16777216 out of range [0, 16777215])")
    assert.has_error(function() cnet.link.add{name = "x0", type = "bridge", root_id = "x"} end,
      "bad argument #1 to 'add' (field 'root_id': read-only (the kernel only reports it))")
    assert.has_error(function() cnet.link.add{name = "x0", type = "vxlan", id = 1, port = 1, dstport = 2} end)
    assert.has_error(function() cnet.link.add{name = "x0", type = "vxlan", id = 1, learning = "no"} end,
      "bad argument #1 to 'add' (field 'learning': boolean expected, got string)")
    assert.has_error(function() cnet.link.set("lo", {port = {colour = 1}}) end,
      "bad argument #2 to 'set' (unknown option 'port.colour' for a port of a bridge)")
    local ok, err = pcall(cnet.link.add, {name = "x0", type = "vxlan", id = 1, remote6 = "192.0.2.1"})
    assert.is_false(ok)
    assert.are.equal("EINVAL", err.code)
    ok, err = pcall(cnet.link.add, {name = "x0", type = "vxlan", id = 1, link = "nosuch0"})
    assert.are.equal("ENODEV", err.code)
    assert.are.equal(before, #H.ipj("link show"))
  end)
end)

describe("kinds inside cnet.batch", function()
  it("queues adds and sets with their options", function()
    local br, vx, p = H.name("bb"), H.name("bx"), H.name("bp")
    cnet.batch(function()
      cnet.link.add{name = br, type = "bridge", stp_state = 1, alias = "batched"}
      cnet.link.add{name = vx, type = "vxlan", id = 77, remote = "192.0.2.77", master = br,
                    learning = false}
      cnet.link.add{name = p, type = "veth", peer = p .. "x", master = br}
      cnet.link.set(p, {port = {learning = false, isolated = true}})
      cnet.link.set(br, {alias = "batched twice", priority = 100})
      cnet.link.add{name = p .. "t", type = "tap", master = br}
    end)
    local b = H.iplink(br)
    assert.are.same({1, "batched twice", 100},
      {b.linkinfo.info_data.stp_state, b.ifalias, b.linkinfo.info_data.priority})
    assert.are.same({"tun", br}, {H.iplink(p .. "t").linkinfo.info_kind, H.iplink(p .. "t").master})
    H.sh("ip link del " .. p .. "t")
    local x = H.iplink(vx)
    assert.are.same({77, false, br}, {x.linkinfo.info_data.id, x.linkinfo.info_data.learning, x.master})
    local q = H.iplink(p).linkinfo.info_slave_data
    assert.are.same({false, true}, {q.learning, q.isolated})
    H.sh(("ip link del %s; ip link del %s; ip link del %s"):format(vx, p, br))
  end)
end)

describe("cnet.link.fields", function()
  it("lists each kind's fields, every one documented in docs/api.md", function()
    local doc = H.read(H.source .. "/docs/api.md")
    local section = doc:match("### Kind details: info and port(.-)\n## ")
    assert.is_string(section)
    for _, k in ipairs{{"vxlan"}, {"macvlan"}, {"macvtap"}, {"bridge"}, {"bridge", "port"}, {"tun"},
                       {"vlan"}, {"ipvlan"}, {"vrf"}, {"bond"}} do
      local fields = cnet.link.fields(k[1], k[2])
      assert.is_true(#fields > 0, k[1])
      for _, f in ipairs(fields) do
        assert.truthy(section:find("`" .. f.name .. "`", 1, true),
          table.concat(k, " ") .. " field " .. f.name .. " is documented")
      end
    end
    local mode
    for _, f in ipairs(cnet.link.fields("macvlan")) do if f.name == "mode" then mode = f end end
    assert.are.same({name = "mode", type = "name", readonly = false,
                     values = {"private", "vepa", "bridge", "passthru", "source"}}, mode)
    assert.are.same({}, cnet.link.fields("veth"))
  end)
end)
