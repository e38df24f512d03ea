-- Every public function, driven with bad input: wrong types, out-of-range numbers, NaN and
-- infinities, floats, strings with a NUL byte (after a valid value, so a truncation would
-- act on that value), empty and 1 MiB strings, deep tables, in each positional argument and
-- each field of an options table. Each call must raise a clear error (Lua's "bad argument"
-- shape naming the argument, or an error object naming the operation; a short message),
-- never crash, and change nothing in the kernel: /proc is read after every call, and `ip -j`,
-- `nft -j` and /run/netns before and after each function.
--
-- The functions come from walking the module table, a namespace handle's API table and a
-- transaction's methods, so a function added later is found; one without a template in
-- tests/spec/support/api_templates.lua fails the test. A template is a valid call (args) and
-- the slots to spoil in it, each with the kind of value it takes (what the kind accepts is
-- not a bad value, so is not tried).
local cnet = require "cnet"

local LONG = ("a"):rep(1 << 20)

local self_pid = tonumber(H.read("/proc/self/stat"):match("^(%d+)"))
local A = dofile(H.source .. "/tests/spec/support/api_templates.lua")(cnet,
  {pid = self_pid, sh = H.sh, write = H.write})
local T, K, S, O, fixtures = A.T, A.K, A.S, A.O, A.fixtures
local INT_MAX = A.INT_MAX

-- ---- bad values ----

local function deep(n)
  local t = {}
  for _ = 1, n do t = {t} end
  return t
end
local closed = cnet.netns.current()
closed.close()

