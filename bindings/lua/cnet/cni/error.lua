-- cnet.cni.error: CNI errors, the spec's "error" result as a Lua error object.
--
-- A CNI error is a table {code =, msg =, details =} with a __tostring ("msg: details"), raised
-- with error() and printed by the plugin as the spec's error JSON. Codes below 100 are the
-- spec's; 100 and up are cnet's own (docs/cni.md lists them).
local M = {}

M.INCOMPATIBLE_VERSION = 1 -- the configuration's cniVersion is not one cnet speaks
M.UNSUPPORTED_FIELD = 2    -- a key cnet does not know or does not implement (key and value said)
M.UNKNOWN_CONTAINER = 3    -- the container (its namespace) does not exist
M.INVALID_ENV = 4          -- a CNI_* variable missing or malformed (named in the message)
M.IO = 5                   -- reading the configuration or writing state failed
M.DECODE = 6               -- the configuration is not JSON, or not an object
M.INVALID_CONFIG = 7       -- a value of the configuration is wrong (type, range, address)
M.TRY_AGAIN = 11           -- a transient condition: the state lock was held too long
M.NOT_AVAILABLE = 50       -- STATUS: ADD cannot be served now (no free address, no nftables)
M.LIMITED = 51             -- STATUS: and existing containers may have limited connectivity
M.KERNEL = 100             -- the kernel or the system refused an operation (cnet's error text)
M.DRIFT = 101              -- CHECK: what ADD made is missing or changed (every finding listed)
M.NO_ADDRESS = 102         -- ADD: the address pool is exhausted
M.DELEGATE = 103           -- a delegated plugin (IPAM) could not be run or gave no valid answer
M.INTERNAL = 999           -- a bug in cnet or in a recipe (Lua error; traceback on stderr)

local mt = {}
mt.__index = mt
mt.__name = "cnet.cni.error"
function mt.__tostring(e)
  if e.details and e.details ~= "" then return e.msg .. ": " .. e.details end
  return e.msg
end

-- The error object; is(v) tells one apart from other error values.
function M.new(code, msg, details)
  return setmetatable({code = code, msg = msg, details = details}, mt)
end

function M.is(v) return getmetatable(v) == mt end

-- Raises a CNI error (never returns).
function M.raise(code, msg, details)
  error(M.new(code, msg, details), 0)
end

-- Any error value as a CNI error: cnet's error objects (a kernel refusal) become code 100
-- with their message; strings and other values are bugs (999).
function M.from(v)
  if M.is(v) then return v end
  if type(v) == "table" and v.op and v.code then
    local where = type(v.where) == "string" and v.where:gsub(":%s*$", "") or ""
    return M.new(M.KERNEL, tostring(v), where ~= "" and ("at " .. where) or nil)
  end
  return M.new(M.INTERNAL, "internal error", tostring(v))
end

return M
