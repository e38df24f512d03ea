-- A topology as data: the builder a topology file calls (t:netns, t:link, t:container, ...)
-- and its expansion into concrete resources, each in one namespace of this machine.
--
-- A description holds objects placed on hosts. A topology without hosts is all on one
-- machine (host nil). With hosts (t:host), each object belongs to one host, and `expand`
-- decides where a host lives: simulated as a namespace of this machine (the default), or
-- this machine itself (`--host NAME`).
local M = {}

local Topology = {}
Topology.__index = Topology
M.Topology = Topology

local IFNAMSIZ = 15

local function fail(t, fmt, ...)
  error(("topology %s: " .. fmt):format(t.name, ...), 3)
end
M.fail = fail

-- A short stable hash, for names that must fit in 15 bytes.
local function hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) & 0xffffffff end
  return ("%08x"):format(h)
end

-- prefix .. name when it fits an interface name, else prefix .. a hash of name.
function M.ifname(prefix, name)
  local n = prefix .. name
  if #n <= IFNAMSIZ then return n end
  return (prefix .. hash(name)):sub(1, IFNAMSIZ)
end

function M.new(name, opts)
  if type(name) ~= "string" or not name:match("^[%w][%w_.-]*$") or #name > 64 then
    error("topology.new: a name of letters, digits, '_', '.', '-' expected (64 bytes at most), got "
      .. (type(name) == "string" and ("%q"):format(name:sub(1, 80)) or type(name)), 2)
  end
  opts = opts or {}
  local t = setmetatable({
    name = name,
    tag = "cnet:" .. name,      -- the alias every link and namespace it makes carries
    objects = {},               -- in the order described
    hosts = {}, host_order = {},
    nft_tables = {},            -- [host or ""][netns or ""] = the table object of that place
    warnings = {},
    _host = nil,                -- the host the builder methods place objects on
  }, Topology)
  t.table_name = opts.table or ("cnet-" .. name)
  return t
end

-- ---- places and keys ----------------------------------------------------------------------

-- How a namespace is written in keys and messages: "" for the machine's own namespace.
local function nsname(ns) return ns or "" end

function M.where(ns, what)
  if ns == nil or ns == "" then return what end
  return ns .. "/" .. what
end

