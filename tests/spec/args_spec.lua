-- The argument layer on the cases issue 9 names, each checked against the kernel's own view:
-- no truncation at a NUL byte, no integer wrapped into its C type, mtu 0 refused, short
-- messages, and messages that blame the right thing. (args_table_spec.lua drives every
-- function; this file keeps the named cases readable.)
local cnet = require "cnet"

local function netns_names()
  local out = {}
  for name in H.sh("ls -a /run/netns"):gmatch("[^\n]+") do
    if name ~= "." and name ~= ".." then out[#out + 1] = name end
  end
  return out
end

describe("strings with a NUL byte", function()
  it("are refused, never cut short, by netns.add", function()
    assert.has_error(function() cnet.netns.add("nul\0x") end,
      "bad argument #1 to 'add' (namespace name: 'nul\\0x' contains a NUL byte)")
    assert.are.same({}, netns_names())
  end)

  it("are refused in link names, addresses, sysctl keys, rules, argv and probes", function()
    H.ip_batch{"link add an0 type veth peer name an1"}
    local calls = {
      function() cnet.link.add{name = "an2\0x", type = "bridge"} end,
      function() cnet.link.add{name = "an2", type = "veth", peer = {name = "an3\0x"}} end,
      function() cnet.link.delete("an0\0x") end,
      function() cnet.addr.add("an0", "10.1.0.1/24\0junk") end,
      function() cnet.sysctl.set("net.ipv4.ip_forward\0x", "1") end,
      function() cnet.sysctl.set("net.ipv4.ip_forward", "1\0x") end,
      function() cnet.nft.add_table("ip nt\0x") end,
      function() cnet.exec({"true", "a\0b"}) end,
      function() cnet.exec({"true"}, {env = {["A\0B"] = "1"}}) end,
      function() cnet.ping("127.0.0.1\0x") end,
    }
    for i, f in ipairs(calls) do
      local ok, err = pcall(f)
      assert.is_false(ok, "call " .. i)
      assert.truthy(tostring(err):find("contains a NUL byte", 1, true), tostring(err))
    end
    assert.is_not_nil(H.iplink("an0"))
    assert.is_nil(H.iplink("an2"))
    assert.are.same({}, H.ipj("addr show dev an0")[1].addr_info)
    assert.are.equal("0", H.read("/proc/sys/net/ipv4/ip_forward"):match("%d"))
    assert.is_false((H.try("nft list table ip nt")))
    H.sh("ip link del an0")
  end)
end)

describe("integers", function()
  it("are range-checked, never wrapped: link.delete(2^32 + i) leaves index i alone", function()
    H.ip_batch{"link add wr0 type veth peer name wr1"}
    local index = H.iplink("wr0").ifindex
    assert.has_error(function() cnet.link.delete(2 ^ 32 // 1 + index) end,
      ("bad argument #1 to 'delete' (interface index: %d out of range [1, 2147483647])")
        :format(2 ^ 32 // 1 + index))
    assert.is_not_nil(H.iplink("wr0"))
    assert.has_error(function() cnet.link.delete(index + 0.5) end)
    assert.has_error(function() cnet.netns.open{pid = 2 ^ 32 // 1 + 1} end,
      "bad argument #1 to 'open' (field 'pid': 4294967297 out of range [1, 2147483647])")
    assert.has_error(function() cnet.netns.attach("wr", 2 ^ 32 // 1 + 1) end,
      "bad argument #2 to 'attach' (pid: 4294967297 out of range [1, 2147483647])")
    assert.has_error(function() cnet.inspect({}, {depth = 2 ^ 32 // 1 + 2}) end,
      "bad argument #2 to 'inspect' (field 'depth': 4294967298 out of range [1, 100])")
    assert.has_error(function() cnet.inspect({}, {width = 0 / 0}) end)
    assert.are.same({}, netns_names())
    H.sh("ip link del wr0")
  end)

  it("refuse mtu = 0 in link.add and link.set instead of ignoring it", function()
    assert.has_error(function() cnet.link.add{name = "mt0", type = "bridge", mtu = 0} end,
      "bad argument #1 to 'add' (field 'mtu': 0 out of range [1, 4294967295])")
    assert.is_nil(H.iplink("mt0"))
    H.ip_batch{"link add mt0 type bridge"}
    assert.has_error(function() cnet.link.set("mt0", {mtu = 0}) end,
      "bad argument #2 to 'set' (field 'mtu': 0 out of range [1, 4294967295])")
    -- a value the layer passes goes to the kernel, and its answer is reported
    local ok, err = pcall(cnet.link.set, "mt0", {mtu = 2 ^ 31 // 1})
    assert.is_false(ok)
    assert.are.equal("EINVAL", err.code)
    assert.are.equal(1500, H.iplink("mt0").mtu)
    H.sh("ip link del mt0")
  end)
end)

describe("messages", function()
  it("quote at most a few hundred bytes of a huge argument and say how long it was", function()
    local huge = ("r"):rep(1 << 20)
    local calls = {
      function() cnet.netns.add(huge) end,
      function() cnet.link.add{name = huge, type = "bridge"} end,
      function() cnet.link.add{name = "x", type = huge} end,
      function() cnet.nft.add_table("ip " .. huge) end,
      function() cnet.sysctl.get(huge) end,
      function() cnet.route.add{dst = "10.0.0.0/8", table = huge} end,
    }
    H.sh("nft add table ip mq; nft add chain ip mq c")
    calls[#calls + 1] = function() cnet.nft.add_rule("ip mq c", huge) end
    for i, f in ipairs(calls) do
      local ok, err = pcall(f)
      assert.is_false(ok)
      local msg = tostring(err)
      assert.is_true(#msg < 600, ("call %d: a message of %d bytes"):format(i, #msg))
      assert.truthy(msg:find("1048%d%d%d bytes"), msg) -- the length is said
    end
    H.sh("nft delete table ip mq")
  end)

  it("blame a bad sysctl key on the key, not on the value", function()
    local ok, err = pcall(cnet.sysctl.set, "net/ipv4/../../x", "1")
    assert.is_false(ok)
    assert.are.equal("EINVAL", err.code)
    assert.truthy(tostring(err):find("invalid key", 1, true), tostring(err))
    assert.is_nil(tostring(err):find("value", 1, true))
  end)

  it("say which address families differ in a route", function()
    local ok, err = pcall(cnet.route.add, {dst = "2001:db8::/32", via = "192.0.2.1"})
    assert.is_false(ok)
    assert.are.equal("route.add 2001:db8::/32: Invalid argument: address families differ " ..
                     "(dst inet6, via inet, family inet6)", tostring(err))
  end)

  it("say what the description of an nft.apply must hold, and what it got", function()
    assert.has_error(function() cnet.nft.apply{table = "ip ap", chains = 5} end,
      "bad argument #1 to 'apply' (field 'chains': a table of NAME = {options and rules} " ..
      "expected, got number)")
    assert.has_error(function() cnet.nft.apply{table = "ip ap", chains = {c = "x"}} end,
      "bad argument #1 to 'apply' (field 'chains.c': the chain's options and rules (a table) " ..
      "expected, got string)")
  end)

  it("say what a veth peer must be", function()
    assert.has_error(function() cnet.link.add{name = "pe0", type = "veth", peer = 5} end,
      "bad argument #1 to 'add' (field 'peer': the peer's name or a table " ..
      "{name=, netns=, mac=, mtu=, up=, txqueues=, rxqueues=} expected, got number)")
    assert.has_error(function() cnet.link.add{name = "pe0", type = "veth", peer = {mtu = "x"}} end,
      "bad argument #1 to 'add' (field 'peer.mtu': integer expected, got string)")
    assert.has_error(function() cnet.link.add{name = "pe0", type = "veth", peer = {colour = 1}} end,
      "bad argument #1 to 'add' (field 'peer': unknown option 'colour')")
  end)

  it("of ns.kill name the namespace, by name or else by path", function()
    -- the sandbox's own namespace, opened by path: kill refuses it and says which it is
    local own <close> = cnet.netns.open{path = "/proc/self/ns/net"}
    local ok, err = pcall(own.kill, 0)
    assert.is_false(ok)
    assert.are.equal("/proc/self/ns/net", err.object)
    assert.truthy(tostring(err):find("^netns%.kill /proc/self/ns/net: Operation not permitted"),
      tostring(err))
    ok, err = pcall(cnet.kill, 0)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("^netns%.kill %(cnet's own namespace%)"), tostring(err))
  end)

end)
