-- The difference between a topology's resources and the kernel: what `up` would create,
-- change, replace or remove, and what stands in its way (conflicts).
local cnet = require "cnet"
local model = require "cnet.topology.model"
local util = require "cnet.topology.util"

local M = {}

local where = model.where

-- Whether cnet.link.set takes `alias` (the tag of links and namespaces): asked once, with a
-- device that cannot exist, so nothing is sent either way.
local alias_support
function M.has_alias()
  if alias_support == nil then
    local ok, err = pcall(cnet.link.set, "cnet-probe-0", {alias = "x"})
    alias_support = ok or not tostring(err):find("unknown option", 1, true)
  end
  return alias_support
end

local function action(plan, op, r, why, extra)
  local a = {op = op, r = r, why = why}
  for k, v in pairs(extra or {}) do a[k] = v end
  plan.actions[#plan.actions + 1] = a
  plan.counts[op] = (plan.counts[op] or 0) + 1
  return a
end

-- Is the namespace ours: made by this topology (the state says so, or its loopback carries
-- the tag)?
local function owns_netns(plan, name)
  local known = plan.owned_netns[name]
  if known ~= nil then return known end
  local st = plan.state and plan.state.resources["netns " .. name]
  local mine = st ~= nil and st.created == true
  if not mine then
    local lo = plan.live:link(name, "lo")
    mine = lo ~= nil and lo.alias == plan.tag
  end
  plan.owned_netns[name] = mine
  return mine
end

-- Is the existing link ours: tagged, recorded as made by us, or inside a namespace of ours?
local function owns_link(plan, r, l)
  if l.alias == plan.tag then return true end
  if r.ns ~= nil and owns_netns(plan, r.ns) then return true end
  local st = plan.state and plan.state.resources[r.key]
  return st ~= nil and st.created == true
end

local function peer_of(plan, r, l)
  if r.peer == nil then return nil end
  local p = plan.live:link(r.peer.ns, r.peer.name)
  if p == nil or p.kind ~= "veth" then return nil end
  -- the two ends name each other by index (an index is only unique within its namespace,
  -- so both directions must agree)
  if p.peer_index ~= l.index or l.peer_index ~= p.index then return nil end
  return p
end

-- The link.set options that make a live device l what r says, and what differs, in words.
local function link_changes(plan, want, l, tagged)
  local set, words = {}, {}
  local function differ(field, w, h, value)
    set[field] = value == nil and w or value
    words[#words + 1] = ("%s %s -> %s"):format(field, tostring(h), tostring(w))
  end
  if (want.master or false) ~= (l.master or false) then differ("master", want.master or false, l.master or "none") end
  if want.up ~= nil and want.up ~= (l.up == true) then differ("up", want.up, l.up == true) end
  if want.mtu and want.mtu ~= l.mtu then differ("mtu", want.mtu, l.mtu) end
  if want.mac and want.mac:lower() ~= l.mac then differ("mac", want.mac:lower(), l.mac) end
  if tagged and plan.alias and l.alias ~= plan.tag then differ("alias", plan.tag, l.alias or "none") end
  if next(set) == nil then return nil end
  return set, table.concat(words, ", ")
end

-- The kind's own options (a vxlan's VNI and remote, a bridge's stp_state, a macvlan's mode):
-- what the description gives against what the kernel lists in the device's `info`. Options
-- the kernel cannot change in place make the device be replaced.
local kind_alias = {vxlan = {dstport = "port", dev = "link"}}
local fixed = {vxlan = {id = true, port = true, link = true, external = true}}
local function kind_changes(r, l)
  local info = l.info
  if type(info) ~= "table" then return nil end
  local alias, set, words, replace = kind_alias[r.type] or {}, {}, {}, false
  for k, v in pairs(r.opts) do
    local name = alias[k] or k
    local have = info[name]
    if have ~= nil and type(v) ~= "table" and type(have) ~= "table" then
      local want = type(v) == "string" and util.canonical_addr(v) or v
      if tostring(have) ~= tostring(want) then
        words[#words + 1] = ("%s %s -> %s"):format(name, tostring(have), tostring(want))
        if (fixed[r.type] or {})[name] then replace = true else set[k] = v end
      end
    end
  end
  if #words == 0 then return nil end
  return set, table.concat(words, ", "), replace
end

local function plan_netns(plan, r)
  if not plan.live:netns_exists(r.name) then
    plan.new_netns[r.name] = true
    return action(plan, "create", r)
  end
  if not owns_netns(plan, r.name) then
    return action(plan, "conflict", r, "namespace " .. r.name .. " exists and was not made by topology " .. plan.name)
  end
  local lo = plan.live:link(r.name, "lo")
  if lo and not lo.up then action(plan, "change", r, "lo down -> up", {set = {up = true}}) end
end

local function plan_link(plan, r)
  if r.ns ~= nil and plan.new_netns[r.ns] then return action(plan, "create", r) end
  local l = plan.live:link(r.ns, r.name)
  if l == nil then
    if r.peer and not plan.new_netns[r.peer.ns or ""] and plan.live:link(r.peer.ns, r.peer.name) then
      return action(plan, "conflict", r, "its peer " .. where(r.peer.ns, r.peer.name) .. " exists")
    end
    return action(plan, "create", r)
  end
  if not owns_link(plan, r, l) then
    return action(plan, "conflict", r, "link " .. where(r.ns, r.name) .. " exists and was not made by topology " .. plan.name)
  end
  if (l.kind or "") ~= r.type then
    return action(plan, "replace", r, ("type %s -> %s"):format(l.kind or "none", r.type))
  end
  if r.peer then
    local p = peer_of(plan, r, l)
    if p == nil then return action(plan, "replace", r, "peer " .. where(r.peer.ns, r.peer.name) .. " is missing") end
    local pset, pwords = link_changes(plan, r.peer, p, false)
    if pset then action(plan, "change", r, "peer: " .. pwords, {peer_set = pset}) end
  end
  local kset, kwords, replace = kind_changes(r, l)
  if replace then return action(plan, "replace", r, kwords) end
  local set, words = link_changes(plan, r, l, r.ns == nil or not owns_netns(plan, r.ns))
  if kset then
    set = set or {}
    for k, v in pairs(kset) do set[k] = v end
    words = words and (words .. ", " .. kwords) or kwords
  end
  if set then action(plan, "change", r, words, {set = set}) end
end

-- The links this plan makes anew (created or replaced), so their addresses need no reading.
local function link_is_new(plan, ns, dev)
  if ns ~= nil and plan.new_netns[ns] then return true end
  local t = plan.new_links[ns or ""]
  return t ~= nil and t[dev] == true
end

local function mark_new_link(plan, ns, dev)
  local t = plan.new_links[ns or ""]
  if t == nil then t = {}; plan.new_links[ns or ""] = t end
  t[dev] = true
end

local function plan_addr(plan, r)
  if link_is_new(plan, r.ns, r.dev) then return action(plan, "create", r) end
  if plan.live:dev_addrs(r.ns, r.dev)[util.canonical_cidr(r.addr)] then return end
  return action(plan, "create", r)
end

local function find_route(plan, r)
  local spec = r.spec
  local fam = model.route_family(spec) == "inet6" and "inet6" or "inet"
  local dst = spec.dst == "default" and "default" or util.canonical_cidr(spec.dst)
  local tab = spec.table and tostring(spec.table) or "main"
  for _, l in ipairs(plan.live:routes(r.ns, spec.table ~= nil)) do
    if l.family == fam and l.dst == dst and tostring(l.table) == tab and
      (spec.metric == nil or spec.metric == l.metric) and l.type == (spec.type or "unicast") then
      return l
    end
  end
end

local function plan_route(plan, r)
  if r.ns ~= nil and plan.new_netns[r.ns] then return action(plan, "create", r) end
  local l = find_route(plan, r)
  if l == nil then return action(plan, "create", r) end
  local spec, words = r.spec, {}
  local via = spec.via or spec.gateway
  if via and util.canonical_addr(via) ~= l.via then words[#words + 1] = ("via %s -> %s"):format(l.via or "none", via) end
  if spec.dev and spec.dev ~= l.dev then words[#words + 1] = ("dev %s -> %s"):format(l.dev or "none", spec.dev) end
  if #words > 0 then return action(plan, "change", r, table.concat(words, ", "), {old = l}) end
end

local function plan_sysctl(plan, r)
  if r.ns ~= nil and plan.new_netns[r.ns] then return action(plan, "create", r) end
  local v = plan.live:sysctl(r.ns, r.param)
  if v == nil then return action(plan, "create", r) end
  if v:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "") ~= r.value then
    return action(plan, "change", r, ("%s -> %s"):format(v, r.value), {old = v})
  end
end

-- nft tables are compared through the state: the description as given when it went up, and
-- the kernel's listing right after. A table that changed on either side is applied again
-- (cnet.nft.apply replaces its contents in one transaction).
local function plan_nft(plan, r)
  r.digest = util.serialize({chains = r.chains, sets = r.sets, order = r.chain_order})
  if r.ns ~= nil and plan.new_netns[r.ns] then return action(plan, "create", r) end
  local t = plan.live:nft_table(r.ns, r.table)
  if t == nil then return action(plan, "create", r) end
  local st = plan.state and plan.state.resources[r.key]
  if st == nil or not st.created then
    return action(plan, "conflict", r, "table " .. r.table .. " exists and was not made by topology " .. plan.name)
  end
  if st.r.digest ~= r.digest then return action(plan, "change", r, "rules differ from the description", {old = t}) end
  if st.listing ~= util.nft_digest(t) then return action(plan, "change", r, "rules changed since up", {old = t}) end
end

-- An FDB entry (a VXLAN's flooding remote, a static MAC): there when the device's table
-- holds that address with that destination.
local function plan_fdb(plan, r)
  if cnet.fdb == nil then return action(plan, "conflict", r, "cnet.fdb is not available in this build") end
  local s = r.spec
  if (r.ns ~= nil and plan.new_netns[r.ns]) or link_is_new(plan, r.ns, s.dev) then
    return action(plan, "create", r)
  end
  for _, e in ipairs(plan.live:fdb(r.ns, s.dev)) do
    if e.mac == s.mac:lower() and (s.dst == nil or e.dst == s.dst) and (s.vlan == nil or e.vlan == s.vlan) then
      return
    end
  end
  return action(plan, "create", r)
end

-- neighbours and qdiscs go through NOUN.add of the namespace's API; without
-- a way to read them back here, they are added when their device or namespace is new.
local function plan_other(plan, r)
  local noun = r.kind == "qdisc" and "tc" or r.kind
  if cnet[noun] == nil then
    return action(plan, "conflict", r, "cnet." .. noun .. " is not available in this build")
  end
  local dev = r.spec.dev
  if (r.ns ~= nil and plan.new_netns[r.ns]) or (dev and link_is_new(plan, r.ns, dev)) then
    return action(plan, "create", r)
  end
  local st = plan.state and plan.state.resources[r.key]
  if st == nil then return action(plan, "create", r) end
end

-- A shaped device: its root qdisc must be the kind tc.shape makes, at the rate described.
local netem_opts = {"delay", "jitter", "loss", "duplicate", "corrupt", "reorder"}
local function plan_shape(plan, r)
  if cnet.tc == nil or cnet.tc.shape == nil then
    return action(plan, "conflict", r, "cnet.tc is not available in this build")
  end
  if link_is_new(plan, r.ns, r.dev) then return action(plan, "create", r) end
  local q = plan.live:root_qdisc(r.ns, r.dev)
  if q == nil then return action(plan, "create", r) end
  local kind = "tbf"
  for _, k in ipairs(netem_opts) do if r.opts[k] ~= nil then kind = "netem" end end
  local st = plan.state and plan.state.resources[r.key]
  local old = {old = st and st.r.opts or false}
  if q.kind ~= kind then return action(plan, "change", r, ("qdisc %s -> %s"):format(q.kind, kind), old) end
  local want = util.rate_bits(r.opts.rate)
  if r.opts.rate ~= nil and (want == nil or q.rate == nil or math.abs(q.rate - want) > want * 0.001) then
    return action(plan, "change", r, ("rate %s -> %s"):format(tostring(q.rate), tostring(r.opts.rate)), old)
  end
end

local planners = {netns = plan_netns, shape = plan_shape, link = plan_link, addr = plan_addr, route = plan_route,
  sysctl = plan_sysctl, nft = plan_nft, fdb = plan_fdb, neigh = plan_other, qdisc = plan_other}

-- Extra addresses on links of ours and extra routes in namespaces of ours: drift to undo.
local function plan_extras(plan, resources)
  local want_addr, want_route = {}, {} -- want_addr[ns][dev][cidr]
  for _, r in ipairs(resources) do
    if r.kind == "addr" then
      local byns = want_addr[r.ns or ""]
      if byns == nil then byns = {}; want_addr[r.ns or ""] = byns end
      local bydev = byns[r.dev]
      if bydev == nil then bydev = {}; byns[r.dev] = bydev end
      bydev[util.canonical_cidr(r.addr)] = true
    end
  end
  local function check_end(ns, name)
    if link_is_new(plan, ns, name) or not plan.live:link(ns, name) then return end
    local want = want_addr[ns or ""]
    want = want and want[name]
    for cidr, a in pairs(plan.live:dev_addrs(ns, name)) do
      if a.scope ~= "link" and a.scope ~= "host" and not (want and want[cidr]) then
        action(plan, "delete", {kind = "addr", ns = ns, dev = name, addr = cidr,
          key = "addr " .. where(ns, name) .. " " .. cidr}, "not in the description")
      end
    end
  end
  for _, r in ipairs(resources) do
    if r.kind == "link" then
      check_end(r.ns, r.name)
      if r.peer then check_end(r.peer.ns, r.peer.name) end
    elseif r.kind == "route" then
      want_route[r.ns or ""] = want_route[r.ns or ""] or {}
      local l = find_route(plan, r)
      if l then want_route[r.ns or ""][l] = true end
    end
  end
  for _, r in ipairs(resources) do
    if r.kind == "netns" and not plan.new_netns[r.name] and owns_netns(plan, r.name) then
      local keep = want_route[r.name] or {}
      for _, l in ipairs(plan.live:routes(r.name)) do
        if (l.protocol == "boot" or l.protocol == "static") and l.table == "main" and not keep[l] then
          local gone = {kind = "route", ns = r.name, dst = l.dst,
            spec = {dst = l.dst, via = l.via, dev = l.dev, family = l.family, metric = l.metric}}
          -- keyed by place, destination and family (model.key without the metric)
          gone.key = model.key{kind = "route", ns = r.name, dst = l.dst, spec = {family = l.family}}
          action(plan, "delete", gone, "not in the description")
        end
      end
    end
  end
end

-- What the state says this topology made that the description no longer has.
local function plan_removed(plan, resources)
  if plan.state == nil then return end
  local now = {}
  for _, r in ipairs(resources) do now[r.key] = true end
  for _, key in ipairs(plan.state.order) do
    local st = plan.state.resources[key]
    if not now[key] and (st.created or st.r.kind == "sysctl") then
      action(plan, "delete", st.r, "no longer described", {state = st})
    end
  end
end

-- Warnings a description earns before anything runs.
local function plan_warnings(plan, resources)
  local bridges = {}
  for _, r in ipairs(resources) do
    if r.kind == "link" and r.type == "bridge" then
      bridges[r.ns or ""] = bridges[r.ns or ""] or {}
      table.insert(bridges[r.ns or ""], r.name)
    end
  end
  for _, r in ipairs(resources) do
    if r.kind == "nft" then
      local fwd = r.chains.forward
      local br = bridges[r.ns or ""]
      if fwd and fwd.policy == "drop" and br then
        for _, b in ipairs(br) do
          local kept = false
          for _, rule in ipairs(fwd) do
            if rule:find('iifname "' .. b .. '"', 1, true) and rule:find('oifname "' .. b .. '"', 1, true)
              and rule:find("accept") then kept = true end
          end
          if not kept then
            plan.warnings[#plan.warnings + 1] = ("%s: the forward chain drops by default and no rule lets bridge %s talk "
              .. "to itself; with br_netfilter (net.bridge.bridge-nf-call-iptables = 1) its ports are cut off from "
              .. "each other"):format(where(r.ns, r.table), b)
          end
        end
      end
    end
  end
end

-- plan{name=, resources=, state=, live=} -> plan with actions, counts, warnings.
function M.make(opts)
  local plan = {name = opts.name, tag = "cnet:" .. opts.name, resources = opts.resources,
    state = opts.state, live = opts.live, actions = {}, counts = {}, warnings = {},
    new_netns = {}, new_links = {}, owned_netns = {}, alias = M.has_alias()}
  for _, r in ipairs(opts.resources) do
    local before = #plan.actions
    planners[r.kind](plan, r)
    local a = plan.actions[#plan.actions]
    if #plan.actions > before and r.kind == "link" and (a.op == "create" or a.op == "replace") then
      mark_new_link(plan, r.ns, r.name)
      if r.peer then mark_new_link(plan, r.peer.ns, r.peer.name) end
    end
  end
  plan_extras(plan, opts.resources)
  plan_removed(plan, opts.resources)
  plan_warnings(plan, opts.resources)
  plan.changes = 0
  for _, a in ipairs(plan.actions) do if a.op ~= "conflict" then plan.changes = plan.changes + 1 end end
  return plan
end

local signs = {create = "+", change = "~", replace = "-/+", delete = "-", conflict = "!"}

-- The plan as text, one line per action, then a summary line.
function M.format(plan)
  local out = {}
  for _, a in ipairs(plan.actions) do
    local line = ("  %-3s %s"):format(signs[a.op], model.describe(a.r))
    if a.why then line = line .. ": " .. a.why end
    out[#out + 1] = line
  end
  for _, w in ipairs(plan.warnings) do out[#out + 1] = "  warning: " .. w end
  local c = plan.counts
  out[#out + 1] = ("%d to create, %d to change, %d to replace, %d to remove%s"):format(c.create or 0,
    c.change or 0, c.replace or 0, c.delete or 0,
    (c.conflict or 0) > 0 and (", %d conflicts"):format(c.conflict) or "")
  return table.concat(out, "\n")
end

return M
