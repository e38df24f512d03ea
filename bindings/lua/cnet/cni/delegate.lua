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

-- The configuration text with cniVersion set to `version` (and prevResult written in it).
local function at_version(text, version)
  local result = require "cnet.cni.result"
  local conf = json.decode(text)
  conf.cniVersion = version
  if type(conf.prevResult) == "table" then
    local ok, r = pcall(result.parse, conf.prevResult, "prevResult", function(m) error(m, 0) end)
    if ok then conf.prevResult = result.export(r, version) end
  end
  return json.encode(conf)
end

-- The newest version below `version` that both the plugin at `exe` and cnet speak, or nil.
local function older_common(ctx, exe, env, version, command)
  local result = require "cnet.cni.result"
  local venv = {}
  for k, v in pairs(env) do venv[k] = v end
  venv.CNI_COMMAND = "VERSION"
  local code, out = cnet.exec({exe}, {stdin = json.encode{cniVersion = version}, env = venv, capture = true})
  local info = code == 0 and json.decode(out)
  if type(info) ~= "table" or type(info.supportedVersions) ~= "table" then return nil end
  local best
  for _, v in ipairs(info.supportedVersions) do
    if type(v) == "string" and result.supported(v) and result.compare(v, version) < 0
       and (command ~= "CHECK" or result.compare(v, "0.4.0") >= 0)
       and (best == nil or result.compare(v, best) > 0) then
      best = v
    end
  end
  return best
end

-- Whether plugin `type_` speaks the configuration's version (it answers VERSION with it
-- among its supportedVersions): STATUS and GC are only sent to plugins that do, since a
-- plugin older than spec 1.1.0 has neither and answers them with an unrelated error.
function M.speaks(ctx, type_)
  local exe = M.find(type_, ctx.path)
  if not exe then return false end
  local code, out = cnet.exec({exe}, {stdin = json.encode{cniVersion = ctx.version},
    env = {CNI_COMMAND = "VERSION", CNI_PATH = ctx.path or false}, capture = true})
  local info = code == 0 and json.decode(out)
  if type(info) ~= "table" or type(info.supportedVersions) ~= "table" then return false end
  for _, v in ipairs(info.supportedVersions) do
    if v == ctx.version then return true end
  end
  return false
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
  text = text or ctx.text
  local code, out, err = cnet.exec({exe}, {stdin = text, env = env, capture = true})
  if err ~= "" then io.stderr:write(err) end
  -- An IPAM plugin older than the configuration (host-local 1.1.1 stops at spec 1.0.0)
  -- refuses its version: it gets the configuration again in the newest version it shares
  -- with cnet (results of any version are read alike). GC and STATUS exist from 1.1.0 on
  -- only, so those stay refused.
  if code ~= 0 and (command == "ADD" or command == "DEL" or command == "CHECK") then
    local v0 = json.decode(out)
    local version = type(ctx.version) == "string" and ctx.version
    if type(v0) == "table" and v0.code == E.INCOMPATIBLE_VERSION and version then
      local older = older_common(ctx, exe, env, version, command)
      if older then
        code, out, err = cnet.exec({exe}, {stdin = at_version(text, older), env = env, capture = true})
        if err ~= "" then io.stderr:write(err) end
      end
    end
  end
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
