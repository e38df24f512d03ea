-- cnet.addr: add, delete, list, flush, checked against `ip -j addr` and `ip -j route`.
local cnet = require "cnet"

local function ipaddrs(dev, ns)
  local out = {}
  for _, l in ipairs(H.ipj("addr show dev " .. dev, ns)) do
    for _, a in ipairs(l.addr_info) do
      out[#out + 1] = a
    end
  end
  return out
end

local function find(list, local_)
  for _, a in ipairs(list) do
    if (a["local"] or a.address) == local_ then return a end
  end
end

local function bridge()
  local br = H.name("abr")
  H.sh("ip link add " .. br .. " type bridge && ip link set " .. br .. " up")
  return br
end

describe("cnet.addr.add", function()
  it("adds an IPv4 address with broadcast '+', and the kernel adds its connected route", function()
    local br = bridge()
    cnet.addr.add(br, "192.168.1.10/24", {broadcast = "+"})
    local a = find(ipaddrs(br), "192.168.1.10")
    assert.are.equal(24, a.prefixlen)
    assert.are.equal("192.168.1.255", a.broadcast)
    assert.are.equal("global", a.scope)
    local found
    for _, r in ipairs(H.ipj("route show dev " .. br)) do
      if r.dst == "192.168.1.0/24" then found = r end
    end
    assert.are.equal("kernel", found.protocol)
    assert.are.equal("link", found.scope)
    assert.are.equal("192.168.1.10", found.prefsrc)
    H.sh("ip link del " .. br)
  end)

  it("takes an explicit broadcast, a label, a scope and lifetimes; IPv6 too", function()
    local br = bridge()
    cnet.addr.add(br, "10.1.0.1/16", {broadcast = "10.1.0.255", label = br .. ":a", scope = "link"})
    cnet.addr.add(br, "2001:db8::1/64", {valid_lft = 600, preferred_lft = 300})
    local list = ipaddrs(br)
    local a = find(list, "10.1.0.1")
    assert.are.equal("10.1.0.255", a.broadcast)
    assert.are.equal(br .. ":a", a.label)
    assert.are.equal("link", a.scope)
    local b = find(list, "2001:db8::1")
    assert.are.equal(64, b.prefixlen)
    assert.is_true(b.valid_life_time <= 600 and b.valid_life_time > 500)
    assert.is_true(b.preferred_life_time <= 300)
    H.sh("ip link del " .. br)
  end)

  it("takes the device as an ifindex too", function()
    local br = bridge()
    local index = H.iplink(br).ifindex
    cnet.addr.add(index, "10.2.0.1/16")
    assert.is_not_nil(find(ipaddrs(br), "10.2.0.1"))
    assert.are.equal(1, #cnet.addr.list{dev = index, family = "inet"})
    assert.are.equal(1, #cnet.addr.list(index, {family = "inet"}))
    local ok, err = pcall(cnet.addr.add, index, "10.2.0.1/16")
    assert.is_false(ok)
    assert.are.equal(tostring(index), err.object)
    cnet.addr.delete(index, "10.2.0.1/16")
    assert.is_nil(find(ipaddrs(br), "10.2.0.1"))
    H.sh("ip link del " .. br)
  end)

  it("works inside a namespace handle", function()
    local nsname = H.name("ans")
    local ns <close> = cnet.netns.add(nsname)
    ns.addr.add("lo", "127.0.0.2/8")
    assert.is_not_nil(find(ipaddrs("lo", nsname), "127.0.0.2"))
    assert.is_nil(find(ipaddrs("lo"), "127.0.0.2"))
  end)

  it("raises EEXIST for an address the device has, and ENODEV for a missing device", function()
    local br = bridge()
    H.sh("ip addr add 192.168.7.1/24 dev " .. br)
    local ok, err = pcall(cnet.addr.add, br, "192.168.7.1/24")
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("addr.add", err.op)
    assert.are.equal(br, err.object)
    assert.truthy(tostring(err):find("^addr%.add " .. br .. ": File exists"))
    ok, err = pcall(cnet.addr.add, "nosuch0", "192.168.7.2/24")
    assert.are.equal("ENODEV", err.code)
    assert.are.equal("addr.add nosuch0: No such device", tostring(err))
    H.sh("ip link del " .. br)
  end)

  it("rejects malformed addresses and prefixes, adding nothing", function()
    local br = bridge()
    for _, bad in ipairs{"192.168.1.300/24", "192.168.1.1/33", "192.168.1.1/", "1.2.3/8",
                         "2001:db8::1/129", "2001:db8:::1/64", "fe80::1/6x", "br0", ""} do
      local ok, err = pcall(cnet.addr.add, br, bad)
      assert.is_false(ok, bad)
      assert.are.equal("EINVAL", err.code)
      assert.are.equal(("addr.add %s: Invalid argument: invalid address '%s'"):format(br, bad),
        tostring(err))
    end
    local ok, err = pcall(cnet.addr.add, br, "2001:db8::2/64", {broadcast = "+"})
    assert.is_false(ok)
    assert.are.equal("EINVAL", err.code)
    ok, err = pcall(cnet.addr.add, br, "10.0.0.1/8", {broadcast = "10.0.0.300"})
    assert.are.equal("EINVAL", err.code)
    assert.has_error(function() cnet.addr.add(br, "10.0.0.1/8", {brd = "+"}) end,
      "bad argument #3 to 'add' (unknown option 'brd')")
    assert.has_error(function() cnet.addr.add(br, 10) end,
      "bad argument #2 to 'add' (address: string expected, got number)")
    -- only the kernel's own link-local IPv6 address, nothing of ours
    for _, a in ipairs(ipaddrs(br)) do assert.are.equal("link", a.scope) end
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.addr.delete", function()
  it("removes an address", function()
    local br = bridge()
    H.sh("ip addr add 192.168.8.1/24 dev " .. br)
    cnet.addr.delete(br, "192.168.8.1/24")
    assert.is_nil(find(ipaddrs(br), "192.168.8.1"))
    local ok, err = pcall(cnet.addr.delete, br, "192.168.8.1/24")
    assert.is_false(ok)
    assert.are.equal("EADDRNOTAVAIL", err.code)
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.addr.list", function()
  it("lists what ip lists, filtered by device and family", function()
    local br = bridge()
    H.sh("ip addr add 192.168.9.1/24 brd + dev " .. br .. " && ip addr add 2001:db8:9::1/64 dev " .. br)
    local all = cnet.addr.list()
    local count = 0
    for _, l in ipairs(H.ipj("addr show")) do count = count + #l.addr_info end
    assert.are.equal(count, #all)
    local mine = cnet.addr.list(br)
    assert.are.equal(#ipaddrs(br), #mine)
    local v4 = cnet.addr.list{dev = br, family = "inet"}
    assert.are.equal(1, #v4)
    assert.are.same({dev = br, index = H.iplink(br).ifindex, family = "inet",
                     address = "192.168.9.1", prefix = 24, cidr = "192.168.9.1/24",
                     broadcast = "192.168.9.255", scope = "global", label = br}, v4[1])
    local v6 = cnet.addr.list(br, {family = "inet6"})
    for _, a in ipairs(v6) do assert.are.equal("inet6", a.family) end
    assert.are.equal(#ipaddrs(br) - 1, #v6)
    assert.has_error(function() cnet.addr.list{family = "ipx"} end,
      "bad argument #1 to 'list' (field 'family': unknown family 'ipx' (inet or inet6))")
    local ok, err = pcall(cnet.addr.list, "nosuch0")
    assert.are.equal("ENODEV", err.code)
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.addr.flush", function()
  it("removes every address of one family from a device", function()
    local br = bridge()
    H.sh("ip addr add 192.168.10.1/24 dev " .. br .. " && ip addr add 192.168.10.2/24 dev " .. br ..
         " && ip addr add 172.16.0.1/12 dev " .. br .. " && ip addr add 2001:db8:a::1/64 dev " .. br)
    assert.are.equal(3, cnet.addr.flush(br, {family = "inet"}))
    for _, a in ipairs(ipaddrs(br)) do assert.are.equal("inet6", a.family) end
    assert.is_not_nil(find(ipaddrs(br), "2001:db8:a::1"))
    cnet.addr.flush(br)
    assert.are.same({}, ipaddrs(br))
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.addr flags and lifetimes", function()
  -- The flag fields ip -j shows, and cnet's listing of the same address.
  local flag_names = {"secondary", "temporary", "nodad", "optimistic", "dadfailed", "home",
                      "deprecated", "tentative", "mngtmpaddr", "noprefixroute", "autojoin",
                      "stable_privacy", "dynamic"}
  local function flags(a)
    local out = {}
    for _, f in ipairs(flag_names) do
      if a[f] or a[f:gsub("_", "-")] then out[#out + 1] = f end
    end
    return table.concat(out, " ")
  end

  it("adds nodad, noprefixroute and home addresses with lifetimes, as ip shows them", function()
    local br = bridge()
    cnet.addr.add(br, "2001:db8:f::1/64", {nodad = true, noprefixroute = true, home = true,
                                            valid_lft = 600, preferred_lft = 300})
    cnet.addr.add(br, "2001:db8:e::1/64")              -- on an up device: tentative while DAD runs
    cnet.addr.add(br, "192.168.20.1/24", {noprefixroute = true, valid_lft = "forever"})
    local list = ipaddrs(br)
    local a = find(list, "2001:db8:f::1")
    assert.are.equal("nodad home noprefixroute dynamic", flags(a))
    assert.is_true(a.valid_life_time <= 600 and a.valid_life_time > 500)
    assert.is_true(a.preferred_life_time <= 300 and a.preferred_life_time > 200)
    assert.are.equal("tentative", flags(find(list, "2001:db8:e::1")))
    local v4 = find(list, "192.168.20.1")
    assert.are.equal("noprefixroute", flags(v4))
    assert.are.equal(4294967295, v4.valid_life_time)
    -- noprefixroute: the kernel added no connected route for either
    assert.are.same({}, H.ipj("-6 route show 2001:db8:f::/64 dev " .. br))
    assert.are.same({}, H.ipj("route show 192.168.20.0/24"))
    assert.are.equal(1, #H.ipj("-6 route show 2001:db8:e::/64 dev " .. br))
    -- cnet lists the same flags and lifetimes
    local mine = {}
    for _, m in ipairs(cnet.addr.list(br)) do mine[m.address] = m end
    assert.are.equal("nodad home noprefixroute dynamic", flags(mine["2001:db8:f::1"]))
    assert.is_true(mine["2001:db8:f::1"].valid_lft <= 600 and mine["2001:db8:f::1"].preferred_lft <= 300)
    assert.are.equal("noprefixroute", flags(mine["192.168.20.1"]))
    assert.is_nil(mine["192.168.20.1"].valid_lft) -- forever: not listed
    H.sh("ip link del " .. br)
  end)

  it("lists every flag of addresses ip made exactly as ip -j does", function()
    local br = bridge()
    H.ip_batch({
      "addr add 192.168.21.1/24 dev " .. br,
      "addr add 192.168.21.2/24 dev " .. br .. " valid_lft 100 preferred_lft 0",
      "addr add 2001:db8:21::1/64 dev " .. br .. " nodad mngtmpaddr",
      "addr add 2001:db8:22::1/64 dev " .. br .. " optimistic noprefixroute",
      "addr add 2001:db8:23::1/64 dev " .. br .. " nodad home valid_lft 300 preferred_lft 100",
    })
    local theirs, mine = {}, {}
    for _, a in ipairs(ipaddrs(br)) do theirs[a["local"]] = flags(a) end
    for _, a in ipairs(cnet.addr.list(br)) do mine[a.address] = flags(a) end
    -- preferred_lft 0 makes it deprecated; the second IPv4 address of a subnet is secondary
    assert.are.equal("secondary deprecated dynamic", mine["192.168.21.2"])
    assert.are.equal("nodad mngtmpaddr", mine["2001:db8:21::1"])
    assert.are.same(theirs, mine)
    H.sh("ip link del " .. br)
  end)

  it("rejects bad lifetimes and flags", function()
    local br = bridge()
    assert.has_error(function() cnet.addr.add(br, "10.9.0.1/24", {valid_lft = 10, preferred_lft = 20}) end,
      "bad argument #3 to 'add' (lifetimes: preferred_lft must not exceed valid_lft)")
    assert.has_error(function() cnet.addr.add(br, "10.9.0.1/24", {valid_lft = "never"}) end,
      "bad argument #3 to 'add' (field 'valid_lft': seconds or \"forever\" expected)")
    assert.has_error(function() cnet.addr.add(br, "10.9.0.1/24", {valid_lft = -5}) end,
      "bad argument #3 to 'add' (field 'valid_lft': -5 out of range [0, 4294967295])")
    assert.has_error(function() cnet.addr.add(br, "10.9.0.1/24", {nodad = "yes"}) end,
      "bad argument #3 to 'add' (field 'nodad': boolean expected, got string)")
    assert.has_error(function() cnet.addr.add(br, "10.9.0.1/24", {tentative = true}) end,
      "bad argument #3 to 'add' (unknown option 'tentative')")
    for _, a in ipairs(ipaddrs(br)) do assert.are.equal("inet6", a.family) end
    H.sh("ip link del " .. br)
  end)
end)
