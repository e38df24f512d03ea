-- cnet.cni: cnet as a CNI plugin (container network interface, spec 0.3.0 .. 1.1.0).
--
-- This is the protocol layer: it reads a request (the CNI_* variables and the configuration),
-- checks it the way the spec says, runs the recipe the configuration names (default
-- "bridge", cnet/cni/recipes/bridge.lua) and turns its answer into the result or error JSON of
-- the configuration's version. The same request can come from three places:
--   * a container runtime executing the plugin: M.main(), environment and stdin;
--   * a person at the command line: `cnet cni add CONF NETNS ...` (M.cli, cnet/cni/cli.lua);
--   * a Lua script: M.add{conf = ..., netns = ..., id = ...} and friends (docs/cni.md).
local E = require "cnet.cni.error"
local json = require "cnet.cni.json"
local result = require "cnet.cni.result"
local state = require "cnet.cni.state"

local M = {}

M.versions = result.versions
M.error = E
M.result = result

local commands = {ADD = true, DEL = true, CHECK = true, VERSION = true, STATUS = true, GC = true}

-- Keys of a plugin configuration that belong to the protocol (or to every recipe).
local protocol_keys = {
  cniVersion = "string", cniVersions = "list", name = "string", type = "string",
  recipe = "string", args = "object", runtimeConfig = "object", capabilities = "object",
  prevResult = "object", dataDir = "string",
}

-- A container id, network name: alphanumeric first, then alphanumerics, '_', '.', '-'.
local function good_id(s) return type(s) == "string" and s:match("^[%w][%w_.%-]*$") ~= nil end

-- An interface name the kernel takes: 1..15 bytes, no '/', ':' or blanks, not "." or "..".
local function good_ifname(s)
  return type(s) == "string" and #s >= 1 and #s <= 15 and not s:find("[/:%s]")
    and s ~= "." and s ~= ".."
end
M.good_ifname = good_ifname

local function jtype(v)
  local t = type(v)
  if t == "number" then return math.type(v) == "integer" and "integer" or "number" end
  if t == "table" then return (v[1] ~= nil or next(v) == nil) and "list" or "object" end
  return t
end

local function typed(v, want)
  local t = jtype(v)
  if want == "number" then return t == "integer" or t == "number" end
  if want == "object" then return t == "object" or (type(v) == "table" and next(v) == nil) end
  return t == want
end

-- CNI_ARGS "K=V;K2=V2" as a table.
local function parse_args(text)
  local out = {}
  if text == nil or text == "" then return out end
  for pair in text:gmatch("[^;]+") do
    local k, v = pair:match("^([^=]+)=(.*)$")
    if not k then E.raise(E.INVALID_ENV, "invalid CNI_ARGS", ("CNI_ARGS pair %q is not KEY=VALUE"):format(pair)) end
    out[k] = v
  end
  return out
end

-- The recipe module named by the configuration: a shipped one by name, or a Lua file by
-- path (anything with a '/').
local recipes_loaded = {}
function M.recipe(name)
  name = name or "bridge"
  if recipes_loaded[name] then return recipes_loaded[name] end
  local r
  if name:find("/", 1, true) then
    local chunk, err = loadfile(name, "t")
    if not chunk then E.raise(E.INVALID_CONFIG, "cannot load recipe " .. name, err) end
    local ok, v = pcall(chunk, name)
    if not ok then E.raise(E.INVALID_CONFIG, "recipe " .. name .. " failed to load", tostring(v)) end
    r = v
  else
    if not name:match("^[%w_]+$") then E.raise(E.INVALID_CONFIG, "invalid recipe name", ("recipe %q"):format(name)) end
    local ok, v = pcall(require, "cnet.cni.recipes." .. name)
    if not ok then
      if tostring(v):find("module 'cnet.cni.recipes." .. name .. "' not found", 1, true) then
        E.raise(E.INVALID_CONFIG, "unknown recipe " .. name,
          "shipped recipes: bridge; a recipe of your own is given by its path")
      end
      error(v, 0)
    end
    r = v
  end
  if type(r) ~= "table" or type(r.add) ~= "function" or type(r.del) ~= "function" then
    E.raise(E.INVALID_CONFIG, "recipe " .. name .. " is not a recipe",
      "a recipe returns a table with at least add and del functions")
  end
  recipes_loaded[name] = r
  return r
end

-- Checks the configuration's keys: known to the protocol or to the recipe, of the right
-- JSON type. The recipe may list keys it knows but does not implement (r.unsupported).
local function check_keys(conf, r, rname)
  for k, v in pairs(conf) do
    local want = protocol_keys[k] or (r.keys and r.keys[k])
    if want == nil and not k:find("^cni%.dev/") then
      local shown = type(v) == "table" and json.encode(v) or tostring(v)
      if #shown > 60 then shown = shown:sub(1, 57) .. "..." end
      E.raise(E.UNSUPPORTED_FIELD,
        (r.unsupported and r.unsupported[k]) and ("field " .. k .. " is not supported by cnet's " .. rname .. " recipe")
          or ("unknown field " .. k), ("%s = %s"):format(k, shown))
    end
    if want and not typed(v, want) then
      E.raise(E.INVALID_CONFIG, "invalid field " .. k, ("%s: %s expected, got %s"):format(k, want, jtype(v)))
    end
  end
