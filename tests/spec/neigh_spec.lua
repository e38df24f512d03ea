-- cnet.neigh: ARP/NDP and proxy entries, checked against `ip -j neigh` both ways.
local cnet = require "cnet"

-- `ip -j neigh show ARGS` (every state unless ARGS says otherwise; a leading -4/-6 goes
-- before "neigh"), with ip's null-valued flags ("router": null) read as true, as cnet lists
-- them, and the device filled in where ip leaves it out (a listing of one device).
local function ipneigh(args, ns)
  args = args or "nud all"
  local fam, rest = args:match("^(%-[46]) ?(.*)$")
  local pre = (ns and ("ip -n " .. ns .. " -j ") or "ip -j ") .. (fam and fam .. " " or "")
  local out = H.sh(pre .. "neigh show " .. (rest or args))
  local list = H.json((out:gsub(":null", ":true")))
  local dev = (rest or args):match("dev (%S+)")
  for _, e in ipairs(list) do e.dev = e.dev or dev end
  return list
end

-- An entry of either tool in one shape, as a sortable string.
local function key(e)
  local state = e.state
  if type(state) == "table" then state = state[1] and state[1]:lower() end
  return table.concat({e.dst or "-", e.dev or "-", e.lladdr or "-", state or "-",
                       e.router and "router" or "", e.proxy and "proxy" or ""}, " ")
end

