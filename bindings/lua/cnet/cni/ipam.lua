-- cnet.cni.ipam: addresses for an attachment, from the built-in allocator or a delegated
-- IPAM plugin.
--
-- The configuration's "ipam" object decides:
-- * "type": "cnet": the built-in allocator, in this process. It takes host-local's keys
--   (subnet, rangeStart, rangeEnd, gateway, ranges, routes) and keeps its leases in the
--   network's state (cnet.cni.state), keyed by container id and interface, under the same
--   lock as everything else: a lease is released by DEL (with or without a namespace),
--   reclaimed by GC when its attachment is not listed as valid, and reclaimed when the pool
--   runs out if its attachment belongs to an earlier boot or its namespace and host veth are
--   both gone. Nothing else can hold an address.
-- * any other type: that plugin, run from CNI_PATH (cnet.cni.delegate) with the whole
--   configuration, for ADD, DEL, CHECK, STATUS and GC alike.
-- * no "ipam" (or no type): no addresses (a layer-2 attachment).
-- Every function returns or takes results in cnet.cni.result's shape (without interfaces).
local E = require "cnet.cni.error"
local delegate = require "cnet.cni.delegate"
local ipnet = require "cnet.cni.ipnet"
local result = require "cnet.cni.result"
local state = require "cnet.cni.state"

local M = {}

local function fail(msg, details) E.raise(E.INVALID_CONFIG, msg, details) end

-- Whether address bytes b lie in range rg (and are of its family).
local function in_range(rg, b) return #b == #rg.start and b >= rg.start and b <= rg.stop end

-- The built-in allocator's configuration keys and their JSON types.
local builtin_keys = {type = "string", subnet = "string", rangeStart = "string",
                      rangeEnd = "string", gateway = "string", ranges = "table",
                      routes = "table", dataDir = "string"}

local function parse_range(r, where)
  if type(r) ~= "table" then fail("invalid ipam range", where .. ": object expected") end
  for k, v in pairs(r) do
    local t = ({subnet = true, rangeStart = true, rangeEnd = true, gateway = true})[k]
    if not t then
      E.raise(E.UNSUPPORTED_FIELD, "unsupported field in ipam range",
        ("%s.%s = %s"):format(where, k, tostring(v)))
    end
    if type(v) ~= "string" then fail("invalid ipam range", ("%s.%s: string expected"):format(where, k)) end
  end
  local net = ipnet.cidr(r.subnet)
  if not net or not r.subnet:find("/", 1, true) then
    fail("invalid ipam subnet", ("%s.subnet: %q is not ADDRESS/PREFIX"):format(where, tostring(r.subnet)))
  end
  local bits = #net.addr * 8
  if bits - net.prefix < 2 then
    fail("invalid ipam subnet", ("network %s too small to allocate from"):format(r.subnet))
  end
  local base = ipnet.network(net.addr, net.prefix)
  local last = ipnet.last(net.addr, net.prefix)
  local rg = {family = net.family, prefix = net.prefix, base = base,
              key = ipnet.tostring(base) .. "/" .. net.prefix}
  local function inside(field, dflt)
    local v = r[field]
    if v == nil then return dflt end
    local b = ipnet.parse(v)
    if not b or not ipnet.contains(base, net.prefix, b) then
      fail("invalid ipam range", ("%s.%s: %s is not an address of %s"):format(where, field, v, rg.key))
    end
    return b
  end
  rg.start = inside("rangeStart", ipnet.step(base, 1))
  rg.stop = inside("rangeEnd", net.family == 4 and ipnet.step(last, -1) or last)
  rg.gateway = inside("gateway", ipnet.step(base, 1))
  if rg.stop < rg.start then
    fail("invalid ipam range", ("%s: rangeEnd comes before rangeStart"):format(where))
  end
  return rg
end

