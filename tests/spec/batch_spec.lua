-- cnet.batch: deferred changes, program order across namespaces, failures per Lua line.
local cnet = require "cnet"

local function this_line() return debug.getinfo(2, "l").currentline end

describe("cnet.batch", function()
  it("applies a whole topology across namespaces, as iproute2 then sees it", function()
    local br = H.name("bbr")
    local names = {}
    cnet.batch(function()
      cnet.link.add{name = br, type = "bridge"}
      cnet.link.set(br, {up = true})
      cnet.addr.add(br, "10.77.0.1/24")
      for i = 1, 5 do
        local nsname = H.name("bns")
        names[#names + 1] = nsname
        local ns = cnet.netns.add(nsname)
        ns.link.set("lo", {up = true})
        cnet.link.add{name = nsname .. "h", type = "veth", peer = {name = "eth0", netns = ns}}
        cnet.link.set(nsname .. "h", {up = true, master = br})
        ns.link.set("eth0", {up = true})
        ns.addr.add("eth0", ("10.77.0.%d/24"):format(10 + i))
        ns.route.add{dst = "default", via = "10.77.0.1"}
      end
    end)
    for i, nsname in ipairs(names) do
      local eth0 = H.iplink("eth0", nsname)
      assert.are.equal("UP", eth0.operstate)
      local addrs = H.ipj("addr show dev eth0", nsname)[1].addr_info
      local found = false
      for _, a in ipairs(addrs) do found = found or a["local"] == ("10.77.0.%d"):format(10 + i) end
      assert.is_true(found, "address in " .. nsname)
      local routes = H.ipj("route show default", nsname)
      assert.are.equal("10.77.0.1", routes[1].gateway)
      assert.are.equal(br, H.iplink(nsname .. "h").master)
    end
    for _, nsname in ipairs(names) do cnet.netns.delete(nsname) end
    H.sh("ip link del " .. br)
  end)

  it("reports a failure against the line that queued it, and still applies the rest", function()
    local br, other = H.name("bdup"), H.name("bok")
    local line
    local ok, err = pcall(cnet.batch, function()
      cnet.link.add{name = br, type = "bridge"}
      line = this_line() + 1
      cnet.link.add{name = br, type = "bridge"}
      cnet.link.add{name = other, type = "bridge"}
    end)
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("link.add", err.op)
    assert.are.equal(br, err.object)
    assert.truthy(err.where:find(":" .. line .. ":", 1, true), err.where)
    assert.truthy(tostring(err):find("^link%.add " .. br .. ": File exists"))
    assert.are.equal(1, #err.failures)
    -- the request after the failed one went out in the same send
    assert.is_not_nil(H.iplink(other))
    H.sh("ip link del " .. br .. " && ip link del " .. other)
  end)

  it("makes reads see the writes queued before them", function()
    local br = H.name("bread")
    local seen
    cnet.batch(function()
      cnet.link.add{name = br, type = "bridge"}
      seen = cnet.link.get(br)
    end)
    assert.are.equal(H.iplink(br).ifindex, seen.index)
    H.sh("ip link del " .. br)
  end)

  it("sends what was queued, then re-raises, when the function fails", function()
    local br = H.name("berr")
    local ok, err = pcall(cnet.batch, function()
      cnet.link.add{name = br, type = "bridge"}
      error("boom")
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("boom"))
    assert.is_not_nil(H.iplink(br))
    H.sh("ip link del " .. br)
  end)

  it("returns the function's results and joins nested batches", function()
    local a, b = cnet.batch(function()
      return cnet.batch(function() return 1, 2 end)
    end)
    assert.are.same({1, 2}, {a, b})
    assert.has_error(function() cnet.batch(42) end,
      "bad argument #1 to 'batch' (function expected, got number)")
  end)

  -- The plain container loop of the tutorial, handles closed at the end of each turn.
  local loop = [[
    local br, n, prefix = ...
    cnet.batch(function()
      cnet.link.add{name = br, type = "bridge", up = true}
      cnet.addr.add(br, "10.78.0.1/16")
      for i = 1, n do
        local ns <close> = cnet.netns.add(prefix .. i)
        ns.link.set("lo", {up = true})
        cnet.link.add{name = prefix .. "h" .. i, type = "veth", peer = {name = "eth0", netns = ns}}
        cnet.link.set(prefix .. "h" .. i, {up = true, master = br})
        ns.link.set("eth0", {up = true})
        ns.addr.add("eth0", ("10.78.%d.%d/16"):format(i // 250, i % 250 + 2))
        ns.route.add{dst = "default", via = "10.78.0.1"}
      end
    end)
  ]]

  local function check_loop(br, n, prefix)
    for i = 1, n do
      local name = prefix .. i
      local eth0 = H.iplink("eth0", name)
      assert.are.equal("UP", eth0.operstate, name)
      assert.are.equal(2, eth0.ifindex, name)
      local a = H.ipj("addr show dev eth0", name)[1].addr_info
      local want, found = ("10.78.%d.%d"):format(i // 250, i % 250 + 2), false
      for _, x in ipairs(a) do found = found or x["local"] == want end
      assert.is_true(found, "address in " .. name)
      assert.are.equal("10.78.0.1", H.ipj("route show default", name)[1].gateway)
      assert.are.equal(br, H.iplink(prefix .. "h" .. i).master)
      assert.truthy(table.concat(H.iplink("lo", name).flags, ","):find("UP", 1, true), name)
    end
  end

  it("sends a container-by-container loop as a few large sends, in an order with the same result", function()
    if not H.try("command -v strace >/dev/null") then
      pending("strace is not installed: the count of sends is not checked")
      return
    end
    local br, prefix, n = H.name("bloop"), H.name("bl"), 30
    local script = os.tmpname()
    H.write(script, loop)
    -- strace is the independent view: every send system call the process made
    local out = H.sh(("strace -f -qq -c -e trace=sendto,sendmsg -o %s.st %s %s %s %d %s && cat %s.st")
      :format(script, H.bin, script, br, n, prefix, script))
    local sends = 0
    for count, name in out:gmatch("%s+[%d.]+%s+[%d.]+%s+%d+%s+(%d+)%s+%d*%s*(send%w+)") do
      sends = sends + tonumber(count)
      assert.is_truthy(name)
    end
    os.remove(script)
    os.remove(script .. ".st")
    check_loop(br, n, prefix)
    -- one by one this is 7 sends per container; the batch needs at most 2 (each namespace's
    -- first change, then the rest once the host's veths are made), plus a few
    assert.is_true(sends > 0 and sends <= 2 * n + 8, "sends: " .. sends .. "\n" .. out)
    for i = 1, n do cnet.netns.delete(prefix .. i) end
    H.sh("ip link del " .. br)
  end)

  it("reports failures in program order, though queues share no order", function()
    local br = H.name("bord")
    local ns <close> = cnet.netns.add(H.name("bordns"))
    local first, second
    local ok, err = pcall(cnet.batch, function()
      cnet.link.add{name = br, type = "bridge"}
      first = this_line() + 1
      ns.route.add{dst = "default", via = "192.0.2.1"}           -- no route to the gateway
      second = this_line() + 1
      cnet.link.add{name = br, type = "bridge"}                  -- exists
    end)
    assert.is_false(ok)
    assert.are.equal(2, #err.failures)
    assert.are.equal("route.add", err.failures[1].op)
    assert.truthy(err.failures[1].where:find(":" .. first .. ":", 1, true))
    assert.are.equal("link.add", err.failures[2].op)
    assert.truthy(err.failures[2].where:find(":" .. second .. ":", 1, true))
    assert.are.equal("route.add", err.op)
    cnet.netns.delete(ns.name)
    H.sh("ip link del " .. br)
  end)

  it("does not send a change that names a device by an index it did not get", function()
    local name = H.name("borph")
    local ns <close> = cnet.netns.add(name)
    -- behind cnet's back, something takes the index cnet expects the next device to get
    H.sh("ip -n " .. name .. " link add x0 type veth peer name x1")
    local line
    local ok, err = pcall(cnet.batch, function()
      cnet.link.add{name = name .. "h", type = "veth", peer = {name = "eth0", netns = ns}}
      line = this_line() + 1
      ns.addr.add("eth0", "10.79.0.2/24")
    end)
    assert.is_false(ok)
    assert.are.equal(1, #err.failures)
    assert.are.equal("addr.add", err.op)
    assert.are.equal("ECANCELED", err.code)
    assert.truthy(err.where:find(":" .. line .. ":", 1, true))
    local eth0 = H.iplink("eth0", name)
    assert.truthy(tostring(err):find(("not sent: device eth0 has index %d, not the 2"):format(eth0.ifindex),
      1, true), tostring(err))
    -- the address went nowhere: not on the device that holds index 2 either
    for _, l in ipairs(H.ipj("addr show", name)) do
      for _, a in ipairs(l.addr_info) do assert.are_not.equal("10.79.0.2", a["local"], l.ifname) end
    end
    cnet.netns.delete(name)
  end)

  it("does not send a change that names a device whose creation failed", function()
    local name = H.name("borph")
    local ns <close> = cnet.netns.add(name)
    local line
    local ok, err = pcall(cnet.batch, function()
      cnet.link.add{name = name .. "h", type = "veth", peer = {name = "lo", netns = ns}}  -- taken
      line = this_line() + 1
      ns.link.set("lo", {mtu = 1400})
      ns.addr.add("lo", "10.79.0.3/32")
    end)
    assert.is_false(ok)
    assert.are.equal("link.add", err.op)
    assert.are.equal(2, #err.failures)
    local f = err.failures[2]
    assert.are.equal("addr.add", f.op)
    assert.are.equal("ECANCELED", f.code)
    assert.truthy(tostring(f):find("not sent: the device it names was not created", 1, true), tostring(f))
    -- the set named lo by name and went out; the add named it by the expected index and did not
    assert.are.equal(1400, H.iplink("lo", name).mtu)
    for _, a in ipairs(H.ipj("addr show dev lo", name)[1].addr_info) do
      assert.are_not.equal("10.79.0.3", a["local"])
    end
    assert.is_nil(H.iplink(name .. "h"))
    cnet.netns.delete(name)
  end)

  it("lets a process or a probe started inside it see every change queued before", function()
    local name = H.name("bsee")
    local ns <close> = cnet.netns.add(name)
    local code, out, rtt, why
    cnet.batch(function()
      ns.link.set("lo", {up = true})
      ns.addr.add("lo", "10.80.0.1/32")
      code, out = ns.exec({"ip", "-j", "addr", "show", "dev", "lo"}, {capture = true})
      ns.addr.add("lo", "10.80.0.2/32")
      rtt, why = ns.ping("10.80.0.2", {timeout = 1})
    end)
    assert.are.equal(0, code)
    local seen = false
    for _, a in ipairs(H.json(out)[1].addr_info) do seen = seen or a["local"] == "10.80.0.1" end
    assert.is_true(seen, out)
    assert.is_number(rtt, tostring(why))
    cnet.netns.delete(name)
  end)
end)
