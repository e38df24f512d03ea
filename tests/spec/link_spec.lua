-- cnet.link: list, get, add, set, delete, checked against `ip -j -d link`.
local cnet = require "cnet"

local function has(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

local function linknames(ns)
  local names = {}
  for _, l in ipairs(H.ipj("link show", ns)) do names[#names + 1] = l.ifname end
  table.sort(names)
  return table.concat(names, " ")
end

describe("cnet.link.list", function()
  it("reports every link with the fields ip sees", function()
    local br = H.name("lbr")
    H.sh("ip link add " .. br .. " type bridge && ip link set " .. br .. " mtu 1400 up")
    local mine
    local list = cnet.link.list()
    assert.are.equal(#H.ipj("link show"), #list)
    for _, l in ipairs(list) do if l.name == br then mine = l end end
    local ip = H.iplink(br)
    assert.are.equal(ip.ifindex, mine.index)
    assert.are.equal("bridge", mine.kind)
    assert.are.equal(1400, mine.mtu)
    assert.are.equal(ip.address, mine.mac)
    assert.is_true(mine.up)
    assert.is_true(has(mine.flags, "UP"))
    for _, f in ipairs(ip.flags) do assert.is_true(has(mine.flags, f), f) end
    assert.is_true(has(mine.flags, "RUNNING")) -- ip leaves RUNNING out; cnet shows it
    assert.are.equal(ip.operstate:lower(), mine.operstate)
    H.sh("ip link del " .. br)
  end)

  it("names the master and the veth peer's index and namespace id", function()
    local nsname, br, a = H.name("lns"), H.name("lbr"), H.name("lva")
    local ns <close> = cnet.netns.add(nsname)
    H.sh(("ip link add %s type bridge && ip link add %s type veth peer name pv netns %s && ip link set %s master %s")
      :format(br, a, nsname, a, br))
    local l = cnet.link.get(a)
    assert.are.equal(br, l.master)
    assert.are.equal(H.iplink(br).ifindex, l.master_index)
    assert.are.equal(H.iplink("pv", nsname).ifindex, l.peer_index)
    assert.are.equal(H.iplink(a).link_netnsid, l.peer_netnsid)
    for _, x in ipairs(cnet.link.list()) do
      if x.name == a then assert.are.equal(br, x.master) end
    end
    H.sh("ip link del " .. a .. " && ip link del " .. br)
  end)
end)

describe("cnet.link.list of many links", function()
  it("matches ip link link by link", function()
    local lines, br = {}, H.name("mbr")
    H.sh("ip link add " .. br .. " type bridge")
    for i = 1, 150 do
      lines[#lines + 1] = ("link add mla%d mtu %d type veth peer name mlb%d"):format(i, 1300 + i, i)
      if i % 5 == 0 then lines[#lines + 1] = ("link set mla%d master %s"):format(i, br) end
      if i % 2 == 0 then lines[#lines + 1] = ("link set mla%d up"):format(i) end
    end
    H.ip_batch(lines)
    local mine = {}
    for _, l in ipairs(cnet.link.list()) do mine[l.name] = l end
    local ip = H.ipj("-d link show")
    local n = 0
    for _ in pairs(mine) do n = n + 1 end
    assert.are.equal(#ip, n)
    for _, l in ipairs(ip) do
      local m = mine[l.ifname]
      assert.is_not_nil(m, l.ifname)
      assert.are.equal(l.ifindex, m.index)
      assert.are.equal(l.mtu, m.mtu)
      assert.are.equal(l.address, m.mac)
      assert.are.equal(l.operstate:lower(), m.operstate)
      assert.are.equal(l.master, m.master)
      assert.are.equal(l.linkinfo and l.linkinfo.info_kind, m.kind)
      assert.are.equal(has(l.flags, "UP"), m.up)
      for _, fl in ipairs(l.flags) do -- ip's own notes: M-DOWN (peer down), NO-CARRIER
        if fl ~= "M-DOWN" and fl ~= "NO-CARRIER" then
          assert.is_true(has(m.flags, fl), l.ifname .. " " .. fl)
        end
      end
      local side, num = l.ifname:match("^ml([ab])(%d+)$")
      if side then
        local peer = mine[(side == "a" and "mlb" or "mla") .. num]
        assert.are.equal("veth", m.kind)
        assert.are.equal(peer.index, m.peer_index, l.ifname)
        assert.are.equal(peer.index, m.link_index, l.ifname)
      end
    end
    for i = 1, 150 do H.sh("ip link del mla" .. i) end
    H.sh("ip link del " .. br)
  end)
end)

describe("cnet.link.list while links come and go", function()
  it("never returns a half-read or doubled list (interrupted dumps are retried)", function()
    local lines = {}
    for i = 1, 100 do lines[#lines + 1] = ("link add cla%d type veth peer name clb%d"):format(i, i) end
    H.ip_batch(lines)
    local pid = H.sh("timeout 20 sh -c 'while :; do ip link add clx type veth peer name cly; " ..
                     "ip link del clx; done' >/dev/null 2>&1 & echo $!")
    for _ = 1, 40 do
      local seen, stable = {}, 0
      for _, l in ipairs(cnet.link.list()) do
        assert.is_nil(seen[l.index], "listed twice: " .. l.name)
        seen[l.index] = true
        if l.name:find("^cl[ab]%d") then stable = stable + 1 end
      end
      assert.are.equal(200, stable)
    end
    H.try("kill " .. pid)
    H.try("sleep 0.2; ip link del clx")
    for i = 1, 100 do H.sh("ip link del cla" .. i) end
  end)
end)

describe("cnet.link.list filters", function()
  it("lists the ports of a master and the links of a kind", function()
    local b0, b1 = H.name("fbr"), H.name("fbr")
    H.sh(("ip link add %s type bridge && ip link add %s type bridge"):format(b0, b1))
    local ports = {}
    for i = 1, 3 do
      local v = H.name("fv")
      H.sh(("ip link add %s type veth peer name %sp && ip link set %s master %s")
        :format(v, v, v, i < 3 and b0 or b1))
      ports[i] = v
    end
    local on0 = cnet.link.list{master = b0}
    assert.are.equal(2, #on0)
    for _, l in ipairs(on0) do
      assert.are.equal(b0, l.master)
      assert.are.equal(b0, H.iplink(l.name).master)
    end
    local on1 = cnet.link.list{master = H.iplink(b1).ifindex, kind = "veth"}
    assert.are.equal(1, #on1)
    assert.are.equal(ports[3], on1[1].name)
    local bridges = cnet.link.list{kind = "bridge"}
    local n = 0
    for _, l in ipairs(H.ipj("-d link show")) do
      if l.linkinfo and l.linkinfo.info_kind == "bridge" then n = n + 1 end
    end
    assert.are.equal(n, #bridges)
    for _, l in ipairs(bridges) do assert.are.equal("bridge", l.kind) end
    local ok, err = pcall(cnet.link.list, {master = "nosuch0"})
    assert.is_false(ok)
    assert.are.equal("link.list: No such device: master nosuch0", tostring(err))
    assert.has_error(function() cnet.link.list{colour = "red"} end,
      "bad argument #1 to 'list' (unknown option 'colour')")
    for _, v in ipairs(ports) do H.sh("ip link del " .. v) end
    H.sh(("ip link del %s && ip link del %s"):format(b0, b1))
  end)
end)

describe("cnet.link.list under churn", function()
  it("never returns a half-read dump while links come and go", function()
    local n = #H.ipj("link show")
    local pidfile = os.tmpname()
    -- a background loop adding and deleting a bridge as fast as it can
    H.sh(("sh -c 'echo $$ > %s; while :; do ip link add churn0 type bridge; ip link del churn0; done' >/dev/null 2>&1 &")
      :format(pidfile))
    local interrupted = 0
    for _ = 1, 300 do
      local ok, list = pcall(cnet.link.list)
      if not ok then
        assert.are.equal("EINTR", list.code, tostring(list)) -- retries exhausted: said so, not half-read
        interrupted = interrupted + 1
      else
        local seen = {}
        for _, l in ipairs(list) do
          assert.is_nil(seen[l.index], "index listed twice")
          seen[l.index] = true
        end
        assert.is_true(#list == n or #list == n + 1, "count " .. #list)
      end
    end
    H.sh("kill $(cat " .. pidfile .. ")")
    os.remove(pidfile)
    assert.is_true(interrupted < 300)
  end)
end)

describe("cnet.link.get", function()
  it("finds a link by name and by index", function()
    local lo = cnet.link.get("lo")
    assert.are.equal(1, lo.index)
    assert.is_true(has(lo.flags, "LOOPBACK"))
    assert.are.equal("lo", cnet.link.get(1).name)
  end)

  it("raises ENODEV for a missing link", function()
    local ok, err = pcall(cnet.link.get, "eth9")
    assert.is_false(ok)
    assert.are.equal("ENODEV", err.code)
    assert.are.equal("link.get", err.op)
    assert.are.equal("eth9", err.object)
    assert.are.equal("link.get eth9: No such device", tostring(err))
    ok, err = pcall(cnet.link.get, 99999)
    assert.are.equal("ENODEV", err.code)
    -- past any ifindex: refused, not truncated into a real one
    assert.has_error(function() cnet.link.get(2^40 // 1) end,
      "bad argument #1 to 'get' (interface index: 1099511627776 out of range [1, 2147483647])")
  end)

  it("raises a type error for a table argument", function()
    assert.has_error(function() cnet.link.get({}) end,
      "bad argument #1 to 'get' (interface name or index expected, got table)")
  end)
end)

describe("cnet.link.delete{wait = false}", function()
  local me = H.sh("echo $PPID")
  local function fds()
    collectgarbage() collectgarbage() -- handles of earlier tests close now, not midway
    return tonumber(H.sh("ls /proc/" .. me .. "/fd | wc -l"))
  end

  it("returns once the device and its peer are gone, holding nothing of the caller's", function()
    local nsname = H.name("dw")
    local ns <close> = cnet.netns.add(nsname)
    local lockfile = os.tmpname()
    for i = 1, 3 do
      local h = H.name("dwh")
      cnet.link.add{name = h, type = "veth", peer = {name = "eth" .. i, netns = ns}, up = true}
      local before = fds()
      local lock <close> = cnet.lock(lockfile)
      cnet.link.delete(h, {wait = false})
      -- gone at once, both ends, in the kernel's own view
      assert.is_false(H.try("ip link show dev " .. h), h .. " still listed")
      assert.is_false(H.try("ip -n " .. nsname .. " link show dev eth" .. i), "peer still listed")
      -- the process that takes the kernel's wait holds none of the caller's descriptors:
      -- the lock is free the moment the caller lets go
      lock:close()
      assert.is_true(H.try("flock -n " .. lockfile .. " true"), "the lock is still held")
      -- a descriptor of another part of the process (a dump's read-ahead thread) may come and
      -- go meanwhile: a leak stays, so a growth must outlast a few looks
      local after = fds()
      for _ = 1, 20 do
        if after <= before then break end
        cnet.sleep(0.05)
        after = fds()
      end
      assert.is_true(after <= before, ("descriptors left open: %d before, %d after"):format(before, after))
      -- the child between caller and worker is reaped at once (where this process is the
      -- sandbox's PID 1 it also inherits the detached worker, as init does, and other specs'
      -- orphans: only then are such zombies expected)
      if me ~= "1" then
        local z = H.sh("ps --ppid " .. me .. " -o pid=,stat=,args= | grep ' Z' || true")
        assert.are.equal("", z, "a zombie child")
      end
    end
    os.remove(lockfile)
  end)

  it("reports the kernel's refusal as the waiting delete does", function()
    local ok, err = pcall(cnet.link.delete, "nosuch0", {wait = false})
    assert.is_false(ok)
    assert.are.same({"ENODEV", "link.delete", "nosuch0"}, {err.code, err.op, err.object})
    ok, err = pcall(cnet.link.delete, "lo", {wait = false})
    assert.are.equal("EOPNOTSUPP", err.code)
    assert.is_true(H.try("ip link show dev lo"))
    assert.has_error(function() cnet.link.delete("lo", {wait = 1}) end)
    assert.has_error(function() cnet.link.delete("lo", {colour = true}) end)
  end)
end)

describe("cnet.link.add", function()
  it("creates a bridge with mtu, up and mac in one request", function()
    local br = H.name("abr")
    cnet.link.add{name = br, type = "bridge", mtu = 1400, up = true, mac = "02:00:00:00:aa:01"}
    local ip = H.iplink(br)
    assert.are.equal("bridge", ip.linkinfo.info_kind)
    assert.are.equal(1400, ip.mtu)
    assert.are.equal("02:00:00:00:aa:01", ip.address)
    assert.is_true(has(ip.flags, "UP"))
    H.sh("ip link del " .. br)
  end)

  it("creates a veth whose peer is born inside another namespace, with master and up", function()
    local nsname, br, host = H.name("vns"), H.name("vbr"), H.name("vh")
    local ns <close> = cnet.netns.add(nsname)
    cnet.link.add{name = br, type = "bridge"}
    cnet.link.add{name = host, type = "veth", peer = {name = "veth0", netns = ns},
                  master = br, up = true}
    local ip = H.iplink(host)
    assert.are.equal("veth", ip.linkinfo.info_kind)
    assert.are.equal(br, ip.master)
    assert.is_true(has(ip.flags, "UP"))
    local peer = H.iplink("veth0", nsname)
    assert.is_not_nil(peer)
    assert.are.equal("veth", peer.linkinfo.info_kind)
    assert.is_nil(H.iplink("veth0")) -- never in the host
    -- the namespace can be given by name too, and seen from the handle
    cnet.link.add{name = H.name("vh"), type = "veth", peer = {name = "veth1", netns = nsname}}
    assert.are.equal("veth", ns.link.get("veth1").kind)
    H.sh("ip link del " .. host .. " && ip link del " .. br)
  end)

  it("brings a veth peer up with peer = {up = true}, in its namespace, named or not", function()
    local nsname, host = H.name("pup"), H.name("ph")
    local ns <close> = cnet.netns.add(nsname)
    cnet.link.add{name = host, type = "veth", peer = {name = "eth0", netns = ns, up = true}}
    assert.is_true(has(H.iplink("eth0", nsname).flags, "UP"))
    assert.is_false(has(H.iplink(host).flags, "UP")) -- only the peer was asked
    -- a peer without a name (the kernel calls it vethN), next to its device
    local other = H.name("ph")
    cnet.link.add{name = other, type = "veth", peer = {up = true}, up = true}
    local peer = H.ipj("link show", nil)
    local index = H.iplink(other).link_index
    for _, l in ipairs(peer) do
      if l.ifindex == index then assert.is_true(has(l.flags, "UP"), l.ifname) end
    end
    H.sh("ip link del " .. host .. " && ip link del " .. other)
  end)

  it("creates a link directly in another namespace (netns option, ns.link.add)", function()
    local nsname = H.name("dns")
    local ns <close> = cnet.netns.add(nsname)
    local before = linknames()
    cnet.link.add{name = "inside0", type = "bridge", netns = ns}
    ns.link.add{name = "inside1", type = "veth", peer = {name = "inside2"}}
    assert.are.equal(before, linknames())
    assert.are.equal("inside0 inside1 inside2 lo", linknames(nsname))
  end)

  it("creates macvlan and vxlan links", function()
    local lower, mv, vx = H.name("low"), H.name("mv"), H.name("vx")
    H.sh("ip link add " .. lower .. " type veth peer name " .. lower .. "p")
    cnet.link.add{name = mv, type = "macvlan", link = lower, mode = "bridge"}
    local ip = H.iplink(mv)
    assert.are.equal("macvlan", ip.linkinfo.info_kind)
    assert.are.equal("bridge", ip.linkinfo.info_data.mode)
    assert.are.equal(lower, ip.link)
    cnet.link.add{name = vx, type = "vxlan", id = 42, remote = "192.0.2.1", dstport = 4789, dev = lower}
    ip = H.iplink(vx)
    assert.are.equal("vxlan", ip.linkinfo.info_kind)
    assert.are.equal(42, ip.linkinfo.info_data.id)
    assert.are.equal("192.0.2.1", ip.linkinfo.info_data.remote)
    assert.are.equal(4789, ip.linkinfo.info_data.port)
    assert.are.equal(lower, ip.linkinfo.info_data.link)
    H.sh("ip link del " .. vx .. " && ip link del " .. mv .. " && ip link del " .. lower)
  end)

  it("raises EEXIST when the name is taken and leaves the existing link alone", function()
    local br = H.name("ebr")
    H.sh("ip link add " .. br .. " type bridge && ip link set " .. br .. " mtu 1300")
    local ok, err = pcall(cnet.link.add, {name = br, type = "veth", mtu = 1400})
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("link.add", err.op)
    assert.are.equal(br, err.object)
    assert.are.equal("link.add " .. br .. ": File exists", tostring(err))
    local ip = H.iplink(br)
    assert.are.equal("bridge", ip.linkinfo.info_kind)
    assert.are.equal(1300, ip.mtu)
    H.sh("ip link del " .. br)
  end)

  it("makes nothing when part of the request fails (missing master, peer name taken)", function()
    local before = linknames()
    local ok, err = pcall(cnet.link.add, {name = "half0", type = "veth", master = "nobr"})
    assert.is_false(ok)
    assert.are.equal("ENODEV", err.code)
    assert.truthy(tostring(err):find("master nobr", 1, true))
    ok, err = pcall(cnet.link.add, {name = "half1", type = "veth", peer = {name = "lo"}})
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    -- a master that exists but cannot take ports: the kernel undoes the whole link
    H.sh("ip link add nomaster0 type veth peer name nomaster1")
    before = linknames()
    ok, err = pcall(cnet.link.add, {name = "half2", type = "bridge", master = "nomaster0"})
    assert.is_false(ok)
    assert.are.equal(before, linknames())
    H.sh("ip link del nomaster0")
  end)

  it("rejects unknown types, long names, bad macs and wrong argument types", function()
    local before = linknames()
    assert.has_error(function() cnet.link.add{name = "x0", type = "foo"} end,
      "bad argument #1 to 'add' (unknown link type 'foo')")
    -- called through pcall, where Lua sees no call site, the message still names the function
    local _, msg = pcall(cnet.link.add, {name = "x0", type = "foo"})
    assert.are.equal("bad argument #1 to 'cnet.link.add' (unknown link type 'foo')", msg)
    assert.has_error(function() cnet.link.add{name = "x0", type = "bridge", colour = 1} end,
      "bad argument #1 to 'add' (unknown option 'colour')")
    assert.has_error(function() cnet.link.add{name = "x0", type = "bridge", mtu = "big"} end,
      "bad argument #1 to 'add' (field 'mtu': integer expected, got string)")
    assert.has_error(function() cnet.link.add{name = "x0", type = "bridge", peer = "y"} end,
      "bad argument #1 to 'add' (option 'peer' is for type veth only)")
    assert.has_error(function() cnet.link.add("x0") end,
      "bad argument #1 to 'add' (table expected, got string)")
    assert.has_error(function() cnet.link.add{type = "bridge"} end,
      "bad argument #1 to 'add' (field 'name' required)")
    local long = ("x"):rep(16)
    local ok, err = pcall(cnet.link.add, {name = long, type = "bridge"})
    assert.is_false(ok)
    assert.are.equal("EINVAL", err.code)
    assert.are.equal("link.add " .. long .. ": Invalid argument: interface name longer than 15 bytes",
      tostring(err))
    ok, err = pcall(cnet.link.add, {name = "x0", type = "veth", peer = {name = long}})
    assert.are.equal("EINVAL", err.code)
    ok, err = pcall(cnet.link.add, {name = "x0", type = "bridge", mac = "02:00:zz"})
    assert.are.equal("EINVAL", err.code)
    assert.truthy(tostring(err):find('invalid mac address "02:00:zz"', 1, true))
    ok, err = pcall(cnet.link.add, {name = "x0", type = "veth", peer = {netns = "no-such-ns"}})
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("netns.open", err.op)
    assert.are.equal(before, linknames())
  end)

  it("makes a veth and its peer with the queue counts given, and a promiscuous bridge", function()
    local nsname, br, host = H.name("qns"), H.name("qbr"), H.name("qh")
    local ns <close> = cnet.netns.add(nsname)
    cnet.link.add{name = br, type = "bridge", promisc = true}
    cnet.link.add{name = host, type = "veth", txqueues = 1, rxqueues = 3, master = br,
                  peer = {name = "eth0", netns = ns, txqueues = 2, rxqueues = 1}}
    local ip, peer = H.iplink(host), H.iplink("eth0", nsname)
    assert.are.same({1, 3}, {ip.num_tx_queues, ip.num_rx_queues})
    assert.are.same({2, 1}, {peer.num_tx_queues, peer.num_rx_queues})
    assert.is_true(has(H.iplink(br).flags, "PROMISC"))
    assert.is_false(has(ip.flags, "PROMISC"))
    -- without them, the driver's default (a veth: one queue per possible CPU)
    local nproc = tonumber(H.sh("nproc --all"))
    cnet.link.add{name = H.name("qd"), type = "veth"}
    assert.are.equal(math.min(nproc, 4096), H.ipj("-d link show type veth")[#H.ipj("-d link show type veth")].num_tx_queues)
    assert.has_error(function() cnet.link.add{name = "q0", type = "veth", txqueues = 0} end,
      "bad argument #1 to 'add' (field 'txqueues': 0 out of range [1, 4096])")
    assert.has_error(function() cnet.link.add{name = "q0", type = "veth", peer = {rxqueues = 5000}} end,
      "bad argument #1 to 'add' (field 'peer.rxqueues': 5000 out of range [1, 4096])")
    assert.has_error(function() cnet.link.add{name = "q0", type = "tap", txqueues = 2} end,
      "bad argument #1 to 'add' (options 'txqueues' and 'rxqueues' are not for tun/tap devices)")
    H.sh("ip link del " .. host .. "; ip link del " .. br)
  end)

  it("reports a kind the kernel lacks as a visible pending test", function()
    local ok, err = pcall(cnet.link.add, {name = "dm0", type = "dummy"})
    if ok then
      assert.are.equal("dummy", H.iplink("dm0").linkinfo.info_kind)
      H.sh("ip link del dm0")
    else
      assert.are.equal("EOPNOTSUPP", err.code)
      pending("this kernel has no dummy driver: " .. tostring(err))
    end
  end)
end)

describe("cnet.link.add inside cnet.batch", function()
  it("creates a peer in a namespace whose handle is closed before the batch ends", function()
    local names = {}
    cnet.batch(function()
      for i = 1, 3 do
        names[i] = H.name("bns")
        local ns <close> = cnet.netns.add(names[i])
        cnet.link.add{name = names[i] .. "h", type = "veth", peer = {name = "eth0", netns = ns}}
      end -- each handle closes here, its descriptor number free for the next namespace
    end)
    for i = 1, 3 do
      assert.is_not_nil(H.iplink("eth0", names[i]), "peer inside " .. names[i])
      cnet.netns.delete(names[i])
    end
  end)

  it("brings peers up (peer = {up = true}) once the pairs exist, then uses them", function()
    local names = {}
    cnet.batch(function()
      for i = 1, 3 do
        names[i] = H.name("bup")
        local ns <close> = cnet.netns.add(names[i])
        cnet.link.add{name = names[i] .. "h", type = "veth", up = true,
                      peer = {name = "eth0", netns = ns, up = true}}
        ns.addr.add("eth0", ("10.81.0.%d/24"):format(i))
      end
    end)
    for i = 1, 3 do
      local eth0 = H.iplink("eth0", names[i])
      assert.is_true(has(eth0.flags, "UP"), names[i])
      assert.are.equal(("10.81.0.%d"):format(i), H.ipj("addr show dev eth0", names[i])[1].addr_info[1]["local"])
      H.sh("ip link del " .. names[i] .. "h")
      cnet.netns.delete(names[i])
    end
  end)
end)

describe("cnet.link.set", function()
  it("changes mtu, mac, name, master and up state in one call", function()
    local br, v = H.name("sbr"), H.name("sv")
    H.sh(("ip link add %s type bridge && ip link add %s type veth"):format(br, v))
    cnet.link.set(v, {up = true, master = br, mtu = 1400, mac = "02:00:00:00:bb:01"})
    local ip = H.iplink(v)
    assert.are.equal(br, ip.master)
    assert.are.equal(1400, ip.mtu)
    assert.are.equal("02:00:00:00:bb:01", ip.address)
    assert.is_true(has(ip.flags, "UP"))
    cnet.link.set(v, {master = false, up = false, name = "renamed0"})
    assert.is_nil(H.iplink(v))
    ip = H.iplink("renamed0")
    assert.is_nil(ip.master)
    assert.is_false(has(ip.flags, "UP"))
    H.sh("ip link del renamed0 && ip link del " .. br)
  end)

  it("moves a link into another namespace, renaming it on the way", function()
    local nsname, v = H.name("mns"), H.name("mv")
    local ns <close> = cnet.netns.add(nsname)
    H.sh("ip link add " .. v .. " type veth peer name " .. v .. "p")
    cnet.link.set(v, {netns = ns, name = "eth0"})
    assert.is_nil(H.iplink(v))
    assert.is_not_nil(H.iplink("eth0", nsname))
    ns.link.set("lo", {up = true})
    assert.is_true(has(H.iplink("lo", nsname).flags, "UP"))
  end)

  it("raises ENOENT for a missing namespace and leaves the link where it was", function()
    local v = H.name("nv")
    H.sh("ip link add " .. v .. " type veth peer name " .. v .. "p")
    local ok, err = pcall(cnet.link.set, v, {netns = "no-such-ns", up = true})
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("netns.open no-such-ns: No such file or directory", tostring(err))
    local ip = H.iplink(v)
    assert.is_not_nil(ip)
    assert.is_false(has(ip.flags, "UP"))
    local closed = cnet.netns.add(H.name("cns"))
    closed:close()
    assert.has_error(function() cnet.link.set(v, {netns = closed}) end,
      "bad argument #2 to 'set' (field 'netns': cnet.netns is closed)")
    assert.has_error(function() cnet.link.add{name = "x0", type = "veth", peer = {netns = 5}} end,
      "bad argument #1 to 'add' (field 'peer.netns': cnet.netns or namespace name expected, got number)")
    H.sh("ip link del " .. v)
  end)

  it("raises ENODEV for a missing link and rejects bad options", function()
    local ok, err = pcall(cnet.link.set, "nosuch0", {up = true})
    assert.is_false(ok)
    assert.are.equal("link.set nosuch0: No such device", tostring(err))
    ok, err = pcall(cnet.link.set, "lo", {master = "nosuch0"})
    assert.are.equal("ENODEV", err.code)
    assert.has_error(function() cnet.link.set("lo", {up = "yes"}) end,
      "bad argument #2 to 'set' (field 'up': boolean expected, got string)")
    assert.has_error(function() cnet.link.set("lo", {speed = 1}) end,
      "bad argument #2 to 'set' (unknown option 'speed')")
  end)
end)

-- Everything `ip -j -d link` says about the links of the sandbox and of each namespace
-- given, as one canonical string (keys sorted). Left out: what the kernel changes on its own
-- time, after the call returned: the bridge's running timers, and the carrier (operstate,
-- NO-CARRIER, LOWER_UP), which the kernel's link watcher updates up to a second later. The
-- administrative UP flag stays in.
local volatile = {["NO-CARRIER"] = true, LOWER_UP = true}
local function linkstate(...)
  local function canon(v)
    if type(v) ~= "table" then return tostring(v) end
    if #v > 0 then -- a list (flags): its members in order, the volatile ones left out
      local items = {}
      for _, x in ipairs(v) do
        if not volatile[x] then items[#items + 1] = canon(x) end
      end
      return "[" .. table.concat(items, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do
      if not (type(k) == "string" and (k:find("_timer$") or k == "operstate")) then
        keys[#keys + 1] = k
      end
    end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. canon(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  local out = {"host:" .. canon(H.ipj("-d link show"))}
  for _, ns in ipairs{...} do out[#out + 1] = ns .. ":" .. canon(H.ipj("-d link show", ns)) end
  return table.concat(out, "\n")
end

-- Calls link.set(dev, opts), which must fail with `code`, and checks that nothing changed.
local function refused(code, dev, opts, ...)
  local before = linkstate(...)
  local ok, err = pcall(cnet.link.set, dev, opts)
  assert.is_false(ok)
  assert.are.equal(code, err.code, tostring(err))
  assert.are.equal("link.set", err.op)
  assert.are.equal(dev, err.object)
  assert.are.equal(before, linkstate(...))
  return err
end

describe("cnet.link.set refusals leave nothing half-made", function()
  local nsname, ns, br, a, b, h

  before_each(function()
    nsname, br, a, b, h = H.name("rns"), H.name("rbr"), H.name("ra"), H.name("rb"), H.name("rh")
    ns = cnet.netns.add(nsname)
    H.sh(("ip link add %s type bridge && ip link set %s up && " ..
          "ip link add %s type veth peer name %s && ip link set %s master %s mtu 1450 up && " ..
          "ip link add %s type veth peer name %sp && ip -n %s link add taken0 type bridge")
      :format(br, br, a, b, a, br, h, h, nsname))
  end)

  after_each(function()
    H.try("ip link del " .. (a or "lo") .. "; ip link del " .. br .. "; ip link del " .. h)
    ns:close()
    H.sh("ip netns del " .. nsname)
  end)

  it("a master that cannot take ports, given with an mtu", function()
    local err = refused("EOPNOTSUPP", a, {mtu = 1200, master = b}, nsname)
    assert.truthy(tostring(err):find("cannot take ports", 1, true))
    refused("EOPNOTSUPP", a, {master = b}, nsname) -- would first leave its bridge
    assert.are.equal(br, H.iplink(a).master)
  end)

  it("a new name taken in the target namespace", function()
    local err = refused("EEXIST", h, {netns = ns, name = "taken0"}, nsname)
    assert.truthy(tostring(err):find("taken0", 1, true))
    refused("EEXIST", h, {netns = nsname, name = "taken0", up = true}, nsname)
  end)

  it("a new name taken in the same namespace", function()
    refused("EEXIST", a, {name = b, mtu = 1400}, nsname)
    refused("EEXIST", a, {name = br, up = false}, nsname)
  end)

  it("an mtu out of the device's range, after a rename", function()
    local err = refused("EINVAL", a, {name = "fresh0", mtu = 10}, nsname)
    assert.truthy(tostring(err):find("mtu less than device minimum", 1, true))
    refused("EINVAL", a, {up = false, mtu = 70000}, nsname)
  end)

  it("a mac of the wrong length for the device", function()
    refused("EINVAL", a, {mac = "02:00:00:00:00:01:02"}, nsname)
    refused("EINVAL", a, {mac = "02:00:00:00:00", up = false}, nsname)
  end)

  it("a refusal only the kernel knows, undone: rename, mtu and down, then a multicast mac",
    function()
      local err = refused("EADDRNOTAVAIL", a,
        {name = "fresh1", mtu = 1300, up = false, master = false, mac = "01:00:5e:00:00:01"},
        nsname)
      assert.are.equal("link.set " .. a .. ": Cannot assign requested address", tostring(err))
    end)

  it("promiscuous mode on, then a refusal after it: given back", function()
    cnet.link.set(a, {promisc = true})
    assert.is_true(has(H.iplink(a).flags, "PROMISC"))
    cnet.link.set(a, {promisc = false})
    assert.is_false(has(H.iplink(a).flags, "PROMISC"))
    -- the kernel turns promiscuous mode on, then refuses the master (no bridge in a bridge)
    local br2 = H.name("rb2")
    H.sh("ip link add " .. br2 .. " type bridge")
    local err = refused("ELOOP", br2, {promisc = true, master = br}, nsname)
    assert.truthy(tostring(err):find("Can not enslave a bridge to a bridge", 1, true), tostring(err))
    assert.is_false(has(H.iplink(br2).flags, "PROMISC"))
    H.sh("ip link del " .. br2)
  end)

  it("a refusal after the move to another namespace: moved back, same index and state",
    function()
      local index = H.iplink(a).ifindex
      refused("EADDRNOTAVAIL", a, {netns = ns, name = "eth0", mtu = 1300,
                                   mac = "01:00:5e:00:00:01"}, nsname)
      assert.are.equal(index, H.iplink(a).ifindex)
      -- the same where the link must take another index over there (its own is in use)
      local hindex = H.iplink(h).ifindex
      H.sh(("ip -n %s link add clash0 index %d type bridge"):format(nsname, hindex))
      refused("EADDRNOTAVAIL", h, {netns = ns, up = true, mac = "01:00:5e:00:00:01"}, nsname)
      assert.are.equal(hindex, H.iplink(h).ifindex)
    end)

  it("a request that works after a refused one still applies whole", function()
    refused("EOPNOTSUPP", a, {mtu = 1200, master = b}, nsname)
    cnet.link.set(a, {mtu = 1200, master = false, name = "fresh2", netns = ns})
    local ip = H.iplink("fresh2", nsname)
    assert.are.equal(1200, ip.mtu)
    assert.is_nil(ip.master)
    H.sh("ip -n " .. nsname .. " link del fresh2") -- its peer goes too, now, not with the namespace
    a = nil
  end)
end)

describe("cnet.link.add refusals leave nothing behind", function()
  it("up with a master that cannot take ports, also inside another namespace", function()
    local nsname = H.name("ans")
    local ns <close> = cnet.netns.add(nsname)
    H.sh("ip -n " .. nsname .. " link add nb0 type veth peer name nb1")
    H.sh("ip link add hb0 type veth peer name hb1")
    local before = linkstate(nsname)
    local ok, err = pcall(cnet.link.add, {name = "half3", type = "veth", peer = "half3p",
                                         up = true, mtu = 1300, master = "hb0"})
    assert.is_false(ok)
    assert.are.equal("EOPNOTSUPP", err.code)
    assert.are.equal("link.add", err.op)
    assert.are.equal("half3", err.object)
    assert.are.equal(before, linkstate(nsname))
    ok, err = pcall(cnet.link.add, {name = "half4", type = "bridge", netns = ns, up = true,
                                   master = "nb0"})
    assert.is_false(ok)
    assert.are.equal("EOPNOTSUPP", err.code)
    assert.are.equal(before, linkstate(nsname))
    H.sh("ip link del hb0")
  end)
end)

describe("cnet.link.delete", function()
  it("deletes by name and by index; a veth takes its peer along", function()
    local nsname, v = H.name("dns"), H.name("dv")
    local ns <close> = cnet.netns.add(nsname)
    H.sh(("ip link add %s type veth peer name p0 netns %s"):format(v, nsname))
    cnet.link.delete(v)
    assert.is_nil(H.iplink(v))
    assert.is_nil(H.iplink("p0", nsname))
    local br = H.name("dbr")
    H.sh("ip link add " .. br .. " type bridge")
    cnet.link.delete(H.iplink(br).ifindex)
    assert.is_nil(H.iplink(br))
  end)

  it("raises ENODEV for a missing link", function()
    local ok, err = pcall(cnet.link.delete, "nosuch0")
    assert.is_false(ok)
    assert.are.equal("ENODEV", err.code)
    assert.are.equal("link.delete nosuch0: No such device", tostring(err))
  end)
end)

describe("lists and gets under memory pressure", function()
  it("recover after an out-of-memory error inside a dump (the next call works)", function()
    local module = package.searchpath("cnet", package.cpath)
    local dir = module and H.oomhost_build()
    if not dir then
      pending("needs a C compiler and the built module")
      return
    end
    local script = assert(io.open(dir .. "/oom.lua", "w"))
    script:write([[
      for i = 1, 60 do cnet.link.add{name = "oom" .. i, type = "veth", peer = {name = "oomp" .. i}} end
      cnet.link.set("oom1", {up = true})
      cnet.route.add{dst = "10.99.0.0/16", dev = "oom1"}
      local want = #cnet.link.list()
      local calls = {cnet.link.list, function() return cnet.link.get("oom5") end, cnet.addr.list,
                     cnet.route.list, function() return cnet.route.get("10.99.1.1") end}
      local injected = 0
      for budget = 1, 300, 3 do
        for _, f in ipairs(calls) do
          local ok, err = with_budget(budget, f)
          if not ok then
            assert(tostring(err):find("not enough memory"), tostring(err))
            injected = injected + 1
          end
          assert(collectgarbage("isrunning"), "the collector left stopped after an error")
          assert(#cnet.link.list() == want, "link.list broken after an error")
          assert(cnet.link.get("oom5").name == "oom5")
          assert(cnet.route.get("10.99.1.1").dev == "oom1")
        end
      end
      assert(injected > 50, "too few failures injected: " .. injected)
      print("injected " .. injected)
    ]])
    script:close()
    local out = H.oomhost(dir, module)
    assert.truthy(out:find("^injected %d+"), out)
    H.sh("rm -rf " .. dir)
  end)
end)