-- The built-in allocator's range sets, from the configuration (checked once per call).
local function builtin_sets(ipam)
  for k, v in pairs(ipam) do
    local t = builtin_keys[k]
    if not t then
      E.raise(E.UNSUPPORTED_FIELD, "unsupported field in ipam", ("ipam.%s = %s"):format(k, tostring(v)))
    end
    if type(v) ~= t then fail("invalid ipam", ("ipam.%s: %s expected"):format(k, t == "table" and "list" or t)) end
  end
  local sets = {}
  if ipam.subnet then
    if ipam.ranges then fail("invalid ipam", "give either ipam.subnet or ipam.ranges, not both") end
    sets[1] = {parse_range({subnet = ipam.subnet, rangeStart = ipam.rangeStart,
                            rangeEnd = ipam.rangeEnd, gateway = ipam.gateway}, "ipam")}
  elseif ipam.ranges then
    for i, set in ipairs(ipam.ranges) do
      if type(set) ~= "table" or #set == 0 then
        fail("invalid ipam", ("ipam.ranges[%d]: a non-empty list of ranges expected"):format(i - 1))
      end
      sets[i] = {}
      for j, r in ipairs(set) do
        sets[i][j] = parse_range(r, ("ipam.ranges[%d][%d]"):format(i - 1, j - 1))
      end
    end
  else
    fail("invalid ipam", "ipam needs subnet or ranges")
  end
  for _, k in ipairs{"rangeStart", "rangeEnd", "gateway"} do
    if ipam[k] and not ipam.subnet then fail("invalid ipam", "ipam." .. k .. " goes with ipam.subnet") end
  end
  return sets
end

local function routes_of(ipam)
  local out = {}
  for i, r in ipairs(ipam.routes or {}) do
    if type(r) ~= "table" or type(r.dst) ~= "string" or not ipnet.cidr(r.dst) then
      fail("invalid ipam route", ("ipam.routes[%d]: {\"dst\": \"ADDRESS/PREFIX\"} expected"):format(i - 1))
    end
    if r.gw ~= nil and not ipnet.parse(r.gw) then
      fail("invalid ipam route", ("ipam.routes[%d].gw: not an address"):format(i - 1))
    end
    out[i] = {dst = r.dst, gw = r.gw}
  end
  return out
end

