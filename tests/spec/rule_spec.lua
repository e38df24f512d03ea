-- cnet.rule: policy routing rules, checked against `ip -j rule` both ways.
local cnet = require "cnet"

-- `ip -j [-6] rule show`, with ip's null-valued flags ("not": null) read as true.
local function iprules(v6, ns)
  local pre = (ns and ("ip -n " .. ns .. " -j ") or "ip -j ") .. (v6 and "-6 " or "")
  return H.json((H.sh(pre .. "rule show"):gsub(":null", ":true")))
end

local names = {[253] = "default", [254] = "main", [255] = "local"}

-- A rule of either tool in one shape, as a string.
local function key(r)
  local from, to
  if r.srclen then from = r.src .. "/" .. r.srclen
  elseif r.src and r.src ~= "all" then from = r.src
  else from = r.from end
  if r.dstlen then to = r.dst .. "/" .. r.dstlen else to = r.to end
  local fwmark, fwmask = r.fwmark, r.fwmask
  if type(fwmark) == "string" then fwmark = tonumber(fwmark) end
  if type(fwmask) == "string" then fwmask = tonumber(fwmask) end
  local action = r.action or (r["goto"] and "goto") or (r.nop and "nop") or "lookup"
  local tbl = r.table
  if action ~= "lookup" then tbl = nil end
  if type(tbl) == "string" and tonumber(tbl) then tbl = tonumber(tbl) end
  if type(tbl) == "number" and names[tbl] then tbl = names[tbl] end
  return table.concat({tostring(r.priority), (r["not"] or r.invert) and "not" or "", from or "all",
                       to or "-", tostring(fwmark or "-"), tostring(fwmask or "-"), r.iif or "-",
                       r.oif or "-", action, tostring(tbl or "-"), tostring(r["goto"] or "-"),
                       tostring(r.suppress_prefixlen or r.suppress_prefixlength or "-")}, " ")
end

