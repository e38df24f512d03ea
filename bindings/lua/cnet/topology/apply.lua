-- Carrying out a plan (`up`), undoing a failed one (rollback), and taking a topology down.
local cnet = require "cnet"
local model = require "cnet.topology.model"
local state = require "cnet.topology.state"
local livemod = require "cnet.topology.live"
local util = require "cnet.topology.util"

local M = {}
local where = model.where

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

-- Tolerates the errors that mean "already gone".
local gone_codes = {ENOENT = true, ENODEV = true, ESRCH = true, EADDRNOTAVAIL = true}
local function quietly(f, ...)
  local ok, err = pcall(f, ...)
  if ok or (type(err) == "table" and gone_codes[err.code]) then return true end
  return false, err
end

-- Deletes a namespace name; an entry that is no namespace at all (a file left by a process
-- killed between creating it and mounting the namespace on it) is removed too.
function M.delete_netns(name)
  local ok, err = quietly(cnet.netns.delete, name)
  if ok then return true end
  local path = "/run/netns/" .. name
  if not pcall(cnet.netns.open, name) and os.remove(path) then return true end
  return false, err
end

-- ---- running the actions ------------------------------------------------------------------

local Run = {}
Run.__index = Run

local function new_run(plan, s)
  return setmetatable({plan = plan, live = plan.live, state = s, tag = plan.tag,
    handles = {}, made = {}, undo = {}, origins = {}, norigins = 0, waiting = {}}, Run)
end

-- The API of a place; namespaces made in this run have their handle from netns.add.
function Run:api(ns)
  if ns == nil then return cnet end
  return self.handles[ns] or self.live:api(ns)
end

-- Remembers which resource a queued call belongs to, so a batch failure names it: four
-- slots a call, looked through only when something failed (a key string and a list per
-- call cost more than the rest of what up does for it in Lua).
function Run:origin(op, object, ns, r)
  local o, n = self.origins, self.norigins
  o[n + 1], o[n + 2], o[n + 3], o[n + 4] = op, object, ns or "", r
  self.norigins = n + 4
end

-- The resource of the first call made as err says (op, object, namespace).
function Run:blame(err)
  local o, op, object, ns = self.origins, tostring(err.op), tostring(err.object), err.netns or ""
  for i = 1, self.norigins, 4 do
    if o[i] == op and o[i + 2] == ns and tostring(o[i + 1]) == object then return o[i + 3] end
  end
end

local function tagged_place(run, ns)
  return ns == nil or not run.plan.new_netns[ns] and not run.plan.owned_netns[ns]
end