end

-- Turns a request into a context (the recipe's view of the call), checking everything the
-- spec lets a plugin check before acting. req: {command=, conf = text or table, id=,
-- netns=, ifname=, args = text or table, path=}.
function M.context(req)
  local command = req.command
  if type(command) ~= "string" or not commands[command] then
    E.raise(E.INVALID_ENV, "invalid CNI_COMMAND", command == nil and "CNI_COMMAND is not set"
      or ("CNI_COMMAND %q is not ADD, DEL, CHECK, VERSION, STATUS or GC"):format(tostring(command)))
  end
  local conf, text = req.conf, nil
  if type(conf) == "string" then
    text = conf
    local err
    conf, err = json.decode(text)
    if conf == nil then E.raise(E.DECODE, "cannot decode the network configuration", err) end
  elseif type(conf) == "table" then
    text = json.encode(conf)
    conf = json.decode(text) -- a private copy with the same number types as from stdin
  elseif command ~= "VERSION" then
    E.raise(E.IO, "no network configuration", "the configuration comes on standard input")
  end
  if conf ~= nil and jtype(conf) ~= "object" then
    E.raise(E.DECODE, "cannot decode the network configuration", "a JSON object expected, got " .. jtype(conf))
  end
  local ctx = {command = command, conf = conf or {}, text = text}
  local v = ctx.conf.cniVersion
  if command == "VERSION" then
    ctx.version = type(v) == "string" and v or "1.1.0"
    return ctx
  end
  if type(v) ~= "string" then
    E.raise(E.INVALID_CONFIG, "invalid network configuration", "cniVersion is missing or not a string")
  end
  if not result.supported(v) then
    E.raise(E.INCOMPATIBLE_VERSION, "incompatible CNI version",
      ("cniVersion %s: cnet speaks %s"):format(v, table.concat(M.versions, ", ")))
  end
  ctx.version = v
  if (command == "CHECK" and result.compare(v, "0.4.0") < 0)
    or ((command == "STATUS" or command == "GC") and result.compare(v, "1.1.0") < 0) then
    E.raise(E.INCOMPATIBLE_VERSION, "incompatible CNI version",
      ("%s needs cniVersion %s or later; the configuration says %s"):format(command,
        command == "CHECK" and "0.4.0" or "1.1.0", v))
  end
  if not good_id(ctx.conf.name) then
    E.raise(E.INVALID_CONFIG, "invalid network name", ctx.conf.name == nil and "name is missing"
      or ("name %q: a letter or digit first, then letters, digits, '_', '.', '-'"):format(tostring(ctx.conf.name)))
  end
  ctx.network = ctx.conf.name
  local rname = ctx.conf.recipe or "bridge"
  if type(rname) ~= "string" then E.raise(E.INVALID_CONFIG, "invalid field recipe", "recipe: string expected") end
  local r = M.recipe(rname)
  check_keys(ctx.conf, r, rname)
  ctx.recipe, ctx.recipe_name = r, rname
  ctx.datadir = ctx.conf.dataDir or state.default_dir
  ctx.runtime = ctx.conf.runtimeConfig or {}
  ctx.path = req.path
  if command == "ADD" or command == "DEL" or command == "CHECK" then
    if req.id == nil or req.id == "" then E.raise(E.INVALID_ENV, "CNI_CONTAINERID is not set") end
    if not good_id(req.id) then
      E.raise(E.INVALID_ENV, "invalid CNI_CONTAINERID",
        ("CNI_CONTAINERID %q: a letter or digit first, then letters, digits, '_', '.', '-'"):format(req.id))
    end
    if req.ifname == nil or req.ifname == "" then E.raise(E.INVALID_ENV, "CNI_IFNAME is not set") end
    if not good_ifname(req.ifname) then
      E.raise(E.INVALID_ENV, "invalid CNI_IFNAME",
        ("CNI_IFNAME %q: 1 to 15 bytes, no '/', ':' or blanks"):format(req.ifname))
    end
    if command ~= "DEL" and (req.netns == nil or req.netns == "") then
      E.raise(E.INVALID_ENV, "CNI_NETNS is not set", command .. " needs the container's namespace")
    end
    ctx.id, ctx.ifname = req.id, req.ifname
    ctx.netns = req.netns ~= "" and req.netns or nil
    if type(req.args) == "table" then
      ctx.args = req.args
      local parts = {}
      for k, val in pairs(req.args) do parts[#parts + 1] = k .. "=" .. tostring(val) end
      table.sort(parts)
      ctx.args_text = table.concat(parts, ";")
    else
      ctx.args = parse_args(req.args)
      ctx.args_text = req.args
    end
  end
  if ctx.conf.prevResult ~= nil then
    ctx.prev = result.parse(ctx.conf.prevResult, "prevResult",
      function(m) E.raise(E.INVALID_CONFIG, "invalid prevResult", m) end)
  elseif command == "CHECK" then
    E.raise(E.INVALID_CONFIG, "CHECK needs prevResult", "the runtime passes the result of ADD as prevResult")
  end
  if command == "GC" then
    local list = ctx.conf["cni.dev/valid-attachments"] or {}
    if type(list) ~= "table" then
      E.raise(E.INVALID_CONFIG, "invalid cni.dev/valid-attachments", "a list expected")
    end
    ctx.valid = {}
    for i, a in ipairs(list) do
      if type(a) ~= "table" or type(a.containerID) ~= "string" or type(a.ifname) ~= "string" then
        E.raise(E.INVALID_CONFIG, "invalid cni.dev/valid-attachments",
          ("entry %d: {\"containerID\": ..., \"ifname\": ...} expected"):format(i - 1))
      end
      ctx.valid[state.key(a.containerID, a.ifname)] = true
    end
  end
  return ctx
end

-- Opens the network's state under its lock (see cnet.cni.state).
function M.open_state(ctx)
  local ok, st = pcall(state.open, ctx.datadir, ctx.network)
  if not ok then
    if E.is(st) then error(st, 0) end
    if type(st) == "table" and st.code then
      E.raise(E.IO, "cannot open the network's state", tostring(st))
    end
    E.raise(E.IO, "cannot open the network's state", tostring(st))
  end
  return st
end

-- Runs one request; returns the output as a Lua table (ADD: the result in the
-- configuration's version; VERSION: the version report; others: nil). Raises a CNI error.
function M.run(req)
  local ctx = M.context(req)
  if ctx.command == "VERSION" then
    local list = {}
    for i, v in ipairs(M.versions) do list[i] = v end
    return {cniVersion = ctx.version, supportedVersions = list}
  end
  local r = ctx.recipe
  local fn = r[ctx.command:lower()]
  if fn == nil then
    if ctx.command == "CHECK" or ctx.command == "STATUS" or ctx.command == "GC" then
      return nil -- a recipe without them has nothing to check or collect
    end
  end
  local out = fn(ctx)
  if ctx.command == "ADD" then
    if type(out) ~= "table" then
      E.raise(E.INTERNAL, "recipe " .. ctx.recipe_name .. " returned no result")
    end
    return result.export(out, ctx.version)
  end
  return nil
end

local function as_request(command, t)
  if type(t) ~= "table" then error("bad argument #1 (table expected)", 3) end
  return {command = command, conf = t.conf, id = t.id or t.containerid,
          netns = t.netns, ifname = t.ifname or "eth0", args = t.args,
          path = t.path or os.getenv("CNI_PATH")}
end

-- The Lua API: each raises a CNI error object (fields code, msg, details) on failure.
local function api(command)
  return function(t)
    local req = as_request(command, t)
    local ok, v = pcall(M.run, req)
    if not ok then error(E.from(v), 2) end
    return v
  end
end
M.add = api("ADD")
M.del = api("DEL")
M.check = api("CHECK")
M.status = api("STATUS")
M.gc = api("GC")
function M.version() return M.run{command = "VERSION", conf = {cniVersion = "1.1.0"}} end

-- The plugin's entry point (the host binary calls it when run with CNI_COMMAND set and no
-- arguments): the request from the environment and stdin, the answer on stdout. Returns the
-- exit status.
function M.main()
  local req = {
    command = os.getenv("CNI_COMMAND"), id = os.getenv("CNI_CONTAINERID"),
    netns = os.getenv("CNI_NETNS"), ifname = os.getenv("CNI_IFNAME"),
    args = os.getenv("CNI_ARGS"), path = os.getenv("CNI_PATH"),
  }
  local version = "1.1.0"
  local ok, out = xpcall(function()
    req.conf = io.read("a")
    if req.conf == nil then E.raise(E.IO, "cannot read the network configuration", "stdin") end
    if req.command == "VERSION" and not req.conf:find("%S") then req.conf = nil end
    local ok2, v = pcall(json.decode, req.conf or "")
    if ok2 and type(v) == "table" and type(v.cniVersion) == "string" and result.supported(v.cniVersion) then
      version = v.cniVersion
    end
    return M.run(req)
  end, function(e)
    if E.is(e) or (type(e) == "table" and e.op) then return e end
    return {internal = tostring(e), trace = debug.traceback(tostring(e), 2)}
  end)
  if ok then
    if out ~= nil then io.stdout:write(json.encode(out), "\n") end
    return 0
  end
  local err
  if type(out) == "table" and out.internal then
    io.stderr:write(out.trace, "\n")
    err = E.new(E.INTERNAL, "internal error", out.internal)
  else
    err = E.from(out)
  end
  io.stdout:write(json.encode{cniVersion = version, code = err.code, msg = err.msg,
                             details = err.details}, "\n")
  return 1
end

-- `cnet cni ...`: see cnet/cni/cli.lua.
function M.cli(...)
  return require("cnet.cni.cli").run(M, ...)
end

return M
