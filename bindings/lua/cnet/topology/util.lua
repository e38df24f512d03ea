-- Small pure helpers of the topology layer: stable serialization, address spelling.
local M = {}

-- A deterministic text of a Lua value (keys sorted), for comparing descriptions.
function M.serialize(v)
  local t = type(v)
  if t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      return a < b
    end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = M.serialize(k) .. "=" .. M.serialize(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" then
    return ("%q"):format(v)
  end
  return tostring(v)
end

-- The kernel's spelling of an IPv6 address (RFC 5952: lowercase, no leading zeros, the
-- longest run of zero groups as "::"); IPv4 and anything unparsable come back as given.
local canonical_cache = {}
function M.canonical_addr(a)
  if type(a) ~= "string" or not a:find(":", 1, true) then return a end
  local c = canonical_cache[a]
  if c then return c end
  c = M.canonical_addr6(a)
  canonical_cache[a] = c
  return c
end

function M.canonical_addr6(a)
  local head, tail = a:match("^(.-)::(.*)$")
  local groups = {}
  local function split(s, into)
    if s == "" then return true end
    for g in (s .. ":"):gmatch("([^:]*):") do
      if not g:match("^%x%x?%x?%x?$") then return false end
      into[#into + 1] = tonumber(g, 16)
    end
    return true
  end
  if head then
    local h, t = {}, {}
    if not split(head, h) or not split(tail, t) or #h + #t > 7 then return a end
    for _, g in ipairs(h) do groups[#groups + 1] = g end
    for _ = 1, 8 - #h - #t do groups[#groups + 1] = 0 end
    for _, g in ipairs(t) do groups[#groups + 1] = g end
  else
    if not split(a, groups) or #groups ~= 8 then return a end
  end
  local best, bestlen, i = nil, 1, 1
  while i <= 8 do
    if groups[i] == 0 then
      local j = i
      while j + 1 <= 8 and groups[j + 1] == 0 do j = j + 1 end
      if j - i + 1 > bestlen then best, bestlen = i, j - i + 1 end
      i = j + 1
    else
      i = i + 1
    end
  end
  local parts = {}
  for k = 1, 8 do parts[k] = ("%x"):format(groups[k]) end
  if best == nil then return table.concat(parts, ":") end
  return table.concat(parts, ":", 1, best - 1) .. "::" .. table.concat(parts, ":", best + bestlen, 8)
end

-- A rate as tc writes it ("10mbit", "1.5mbps", "800kbit", or a number of bits per second)
-- in bits per second; nil when it is not one.
local rate_units = {bit = 1, kbit = 1e3, mbit = 1e6, gbit = 1e9, tbit = 1e12,
  kibit = 1024, mibit = 1024 ^ 2, gibit = 1024 ^ 3, tibit = 1024 ^ 4,
  bps = 8, kbps = 8e3, mbps = 8e6, gbps = 8e9, tbps = 8e12,
  kibps = 8 * 1024, mibps = 8 * 1024 ^ 2, gibps = 8 * 1024 ^ 3, tibps = 8 * 1024 ^ 4}
function M.rate_bits(v)
  if type(v) == "number" then return v end
  if type(v) ~= "string" then return nil end
  local n, unit = v:lower():match("^%s*([%d.]+)%s*(%a*)%s*$")
  n = tonumber(n)
  if n == nil then return nil end
  local f = unit == "" and 1 or rate_units[unit]
  return f and math.floor(n * f + 0.5) or nil
end

function M.canonical_cidr(c)
  if not c:find(":", 1, true) then return c end -- IPv4 is written one way only
  local a, p = c:match("^(.*)/(%d+)$")
  if not a then return M.canonical_addr(c) end
  return M.canonical_addr(a) .. "/" .. p
end

-- What of a listed nft table must stay the same for it to be "as made": chains with their
-- hooks and policies, rule texts and sets; no handles, no counters.
function M.nft_digest(t)
  local chains = {}
  for _, c in ipairs(t.chains or {}) do
    local rules = {}
    for _, r in ipairs(c.rules or {}) do
      rules[#rules + 1] = (r.text:gsub(" counter packets %d+ bytes %d+", " counter"))
    end
    chains[c.name] = {type = c.type, hook = c.hook, priority = c.priority, policy = c.policy,
      rules = rules}
  end
  local sets = {}
  for _, s in ipairs(t.sets or {}) do sets[s.name] = {type = s.type, elements = s.elements} end
  return M.serialize({chains = chains, sets = sets})
end

return M
