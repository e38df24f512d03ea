-- Failure and life-cycle cases of the topology layer, each run inside `cnet --sandbox`:
--   cnet --sandbox topology_cases.lua CASE
-- Prints "ok: ..." lines; a failed check raises (exit status 1).
local cnet = cnet or require "cnet"
local json = require "cjson"
local util = require "cnet.topology.util"
local BIN = assert(os.getenv("CNET_BIN"), "CNET_BIN")
local SRC = os.getenv("CNET_SOURCE_DIR") or "."
local case = assert(arg[1], "case")

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"::$?\"")
  local out = p:read("a")
  p:close()
  return tonumber(out:match("::(%d+)%s*$")), (out:gsub("::%d+%s*$", ""))
end
local function must(cmd)
  local code, out = sh(cmd)
  if code ~= 0 then error(("%s: exit %d\n%s"):format(cmd, code, out), 0) end
  return out
end
local function check(cond, fmt, ...)
  if not cond then error(("check failed: " .. fmt):format(...), 0) end
end
local function ok(fmt, ...) print(("ok: " .. fmt):format(...)) end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local baseline = {} -- this namespace's link names at the first snapshot (see settle)

-- Every namespace's links, addresses, routes and ruleset (as topology_check.lua takes it).
local linknames
local function snapshot()
  baseline.links = baseline.links or linknames()
  local names = {""}
  for _, n in ipairs(cnet.netns.list()) do names[#names + 1] = n.name end
  local out = {}
  for _, n in ipairs(names) do
    local pre = n == "" and "" or ("ip netns exec " .. n .. " ")
    local links = json.decode(must(pre .. "ip -j -d link show"))
    for _, l in ipairs(links) do
      l.operstate, l.flags = nil, nil
      l.linkinfo = l.linkinfo and {info_kind = l.linkinfo.info_kind} or nil
    end
    local addrs = json.decode(must(pre .. "ip -j addr show"))
    for _, a in ipairs(addrs) do
      a.operstate, a.flags = nil, nil
      for _, ai in ipairs(a.addr_info or {}) do ai.tentative = nil end
    end
    local routes, kept = json.decode(must(pre .. "ip -j route show table all")), {}
    for _, r in ipairs(routes) do
      if not (r.dst:find("^fe80:") or r.dst == "ff00::/8") then kept[#kept + 1] = r end
    end
    out[#out + 1] = "netns " .. n
    out[#out + 1] = util.serialize(links)
    out[#out + 1] = util.serialize(addrs)
    out[#out + 1] = util.serialize(kept)
    -- handles are the kernel's numbering: a table put back by a rollback is the same table
    -- under new handles
    out[#out + 1] = (must(pre .. "nft -j list ruleset"):gsub('"handle": %d+', '"handle": _'))
    out[#out + 1] = must(pre .. "sysctl -n net.ipv4.ip_forward")
  end
  return table.concat(out, "\n")
end

-- Waits until this namespace's links are those the last snapshot saw (host ends of veths of
-- deleted namespaces go a moment after them), so that snapshots compare what is, not what is
-- on its way out.
function linknames()
  local names = {}
  for _, l in ipairs(cnet.link.list()) do names[#names + 1] = l.name end
  table.sort(names)
  return table.concat(names, " ")
end
local function settle()
  local deadline = os.time() + 31   -- the kernel's own pace: slow when the machine is loaded
  while linknames() ~= baseline.links and os.time() < deadline do cnet.sleep(0.02) end
end

local cases = {}

-- An object of the same name that the topology did not make: up refuses, names it, makes
-- nothing, and the foreign object stays as it was.
cases.conflict = function()
  must("ip link add br-three type bridge")
  local foreign = cnet.link.get("br-three")
  local before = snapshot()
  local code, out = sh(BIN .. " up " .. SRC .. "/scripts/topologies/02-three-containers.lua")
  check(code == 1, "up fails (exit %s): %s", tostring(code), out)
  check(out:find("link br-three", 1, true) and out:find("not made by topology three", 1, true),
    "the reason names the foreign bridge: %s", out)
  check(not out:find("\n.", 1), "one line: %s", out)
  settle()
  check(snapshot() == before, "the sandbox is as before")
  local after = cnet.link.get("br-three")
  check(after.index == foreign.index and after.alias == foreign.alias, "the foreign bridge is untouched")
  check(not io.open("/run/cnet/topologies/three.json"), "no state was left")
  local pcode, plan = sh(BIN .. " plan " .. SRC .. "/scripts/topologies/02-three-containers.lua")
  check(pcode == 1 and plan:find("!", 1, true) and plan:find("1 conflicts", 1, true), "plan shows the conflict: %s", plan)
  ok("conflict: up refused, named br-three, left everything as it was")
end

-- A refusal of the kernel midway (a gateway the second container cannot reach): up rolls
-- back everything it made and names the object that failed.
cases.refusal = function()
  local file = os.tmpname() .. ".lua"
  write(file, [[
    local topology = require "cnet.topology"
    local t = topology.new("broken")
    t:bridge("br-x", {addr = "10.0.9.1/24"})
    t:container("x1", {bridge = "br-x", addr = "10.0.9.11/24", gw = "10.0.9.1"})
    t:container("x2", {bridge = "br-x", addr = "10.0.9.12/24", gw = "10.7.7.7"})
    t:container("x3", {bridge = "br-x", addr = "10.0.9.13/24", gw = "10.0.9.1"})
    t:nat{subnet = "10.0.9.0/24"}
    return t
  ]])
  local before = snapshot()
  local code, out = sh(BIN .. " up " .. file)
  check(code == 1, "up fails (exit %s): %s", tostring(code), out)
  check(out:find("route x2/default via 10.7.7.7", 1, true) and out:find("unreachable", 1, true),
    "the reason names the route of x2 and the kernel's refusal: %s", out)
  settle()
  local after = snapshot()
  check(after == before, "the rollback left the sandbox as before")
  check(not io.open("/run/cnet/topologies/broken.json"), "no state was left")
  check(#cnet.netns.list() == 1, "only the sandbox's internet namespace is left")
  os.remove(file)
  ok("refusal: up failed at x2's route, rolled back to the sandbox as before")
end

-- `down` from another process after the one running `up` was killed midway.
cases.killed = function()
  local before = snapshot()
  local file = SRC .. "/scripts/topologies/09-scale.lua"
  -- the pid file is this run's own: /tmp is shared with every other sandbox on the machine
  local pidfile = os.tmpname()
  must(("(%s up %s 300 >/dev/null 2>&1 & echo $! > %s)"):format(BIN, file, pidfile))
  local pid = io.open(pidfile):read("l")
  os.remove(pidfile)
  -- kill it once it has made some namespaces, long before it is done (however long a loaded
  -- machine takes to start it)
  local deadline = os.time() + 61
  while #cnet.netns.list() - 1 < 20 and os.time() < deadline do cnet.sleep(0.005) end
  must("kill -9 " .. pid)
  cnet.sleep(0.05)
  local made = #cnet.netns.list() - 1
  check(made >= 20 and made < 300 or made > 0, "the killed up had made part of the topology (%d namespaces)", made)
  local out = must(BIN .. " down scale")
  check(out:find("down scale:", 1, true), "down reports: %s", out)
  settle()
  local after = snapshot()
  check(after == before, "down from a second process left the sandbox as before")
  ok("killed: up killed after %d namespaces; down in another process removed everything", made)
end

-- A description that changes: re-running up converges to it (removes what is no longer
-- described, adds what is new, leaves the rest); drift is reported by status and undone by up.
cases.converge = function()
  local file = os.tmpname() .. ".lua"
  local function describe(n, extra)
    write(file, ([[
      local topology = require "cnet.topology"
      local t = topology.new("conv")
      t:bridge("br-c", {addr = "10.0.8.1/24"})
      for i = 1, %d do
        t:container("k" .. i, {bridge = "br-c", addr = ("10.0.8.%%d/24"):format(10 + i), gw = "10.0.8.1"})
      end
      %s
      return t
    ]]):format(n, extra or ""))
  end
  describe(3)
  must(BIN .. " up " .. file)
  local k1 = cnet.netns.open("k1")
  local eth0 = k1.link.get("eth0").index
  describe(2, 't:addr{netns = "k1", dev = "eth0", addr = "10.0.8.99/24"}')
  local _, plan = sh(BIN .. " plan " .. file)
  check(plan:find("-   netns k3", 1, true) and plan:find("+   addr k1/eth0 10.0.8.99/24", 1, true),
    "plan shows k3 going and the new address: %s", plan)
  local out = must(BIN .. " up " .. file)
  check(out:find("1 created", 1, true), "up adds one object: %s", out)
  check(not cnet.netns.exists("k3"), "k3 is gone")
  check(k1.link.get("eth0").index == eth0, "k1's eth0 was left alone (same ifindex)")
  local has99 = false
  for _, a in ipairs(k1.addr.list("eth0")) do if a.cidr == "10.0.8.99/24" then has99 = true end end
  check(has99, "k1 has the new address")
  -- drift made by hand, seen by status, undone by up
  must("ip -n k1 addr del 10.0.8.11/24 dev eth0")
  must("ip -n k2 route del default")
  local code, st = sh(BIN .. " status conv")
  check(code == 1 and st:find("missing: addr k1/eth0 10.0.8.11/24", 1, true)
    and st:find("missing: route k2/default", 1, true), "status names the drift: %s", st)
  must("ip -n k2 addr add 10.0.8.77/24 dev eth0")
  _, st = sh(BIN .. " status conv")
  check(st:find("extra: addr k2/eth0 10.0.8.77/24", 1, true), "status names the extra address: %s", st)
  -- removing k1's primary address took its secondary (.99) and the default route with it,
  -- as the kernel does: four objects to make again, one to remove
  out = must(BIN .. " up " .. file)
  check(out:find("4 created", 1, true) and out:find("1 removed", 1, true), "up undoes the drift: %s", out)
  code = sh(BIN .. " status conv")
  check(code == 0, "status is clean again")
  k1.close()
  must(BIN .. " down conv")
  os.remove(file)
  ok("converge: removed k3, added an address, undid drift, touched nothing else")
end

-- The br_netfilter trap: a forward chain that drops by default in a namespace with a bridge,
-- and no rule that lets the bridge talk to itself, earns a warning from plan.
cases.brnf = function()
  local file = os.tmpname() .. ".lua"
  write(file, [[
    local topology = require "cnet.topology"
    local t = topology.new("brnf")
    t:bridge("br-n", {addr = "10.0.5.1/24"})
    t:nft{chains = {forward = {type = "filter", hook = "forward", priority = "filter", policy = "drop",
      "ct state established,related accept"}}}
    return t
  ]])
  local _, plan = sh(BIN .. " plan " .. file)
  check(plan:find("warning:", 1, true) and plan:find("br-n", 1, true) and plan:find("br_netfilter", 1, true),
    "plan warns about br-n: %s", plan)
  -- the firewall helper gets it right by construction
  write(file, [[
    local topology = require "cnet.topology"
    local t = topology.new("brnf")
    t:bridge("br-n", {addr = "10.0.5.1/24"})
    t:container("n1", {bridge = "br-n", addr = "10.0.5.11/24", gw = "10.0.5.1"})
    t:container("n2", {bridge = "br-n", addr = "10.0.5.12/24", gw = "10.0.5.1"})
    t:firewall{policy = "drop"}
    return t
  ]])
  local out = must(BIN .. " up " .. file)
  check(not out:find("warning", 1, true), "no warning for the helper: %s", out)
  check(must("sysctl -n net.bridge.bridge-nf-call-iptables"):find("1"), "br_netfilter is on here")
  local n1 <close> = cnet.netns.open("n1")
  check(n1.ping("10.0.5.12", {timeout = 3}), "n1 reaches n2 across the bridge despite the drop policy")
  must(BIN .. " down brnf")
  os.remove(file)
  ok("brnf: plan warns about a bridge cut off from itself; the firewall helper keeps it talking")
end

-- Description errors are caught before anything is made.
cases.invalid = function()
  local file = os.tmpname() .. ".lua"
  local bad = {
    {'t:bridge("a-name-longer-than-15")', "longer than 15 bytes"},
    {'t:container("c1", {addr = "10.0.0.1"})', "address/prefix"},
    {'t:netns("x") t:netns("x")', "described twice"},
    {'t:sysctl{key = "net.ipv4.ip_forward", value = 1} t:sysctl{key = "net.ipv4.ip_forward", value = 0}', "described as 1 and as 0"},
    {'do return 42 end', "returns a topology"},
  }
  for _, b in ipairs(bad) do
    write(file, 'local topology = require "cnet.topology"\nlocal t = topology.new("bad")\n' .. b[1] .. '\nreturn t\n')
    local code, out = sh(BIN .. " up " .. file)
    check(code == 1 and out:find(b[2], 1, true), "%s: %s", b[1], out)
  end
  check(#cnet.netns.list() == 1, "nothing was made")
  os.remove(file)
  ok("invalid: %d bad descriptions refused before anything was made", #bad)
end

-- A re-up that fails midway puts back what it had changed (the nft table's rules, a route
-- replaced) rather than deleting it: the topology is left as it was before that run.
cases.rechange = function()
  local file = os.tmpname() .. ".lua"
  local function describe(net, gw, extra)
    write(file, ([[
      local topology = require "cnet.topology"
      local t = topology.new("rech")
      t:bridge("br-r", {addr = "10.0.7.1/24"})
      t:container("r1", {bridge = "br-r", addr = "10.0.7.11/24", gw = "%s"})
      t:nat{subnet = "%s"}
      %s
      return t
    ]]):format(gw, net, extra or ""))
  end
  describe("10.0.7.0/24", "10.0.7.1")
  must(BIN .. " up " .. file)
  local before = snapshot()
  -- the masquerade rule changes, the route is replaced, and a second container's route fails
  describe("10.0.0.0/16", "10.0.7.2", 't:container("r2", {bridge = "br-r", addr = "10.0.7.12/24", gw = "10.9.9.9"})')
  local code, out = sh(BIN .. " up " .. file)
  check(code == 1 and out:find("route r2/default via 10.9.9.9", 1, true), "the second up fails at r2: %s", out)
  settle()
  local after = snapshot()
  local d
  if after ~= before then
    local a, b = {}, {}
    for l in before:gmatch("[^\n]+") do a[#a + 1] = l end
    for l in after:gmatch("[^\n]+") do b[#b + 1] = l end
    for i = 1, math.max(#a, #b) do if a[i] ~= b[i] then d = (a[i] or ""):sub(1, 300) .. "\n" .. (b[i] or ""):sub(1, 300) break end end
  end
  check(after == before, "the topology is as it was before the failed run: %s", tostring(d))
  describe("10.0.7.0/24", "10.0.7.1")
  code = sh(BIN .. " status rech")
  check(code == 0, "status against the first description is clean")
  must(BIN .. " down rech")
  os.remove(file)
  ok("rechange: a failed re-up put the nft table and the replaced route back")
end

-- One file, three real machines: each brings up only its own host's part with --host, as
-- on a real cluster. The "machines" are namespaces m1..m3 whose eth0 (192.0.2.11-13) share
-- one bridge; each keeps its own state directory, as each machine has its own /run.
cases.hosts = function()
  local file = SRC .. "/scripts/topologies/05-overlay.lua"
  must("ip link add ul type bridge && ip link set ul up")
  for i = 1, 3 do
    must(("ip netns add m%d && ip link add m%d-ul type veth peer name eth0 netns m%d"):format(i, i, i))
    must(("ip link set m%d-ul master ul up && ip -n m%d addr add 192.0.2.%d/24 dev eth0 && "
      .. "ip -n m%d link set eth0 up && ip -n m%d link set lo up"):format(i, i, 10 + i, i, i))
  end
  local before = snapshot()
  -- nsenter, not `ip netns exec`: that one runs the command in a mount namespace of its own
  -- (a slave of ours), where the namespaces cnet names under /run/netns would stay, and die
  -- with it; a real machine's cnet runs in the machine's own mount namespace
  local function on(i, cmd)
    return ("nsenter --net=/run/netns/m%d env CNET_STATE_DIR=/run/cnet-m%d %s %s"):format(i, i, BIN, cmd)
  end
  for i = 1, 3 do
    local out = must(on(i, "up " .. file .. " --host h" .. i))
    check(out:find("up overlay:", 1, true), "m%d: %s", i, out)
  end
  check(not cnet.netns.exists("h1") and cnet.netns.exists("h2-c1"), "no host is simulated; containers exist")
  local m1 <close> = cnet.netns.open("m1")
  check(m1.link.get("vx42").master == "br0", "m1 has its own br0 and vx42")
  local c <close> = cnet.netns.open("h1-c1")
  for _, target in ipairs{"10.10.0.22", "10.10.0.31"} do
    check(c.ping(target, {timeout = 3}), "h1-c1 on m1 reaches %s on another machine", target)
  end
  for i = 1, 3 do
    local code = sh(on(i, "status overlay --host h" .. i))
    check(code == 0, "m%d: status is clean", i)
  end
  for i = 1, 3 do must(on(i, "down overlay")) end
  settle()
  check(snapshot() == before, "down on each machine left them as before")
  ok("hosts: one file brought up on three machines with --host, containers reach across, down on each")
end

-- A kind's own options converge too: a bridge option is changed in place, a VXLAN's VNI
-- (which the kernel cannot change) makes the device be replaced, and nothing else is touched.
cases.kinds = function()
  local function desc(stp, id)
    local t = cnet.topology.new("kinds")
    t:bridge("brk", {stp_state = stp})
    t:link{name = "vxk", type = "vxlan", id = id, ["local"] = "203.0.113.2", dev = "uplink0",
           dstport = 4789, master = "brk"}
    return t
  end
  desc(0, 42):up()
  local br0 = cnet.link.get("brk").index
  local p = desc(1, 43):plan()
  check(tostring(p):find("~   link brk (bridge): stp_state 0 -> 1", 1, true)
    and tostring(p):find("-/+ link vxk (vxlan, master brk): id 42 -> 43", 1, true), "plan: %s", tostring(p))
  desc(1, 43):up()
  local br = json.decode(must("ip -d -j link show brk"))[1]
  local vx = json.decode(must("ip -d -j link show vxk"))[1]
  check(br.linkinfo.info_data.stp_state == 1 and br.ifindex == br0, "brk changed in place (ip -d -j)")
  check(vx.linkinfo.info_data.id == 43 and vx.master == "brk", "vxk is VNI 43, still a port of brk (ip -d -j)")
  check(desc(1, 43):plan().changes == 0, "then nothing differs")
  cnet.topology.down("kinds")
  ok("kinds: bridge option changed in place, VXLAN replaced for a new VNI")
end

-- The same from Lua (and the REPL): one call each, on cnet.topology without a require.
cases.lua = function()
  local t = cnet.topology.new("inlua")
  t:bridge("br-l", {addr = "10.0.2.1/24"})
  t:container("l1", {bridge = "br-l", addr = "10.0.2.11/24", gw = "10.0.2.1"})
  local p = t:plan()
  check(p.changes == 6 and tostring(p):find("6 to create", 1, true), "plan: %s", tostring(p))
  local before = snapshot()
  t:up()
  check(cnet.netns.exists("l1") and cnet.link.get("ve-l1").master == "br-l", "up made it (link.get)")
  check(must("ip -n l1 -br addr show eth0"):find("10.0.2.11/24", 1, true), "ip sees l1's address")
  local st = t:status()
  check(st.ok and tostring(st):find("all as described", 1, true), "status: %s", tostring(st))
  local dot = t:graph()
  check(dot:find('label="netns l1"', 1, true) and dot:find("br-l", 1, true), "graph: %s", dot)
  check(t:up().changes == 0, "a second up changes nothing")
  t:down()
  settle()
  check(snapshot() == before, "down left the sandbox as before")
  ok("lua: plan, up, status, graph, down, one call each")
end

assert(cases[case], "no case " .. case)()
