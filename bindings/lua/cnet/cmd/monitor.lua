-- `cnet monitor`: prints the kernel's change notifications as they happen, one line each,
-- like `ip monitor` and `nft monitor` together. On cnet.monitor (bindings/common/monitor.c).
local cnet = require "cnet"

local usage = [[
usage: cnet monitor [--netns NAME] [--timeout SECONDS] [--count N] [OBJECT...]
Prints every change of links, addresses, routes, neighbours, qdiscs and classes, and
nftables tables, chains, rules, sets and elements, one line each, until Ctrl-C.
  OBJECT          any of: links addrs routes neigh tc nft (default: all of them)
  --netns NAME    watch the named namespace (/run/netns/NAME) instead of the current one
  --timeout S     stop after S seconds without a change
  --count N       stop after N changes
Exit status: 0, or 1 when the namespace cannot be opened, 2 on a usage error.
]]

local objects = {links = true, addrs = true, routes = true, neigh = true, tc = true, nft = true}

-- The non-empty ones of its arguments (nil and false skipped), joined by spaces.
local function words(...)
  local out = {}
  for k = 1, select("#", ...) do
    local w = select(k, ...)
    if w and w ~= "" then out[#out + 1] = tostring(w) end
  end
  return table.concat(out, " ")
end

-- The text after "new"/"del" for each kind of event.
local describe = {}

function describe.link(ev)
  return words(ev.name, "(" .. ev.index .. ")", ev.kind, "mtu " .. ev.mtu,
               "<" .. table.concat(ev.flags, ",") .. ">", "state " .. ev.operstate,
               ev.master and ("master " .. ev.master), ev.mac)
end

function describe.addr(ev)
  return words(ev.cidr, "dev " .. tostring(ev.dev), ev.scope and ("scope " .. ev.scope),
               ev.label ~= ev.dev and ev.label)
end

function describe.route(ev)
  return words(ev.dst, ev.via and ("via " .. ev.via), ev.dev and ("dev " .. ev.dev),
               "table " .. ev.table, "proto " .. ev.protocol,
               ev.type ~= "unicast" and ev.type or nil, ev.metric and ("metric " .. ev.metric),
               ev.src and ("src " .. ev.src))
end

function describe.neigh(ev)
  local state = type(ev.state) == "table" and table.concat(ev.state, ",") or ev.state
  return words(ev.dst or ev.address, "dev " .. tostring(ev.dev),
               ev.lladdr and ("lladdr " .. ev.lladdr), state)
end

function describe.fdb(ev)
  return words(ev.mac, "dev " .. tostring(ev.dev), ev.dst and ("dst " .. ev.dst), ev.state)
end

-- Options of a qdisc or class: every field that is not a common one, sorted.
local common = {dev = true, index = true, kind = true, handle = true, classid = true,
                parent = true, stats = true, event = true, object = true}
local function options(ev)
  local keys, out = {}, {}
  for k in pairs(ev) do if not common[k] then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = ev[k]
    if type(v) == "table" then v = table.concat(v, " ") end
    out[#out + 1] = k .. " " .. tostring(v)
  end
  return table.concat(out, " ")
end

function describe.qdisc(ev)
  return words(ev.kind, ev.handle, "dev " .. tostring(ev.dev), "parent " .. ev.parent, options(ev))
end

function describe.class(ev)
  return words(ev.kind, ev.classid, "dev " .. tostring(ev.dev), "parent " .. ev.parent, options(ev))
end

function describe.table(ev) return words(ev.family, ev.name) end

function describe.chain(ev)
  local base = ev.hook and ("{ type %s hook %s priority %d policy %s }")
                             :format(ev.type, ev.hook, ev.priority, ev.policy)
  return words(ev.family, ev.table, ev.name, base)
end

function describe.rule(ev)
  return words(ev.family, ev.table, ev.chain, "handle " .. ev.handle .. ":",
               ev.text ~= "" and ev.text or nil, ev.error and ("(" .. ev.error .. ")"))
end

function describe.set(ev)
  return words(ev.family, ev.table, ev.name, ev.type and ("{ type " .. ev.type .. " }"))
end

function describe.element(ev)
  return words(ev.family, ev.table, ev.set, "{ " .. table.concat(ev.elements, ", ") .. " }")
end

local nft = {table = true, chain = true, rule = true, set = true, element = true}

-- One line for an event: "link new va (3) veth ...", "nft del rule inet t c handle 4: ...".
local function line(ev)
  if ev.event == "overflow" then
    return "overflow: the kernel dropped notifications (its queue for this monitor was full)"
  end
  local text = describe[ev.object] and describe[ev.object](ev) or ""
  if nft[ev.object] then return words("nft", ev.event, ev.object, text) end
  return words(ev.object, ev.event, text)
end

return function(...)
  local args = {...}
  local what, ns_name, timeout, count = {}, nil, nil, nil
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then
      io.stdout:write(usage)
      return 0
    elseif a == "--netns" or a == "--timeout" or a == "--count" then
      local v = args[i + 1]
      if v == nil then
        io.stderr:write("cnet monitor: ", a, " needs a value\n", usage)
        return 2
      end
      if a == "--netns" then
        ns_name = v
      else
        local n = tonumber(v)
        if n == nil or n < 0 or (a == "--count" and n ~= math.floor(n)) then
          io.stderr:write("cnet monitor: ", a, ": not a number: ", v, "\n")
          return 2
        end
        if a == "--timeout" then timeout = n else count = n end
      end
      i = i + 1
    elseif objects[a] then
      what[a] = true
    else
      io.stderr:write("cnet monitor: unknown object or option '", a, "'\n", usage)
      return 2
    end
    i = i + 1
  end
  local ns = cnet
  if ns_name then
    local ok, h = pcall(cnet.netns.open, ns_name)
    if not ok then
      io.stderr:write("cnet monitor: ", tostring(h), "\n")
      return 1
    end
    ns = h
  end
  local mon <close> = ns.monitor(what)
  io.stdout:setvbuf("line")
  local seen = 0
  local ok, err = pcall(function()
    if count == 0 then return end
    for ev in mon:events{timeout = timeout} do
      io.stdout:write(line(ev), "\n")
      seen = seen + 1
      if count and seen >= count then return end
    end
  end)
  if not ok and not tostring(err):find("interrupted!", 1, true) then error(err, 0) end
  return 0
end
