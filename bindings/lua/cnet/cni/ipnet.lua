-- cnet.cni.ipnet: IPv4 and IPv6 addresses as values, for the allocator and the checks.
-- An address is its network-order bytes in a Lua string (4 or 16 of them), so addresses
-- of one family compare with < and ==, and serve as table keys without a text form.
local M = {}

local function parse4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  local o = {tonumber(a), tonumber(b), tonumber(c), tonumber(d)}
  for i = 1, 4 do
    if o[i] > 255 or (#({a, b, c, d})[i] > 1 and ({a, b, c, d})[i]:sub(1, 1) == "0") then
      return nil
    end
  end
  return string.char(o[1], o[2], o[3], o[4])
end

local function parse6(s)
  if s:find("[^%x:%.]") then return nil end
  local head, tail = s, nil
  local dc = s:find("::", 1, true)
  if dc then
    head, tail = s:sub(1, dc - 1), s:sub(dc + 2)
    if tail:find("::", 1, true) then return nil end
  end
  local function groups(part)
    local out = {}
    if part == "" then return out end
    local items = {}
    for g in (part .. ":"):gmatch("([^:]*):") do items[#items + 1] = g end
    for i, g in ipairs(items) do
      if i == #items and g:find(".", 1, true) then
        local v4 = parse4(g)
        if not v4 then return nil end
        out[#out + 1] = v4:byte(1) * 256 + v4:byte(2)
        out[#out + 1] = v4:byte(3) * 256 + v4:byte(4)
      else
        if not g:match("^%x%x?%x?%x?$") then return nil end
        out[#out + 1] = tonumber(g, 16)
      end
    end
    return out
  end
  local h, t = groups(head), groups(tail or "")
  if not h or not t then return nil end
  local n = #h + #t
  if (dc and n > 7) or (not dc and n ~= 8) then return nil end
  local all = {}
  for _, g in ipairs(h) do all[#all + 1] = g end
  for _ = 1, 8 - n do all[#all + 1] = 0 end
  for _, g in ipairs(t) do all[#all + 1] = g end
  local bytes = {}
  for i, g in ipairs(all) do bytes[2 * i - 1], bytes[2 * i] = g >> 8, g & 255 end
  return string.char(table.unpack(bytes))
end

-- Parses an address; returns its bytes and family (4 or 6), or nil.
function M.parse(s)
  if type(s) ~= "string" then return nil end
  local b = parse4(s)
  if b then return b, 4 end
  b = parse6(s)
  if b then return b, 6 end
  return nil
end

-- Parses "ADDR/PREFIX" (a bare address is a full-length prefix); returns
-- {addr = bytes, prefix = n, family = 4|6}, or nil.
function M.cidr(s)
  if type(s) ~= "string" then return nil end
  local a, p = s:match("^([^/]+)/(%d+)$")
  if not a then a = s end
  local b, fam = M.parse(a)
  if not b then return nil end
  local bits = #b * 8
  local prefix = p and tonumber(p) or bits
  if prefix > bits or (p and #p > 1 and p:sub(1, 1) == "0") then return nil end
  return {addr = b, prefix = prefix, family = fam}
end

-- Text form: dotted quad, or RFC 5952 (lowercase, longest run of zero groups as ::).
function M.tostring(b)
  if #b == 4 then return ("%d.%d.%d.%d"):format(b:byte(1, 4)) end
  local g = {}
  for i = 1, 8 do g[i] = b:byte(2 * i - 1) * 256 + b:byte(2 * i) end
  local best, blen, cur, clen = 0, 0, 0, 0
  for i = 1, 8 do
    if g[i] == 0 then
      if clen == 0 then cur = i end
      clen = clen + 1
      if clen > blen then best, blen = cur, clen end
    else
      clen = 0
    end
  end
  local parts = {}
  local i = 1
  while i <= 8 do
    if blen > 1 and i == best then
      parts[#parts + 1] = (i == 1) and ":" or ""
      i = i + blen
      if i > 8 then parts[#parts + 1] = "" end
    else
      parts[#parts + 1] = ("%x"):format(g[i])
      i = i + 1
    end
  end
  return table.concat(parts, ":")
end

-- Keeps the first `prefix` bits of b (fill = 0) or sets the rest (fill = 1).
local function edge(b, prefix, fill)
  local out = {}
  for i = 1, #b do
    local keep = math.max(0, math.min(8, prefix - (i - 1) * 8))
    local mask = (0xff << (8 - keep)) & 0xff
    local v = b:byte(i) & mask
    if fill == 1 then v = v | (~mask & 0xff) end
    out[i] = v
  end
  return string.char(table.unpack(out))
end

function M.network(b, prefix) return edge(b, prefix, 0) end
function M.last(b, prefix) return edge(b, prefix, 1) end

function M.contains(net, prefix, b)
  return #net == #b and edge(b, prefix, 0) == edge(net, prefix, 0)
end

-- b + delta (delta is 1 or -1); nil past either end of the family's space.
function M.step(b, delta)
  local out = {b:byte(1, -1)}
  local i = #out
  while i >= 1 do
    local v = out[i] + delta
    if v >= 0 and v <= 255 then
      out[i] = v
      return string.char(table.unpack(out))
    end
    out[i] = v & 255
    i = i - 1
  end
  return nil
end

-- How many addresses lie from a to b inclusive, capped at `cap` (enough to compare with a
-- lease count without 128-bit arithmetic). Since b >= a, the running difference is positive
-- from the first byte where they differ on, and only grows: capping early is exact.
function M.count(a, b, cap)
  if b < a then return 0 end
  local n = 0
  for i = 1, #a do
    n = n * 256 + (b:byte(i) - a:byte(i))
    if n >= cap then return cap end
  end
  return math.min(n + 1, cap)
end

return M
