-- cnet.cni.json: JSON for the CNI plugin, on lua-cjson (see docs/design.md for why).
--
-- Two things cjson does its own way are settled here once:
-- * numbers: cjson gives every number as a float (8080.0); decode turns whole numbers into
--   integers, so ports, MTUs and interface indexes compare and print as integers;
-- * null: decode drops null members of objects (a key set to null counts as absent, as Go's
--   encoding/json treats it for the reference plugins' fields).
-- Empty arrays: cjson cannot tell [] from {} after decoding, and encodes an empty table as {}.
-- Results are therefore built from the spec's schema (cnet.cni.result), which leaves empty
-- lists out, as the reference plugins' Go types do (omitempty).
local cjson = require "cjson"

local M = {}

local null = cjson.null

-- Fixes a decoded table in place (cjson made it, nobody else holds it): a copy would double
-- the work of reading a network's state, which every ADD and DEL does under its lock.
local function normalize(v, depth)
  if depth > 64 then error("nested more than 64 levels", 0) end
  for k, x in pairs(v) do
    local t = type(x)
    if t == "number" then
      local i = math.tointeger(x)
      if i then v[k] = i end
    elseif t == "table" then
      normalize(x, depth + 1)
    elseif x == null then
      v[k] = nil -- allowed while traversing: the field exists
    end
  end
end

-- Decodes text; returns the value, or nil and a message (never raises).
function M.decode(text)
  local ok, v = pcall(cjson.decode, text)
  if not ok then return nil, (tostring(v):gsub("^Expected", "expected")) end
  if v == null then return nil, "the document is null" end
  if type(v) == "number" then return math.tointeger(v) or v end
  if type(v) ~= "table" then return v end
  local ok2, err = pcall(normalize, v, 0)
  if not ok2 then return nil, err end
  return v
end

-- Encodes a value (tables from cnet.cni.result, or plain data) as compact JSON text.
function M.encode(v)
  return cjson.encode(v)
end

-- Indented JSON with sorted keys, for people (`cnet cni` prints results this way).
function M.pretty(v, indent)
  indent = indent or ""
  if type(v) ~= "table" then return cjson.encode(v) end
  local inner = indent .. "  "
  local parts = {}
  if #v > 0 then
    for _, x in ipairs(v) do parts[#parts + 1] = inner .. M.pretty(x, inner) end
    return "[\n" .. table.concat(parts, ",\n") .. "\n" .. indent .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  if #keys == 0 then return "{}" end
  table.sort(keys)
  for _, k in ipairs(keys) do
    parts[#parts + 1] = inner .. cjson.encode(k) .. ": " .. M.pretty(v[k], inner)
  end
  return "{\n" .. table.concat(parts, ",\n") .. "\n" .. indent .. "}"
end

-- Reads a JSON file; returns the value, or nil and a message.
function M.read(path)
  local f, err = io.open(path)
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  local v, msg = M.decode(text)
  if v == nil then return nil, path .. ": " .. msg end
  return v, text
end

return M
