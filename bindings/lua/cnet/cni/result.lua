-- cnet.cni.result: the CNI result type across spec versions 0.3.0 .. 1.1.0.
--
-- Inside the plugin a result is one Lua shape, the 1.1.0 one:
--   {interfaces = {{name=, mac=, mtu=, sandbox=, socketPath=, pciID=}, ...},
--    ips = {{address = "10.88.0.5/16", gateway = "10.88.0.1", interface = 2}, ...},
--    routes = {{dst = "0.0.0.0/0", gw =, mtu =, advmss =, priority =, table =, scope =}, ...},
--    dns = {nameservers = {...}, domain =, search = {...}, options = {...}}}
-- parse() reads any supported version into it (prevResult, an IPAM plugin's output) and
-- encode() writes it in the version the configuration asks for: 0.3.x and 0.4.0 carry
-- "version" in each IP, 1.1.0 added interface mtu/socketPath/pciID and the route options.
local json = require "cnet.cni.json"

local M = {}

-- Every version this plugin speaks, oldest first (VERSION reports them).
M.versions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

local function vnum(v)
  local a, b, c = tostring(v):match("^(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  return tonumber(a) * 10000 + tonumber(b) * 100 + tonumber(c)
end

-- Compares two version strings: -1, 0 or 1 (nil for malformed ones).
function M.compare(a, b)
  local x, y = vnum(a), vnum(b)
  if not x or not y then return nil end
  return x < y and -1 or (x > y and 1 or 0)
end

function M.supported(v)
  for _, s in ipairs(M.versions) do if s == v then return true end end
  return false
end

local fields = {
  interface = {name = "string", mac = "string", mtu = "integer", sandbox = "string",
               socketPath = "string", pciID = "string"},
  ip = {address = "string", gateway = "string", interface = "integer", version = "string"},
  route = {dst = "string", gw = "string", mtu = "integer", advmss = "integer",
           priority = "integer", table = "integer", scope = "integer"},
  dns = {nameservers = "strings", domain = "string", search = "strings", options = "strings"},
}
-- What 1.1.0 added; left out of older results.
local since_110 = {mtu = true, socketPath = true, pciID = true, advmss = true,
                   priority = true, table = true, scope = true}

local function typed(v, t)
  if t == "integer" then return math.type(v) == "integer" end
  if t == "strings" then
    if type(v) ~= "table" then return false end
    for _, s in pairs(v) do if type(s) ~= "string" then return false end end
    return true
  end
  return type(v) == t
end

-- Copies the known fields of one object, checking their types; unknown fields are dropped.
local function pick(obj, kind, where, fail)
  if type(obj) ~= "table" then fail(where .. ": object expected") end
  local out = {}
  for k, t in pairs(fields[kind]) do
    local v = obj[k]
    if v ~= nil then
      if not typed(v, t) then fail(("%s.%s: %s expected"):format(where, k, t)) end
      out[k] = v
    end
  end
  return out
end

local function list(v, where, fail)
  if v == nil then return {} end
  if type(v) ~= "table" then fail(where .. ": list expected") end
  return v
end

-- Reads a decoded result of any supported version. fail(msg) is called (and must raise) on
-- a malformed one; `name` says what it is in messages ("prevResult").
function M.parse(t, name, fail)
  if type(t) ~= "table" then fail(name .. ": object expected") end
  local r = {interfaces = {}, ips = {}, routes = {}, dns = {}}
  for i, x in ipairs(list(t.interfaces, name .. ".interfaces", fail)) do
    r.interfaces[i] = pick(x, "interface", ("%s.interfaces[%d]"):format(name, i - 1), fail)
  end
  for i, x in ipairs(list(t.ips, name .. ".ips", fail)) do
    local ip = pick(x, "ip", ("%s.ips[%d]"):format(name, i - 1), fail)
    if ip.address == nil then fail(("%s.ips[%d].address: missing"):format(name, i - 1)) end
    ip.version = nil
    r.ips[i] = ip
  end
  for i, x in ipairs(list(t.routes, name .. ".routes", fail)) do
    local rt = pick(x, "route", ("%s.routes[%d]"):format(name, i - 1), fail)
    if rt.dst == nil then fail(("%s.routes[%d].dst: missing"):format(name, i - 1)) end
    r.routes[i] = rt
  end
  if t.dns ~= nil then r.dns = pick(t.dns, "dns", name .. ".dns", fail) end
  return r
end

local function nonempty(t) return t ~= nil and next(t) ~= nil end

-- The result as a plain table in `version`, ready for JSON (empty lists left out).
function M.export(r, version)
  local old = M.compare(version, "1.1.0") < 0
  local pre1 = M.compare(version, "1.0.0") < 0
  local out = {cniVersion = version}
  local function strip(obj)
    local c = {}
    for k, v in pairs(obj) do
      if not (old and since_110[k]) then c[k] = v end
    end
    return c
  end
  if nonempty(r.interfaces) then
    out.interfaces = {}
    for i, x in ipairs(r.interfaces) do out.interfaces[i] = strip(x) end
  end
  if nonempty(r.ips) then
    out.ips = {}
    for i, x in ipairs(r.ips) do
      local ip = strip(x)
      if pre1 then ip.version = x.address:find(":", 1, true) and "6" or "4" end
      out.ips[i] = ip
    end
  end
  if nonempty(r.routes) then
    out.routes = {}
    for i, x in ipairs(r.routes) do out.routes[i] = strip(x) end
  end
  local dns = {}
  for k, v in pairs(r.dns or {}) do
    if type(v) ~= "table" or next(v) ~= nil then dns[k] = v end
  end
  if next(dns) ~= nil then out.dns = dns end
  return out
end

function M.encode(r, version)
  return json.encode(M.export(r, version))
end

-- A chained plugin's answer: prevResult's interfaces, IPs and routes, then ours (the
-- interface indexes of our IPs shifted past prevResult's interfaces); our DNS when we have
-- one, else prevResult's.
function M.merge(prev, ours)
  if prev == nil then return ours end
  local r = M.copy(prev)
  local shift = #r.interfaces
  for _, i in ipairs(ours.interfaces or {}) do r.interfaces[#r.interfaces + 1] = M.copy(i) end
  for _, ip in ipairs(ours.ips or {}) do
    local c = M.copy(ip)
    if c.interface then c.interface = c.interface + shift end
    r.ips[#r.ips + 1] = c
  end
  for _, rt in ipairs(ours.routes or {}) do r.routes[#r.routes + 1] = M.copy(rt) end
  if ours.dns and next(ours.dns) then r.dns = M.copy(ours.dns) end
  return r
end

-- A deep copy (results are small; recipes change copies, never the caller's tables).
function M.copy(r)
  if type(r) ~= "table" then return r end
  local c = {}
  for k, v in pairs(r) do c[k] = M.copy(v) end
  return c
end

return M
