-- cnet as a CNI plugin, driven the way a runtime drives it (tests/spec/support/cni.lua:
-- environment, stdin, stdout): ADD, DEL, VERSION, CHECK, STATUS, GC, the results of every
-- spec version, the runtimes' habits (DEL twice, after a failed ADD, for an unknown
-- container, without a namespace), bad input, chaining, delegated IPAM, the Lua API and
-- `cnet cni`. Every effect is checked with ip -j, nft -j and the state file.
local D = dofile(H.source .. "/tests/spec/support/cni.lua")
local cnet = require "cnet"

teardown(function() os.execute("rm -rf " .. D.tmp) end)

local netns = D.netns

-- ip -j uses "local" as a key, which H.json keeps; a small accessor reads it.
local function inet_addrs(dev, ns)
  local out = {}
  for _, a in ipairs(H.ipj("addr show dev " .. dev, ns)[1].addr_info) do
    if a.family == "inet" then out[#out + 1] = {cidr = a["local"] .. "/" .. a.prefixlen, brd = a.broadcast} end
  end
  return out
end

local function routes(ns)
  local out = {}
  for _, r in ipairs(H.ipj("route", ns)) do out[#out + 1] = r.dst .. (r.gateway and (" via " .. r.gateway) or "") end
  table.sort(out)
  return table.concat(out, ", ")
end

describe("cnet CNI plugin VERSION", function()
  it("lists the spec versions it speaks and echoes the configuration's", function()
    local out = D.ok("VERSION", '{"cniVersion": "1.0.0"}')
    assert.are.equal("1.0.0", out.cniVersion)
    assert.are.same({"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}, out.supportedVersions)
    -- podman sends VERSION with a dummy namespace and nothing else of interest
    out = D.ok("VERSION", '{"cniVersion": "1.1.0"}', {netns = "dummy"})
    assert.are.equal("1.1.0", out.cniVersion)
  end)
end)

describe("cnet CNI plugin ADD and DEL", function()
  local conf = D.conf("add1", "10.90.0.0/24")

  it("attaches a container: veth, address with broadcast, routes, gateway, forwarding, masquerade", function()
    netns("a1")
    local r = D.ok("ADD", conf, {id = "a1"})
    assert.are.equal("1.0.0", r.cniVersion)
    assert.are.equal(3, #r.interfaces)
    assert.are.equal("br-add1", r.interfaces[1].name)
    assert.are.equal("eth0", r.interfaces[3].name)
    assert.are.equal("/run/netns/a1", r.interfaces[3].sandbox)
    assert.are.same({{address = "10.90.0.2/24", gateway = "10.90.0.1", interface = 2}}, r.ips)
    assert.are.same({{dst = "0.0.0.0/0"}}, r.routes)
    -- the container, seen by ip
    assert.are.same({{cidr = "10.90.0.2/24", brd = "10.90.0.255"}}, inet_addrs("eth0", "a1"))
    assert.are.equal(r.interfaces[3].mac, H.iplink("eth0", "a1").address)
    assert.are.equal("10.90.0.0/24, default via 10.90.0.1", routes("a1"))
    -- the host: the bridge with the gateway, the host veth on it, forwarding on
    local host = r.interfaces[2].name
    assert.truthy(host:match("^veth%x%x%x%x%x%x%x%x$"))
    assert.are.equal("br-add1", H.iplink(host).master)
    -- one queue each way on both ends (made so, not cut down afterwards)
    local hd, cd = H.ipj("-d link show " .. host)[1], H.ipj("-d link show eth0", "a1")[1]
    assert.are.same({1, 1, 1, 1}, {hd.num_tx_queues, hd.num_rx_queues, cd.num_tx_queues, cd.num_rx_queues})
    assert.are.same({{cidr = "10.90.0.1/24", brd = "10.90.0.255"}}, inet_addrs("br-add1"))
    assert.are.equal("1", H.sh("cat /proc/sys/net/ipv4/ip_forward"))
    -- the container reaches its gateway
    assert.is_number((cnet.netns.open("a1").ping("10.90.0.1") or {}).s) -- a round-trip time
    -- masquerade: the network's own table, by the container's subnet
    local t = D.nft("add1")
    assert.are.same({"10.90.0.0/24"}, t.sets.nets4)
    assert.truthy(H.sh("nft list chain inet cnet-add1 postrouting")
      :find("ip saddr @nets4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade", 1, true))
    -- the lease
    assert.are.equal("a1/eth0", D.state("add1").leases["10.90.0.2"])
  end)

  it("gives the next container the next address; DEL of one leaves the other whole", function()
    netns("a2")
    local r = D.ok("ADD", conf, {id = "a2"})
    assert.are.equal("10.90.0.3/24", r.ips[1].address)
    D.ok("DEL", conf, {id = "a1"})
    assert.is_nil(D.links("a1").eth0)
    assert.are.same({"10.90.0.0/24"}, D.nft("add1").sets.nets4) -- a2 needs the subnet
    assert.is_nil(D.state("add1").leases["10.90.0.2"])
    assert.is_number((cnet.netns.open("a2").ping("10.90.0.1") or {}).s)
  end)

  it("removes everything the network made with its last DEL: veth, table, bridge, leases", function()
    D.ok("DEL", conf, {id = "a2"})
    assert.is_nil(D.links("a2").eth0)
    assert.is_nil(H.iplink("br-add1"))
    assert.is_nil(D.nft("add1"))
    local st = D.state("add1")
    assert.are.equal(0, D.count(st.leases))
    assert.are.equal(0, D.count(st.attachments))
    for name, l in pairs(D.links()) do assert.is_nil(name:match("^veth"), name .. " left behind") end
  end)

  it("leaves a bridge it did not create in place", function()
    H.sh("ip link add br-keep type bridge")
    netns("a3")
    local c = D.conf("keep", "10.91.0.0/24", {bridge = "br-keep"})
    D.ok("ADD", c, {id = "a3"})
    D.ok("DEL", c, {id = "a3"})
    assert.is_not_nil(H.iplink("br-keep"))
    H.sh("ip link del br-keep")
  end)

  it("answers in the configuration's version: 0.3.1 and 0.4.0 carry ips[].version, 1.1.0 the mtu", function()
    for _, v in ipairs{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"} do
      local ns = netns("v" .. v:gsub("%.", ""))
      local c = D.conf("ver", "10.92.0.0/24", {cniVersion = v})
      local r = D.ok("ADD", c, {id = ns})
      assert.are.equal(v, r.cniVersion)
      if v < "1.0.0" then
        assert.are.equal("4", r.ips[1].version)
      else
        assert.is_nil(r.ips[1].version)
      end
      if v == "1.1.0" then
        assert.are.equal(1500, r.interfaces[3].mtu)
      else
        assert.is_nil(r.interfaces[3].mtu)
      end
      D.ok("DEL", c, {id = ns})
    end
  end)

  it("sets hairpin mode on the host veth and promiscuous mode on the bridge when asked", function()
    netns("hp1")
    local c = D.conf("hairpin", "10.93.1.0/24", {hairpinMode = true, promiscMode = true})
    local r = D.ok("ADD", c, {id = "hp1"})
    local port = H.json(H.sh("bridge -j -d link show dev " .. r.interfaces[2].name))[1]
    assert.is_true(port.hairpin)
    assert.are.equal(1, H.iplink("br-hairpin").promiscuity)
    D.ok("DEL", c, {id = "hp1"})
  end)

  it("gives an IPv4 and an IPv6 address from two range sets; both gateways answer at once", function()
    netns("six1")
    local c = D.conf("six", "10.93.2.0/24", {cniVersion = "1.1.0"})
    c.ipam = {type = "cnet", ranges = {{{subnet = "10.93.2.0/24"}}, {{subnet = "fd00:93::/64"}}},
              routes = {{dst = "0.0.0.0/0"}, {dst = "::/0"}}}
    local r = D.ok("ADD", c, {id = "six1"})
    assert.are.same({address = "10.93.2.2/24", gateway = "10.93.2.1", interface = 2}, r.ips[1])
    assert.are.same({address = "fd00:93::2/64", gateway = "fd00:93::1", interface = 2}, r.ips[2])
    local six = {}
    for _, a in ipairs(H.ipj("-6 addr show dev eth0", "six1")[1].addr_info) do
      -- (tentative for the few milliseconds until the veth's carrier is up: no DAD follows)
      if a.scope == "global" then six[#six + 1] = a["local"] .. "/" .. a.prefixlen end
    end
    assert.are.same({"fd00:93::2/64"}, six)
    assert.truthy(H.sh("ip -n six1 -6 route show default"):find("via fd00:93::1 dev eth0", 1, true))
    local ns = cnet.netns.open("six1")
    assert.is_number((ns.ping("fd00:93::1", {timeout = 1}) or {}).s)
    assert.is_number((ns.ping("10.93.2.1", {timeout = 1}) or {}).s)
    assert.are.same({"fd00:93::/64"}, D.nft("six").sets.nets6)
    assert.are.equal("1", H.sh("cat /proc/sys/net/ipv6/conf/all/forwarding"))
    D.ok("DEL", c, {id = "six1"})
    assert.is_nil(D.nft("six"))
  end)

  it("applies mtu to both veth ends and the bridge it creates", function()
    netns("m1")
    local c = D.conf("mtu", "10.93.0.0/24", {mtu = 1400})
    local r = D.ok("ADD", c, {id = "m1"})
    assert.are.equal(1400, H.iplink("eth0", "m1").mtu)
    assert.are.equal(1400, H.iplink(r.interfaces[2].name).mtu)
    assert.are.equal(1400, H.iplink("br-mtu").mtu)
    D.ok("DEL", c, {id = "m1"})
  end)
end)

describe("cnet CNI plugin default gateway", function()
  it("isDefaultGateway: the gateway on the bridge and a default route via it, though isGateway is off", function()
    netns("dg1")
    local c = D.conf("dgw", "10.106.0.0/24", {isGateway = false, isDefaultGateway = true,
                                             ipam = {type = "cnet", subnet = "10.106.0.0/24"}})
    local r = D.ok("ADD", c, {id = "dg1"})
    assert.are.same({{dst = "0.0.0.0/0", gw = "10.106.0.1"}}, r.routes)
    assert.are.equal("10.106.0.0/24, default via 10.106.0.1", routes("dg1"))
    assert.are.same({{cidr = "10.106.0.1/24", brd = "10.106.0.255"}}, inet_addrs("br-dgw"))
    assert.are.equal("1", H.sh("cat /proc/sys/net/ipv4/ip_forward"))
    assert.is_number((cnet.netns.open("dg1").ping("10.106.0.1") or {}).s)
    D.ok("DEL", c, {id = "dg1"})
  end)

  it("adds no second default route when IPAM gives one, and none at all without it or isGateway", function()
    netns("dg2")
    local c = D.conf("dgw2", "10.106.1.0/24", {isDefaultGateway = true})
    c.ipam.routes = {{dst = "0.0.0.0/0", gw = "10.106.1.254"}}
    local r = D.ok("ADD", c, {id = "dg2"})
    assert.are.same({{dst = "0.0.0.0/0", gw = "10.106.1.254"}}, r.routes)
    assert.are.equal("10.106.1.0/24, default via 10.106.1.254", routes("dg2"))
    D.ok("DEL", c, {id = "dg2"})
    -- neither key: an address and its subnet's route, nothing on the bridge
    netns("dg3")
    c = D.conf("dgw3", "10.106.2.0/24", {isGateway = false, ipMasq = false,
                                         ipam = {type = "cnet", subnet = "10.106.2.0/24"}})
    r = D.ok("ADD", c, {id = "dg3"})
    assert.are.same({}, r.routes or {})
    assert.are.equal("10.106.2.0/24", routes("dg3"))
    assert.are.same({}, inet_addrs("br-dgw3"))
    D.ok("DEL", c, {id = "dg3"})
  end)
end)

describe("cnet CNI plugin requested addresses", function()
  local conf = D.conf("req", "10.107.0.0/24")
  local args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;IP=10.107.0.9"

  it("CNI_ARGS IP= gives the container that address", function()
    netns("q1")
    local r = D.ok("ADD", conf, {id = "q1", args = args})
    assert.are.same({address = "10.107.0.9/24", gateway = "10.107.0.1", interface = 2}, r.ips[1])
    assert.are.same({{cidr = "10.107.0.9/24", brd = "10.107.0.255"}}, inet_addrs("eth0", "q1"))
    assert.are.equal("q1/eth0", D.state("req").leases["10.107.0.9"])
    assert.are.same({"10.107.0.0/24"}, D.nft("req").sets.nets4)
  end)

  it("refuses a taken address or the gateway with code 102, an address outside the ranges with 7, and makes nothing", function()
    netns("q2")
    local function refused(a, code, details)
      local c, out = D.cni("ADD", conf, {id = "q2", args = "IP=" .. a})
      assert.are.equal(1, c)
      assert.are.equal(code, out.code, D.json(out))
      assert.truthy(out.details:find(details, 1, true), out.details)
      assert.is_nil(D.links("q2").eth0)
      assert.is_nil(D.state("req").attachments["q2/eth0"])
      assert.are.same({["10.107.0.9"] = "q1/eth0"}, D.state("req").leases)
    end
    refused("10.107.0.9", 102, "10.107.0.9 is leased to q1/eth0")
    refused("10.107.0.1", 102, "10.107.0.1 is the gateway")
    refused("192.0.2.5", 7, "192.0.2.5 is in no range of the network (10.107.0.1-10.107.0.254)")
    refused("10.107.0.20,10.107.0.21", 7, "10.107.0.21: another address of its range set was asked for first")
    assert.are.same({"10.107.0.0/24"}, D.nft("req").sets.nets4)
  end)

  it("the ips capability (runtimeConfig.ips) gives the container that address", function()
    local c = D.conf("req", "10.107.0.0/24", {runtimeConfig = {ips = {"10.107.0.20/24"}}})
    local r = D.ok("ADD", c, {id = "q2"})
    assert.are.equal("10.107.0.20/24", r.ips[1].address)
    assert.are.same({{cidr = "10.107.0.20/24", brd = "10.107.0.255"}}, inet_addrs("eth0", "q2"))
    assert.are.equal("q2/eth0", D.state("req").leases["10.107.0.20"])
    D.ok("DEL", c, {id = "q2"})
    D.ok("DEL", conf, {id = "q1"})
    assert.are.equal(0, D.count(D.state("req").leases))
  end)
end)

describe("cnet CNI plugin under the runtimes' habits", function()
  local conf = D.conf("habits", "10.94.0.0/24")

  it("DEL twice succeeds and changes nothing the second time", function()
    netns("h1")
    D.ok("ADD", conf, {id = "h1"})
    D.ok("DEL", conf, {id = "h1"})
    D.ok("DEL", conf, {id = "h1"})
    assert.is_nil(D.nft("habits"))
  end)

  it("DEL of a container it never saw succeeds", function()
    D.ok("DEL", conf, {id = "never-seen", netns = false})
    D.ok("DEL", conf, {id = "never-seen", netns = "/run/netns/never-seen"})
  end)

  it("DEL with an empty CNI_NETNS after the namespace is gone removes the masquerade and the lease", function()
    netns("h2")
    netns("h3")
    local r = D.ok("ADD", conf, {id = "h2"})
    local r3 = D.ok("ADD", conf, {id = "h3"})
    local ip2, ip3 = r.ips[1].address:match("^[^/]+"), r3.ips[1].address:match("^[^/]+")
    local host = r.interfaces[2].name
    H.sh("ip netns del h2")
    -- the kernel frees the namespace, and the veth pair with it, once nothing holds it
    for _ = 1, 100 do
      if not H.iplink(host) then break end
      os.execute("sleep 0.05")
    end
    assert.is_nil(H.iplink(host))
    local subnet = D.nft("habits").sets.nets4
    assert.are.equal(1, #subnet)
    D.ok("DEL", conf, {id = "h2", netns = false, env = {CNI_NETNS = ""}})
    assert.are.same(subnet, D.nft("habits").sets.nets4) -- h3 needs it
    assert.is_nil(D.state("habits").leases[ip2])
    assert.is_nil(D.state("habits").attachments["h2/eth0"])
    assert.are.equal(ip3, next(D.state("habits").leases))
    D.ok("DEL", conf, {id = "h3"})
    assert.is_nil(D.nft("habits")) -- the masquerade goes with the last container
  end)

  it("a failed ADD leaves nothing behind, and the DEL that follows succeeds", function()
    netns("h4")
    H.sh("ip -n h4 link add eth0 type veth peer name other0") -- the name is taken inside
    local code, out = D.cni("ADD", conf, {id = "h4"})
    assert.are.equal(1, code)
    assert.are.equal(100, out.code)
    assert.truthy(out.details:find("already has an interface eth0", 1, true))
    assert.are.equal(0, D.count(D.state("habits").leases))
    assert.are.equal(0, D.count(D.state("habits").attachments))
    for name in pairs(D.links()) do assert.is_nil(name:match("^veth"), name .. " left behind") end
    assert.is_nil(D.nft("habits"))
    D.ok("DEL", conf, {id = "h4"})
    -- DEL removed the container's eth0: it is a veth named as asked (the spec lets DEL
    -- delete CNI_IFNAME); the plugin cannot tell it was not its own, neither can the reference
  end)

  it("ADD again for an attachment whose state is stale replaces it", function()
    netns("h5")
    D.ok("ADD", conf, {id = "h5"})
    H.sh("ip netns del h5")
    netns("h5")
    local r = D.ok("ADD", conf, {id = "h5"})
    assert.are.equal(1, D.count(D.state("habits").attachments))
    assert.are.equal(1, D.count(D.state("habits").leases))
    assert.are.equal(r.ips[1].address:match("^[^/]+"), next(D.state("habits").leases))
    assert.are.equal(1, #D.nft("habits").sets.nets4)
    D.ok("DEL", conf, {id = "h5"})
  end)
end)

describe("cnet CNI plugin CHECK", function()
  local conf = D.conf("chk", "10.95.0.0/24")
  conf.cniVersion = "1.1.0"
  local prev

  local function check()
    local c = {}
    for k, v in pairs(conf) do c[k] = v end
    c.prevResult = prev
    return D.cni("CHECK", c, {id = "k1"})
  end

  it("is silent after ADD", function()
    netns("k1")
    prev = D.ok("ADD", conf, {id = "k1"})
    local code, out, err = check()
    assert.are.equal(0, code, D.json(out) .. err)
    assert.are.equal("", out)
  end)

  it("reports a missing address, route and masquerade element, each by name", function()
    H.sh("ip -n k1 route del default")
    H.sh("nft delete element inet cnet-chk nets4 { 10.95.0.0/24 }")
    local code, out = check()
    assert.are.equal(1, code)
    assert.are.equal(101, out.code)
    assert.truthy(out.details:find("route 0.0.0.0/0 is missing", 1, true), out.details)
    assert.truthy(out.details:find("10.95.0.0/24 is missing from set inet cnet-chk nets4 (no masquerade)", 1, true), out.details)
    H.sh("ip -n k1 addr del 10.95.0.2/24 dev eth0")
    code, out = check()
    assert.truthy(out.details:find("address 10.95.0.2/24 is missing from eth0", 1, true), out.details)
  end)

  it("reports a host veth taken off the bridge, and a namespace that is gone as code 3", function()
    H.sh("ip link set " .. prev.interfaces[2].name .. " nomaster")
    local _, out = check()
    assert.truthy(out.details:find("not on bridge br-chk", 1, true), out.details)
    H.sh("ip netns del k1")
    local code
    code, out = check()
    assert.are.equal(1, code)
    assert.are.equal(3, out.code)
    D.ok("DEL", conf, {id = "k1", netns = false})
  end)

  it("needs prevResult and a 0.4.0 or later configuration", function()
    netns("k2")
    local _, out = D.cni("CHECK", conf, {id = "k2"})
    assert.are.equal(7, out.code)
    local old = D.conf("chk", "10.95.0.0/24", {cniVersion = "0.3.1", prevResult = {}})
    _, out = D.cni("CHECK", old, {id = "k2"})
    assert.are.equal(1, out.code)
  end)
end)

describe("cnet CNI plugin GC and STATUS", function()
  local conf = D.conf("gc", "10.96.0.0/29", {cniVersion = "1.1.0"})

  it("GC removes leases, veths and nft entries of attachments not listed as valid", function()
    local hosts = {}
    for i = 1, 3 do
      netns("g" .. i)
      hosts[i] = D.ok("ADD", conf, {id = "g" .. i}).interfaces[2].name
    end
    local c = {}
    for k, v in pairs(conf) do c[k] = v end
    c["cni.dev/valid-attachments"] = {{containerID = "g2", ifname = "eth0"}}
    D.ok("GC", c)
    local st = D.state("gc")
    assert.are.same({"g2/eth0"}, (function() local t = {} for k in pairs(st.attachments) do t[#t + 1] = k end return t end)())
    assert.are.equal(1, D.count(st.leases))
    assert.are.same({"10.96.0.0/29"}, D.nft("gc").sets.nets4)
    assert.is_nil(H.iplink(hosts[1]))
    assert.is_not_nil(H.iplink(hosts[2]))
    assert.is_nil(H.iplink(hosts[3]))
  end)

  it("GC also removes nft entries nobody recorded", function()
    H.sh("nft add element inet cnet-gc nets4 { 10.97.0.0/24 }")
    local c = {}
    for k, v in pairs(conf) do c[k] = v end
    c["cni.dev/valid-attachments"] = {{containerID = "g2", ifname = "eth0"}}
    D.ok("GC", c)
    assert.are.same({"10.96.0.0/29"}, D.nft("gc").sets.nets4)
  end)

  it("STATUS is ready while addresses are free and says 50 when the pool is exhausted", function()
    local code, out = D.cni("STATUS", conf)
    assert.are.equal(0, code, D.json(out))
    -- a /29 leaves .2 to .6 once the gateway (.1) is set aside: g2 holds one, four more fit
    for i = 4, 7 do
      netns("g" .. i)
      D.ok("ADD", conf, {id = "g" .. i})
    end
    code, out = D.cni("STATUS", conf)
    assert.are.equal(1, code)
    assert.are.equal(50, out.code)
    assert.truthy(out.details:find("no free address", 1, true))
  end)

  it("ADD on an exhausted pool fails with code 102 and makes nothing", function()
    netns("g8")
    local before = D.count(D.links())
    local code, out = D.cni("ADD", conf, {id = "g8"})
    assert.are.equal(1, code)
    assert.are.equal(102, out.code)
    assert.are.equal(before, D.count(D.links()))
    assert.is_nil(D.state("gc").attachments["g8/eth0"])
  end)

  it("ADD on an exhausted pool reclaims leases whose namespace and veth are gone", function()
    H.sh("ip netns del g4")
    for _ = 1, 100 do
      if D.count(D.state("gc").attachments) == 0 then break end
      local gone = true
      for name, l in pairs(D.links()) do
        if name:match("^veth") and not l.master then gone = false end
      end
      if H.try("ip netns exec g8 true") and gone then break end
      os.execute("sleep 0.05")
    end
    local r
    for _ = 1, 40 do -- the kernel removes the veth pair shortly after the namespace
      local code, out = D.cni("ADD", conf, {id = "g8"})
      if code == 0 then r = out break end
      os.execute("sleep 0.05")
    end
    assert.is_not_nil(r)
    assert.is_nil(D.state("gc").attachments["g4/eth0"])
    for i = 2, 8 do
      if i ~= 3 and i ~= 4 then D.ok("DEL", conf, {id = "g" .. i}) end
    end
    assert.is_nil(D.nft("gc"))
  end)

  it("STATUS and GC need a 1.1.0 configuration", function()
    local c = D.conf("gc", "10.96.0.0/29", {cniVersion = "1.0.0"})
    local _, out = D.cni("STATUS", c)
    assert.are.equal(1, out.code)
    _, out = D.cni("GC", c)
    assert.are.equal(1, out.code)
  end)
end)

describe("cnet CNI plugin bad input", function()
  local conf = D.conf("bad", "10.97.0.0/24")

  local before
  setup(function() before = D.links() end)

  local function nothing_made()
    assert.is_nil(H.iplink("br-bad"))
    assert.is_nil(D.nft("bad"))
    local st = D.state("bad")
    if st then
      assert.are.equal(0, D.count(st.leases))
      assert.are.equal(0, D.count(st.attachments))
    end
    for name in pairs(D.links()) do assert.is_not_nil(before[name], name .. " left behind") end
  end

  it("refuses malformed JSON with code 6", function()
    netns("b1")
    local code, out = D.cni("ADD", '{"cniVersion": "1.0.0", "name": ', {id = "b1"})
    assert.are.equal(1, code)
    assert.are.equal(6, out.code)
    assert.are.equal("cannot decode the network configuration", out.msg)
    _, out = D.cni("ADD", "[1, 2]", {id = "b1"})
    assert.are.equal(6, out.code)
    nothing_made()
  end)

  it("refuses unknown keys with code 2, naming the key and its value", function()
    local c = D.conf("bad", "10.97.0.0/24", {isGatway = true})
    local _, out = D.cni("ADD", c, {id = "b1"})
    assert.are.equal(2, out.code)
    assert.are.equal("unknown field isGatway", out.msg)
    assert.are.equal("isGatway = true", out.details)
    c = D.conf("bad", "10.97.0.0/24", {vlan = 100})
    _, out = D.cni("ADD", c, {id = "b1"})
    assert.are.equal(2, out.code)
    assert.are.equal("field vlan is not supported by cnet's bridge recipe", out.msg)
    c = D.conf("bad", "10.97.0.0/24")
    c.ipam.rangeBegin = "10.97.0.9"
    _, out = D.cni("ADD", c, {id = "b1"})
    assert.are.equal(2, out.code)
    assert.truthy(out.details:find("ipam.rangeBegin", 1, true))
    nothing_made()
  end)

  it("refuses wrong types and values with code 7", function()
    for _, over in ipairs{{mtu = "1500"}, {ipMasq = "yes"}, {mtu = 20}, {bridge = "a/b"},
                          {ipam = {type = "cnet", subnet = "10.97.0.0"}},
                          {ipam = {type = "cnet", subnet = "10.97.0.0/31"}},
                          {ipam = {type = "cnet", subnet = "10.97.0.0/24", gateway = "10.98.0.1"}}} do
      local c = D.conf("bad", "10.97.0.0/24", over)
      local code, out = D.cni("ADD", c, {id = "b1"})
      assert.are.equal(1, code)
      assert.are.equal(7, out.code, D.json(over) .. " -> " .. D.json(out))
    end
    local _, out = D.cni("ADD", D.conf("bad", "10.97.0.0/24", {mtu = "1500"}), {id = "b1"})
    assert.are.equal("mtu: integer expected, got string", out.details)
    _, out = D.cni("ADD", D.conf("bad", "10.97.0.0/24", {name = "a b"}), {id = "b1"})
    assert.are.equal(7, out.code)
    nothing_made()
  end)

  it("refuses missing or malformed CNI variables with code 4, naming them", function()
    local code, out = D.cni("ADD", conf, {id = "b1", ifname = false, env = {CNI_IFNAME = false}})
    assert.are.equal(4, out.code)
    assert.are.equal("CNI_IFNAME is not set", out.msg)
    _, out = D.cni("ADD", conf, {id = "b1", netns = false})
    assert.are.equal(4, out.code)
    assert.are.equal("CNI_NETNS is not set", out.msg)
    _, out = D.cni("ADD", conf, {netns = "b1", env = {CNI_IFNAME = "eth0"}})
    assert.are.equal("CNI_CONTAINERID is not set", out.msg)
    _, out = D.cni("ADD", conf, {id = "-bad", netns = "b1"})
    assert.are.equal(4, out.code)
    _, out = D.cni("ADD", conf, {id = "b1", ifname = "a-much-too-long-name"})
    assert.are.equal(4, out.code)
    code, out = D.cni("NOPE", conf, {id = "b1"})
    assert.are.equal(1, code)
    assert.are.equal(4, out.code)
    assert.truthy(out.details:find("NOPE", 1, true))
    code, out = D.cni(false, conf, {id = "b1"})
    nothing_made()
  end)

  it("refuses a netns path that is not a namespace with code 4 and makes nothing", function()
    H.write(D.tmp .. "/notns", "")
    local code, out = D.cni("ADD", conf, {id = "b2", netns = D.tmp .. "/notns"})
    assert.are.equal(1, code)
    assert.are.equal(4, out.code)
    assert.are.equal("CNI_NETNS is not a network namespace", out.msg)
    _, out = D.cni("ADD", conf, {id = "b2", netns = "/run/netns/missing"})
    assert.are.equal(4, out.code)
    nothing_made()
  end)

  it("refuses versions it does not speak with code 1", function()
    local c = D.conf("bad", "10.97.0.0/24", {cniVersion = "0.2.0"})
    local _, out = D.cni("ADD", c, {id = "b1"})
    assert.are.equal(1, out.code)
    assert.truthy(out.details:find("1.1.0", 1, true))
    c.cniVersion = nil
    _, out = D.cni("ADD", c, {id = "b1"})
    assert.are.equal(7, out.code)
  end)

  it("refuses a recipe that does not exist, naming the shipped ones", function()
    local c = D.conf("bad", "10.97.0.0/24", {recipe = "nosuch"})
    local _, out = D.cni("ADD", c, {id = "b1"})
    assert.are.equal(7, out.code)
    assert.are.equal("unknown recipe nosuch", out.msg)
  end)
end)

describe("cnet CNI plugin port mappings", function()
  local hello = os.getenv("CNET_HELLO") or (H.build .. "/cnet-hello")

  it("forwards a host port to the container, from outside and from the host itself", function()
    -- an outside client in namespace `outside`, reaching the host at 203.0.113.2
    H.ip_batch{"netns add outside", "link add pm0 type veth peer name pm1 netns outside",
               "addr add 203.0.113.2/24 dev pm0", "link set pm0 up"}
    H.sh("ip -n outside addr add 203.0.113.9/24 dev pm1 && ip -n outside link set pm1 up")
    netns("p1")
    local c = D.conf("ports", "10.102.0.0/24", {cniVersion = "1.1.0",
      runtimeConfig = {portMappings = {{hostPort = 8080, containerPort = 80, protocol = "tcp"},
                                       {hostPort = 5353, containerPort = 53, protocol = "udp", hostIP = "203.0.113.2"}}}})
    local r = D.ok("ADD", c, {id = "p1"})
    local ip = r.ips[1].address:match("^[^/]+")
    local rules = H.sh("nft list chain inet cnet-ports hostports")
    assert.truthy(rules:find('ip daddr @local4 tcp dport 8080 dnat ip to ' .. ip .. ':80 comment "p1/eth0"', 1, true), rules)
    assert.truthy(rules:find('ip daddr 203.0.113.2 udp dport 5353 dnat ip to ' .. ip .. ':53 comment "p1/eth0"', 1, true), rules)
    assert.truthy(H.sh("nft list set inet cnet-ports local4"):find("203.0.113.2", 1, true))
    local ns = cnet.netns.open("p1")
    ns.link.set("lo", {up = true})
    ns.spawn({hello, "80"}, {stdout = false, stderr = false})
    local outside = cnet.netns.open("outside")
    local ok, reply
    for _ = 1, 50 do -- until the server listens
      ok, reply = outside.tcp_connect("203.0.113.2", 8080, {send = "GET / HTTP/1.0\r\n\r\n", timeout = 1})
      if ok then break end
      os.execute("sleep 0.05")
    end
    assert.is_true(ok, tostring(reply))
    assert.truthy(reply:find("200", 1, true), reply)
    -- the host's own address, from the host (the output hook)
    ok, reply = cnet.tcp_connect("203.0.113.2", 8080, {send = "GET / HTTP/1.0\r\n\r\n", timeout = 1})
    assert.is_true(ok, tostring(reply))
    -- a port nobody mapped stays closed
    assert.is_nil((outside.tcp_connect("203.0.113.2", 8081, {timeout = 0.5})))
    ns.kill()
    D.ok("DEL", c, {id = "p1"})
    assert.is_nil(D.nft("ports"))
  end)

  it("removes one container's mappings on DEL and keeps the others'", function()
    netns("p2")
    netns("p3")
    local function conf(port)
      return D.conf("ports2", "10.103.0.0/24", {
        runtimeConfig = {portMappings = {{hostPort = port, containerPort = 80}}}})
    end
    D.ok("ADD", conf(9001), {id = "p2"})
    D.ok("ADD", conf(9002), {id = "p3"})
    D.ok("DEL", conf(9001), {id = "p2", netns = false})
    local rules = H.sh("nft list chain inet cnet-ports2 hostports")
    assert.is_nil(rules:find("9001", 1, true), rules)
    assert.truthy(rules:find("tcp dport 9002", 1, true), rules)
    D.ok("DEL", conf(9002), {id = "p3"})
    assert.is_nil(D.nft("ports2"))
  end)

  it("refuses a malformed mapping with code 7", function()
    netns("p4")
    local c = D.conf("ports3", "10.104.0.0/24", {
      runtimeConfig = {portMappings = {{hostPort = 70000, containerPort = 80}}}})
    local _, out = D.cni("ADD", c, {id = "p4"})
    assert.are.equal(7, out.code)
    assert.truthy(out.details:find("hostPort", 1, true))
    c.runtimeConfig.portMappings = {{hostPort = 80, containerPort = 80, protocol = "sctp"}}
    _, out = D.cni("ADD", c, {id = "p4"})
    assert.are.equal(7, out.code)
    assert.is_nil(H.iplink("br-ports3"))
  end)
end)

describe("a recipe of one's own", function()
  local path = H.source .. "/scripts/cni/ptp.lua"

  it("is the one docs/cni.md shows", function()
    local doc = H.read(H.source .. "/docs/cni.md")
    local code = H.read(path)
    assert.truthy(doc:find("```lua\n" .. code .. "```", 1, true), "docs/cni.md and scripts/cni/ptp.lua differ")
  end)

  it("runs from its path: ADD makes its veth, address and host route; DEL removes them and the lease", function()
    netns("r1")
    local c = {cniVersion = "1.0.0", name = "ptp", type = "cnet", recipe = path,
               dataDir = D.tmp .. "/state", ipam = {type = "cnet", subnet = "10.105.0.0/24"}}
    local r = D.ok("ADD", c, {id = "r1"})
    assert.are.same({{address = "10.105.0.2/24", interface = 1}}, r.ips)
    assert.are.same({{cidr = "10.105.0.2/24"}}, (function()
      local t = inet_addrs("eth0", "r1") for _, x in ipairs(t) do x.brd = nil end return t end)())
    assert.truthy(H.sh("ip route show 10.105.0.2"):find("dev pr1th0", 1, true))
    assert.are.equal("r1/eth0", D.state("ptp").leases["10.105.0.2"])
    D.ok("DEL", c, {id = "r1"})
    assert.is_nil(H.iplink("pr1th0"))
    assert.are.equal(0, D.count(D.state("ptp").leases))
    -- its keys are checked like the shipped recipe's
    c.bridge = "x"
    local _, out = D.cni("ADD", c, {id = "r1"})
    assert.are.equal(2, out.code)
  end)
end)

describe("cnet CNI plugin in a chain", function()
  it("keeps prevResult's interfaces, IPs and routes and adds its own after them", function()
    netns("ch1")
    local c = D.conf("chain", "10.98.0.0/24")
    c.prevResult = {cniVersion = "1.0.0",
      interfaces = {{name = "lo0", sandbox = "/run/netns/ch1"}},
      ips = {{address = "192.0.2.9/32", interface = 0}},
      routes = {{dst = "192.0.2.0/24"}}, dns = {nameservers = {"192.0.2.53"}}}
    local r = D.ok("ADD", c, {id = "ch1"})
    assert.are.equal(4, #r.interfaces)
    assert.are.equal("lo0", r.interfaces[1].name)
    assert.are.equal("eth0", r.interfaces[4].name)
    assert.are.same({address = "192.0.2.9/32", interface = 0}, r.ips[1])
    assert.are.same({address = "10.98.0.2/24", gateway = "10.98.0.1", interface = 3}, r.ips[2])
    assert.are.same({{dst = "192.0.2.0/24"}, {dst = "0.0.0.0/0"}}, r.routes)
    assert.are.same({nameservers = {"192.0.2.53"}}, r.dns)
    D.ok("DEL", c, {id = "ch1"})
  end)
end)

describe("cnet CNI plugin with a delegated IPAM plugin", function()
  it("runs host-local from CNI_PATH for ADD and DEL", function()
    if not io.open(D.refdir .. "/host-local") then
      pending("host-local is not installed (containernetworking-plugins)")
      return
    end
    netns("d1")
    local c = D.conf("deleg", "10.99.0.0/24")
    c.ipam = {type = "host-local", subnet = "10.99.0.0/24", routes = {{dst = "0.0.0.0/0"}},
              dataDir = D.tmp .. "/host-local"}
    local r = D.ok("ADD", c, {id = "d1"})
    assert.are.equal("10.99.0.2/24", r.ips[1].address)
    assert.are.same({{cidr = "10.99.0.2/24", brd = "10.99.0.255"}}, inet_addrs("eth0", "d1"))
    assert.are.equal("d1", H.sh("head -n1 " .. D.tmp .. "/host-local/deleg/10.99.0.2"):gsub("%s+$", ""))
    D.ok("DEL", c, {id = "d1"})
    assert.is_false((H.try("test -e " .. D.tmp .. "/host-local/deleg/10.99.0.2")))
  end)

  it("runs host-local's CHECK, and takes its lack of STATUS and GC (older than spec 1.1.0) as nothing to report", function()
    if not io.open(D.refdir .. "/host-local") then
      pending("host-local is not installed (containernetworking-plugins)")
      return
    end
    netns("d3")
    local c = D.conf("deleg3", "10.99.1.0/24", {cniVersion = "1.1.0"})
    c.ipam = {type = "host-local", subnet = "10.99.1.0/24", dataDir = D.tmp .. "/host-local"}
    local r = D.ok("ADD", c, {id = "d3"})
    c.prevResult = r
    D.ok("CHECK", c, {id = "d3"})
    c.prevResult = nil
    D.ok("STATUS", c)
    c["cni.dev/valid-attachments"] = {{containerID = "d3", ifname = "eth0"}}
    D.ok("GC", c)
    c["cni.dev/valid-attachments"] = nil
    D.ok("DEL", c, {id = "d3"})
  end)

  it("passes the IPAM plugin's error on with its code", function()
    if not io.open(D.refdir .. "/host-local") then
      pending("host-local is not installed (containernetworking-plugins)")
      return
    end
    netns("d2")
    local c = D.conf("deleg2", "10.99.0.0/24")
    c.ipam = {type = "host-local", dataDir = D.tmp .. "/host-local"} -- no subnet
    local code, out = D.cni("ADD", c, {id = "d2"})
    assert.are.equal(1, code)
    assert.truthy(out.msg:find("^host%-local: "), D.json(out))
    assert.is_nil(H.iplink("br-deleg2"))
    c.ipam.type = "no-such-ipam"
    _, out = D.cni("ADD", c, {id = "d2"})
    assert.are.equal(103, out.code)
    assert.are.equal("plugin no-such-ipam not found", out.msg)
  end)
end)

describe("cnet.cni from Lua and `cnet cni` from the command line", function()
  it("runs the same recipe in-process: add, check, del; failures raise CNI error objects", function()
    local cni = require "cnet.cni"
    netns("l1")
    local conf = D.conf("lua", "10.100.0.0/24", {cniVersion = "1.1.0"})
    local r = cni.add{conf = conf, netns = "/run/netns/l1", id = "l1"}
    assert.are.equal("10.100.0.2/24", r.ips[1].address)
    assert.are.equal("eth0", cnet.netns.open("l1").link.get("eth0").name)
    conf.prevResult = r
    assert.is_nil(cni.check{conf = conf, netns = "/run/netns/l1", id = "l1"})
    conf.prevResult = nil
    cni.del{conf = conf, netns = "/run/netns/l1", id = "l1"}
    local ok, err = pcall(cni.add, {conf = {cniVersion = "1.0.0"}, netns = "/run/netns/l1", id = "l1"})
    assert.is_false(ok)
    assert.are.equal(7, err.code)
    assert.are.equal("invalid network name: name is missing", tostring(err))
  end)

  it("cnet cni add/check/del runs a configuration list and keeps the result for check and del", function()
    netns("cl1")
    local list = {cniVersion = "1.0.0", name = "cli",
      plugins = {D.conf("cli", "10.101.0.0/24"), {type = "loopback"}}}
    list.plugins[1].name, list.plugins[1].cniVersion = nil, nil
    local f = H.write(D.tmp .. "/cli.conflist", D.json(list))
    local cache = D.tmp .. "/results"
    local out = H.sh(("unset LD_PRELOAD; %s cni add %s cl1 --cache %s"):format(H.bin, f, cache))
    local r = H.json(out)
    assert.are.equal("10.101.0.2/24", r.ips[1].address)
    assert.is_not_nil(r.interfaces[3])
    H.sh(("unset LD_PRELOAD; %s cni check %s cl1 --cache %s"):format(H.bin, f, cache))
    H.sh(("unset LD_PRELOAD; %s cni del %s cl1 --cache %s"):format(H.bin, f, cache))
    assert.is_nil(D.links("cl1").eth0)
    local ok, msg = H.try(("unset LD_PRELOAD; %s cni add '{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"type\":\"cnet\",\"mtu\":\"big\"}' cl1"):format(H.bin))
    assert.is_false(ok)
    assert.truthy(msg:find("cnet cni add: invalid field mtu: mtu: integer expected, got string (code 7)", 1, true), msg)
  end)
  it("cnet cni version, status and gc (with --valid): output and exit status", function()
    -- exit status, stdout and stderr of `cnet cni ARGS`
    local function cli(args) return D.exec(H.bin .. " cni " .. args, {}) end
    local code, v, err = cli("version")   -- stdout decoded
    assert.are.equal(0, code, err)
    local out
    assert.are.equal("1.1.0", v.cniVersion)
    assert.are.same({"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}, v.supportedVersions)
    -- a /30 holds one container: status says whether there is room, gc makes room
    local f = H.write(D.tmp .. "/small.conf", D.json(D.conf("small", "10.108.0.0/30", {cniVersion = "1.1.0"})))
    code, out, err = cli("status " .. f)
    assert.are.same({0, "", ""}, {code, out, err})
    netns("cs1")
    local cache = " --cache " .. D.tmp .. "/results"
    local r = H.json(H.sh(("unset LD_PRELOAD; %s cni add %s cs1%s"):format(H.bin, f, cache)))
    local host = r.interfaces[2].name
    code, out, err = cli("status " .. f)
    assert.are.equal(1, code)
    assert.are.equal("", out)
    assert.truthy(err:find("cnet cni status: cannot add containers: no free address", 1, true), err)
    assert.truthy(err:find("(code 50)", 1, true), err)
    -- gc keeps what --valid names...
    code, out, err = cli(("gc %s --valid cs1/eth0"):format(f))
    assert.are.same({0, "", ""}, {code, out, err})
    assert.are.equal("cs1/eth0", D.state("small").leases["10.108.0.2"])
    assert.is_not_nil(H.iplink(host))
    -- ...and removes the rest: the lease, the veth, the table
    code, out, err = cli("gc " .. f)
    assert.are.same({0, "", ""}, {code, out, err})
    assert.are.equal(0, D.count(D.state("small").leases))
    assert.is_nil(H.iplink(host))
    assert.is_nil(D.links("cs1").eth0)
    assert.is_nil(D.nft("small"))
    code = cli("status " .. f)
    assert.are.equal(0, code)
    -- a command without its configuration is a usage error
    code, out, err = cli("status")
    assert.are.equal(2, code)
    assert.truthy(err:find("cnet cni status: CONF needed", 1, true), err)
  end)
end)

describe("cnet.lock", function()
  it("keeps a second holder out until the first lets go", function()
    local path = D.tmp .. "/locks/a/lock"
    local l = cnet.lock(path)
    local ok = H.try(("unset LD_PRELOAD; %s -e 'cnet.lock(%q, {timeout = 0})'"):format(H.bin, path))
    assert.is_false(ok)
    local ok2, msg = H.try(("unset LD_PRELOAD; %s -e 'cnet.lock(%q, {timeout = 0.05})'"):format(H.bin, path))
    assert.is_false(ok2)
    assert.truthy(msg:find("lock " .. path .. ": Connection timed out: held by another process", 1, true), msg)
    l:close()
    l:close()
    assert.truthy(H.try(("unset LD_PRELOAD; %s -e 'cnet.lock(%q, {timeout = 0})'"):format(H.bin, path)))
    assert.are.equal("cnet.lock (released)", tostring(l))
  end)
end)
