-- What the kernel holds now, read once per namespace and only as far as a plan needs it.
-- A place is a namespace name, or nil for the namespace cnet runs in.
local cnet = require "cnet"

local Live = {}
Live.__index = Live

local M = {}

function M.new()
  return setmetatable({handles = {}, places = {}, netns_names = nil}, Live)
end

-- Every named namespace, as a set.
function Live:namespaces()
  if self.netns_names == nil then
    local set = {}
    for _, n in ipairs(cnet.netns.list()) do set[n.name] = n end
    self.netns_names = set
  end
  return self.netns_names
end

function Live:netns_exists(name) return self:namespaces()[name] ~= nil end

-- The API of a place: the module itself, or a handle opened once (nil when the namespace
-- does not exist).
function Live:api(ns)
  if ns == nil or ns == "" then return cnet end
  local h = self.handles[ns]
  if h == nil then
    if not self:netns_exists(ns) then return nil end
    local ok, got = pcall(cnet.netns.open, ns)
    if not ok then
      -- listed but not a namespace: an entry left by a process killed while making it
      if type(got) == "table" and (got.code == "EINVAL" or got.code == "ENOENT") then return nil end
      error(got, 0)
    end
    h = got
    self.handles[ns] = h
  end
  return h
end

function Live:close()
  for _, h in pairs(self.handles) do h.close() end
  self.handles = {}
end

local function place(self, ns)
  local key = ns or ""
  local p = self.places[key]
  if p == nil then
    p = {}
    self.places[key] = p
  end
  return p
end

-- name -> link table of a place (empty when the namespace is missing).
function Live:links(ns)
  local p = place(self, ns)
  if p.links == nil then
    local api, by = self:api(ns), {}
    if api then
      -- peers = false: the plan matches veth ends itself, by name and place
      for _, l in ipairs(api.link.list{peers = false}) do by[l.name] = l end
    end
    p.links = by
  end
  return p.links
end

function Live:link(ns, name) return self:links(ns)[name] end

-- One link of a place (nil when missing): from the place's dump if one was made, else read
-- alone and kept. Where few links of a place are wanted (a namespace's loopback, a bridge
-- beside 500 veths), one request each costs less than a dump of all: `down` of 500
-- containers decoded 1,500 links to look at 501.
function Live:peek(ns, name)
  local p = place(self, ns)
  if p.links then return p.links[name] end
  p.got = p.got or {}
  local l = p.got[name]
  if l == nil then
    local api = self:api(ns)
    if api then
      local ok, got = pcall(api.link.get, name)
      if ok then l = got
      elseif type(got) ~= "table" or got.code ~= "ENODEV" then error(got, 0) end
    end
    p.got[name] = l or false
  end
  return l or nil
end

-- dev -> { cidr -> addr } of a place.
function Live:addrs(ns)
  local p = place(self, ns)
  if p.addrs == nil then
    local api, by = self:api(ns), {}
    if api then
      for _, a in ipairs(api.addr.list()) do
        local d = by[a.dev]
        if d == nil then d = {}; by[a.dev] = d end
        d[a.cidr] = a
      end
    end
    p.addrs = by
  end
  return p.addrs
end

-- { cidr -> addr } of one device of a place. In this machine's namespace, which may hold
-- many devices that are none of ours, only that device is asked for; elsewhere one dump of
-- the namespace serves all its devices.
function Live:dev_addrs(ns, dev)
  local p = place(self, ns)
  -- a few devices of the host: one short request each; more: one dump of them all
  if ns ~= nil and ns ~= "" or p.addrs or (p.ndev or 0) >= 8 then return self:addrs(ns)[dev] or {} end
  p.dev_addrs = p.dev_addrs or {}
  local v = p.dev_addrs[dev]
  if v == nil then
    p.ndev = (p.ndev or 0) + 1
    v = {}
    if self:link(ns, dev) then
      for _, a in ipairs(cnet.addr.list(dev)) do v[a.cidr] = a end
    end
    p.dev_addrs[dev] = v
  end
  return v
end

-- The routes of a place: table main, or every table when all is true (a description with
-- routes in other tables; the main table alone is one short dump).
function Live:routes(ns, all)
  local p = place(self, ns)
  local key = all and "routes_all" or "routes"
  if p[key] == nil then
    local api = self:api(ns)
    p[key] = api and api.route.list(all and {table = "all"} or nil) or {}
  end
  return p[key]
end

function Live:sysctl(ns, key)
  local p = place(self, ns)
  p.sysctl = p.sysctl or {}
  local v = p.sysctl[key]
  if v == nil then
    local api = self:api(ns)
    if api == nil then return nil end
    local ok, got = pcall(api.sysctl.get, key)
    v = ok and got or false
    p.sysctl[key] = v
  end
  return v or nil
end

-- The listing of one nft table ("ip cnet-lab") of a place, or nil when it is missing.
function Live:nft_table(ns, tab)
  local p = place(self, ns)
  p.nft = p.nft or {}
  local v = p.nft[tab]
  if v == nil then
    local api = self:api(ns)
    v = false
    if api then
      local ok, got = pcall(api.nft.list, tab)
      if ok then
        v = got[1] or false
      elseif type(got) ~= "table" or got.code ~= "ENOENT" then
        error(got, 0)
      end
    end
    p.nft[tab] = v
  end
  return v or nil
end

-- The root qdisc of a device of a place, or nil (the kernel's default counts as none).
function Live:root_qdisc(ns, dev)
  local p = place(self, ns)
  p.qdiscs = p.qdiscs or {}
  local v = p.qdiscs[dev]
  if v == nil then
    local api = self:api(ns)
    v = false
    if api and api.tc then
      local ok, list = pcall(api.tc.qdisc.list, dev)
      for _, q in ipairs(ok and list or {}) do
        if q.parent == "root" and q.handle ~= "0:" then v = q end
      end
    end
    p.qdiscs[dev] = v
  end
  return v or nil
end

-- The FDB entries of a device of a place (empty without cnet.fdb or the device).
function Live:fdb(ns, dev)
  local p = place(self, ns)
  p.fdb = p.fdb or {}
  local v = p.fdb[dev]
  if v == nil then
    local api = self:api(ns)
    local ok, list = false, nil
    if api and api.fdb then ok, list = pcall(api.fdb.list, {dev = dev}) end
    v = ok and list or {}
    p.fdb[dev] = v
  end
  return v
end

-- Forgets what was read of a place (after changing it).
function Live:forget(ns) self.places[ns or ""] = nil end

-- Closes the handle of namespace ns (one about to be deleted: a handle keeps it alive) and
-- forgets what was read there.
function Live:drop(ns)
  local h = self.handles[ns]
  if h then h.close() end
  self.handles[ns] = nil
  self:forget(ns)
end

return M