local function keys(list, family)
  local out = {}
  for _, r in ipairs(list) do
    if family == nil or r.family == nil or r.family == family then out[#out + 1] = key(r) end
  end
  return out
end

describe("cnet.rule", function()
  it("adds IPv4 and IPv6 rules of every kind that ip reads back identically", function()
    cnet.rule.add{priority = 100, from = "10.0.0.0/8", table = 100}
    cnet.rule.add{priority = 110, to = "198.51.100.0/24", from = "10.1.0.0/16", table = "main"}
    cnet.rule.add{priority = 200, fwmark = 0x10, fwmask = 0xff, iif = "eth9", table = 101}
    cnet.rule.add{priority = 210, oif = "eth8", table = 102}
    cnet.rule.add{priority = 300, to = "192.0.2.0/24", action = "blackhole"}
    cnet.rule.add{priority = 310, to = "192.0.2.128/25", action = "unreachable"}
    cnet.rule.add{priority = 320, from = "203.0.113.0/24", action = "prohibit"}
    cnet.rule.add{priority = 400, table = "main", suppress_prefixlength = 0}
    cnet.rule.add{priority = 500, ["goto"] = 600}
    cnet.rule.add{priority = 600, action = "nop"}
    cnet.rule.add{priority = 700, invert = true, from = "10.2.0.0/16", table = 103}
    cnet.rule.add{from = "2001:db8::/32", table = 100}
    cnet.rule.add{priority = 50, family = "inet6", fwmark = 7, action = "unreachable"}
    local v4, v6 = iprules(), iprules(true)
    assert.are.same(keys(v4), keys(cnet.rule.list{family = "inet"}))
    assert.are.same(keys(v6), keys(cnet.rule.list{family = "inet6"}))
    local all = cnet.rule.list()
    assert.are.same(keys(v4), keys(all, "inet"))
    assert.are.same(keys(v6), keys(all, "inet6"))
    -- the fields themselves, as cnet names them
    local by = {}
    for _, r in ipairs(cnet.rule.list{family = "inet"}) do by[r.priority] = r end
    assert.are.same({priority = 200, family = "inet", fwmark = 16, fwmask = 255, iif = "eth9",
                     action = "lookup", table = 101}, by[200])
    assert.are.same({priority = 500, family = "inet", action = "goto", ["goto"] = 600}, by[500])
    assert.are.same({priority = 700, family = "inet", from = "10.2.0.0/16", invert = true,
                     action = "lookup", table = 103}, by[700])
    assert.are.same({priority = 0, family = "inet", action = "lookup", table = "local",
                     protocol = "kernel"}, by[0])
    -- every rule added above goes again, each given back as listed
    for _, r in ipairs(cnet.rule.list()) do
      if r.protocol ~= "kernel" then cnet.rule.delete(r) end
    end
    assert.are.same({"0  all - - - - - lookup local - -", "32766  all - - - - - lookup main - -",
                     "32767  all - - - - - lookup default - -"}, keys(iprules()))
    assert.are.same({"0  all - - - - - lookup local - -", "32766  all - - - - - lookup main - -"},
      keys(iprules(true)))
  end)

  it("reads back what ip made", function()
    H.ip_batch({
      "rule add pref 1000 from 10.10.0.0/16 to 10.20.0.0/16 lookup 200",
      "rule add pref 1001 fwmark 0x1/0x3 lookup 201",
      "rule add pref 1002 not iif lo lookup 202",
      "rule add pref 1003 from all lookup main suppress_prefixlength 8",
      "rule add pref 1004 blackhole",
    })
    H.sh("ip -6 rule add pref 1005 to 2001:db8:1::/48 prohibit")
    assert.are.same(keys(iprules()), keys(cnet.rule.list{family = "inet"}))
    assert.are.same(keys(iprules(true)), keys(cnet.rule.list{family = "inet6"}))
    for p = 1000, 1004 do cnet.rule.delete{priority = p} end
    cnet.rule.delete{priority = 1005, family = "inet6"}
    assert.are.equal(3, #iprules())
    assert.are.equal(2, #iprules(true))
  end)

  it("raises EEXIST, ENOENT and argument errors, changing nothing", function()
    cnet.rule.add{priority = 2000, from = "10.30.0.0/16", table = 300}
    local ok, err = pcall(cnet.rule.add, {priority = 2000, from = "10.30.0.0/16", table = 300})
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("rule.add pref 2000 from 10.30.0.0/16 lookup 300: File exists", tostring(err))
    ok, err = pcall(cnet.rule.delete, {priority = 2001})
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("rule.delete pref 2001 from all: No such file or directory", tostring(err))
    ok, err = pcall(cnet.rule.add, {from = "10.30.0.0/33", table = 300})
    assert.are.equal('rule.add from 10.30.0.0/33 lookup 300: Invalid argument: invalid address \'10.30.0.0/33\'',
      tostring(err))
    ok, err = pcall(cnet.rule.add, {from = "10.0.0.0/8", to = "2001:db8::/32", table = 300})
    assert.are.equal("rule.add from 10.0.0.0/8 to 2001:db8::/32 lookup 300: Invalid argument: address families do not match",
      tostring(err))
    -- an action given by a number that has no name (the API fuzzer found the description of
    -- such a rule reading a null name)
    ok, err = pcall(cnet.rule.add, {from = "10.0.0.0/8", to = "2001:db8::/32", action = 9})
    assert.are.equal("rule.add from 10.0.0.0/8 to 2001:db8::/32 action 9: Invalid argument: address families do not match",
      tostring(err))
    assert.has_error(function() cnet.rule.add{table = 300, pref = 5} end,
      "bad argument #1 to 'add' (unknown option 'pref')")
    assert.has_error(function() cnet.rule.add{table = 300, action = "jump"} end,
      "bad argument #1 to 'add' (field 'action': unknown value 'jump')")
    assert.has_error(function() cnet.rule.add{action = "goto"} end,
      "bad argument #1 to 'add' (field 'goto' required with action 'goto')")
    assert.has_error(function() cnet.rule.add{action = "blackhole", table = 5} end,
      "bad argument #1 to 'add' (field 'table': only with action 'lookup')")
    assert.has_error(function() cnet.rule.add{fwmask = 3, table = 5} end,
      "bad argument #1 to 'add' (field 'fwmask': only with fwmark)")
    assert.has_error(function() cnet.rule.add{iif = "a/b", table = 5} end,
      "bad argument #1 to 'add' (field 'iif': invalid interface name 'a/b')")
    -- a rule of nothing: ip refuses it too (a delete would take the main table's rule)
    assert.has_error(function() cnet.rule.delete{} end,
      "bad argument #1 to 'delete' (a rule needs a selector or an action (priority, from, ...))")
    assert.has_error(function() cnet.rule.add{family = "inet6"} end,
      "bad argument #1 to 'add' (a rule needs a selector or an action (priority, from, ...))")
    assert.has_error(function() cnet.rule.add{priority = -1, table = 5} end,
      "bad argument #1 to 'add' (field 'priority': -1 out of range [0, 4294967295])")
    assert.are.equal(4, #iprules())
    cnet.rule.delete{priority = 2000}
  end)

  it("queues in a batch and works on a namespace handle", function()
    local name = H.name("rns")
    local ns <close> = cnet.netns.add(name)
    local ok, err = pcall(cnet.batch, function()
      for i = 1, 50 do ns.rule.add{priority = 3000 + i, fwmark = i, table = 400 + i} end
      ns.rule.add{priority = 3001, fwmark = 1, table = 401} -- exists by then
    end)
    assert.is_false(ok)
    assert.are.equal("rule.add pref 3001 from all fwmark 0x1 lookup 401: File exists", tostring(err))
    assert.matches("rule_spec.lua:%d+:", err.where)
    assert.are.equal(53, #iprules(false, name))
    assert.are.equal(3, #iprules())
  end)
end)
