-- What a topology made, kept in /run/cnet/topologies/NAME.json so that `down` and `status`
-- work from another process, and after the one that ran `up` died. /run is a tmpfs: the
-- state goes with a reboot, as the namespaces and links it describes do.
local M = {}

M.dir = os.getenv("CNET_STATE_DIR") or "/run/cnet/topologies"

local json
local function cjson()
  if json == nil then
    local ok, mod = pcall(require, "cjson")
    if not ok then
      error("cnet.topology keeps its state as JSON through lua-cjson, which is missing "
        .. "(Debian: apt-get install lua-cjson)", 0)
    end
    json = mod
  end
  return json
end

function M.path(name) return M.dir .. "/" .. name .. ".json" end

-- Creates the state directory (mode 0755, like /run/netns); mkdir runs once per boot.
local function ensure_dir()
  local f = io.open(M.dir .. "/.keep", "r")
  if f then f:close() return end
  local ok = os.execute("mkdir -p '" .. M.dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  if not ok then error("cannot create the state directory " .. M.dir, 0) end
  f = io.open(M.dir .. "/.keep", "w")
  if f then f:close() end
end
M.ensure_dir = ensure_dir

-- The JSON-safe record of a resource (nft tables keep only their name and digest: their
-- chains mix rules and options in one table, which JSON cannot hold). Any other resource is
-- its own record: nothing changes a resource once the plan is made, and a copy of each (a
-- shallow one, which shared the tables inside anyway) was 8% of the instructions of `up` of
-- 500 containers.
function M.record(r)
  if r.kind == "nft" then
    return {kind = "nft", ns = r.ns, table = r.table, key = r.key, digest = r.digest}
  end
  return r
end

function M.new(name, fields)
  local s = {version = 1, name = name, order = {}, resources = {}}
  for k, v in pairs(fields or {}) do s[k] = v end
  return s
end

-- Adds or updates the entry of a resource; returns it.
function M.put(s, r, fields)
  local e = s.resources[r.key]
  if e == nil then
    e = {}
    s.resources[r.key] = e
    s.order[#s.order + 1] = r.key
  end
  e.r = M.record(r)
  for k, v in pairs(fields or {}) do e[k] = v end
  return e
end

function M.remove(s, key)
  if s.resources[key] == nil then return end
  s.resources[key] = nil
  for i, k in ipairs(s.order) do
    if k == key then table.remove(s.order, i) break end
  end
end

function M.copy(s)
  if s == nil then return nil end
  local j = cjson()
  return j.decode(j.encode(s))
end

function M.load(name)
  local f = io.open(M.path(name), "r")
  if f == nil then return nil end
  local text = f:read("a")
  f:close()
  local ok, s = pcall(cjson().decode, text)
  if not ok or type(s) ~= "table" or s.version ~= 1 then
    error(("state file %s is not a cnet topology state"):format(M.path(name)), 0)
  end
  s.order = s.order or {}
  s.resources = s.resources or {}
  return s
end

-- Writes the state atomically (a new file renamed over the old one).
function M.save(s)
  ensure_dir()
  local path = M.path(s.name)
  local tmp = path .. ".tmp"
  local f = assert(io.open(tmp, "w"))
  f:write(cjson().encode(s))
  f:close()
  assert(os.rename(tmp, path))
end

function M.delete(name)
  os.remove(M.path(name))
end

-- Names of every topology with a state file, sorted.
function M.list()
  local names = {}
  local p = io.popen("ls -1 '" .. M.dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  if p then
    for line in p:lines() do
      local n = line:match("^(.+)%.json$")
      if n then names[#names + 1] = n end
    end
    p:close()
  end
  table.sort(names)
  return names
end

return M
