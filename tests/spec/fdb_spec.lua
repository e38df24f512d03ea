-- cnet.fdb: the bridge forwarding database, checked against `bridge -j fdb` both ways; and
-- a VXLAN overlay across three simulated hosts whose flooding and forwarding entries come
-- from cnet.fdb alone.
local cnet = require "cnet"

-- `bridge -j fdb show ARGS` (in netns ns when given), with the device filled in where
-- bridge leaves it out (a listing of one device).
local function bridgefdb(args, ns)
  local pre = ns and ("bridge -n " .. ns .. " -j ") or "bridge -j "
  local list = H.json(H.sh(pre .. "fdb show " .. (args or "")))
  local dev = (args or ""):match("dev (%S+)")
  for _, e in ipairs(list) do e.ifname = e.ifname or dev end
  return list
end

-- An entry of either tool in one shape, as a sortable string.
local function key(e)
  local flags = {}
  if e.flags then -- bridge: a list of flag names, "" for a dynamic entry's state
    for _, f in ipairs(e.flags) do flags[#flags + 1] = f end
  else
    for _, f in ipairs({"self", "router", "extern_learn", "offload", "sticky"}) do
      if e[f] then flags[#flags + 1] = f end
    end
  end
  table.sort(flags)
  local state = e.state == "" and "dynamic" or e.state
  return table.concat({e.mac, e.ifname or e.dev or "-", state, table.concat(flags, ","),
                       e.master or "-", e.dst or "-", tostring(e.port or "-"),
                       tostring(e.vni or "-"), e.viaIf or e.via or "-", tostring(e.vlan or "-")}, " ")
end

local function keys(list)
  local out = {}
  for _, e in ipairs(list) do out[#out + 1] = key(e) end
  table.sort(out)
  return out
end

-- A bridge with one port (veth a, its peer b up too).
-- Learning is off on the port: b's own packets (IPv6 neighbour discovery) would otherwise
-- add dynamic entries of their own. The port forwards once the kernel has seen its carrier
-- (asynchronously); until then it refuses dynamic entries (EPERM), so wait for that.
local function bridge()
  local br, a, b = H.name("fbr"), H.name("fa"), H.name("fb")
  H.sh(("ip link add %s type bridge && ip link add %s type veth peer name %s && " ..
        "ip link set %s master %s && bridge link set dev %s learning off && " ..
        "ip link set %s up && ip link set %s up && ip link set %s up")
    :format(br, a, b, a, br, a, br, a, b))
  H.sh(("for i in $(seq 100); do bridge link show dev %s | grep -q 'state forwarding' && exit 0; " ..
        "sleep 0.02; done; exit 1"):format(a))
  return br, a, b
end

local vnis = 100
local function vxlan(opts)
  local vx = H.name("fvx")
  vnis = vnis + 1
  H.sh(("ip link add %s type vxlan id %d dstport 4789 %s"):format(vx, vnis, opts or ""))
  return vx
end

describe("cnet.fdb.add", function()
  it("adds port entries in each state that bridge reads back identically", function()
    local br, a = bridge()
    cnet.fdb.add{mac = "02:00:00:00:00:01", dev = a, master = true}
    cnet.fdb.add{mac = "02:00:00:00:00:02", dev = a, master = true, state = "static", sticky = true}
    cnet.fdb.add{mac = "02:00:00:00:00:03", dev = a, master = true, state = "dynamic"}
    cnet.fdb.add{mac = "02:00:00:00:00:04", dev = a, master = true, state = "dynamic", extern_learn = true}
    cnet.fdb.add{mac = "02:00:00:00:00:05", dev = br, self = true}
    local theirs = bridgefdb("br " .. br)
    assert.are.same(keys(theirs), keys(cnet.fdb.list{br = br}))
    local want = {
      ("02:00:00:00:00:01 %s permanent  %s - - - - -"):format(a, br),
      ("02:00:00:00:00:02 %s static sticky %s - - - - -"):format(a, br),
      ("02:00:00:00:00:03 %s dynamic  %s - - - - -"):format(a, br),
      ("02:00:00:00:00:04 %s dynamic extern_learn %s - - - - -"):format(a, br),
    }
    local got = {}
    for _, k in ipairs(keys(cnet.fdb.list{dev = a})) do
      if k:find("^02:00:00:00:00:0") then got[#got + 1] = k end
    end
    assert.are.same(want, got)
    H.sh("ip link del " .. br .. " && ip link del " .. a)
  end)

  it("reads back what bridge made, per bridge, per port and for VXLAN remotes", function()
    local br, a, b = bridge()
    local vx = vxlan("nolearning")
    H.sh(table.concat({
      "bridge fdb add 02:00:00:00:01:01 dev " .. a .. " master static",
      "bridge fdb add 02:00:00:00:01:02 dev " .. a .. " master dynamic",
      "bridge fdb add 02:00:00:00:01:03 dev " .. a .. " master",
      "bridge fdb append 00:00:00:00:00:00 dev " .. vx .. " dst 192.0.2.2",
      "bridge fdb append 00:00:00:00:00:00 dev " .. vx .. " dst 192.0.2.3 port 4790 vni 43 via " .. b,
      "bridge fdb add 02:00:00:00:01:04 dev " .. vx .. " dst 198.51.100.4 extern_learn",
    }, " && "))
    assert.are.same(keys(bridgefdb("br " .. br)), keys(cnet.fdb.list{br = br}))
    assert.are.same(keys(bridgefdb("dev " .. a)), keys(cnet.fdb.list{dev = a}))
    assert.are.same(keys(bridgefdb("dev " .. vx)), keys(cnet.fdb.list{dev = vx}))
    assert.are.same(keys(bridgefdb()), keys(cnet.fdb.list()))
    assert.are.same(keys(bridgefdb("br " .. br .. " state static")), keys(cnet.fdb.list{br = br, state = "static"}))
    local remote = {}
    for _, e in ipairs(cnet.fdb.list{dev = vx}) do
      if e.port then remote = e end
    end
    assert.are.same({mac = "00:00:00:00:00:00", dev = vx, dst = "192.0.2.3", port = 4790, vni = 43,
                     via = b, self = true, state = "permanent"}, remote)
    H.sh("ip link del " .. br .. " && ip link del " .. a .. " && ip link del " .. vx)
  end)

  it("appends VXLAN remotes, replaces and deletes one remote or the whole entry", function()
    local vx = vxlan("nolearning")
    local zero = "00:00:00:00:00:00"
    cnet.fdb.append{mac = zero, dev = vx, dst = "192.0.2.2"}
    cnet.fdb.append{mac = zero, dev = vx, dst = "192.0.2.3"}
    cnet.fdb.add{mac = zero, dev = vx, dst = "192.0.2.4", vni = 7, port = 8472, append = true}
    cnet.fdb.add{mac = "02:00:00:00:02:01", dev = vx, dst = "192.0.2.2"}
    local function dsts(mac)
      local out = {}
      for _, e in ipairs(bridgefdb("dev " .. vx)) do
        if e.mac == mac then out[#out + 1] = e.dst .. (e.vni and ("/" .. e.vni) or "") end
      end
      table.sort(out)
      return out
    end
    assert.are.same({"192.0.2.2", "192.0.2.3", "192.0.2.4/7"}, dsts(zero))
    cnet.fdb.replace{mac = "02:00:00:00:02:01", dev = vx, dst = "192.0.2.9"}
    assert.are.same({"192.0.2.9"}, dsts("02:00:00:00:02:01"))
    cnet.fdb.delete{mac = zero, dev = vx, dst = "192.0.2.3"}
    assert.are.same({"192.0.2.2", "192.0.2.4/7"}, dsts(zero))
    cnet.fdb.delete{mac = zero, dev = vx}
    assert.are.same({}, dsts(zero))
    -- a listed entry goes back to delete as it is
    for _, e in ipairs(cnet.fdb.list{dev = vx}) do cnet.fdb.delete(e) end
    assert.are.same({}, bridgefdb("dev " .. vx))
    H.sh("ip link del " .. vx)
  end)

  it("raises clear errors and changes nothing", function()
    local br, a, b = bridge()
    local vx = vxlan()
    cnet.fdb.add{mac = "02:00:00:00:03:01", dev = a, master = true}
    -- what the calls below could have changed (the kernel adds multicast entries of its own
    -- as devices come up, so not the whole table)
    local function mine()
      local out = {}
      for _, e in ipairs(bridgefdb()) do
        if e.mac:find("^02:00:00:00:03:") or e.ifname == vx then out[#out + 1] = key(e) end
      end
      table.sort(out)
      return out
    end
    local before = mine()
    local ok, err = pcall(cnet.fdb.add, {mac = "02:00:00:00:03:01", dev = a, master = true})
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("fdb.add 02:00:00:00:03:01 dev " .. a .. ": File exists", tostring(err))
    ok, err = pcall(cnet.fdb.add, {mac = "02:00:00:00:03:02", dev = b, master = true}) -- not a port
    assert.are.equal("EOPNOTSUPP", err.code)
    ok, err = pcall(cnet.fdb.append, {mac = "00:00:00:00:00:00", dev = vx, dst = "192.0.2.300"})
    assert.are.equal('fdb.append 00:00:00:00:00:00 dev ' .. vx .. ' dst 192.0.2.300: Invalid argument: invalid address \'192.0.2.300\'',
      tostring(err))
    ok, err = pcall(cnet.fdb.add, {mac = "02:00:00:00:0z:01", dev = a})
    assert.are.equal('fdb.add 02:00:00:00:0z:01 dev ' .. a .. ': Invalid argument: invalid mac address "02:00:00:00:0z:01"',
      tostring(err))
    ok, err = pcall(cnet.fdb.add, {mac = "02:00:00:00:03", dev = a, master = true}) -- 5 bytes
    assert.are.equal("EINVAL", err.code)
    ok, err = pcall(cnet.fdb.add, {mac = "02:00:00:00:03:03", dev = "nosuch0"})
    assert.are.equal("fdb.add 02:00:00:00:03:03 dev nosuch0: No such device: dev nosuch0", tostring(err))
    ok, err = pcall(cnet.fdb.delete, {mac = "02:00:00:00:03:09", dev = a, master = true})
    assert.are.equal("ENOENT", err.code)
    assert.has_error(function() cnet.fdb.add{mac = "02:00:00:00:03:04", dev = vx, vni = 16777216} end,
      "bad argument #1 to 'add' (field 'vni': 16777216 out of range [0, 16777215])")
    assert.has_error(function() cnet.fdb.add{mac = "02:00:00:00:03:04", dev = vx, port = 0} end,
      "bad argument #1 to 'add' (field 'port': 0 out of range [1, 65535])")
    assert.has_error(function() cnet.fdb.add{mac = "02:00:00:00:03:04", dev = a, state = "stale"} end,
      "bad argument #1 to 'add' (field 'state': 'stale' (permanent, static or dynamic))")
    -- a long value is quoted short (the API fuzzer found it whole in the message)
    local ok, msg = pcall(cnet.fdb.replace, {mac = "02:00:00:00:03:04", dev = a, state = ("x"):rep(3000)})
    assert.is_false(ok)
    assert.is_true(#tostring(msg) < 1000 and tostring(msg):find("(3000 bytes)", 1, true) ~= nil, tostring(msg):sub(1, 300))
    assert.has_error(function() cnet.fdb.add{mac = "02:00:00:00:03:04", dev = a, lladdr = "x"} end,
      "bad argument #1 to 'add' (unknown option 'lladdr')")
    assert.has_error(function() cnet.fdb.add{dev = a} end, "bad argument #1 to 'add' (field 'mac' required)")
    assert.has_error(function() cnet.fdb.flush{state = "dynamic"} end,
      "bad argument #1 to 'flush' (field 'dev' or 'br' required)")
    assert.are.same(before, mine())
    H.sh("ip link del " .. br .. " && ip link del " .. a .. " && ip link del " .. vx)
  end)
end)

describe("cnet.fdb.flush", function()
  it("removes the learned (dynamic) entries of a bridge by default, others when asked", function()
    local br, a = bridge()
    H.sh(table.concat({
      "bridge fdb add 02:00:00:00:04:01 dev " .. a .. " master dynamic",
      "bridge fdb add 02:00:00:00:04:02 dev " .. a .. " master dynamic",
      "bridge fdb add 02:00:00:00:04:03 dev " .. a .. " master static",
      "bridge fdb add 02:00:00:00:04:04 dev " .. a .. " master",
    }, " && "))
    local function macs()
      local out = {}
      for _, e in ipairs(bridgefdb("br " .. br)) do
        if e.mac:find("^02:00:00:00:04:") then out[#out + 1] = e.mac end
      end
      table.sort(out)
      return out
    end
    assert.are.equal(2, cnet.fdb.flush{br = br})
    assert.are.same({"02:00:00:00:04:03", "02:00:00:00:04:04"}, macs())
    assert.are.equal(1, cnet.fdb.flush{dev = a, state = "static"})
    assert.are.same({"02:00:00:00:04:04"}, macs())
    H.sh("ip link del " .. br .. " && ip link del " .. a)
  end)
end)

describe("cnet.fdb in a batch", function()
  it("queues entries and reports the failed one by its line", function()
    local vx = vxlan("nolearning")
    local ok, err = pcall(cnet.batch, function()
      for i = 1, 30 do
        cnet.fdb.append{mac = "00:00:00:00:00:00", dev = vx, dst = "198.51.100." .. i}
      end
      cnet.fdb.add{mac = "02:00:00:00:05:01", dev = vx, dst = "198.51.100.1"}
      cnet.fdb.add{mac = "02:00:00:00:05:01", dev = vx, dst = "198.51.100.2"} -- exists by then
    end)
    assert.is_false(ok)
    assert.are.equal("fdb.add 02:00:00:00:05:01 dev " .. vx .. " dst 198.51.100.2: File exists", tostring(err))
    assert.matches("fdb_spec.lua:%d+:", err.where)
    assert.are.equal(31, #bridgefdb("dev " .. vx))
    H.sh("ip link del " .. vx)
  end)
end)

describe("a VXLAN overlay on cnet.fdb", function()
  it("connects containers on three hosts through flooding and per-MAC entries", function()
    -- The underlay: three hosts on one bridge (192.0.2.1-3). On each host a VXLAN device
    -- without learning in a bridge with one container (10.42.0.1-3). Nothing tells a host
    -- where the others are but the FDB entries cnet adds.
    local ul = H.name("ul")
    cnet.link.add{name = ul, type = "bridge", up = true}
    local hosts, ctrs, names = {}, {}, {}
    local function cmac(i) return ("02:42:00:00:00:%02x"):format(i) end
    for i = 1, 3 do
      names[i] = H.name("vh")
      local h = cnet.netns.add(names[i])
      local c = cnet.netns.add(H.name("vc"))
      hosts[i], ctrs[i] = h, c
      cnet.link.add{name = H.name("u"), type = "veth", peer = {name = "eth0", netns = h},
                    master = ul, up = true}
      h.link.set("lo", {up = true})
      h.link.set("eth0", {up = true})
      h.addr.add("eth0", "192.0.2." .. i .. "/24")
      h.link.add{name = "vx0", type = "vxlan", id = 42, dstport = 4789, ["local"] = "192.0.2." .. i,
                 dev = "eth0", learning = false}
      h.link.add{name = "br0", type = "bridge", up = true}
      h.link.set("vx0", {master = "br0", up = true})
      h.link.add{name = "c0", type = "veth", master = "br0", up = true,
                 peer = {name = "eth0", netns = c, mac = cmac(i), mtu = 1400}}
      c.link.set("eth0", {up = true})
      c.addr.add("eth0", "10.42.0." .. i .. "/24")
    end
    assert.is_nil((ctrs[1].ping("10.42.0.2", {timeout = 0.3}))) -- no FDB entries: no path
    for i = 1, 3 do
      for j = 1, 3 do
        if i ~= j then
          local remote = "192.0.2." .. j
          hosts[i].fdb.append{mac = "00:00:00:00:00:00", dev = "vx0", dst = remote} -- flooding
          hosts[i].fdb.add{mac = cmac(j), dev = "vx0", dst = remote}                 -- forwarding
        end
      end
    end
    -- vx0's own table holds exactly those four; (br0's table, where vx0 is a port, also
    -- learns the containers' addresses as their first packets arrive: not compared)
    local function own(list)
      local out = {}
      for _, e in ipairs(list) do
        if e.dst then out[#out + 1] = e end
      end
      return keys(out)
    end
    for i = 1, 3 do
      local theirs = own(bridgefdb("dev vx0", names[i]))
      assert.are.equal(4, #theirs)
      assert.are.same(theirs, own(hosts[i].fdb.list{dev = "vx0"}))
    end
    for i = 1, 3 do
      for j = 1, 3 do
        if i ~= j then
          assert.is_number(ctrs[i].ping("10.42.0." .. j, {timeout = 2}).s, ("c%d -> c%d"):format(i, j))
        end
      end
    end
    -- With the containers' ARP entries known, unicast needs only the per-MAC entries: take
    -- the flooding away and traffic still flows, then take c2's entry on host 1 away and
    -- c1 no longer reaches c2, while it still reaches c3.
    ctrs[1].neigh.replace{dst = "10.42.0.2", dev = "eth0", lladdr = cmac(2)}
    ctrs[1].neigh.replace{dst = "10.42.0.3", dev = "eth0", lladdr = cmac(3)}
    for i = 2, 3 do ctrs[i].neigh.replace{dst = "10.42.0.1", dev = "eth0", lladdr = cmac(1)} end
    hosts[1].fdb.delete{mac = "00:00:00:00:00:00", dev = "vx0"}
    assert.is_number(ctrs[1].ping("10.42.0.2", {timeout = 2}).s)
    hosts[1].fdb.delete{mac = cmac(2), dev = "vx0"}
    assert.is_nil((ctrs[1].ping("10.42.0.2", {timeout = 0.3})))
    assert.is_number(ctrs[1].ping("10.42.0.3", {timeout = 2}).s)
    for i = 1, 3 do
      cnet.netns.delete(ctrs[i])
      cnet.netns.delete(hosts[i])
    end
    cnet.link.delete(ul)
  end)
end)