-- Addresses this attachment asked for: runtimeConfig.ips (the "ips" capability) or CNI_ARGS
-- IP=a,b. Returns a list of address bytes, each once.
local function requested(ctx)
  local want, seen = {}, {}
  local list = (ctx.runtime and ctx.runtime.ips) or nil
  if list == nil and ctx.args and ctx.args.IP then
    list = {}
    for a in ctx.args.IP:gmatch("[^,]+") do list[#list + 1] = a end
  end
  for _, a in ipairs(list or {}) do
    local c = type(a) == "string" and ipnet.cidr(a)
    if not c then fail("invalid requested address", tostring(a)) end
    if not seen[c.addr] then
      seen[c.addr] = true
      want[#want + 1] = c.addr
    end
  end
  return want
end

-- Leases held inside [rg.start, rg.stop].
local function used_in(leases, rg)
  local n = 0
  for text in pairs(leases) do
    local b = ipnet.parse(text)
    if b and in_range(rg, b) then n = n + 1 end
  end
  return n
end

-- Picks a free address of range rg, searching on from where the last search stopped (so a
-- released address is not handed out again at once); nil when the range is full.
local function pick(st, rg)
  local leases = st.data.leases
  local gw_inside = rg.gateway >= rg.start and rg.gateway <= rg.stop
  -- A range with room for every lease of the network plus one surely has a free address:
  -- then the leases need not be read one by one (a /16 with 100 leases, every ADD).
  local total = 0
  for _ in pairs(leases) do total = total + 1 end
  local used = total
  local size = ipnet.count(rg.start, rg.stop, total + 3)
  if size - (gw_inside and 1 or 0) <= total then
    used = used_in(leases, rg)
    if size - (gw_inside and 1 or 0) <= used then return nil end
  end
  local cur = st.data.next[rg.key] and ipnet.parse(st.data.next[rg.key])
  if not cur or not in_range(rg, cur) then cur = rg.start end
  for _ = 1, used + 2 do
    if cur ~= rg.gateway and not leases[ipnet.tostring(cur)] then return cur end
    cur = ipnet.step(cur, 1)
    if not cur or cur > rg.stop then cur = rg.start end
  end
  return nil
end

-- The keys of attachments that cannot be alive any more: recorded under another boot, or
-- whose namespace path and host veth are both gone. host_exists(name) tells whether a host
-- device exists.
function M.stale(st, host_exists)
  local gone = {}
  for key, a in pairs(st.data.attachments) do
    local dead = a.boot ~= state.boot_id()
    if not dead and a.netns and a.netns ~= "" then
      local f = io.open(a.netns)
      if f then f:close() end
      dead = f == nil and not (a.host and host_exists(a.host))
    end
    if dead then gone[#gone + 1] = key end
  end
  -- Leases without any attachment record (a record lost with an older state file).
  local seen = {}
  for _, key in pairs(st.data.leases) do
    if not st.data.attachments[key] and not seen[key] then
      seen[key] = true
      gone[#gone + 1] = key
    end
  end
  return gone
end

local function builtin_add(ctx, st, reclaim)
  local sets = builtin_sets(ctx.conf.ipam)
  local key = state.key(ctx.id, ctx.ifname)
  local want = requested(ctx)
  local r = {ips = {}, routes = routes_of(ctx.conf.ipam), dns = {}}
  local taken = {}
  local function undo()
    for _, t in ipairs(taken) do st.data.leases[t] = nil end
  end
  -- Each range set gives one address: the first requested one inside one of its ranges, else
  -- a free one. A requested address that no range set took is an error, as with host-local:
  -- the container would get another address than it asked for.
  local used = {}
  for i, set in ipairs(sets) do
    local got, rg
    for wi, w in ipairs(want) do
      for _, cand in ipairs(set) do
        if not got and in_range(cand, w) then
          local text = ipnet.tostring(w)
          local holder = st.data.leases[text]
          if (holder and holder ~= key) or w == cand.gateway then
            undo()
            E.raise(E.NO_ADDRESS, "requested address is taken",
              ("%s is %s"):format(text, w == cand.gateway and "the gateway" or ("leased to " .. holder)))
          end
          got, rg, used[wi] = w, cand, true
        end
      end
    end
    if not got then
      for pass = 1, 2 do
        for _, cand in ipairs(set) do
          got = pick(st, cand)
          if got then rg = cand break end
        end
        if got or pass == 2 then break end
        if not reclaim or reclaim() == 0 then break end
      end
    end
    if not got then
      undo()
      local names = {}
      for _, cand in ipairs(set) do names[#names + 1] = cand.key end
      E.raise(E.NO_ADDRESS, "no free address",
        ("every address of %s is leased (range set %d)"):format(table.concat(names, ", "), i - 1))
    end
    local text = ipnet.tostring(got)
    st.data.leases[text] = key
    taken[#taken + 1] = text
    local nxt = ipnet.step(got, 1)
    st.data.next[rg.key] = nxt and ipnet.tostring(nxt) or nil
    r.ips[#r.ips + 1] = {address = text .. "/" .. rg.prefix, gateway = ipnet.tostring(rg.gateway)}
  end
  for wi, w in ipairs(want) do
    if not used[wi] then
      undo()
      local names, inside = {}, false
      for _, set in ipairs(sets) do
        for _, cand in ipairs(set) do
          names[#names + 1] = ipnet.tostring(cand.start) .. "-" .. ipnet.tostring(cand.stop)
          if in_range(cand, w) then inside = true end
        end
      end
      fail("requested address not available", inside
        and ("%s: another address of its range set was asked for first"):format(ipnet.tostring(w))
        or ("%s is in no range of the network (%s)"):format(ipnet.tostring(w), table.concat(names, ", ")))
    end
  end
  return r
end

-- Releases every lease of the attachment; returns how many.
function M.release(st, key)
  local n = 0
  for ip, k in pairs(st.data.leases) do
    if k == key then
      st.data.leases[ip] = nil
      n = n + 1
    end
  end
  return n
end

-- "builtin", "delegate" or nil (no IPAM).
function M.kind(conf)
  local ipam = conf.ipam
  if ipam == nil then return nil end
  if type(ipam) ~= "table" then fail("invalid ipam", "ipam: object expected") end
  if ipam.type == nil then
    if next(ipam) == nil then return nil end
    fail("invalid ipam", "ipam.type is missing")
  end
  if type(ipam.type) ~= "string" then fail("invalid ipam", "ipam.type: string expected") end
  return ipam.type == "cnet" and "builtin" or "delegate"
end

-- Checks the IPAM configuration without allocating (ADD does this before touching anything).
function M.validate(ctx)
  if M.kind(ctx.conf) == "builtin" then
    builtin_sets(ctx.conf.ipam)
    routes_of(ctx.conf.ipam)
    requested(ctx)
  end
end

-- ADD: the addresses (and routes, dns) for the attachment. When the built-in pool is
-- exhausted, reclaim() is called once (it should remove stale attachments, see M.stale, and
-- return how many it removed) and the search runs again.
function M.add(ctx, st, reclaim)
  local kind = M.kind(ctx.conf)
  if kind == nil then return {ips = {}, routes = {}, dns = {}} end
  if kind == "builtin" then return builtin_add(ctx, st, reclaim) end
  local out = delegate.run(ctx, ctx.conf.ipam.type, "ADD")
  return result.parse(out or {}, ctx.conf.ipam.type .. " result",
    function(m) E.raise(E.DELEGATE, "invalid result from " .. ctx.conf.ipam.type, m) end)
end

-- DEL: releases the attachment's addresses (idempotent).
function M.del(ctx, st)
  local kind = M.kind(ctx.conf)
  if kind == "builtin" then
    M.release(st, state.key(ctx.id, ctx.ifname))
  elseif kind == "delegate" then
    delegate.run(ctx, ctx.conf.ipam.type, "DEL")
  end
end

-- CHECK: the attachment still holds `ips` (the addresses prevResult lists). Returns a list
-- of findings (empty when all is well); a delegated plugin's refusal is raised.
function M.check(ctx, st, ips)
  local kind = M.kind(ctx.conf)
  local findings = {}
  if kind == "builtin" then
    local key = state.key(ctx.id, ctx.ifname)
    for _, ip in ipairs(ips) do
      local c = ipnet.cidr(ip.address)
      local text = c and ipnet.tostring(c.addr)
      if text and st.data.leases[text] ~= key then
        findings[#findings + 1] = ("address %s is not leased to %s (%s)"):format(text, key,
          st.data.leases[text] and ("leased to " .. st.data.leases[text]) or "free")
      end
    end
  elseif kind == "delegate" then
    delegate.run(ctx, ctx.conf.ipam.type, "CHECK")
  end
  return findings
end

-- STATUS: nil when ADD can be served, else a message (the pool is exhausted).
function M.status(ctx, st)
  local kind = M.kind(ctx.conf)
  if kind == "builtin" then
    local sets = builtin_sets(ctx.conf.ipam)
    for i, set in ipairs(sets) do
      local free = false
      for _, rg in ipairs(set) do
        if pick(st, rg) then free = true break end
      end
      if not free then return ("no free address in range set %d"):format(i - 1) end
    end
  elseif kind == "delegate" and delegate.speaks(ctx, ctx.conf.ipam.type) then
    -- (a plugin older than spec 1.1.0 has no STATUS: nothing to report, not a failure)
    local ok, err = pcall(delegate.run, ctx, ctx.conf.ipam.type, "STATUS")
    if not ok then return tostring(err) end
  end
  return nil
end

-- GC: forgets leases of attachments not in `valid` (a set of keys); a delegated plugin gets
-- the GC call itself.
function M.gc(ctx, st, valid)
  local kind = M.kind(ctx.conf)
  if kind == "builtin" then
    for ip, key in pairs(st.data.leases) do
      if not valid[key] then st.data.leases[ip] = nil end
    end
  elseif kind == "delegate" and delegate.speaks(ctx, ctx.conf.ipam.type) then
    -- (as for STATUS: a plugin older than spec 1.1.0 has no GC to forward)
    delegate.run(ctx, ctx.conf.ipam.type, "GC")
  end
end

return M
