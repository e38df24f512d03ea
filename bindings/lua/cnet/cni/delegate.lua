-- cnet.cni.delegate: running another CNI plugin (an IPAM plugin such as host-local, or the
-- next plugin of a chain for `cnet cni`), the way the spec's section 4 says: found in
-- CNI_PATH, given the same environment and the complete configuration on stdin, its stderr
-- passed on to ours, its stdout read as a result or an error.
local cnet = require "cnet"
local E = require "cnet.cni.error"
local json = require "cnet.cni.json"

local M = {}

-- The first CNI_PATH directory holding an executable file named `type`, or nil.
function M.find(type_, path)
  for dir in (path or ""):gmatch("[^:]+") do
    local p = dir .. "/" .. type_
    local f = io.open(p)
    if f then
      f:close()
      return p
    end
  end
  return nil
end

-- Runs plugin `type_` with CNI_COMMAND = command for the attachment in ctx; stdin is `text`
-- (default ctx.text, the configuration as this plugin received it). Returns the decoded
-- output (nil when it printed nothing), or raises the plugin's own CNI error (its code, msg
-- prefixed with the plugin's name) or a DELEGATE error when it could not run or answered
-- with something that is not JSON.
function M.run(ctx, type_, command, text)
  if type(type_) ~= "string" or type_ == "" or type_:find("/", 1, true) then
    E.raise(E.INVALID_CONFIG, "invalid plugin type", ("type %q"):format(tostring(type_)))
  end
  local exe = M.find(type_, ctx.path)
  if not exe then
    E.raise(E.DELEGATE, "plugin " .. type_ .. " not found",
      ("no executable %s in CNI_PATH (%s)"):format(type_, ctx.path or "unset"))
  end
  local env = {
    CNI_COMMAND = command,
    CNI_CONTAINERID = ctx.id or false,
    CNI_NETNS = ctx.netns or false,
    CNI_IFNAME = ctx.ifname or false,
    CNI_ARGS = ctx.args_text or false,
    CNI_PATH = ctx.path or false,
  }
  local code, out, err = cnet.exec({exe}, {stdin = text or ctx.text, env = env, capture = true})
  if err ~= "" then io.stderr:write(err) end
  local v = nil
  if out:find("%S") then
    local msg
    v, msg = json.decode(out)
    if v == nil then
      E.raise(E.DELEGATE, type_ .. " " .. command .. ": output is not JSON",
        msg .. (code ~= 0 and (" (exit status " .. code .. ")") or ""))
    end
  end
  if code ~= 0 then
    if type(v) == "table" and math.type(v.code) == "integer" then
      E.raise(v.code, type_ .. ": " .. tostring(v.msg or "failed"),
        v.details ~= nil and tostring(v.details) or nil)
    end
    E.raise(E.DELEGATE, ("%s %s failed (exit status %d)"):format(type_, command, code),
      err ~= "" and err:gsub("\n$", "") or nil)
  end
  return v
end

return M
