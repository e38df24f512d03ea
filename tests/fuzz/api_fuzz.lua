-- Fuzzes the public Lua API: calls the module's C functions (and a namespace handle's, a
-- transaction's and a monitor's) again and again with arguments made from their templates
-- (tests/spec/support/api_templates.lua) with random parts swapped in: random types, edge
-- numbers, NaN and infinities, random bytes with NULs, long strings (up to 1 MiB), long
-- names, tables nested up to 300 deep, unknown and known option keys. Every call must
-- return or raise a clear error (a string or a cnet.error, under 2000 bytes); the process
-- must not crash (run it against the ASan+UBSan module to catch memory errors) and must not
-- leak descriptors. Run inside a sandbox, as root:
--
--   tests/sandbox.sh env LUA_CPATH='build/?.so;;' lua5.4 tests/fuzz/api_fuzz.lua [options]
--     --seconds N   stop after N seconds (default 20)
--     --calls N     stop after N calls
--     --seed S      random seed (default: from the clock; printed, so a run can be replayed)
--     --trace       print every call before making it (to find the one that crashes)
--
-- tests/fuzz/run-api-fuzz runs it against the sanitizer build for as long as asked.
local cnet = require "cnet"

local opts = {seconds = 20, seed = os.time()}
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--trace" then opts.trace = true
    elseif a == "--seconds" or a == "--calls" or a == "--seed" then
      opts[a:sub(3)] = tonumber(arg[i + 1]) or error("bad value for " .. a); i = i + 1
    else error("unknown option " .. a) end
    i = i + 1
  end
