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
    assert.are.equal("bridge", ev.family)
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
