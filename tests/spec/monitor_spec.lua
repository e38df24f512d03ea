-- cnet.monitor and `cnet monitor`: changes made by iproute2, tc and nft (never by cnet itself)
-- arrive as events shaped like the listings, within a second.
local cnet = require "cnet"

local function clock()
  local f = io.open("/proc/uptime")
  local t = tonumber(f:read("n"))
  f:close()
  return t
end

local function veth()
  local a, b = H.name("ma"), H.name("mb")
  H.sh(("ip link add %s type veth peer name %s"):format(a, b))
  return a, b
end

describe("cnet.monitor", function()
  it("sees a link made by ip within a second, shaped like link.list's row", function()
    local mon <close> = cnet.monitor{links = true}
    local a = H.name("ml")
    local t0 = clock()
    H.sh("ip link add " .. a .. " type veth peer name " .. a .. "p")
    local ev = mon:wait({object = "link", event = "new", name = a}, 1)
    assert.is_truthy(ev, "no event within a second")
    assert.is_true(clock() - t0 < 1.5)
    local ip = H.iplink(a)
    assert.are.equal(ip.ifindex, ev.index)
    assert.are.equal(ip.mtu, ev.mtu)
    assert.are.equal("veth", ev.kind)
    assert.are.equal(ip.address, ev.mac)
    assert.is_false(ev.up)
    -- the classic wait: "a is up"
    H.sh("ip link set " .. a .. " up")
    ev = mon:wait(function(e) return e.object == "link" and e.name == a and e.up end, 1)
    assert.is_truthy(ev)
    assert.is_truthy(ev.flags[1])
    H.sh("ip link del " .. a)
    ev = mon:wait({object = "link", event = "del", name = a}, 1)
    assert.are.equal(ip.ifindex, ev.index)
  end)

  it("delivers addresses, routes and neighbours with their device names", function()
    local a = veth()
    local mon <close> = cnet.monitor{addrs = true, routes = true, neigh = true}
    H.sh("ip link set " .. a .. " up && ip addr add 192.0.2.1/24 dev " .. a)
    local ev = mon:wait({object = "addr", event = "new", dev = a}, 1)
    assert.are.equal("192.0.2.1/24", ev.cidr)
    assert.are.equal("inet", ev.family)
    assert.are.equal(cnet.addr.list(a)[1].address, ev.address)
    H.sh("ip route add 198.51.100.0/24 via 192.0.2.9 dev " .. a .. " metric 7")
    ev = mon:wait({object = "route", event = "new", dst = "198.51.100.0/24"}, 1)
    assert.are.equal("192.0.2.9", ev.via)
    assert.are.equal(a, ev.dev)
    assert.are.equal(7, ev.metric)
    assert.are.equal("main", ev.table)
    H.sh("ip route del 198.51.100.0/24")
    assert.is_truthy(mon:wait({object = "route", event = "del", dst = "198.51.100.0/24"}, 1))
    H.sh("ip neigh add 192.0.2.7 lladdr 02:00:00:00:00:07 dev " .. a)
    ev = mon:wait({object = "neigh", dst = "192.0.2.7"}, 1)
    assert.are.equal("02:00:00:00:00:07", ev.lladdr)
    assert.are.equal("permanent", ev.state)
    assert.are.equal(a, ev.dev)
    H.sh("ip addr del 192.0.2.1/24 dev " .. a)
    assert.is_truthy(mon:wait({object = "addr", event = "del", cidr = "192.0.2.1/24"}, 1))
    -- a bridge FDB entry, in bridge's words
    local br = H.name("mbr")
    H.sh(("ip link add %s type bridge && ip link set %s master %s && "
      .. "bridge fdb add 02:00:00:00:00:08 dev %s master static"):format(br, a, br, a))
    ev = mon:wait({object = "fdb", mac = "02:00:00:00:00:08", event = "new"}, 1)
    assert.are.equal("static", ev.state)
    assert.are.equal(a, ev.dev)
    assert.are.equal(br, ev.master)
  end)

  -- An event without its two event fields, to compare with a listing's row.
  local function row_of(ev)
    local r = {}
    for k, v in pairs(ev) do if k ~= "event" and k ~= "object" then r[k] = v end end
    return r
  end

  -- The row of list whose fields include every field of want.
  local function find(list, want)
    for _, r in ipairs(list) do
      local ok = true
      for k, v in pairs(want) do ok = ok and r[k] == v end
      if ok then return r end
    end
  end

  it("delivers neighbour and FDB entries as neigh.list's and fdb.list's rows", function()
    local a = veth()
    local vx = H.name("vx")
    H.sh(("ip link set %s up && ip addr add 192.0.2.1/24 dev %s && "
      .. "ip link add %s type vxlan id 42 dstport 4789 local 192.0.2.1 nolearning && "
      .. "ip link set %s up"):format(a, a, vx, vx))
    local mon <close> = cnet.monitor{neigh = true}
    -- a VXLAN remote with a port and a VNI of its own (the kernel leaves out those equal to
    -- the device's): port, vni and self are in the event
    H.sh(("bridge fdb add 02:00:00:00:00:09 dev %s dst 192.0.2.9 port 4790 vni 7 self")
      :format(vx))
    local ev = mon:wait({object = "fdb", event = "new", mac = "02:00:00:00:00:09"}, 1)
    assert.is_truthy(ev, "no FDB event within a second")
    local listed = find(cnet.fdb.list{dev = vx}, {mac = "02:00:00:00:00:09"})
    assert.is_truthy(listed)
    assert.are.same(listed, row_of(ev))
    local br = find(H.json(H.sh("bridge -j fdb show dev " .. vx)), {mac = "02:00:00:00:00:09"})
    assert.are.same({"192.0.2.9", 4790, 7, vx, true},
      {ev.dst, ev.port, ev.vni, ev.dev, ev.self})
    assert.are.same({br.dst, br.port, br.vni}, {ev.dst, ev.port, ev.vni})
    -- a flooding remote reached through a device: via is named (the kernel appends remotes
    -- to the all-zeros and multicast entries only)
    H.sh(("bridge fdb append 00:00:00:00:00:00 dev %s dst 192.0.2.10 via %s self"):format(vx, a))
    ev = mon:wait({object = "fdb", event = "new", dst = "192.0.2.10"}, 1)
    assert.is_truthy(ev, "no FDB event for the appended remote")
    assert.are.equal(a, ev.via)
    assert.are.same(find(cnet.fdb.list{dev = vx}, {dst = "192.0.2.10"}), row_of(ev))
    -- a neighbour learned from outside the kernel: extern_learn is in the event
    H.sh(("ip neigh add 192.0.2.8 lladdr 02:00:00:00:00:08 dev %s extern_learn"):format(a))
    ev = mon:wait({object = "neigh", event = "new", dst = "192.0.2.8"}, 1)
    assert.is_truthy(ev, "no neighbour event within a second")
    assert.is_true(ev.extern_learn)
    assert.matches("192.0.2.8 lladdr 02:00:00:00:00:08 extern_learn PERMANENT",
      H.sh("ip neigh show dev " .. a), 1, true)
    assert.are.same(find(cnet.neigh.list(a), {dst = "192.0.2.8"}), row_of(ev))
    -- deletions carry the same fields
    H.sh(("bridge fdb del 02:00:00:00:00:09 dev %s dst 192.0.2.9 port 4790 vni 7 self")
      :format(vx))
    ev = mon:wait({object = "fdb", event = "del", dst = "192.0.2.9"}, 1)
    assert.is_truthy(ev, "no FDB deletion event")
    assert.are.same({4790, 7, true}, {ev.port, ev.vni, ev.self})
  end)

  it("delivers qdiscs and classes made by tc as tc.qdisc.list's rows", function()
    local a = veth()
    local mon <close> = cnet.monitor{tc = true}
    H.sh("tc qdisc add dev " .. a .. " root handle 1: htb default 10")
    local ev = mon:wait({object = "qdisc", event = "new", kind = "htb"}, 1)
    assert.are.equal("1:", ev.handle)
    assert.are.equal("1:10", ev.default)
    assert.are.equal(a, ev.dev)
    H.sh("tc class add dev " .. a .. " parent 1: classid 1:10 htb rate 2mbit")
    ev = mon:wait({object = "class", classid = "1:10"}, 1)
    assert.are.equal(2000000, ev.rate)
  end)

  it("delivers nft tables, chains, rules (with their anonymous sets), sets and elements", function()
    local mon <close> = cnet.monitor{nft = true}
    local t = H.name("mt")
    H.sh(("nft add table inet %s && nft add chain inet %s c '{ type filter hook input priority 0; }'"
      .. " && nft add rule inet %s c tcp dport '{ 22, 80 }' accept"
      .. " && nft add set inet %s s '{ type ipv4_addr; }' && nft add element inet %s s '{ 10.0.0.1 }'")
      :format(t, t, t, t, t))
    local ev = mon:wait({object = "table", event = "new", name = t}, 1)
    assert.are.equal("inet", ev.family)
    ev = mon:wait({object = "chain", event = "new", table = t}, 1)
    assert.are.equal("input", ev.hook)
    assert.are.equal("filter", ev.type)
    ev = mon:wait({object = "rule", event = "new", table = t}, 1)
    assert.are.equal(cnet.nft.list_rules("inet " .. t)[1].text, ev.text)
    assert.are.equal("tcp dport { 22, 80 } accept", ev.text)
    ev = mon:wait({object = "set", event = "new", name = "s"}, 1)
    assert.are.equal("ipv4_addr", ev.type)
    ev = mon:wait({object = "element", event = "new", set = "s"}, 1)
    assert.are.same({"10.0.0.1"}, ev.elements)
    H.sh("nft delete table inet " .. t)
    ev = mon:wait({object = "rule", event = "del", table = t}, 1)
    assert.are.equal("tcp dport { 22, 80 } accept", ev.text)
    assert.is_truthy(mon:wait({object = "table", event = "del", name = t}, 1))
  end)

  it("on a namespace handle sees that namespace only, and keeps the handle alive", function()
    local name = H.name("mns")
    local ns = cnet.netns.add(name)
    local mon <close> = ns.monitor{links = true}
    ns = nil
    collectgarbage()
    collectgarbage()
    H.sh("ip link add " .. H.name("outside") .. " type veth peer name " .. H.name("outp"))
    H.sh("ip -n " .. name .. " link add in0 type veth peer name in1")
    local ev = mon:next(1)
    assert.is_truthy(ev)
    assert.is_truthy(ev.name == "in0" or ev.name == "in1", ev.name)
    assert.are.equal(name, mon.netns.name)
    while true do
      local e = mon:next(0.2)
      if not e then break end
      assert.is_truthy(e.name == "in0" or e.name == "in1", e.name)
    end
  end)

  it("times out, iterates until idle, and closes", function()
    local mon = cnet.monitor{routes = true}
    local t0 = clock()
    assert.are.same({nil, "timeout"}, {mon:next(0.1)})
    assert.is_true(clock() - t0 < 1)
    local a = veth()
    H.sh("ip link set " .. a .. " up && ip addr add 203.0.113.5/24 dev " .. a)
    local n = 0
    for ev in mon:events{timeout = 0.3} do
      assert.are.equal("route", ev.object)
      n = n + 1
    end
    assert.is_true(n >= 2) -- the local and the connected route at least
    assert.matches("^cnet.monitor routes$", tostring(mon))
    mon:close()
    mon:close()
    assert.is_true(mon.closed)
    assert.matches("cnet.monitor is closed", select(2, pcall(mon.next, mon, 0)))
    assert.are.equal("cnet.monitor (closed)", tostring(mon))
  end)

  it("says when the kernel dropped notifications", function()
    local mon <close> = cnet.monitor{routes = true}
    local a = veth()
    H.sh("ip link set " .. a .. " up && ip addr add 10.9.0.1/16 dev " .. a)
    local lines = {}
    for i = 0, 39999 do
      lines[#lines + 1] = ("route add 10.%d.%d.0/24 via 10.9.0.2"):format(10 + i // 256, i % 256)
    end
    H.ip_batch(lines)
    local seen = false
    for ev in mon:events{timeout = 0.5} do
      if ev.event == "overflow" then seen = true end
    end
    assert.is_true(seen, "40000 routes fit a 4 MB queue: no overflow to check")
  end)

  it("refuses unknown objects and non-boolean flags", function()
    assert.has_error(function() cnet.monitor{colour = true} end,
      "bad argument #1 to 'monitor' (unknown option 'colour')")
    assert.has_error(function() cnet.monitor{links = 1} end,
      "bad argument #1 to 'monitor' (field 'links': boolean expected, got number)")
    local mon <close> = cnet.monitor()
    assert.has_error(function() mon:wait(42) end)
    assert.has_error(function() mon:next(-1) end)
  end)
end)

describe("cnet monitor", function()
  it("prints a change made by ip, like ip monitor", function()
    local a = veth()
    local out = os.tmpname()
    -- the monitor starts in the background; the mtu changes until it has printed one (on a
    -- loaded machine the monitor can take seconds to start listening)
    local script = ([[
      %s monitor --timeout 30 --count 1 links > %s &
      pid=$!
      i=0
      while [ $i -lt 300 ] && ! [ -s %s ]; do
        ip link set %s mtu $((1400 + i %% 100)); i=$((i + 1)); sleep 0.1
      done
      wait $pid
    ]]):format(H.bin, out, out, a)
    H.sh(script)
    local text = H.read(out)
    os.remove(out)
    local ip = H.iplink(a)
    assert.matches(("^link new %s %%(%d%%) veth mtu 14%%d%%d <BROADCAST,MULTICAST> state down")
      :format(a, ip.ifindex), text)
  end)

  it("watches a named namespace, and says what is wrong with its arguments", function()
    local name = H.name("mcli")
    H.sh("ip netns add " .. name .. " && ip -n " .. name .. " link set lo up")
    local out = os.tmpname()
    H.sh(([[
      %s monitor --netns %s --count 1 --timeout 30 addrs > %s &
      pid=$!
      i=1
      while [ $i -lt 250 ] && ! [ -s %s ]; do
        ip -n %s addr add 192.0.2.$i/32 dev lo; i=$((i + 1)); sleep 0.1
      done
      wait $pid
    ]]):format(H.bin, name, out, out, name))
    assert.matches("^addr new 192.0.2.%d+/32 dev lo scope global\n$", H.read(out))
    os.remove(out)
    local ok, msg = H.try(H.bin .. " monitor --netns nosuch")
    assert.is_false(ok)
    assert.matches("netns.open nosuch: No such file or directory", msg)
    ok, msg = H.try(H.bin .. " monitor wobble")
    assert.is_false(ok)
    assert.matches("unknown object or option 'wobble'", msg)
    assert.matches("usage: cnet monitor", H.sh(H.bin .. " monitor --help"))
  end)
end)
