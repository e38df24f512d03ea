-- cnet.route: add, replace, delete, list, get, checked against `ip -j route`.
local cnet = require "cnet"

local function iproutes(args, ns)
  return H.ipj("route show " .. (args or ""), ns)
end

local function find(list, dst)
  for _, r in ipairs(list) do if r.dst == dst then return r end end
end

-- A bridge that is up, with an IPv4 and an IPv6 address (IPv6 without duplicate detection,
-- so its routes are usable at once).
local function bridge(ns)
  local br = H.name("rbr")
  local ip = ns and ("ip -n " .. ns .. " ") or "ip "
  H.sh(ip .. "link add " .. br .. " type bridge && " .. ip .. "link set " .. br .. " up && " ..
       ip .. "addr add 192.168.50.1/24 dev " .. br .. " && " ..
       ip .. "addr add 2001:db8:50::1/64 dev " .. br .. " nodad")
  return br
end

describe("cnet.route.add", function()
  it("adds a default route, a device route with metric, a route in another table, IPv6", function()
    local br = bridge()
    cnet.route.add{dst = "default", via = "192.168.50.254"}
    cnet.route.add{dst = "10.0.0.0/8", dev = br, metric = 5, src = "192.168.50.1"}
    cnet.route.add{dst = "10.1.0.0/16", via = "192.168.50.2", table = 100, proto = "static"}
    cnet.route.add{dst = "2001:db8:99::/48", via = "2001:db8:50::2"}
    local main = iproutes()
    local d = find(main, "default")
    assert.are.equal("192.168.50.254", d.gateway)
    assert.are.equal(br, d.dev)
    local r = find(main, "10.0.0.0/8")
    assert.are.equal(5, r.metric)
    assert.are.equal("link", r.scope)
    assert.are.equal("192.168.50.1", r.prefsrc)
    local t = find(iproutes("table 100"), "10.1.0.0/16")
    assert.are.equal("192.168.50.2", t.gateway)
    assert.are.equal("static", t.protocol)
    local v6 = find(H.ipj("-6 route show"), "2001:db8:99::/48")
    assert.are.equal("2001:db8:50::2", v6.gateway)
    H.sh("ip link del " .. br)
    assert.is_nil(find(iproutes(), "default"))
  end)

  it("adds blackhole and unreachable routes", function()
    cnet.route.add{dst = "10.66.0.0/16", type = "blackhole"}
    cnet.route.add{dst = "10.67.0.0/16", type = "unreachable", metric = 3}
    local b = find(iproutes("type blackhole"), "10.66.0.0/16")
    assert.are.equal("blackhole", b.type)
    local u = find(iproutes("type unreachable"), "10.67.0.0/16")
    assert.are.equal(3, u.metric)
    local mine = cnet.route.list{family = "inet"}
    assert.are.equal("blackhole", find(mine, "10.66.0.0/16").type)
    cnet.route.delete{dst = "10.66.0.0/16", type = "blackhole"}
    cnet.route.delete{dst = "10.67.0.0/16"}
    assert.is_nil(find(iproutes("type blackhole"), "10.66.0.0/16"))
    assert.is_nil(find(iproutes("type unreachable"), "10.67.0.0/16"))
  end)

  it("works inside a namespace handle", function()
    local nsname = H.name("rns")
    local ns <close> = cnet.netns.add(nsname)
    local br = bridge(nsname)
    ns.route.add{dst = "default", via = "192.168.50.254"}
    assert.are.equal("192.168.50.254", find(iproutes(nil, nsname), "default").gateway)
    assert.is_nil(find(iproutes(), "default"))
    assert.is_not_nil(br)
  end)

  it("raises EEXIST for a route that exists, and leaves it as it was", function()
    local br = bridge()
    H.sh("ip route add 10.2.0.0/16 via 192.168.50.3")
    local ok, err = pcall(cnet.route.add, {dst = "10.2.0.0/16", via = "192.168.50.4"})
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("route.add 10.2.0.0/16: File exists", tostring(err))
    assert.are.equal("192.168.50.3", find(iproutes(), "10.2.0.0/16").gateway)
    H.sh("ip link del " .. br)
  end)

  it("rejects malformed prefixes, missing devices, unknown options, adding nothing", function()
    local br = bridge()
    -- IPv4 only: the kernel adds IPv6 routes on its own once link-local addresses settle
    local before = #H.ipj("-4 route show table all")
    local ok, err = pcall(cnet.route.add, {dst = "10.0.0.300/8", dev = br})
    assert.is_false(ok)
    assert.are.equal("route.add 10.0.0.300/8: Invalid argument: invalid address '10.0.0.300/8'",
      tostring(err))
    ok, err = pcall(cnet.route.add, {dst = "10.0.0.0/33", dev = br})
    assert.are.equal("EINVAL", err.code)
    ok, err = pcall(cnet.route.add, {dst = "10.0.0.0/8", via = "192.168.50.999"})
    assert.are.equal("EINVAL", err.code)
    ok, err = pcall(cnet.route.add, {dst = "10.0.0.0/8", dev = "nosuch0"})
    assert.are.equal("ENODEV", err.code)
    assert.are.equal("route.add 10.0.0.0/8: No such device: dev nosuch0", tostring(err))
    ok, err = pcall(cnet.route.add, {dst = "10.0.0.1/8", dev = br}) -- host bits set: the kernel says no
    assert.are.equal("EINVAL", err.code)
    assert.are.equal("route.add", err.op)
    ok, err = pcall(cnet.route.add, {dst = "2001:db8::/32", via = "192.168.50.2"})
    assert.are.equal("EINVAL", err.code)
    ok, err = pcall(cnet.route.add, {dst = "10.3.0.0/16", via = "10.9.9.9"}) -- no route to the gateway
    assert.are.equal("ENETUNREACH", err.code)
    assert.has_error(function() cnet.route.add{dst = "10.0.0.0/8", dev = br, metric = -1} end,
      "bad argument #1 to 'add' (field 'metric': -1 out of range [0, 4294967295])")
    assert.has_error(function() cnet.route.add{dst = "10.0.0.0/8", gw = "1.2.3.4"} end,
      "bad argument #1 to 'add' (unknown option 'gw')")
    assert.has_error(function() cnet.route.add{via = "1.2.3.4"} end,
      "bad argument #1 to 'add' (field 'dst' required (an address/prefix or \"default\"))")
    assert.has_error(function() cnet.route.add{dst = "default", via = "192.168.50.9", table = "nope"} end,
      "bad argument #1 to 'add' (field 'table': unknown table 'nope' (main, local, default or a number))")
    assert.are.equal(before, #H.ipj("-4 route show table all"))
    assert.are.same({}, H.ipj("-6 route show 2001:db8::/32"))
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.route.replace", function()
  it("adds when missing and replaces in place", function()
    local br = bridge()
    cnet.route.replace{dst = "10.4.0.0/16", via = "192.168.50.5"}
    assert.are.equal("192.168.50.5", find(iproutes(), "10.4.0.0/16").gateway)
    cnet.route.replace{dst = "10.4.0.0/16", via = "192.168.50.6"}
    local n = 0
    for _, r in ipairs(iproutes()) do if r.dst == "10.4.0.0/16" then n = n + 1 end end
    assert.are.equal(1, n)
    assert.are.equal("192.168.50.6", find(iproutes(), "10.4.0.0/16").gateway)
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.route.delete", function()
  it("deletes a route, and raises ESRCH when there is none", function()
    local br = bridge()
    H.sh("ip route add 10.5.0.0/16 dev " .. br .. " && ip route add default via 192.168.50.254")
    cnet.route.delete{dst = "10.5.0.0/16"}
    cnet.route.delete{dst = "default"}
    assert.is_nil(find(iproutes(), "10.5.0.0/16"))
    assert.is_nil(find(iproutes(), "default"))
    local ok, err = pcall(cnet.route.delete, {dst = "10.5.0.0/16"})
    assert.is_false(ok)
    assert.are.equal("ESRCH", err.code)
    assert.are.equal("route.delete", err.op)
    assert.are.equal("10.5.0.0/16", err.object)
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.route.list", function()
  it("lists the main table as ip does, the kernel's connected route included", function()
    local br = bridge()
    H.sh("ip route add 10.6.0.0/16 via 192.168.50.7 metric 7")
    local mine = cnet.route.list{family = "inet"}
    local ip = iproutes()
    assert.are.equal(#ip, #mine)
    local c = find(mine, "192.168.50.0/24")
    assert.are.same({family = "inet", dst = "192.168.50.0/24", dev = br, oif = H.iplink(br).ifindex,
                     src = "192.168.50.1", table = "main", protocol = "kernel", scope = "link",
                     type = "unicast"}, c)
    local g = find(mine, "10.6.0.0/16")
    assert.are.equal("192.168.50.7", g.via)
    assert.are.equal(7, g.metric)
    assert.are.equal("boot", g.protocol)
    assert.are.equal("global", g.scope)
    local v6 = cnet.route.list{family = "inet6"}
    assert.are.equal(#H.ipj("-6 route show"), #v6)
    H.sh("ip link del " .. br)
  end)

  it("filters by table, and lists every table with table = 'all'", function()
    local br = bridge()
    H.sh("ip route add 10.7.0.0/16 via 192.168.50.8 table 200")
    local t = cnet.route.list{table = 200}
    assert.are.equal(1, #t)
    assert.are.equal(200, t[1].table)
    local localt = cnet.route.list{table = "local", family = "inet"}
    assert.are.equal(#iproutes("table local"), #localt)
    assert.are.equal("local", find(localt, "192.168.50.1/32").type) -- host routes keep their /32
    local all4 = cnet.route.list{table = "all", family = "inet"}
    assert.are.equal(#H.ipj("-4 route show table all"), #all4)
    -- both families by default (IPv6 counts can move as the kernel settles link-local routes)
    local all, v6 = cnet.route.list{table = "all"}, 0
    for _, r in ipairs(all) do if r.family == "inet6" then v6 = v6 + 1 end end
    assert.are.equal(#all4, #all - v6)
    assert.is_true(v6 > 0)
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.route.list of a big table", function()
  it("matches ip route route by route, devices named, and leaves the collector as it was", function()
    local a = H.veth("rb")
    local lines = {}
    for i = 1, 3000 do
      lines[#lines + 1] = ("route add 10.%d.%d.0/24 dev %s%s"):format(100 + i // 256, i % 256,
        i % 3 == 0 and b or a, i % 7 == 0 and " metric 9" or "")
    end
    H.ip_batch(lines)
    assert.is_true(collectgarbage("isrunning"))
    local mine = cnet.route.list{family = "inet"}
    assert.is_true(collectgarbage("isrunning"), "the collector pauses only during the dump")
    local ip = iproutes()
    assert.are.equal(#ip, #mine)
    local byd = {}
    for _, r in ipairs(mine) do byd[r.dst] = r end
    for _, r in ipairs(ip) do
      local dst = r.dst:find("/") and r.dst or (r.dst == "default" and "default" or r.dst .. "/32")
      local m = byd[dst]
      assert.is_not_nil(m, dst)
      assert.are.equal(r.dev, m.dev, dst)
      assert.are.equal(H.iplink(r.dev).ifindex, m.oif, dst)
      assert.are.equal(r.metric, m.metric, dst)
      assert.are.equal(r.protocol or "boot", m.protocol, dst)
      assert.are.equal("inet", m.family)
      assert.are.equal("main", m.table)
    end
    -- a collector the script stopped stays stopped
    collectgarbage("stop")
    assert.are.equal(#ip, #cnet.route.list{family = "inet"})
    assert.is_false(collectgarbage("isrunning"))
    collectgarbage("restart")
    H.sh("ip link del " .. a)
  end)
end)

describe("cnet.route.list while routes come and go", function()
  it("never returns a half-read or doubled list", function()
    local a = H.veth("rc")
    local lines = {}
    for i = 1, 2000 do lines[#lines + 1] = ("route add 10.%d.%d.0/24 dev %s"):format(150 + i // 256, i % 256, a) end
    H.ip_batch(lines)
    local pid = H.sh(("timeout 20 sh -c 'while :; do ip route add 10.200.0.0/16 dev %s; " ..
                      "ip route del 10.200.0.0/16 dev %s; done' >/dev/null 2>&1 & echo $!"):format(b, b))
    for _ = 1, 40 do
      local seen, stable = {}, 0
      for _, r in ipairs(cnet.route.list{family = "inet"}) do
        assert.is_nil(seen[r.dst], "listed twice: " .. r.dst)
        seen[r.dst] = true
        if r.dev == a then stable = stable + 1 end
      end
      assert.are.equal(2000, stable)
    end
    H.try("kill " .. pid)
    H.sh("ip link del " .. a)
  end)
end)

describe("cnet.route.list under memory pressure", function()
  it("recovers from an out-of-memory error deep inside a big dump (read ahead by a thread)", function()
    local module = package.searchpath("cnet", package.cpath)
    local dir = module and H.oomhost_build()
    if not dir then
      pending("needs a C compiler and the built module")
      return
    end
    local a, b = H.name("roa"), H.name("rob")
    H.sh(("ip link add %s type veth peer name %s && ip link set %s up"):format(a, b, a))
    local lines = {}
    for i = 1, 2500 do lines[#lines + 1] = ("route add 10.%d.%d.0/24 dev %s"):format(170 + i // 256, i % 256, a) end
    H.ip_batch(lines)
    local script = assert(io.open(dir .. "/oom.lua", "w"))
    script:write([[
      local want = #cnet.route.list{family = "inet"}
      assert(want >= 2500, "routes missing: " .. want)
      local injected = 0
      for budget = 500, 12000, 250 do
        local ok, err = with_budget(budget, function() return cnet.route.list{family = "inet"} end)
        if not ok then
          assert(tostring(err):find("not enough memory"), tostring(err))
          injected = injected + 1
        end
        assert(collectgarbage("isrunning"), "the collector left stopped after an error")
        assert(#cnet.route.list{family = "inet"} == want, "route.list broken after an error")
        assert(#cnet.link.list() > 2, "link.list broken after an error")
      end
      assert(injected > 10, "too few failures injected: " .. injected)
      print("injected " .. injected)
    ]])
    script:close()
    local out = H.oomhost(dir, module)
    assert.truthy(out:find("^injected %d+"), out)
    H.sh("rm -rf " .. dir)
    H.sh("ip link del " .. a)
  end)
end)

describe("cnet.route.get", function()
  it("answers what the kernel would use", function()
    local br = bridge()
    H.sh("ip route add default via 192.168.50.254")
    local r = cnet.route.get("192.168.50.11")
    local ip = H.ipj("route get 192.168.50.11")[1]
    assert.are.equal(ip.dev, r.dev)
    assert.are.equal(ip.prefsrc, r.src)
    assert.is_nil(r.via)
    r = cnet.route.get("198.51.100.1")
    assert.are.equal("192.168.50.254", r.via)
    assert.are.equal("198.51.100.1/32", r.dst)
    H.sh("ip route del default")
    local ok, err = pcall(cnet.route.get, "198.51.100.1")
    assert.is_false(ok)
    assert.are.equal("ENETUNREACH", err.code)
    assert.are.equal("route.get 198.51.100.1: Network is unreachable", tostring(err))
    ok, err = pcall(cnet.route.get, "198.51.100")
    assert.are.equal("EINVAL", err.code)
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.route with nexthops (multipath)", function()
  -- Two veths up with an IPv4 and an IPv6 address each: two paths.
  local function paths()
    local a, b = H.name("mpa"), H.name("mpb")
    H.ip_batch({
      "link add " .. a .. " type veth peer name " .. a .. "p", "link add " .. b .. " type veth peer name " .. b .. "p",
      "link set " .. a .. " up", "link set " .. b .. " up", "link set " .. a .. "p up", "link set " .. b .. "p up",
      "addr add 192.168.61.1/24 dev " .. a, "addr add 192.168.62.1/24 dev " .. b,
      "addr add 2001:db8:61::1/64 dev " .. a .. " nodad", "addr add 2001:db8:62::1/64 dev " .. b .. " nodad",
    })
    return a, b
  end

  -- The next hops of either tool as "via dev weight" strings.
  local function hops(r)
    local out = {}
    for _, h in ipairs(r and r.nexthops or {}) do
      out[#out + 1] = ("%s %s %d"):format(h.gateway or h.via or "-", h.dev or "-", h.weight)
    end
    return out
  end

  it("adds IPv4 and IPv6 routes over weighted next hops that ip reads back identically", function()
    local a, b = paths()
    cnet.route.add{dst = "10.61.0.0/16", nexthops = {{via = "192.168.61.2", weight = 3},
                                                    {via = "192.168.62.2", dev = b}}}
    cnet.route.add{dst = "10.62.0.0/16", nexthops = {{dev = a}, {dev = b, weight = 2}}}
    cnet.route.add{dst = "2001:db8:99::/48", nexthops = {{via = "2001:db8:61::2", dev = a},
                                                        {via = "2001:db8:62::2", dev = b, weight = 5}}}
    local v4 = find(iproutes(), "10.61.0.0/16")
    assert.are.same({"192.168.61.2 " .. a .. " 3", "192.168.62.2 " .. b .. " 1"}, hops(v4))
    assert.are.same({"- " .. a .. " 1", "- " .. b .. " 2"}, hops(find(iproutes(), "10.62.0.0/16")))
    local v6 = find(H.ipj("-6 route show"), "2001:db8:99::/48")
    assert.are.same({"2001:db8:61::2 " .. a .. " 1", "2001:db8:62::2 " .. b .. " 5"}, hops(v6))
    local mine = cnet.route.list()
    assert.are.same(hops(v4), hops(find(mine, "10.61.0.0/16")))
    assert.are.same(hops(v6), hops(find(mine, "2001:db8:99::/48")))
    assert.is_nil(find(mine, "10.61.0.0/16").via)
    cnet.route.delete{dst = "10.61.0.0/16"}
    assert.is_nil(find(iproutes(), "10.61.0.0/16"))
    H.sh("ip link del " .. a .. " && ip link del " .. b)
  end)

  it("reads back multipath routes ip made, and replaces them", function()
    local a, b = paths()
    H.sh(("ip route add 10.63.0.0/16 nexthop via 192.168.61.7 weight 10 nexthop via 192.168.62.7 weight 20 && " ..
          "ip route add 10.64.0.0/16 table 64 nexthop dev %s nexthop via 192.168.62.8"):format(a))
    local mine = cnet.route.list{table = "all", family = "inet"}
    assert.are.same(hops(find(iproutes(), "10.63.0.0/16")), hops(find(mine, "10.63.0.0/16")))
    assert.are.same(hops(find(iproutes("table 64"), "10.64.0.0/16")), hops(find(mine, "10.64.0.0/16")))
    assert.are.same({"192.168.61.7 " .. a .. " 10", "192.168.62.7 " .. b .. " 20"},
      hops(find(mine, "10.63.0.0/16")))
    cnet.route.replace{dst = "10.63.0.0/16", nexthops = {{via = "192.168.61.9"}, {via = "192.168.62.9"}}}
    assert.are.same({"192.168.61.9 " .. a .. " 1", "192.168.62.9 " .. b .. " 1"},
      hops(find(iproutes(), "10.63.0.0/16")))
    H.sh("ip link del " .. a .. " && ip link del " .. b)
  end)

  it("rejects malformed next hops before sending anything", function()
    local a, b = paths()
    assert.has_error(function() cnet.route.add{dst = "10.65.0.0/16", via = "192.168.61.2", nexthops = {{dev = a}}} end,
      "bad argument #1 to 'add' (field 'nexthops': not with 'via' or 'dev' (give them per next hop))")
    assert.has_error(function() cnet.route.add{dst = "10.65.0.0/16", nexthops = {}} end,
      "bad argument #1 to 'add' (field 'nexthops': 1 to 256 next hops expected)")
    assert.has_error(function() cnet.route.add{dst = "10.65.0.0/16", nexthops = {{dev = a, weight = 0}}} end,
      "bad argument #1 to 'add' (field 'nexthops[1].weight': 0 out of range [1, 256])")
    assert.has_error(function() cnet.route.add{dst = "10.65.0.0/16", nexthops = {{dev = a}, {weight = 2}}} end,
      "bad argument #1 to 'add' (field 'nexthops[2].via': via or dev required)")
    assert.has_error(function() cnet.route.add{dst = "10.65.0.0/16", nexthops = {{dev = a, gw = "1.2.3.4"}}} end,
      "bad argument #1 to 'add' (field 'nexthops[1]': unknown option 'gw')")
    local ok, err = pcall(cnet.route.add, {dst = "10.65.0.0/16", nexthops = {{dev = a}, {dev = "nosuch0"}}})
    assert.are.equal("route.add 10.65.0.0/16: No such device: dev nosuch0", tostring(err))
    ok, err = pcall(cnet.route.add, {dst = "10.65.0.0/16", nexthops = {{via = "192.168.61.300"}}})
    assert.are.equal("EINVAL", err.code)
    ok, err = pcall(cnet.route.add, {dst = "10.65.0.0/16", nexthops = {{via = "10.99.0.1"}, {dev = b}}})
    assert.are.equal("ENETUNREACH", err.code) -- the kernel: gateway not reachable
    assert.is_nil(find(iproutes(), "10.65.0.0/16"))
    H.sh("ip link del " .. a .. " && ip link del " .. b)
  end)
end)
