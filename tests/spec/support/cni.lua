-- A CNI test driver: runs a plugin executable the way the spec says a runtime does (the
-- CNI_* variables in the environment, the configuration on stdin, the answer on stdout) and
-- decodes what it prints. Shared by the cni_*_spec.lua files.
local D = {}

-- Whatever a plugin writes to the machine's state directories (/var/lib/cni: host-local's
-- leases, cnet's default state, libcni's cache) lands in this spec's own tmpfs instead: the
-- spec runs in a mount namespace of its own (tests/sandbox.sh).
H.assert_sandboxed()
H.sh("mount -t tmpfs cnet-cni-spec /var/lib")

-- The plugin under test: the host binary's plugin link, next to CNET_BIN (build/cni/cnet,
-- or build/asan/cni/cnet in the sanitizer run).
D.plugin = (H.bin:match("^(.*)/[^/]*$") or ".") .. "/cni/cnet"
D.refdir = "/usr/lib/cni"

-- The spec's scratch directory, inside that tmpfs too: it goes with the sandbox.
D.tmp = H.sh("mktemp -d /var/lib/cnet-cni-spec.XXXXXX")

-- Single-quotes a string for the shell.
function D.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local seq = 0
-- Runs `exe` with the CNI variables of `env` (a table: CNI_COMMAND = "ADD", ... ; a false
-- value leaves a variable unset) and `stdin` as input. Returns the exit status, the decoded
-- stdout (a table, or the raw text when it is not JSON) and stderr.
function D.exec(exe, env, stdin)
  seq = seq + 1
  local inp, out, err = ("%s/in%d"):format(D.tmp, seq), D.tmp .. "/out", D.tmp .. "/err"
  H.write(inp, stdin or "")
  local vars = {"env -u CNI_COMMAND -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME -u CNI_ARGS -u CNI_PATH"}
  for k, v in pairs(env) do
    if v then vars[#vars + 1] = k .. "=" .. D.q(v) end
  end
  -- The sanitizer run preloads its runtime into lua5.4; the plugin links its own (and Go
  -- plugins must not get it).
  local cmd = ("unset LD_PRELOAD; %s %s <%s >%s 2>%s"):format(table.concat(vars, " "), exe, inp, out, err)
  local _, _, code = os.execute(cmd)
  os.remove(inp)
  local text = H.read(out)
  local v = text:find("%S") and H.json(text) or nil
  return code, v or text, H.read(err)
end

-- A named namespace with lo up; returns its name.
function D.netns(name)
  H.sh("ip netns add " .. name)
  H.sh("ip -n " .. name .. " link set lo up")
  return name
end

-- Encodes a Lua table as JSON (enough for configurations: objects, lists, strings, numbers,
-- booleans; a table with [1] is a list). Keys are sorted, so output is stable.
function D.json(v)
  local t = type(v)
  if t == "table" then
    if v[1] ~= nil or next(v) == nil and getmetatable(v) == D.list_mt then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = D.json(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = D.json(tostring(k)) .. ":" .. D.json(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      return ({['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t"})[c]
        or ("\\u%04x"):format(c:byte())
    end) .. '"'
  end
  return tostring(v)
end
D.list_mt = {}
-- An empty JSON list.
function D.list() return setmetatable({}, D.list_mt) end

-- Runs a CNI command against an attachment. conf: a table (encoded) or text. opts: id,
-- netns (a name under /run/netns, a path, or false), ifname, args, path, plugin.
function D.cni(command, conf, opts)
  opts = opts or {}
  local netns = opts.netns
  if netns == nil then netns = opts.id end
  if netns and not netns:find("/", 1, true) then netns = "/run/netns/" .. netns end
  local env = {
    CNI_COMMAND = command, CNI_CONTAINERID = opts.id or false, CNI_NETNS = netns or false,
    CNI_IFNAME = opts.ifname or (opts.id and "eth0") or false, CNI_ARGS = opts.args or false,
    CNI_PATH = opts.path or D.refdir,
  }
  if opts.env then for k, v in pairs(opts.env) do env[k] = v end end
  return D.exec(opts.plugin or D.plugin, env, type(conf) == "table" and D.json(conf) or conf)
end

-- The same, raising unless the plugin succeeded; returns the decoded output.
function D.ok(command, conf, opts)
  local code, out, err = D.cni(command, conf, opts)
  if code ~= 0 then
    error(("%s failed (%s): %s\n%s"):format(command, tostring(code),
      type(out) == "table" and D.json(out) or tostring(out), err), 2)
  end
  return out
end

-- A bridge network configuration for cnet with the built-in allocator; `over` overrides.
function D.conf(name, subnet, over)
  local c = {
    cniVersion = "1.0.0", name = name, type = "cnet", bridge = "br-" .. name,
    isGateway = true, ipMasq = true, dataDir = D.tmp .. "/state",
    ipam = {type = "cnet", subnet = subnet, routes = {{dst = "0.0.0.0/0"}}},
  }
  for k, v in pairs(over or {}) do c[k] = v end
  return c
end

-- The nft table of a network as `nft -j` lists it: {sets = {name = {elements}}, rules = n},
-- or nil when there is none.
function D.nft(name)
  local ok, out = H.try("nft -j list table inet cnet-" .. name)
  if not ok then return nil end
  local t = {sets = {}, rules = {}}
  for _, item in ipairs(H.json(out).nftables) do
    if item.set then
      local els = {}
      for _, e in ipairs(item.set.elem or {}) do
        if type(e) == "table" and e.prefix then
          els[#els + 1] = e.prefix.addr .. "/" .. e.prefix.len
        else
          els[#els + 1] = tostring(e)
        end
      end
      t.sets[item.set.name] = els
    elseif item.rule then
      t.rules[#t.rules + 1] = item.rule
    end
  end
  return t
end

-- The simulated internet: namespace `inet` behind the uplink up0 (this host at
-- 203.0.113.2/24, default route via 203.0.113.1), holding 198.51.100.1, with no route back to
-- any container subnet: a reply can only come back to a masqueraded source.
function D.internet()
  H.ip_batch{
    "netns add inet",
    "link add up0 type veth peer name up1 netns inet",
    "addr add 203.0.113.2/24 dev up0",
    "link set up0 up",
    "route add default via 203.0.113.1",
  }
  H.sh("ip -n inet link set lo up && ip -n inet addr add 198.51.100.1/32 dev lo && " ..
       "ip -n inet addr add 203.0.113.1/24 dev up1 && ip -n inet link set up1 up")
end

-- The network's state document, or nil.
function D.state(name)
  local text = H.read(D.tmp .. "/state/" .. name .. "/state.json")
  if text == "" then return nil end
  return H.json(text)
end

-- Names of this namespace's (or ns's) links, as a set.
function D.links(ns)
  local t = {}
  for _, l in ipairs(H.ipj("link", ns)) do t[l.ifname] = l end
  return t
end

function D.count(t)
  local n = 0
  for _ in pairs(t or {}) do n = n + 1 end
  return n
end

return D