-- Makes the namespace now; its loopback is set up (and tagged) by tag_netns at the end of
-- the batch, with the rest of what goes inside it.
function Run:create_netns(r)
  local h = cnet.netns.add(r.name)
  self.handles[r.name] = h
  self.made[#self.made + 1] = r
end

-- Queued after the links, addresses and routes, before anything the batch cannot hold
-- (sysctls, nft): a request queued in a namespace before the veth that reaches into it, or
-- after a call that flushes the batch, is sent in a round trip of its own (the batch keeps
-- each namespace's requests in program order), one more per namespace.
function Run:tag_netns()
  if self.tagged then return end
  self.tagged = true
  for _, a in ipairs(self.plan.actions) do
    local r = a.r
    if a.op == "create" and r.kind == "netns" then
      local set = {up = true}
      if self.plan.alias then set.alias = self.tag end
      self:origin("link.set", "lo", r.name, r)
      self.handles[r.name].link.set("lo", set)
    end
  end
end

local batched = {netns = true, link = true, addr = true, route = true}

function Run:create_link(r)
  local spec = copy(r.opts)
  spec.name, spec.type, spec.master, spec.up, spec.mtu, spec.mac = r.name, r.type, r.master, r.up, r.mtu, r.mac
  if r.peer then
    local p = r.peer
    spec.peer = {name = p.name, mtu = p.mtu, mac = p.mac}
    if p.ns ~= r.ns then spec.peer.netns = p.ns == nil and cnet.self or self:api(p.ns) end
  end
  local api = self:api(r.ns)
  local from = r.ns
  if r.opts.link ~= nil and r.lower_ns ~= r.ns then
    -- made from the lower device's namespace, straight into its own
    from = r.lower_ns
    spec.netns = r.ns == nil and cnet.self or api
  end
  self.made[#self.made + 1] = r
  self:origin("link.add", r.name, from, r)
  self:api(from).link.add(spec)
  if self.plan.alias and tagged_place(self, r.ns) then
    self:origin("link.set", r.name, r.ns, r)
    api.link.set(r.name, {alias = self.tag})
  end
  if r.peer and (r.peer.up or r.peer.master) then
    local pset = {up = r.peer.up or nil, master = r.peer.master}
    if self.plan.alias and tagged_place(self, r.peer.ns) then pset.alias = self.tag end
    self:origin("link.set", r.peer.name, r.peer.ns, r)
    self:api(r.peer.ns).link.set(r.peer.name, pset)
  end
end

function Run:delete_link(r)
  self:origin("link.delete", r.name, r.ns, r)
  quietly(self:api(r.ns).link.delete, r.name)
end

function Run:change_link(a)
  local r = a.r
  if a.set then
    local l = self.live:link(r.ns, r.name)
    self.undo[#self.undo + 1] = {kind = "link", ns = r.ns, name = r.name,
      set = {master = l.master or false, up = l.up, mtu = l.mtu}}
    self:origin("link.set", r.name, r.ns, r)
    self:api(r.ns).link.set(r.name, a.set)
  end
  if a.peer_set then
    self:origin("link.set", r.peer.name, r.peer.ns, r)
    self:api(r.peer.ns).link.set(r.peer.name, a.peer_set)
  end
end

function Run:addr(op, r)
  local api = self:api(r.ns)
  if op == "delete" then
    self:origin("addr.delete", r.dev, r.ns, r)
    return quietly(api.addr.delete, r.dev, r.addr)
  end
  self.made[#self.made + 1] = r
  self:origin("addr.add", r.dev, r.ns, r)
  api.addr.add(r.dev, r.addr, r.opts)
end

-- What a change of an existing object needs to be put back, run by the rollback.
function Run:on_undo(what, f, ...)
  local args = table.pack(...)
  self.undo[#self.undo + 1] = {what = what, f = function() return f(table.unpack(args, 1, args.n)) end}
end

function Run:route(a)
  local r, op = a.r, a.op
  local api = self:api(r.ns)
  local spec = copy(r.spec)
  if op == "delete" then
    self:origin("route.delete", spec.dst, r.ns, r)
    return quietly(api.route.delete, spec)
  end
  if op == "create" then
    self.made[#self.made + 1] = r
  elseif a.old then
    local l = a.old
    self:on_undo(r.key, api.route.replace, {dst = l.dst, via = l.via, dev = l.dev, metric = l.metric,
      table = l.table, family = l.family, src = l.src})
  end
  self:origin(op == "create" and "route.add" or "route.replace", spec.dst, r.ns, r)
  if op == "create" then api.route.add(spec) else api.route.replace(spec) end
end

function Run:sysctl(r, entry, old)
  local api = self:api(r.ns)
  if tagged_place(self, r.ns) and entry.original == nil then
    local ok, v = pcall(api.sysctl.get, r.param)
    if ok then entry.original = v end
  end
  if old ~= nil then
    self:on_undo(r.key, api.sysctl.set, r.param, old)
  else
    self.made[#self.made + 1] = r
  end
  self:origin("sysctl.set", r.param, r.ns, r)
  api.sysctl.set(r.param, r.value)
end

-- The cnet.nft.apply description of a listed table, to put a changed table back as it was.
local function apply_spec_of(t)
  local chains, sets = {}, {}
  for _, c in ipairs(t.chains or {}) do
    local chain = {type = c.type, hook = c.hook, priority = c.priority, policy = c.policy,
      device = c.device}
    for _, rule in ipairs(c.rules or {}) do chain[#chain + 1] = rule.text end
    chains[c.name] = chain
  end
  for _, st in ipairs(t.sets or {}) do
    sets[st.name] = {type = st.type, flags = st.flags, elements = st.elements}
  end
  return {table = t.family .. " " .. t.name, chains = chains, sets = sets}
end

function Run:nft(r, old)
  local chains = {}
  for name, c in pairs(r.chains) do
    local chain = {}
    for k, v in pairs(c) do if k ~= "bridges_kept" then chain[k] = v end end
    chains[name] = chain
  end
  if old then
    self:on_undo(r.key, self:api(r.ns).nft.apply, apply_spec_of(old))
  else
    self.made[#self.made + 1] = r
  end
  self:origin("nft.apply", r.table, r.ns, r)
  self:api(r.ns).nft.apply{table = r.table, chains = chains, sets = r.sets}
end

function Run:shape(r, a)
  local api = self:api(r.ns)
  if a.op == "change" then
    if a.old then self:on_undo(r.key, api.tc.shape, r.dev, a.old)
    else self:on_undo(r.key, api.tc.unshape, r.dev) end
  else
    self.made[#self.made + 1] = r
  end
  self:origin("tc.shape", r.dev, r.ns, r)
  api.tc.shape(r.dev, r.opts)
end

function Run:other(r)
  local noun = r.kind == "qdisc" and "tc" or r.kind
  local spec = copy(r.spec)
  spec.netns, spec.host = nil, nil
  local verb = "add"
  if r.kind == "fdb" and spec.append then verb, spec.append = "append", nil end -- one more remote
  self.made[#self.made + 1] = r
  -- cnet.batch names a call by its spec's name, or else its dst
  self:origin(noun .. "." .. verb, spec.name or spec.dst, r.ns, r)
  self:api(r.ns)[noun][verb](spec)
end

-- Removes what the state says a topology made, and that the description no longer has.
function Run:remove(a)
  local r, st = a.r, a.state
  if r.kind == "netns" then
    M.delete_netns(r.name)
  elseif r.kind == "link" then
    self:delete_link(r)
  elseif r.kind == "addr" then
    self:addr("delete", r)
  elseif r.kind == "route" then
    self:route({op = "delete", r = r})
  elseif r.kind == "nft" then
    quietly(self:api(r.ns).nft.delete_table, r.table)
  elseif r.kind == "sysctl" then
    if st and st.original ~= nil then quietly(self:api(r.ns).sysctl.set, r.param, st.original) end
  elseif r.kind == "shape" then
    quietly(self:api(r.ns).tc.unshape, r.dev)
  else
    local noun = r.kind == "qdisc" and "tc" or r.kind
    local api = self:api(r.ns)
    if api and api[noun] and api[noun].delete then
      local spec = copy(r.spec)
      spec.netns, spec.host, spec.append = nil, nil, nil
      quietly(api[noun].delete, spec)
    end
  end
end

-- Runs every action of the plan, the changes batched. Raises on the first failure.
function Run:execute()
  local plan, s = self.plan, self.state
  -- removals first: a name set free may be taken again by this very plan
  local removing = {}
  for _, a in ipairs(plan.actions) do
    if a.op == "delete" and a.r.kind == "netns" then removing[#removing + 1] = a end
  end
  for _, a in ipairs(plan.actions) do
    if a.op == "delete" and a.r.kind ~= "netns" then removing[#removing + 1] = a end
  end
  local nsgone, waiting = {}, {}
  for _, a in ipairs(removing) do
    local r = a.r
    if r.kind == "link" and r.peer and nsgone[r.peer.ns or ""] then
      waiting[#waiting + 1] = {ns = r.ns, name = r.name}   -- goes with its peer's namespace
    elseif r.kind == "netns" or not nsgone[r.ns or ""] then -- what was inside a gone one went with it
      self:remove(a)
    end
    if r.kind == "netns" then nsgone[r.name] = true end
    state.remove(s, r.key)
  end
  M.settle(waiting)
  cnet.batch(function()
    for _, a in ipairs(plan.actions) do
      if a.op == "create" and a.r.kind == "netns" then self:create_netns(a.r) end
    end
    for _, a in ipairs(plan.actions) do
      local r, op = a.r, a.op
      if not batched[r.kind] then self:tag_netns() end
      -- up put the entry of what it creates before the run, from this very r
      local entry = (op == "create" or op == "replace")
        and (s.resources[r.key] or state.put(s, r, {created = true})) or nil
      if r.kind == "netns" then
        if op == "change" then self:api(r.name).link.set("lo", a.set) end
      elseif r.kind == "link" then
        if op == "create" then self:create_link(r)
        elseif op == "replace" then self:delete_link(r); self:create_link(r)
        elseif op == "change" then self:change_link(a) end
      elseif r.kind == "addr" then
        if op ~= "delete" then self:addr(op, r) end
      elseif r.kind == "route" then
        if op ~= "delete" then self:route(a) end
      elseif r.kind == "sysctl" then
        if op ~= "delete" then
          local e = s.resources[r.key] or state.put(s, r, {created = false})
          if a.old and e.original == nil and tagged_place(self, r.ns) then e.original = a.old end
          self:sysctl(r, e, op == "change" and a.old or nil)
        end
      elseif r.kind == "nft" then
        if op ~= "delete" then
          if entry == nil then entry = state.put(s, r, {created = true}) end
          self:nft(r, op == "change" and a.old or nil)
        end
      elseif r.kind == "shape" then
        if op ~= "delete" then self:shape(r, a) end
      elseif op ~= "delete" then
        self:other(r)
      end
    end
    self:tag_netns()
  end)
end

-- Puts back what a failed run made or changed: its namespaces (with everything in them),
-- links, addresses and routes elsewhere, nft tables, sysctls, and the old values of changed
-- links. Returns a list of what could not be undone.
function Run:rollback()
  local left = {}
  local function try(what, f, ...)
    local ok, err = quietly(f, ...)
    if not ok then left[#left + 1] = what .. ": " .. tostring(err) end
  end
  for _, h in pairs(self.handles) do h.close() end
  local nsgone = {}
  for i = #self.made, 1, -1 do
    local r = self.made[i]
    if r.kind == "netns" then
      try("netns " .. r.name, M.delete_netns, r.name)
      nsgone[r.name] = true
    end
  end
  self.handles = {}
  local live = livemod.new()
  for i = #self.made, 1, -1 do
    local r = self.made[i]
    local ns = r.ns
    if ns == nil or not nsgone[ns] then
      local api = live:api(ns)
      if api == nil then -- its namespace is gone
      elseif r.kind == "link" then
        if r.peer and r.peer.ns and nsgone[r.peer.ns] then
          self.waiting[#self.waiting + 1] = {ns = ns, name = r.name}
        elseif api.link.get and live:link(ns, r.name) then
          try(model.describe(r), api.link.delete, r.name)
        end
        if r.peer and r.peer.ns == nil and nsgone[r.ns or ""] then
          self.waiting[#self.waiting + 1] = {name = r.peer.name}
        end
      elseif r.kind == "addr" then
        try(r.key, api.addr.delete, r.dev, r.addr)
      elseif r.kind == "route" then
        try(r.key, api.route.delete, r.spec)
      elseif r.kind == "nft" then
        try(r.key, api.nft.delete_table, r.table)
      elseif r.kind == "shape" then
        if live:link(ns, r.dev) then try(r.key, api.tc.unshape, r.dev) end
      elseif r.kind == "sysctl" then
        local e = self.state.resources[r.key]
        if e and e.original ~= nil then try(r.key, api.sysctl.set, r.param, e.original) end
      end
    end
  end
  for i = #self.undo, 1, -1 do
    local u = self.undo[i]
    if u.f then
      try(u.what, u.f)
    else
      local api = live:api(u.ns)
      if api then try("link " .. where(u.ns, u.name), api.link.set, u.name, u.set) end
    end
  end
  live:close()
  M.settle(self.waiting)
  return left
end

-- Host ends of veths whose namespace was deleted vanish when the kernel has finished with
-- that namespace, a moment later (all of them in one go, which is why namespaces go first).
-- Waits for that: when every such end is in one place (the usual case: the host), by the
-- kernel's link notifications, watched before the first look so that none is missed; else by
-- reading each place's links once per round. An end still there after the deadline (its
-- namespace is held open by some process, so it lives on) is deleted explicitly: its name
-- must be free before anything else wants it. Returns how many had to be deleted so.
local function still_there(live, links)
  local still = {}
  for _, l in ipairs(links) do
    if live:api(l.ns) and live:link(l.ns, l.name) then still[#still + 1] = l end
  end
  return still
end

-- Waits on a monitor of the place for the links to go; returns those still there.
local function settle_watching(mon, links, deadline)
  local live = livemod.new()
  local pending, count = {}, 0
  for _, l in ipairs(still_there(live, links)) do pending[l.name], count = l, count + 1 end
  live:close()
  while count > 0 do
    local left = deadline - cnet.now()
    if left <= 0 then break end
    local ev = mon:next(left)
    if ev == nil then break end
    if ev.object == "link" and ev.event == "del" and pending[ev.name] then
      pending[ev.name], count = nil, count - 1
    elseif ev.event == "overflow" then -- notifications lost: look again
      live = livemod.new()
      local rest = {}
      for _, l in pairs(pending) do rest[#rest + 1] = l end
      pending, count = {}, 0
      for _, l in ipairs(still_there(live, rest)) do pending[l.name], count = l, count + 1 end
      live:close()
    end
  end
  local still = {}
  for _, l in pairs(pending) do still[#still + 1] = l end
  return still
end

function M.settle(links, timeout)
  if #links == 0 then return 0 end
  local deadline = cnet.now() + (timeout or 2)
  local place, one = links[1].ns, true
  for _, l in ipairs(links) do one = one and l.ns == place end
  local still
  if one then
    local live = livemod.new()
    local api = live:api(place)
    local ok, mon = false, nil
    if api and api.monitor then ok, mon = pcall(api.monitor, {links = true}) end
    if ok then
      still = settle_watching(mon, links, deadline)
      mon:close()
    end
    live:close()
  end
  local pending = still or links
  while still == nil do
    local live = livemod.new()
    local now = still_there(live, pending)
    live:close()
    if #now == 0 or cnet.now() > deadline then still = now break end
    pending = now
    cnet.sleep(0.002)
  end
  if #still > 0 then
    local live = livemod.new()
    for _, l in ipairs(still) do
      local api = live:api(l.ns)
      if api then quietly(api.link.delete, l.name) end
    end
    live:close()
  end
  return #still
end

-- ---- up and down --------------------------------------------------------------------------

local function failure_message(name, r, err)
  local what = r and model.describe(r) or nil
  local msg = tostring(err)
  if type(err) == "table" and err.netns and not msg:find(err.netns, 1, true) then
    msg = msg .. " (in " .. err.netns .. ")"
  end
  return ("up %s: %s%s"):format(name, what and (what .. ": ") or "", msg)
end

-- Applies a plan made by plan.make. meta holds what the state file records about the
-- description (file, args, host). Returns the new state; raises a string on failure, after
-- the rollback.
function M.up(plan, meta)
  local name = plan.name
  if (plan.counts.conflict or 0) > 0 then
    local lines = {}
    for _, a in ipairs(plan.actions) do
      if a.op == "conflict" then lines[#lines + 1] = model.describe(a.r) .. ": " .. a.why end
    end
    error(("up %s: %s; nothing was changed"):format(name, table.concat(lines, "; ")), 0)
  end
  local old = plan.state
  if plan.changes == 0 then return old, false end
  local s = state.copy(old) or state.new(name)
  for k, v in pairs(meta or {}) do s[k] = v end
  s.tag = plan.tag
  -- Before anything is made, the state says what may be made: a process killed midway leaves
  -- a state that `down` can clean up after.
  for _, a in ipairs(plan.actions) do
    if a.op == "create" or a.op == "replace" then state.put(s, a.r, {created = true, pending = true}) end
  end
  state.save(s)
  local run = new_run(plan, s)
  local ok, err = pcall(run.execute, run)
  if not ok then
    local culprit = type(err) == "table" and run:blame(err) or nil
    local msg = failure_message(name, culprit, err)
    local left = run:rollback()
    if old then state.save(old) else state.delete(name) end
    if #left > 0 then msg = msg .. "; the rollback could not undo: " .. table.concat(left, "; ") end
    local e = {message = msg, cause = err, resource = culprit}
    error(setmetatable(e, {__tostring = function(x) return x.message end}), 0)
  end
  for _, h in pairs(run.handles) do h.close() end
  M.settle(run.waiting)
  -- what nft tables look like now, to tell drift later
  local live = livemod.new()
  for _, a in ipairs(plan.actions) do
    local e = s.resources[a.r.key]
    if e then e.pending = nil end
    if a.r.kind == "nft" and e then
      local t = live:nft_table(a.r.ns, a.r.table)
      e.listing = t and util.nft_digest(t) or nil
    end
  end
  live:close()
  s.time = os.time()
  state.save(s)
  return s, true
end

-- Takes down what the state of topology `name` says it made: namespaces first (the kernel
-- then frees every veth with an end inside them, in one go), then links, nft tables,
-- addresses and routes elsewhere, and puts sysctls back. Leaves alone anything whose tag
-- says it is no longer ours. Returns the number of objects removed and a list of notes.
function M.down(name)
  local s = state.load(name)
  if s == nil then error(("down %s: no such topology (no state in %s)"):format(name, state.dir), 0) end
  local tag = s.tag or ("cnet:" .. name)
  local live = livemod.new()
  local removed, notes, waiting = 0, {}, {}
  local nsgone, doomed = {}, {}
  -- Every namespace's tag is read before the first one goes: the kernel's cleanup of a
  -- deleted namespace holds the routing lock for long stretches, and reads made meanwhile
  -- wait for it (500 namespaces: 0.24 s of reads interleaved, 30 ms before).
  for i = #s.order, 1, -1 do
    local e = s.resources[s.order[i]]
    local r = e.r
    if e.created and r.kind == "netns" and live:netns_exists(r.name) then
      local okl, lo = pcall(live.peek, live, r.name, "lo")
      if not okl then lo = nil end -- not a namespace (yet): a stale entry
      if lo and lo.alias and lo.alias ~= tag then
        notes[#notes + 1] = "namespace " .. r.name .. " carries another tag (" .. lo.alias .. "): left alone"
      else
        doomed[#doomed + 1] = r.name
      end
    end
  end
  -- What stays is read now too (the links' tags, the nft tables): read after the
  -- namespaces went, the same dump waited 0.1 s for the kernel's cleanup (500 namespaces).
  local going = {}
  for _, name in ipairs(doomed) do going[name] = true end
  for i = #s.order, 1, -1 do
    local e = s.resources[s.order[i]]
    local r = e.r
    if e.created and not going[r.ns or ""] and not (r.peer and going[r.peer.ns or ""]) then
      if r.kind == "link" then live:peek(r.ns, r.name)
      elseif r.kind == "nft" then live:nft_table(r.ns, r.table) end
    end
  end
  for _, name in ipairs(doomed) do
    live:drop(name)
    local ok, err = M.delete_netns(name)
    if ok then removed = removed + 1; nsgone[name] = true
    else notes[#notes + 1] = tostring(err) end
  end
  local errs = {}
  cnet.batch(function()
    for i = #s.order, 1, -1 do
      local e = s.resources[s.order[i]]
      local r = e.r
      local ns = r.ns
      local api = not nsgone[ns or ""] and live:api(ns) or nil
      if api and r.kind == "link" and e.created then
        local l = not (r.peer and nsgone[r.peer.ns or ""]) and live:peek(ns, r.name)
        if r.peer and nsgone[r.peer.ns or ""] then
          waiting[#waiting + 1] = {ns = ns, name = r.name}
        elseif l and l.alias and l.alias ~= tag then
          notes[#notes + 1] = "link " .. where(ns, r.name) .. " carries another tag (" .. l.alias .. "): left alone"
        elseif l then
          api.link.delete(r.name); removed = removed + 1
        end
      elseif api and r.kind == "nft" and e.created then
        if live:nft_table(ns, r.table) then api.nft.delete_table(r.table); removed = removed + 1 end
      end
    end
  end)
  for i = #s.order, 1, -1 do
    local e = s.resources[s.order[i]]
    local r = e.r
    local api = not nsgone[r.ns or ""] and live:api(r.ns) or nil
    if api and e.created and (r.kind == "addr" or r.kind == "route") then
      local ok, err
      if r.kind == "addr" then ok, err = quietly(api.addr.delete, r.dev, r.addr)
      else ok, err = quietly(api.route.delete, r.spec) end
      if not ok then errs[#errs + 1] = tostring(err) else removed = removed + 1 end
    elseif api and r.kind == "sysctl" and e.original ~= nil then
      local ok, err = quietly(api.sysctl.set, r.param, e.original)
      if not ok then errs[#errs + 1] = tostring(err) end
    elseif api and e.created and r.kind == "shape" then
      if live:peek(r.ns, r.dev) then quietly(api.tc.unshape, r.dev) end
    elseif api and e.created and (r.kind == "fdb" or r.kind == "neigh" or r.kind == "qdisc") then
      local noun = r.kind == "qdisc" and "tc" or r.kind
      if api[noun] and api[noun].delete then
        local spec = copy(r.spec)
        spec.netns, spec.host, spec.append = nil, nil, nil
        quietly(api[noun].delete, spec)
      end
    end
  end
  live:close()
  local held = M.settle(waiting)
  if held > 0 then
    notes[#notes + 1] = held .. " veth(s) outlived their namespace (held open by a process) and were deleted"
  end
  for _, e in ipairs(errs) do notes[#notes + 1] = e end
  state.delete(name)
  return removed, notes
end

return M