local function add(t, obj)
  obj.host = obj.host == nil and t._host or obj.host
  t.objects[#t.objects + 1] = obj
  return obj
end
M.add = add

local function checkname(t, what, name, max)
  if type(name) ~= "string" or name == "" then fail(t, "%s: a name expected, got %s", what, type(name)) end
  if max and #name > max then fail(t, "%s %s: name longer than %d bytes", what, name, max) end
  if name:find("[%s/:%z]") then fail(t, "%s %q: name with a blank, '/' or ':'", what, name) end
  return name
end

local function list_of(v)
  if v == nil then return {} end
  if type(v) == "table" then return v end
  return {v}
end

local function copy(tbl)
  local c = {}
  for k, v in pairs(tbl or {}) do c[k] = v end
  return c
end

-- ---- primitives ---------------------------------------------------------------------------

-- A network namespace (a container, a router, a site).
function Topology:netns(name, opts)
  opts = opts or {}
  checkname(self, "netns", name, 200)
  add(self, {kind = "netns", name = name, role = opts.role or "netns"})
  for k, v in pairs(opts.sysctl or {}) do self:sysctl{netns = name, key = k, value = v} end
  return name
end

local link_keys = {name = true, type = true, kind = true, netns = true, master = true, up = true,
  mtu = true, mac = true, addr = true, peer = true, host = true, lower_netns = true}

-- A device. Fields as cnet.link.add takes them (name, type, mtu, mac, master, the kind's own
-- options), plus netns (where it lives; nil: the host's own namespace), up (default true),
-- addr (one address or a list) and, for a veth, peer = {name=, netns=, addr=, master=, up=}.
-- A device on a lower one (macvlan's `link`) in another namespace says where that lower
-- device is with lower_netns (nil: the host's own namespace).
function Topology:link(spec)
  if type(spec) ~= "table" then fail(self, "link: a table expected, got %s", type(spec)) end
  local name = checkname(self, "link", spec.name, IFNAMSIZ)
  local kind = spec.type or spec.kind
  if type(kind) ~= "string" then fail(self, "link %s: type required", name) end
  local opts = {}
  for k, v in pairs(spec) do if not link_keys[k] then opts[k] = v end end
  local obj = add(self, {kind = "link", ns = spec.netns, name = name, type = kind,
    up = spec.up ~= false, mtu = spec.mtu, mac = spec.mac, master = spec.master, opts = opts,
    host = spec.host, lower_ns = spec.lower_netns})
  if kind == "veth" then
    local p = spec.peer
    if type(p) ~= "table" then fail(self, "link %s: a veth needs peer = {name=, netns=}", name) end
    obj.peer = {name = checkname(self, "link " .. name .. " peer", p.name, IFNAMSIZ), ns = p.netns,
      up = p.up ~= false, mtu = p.mtu, mac = p.mac, master = p.master}
    for _, a in ipairs(list_of(p.addr)) do
      self:addr{netns = p.netns, dev = p.name, addr = a, host = obj.host}
    end
  elseif spec.peer ~= nil then
    fail(self, "link %s: peer is for veths only", name)
  end
  for _, a in ipairs(list_of(spec.addr)) do
    self:addr{netns = spec.netns, dev = name, addr = a, host = obj.host}
  end
  return obj
end

function Topology:bridge(name, opts)
  local spec = copy(opts)
  spec.name, spec.type = name, "bridge"
  return self:link(spec)
end

-- A veth pair between two places: a = {name=, netns=, addr=, master=}, b likewise.
function Topology:veth(a, b, opts)
  local spec = copy(opts)
  for k, v in pairs(a) do spec[k] = v end
  spec.type, spec.peer = "veth", b
  return self:link(spec)
end

-- An address: {netns=, dev=, addr="10.0.0.1/24", broadcast=, nodad=, ...} (the options of
-- cnet.addr.add; IPv4 addresses get broadcast "+" unless told otherwise).
function Topology:addr(spec)
  local a = spec.addr
  if type(a) ~= "string" or not a:find("/") then
    fail(self, "addr on %s: \"address/prefix\" expected, got %s", tostring(spec.dev), tostring(a))
  end
  local opts = {}
  for k, v in pairs(spec) do
    if k ~= "netns" and k ~= "dev" and k ~= "addr" and k ~= "host" then opts[k] = v end
  end
  if not a:find(":") and opts.broadcast == nil then opts.broadcast = "+" end
  if a:find(":") and opts.nodad == nil then opts.nodad = true end -- labs want it at once
  return add(self, {kind = "addr", ns = spec.netns, dev = checkname(self, "addr", spec.dev, IFNAMSIZ),
    addr = a, opts = opts, host = spec.host})
end

-- A route: {netns=, dst=, via=, dev=, metric=, table=, src=, ...} as cnet.route.add takes it.
function Topology:route(spec)
  if type(spec.dst) ~= "string" then fail(self, "route: dst required") end
  local r = copy(spec)
  r.netns, r.host = nil, nil
  return add(self, {kind = "route", ns = spec.netns, dst = spec.dst, spec = r, host = spec.host})
end

-- A kernel parameter: {netns=, key=, value=}. Helpers may ask for the same one twice (NAT and
-- a port forward both need forwarding): that is one object, as long as they agree.
function Topology:sysctl(spec)
  if type(spec.key) ~= "string" then fail(self, "sysctl: key required") end
  local value = tostring(spec.value == true and 1 or spec.value == false and 0 or spec.value)
  local host = spec.host == nil and self._host or spec.host
  for _, o in ipairs(self.objects) do
    if o.kind == "sysctl" and o.param == spec.key and o.ns == spec.netns and o.host == host then
      if o.value ~= value then
        fail(self, "sysctl %s: described as %s and as %s", M.where(spec.netns, spec.key), o.value, value)
      end
      return o
    end
  end
  return add(self, {kind = "sysctl", ns = spec.netns, param = spec.key, value = value, host = spec.host})
end

-- The topology's nftables table in one namespace (one per namespace, named after the
-- topology, `ip cnet-NAME` by default). Helpers add chains and rules to it; chains given
-- here are merged in: {netns=, chains = {name = {type=, hook=, priority=, policy=, rules...}},
-- sets = {...}}.
function Topology:nft_table(netns, family)
  local place = (self._host or "") .. "\0" .. nsname(netns)
  local tab = self.nft_tables[place]
  if tab == nil then
    tab = add(self, {kind = "nft", ns = netns, table = (family or "ip") .. " " .. self.table_name,
      chains = {}, chain_order = {}, sets = {}})
    self.nft_tables[place] = tab
  end
  return tab
end

function M.chain(tab, name, base)
  local c = tab.chains[name]
  if c == nil then
    c = {}
    for k, v in pairs(base or {}) do c[k] = v end
    tab.chains[name] = c
    tab.chain_order[#tab.chain_order + 1] = name
  end
  return c
end

function Topology:nft(spec)
  local tab = self:nft_table(spec.netns, spec.family)
  for name, c in pairs(spec.chains or {}) do
    local chain = M.chain(tab, name, {type = c.type, hook = c.hook, priority = c.priority,
      policy = c.policy, device = c.device})
    for _, r in ipairs(c) do chain[#chain + 1] = r end
  end
  for name, s in pairs(spec.sets or {}) do tab.sets[name] = s end
  return tab
end

-- Objects of nouns the core may or may not have (cnet.fdb, cnet.neigh, cnet.tc): their spec
-- goes to NOUN.add as given, checked when the topology goes up.
function Topology:fdb(spec) return add(self, {kind = "fdb", ns = spec.netns, spec = copy(spec), host = spec.host}) end
function Topology:neigh(spec) return add(self, {kind = "neigh", ns = spec.netns, spec = copy(spec), host = spec.host}) end
function Topology:qdisc(spec) return add(self, {kind = "qdisc", ns = spec.netns, spec = copy(spec), host = spec.host}) end

-- ---- hosts --------------------------------------------------------------------------------

local HostView = {}
HostView.__index = function(v, k)
  local f = Topology[k]
  if type(f) ~= "function" then return nil end
  return function(self, ...)
    local t = rawget(self, "topo")
    local saved = t._host
    t._host = rawget(self, "host")
    local r = table.pack(pcall(f, t, ...))
    t._host = saved
    if not r[1] then error(r[2], 2) end
    return table.unpack(r, 2, r.n)
  end
end

-- A machine of a multi-host topology: {underlay = {dev = "eth0", addr = "192.0.2.11/24"}}.
-- Returns a view with the same methods as the topology that place objects on that host.
function Topology:host(name, opts)
  checkname(self, "host", name, 200)
  if self.hosts[name] then fail(self, "host %s described twice", name) end
  opts = opts or {}
  local ul = opts.underlay
  if type(ul) ~= "table" or type(ul.addr) ~= "string" then
    fail(self, "host %s: underlay = {dev=, addr=\"a/p\"} required", name)
  end
  self.hosts[name] = {name = name, underlay = {dev = ul.dev or "eth0", addr = ul.addr}}
  self.host_order[#self.host_order + 1] = name
  return setmetatable({topo = self, host = name}, HostView)
end

-- ---- expansion ----------------------------------------------------------------------------

-- The concrete resources of the topology for one way of running it:
--   mode.host == nil: every host simulated as a namespace named after it, joined to an
--     underlay bridge in this machine's namespace;
--   mode.host == NAME: only that host's objects, its own namespace being this machine's.
-- Returns the list of resources, each with kind, ns (nil: this machine's namespace) and key.
function M.expand(t, mode)
  mode = mode or {}
  local out, seen = {}, {}
  local function emit(r)
    r.key = M.key(r)
    if seen[r.key] then
      error(("topology %s: %s described twice"):format(t.name, M.describe(r)), 0)
    end
    seen[r.key] = r
    out[#out + 1] = r
  end
  local simulate = #t.host_order > 0 and mode.host == nil
  if mode.host ~= nil and not t.hosts[mode.host] then
    error(("topology %s: no host %s (hosts: %s)"):format(t.name, mode.host,
      #t.host_order > 0 and table.concat(t.host_order, ", ") or "none"), 0)
  end
  if simulate then -- the underlay: a bridge here, each host a namespace with a port on it
    local ul = M.ifname("ul-", t.name)
    emit({kind = "link", name = ul, type = "bridge", up = true, opts = {}})
    for _, h in ipairs(t.host_order) do
      local hd = t.hosts[h]
      emit({kind = "netns", name = h, role = "host"})
      emit({kind = "link", name = M.ifname("ul-", h .. "." .. t.name), type = "veth", up = true,
        master = ul, opts = {}, peer = {name = hd.underlay.dev, ns = h, up = true}})
      emit({kind = "addr", ns = h, dev = hd.underlay.dev, addr = hd.underlay.addr,
        opts = {broadcast = "+"}})
    end
  end
  for _, o in ipairs(t.objects) do
    local keep = true
    if mode.host ~= nil and o.host ~= mode.host then keep = false end
    if keep then
      -- an object placed as it was described is its own resource; one moved onto a
      -- simulated host is a copy
      local r = o
      if simulate and o.host ~= nil then
        r = copy(o)
        if r.ns == nil and r.kind ~= "netns" then r.ns = o.host end
        if r.peer then
          r.peer = copy(r.peer)
          if r.peer.ns == nil then r.peer.ns = o.host end
        end
      end
      if r.kind == "nft" then r = M.nft_resource(r) end
      emit(r)
    end
  end
  return out
end

-- The cnet.nft.apply description of a table resource (chains in the order described).
function M.nft_resource(r)
  local chains = {}
  for _, name in ipairs(r.chain_order) do chains[name] = r.chains[name] end
  return {kind = "nft", ns = r.ns, table = r.table, chains = chains, sets = r.sets,
    chain_order = r.chain_order}
end

-- A route's family: given, or read from its gateway or destination.
function M.route_family(spec)
  if spec.family then return spec.family end
  local s = spec.via or spec.gateway or spec.dst
  return s:find(":") and "inet6" or "inet"
end

function M.key(r)
  local k = r.kind
  if k == "netns" then return "netns " .. r.name end
  if k == "link" then return "link " .. M.where(r.ns, r.name) end
  if k == "addr" then return "addr " .. M.where(r.ns, r.dev) .. " " .. r.addr end
  if k == "route" then
    -- an IPv4 and an IPv6 default route of one namespace are two objects
    return "route " .. M.where(r.ns, r.dst) .. (M.route_family(r.spec) == "inet6" and " inet6" or "")
      .. (r.spec.table and (" table " .. r.spec.table) or "")
      .. (r.spec.metric and (" metric " .. r.spec.metric) or "")
  end
  if k == "sysctl" then return "sysctl " .. M.where(r.ns, r.param) end
  if k == "nft" then return "nft " .. M.where(r.ns, r.table) end
  if k == "shape" then return "shape " .. M.where(r.ns, r.dev) end
  local s = r.spec
  if k == "fdb" then
    return "fdb " .. M.where(r.ns, tostring(s.dev)) .. " " .. tostring(s.mac) ..
      (s.dst and (" dst " .. s.dst) or "") .. (s.vlan and (" vlan " .. s.vlan) or "")
  end
  return k .. " " .. M.where(r.ns, tostring(s.dev or s.name or "")) .. " " ..
    tostring(s.mac or s.dst or s.addr or s.kind or s.type or "")
end

-- How a resource reads in plans and errors: "link c1/eth0 (veth, peer br-c1)".
function M.describe(r)
  local k = r.kind
  if k == "link" then
    local s = "link " .. M.where(r.ns, r.name) .. " (" .. r.type
    if r.peer then s = s .. ", peer " .. M.where(r.peer.ns, r.peer.name) end
    if r.master then s = s .. ", master " .. r.master end
    return s .. ")"
  elseif k == "route" then
    local s = "route " .. M.where(r.ns, r.dst)
    if r.spec.via then s = s .. " via " .. r.spec.via end
    if r.spec.dev then s = s .. " dev " .. r.spec.dev end
    return s
  elseif k == "sysctl" then
    return "sysctl " .. M.where(r.ns, r.param) .. " = " .. r.value
  elseif k == "shape" then
    local parts = {}
    for _, f in ipairs{"rate", "delay", "jitter", "loss"} do
      if r.opts[f] ~= nil then parts[#parts + 1] = f .. " " .. tostring(r.opts[f]) end
    end
    return "shape " .. M.where(r.ns, r.dev) .. " (" .. table.concat(parts, ", ") .. ")"
  end
  return r.key
end

return M