end
math.randomseed(opts.seed)
print(("api_fuzz: seed %d"):format(opts.seed))

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local function sh(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  if not ok then error("command failed: " .. cmd) end
end
local function write(path, text)
  local f = assert(io.open(path, "w")); f:write(text); f:close()
end
local function fds()
  local p = io.popen("ls /proc/" .. tonumber(io.open("/proc/self/stat"):read("a"):match("^(%d+)")) .. "/fd | wc -l")
  local n = tonumber(p:read("a")); p:close()
  return n
end

local now = cnet.now or os.time -- (a module older than cnet.now, to try the fuzzer on it)
local pid = tonumber(io.open("/proc/self/stat"):read("a"):match("^(%d+)"))
local A = dofile(here .. "/../spec/support/api_templates.lua")(cnet, {pid = pid, sh = sh, write = write})
local T = A.T
A.fixtures()
sh("mkdir -p /run/fuzz")
local ns = cnet.netns.add("targs")
for k in pairs(cnet) do local _ = ns[k] end -- binds every part of its API (first use)
A.fixtures("targs")

-- ---- the dictionary: every string and key the templates use, plus a few of our own ----

local words, keys = {}, {}
local function harvest(v, depth)
  if depth > 6 then return end
  if type(v) == "string" then words[#words + 1] = v
  elseif type(v) == "table" then
    for k, x in pairs(v) do
      if type(k) == "string" then keys[#keys + 1] = k; words[#words + 1] = k end
      harvest(x, depth + 1)
    end
  end
end
for _, variants in pairs(T) do
  for _, v in ipairs(variants) do harvest(v.args, 0) end
end
for _, w in ipairs{"lo", "ta1", "tbr", "all", "main", "inet6", "ip6", "netdev", "bridge", "inet",
                   "::1", "2001:db8::1/64", "0.0.0.0/0", "default", "255.255.255.255",
                   "ip targs c", "ip targs s", "inet", "drop", "jump c", "ip saddr @s accept",
                   "tcp dport { 22, 80 } counter accept", "ct state established accept",
                   "1:", "1:10", "root", "htb", "ingress", "10mbit", "1.5s", "50%"} do
  words[#words + 1] = w
end

-- ---- random values ----

local function pick(t) return t[math.random(#t)] end

local function bytes(n)
  local out = {}
  for i = 1, n do out[i] = string.char(math.random(0, 255)) end
  return table.concat(out)
end

-- A long input made of valid parts: a word or phrase repeated (a rule of 10000 statements),
-- or a list written out (an anonymous set of 70000 ports).
local function repeated()
  local n = math.floor(2 ^ (math.random() * 17)) -- 1 .. 131072, mostly small
  if math.random() < 0.5 then
    return (pick{"accept ", "counter ", "drop ", pick(words) .. " "}):rep(n)
  end
  local parts = {}
  for i = 1, n do parts[i] = tostring(math.random(0, 65535)) end
  return pick{"tcp dport { ", "udp sport { ", "ip saddr { 10.0.0." } .. table.concat(parts, ", ")
         .. " } accept"
end

local function random_string()
  local r = math.random()
  if r < 0.05 then return repeated() end
  if r < 0.45 then return pick(words) end
  if r < 0.60 then -- a word with something glued on: a NUL, a byte, a long tail
    local w = pick(words)
    local tail = pick{"\0", "\0x", bytes(1), bytes(math.random(1, 8)), ("x"):rep(math.random(10, 300))}
    return math.random() < 0.5 and (w .. tail) or (tail .. w)
  end
  if r < 0.85 then return bytes(math.random(0, 24)) end
  if r < 0.95 then return ("n"):rep(math.random(14, 300)) end -- names about their limits
  if r < 0.99 then return bytes(math.random(256, 70000)) end
  return ("a"):rep(1 << 20)
end

local edges = {0, -1, 1, 2, 4, 6, 15, 16, 64, 255, 256, 65535, 65536, 2 ^ 31 // 1 - 1, 2 ^ 31 // 1,
               2 ^ 32 // 1 - 1, 2 ^ 32 // 1, 2 ^ 32 // 1 + 1, math.maxinteger, math.mininteger,
               0 / 0, math.huge, -math.huge, 1.5, -0.0, 2.0 ^ 63, 1e308, 0.001, 3.0}

local gen
local function random_table(depth)
  local t = {}
  for _ = 1, math.random(0, 4) do
    local k = math.random() < 0.8 and pick(keys) or gen(depth + 1)
    if k ~= nil and k == k then t[k] = gen(depth + 1) end
  end
  if math.random() < 0.05 then -- a long list (elements, argv)
    for i = 1, math.floor(2 ^ (math.random() * 15)) do t[i] = tostring(math.random(0, 65535)) end
  else
    for i = 1, math.random(0, 3) do t[i] = gen(depth + 1) end
  end
  return t
end

local function deep(n)
  local t = {}
  for _ = 1, n do t = {t, name = "x"} end
  return t
end

local closed = cnet.netns.current()
closed.close()
local specials = {print, coroutine.create(print), io.stdout, closed, ns}

function gen(depth)
  depth = depth or 0
  local r = math.random()
  if r < 0.50 then return random_string() end
  if r < 0.70 then
    local e = pick(edges)
    return math.random() < 0.8 and e or math.random(-100000, 100000)
  end
  if r < 0.76 then return math.random() < 0.5 end
  if r < 0.82 then return nil end
  if r < 0.96 then return depth < 4 and random_table(depth) or {} end
  if r < 0.975 then
    local t = deep(math.random(1, 300))
    if math.random() < 0.3 then t.self = t end -- a cycle
    return t
  end
  return pick(specials)
end

-- ---- arguments: a template with random parts ----

local copy, put, get = A.copy, A.put, A.get

-- A long value grown from a valid one, to reach what only long valid-looking input reaches:
-- "accept" repeated, a set written with thousands of elements, a list copied many times.
local function grow(v)
  local n = math.floor(2 ^ (math.random() * 16)) -- 1 .. 65536
  if type(v) == "string" then
    local r = math.random()
    n = math.min(n, (2 << 20) // (#v + 1)) -- at most 2 MiB
    if r < 0.4 then return (v .. " "):rep(n) end
    if r < 0.7 then
      local parts = {}
      for i = 1, n do parts[i] = tostring(i) end
      return v .. " { " .. table.concat(parts, ", ") .. " }"
    end
    return v .. random_string()
  elseif type(v) == "table" and #v > 0 then
    local out = {}
    for i = 1, n do out[i] = v[(i - 1) % #v + 1] end
    return out
  end
  return gen()
end

local function make_args(variant)
  local args = copy(variant.args)
  local n = select("#", table.unpack(variant.args))
  for _ = 1, math.random(1, 3) do
    local r = math.random()
    if r < 0.2 and #variant.slots > 0 then
      local path = pick(variant.slots).path
      put(args, path, grow(get(args, path)))
    elseif r < 0.6 and #variant.slots > 0 then
      put(args, pick(variant.slots).path, gen())
    elseif r < 0.75 then -- a new key in a table argument
      for i = 1, n do
        if type(args[i]) == "table" and math.random() < 0.5 then
          args[i][math.random() < 0.8 and pick(keys) or random_string()] = gen()
        end
      end
    elseif r < 0.9 then
      local i = math.random(1, math.max(n, 1) + 1)
      args[i] = gen()
      n = math.max(n, i)
    end
  end
  return args, math.max(n, #args)
end

-- Bounds what only makes a call slow, not wrong: timeouts, counts, hops, sleeps.
local limits = {timeout = 0.1, wait = 0.2, count = 2, max_hops = 2, probes = 1}
local function bound(name, args)
  local function walk(t, depth)
    if depth > 3 then return end
    for k, v in pairs(t) do
      if limits[k] and type(v) == "number" and v > limits[k] then t[k] = limits[k] end
      if type(v) == "table" and v ~= t then walk(v, depth + 1) end
    end
    t.force = nil -- kill{force = true} on the sandbox's own namespace would end the run
  end
  for i = 1, #args + 3 do
    if type(args[i]) == "table" and getmetatable(args[i]) == nil then walk(args[i], 0) end
  end
  local function at_most(i, limit)
    if type(args[i]) ~= "number" and args[i] ~= nil then return end
    if args[i] == nil or args[i] > limit or args[i] ~= args[i] then args[i] = limit end
  end
  local function options(i, defaults)
    if args[i] == nil then args[i] = {} end
    if type(args[i]) == "table" and getmetatable(args[i]) == nil then
      for k, v in pairs(defaults) do if args[i][k] == nil then args[i][k] = v end end
    end
  end
  -- Files the call creates stay in the sandbox's own /run: a random path could otherwise
  -- name (and truncate) a file of the machine.
  local function confine(v)
    if type(v) ~= "string" then return v end
    return "/run/fuzz/" .. v:gsub("/", "_"):gsub("%.%.", "__")
  end
  local short = name:match("[^.]*$")
  if short == "exec" or short == "spawn" then
    if type(args[2]) == "table" and getmetatable(args[2]) == nil then
      args[2].stdout, args[2].stderr = confine(args[2].stdout), confine(args[2].stderr)
    end
  elseif short == "lock" then
    args[1] = confine(args[1])
    options(2, {timeout = 0})
    if type(args[2]) == "table" and type(args[2].timeout) == "number" then
      args[2].timeout = math.min(args[2].timeout, 0.05)
    end
  end
  if short == "sleep" then at_most(1, 0.01)
  elseif short == "wait" and not name:find("monitor") then at_most(2, 0.2)
  elseif name == "monitor:next" then at_most(2, 0.02)
  elseif name == "monitor:wait" then at_most(3, 0.02)
  elseif short == "ping" then options(2, {timeout = 0.1})
  elseif short == "traceroute" then options(2, {timeout = 0.1, max_hops = 2})
  elseif short == "tcp_connect" then options(3, {timeout = 0.1})
  elseif short == "exec" then options(2, {timeout = 1, stdin = ""}) -- never the terminal
  elseif short == "kill" then options(2, {wait = 0.2})
  end
end

-- ---- the targets ----

local targets = {}
local function add(name, fn, variants)
  if variants and #variants > 0 then targets[#targets + 1] = {name = name, fn = fn, variants = variants} end
end
local function walk(t, prefix, skip)
  for k, v in pairs(t) do
    local name = (prefix and (prefix .. ".") or "") .. k
    if type(v) == "function" and debug.getinfo(v, "S").what == "C" then
      if not (skip and skip[name]) then add(name, v, T[name]) end
    elseif type(v) == "table" and k ~= "self" then
      walk(v, name, skip)
    end
  end
end
-- kill in the sandbox's own namespace is refused without force, and force is never given;
-- close would only close the handle the other targets use
walk(cnet, nil, {kill = true})
for name, fn in pairs((debug.getuservalue(ns, 1))) do
  if type(fn) == "function" then add("ns." .. name, fn, T[name]) end
end
for _, sub in ipairs{"link", "addr", "route", "sysctl", "nft", "tc"} do
  if type(ns[sub]) == "table" then
    for name, fn in pairs(ns[sub]) do
      if type(fn) == "function" then add("ns." .. sub .. "." .. name, fn, T[sub .. "." .. name]) end
    end
  end
end
do
  local tx = cnet.nft.transaction()
  for name in pairs((debug.getuservalue(tx, 2))) do
    local t = T["tx." .. name] or T["nft." .. name]
    add("tx." .. name, function(...)
      local t2 <close> = cnet.nft.transaction()
      t2[name](...)
      if math.random() < 0.5 then t2.commit() end
    end, t)
  end
  tx.close()
end
-- a transaction whose namespace handle was closed (and collected) before it was used
do
  local variants = {}
  for _, op in ipairs{"add_table", "add_chain", "add_rule", "add_set", "add_element"} do
    for _, v in ipairs(T["nft." .. op] or {}) do
      local slots = {}
      for i, slot in ipairs(v.slots) do
        slots[i] = {path = {slot.path[1] + 1, table.unpack(slot.path, 2)}, kind = slot.kind}
      end
      variants[#variants + 1] = {args = {op, table.unpack(v.args)}, slots = slots}
    end
  end
  add("tx of a closed handle", function(op, ...)
    local h = cnet.netns.open("targs")
    local tx <close> = h.nft.transaction()
    h.close()
    collectgarbage()
    tx[op](...)
    tx.commit()
  end, variants)
end
local mon = cnet.monitor and cnet.monitor{links = true}
for name, fn in pairs(mon and getmetatable(mon).methods or {}) do
  if name ~= "close" then
    local variants = {}
    for i, v in ipairs(T["monitor:" .. name] or {}) do
      variants[i] = {args = {mon, table.unpack(v.args, 2)}, slots = v.slots}
    end
    add("monitor:" .. name, fn, variants)
  end
end
table.sort(targets, function(a, b) return a.name < b.name end)

-- ---- the run ----

local findings = {}
local function finding(name, args, n, what)
  if #findings >= 20 then return end
  local ok, shown = pcall(cnet.inspect, args, {depth = 3, width = 100})
  shown = ok and shown or "?"
  if #shown > 600 then shown = shown:sub(1, 600) .. "..." end
  findings[#findings + 1] = ("%s: %s\n    args %s"):format(name, what, shown)
end

local fd0 = fds()
local start, calls, raised = now(), 0, 0
while true do
  if opts.calls and calls >= opts.calls then break end
  if now() - start >= opts.seconds then break end
  local t = pick(targets)
  local args, n = make_args(pick(t.variants))
  bound(t.name, args)
  n = math.max(n, #args)
  calls = calls + 1
  if opts.trace then
    local ok, shown = pcall(cnet.inspect, args, {depth = 2, width = 200})
    io.stderr:write(("%d %s %s\n"):format(calls, t.name, ok and shown:sub(1, 300) or "?"))
  end
  local ok, err = pcall(t.fn, table.unpack(args, 1, n))
  if not ok then
    raised = raised + 1
    local msg = tostring(err)
    if type(err) ~= "string" and not (type(err) == "table" and err.op and err.code) then
      finding(t.name, args, n, "raised a " .. type(err) .. ": " .. msg:sub(1, 200))
    elseif #msg >= 2000 then
      finding(t.name, args, n, ("a message of %d bytes: %s..."):format(#msg, msg:sub(1, 200)))
    end
  end
  if calls % 500 == 0 then collectgarbage() end
end
if mon then mon:close() end
ns.close()
collectgarbage(); collectgarbage()
local fd1 = fds()
print(("api_fuzz: %d calls to %d functions in %.1f s, %d raised, %d findings, %d descriptors before, %d after")
  :format(calls, #targets, now() - start, raised, #findings, fd0, fd1))
if fd1 > fd0 + 2 then findings[#findings + 1] = ("descriptors: %d before, %d after"):format(fd0, fd1) end
if #findings > 0 then
  io.stderr:write(table.concat(findings, "\n") .. "\n")
  io.stderr:write(("api_fuzz: replay with --seed %d\n"):format(opts.seed))
  os.exit(1)
end