-- Each bad value for a slot whose valid value is v: {label, value}.
local function bad_values(v)
  local base = type(v) == "string" and v or "x"
  return {
    {"nil", nil}, {"true", true}, {"false", false}, {"0", 0}, {"-1", -1}, {"1.5", 1.5},
    {"nan", 0 / 0}, {"inf", math.huge}, {"-inf", -math.huge}, {"2^31", 2 ^ 31 // 1},
    {"2^32+1", 2 ^ 32 // 1 + 1}, {"2^63 (float)", 2.0 ^ 63}, {"mininteger", math.mininteger},
    {"maxinteger", math.maxinteger}, {"empty string", ""},
    {"NUL after the value", base .. "\0x"}, {"NUL before the value", "\0" .. base},
    {"1 MiB string", LONG}, {"empty table", {}}, {"deep table", deep(200)},
    {"function", print}, {"coroutine", coroutine.create(print)}, {"userdata", io.stdout},
    {"closed handle", closed},
  }
end

-- ---- kernel state ----

-- Cheap, fork-free view after each call: link names, named namespaces (their mounts), IPv4 and
-- IPv6 routes and addresses, forwarding.
local function cheap()
  local links = {}
  for line in H.read("/proc/net/dev"):gmatch("[^\n]+") do
    links[#links + 1] = line:match("^%s*([^:%s]+):")
  end
  links = table.concat(links, " ")
  local mounts = {}
  for line in H.read("/proc/self/mountinfo"):gmatch("[^\n]+") do
    if line:find("/run/netns/", 1, true) then mounts[#mounts + 1] = line:match("(/run/netns/%S*)") end
  end
  local v6, a6 = {}, {}
  for line in H.read("/proc/net/ipv6_route"):gmatch("[^\n]+") do
    v6[#v6 + 1] = line:match("^%x+ %x+ %x+ %x+ %x+") -- without the counters
  end
  for line in H.read("/proc/net/if_inet6"):gmatch("[^\n]+") do
    -- without the flags, which change when duplicate address detection ends
    a6[#a6 + 1] = table.concat({line:match("^(%x+) (%x+) (%x+) (%x+) %x+ +(%S+)")}, " ")
  end
  v6, a6 = table.concat(v6, "\n"), table.concat(a6, "\n")
  return table.concat({links, table.concat(mounts, " "), H.read("/proc/net/route"),
                       H.read("/proc/net/fib_trie"), v6, a6,
                       H.read("/proc/sys/net/ipv4/ip_forward")}, "\n--\n")
end

-- Full view through iproute2, nft and /run/netns, of the sandbox's namespace or of netns ns.
local function full(ns)
  local ip = ns and ("ip -n " .. ns .. " -j ") or "ip -j "
  local nft = ns and ("ip netns exec " .. ns .. " nft -j list ruleset") or "nft -j list ruleset"
  local tc = ns and ("ip netns exec " .. ns .. " tc -j qdisc show") or "tc -j qdisc show"
  return table.concat({H.sh(tc), H.sh(ip .. "link"), H.sh(ip .. "addr"), H.sh(ip .. "route show table all"),
                       H.sh(ip .. "-6 route show table all"), H.sh(nft), H.sh("ls -a /run/netns")},
                      "\n")
end


-- ---- driving ----

local copy, put, get = A.copy, A.put, A.get

-- The name Lua's messages give a value's type ("FILE*", "cnet.netns", "no value").
local type_names = {["nil"] = true, ["no value"] = true, boolean = true, number = true,
                    string = true, table = true, ["function"] = true, thread = true,
                    userdata = true, ["FILE*"] = true, ["cnet.netns"] = true}
local function typename(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and type(mt.__name) == "string" and mt.__name or type(v)
end

-- Checks that err is a clear error for the bad value put at path; returns a failure or nil.
local function judge(err, path, value)
  local msg = tostring(err)
  if #msg > 1000 then return "message of " .. #msg .. " bytes: " .. msg:sub(1, 200) end
  if type(err) == "table" then
    if getmetatable(err) == nil or type(err.op) ~= "string" or type(err.code) ~= "string" then
      return "an error table that is not a cnet.error: " .. msg
    end
    if msg:sub(1, #err.op) ~= err.op then return "error object message without its op: " .. msg end
    return nil
  end
  if type(err) ~= "string" then return "raised a " .. type(err) end
  local arg = msg:match("^bad argument #(%d+) to '[^']+' %(.+%)$")
  if not arg then return "not a 'bad argument' message: " .. msg end
  if tonumber(arg) ~= path[1] then
    return ("blames argument #%s, the bad value is in #%d: %s"):format(arg, path[1], msg)
  end
  local field = path[#path]
  if #path > 1 and type(field) == "string" and not msg:find(field, 1, true) then
    return "does not name field '" .. field .. "': " .. msg
  end
  -- "got T" must be the type of what was given (not of the table around it)
  local got = msg:match("got ([%w%.%*]+ ?[%w]*)%)$") or msg:match("got ([%w%.%*]+)")
  if got and not type_names[got] then got = got:match("^[%w%.%*]+") end
  if got and type_names[got] and got ~= typename(value) and got ~= type(value) and
     not (got == "no value" and value == nil) then
    return ("says 'got %s' for a %s: %s"):format(got, typename(value), msg)
  end
  return nil
end

local function pathname(path)
  local s = "#" .. path[1]
  for i = 2, #path do s = s .. (type(path[i]) == "string" and ("." .. path[i]) or ("[" .. path[i] .. "]")) end
  return s
end

-- Drives fn (called name) with every bad value of every slot of every variant. Returns the
-- list of failures (strings).
local function drive(fn, name, variants, failures, watch)
  local calls = 0
  for _, v in ipairs(variants) do
    for _, slot in ipairs(v.slots) do
      local valid = get(v.args, slot.path)
      for _, bad in ipairs(bad_values(valid)) do
        local label, value = bad[1], bad[2]
        local skip = slot.kind.ok(value) or (value == nil and slot.optional)
        if label == "1 MiB string" and slot.kind.long then skip = false end
        if not skip then
          local args = copy(v.args)
          if put(args, slot.path, value) then
            local before = watch and cheap()
            calls = calls + 1
            local ok, err = pcall(fn, table.unpack(args, 1, math.max(#v.args, slot.path[1])))
            local where = ("%s %s = %s"):format(name, pathname(slot.path), label)
            if ok and not slot.kind.long then
              failures[#failures + 1] = where .. ": accepted"
            elseif not ok then
              local why = judge(err, slot.path, value)
              if why then failures[#failures + 1] = where .. ": " .. why end
            end
            if watch and cheap() ~= before then
              failures[#failures + 1] = where .. ": changed the kernel's state"
            end
          end
        end
      end
    end
  end
  return calls
end

-- Every C function reachable from t (a module, API or method table), as "prefix.name" -> fn.
-- (Functions written in Lua, such as cnet.topology's, reach the kernel only through these.)
local function functions(t, prefix, out, skip)
  out = out or {}
  for k, v in pairs(t) do
    local name = (prefix and (prefix .. ".") or "") .. k
    if type(v) == "function" then
      if debug.getinfo(v, "S").what == "C" then out[name] = v end
    elseif type(v) == "table" and not (skip and skip[k]) then functions(v, name, out, skip) end
  end
  return out
end

local function sorted(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

describe("every public function", function()
  local ns
  setup(function()
    fixtures()
    ns = cnet.netns.add("targs")
    for k in pairs(cnet) do local _ = ns[k] end -- binds every part of its API (first use)
    fixtures("targs")
  end)
  teardown(function()
    if ns then ns.close() end
    H.try("ip netns del targs")
  end)

  it("has a template here (a new function gets one)", function()
    local missing = {}
    local fns = functions(cnet, nil, nil, {self = true})
    for name in pairs(functions((debug.getuservalue(ns, 1)))) do fns[name] = true end
    local tx = cnet.nft.transaction()
    for name in pairs(functions((debug.getuservalue(tx, 2)))) do
      fns[(T["tx." .. name] and "tx." or "nft.") .. name] = true
    end
    tx.close()
    local mon <close> = cnet.monitor{links = true}
    for name in pairs(getmetatable(mon).methods) do fns["monitor:" .. name] = true end
    for _, name in ipairs(sorted(fns)) do
      if not T[name] then missing[#missing + 1] = name end
    end
    assert.are.same({}, missing)
  end)

  it("of the module refuses bad input clearly, crashing on none and changing nothing", function()
    local state = full()
    local ns_state = full("targs")
    local failures, calls = {}, 0
    local fns = functions(cnet, nil, nil, {self = true})
    for _, name in ipairs(sorted(fns)) do
      calls = calls + drive(fns[name], name, T[name] or {}, failures, true)
    end
    assert.are.same({}, failures)
    assert.are.equal(state, full(), "the sandbox's namespace changed")
    assert.are.equal(ns_state, full("targs"), "namespace targs changed")
    assert.is_true(calls > 1000, "only " .. calls .. " calls")
    print(("\n%d bad calls to the module's functions"):format(calls))
  end)

  it("of a namespace handle refuses bad input clearly, crashing on none and changing nothing", function()
    local state = full("targs")
    local failures, calls = {}, 0
    local fns = functions((debug.getuservalue(ns, 1)))
    fns.close = nil -- takes nothing; driving it would only close the handle
    fns.kill = nil
    for _, name in ipairs(sorted(fns)) do
      calls = calls + drive(fns[name], "ns." .. name, T[name] or {}, failures, false)
    end
    -- kill with force: only on this handle (in the sandbox's own namespace it would end the test)
    calls = calls + drive(ns.kill, "ns.kill", {{args = {"TERM", {wait = 1, force = true}},
                                                 slots = {S({1}, K.sig, O),
                                                          S({2, "wait"}, K.num(0, 86400 * 365), O),
                                                          S({2, "force"}, K.bool, O)}}},
                          failures, false)
    assert.are.same({}, failures)
    assert.are.equal(state, full("targs"), "namespace targs changed")
    assert.is_true(calls > 1000, "only " .. calls .. " calls")
  end)

  it("of a monitor refuses bad input clearly", function()
    local failures, calls = {}, 0
    local mon <close> = cnet.monitor{links = true}
    local methods = getmetatable(mon).methods
    for _, name in ipairs(sorted(methods)) do
      local variants = {}
      for i, v in ipairs(T["monitor:" .. name] or {}) do
        variants[i] = {args = {mon, table.unpack(v.args, 2)}, slots = v.slots}
      end
      if name ~= "close" then calls = calls + drive(methods[name], "monitor:" .. name, variants, failures, false) end
    end
    assert.are.same({}, failures)
    assert.is_false(mon.closed)
    assert.is_true(calls > 50, "only " .. calls .. " calls")
  end)

  it("of a transaction refuses bad input clearly, or queues it for the kernel to refuse", function()
    local state = full()
    local failures, calls = {}, 0
    local probe <close> = cnet.nft.transaction()
    local fns = functions((debug.getuservalue(probe, 2)))
    for _, name in ipairs(sorted(fns)) do
      -- each call on a new transaction; what it accepts must then fail to commit
      local function via_tx(...)
        local tx <close> = cnet.nft.transaction()
        local ok, err = pcall(tx[name], ...)
        if not ok then error(err, 0) end
        if T["tx." .. name] then return end
        ok, err = pcall(tx.commit)
        if not ok then error(err, 0) end
      end
      local t = T["tx." .. name] or T["nft." .. name]
      calls = calls + drive(via_tx, "tx." .. name, t or {}, failures, false)
    end
    assert.are.same({}, failures)
    assert.are.equal(state, full(), "the sandbox's namespace changed")
    assert.is_true(calls > 500, "only " .. calls .. " calls")
  end)
end)

-- ---- names at their length limit ----

-- Whether the decoded JSON value v holds the string s anywhere (a name in `nft -j` output).
local function holds(v, s)
  if v == s then return true end
  if type(v) ~= "table" then return false end
  for _, x in pairs(v) do if holds(x, s) then return true end end
  return false
end
local function nft_has(name) return holds(H.json(H.sh("nft -j list ruleset")), name) end
local function link_has(name)
  for _, l in ipairs(H.ipj("link show")) do if l.ifname == name then return true end end
  return false
end
local renamed = "lren"
local function netns_has(name)
  for _, n in ipairs(H.json(H.sh("ip -j netns list"))) do if n.name == name then return true end end
  return false
end

-- Each name: the kernel's limit (IFNAMSIZ - 1, NFT_NAME_MAXLEN - 1, NAME_MAX for a file in
-- /run/netns), the call that takes it, where it shows up, and what the error of a name one
-- byte longer must name: the operation (op for an error object, fn for a bad argument) and
-- the name's role (said).
local limits = {
  {name = "interface name of link.add", limit = 15, op = "link.add", said = "interface name longer than 15 bytes",
   make = function(n) cnet.link.add{name = n, type = "bridge"} end, has = link_has},
  {name = "veth peer name", limit = 15, op = "link.add", said = "peer name longer than 15 bytes",
   make = function(n) cnet.link.add{name = "lp" .. #n .. n:sub(1, 1), type = "veth", peer = {name = n}} end,
   has = link_has},
  {name = "new name of link.set", limit = 15, op = "link.set", said = "new name longer than 15 bytes",
   make = function(n) -- renames bridge lren, then the name it took
     cnet.link.set(renamed, {name = n})
     renamed = n
   end, has = link_has},
  {name = "iifname in a rule", limit = 15, op = "nft.add", said = "longer than 15 characters",
   make = function(n) cnet.nft.add_rule("inet tlim c", ('iifname "%s" accept'):format(n)) end, has = nft_has},
  {name = "device of a netdev chain", limit = 15, op = "nft.add", said = "too long",
   make = function(n)
     if #n < 16 then cnet.link.add{name = n, type = "bridge"} end
     cnet.nft.add_chain("netdev tlim dev" .. #n, {type = "filter", hook = "ingress", device = n})
   end, -- nft 1.0.6 leaves a chain's device out of its JSON
   has = function(n) return H.sh("nft list chains netdev"):find('device "' .. n .. '"', 1, true) ~= nil end},
  {name = "nft table", limit = 255, op = "nft.add", said = "longer than 255 bytes",
   make = function(n) cnet.nft.add_table("inet " .. n) end, has = nft_has},
  {name = "nft chain", limit = 255, op = "nft.add", said = "longer than 255 bytes",
   make = function(n) cnet.nft.add_chain("inet tlim " .. n) end, has = nft_has},
  {name = "nft set", limit = 255, op = "nft.add", said = "longer than 255 bytes",
   make = function(n) cnet.nft.add_set("inet tlim " .. n, {type = "ipv4_addr"}) end, has = nft_has},
  {name = "table of nft.apply", limit = 255, op = "nft.apply", said = "longer than 255 bytes",
   make = function(n) cnet.nft.apply{table = "ip " .. n, chains = {c = {}}} end, has = nft_has},
  {name = "chain of nft.apply", limit = 255, fn = "cnet.nft.apply", said = "chain name: too long (256 bytes, at most 255)",
   make = function(n) cnet.nft.apply{table = "ip tlimc", chains = {[n] = {}}} end, has = nft_has},
  {name = "set of nft.apply", limit = 255, fn = "cnet.nft.apply", said = "set name: too long (256 bytes, at most 255)",
   make = function(n) cnet.nft.apply{table = "ip tlims", sets = {[n] = {type = "ipv4_addr"}}} end, has = nft_has},
  {name = "namespace name", limit = 255, fn = "cnet.netns.add", said = "namespace name: too long (256 bytes, at most 255)",
   make = function(n) cnet.netns.add(n).close() end, has = netns_has},
}

describe("a name at its length limit", function()
  setup(function()
    cnet.link.add{name = renamed, type = "bridge"}
    cnet.nft.add_table("inet tlim")
    cnet.nft.add_chain("inet tlim c")
    cnet.nft.add_table("netdev tlim")
  end)
  teardown(function()
    H.try("nft flush ruleset")
    for _, l in ipairs(H.ipj("link show")) do
      if #l.ifname == 15 or l.ifname:match("^lp1[56]") then H.try("ip link del " .. l.ifname) end
    end
    for _, n in ipairs(H.json(H.sh("ip -j netns list"))) do
      if #n.name == 255 then H.try("ip netns del " .. n.name) end
    end
  end)

  for i, c in ipairs(limits) do
    it("is taken, and one byte more refused with nothing made: " .. c.name, function()
      -- a letter per case, and another for the name that is too long, so a name cut to the
      -- limit would be a new name, seen in the state compared
      local at, over = string.char(96 + i):rep(c.limit), string.char(64 + i):rep(c.limit + 1)
      c.make(at)
      assert.is_true(c.has(at), "the name of " .. c.limit .. " bytes is not there")
      local before = full()
      local ok, err = pcall(c.make, over)
      assert.is_false(ok, "a name of " .. (c.limit + 1) .. " bytes was taken")
      local msg = tostring(err)
      assert.is_true(#msg < 1000, "message of " .. #msg .. " bytes")
      if c.op then
        assert.are.equal("table", type(err), msg)
        assert.are.equal(c.op, err.op, msg)
        assert.are.equal(c.op .. " ", msg:sub(1, #c.op + 1))
      else
        assert.are.equal("string", type(err), msg)
        -- Lua names the function by the field it was called through ('apply'), or when it
        -- cannot, by where it is in the module ('cnet.nft.apply')
        local called = msg:match("bad argument #1 to '([%w_.]+)'")
        assert.truthy(called and (called == c.fn or c.fn:sub(-#called - 1) == "." .. called), msg)
      end
      assert.truthy(msg:find(c.said, 1, true), msg)
      assert.are.equal(before, full(), "something was made for the refused name")
      assert.is_false(c.has(over))
    end)
  end
end)
