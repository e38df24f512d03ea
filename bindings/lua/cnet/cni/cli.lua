-- `cnet cni`: the CNI plugin driven by hand, for trying and debugging a configuration
-- without a container runtime. It plays the runtime's part: it makes the request from the
-- command line, runs a configuration list's plugins in order (cnet's own in this process,
-- others from the plugin path), keeps the final result for a later check or del, and
-- prints the result.
local E = require "cnet.cni.error"
local delegate = require "cnet.cni.delegate"
local json = require "cnet.cni.json"

local M = {}

local usage = [[
usage: cnet cni add   CONF NETNS [options]   attach the namespace to the network, print the result
       cnet cni check CONF NETNS [options]   compare what add made with the kernel
       cnet cni del   CONF NETNS [options]   detach (NETNS may be gone: give its old name)
       cnet cni status CONF                  can the network take containers?
       cnet cni gc    CONF [--valid ID/IFNAME]...  remove what other attachments left
       cnet cni version                      the spec versions cnet speaks
CONF is a plugin configuration (a JSON object with "type") or a configuration list (with
"plugins"), from a file or inline ('{"cniVersion": ...}'). A list runs every plugin, as a
runtime would: type "cnet" in this process, others found in the plugin path. NETNS is a
name in /run/netns or a path (/proc/PID/ns/net).
Options:
  --id ID          container id (default: the namespace's name)
  --ifname NAME    interface inside the container (default: eth0)
  --args K=V;...   CNI_ARGS
  --path DIRS      plugin path, ':'-separated (default: $CNI_PATH, else /usr/lib/cni:/opt/cni/bin)
  --runtime JSON   runtimeConfig, e.g. '{"portMappings": [{"hostPort": 8080, "containerPort": 80}]}'
  --prev FILE      prevResult for check and del (default: the result add kept)
  --cache DIR      where add keeps results (default: /var/lib/cni/cnet-results)
Exit status: 0 on success, 1 when the plugin reports an error (shown as "code N"), 2 on a
usage error.
]]

local function load_json(arg, what)
  if arg:match("^%s*[{%[]") then
    local v, err = json.decode(arg)
    if v == nil then E.raise(E.DECODE, "cannot decode " .. what, err) end
    return v, arg
  end
  local v, text = json.read(arg)
  if v == nil then E.raise(E.DECODE, "cannot read " .. what, text) end
  return v, text
end

local function parse(args)
  local o = {valid = {}}
  local pos = {}
  local i = 1
  local takes = {["--id"] = "id", ["--ifname"] = "ifname", ["--args"] = "args",
                 ["--path"] = "path", ["--runtime"] = "runtime", ["--prev"] = "prev",
                 ["--cache"] = "cache", ["--valid"] = "valid"}
  while i <= #args do
    local a = args[i]
    if a == "-h" or a == "--help" then
      o.help = true
    elseif takes[a] then
      if args[i + 1] == nil then return nil, a .. " needs a value" end
      if a == "--valid" then o.valid[#o.valid + 1] = args[i + 1] else o[takes[a]] = args[i + 1] end
      i = i + 1
    elseif a:sub(1, 2) == "--" then
      return nil, "unknown option " .. a
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  o.command, o.conf, o.netns = pos[1], pos[2], pos[3]
  if #pos > 3 then return nil, "too many arguments" end
  return o
end

local function netns_path(v)
  if v == nil then return nil end
  if v:find("/", 1, true) then return v end
  return "/run/netns/" .. v
end

-- The plugin configurations to run, each with the protocol's fields filled in as a runtime
-- does (cniVersion, name, runtimeConfig from the capabilities).
local function plugins(conf, runtime)
  local list = conf.plugins and conf.plugins or {conf}
  if conf.plugins and type(conf.plugins) ~= "table" then
    E.raise(E.INVALID_CONFIG, "invalid configuration list", "plugins: list expected")
  end
  local out = {}
  for i, p in ipairs(list) do
    if type(p) ~= "table" or type(p.type) ~= "string" then
      E.raise(E.INVALID_CONFIG, "invalid configuration list", ("plugins[%d]: an object with type expected"):format(i - 1))
    end
    local c = {}
    for k, v in pairs(p) do c[k] = v end
    c.cniVersion = conf.cniVersion or p.cniVersion
    c.name = conf.name or p.name
    local rc = {}
    for k, v in pairs(runtime or {}) do
      if p.capabilities == nil or p.capabilities[k] then rc[k] = v end
    end
    c.capabilities = nil
    if next(rc) then c.runtimeConfig = rc end
    out[i] = c
  end
  return out
end

local function cache_file(o, name)
  local id = o.id
  return ("%s/%s/%s-%s.json"):format(o.cache or "/var/lib/cni/cnet-results", name, id, o.ifname)
end

local function run_one(cni, o, command, c, prev)
  if prev then c.prevResult = prev end
  local req = {command = command, conf = c, id = o.id, netns = netns_path(o.netns),
               ifname = o.ifname, args = o.args, path = o.path}
  if c.type == "cnet" then return cni.run(req) end
  local ctx = {id = req.id, netns = req.netns, ifname = req.ifname, args_text = req.args,
               path = req.path}
  return delegate.run(ctx, c.type, command, json.encode(c))
end

function M.run(cni, ...)
  local o, err = parse({...})
  if o == nil or (o and not o.help and o.command == nil) then
    io.stderr:write("cnet cni: ", err or "a command is needed", "\n", usage)
    return 2
  end
  if o.help then
    io.stdout:write(usage)
    return 0
  end
  local command = o.command:upper()
  local need = {ADD = 2, CHECK = 2, DEL = 2, STATUS = 1, GC = 1, VERSION = 0}
  if need[command] == nil then
    io.stderr:write("cnet cni: unknown command ", o.command, "\n", usage)
    return 2
  end
  if (need[command] >= 1 and o.conf == nil) or (need[command] == 2 and o.netns == nil) then
    io.stderr:write("cnet cni ", o.command, ": ", need[command] == 2 and "CONF and NETNS" or "CONF",
      " needed\n", usage)
    return 2
  end
  o.ifname = o.ifname or "eth0"
  o.id = o.id or (o.netns and o.netns:match("([^/]+)$"))
  o.path = o.path or os.getenv("CNI_PATH") or "/usr/lib/cni:/opt/cni/bin"
  local ok, out = pcall(function()
    if command == "VERSION" then return cni.version() end
    local conf = load_json(o.conf, "the configuration")
    if type(conf) ~= "table" then E.raise(E.DECODE, "the configuration is not an object") end
    local runtime = o.runtime and load_json(o.runtime, "--runtime") or nil
    local list = plugins(conf, runtime)
    local name = conf.name
    if command == "ADD" then
      local res
      for _, c in ipairs(list) do res = run_one(cni, o, "ADD", c, res) end
      if res and type(name) == "string" then
        local path = cache_file(o, name)
        os.execute(("mkdir -p '%s'"):format(path:match("^(.*)/")))
        local f = io.open(path, "w")
        if f then f:write(json.encode(res)) f:close() end
      end
      return res
    end
    local prev
    if o.prev then
      prev = load_json(o.prev, "--prev")
    elseif command == "DEL" or command == "CHECK" then
      prev = json.read(cache_file(o, tostring(name)))
    end
    if command == "DEL" then
      local first
      for i = #list, 1, -1 do
        local ok2, e = pcall(run_one, cni, o, "DEL", list[i], prev)
        if not ok2 and not first then first = e end
      end
      if first then error(first, 0) end
      os.remove(cache_file(o, tostring(name)))
    elseif command == "CHECK" then
      if prev == nil then
        E.raise(E.INVALID_CONFIG, "no result of an earlier add to check against", "give it with --prev FILE")
      end
      for _, c in ipairs(list) do run_one(cni, o, "CHECK", c, prev) end
    elseif command == "GC" then
      for _, c in ipairs(list) do
        local valid = {}
        for _, v in ipairs(o.valid) do
          local id, ifname = v:match("^(.+)/([^/]+)$")
          valid[#valid + 1] = {containerID = id or v, ifname = ifname or "eth0"}
        end
        c["cni.dev/valid-attachments"] = valid
        run_one(cni, o, "GC", c)
      end
    else
      for _, c in ipairs(list) do run_one(cni, o, command, c) end
    end
    return nil
  end)
  if not ok then
    local e = E.from(out)
    io.stderr:write(("cnet cni %s: %s (code %d)\n"):format(o.command, tostring(e), e.code))
    return 1
  end
  if out ~= nil then io.stdout:write(json.pretty(out), "\n") end
  return 0
end

return M