-- The kernel adds IPv6 multicast entries (ff02::...) on its own whenever it sends MLD
-- reports, so they come and go between two listings: left out of comparisons.
local function keys(list, dev)
  local out = {}
  for _, e in ipairs(list) do
    if (dev == nil or e.dev == dev) and not (e.dst or ""):find("^ff0") then out[#out + 1] = key(e) end
  end
  table.sort(out)
  return out
end

describe("cnet.neigh.add", function()
  it("makes IPv4 and IPv6 entries in each state that ip reads back identically", function()
    local a = H.veth("n")
    cnet.neigh.add{dst = "192.0.2.5", dev = a, lladdr = "02:00:00:00:00:05"}
    cnet.neigh.add{dst = "192.0.2.6", dev = a, lladdr = "02:00:00:00:00:06", state = "stale"}
    cnet.neigh.add{dst = "192.0.2.7", dev = a, lladdr = "02:00:00:00:00:07", state = "noarp"}
    cnet.neigh.add{dst = "2001:db8::6", dev = a, lladdr = "02:00:00:00:00:08",
                   state = "reachable", router = true}
    local want = {
      "192.0.2.5 " .. a .. " 02:00:00:00:00:05 permanent  ",
      "192.0.2.6 " .. a .. " 02:00:00:00:00:06 stale  ",
      "192.0.2.7 " .. a .. " 02:00:00:00:00:07 noarp  ",
      "2001:db8::6 " .. a .. " 02:00:00:00:00:08 reachable router ",
    }
    local function mine(e) return e.dst:find("^192%.0%.2%.") or e.dst == "2001:db8::6" end
    local function pick(list)
      local out = {}
      for _, e in ipairs(list) do if mine(e) then out[#out + 1] = e end end
      return keys(out, a)
    end
    assert.are.same(want, pick(ipneigh()))
    assert.are.same(want, pick(cnet.neigh.list(a)))
    H.sh("ip link del " .. a)
  end)

  it("reads back what ip made, every entry and field identical", function()
    local a, b = H.veth("n")
    H.ip_batch({
      "neigh add 198.51.100.1 lladdr 02:00:00:00:01:01 dev " .. a .. " nud permanent",
      "neigh add 198.51.100.2 lladdr 02:00:00:00:01:02 dev " .. a .. " nud stale",
      "neigh add 198.51.100.3 lladdr 02:00:00:00:01:03 dev " .. b .. " nud reachable",
      "neigh add 2001:db8:1::1 lladdr 02:00:00:00:01:04 dev " .. b .. " nud permanent router",
    })
    -- ip's view and cnet's, of the whole namespace (the kernel's own multicast entries too)
    assert.are.same(keys(ipneigh()), keys(cnet.neigh.list()))
    assert.are.same(keys(ipneigh("dev " .. b .. " nud all")), keys(cnet.neigh.list{dev = b}))
    assert.are.same(keys(ipneigh("nud stale")), keys(cnet.neigh.list{state = "stale"}))
    assert.are.same(keys(ipneigh("-6 nud all")), keys(cnet.neigh.list{family = "inet6"}))
    local both = cnet.neigh.list{state = {"stale", "reachable"}, family = "inet"}
    assert.are.same({"198.51.100.2 " .. a .. " 02:00:00:00:01:02 stale  ",
                     "198.51.100.3 " .. b .. " 02:00:00:00:01:03 reachable  "}, keys(both))
    for _, e in ipairs(both) do assert.are.equal("inet", e.family) end
    H.sh("ip link del " .. a)
  end)

  it("makes proxy entries, listed apart as ip lists them", function()
    local a = H.veth("n")
    cnet.neigh.add{dst = "192.0.2.9", dev = a, proxy = true}
    cnet.neigh.add{dst = "2001:db8::9", dev = a, proxy = true}
    H.sh("ip neigh add proxy 192.0.2.10 dev " .. a)
    local want = keys(ipneigh("proxy"))
    assert.are.equal(3, #want)
    assert.are.same(want, keys(cnet.neigh.list{proxy = true}))
    for _, e in ipairs(cnet.neigh.list{proxy = true}) do assert.is_true(e.proxy) end
    for _, e in ipairs(cnet.neigh.list()) do assert.is_nil(e.proxy) end
    cnet.neigh.delete{dst = "192.0.2.9", dev = a, proxy = true}
    cnet.neigh.delete{dst = "192.0.2.10", dev = a, proxy = true}
    assert.are.same({"2001:db8::9 " .. a .. " - -  proxy"}, keys(ipneigh("proxy")))
    H.sh("ip link del " .. a)
  end)

  it("raises EEXIST for an existing entry and leaves it as it was; replace overwrites", function()
    local a = H.veth("n")
    cnet.neigh.add{dst = "192.0.2.20", dev = a, lladdr = "02:00:00:00:00:20"}
    local ok, err = pcall(cnet.neigh.add, {dst = "192.0.2.20", dev = a, lladdr = "02:00:00:00:00:21"})
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("neigh.add", err.op)
    assert.are.equal("192.0.2.20 dev " .. a, err.object)
    assert.are.equal("neigh.add 192.0.2.20 dev " .. a .. ": File exists", tostring(err))
    assert.are.equal("02:00:00:00:00:20", ipneigh("192.0.2.20 dev " .. a)[1].lladdr)
    cnet.neigh.replace{dst = "192.0.2.20", dev = a, lladdr = "02:00:00:00:00:21", state = "stale"}
    local e = ipneigh("192.0.2.20 dev " .. a)[1]
    assert.are.equal("02:00:00:00:00:21", e.lladdr)
    assert.are.same({"STALE"}, e.state)
    H.sh("ip link del " .. a)
  end)

  it("rejects bad input with clear errors before sending anything", function()
    local a = H.veth("n")
    local before = #ipneigh("-4")
    local ok, err = pcall(cnet.neigh.add, {dst = "192.0.2.300", dev = a, lladdr = "02:00:00:00:00:01"})
    assert.are.equal('neigh.add 192.0.2.300 dev ' .. a .. ': Invalid argument: invalid address \'192.0.2.300\'',
      tostring(err))
    ok, err = pcall(cnet.neigh.add, {dst = "192.0.2.30", dev = a, lladdr = "02:zz"})
    assert.are.equal('neigh.add 192.0.2.30 dev ' .. a .. ': Invalid argument: invalid mac address "02:zz"',
      tostring(err))
    ok, err = pcall(cnet.neigh.add, {dst = "192.0.2.30", dev = "nosuch0", lladdr = "02:00:00:00:00:01"})
    assert.are.equal("ENODEV", err.code)
    assert.are.equal("neigh.add 192.0.2.30 dev nosuch0: No such device: dev nosuch0", tostring(err))
    ok, err = pcall(cnet.neigh.add, {dst = "192.0.2.30", dev = a}) -- no lladdr: the kernel says
    assert.is_false(ok)
    assert.are.equal("EINVAL", err.code)
    assert.has_error(function() cnet.neigh.add{dst = "192.0.2.30", dev = a, mac = "x"} end,
      "bad argument #1 to 'add' (unknown option 'mac')")
    assert.has_error(function() cnet.neigh.add{dst = "192.0.2.30"} end,
      "bad argument #1 to 'add' (field 'dev' required)")
    assert.has_error(function() cnet.neigh.add{dev = a} end,
      "bad argument #1 to 'add' (field 'dst' required (an IPv4 or IPv6 address))")
    assert.has_error(function() cnet.neigh.add{dst = "192.0.2.30", dev = a, state = "sleepy"} end,
      "bad argument #1 to 'add' (field 'state': unknown state 'sleepy')")
    local ok, msg = pcall(cnet.neigh.add, {dst = "192.0.2.30", dev = a, state = ("x"):rep(3000)})
    assert.is_true(not ok and #tostring(msg) < 1000, tostring(msg):sub(1, 300))
    assert.has_error(function() cnet.neigh.list{state = "sleepy"} end,
      "bad argument #1 to 'list' (field 'state': unknown state 'sleepy')")
    assert.has_error(function() cnet.neigh.list{colour = 1} end,
      "bad argument #1 to 'list' (unknown option 'colour')")
    ok, err = pcall(cnet.neigh.list, "nosuch0")
    assert.are.equal("neigh.list nosuch0: No such device", tostring(err))
    assert.are.equal(before, #ipneigh("-4"))
    H.sh("ip link del " .. a)
  end)
end)

describe("cnet.neigh.delete and flush", function()
  it("deletes one entry, raises ENOENT for a missing one", function()
    local a = H.veth("n")
    H.sh("ip neigh add 192.0.2.40 lladdr 02:00:00:00:00:40 dev " .. a)
    cnet.neigh.delete{dst = "192.0.2.40", dev = a}
    assert.are.same({}, ipneigh("192.0.2.40 dev " .. a))
    local ok, err = pcall(cnet.neigh.delete, {dst = "192.0.2.40", dev = a})
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("neigh.delete 192.0.2.40 dev " .. a .. ": No such file or directory", tostring(err))
    H.sh("ip link del " .. a)
  end)

  it("a listed entry can be given back to delete", function()
    local a = H.veth("n")
    H.sh("ip neigh add 2001:db8::41 lladdr 02:00:00:00:00:41 dev " .. a .. " router")
    for _, e in ipairs(cnet.neigh.list{dev = a, family = "inet6", state = "permanent"}) do
      cnet.neigh.delete(e)
    end
    assert.are.same({}, ipneigh("2001:db8::41 dev " .. a))
    H.sh("ip link del " .. a)
  end)

  it("flushes all but permanent and noarp entries by default, as ip neigh flush", function()
    local a, b = H.veth("n")
    H.ip_batch({
      "neigh add 192.0.2.50 lladdr 02:00:00:00:00:50 dev " .. a .. " nud permanent",
      "neigh add 192.0.2.51 lladdr 02:00:00:00:00:51 dev " .. a .. " nud stale",
      "neigh add 192.0.2.52 lladdr 02:00:00:00:00:52 dev " .. a .. " nud reachable",
      "neigh add 192.0.2.53 lladdr 02:00:00:00:00:53 dev " .. a .. " nud noarp",
      "neigh add 192.0.2.54 lladdr 02:00:00:00:00:54 dev " .. b .. " nud stale",
    })
    assert.are.equal(2, cnet.neigh.flush(a))
    assert.are.same({"192.0.2.50 " .. a .. " 02:00:00:00:00:50 permanent  ",
                     "192.0.2.53 " .. a .. " 02:00:00:00:00:53 noarp  "},
      keys(ipneigh("-4 nud all"), a))
    assert.are.equal(1, #ipneigh("dev " .. b .. " nud stale"))
    assert.are.equal(1, cnet.neigh.flush{dev = a, state = "permanent"})
    assert.are.same({"192.0.2.53 " .. a .. " 02:00:00:00:00:53 noarp  "}, keys(ipneigh("-4 nud all"), a))
    assert.are.equal(1, cnet.neigh.flush{family = "inet", state = "stale"})
    assert.are.same({}, ipneigh("dev " .. b .. " nud stale"))
    H.sh("ip link del " .. a)
  end)
end)

describe("cnet.neigh in batches and namespaces", function()
  it("queues adds in a batch and names the failed one", function()
    local a = H.veth("n")
    local ok, err = pcall(cnet.batch, function()
      for i = 1, 20 do
        cnet.neigh.add{dst = "192.0.2." .. (100 + i), dev = a, lladdr = ("02:00:00:00:01:%02x"):format(i)}
      end
      cnet.neigh.add{dst = "192.0.2.101", dev = a, lladdr = "02:00:00:00:00:01"} -- exists by then
      cnet.neigh.delete{dst = "192.0.2.120", dev = a}
    end)
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("neigh.add 192.0.2.101 dev " .. a .. ": File exists", tostring(err))
    assert.matches("neigh_spec.lua:%d+:", err.where)
    assert.are.equal(1, #err.failures)
    assert.are.equal(19, #ipneigh("-4 dev " .. a .. " nud permanent"))
    H.sh("ip link del " .. a)
  end)

  it("works on a namespace handle", function()
    local name = H.name("nns")
    local ns <close> = cnet.netns.add(name)
    ns.link.add{name = "v0", type = "veth", peer = "v1", up = true}
    ns.neigh.add{dst = "192.0.2.60", dev = "v0", lladdr = "02:00:00:00:00:60"}
    assert.are.same({"192.0.2.60 v0 02:00:00:00:00:60 permanent  "}, keys(ipneigh("-4 nud permanent", name)))
    assert.are.same({}, keys(ipneigh("192.0.2.60")))
    assert.are.same(keys(ipneigh(nil, name)), keys(ns.neigh.list()))
  end)
end)
