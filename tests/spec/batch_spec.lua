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
end)
