-- The public C functions of the module as templates: a valid call of each (args) and the
-- slots of it, each with the kind of value it takes. Shared by tests/spec/args_table_spec.lua
-- (which spoils each slot with every bad value the kind does not accept) and
-- tests/fuzz/api_fuzz.lua (which mixes random values into them). A new function gets its
-- lines here (see docs/design.md, "Argument checks").
--
-- Used as: local A = dofile(".../api_templates.lua")(cnet, {pid = PID, sh = function(cmd) end})
-- giving A.T (name -> variants), A.K (kinds), A.S, A.O (for extra variants), A.fixtures(ns),
-- and A.copy, A.put, A.get for the drivers.
return function(cnet, env)
local self_pid, sh = env.pid, env.sh

-- ---- kinds: what a slot accepts ----

local function is_int(v, lo, hi)
  if math.type(v) == "float" then
    if v ~= v or v == math.huge or v == -math.huge or v ~= math.floor(v) then return false end
    if v < -2 ^ 63 or v >= 2 ^ 63 then return false end
    v = math.tointeger(v)
  end
  return math.type(v) == "integer" and v >= lo and v <= hi
end
local function good_text(v, max, empty)
  return type(v) == "string" and not v:find("\0", 1, true) and #v <= max and (empty or #v > 0)
end

local INT_MAX, U32 = 2 ^ 31 - 1, 2 ^ 32 - 1
local K = {
  -- a name or other text the kernel must know; any mutation of it is refused
  text = function(max) return {ok = function() return false end, max = max} end,
  -- a question ("is there a table named X?"): any well-formed string may get an answer
  query = function(max, empty)
    return {ok = function(v) return good_text(v, max, empty) end}
  end,
  -- text where a number stands for its digits (argv, env values): numbers are answers
  textnum = function(max, empty)
    return {ok = function(v)
      return good_text(v, max, empty) or math.type(v) == "integer" or
        (type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge)
    end}
  end,
  -- data: any string, NUL bytes and 1 MiB included
  -- an environment value: text, a number, or false to remove the variable
  envval = {ok = function(v)
    return v == false or math.type(v) == "integer" or (type(v) == "string" and
      not v:find("\0", 1, true) and #v <= 128 * 1024) or (type(v) == "number" and v == v and
      v ~= math.huge and v ~= -math.huge)
  end},
  bytes = {ok = function(v) return type(v) == "string" end, long = true},
  int = function(lo, hi) return {ok = function(v) return is_int(v, lo, hi) end} end,
  -- an integer the kernel checks further (an mtu of 2^31 passes the layer, the kernel refuses)
  kint = {ok = function() return false end},
  num = function(lo, hi)
    return {ok = function(v) return type(v) == "number" and v >= lo and v <= hi end}
  end,
  bool = {ok = function(v) return type(v) == "boolean" end},
  boolfalse = {ok = function(v) return v == false end}, -- a path or false (exec's stdout)
  any = {ok = function() return true end},
  fn = {ok = function(v) return type(v) == "function" end},
  table = {ok = function() return false end},
  -- an options table or a list that may be empty: {} is fine, anything else in it is not
  opts = {ok = function(v) return type(v) == "table" and next(v) == nil end},
}
K.dev = K.text(15)
-- kill's first argument: a signal number, or the options table in its place
K.sig = {ok = function(v) return is_int(v, 0, 64) or (type(v) == "table" and next(v) == nil) end}
K.devfalse = {ok = function(v) return v == false end} -- a device, or false for none
K.name = K.text(255)
K.addr = K.text(128)
K.elems = {ok = function(v) return type(v) == "table" and next(v) == nil end} -- {} adds none

-- ---- fixtures: the same objects in the sandbox's namespace and in namespace targs ----

local function fixtures(ns)
  -- no IPv6 link-local addresses appearing on their own while the test watches the state
  local pre = ns and ("ip netns exec " .. ns .. " ") or ""
  sh(pre .. "sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.addr_gen_mode=1")
  local path = os.tmpname()
  env.write(path, "link add ta0 type veth peer name ta1\nlink add tbr type bridge\n" ..
                "link set ta0 up\nlink set tbr up\naddr add 10.9.0.1/24 dev ta0\n" ..
                "route add 10.8.0.0/16 via 10.9.0.2\n")
  sh((ns and ("ip -n " .. ns) or "ip") .. " -batch " .. path)
  os.remove(path)
  sh(pre .. "nft add table ip targs")
  sh(pre .. "nft add chain ip targs c")
  sh(pre .. "nft add rule ip targs c counter")
  sh(pre .. "nft add set ip targs s '{ type ipv4_addr; }'")
end

-- ---- templates ----
-- T[name] = list of variants {args = {...}, slots = {{path, kind [, optional=true]}, ...}}.
-- path: {argument, field, field...}. A slot marked optional may be nil.

local O = true -- optional
local function S(path, kind, optional) return {path = path, kind = kind, optional = optional} end

local T = {}
local function variant(name, args, slots) T[name] = T[name] or {}; table.insert(T[name], {args = args, slots = slots}) end

-- cnet.netns (module only)
variant("netns.add", {"tnew"}, {S({1}, K.name)})
variant("netns.open", {"targs"}, {S({1}, K.name)})
variant("netns.open", {{name = "targs"}}, {S({1}, K.table), S({1, "name"}, K.name)})
variant("netns.open", {{path = "/run/netns/targs"}}, {S({1, "path"}, K.text(4095))})
variant("netns.open", {{pid = self_pid}}, {S({1, "pid"}, K.int(1, INT_MAX))})
variant("netns.current", {}, {})
variant("netns.delete", {"targs"}, {S({1}, K.name)})
variant("netns.attach", {"tatt", self_pid}, {S({1}, K.name), S({2}, K.int(1, INT_MAX))})
variant("netns.detach", {"targs"}, {S({1}, K.name)})
variant("netns.list", {}, {})
variant("netns.exists", {"targs"}, {S({1}, K.query(255, true))})
variant("batch", {function() end}, {S({1}, K.fn)})
variant("now", {}, {})
variant("sleep", {0.001}, {S({1}, K.num(0, 86400 * 365))})
variant("lock", {"/run/targs.lock", {timeout = 1}},
        {S({1}, K.text(4096)), S({2}, K.opts, O), S({2, "timeout"}, K.num(0, 86400), O)})
variant("inspect", {{a = 1}, {depth = 2, width = 40}},
        {S({1}, K.any), S({2}, K.opts, O), S({2, "depth"}, K.int(1, 100), O),
         S({2, "width"}, K.int(10, 1000000), O)})

-- the namespace API (module and handles)
variant("link.list", {{master = "tbr", kind = "veth"}},
        {S({1}, K.opts, O), S({1, "master"}, K.dev, O), S({1, "kind"}, K.query(4096, true), O),
         S({1, "type"}, K.query(4096, true), O)})
variant("link.get", {"ta0"}, {S({1}, K.dev)})
variant("link.add", {{name = "tv0", type = "veth", mtu = 1400, mac = "02:00:00:00:00:01",
                      up = true, master = "tbr", promisc = true, txqueues = 1, rxqueues = 2,
                      peer = {name = "tv1", mtu = 1400, mac = "02:00:00:00:00:02", up = false,
                              txqueues = 3, rxqueues = 1}}},
        {S({1}, K.table), S({1, "name"}, K.dev), S({1, "type"}, K.text(4096)),
         S({1, "mtu"}, K.kint, O), S({1, "mac"}, K.text(4096), O), S({1, "up"}, K.bool, O),
         S({1, "master"}, K.devfalse, O), S({1, "peer"}, K.opts, O), S({1, "peer", "name"}, K.dev, O),
         S({1, "peer", "mtu"}, K.kint, O), S({1, "peer", "mac"}, K.text(4096), O),
         S({1, "peer", "up"}, K.bool, O), S({1, "peer", "netns"}, K.name, O),
         S({1, "netns"}, K.name, O), S({1, "promisc"}, K.bool, O),
         S({1, "txqueues"}, K.int(1, 4096), O), S({1, "rxqueues"}, K.int(1, 4096), O),
         S({1, "peer", "txqueues"}, K.int(1, 4096), O), S({1, "peer", "rxqueues"}, K.int(1, 4096), O)})
variant("link.add", {{name = "tx0", type = "vxlan", id = 42, remote = "192.0.2.1",
                      ["local"] = "10.9.0.1", dstport = 4789, dev = "ta0"}},
        {S({1, "id"}, K.int(0, 0xffffff)), S({1, "remote"}, K.addr, O), S({1, "local"}, K.addr, O),
         S({1, "dstport"}, K.int(0, 65535), O), S({1, "dev"}, K.dev, O)})
variant("link.add", {{name = "tm0", type = "macvlan", link = "ta0", mode = "bridge"}},
        {S({1, "link"}, K.dev), S({1, "mode"}, K.text(4096), O)})
variant("link.add", {{name = "tx1", type = "vxlan", id = 43, learning = false, ttl = 8,
                      port_range = {low = 1000, high = 2000}, group = "239.1.1.1",
                      alias = "a vxlan"}},
        {S({1, "learning"}, K.bool, O), S({1, "ttl"}, K.int(0, 255), O),
         S({1, "port_range"}, K.table, O), S({1, "port_range", "low"}, K.int(0, 1000), O),
         S({1, "group"}, K.addr, O), S({1, "alias"}, K.query(255, true), O)})
variant("link.add", {{name = "tt0", type = "tap", user = 0, multi_queue = true}},
        {S({1, "user"}, K.int(0, 0xfffffffe), O), S({1, "multi_queue"}, K.bool, O)})
variant("link.set", {"ta1", {alias = "x", port = {learning = false, cost = 5}}},
        {S({2, "alias"}, K.query(255, true), O), S({2, "port"}, K.opts, O),
         S({2, "port", "learning"}, K.bool, O), S({2, "port", "cost"}, K.int(0, U32), O)})
variant("link.set", {"tbr", {stp_state = 1, priority = 100}},
        {S({2, "stp_state"}, K.int(0, U32), O), S({2, "priority"}, K.int(0, 65535), O)})
variant("link.stats", {"ta0"}, {S({1}, K.dev, O)})
variant("link.fields", {"vxlan", "port"}, {S({1}, K.query(64, true)), S({2}, K.text(8), O)})
variant("link.set", {"ta1", {name = "ta9", mtu = 1300, mac = "02:00:00:00:00:09", up = true,
                             master = "tbr", promisc = true}},
        {S({1}, K.dev), S({2}, K.opts), S({2, "name"}, K.dev, O), S({2, "mtu"}, K.kint, O),
         S({2, "mac"}, K.text(4096), O), S({2, "up"}, K.bool, O), S({2, "master"}, K.devfalse, O),
         S({2, "netns"}, K.name, O), S({2, "promisc"}, K.bool, O)})
variant("link.delete", {"ta1"}, {S({1}, K.dev)})
variant("addr.add", {"ta0", "10.9.1.1/24", {broadcast = "+", label = "ta0:x", scope = "global",
                                            valid_lft = 100, preferred_lft = 50, replace = true}},
        {S({1}, K.dev), S({2}, K.addr), S({3}, K.opts, O), S({3, "broadcast"}, K.addr, O),
         S({3, "label"}, K.dev, O), S({3, "scope"}, K.text(4096), O),
         S({3, "valid_lft"}, K.int(0, U32), O), S({3, "preferred_lft"}, K.int(0, 100), O),
         S({3, "replace"}, K.bool, O)})
variant("addr.delete", {"ta0", "10.9.0.1/24"}, {S({1}, K.dev), S({2}, K.addr)})
variant("addr.list", {{dev = "ta0", family = "inet"}},
        {S({1}, K.opts, O), S({1, "dev"}, K.dev, O), S({1, "family"}, K.text(8), O)})
variant("addr.list", {"ta0", {family = 4}}, {S({1}, K.opts, O), S({2, "family"}, K.int(4, 4), O)})
variant("addr.flush", {"ta0", {family = "inet"}},
        {S({1}, K.dev), S({2}, K.opts, O), S({2, "family"}, K.text(8), O)})
local route = {dst = "10.7.0.0/16", via = "10.9.0.2", dev = "ta0", src = "10.9.0.1",
               metric = 5, table = "main", scope = "global", proto = "static",
               type = "unicast", family = "inet"}
local route_slots = {S({1}, K.table), S({1, "dst"}, K.addr), S({1, "via"}, K.addr, O),
                     S({1, "dev"}, K.dev, O), S({1, "src"}, K.addr, O),
                     S({1, "metric"}, K.int(0, U32), O), S({1, "table"}, K.int(1, U32), O),
                     S({1, "scope"}, K.int(0, 255), O), S({1, "proto"}, K.int(0, 255), O),
                     S({1, "type"}, K.int(0, 255), O), S({1, "family"}, K.int(4, 4), O)}
variant("route.add", {route}, route_slots)
variant("route.add", {{dst = "10.7.0.0/16", gateway = "10.9.0.2", protocol = "static"}},
        {S({1, "gateway"}, K.addr, O), S({1, "protocol"}, K.int(0, 255), O)})
variant("route.replace", {route}, route_slots)
variant("route.delete", {{dst = "10.8.0.0/16", via = "10.9.0.2"}},
        {S({1}, K.table), S({1, "dst"}, K.addr), S({1, "via"}, K.addr, O)})
variant("route.list", {{family = "inet", table = "main"}},
        {S({1}, K.opts, O), S({1, "family"}, K.text(8), O), S({1, "table"}, K.int(0, U32), O)})
variant("route.get", {"10.9.0.2", {from = "10.9.0.1", dev = "ta0"}},
        {S({1}, K.addr), S({2}, K.opts, O), S({2, "from"}, K.addr, O), S({2, "dev"}, K.dev, O)})
variant("sysctl.get", {"net.ipv4.ip_forward"}, {S({1}, K.text(400))})
variant("sysctl.set", {"net.ipv4.ip_forward", "0"},
        {S({1}, K.text(400)),
         -- integers and booleans are values the kernel judges (2^31 is not an int for it)
         S({2}, {ok = function(v) return math.type(v) == "integer" or type(v) == "boolean" end})})
variant("ping", {"127.0.0.1", {timeout = 1, count = 1, ttl = 64}},
        {S({1}, K.addr), S({2}, K.opts, O), S({2, "timeout"}, K.num(0.001, 3600), O),
         S({2, "count"}, K.int(1, 1000), O), S({2, "ttl"}, K.int(1, 255), O)})
variant("tcp_connect", {"127.0.0.1", 9, {timeout = 1, send = "x"}},
        {S({1}, K.addr), S({2}, K.int(1, 65535)), S({3}, K.opts, O),
         S({3, "timeout"}, K.num(0.001, 3600), O), S({3, "send"}, K.bytes, O)})
variant("traceroute", {"127.0.0.1", {max_hops = 2, timeout = 1, probes = 1}},
        {S({1}, K.addr), S({2}, K.opts, O), S({2, "max_hops"}, K.int(1, 255), O),
         S({2, "timeout"}, K.num(0.001, 3600), O), S({2, "probes"}, K.int(1, 10), O)})
local exec_slots = {S({1}, K.table), S({1, 1}, K.text(128 * 1024)),
                    S({1, 2}, K.textnum(128 * 1024, true), O), S({2}, K.opts, O),
                    S({2, "env"}, K.opts, O), S({2, "env", "X"}, K.envval, O),
                    S({2, "cwd"}, K.text(4095), O), S({2, "stdout"}, K.boolfalse, O),
                    S({2, "stderr"}, K.boolfalse, O)}
variant("exec", {{"true", "x"}, {env = {X = "1"}, cwd = "/", stdout = false, stderr = false,
                                 timeout = 5}},
        {table.unpack(exec_slots)})
table.insert(T.exec[1].slots, S({2, "timeout"}, K.num(0, 86400 * 365), O))
variant("exec", {{"cat"}, {capture = true, stdin = "x"}},
        {S({2, "capture"}, K.bool, O), S({2, "stdin"}, K.bytes, O)})
variant("spawn", {{"true", "x"}, {env = {X = "1"}, cwd = "/", stdout = false, stderr = false}},
        exec_slots)
variant("wait", {self_pid, 1}, {S({1}, K.int(1, INT_MAX)), S({2}, K.num(0, 86400 * 365), O)})
variant("pids", {}, {})
variant("kill", {"TERM", {wait = 1}}, -- force is driven on a handle only (see drive_kill)
        {S({1}, K.sig, O), S({2}, K.opts, O), S({2, "wait"}, K.num(0, 86400 * 365), O)})

-- nft
local nft_ref = K.text(768)
variant("nft.transaction", {}, {})
variant("nft.apply", {{table = "ip tapply",
                       chains = {c = {type = "filter", hook = "input", priority = 0,
                                      policy = "accept", "counter"}},
                       sets = {s = {type = "ipv4_addr", flags = "interval", size = 10,
                                    elements = {"10.0.0.0/8"}}}}},
        {S({1}, K.table), S({1, "table"}, nft_ref), S({1, "chains"}, K.opts, O),
         S({1, "chains", "c"}, K.opts, O), S({1, "chains", "c", "type"}, K.text(4096), O),
         S({1, "chains", "c", "hook"}, K.text(4096), O),
         S({1, "chains", "c", "priority"}, K.int(-2 ^ 31, INT_MAX), O),
         S({1, "chains", "c", "policy"}, K.text(4096), O), S({1, "chains", "c", 1}, K.text(1 << 30), O),
         S({1, "sets"}, K.opts, O), S({1, "sets", "s"}, K.opts, O),
         S({1, "sets", "s", "type"}, K.text(4096)), S({1, "sets", "s", "flags"}, K.text(16), O),
         S({1, "sets", "s", "size"}, K.int(1, U32), O), S({1, "sets", "s", "elements"}, K.opts, O),
         S({1, "sets", "s", "elements", 1}, K.text(4096))})
for _, fn in ipairs{"nft.list", "nft.list_chains", "nft.list_rules", "nft.list_sets"} do
  variant(fn, {"ip targs"}, {S({1}, K.query(768, true), O)})
end
variant("nft.list_tables", {"ip"}, {S({1}, K.query(768, true), O)})
variant("nft.add_table", {"ip tnew"}, {S({1}, nft_ref)})
variant("nft.delete_table", {"ip targs"}, {S({1}, nft_ref)})
variant("nft.flush_table", {"ip targs"}, {S({1}, nft_ref)})
variant("nft.add_chain", {"ip targs newc", {type = "filter", hook = "input", priority = 0,
                                            policy = "accept"}},
        {S({1}, nft_ref), S({2}, K.opts, O), S({2, "type"}, K.text(4096), O),
         S({2, "hook"}, K.text(4096), O), S({2, "priority"}, K.int(-2 ^ 31, INT_MAX), O),
         S({2, "policy"}, K.text(4096), O), S({2, "device"}, K.text(4096), O)})
variant("nft.delete_chain", {"ip targs c"}, {S({1}, nft_ref)})
variant("nft.flush_chain", {"ip targs c"}, {S({1}, nft_ref)})
variant("nft.add_rule", {"ip targs c", "accept", {after = 1}},
        {S({1}, nft_ref), S({2}, K.text(1 << 30)), S({3}, K.opts, O),
         S({3, "after"}, K.int(1, math.maxinteger), O)})
variant("nft.insert_rule", {"ip targs c", "accept", {before = 1}},
        {S({1}, nft_ref), S({2}, K.text(1 << 30)), S({3}, K.opts, O),
         S({3, "before"}, K.int(1, math.maxinteger), O)})
variant("nft.replace_rule", {"ip targs c", 2, "accept"},
        {S({1}, nft_ref), S({2}, K.int(1, math.maxinteger)), S({3}, K.text(1 << 30))})
variant("nft.delete_rule", {"ip targs c", 2}, {S({1}, nft_ref), S({2}, K.int(1, math.maxinteger))})
variant("nft.add_set", {"ip targs s2", {type = "ipv4_addr", flags = {"interval"}, size = 8,
                                        elements = {"10.0.0.1"}}},
        {S({1}, nft_ref), S({2}, K.table), S({2, "type"}, K.text(4096)),
         S({2, "flags"}, K.opts, O), S({2, "flags", 1}, K.text(16), O), S({2, "size"}, K.int(1, U32), O),
         S({2, "elements"}, K.opts, O), S({2, "elements", 1}, K.text(4096))})
variant("nft.delete_set", {"ip targs s"}, {S({1}, nft_ref)})
variant("nft.flush_set", {"ip targs s"}, {S({1}, nft_ref)})
variant("nft.add_element", {"ip targs s", {"10.0.0.1"}},
        {S({1}, nft_ref), S({2}, K.opts), S({2, 1}, K.text(4096))})
variant("nft.delete_element", {"ip targs s", "10.0.0.1"}, {S({1}, nft_ref), S({2}, K.elems)})

-- traffic control
local tcval = K.num(0, 1e30) -- rates, sizes, times: a number, or tc's text ("10mbit")
local tbf = {kind = "tbf", handle = "1:", parent = "root", rate = "10mbit", burst = "32kb",
             latency = "50ms"}
local qdisc_slots = {S({1}, K.dev), S({2}, K.table), S({2, "kind"}, K.text(32)),
                     S({2, "handle"}, K.int(0, U32), O), S({2, "parent"}, K.int(0, U32), O),
                     S({2, "rate"}, tcval), S({2, "burst"}, tcval), S({2, "latency"}, tcval)}
for _, verb in ipairs{"add", "replace", "change"} do variant("tc.qdisc." .. verb, {"ta0", tbf}, qdisc_slots) end
variant("tc.qdisc.delete", {"ta0", {parent = "root", handle = "1:"}},
        {S({1}, K.dev), S({2}, K.opts, O), S({2, "parent"}, K.int(0, U32), O),
         S({2, "handle"}, K.int(0, U32), O)})
variant("tc.qdisc.delete", {"ta0", {kind = "ingress"}}, {S({2, "kind"}, K.text(32), O)})
variant("tc.qdisc.list", {"ta0"}, {S({1}, K.dev, O)})
local htb = {classid = "1:10", parent = "1:", kind = "htb", rate = "10mbit", ceil = "20mbit",
             prio = 1}
local class_slots = {S({1}, K.dev), S({2}, K.table), S({2, "classid"}, K.int(1, U32)),
                     S({2, "parent"}, K.int(0, U32), O), S({2, "kind"}, K.text(32), O),
                     S({2, "rate"}, tcval), S({2, "ceil"}, tcval, O), S({2, "prio"}, K.int(0, U32), O)}
for _, verb in ipairs{"add", "replace", "change"} do variant("tc.class." .. verb, {"ta0", htb}, class_slots) end
variant("tc.class.delete", {"ta0", "1:10"}, {S({1}, K.dev), S({2}, K.text(64))})
variant("tc.class.list", {"ta0"}, {S({1}, K.dev)})
variant("tc.shape", {"ta0", {rate = "10mbit", burst = "32kb", latency = "50ms"}},
        {S({1}, K.dev), S({2}, K.table), S({2, "rate"}, tcval), S({2, "burst"}, tcval, O),
         S({2, "latency"}, tcval, O)})
variant("tc.unshape", {"ta0"}, {S({1}, K.dev)})
local u32f = {kind = "u32", parent = "ingress", prio = 5, protocol = "ip", handle = "800::800",
              chain = 0, classid = "1:1", match = {"ip dst 10.9.0.5/32"}, skip_sw = false,
              action = {kind = "mirred", redirect = "ta1"}}
local u32_slots = {S({1}, K.dev), S({2}, K.table), S({2, "kind"}, K.text(32)),
                   S({2, "parent"}, K.int(0, U32), O), S({2, "prio"}, K.int(0, 65535), O),
                   S({2, "protocol"}, K.int(0, 65535), O), S({2, "handle"}, K.int(0, U32), O),
                   S({2, "chain"}, K.int(0, U32), O), S({2, "classid"}, K.int(0, U32), O),
                   S({2, "match"}, K.table, O), S({2, "match", 1}, K.text(255)),
                   S({2, "skip_sw"}, K.bool, O), S({2, "action"}, K.table, O),
                   S({2, "action", "kind"}, K.text(16)), S({2, "action", "redirect"}, K.dev)}
local flowerf = {kind = "flower", parent = "ingress", protocol = "ip", ip_proto = "tcp",
                 dst_ip = "10.9.0.0/24", dst_port = 80, dst_mac = "02:00:00:00:00:05",
                 action = "pass"}
local flower_slots = {S({2, "ip_proto"}, K.int(0, 255), O), S({2, "dst_ip"}, K.addr, O),
                      S({2, "dst_port"}, K.int(0, 65535), O), S({2, "dst_mac"}, K.text(64), O),
                      S({2, "action"}, K.text(32), O)}
for _, verb in ipairs{"add", "replace", "change"} do
  variant("tc.filter." .. verb, {"ta0", u32f}, u32_slots)
  variant("tc.filter." .. verb, {"ta0", flowerf}, flower_slots)
end
variant("tc.filter.delete", {"ta0", {parent = "ingress", prio = 5, protocol = "ip", kind = "u32",
                                     handle = "800::800", chain = 0}},
        {S({1}, K.dev), S({2}, K.opts, O), S({2, "parent"}, K.int(0, U32), O),
         S({2, "prio"}, K.int(0, 65535), O), S({2, "protocol"}, K.int(0, 65535), O),
         S({2, "kind"}, K.text(32), O), S({2, "handle"}, K.int(0, U32), O),
         S({2, "chain"}, K.int(0, U32), O)})
variant("tc.filter.list", {"ta0", {parent = "ingress"}},
        {S({1}, K.dev), S({2}, K.opts, O), S({2, "parent"}, K.int(0, U32), O)})

-- neighbours, the bridge FDB, bridge VLANs, policy rules
local boolname = {ok = function(v) return type(v) == "boolean" end} -- true, or a bridge's name
local neigh = {dst = "10.9.0.5", dev = "ta0", lladdr = "02:00:00:00:00:05", state = "permanent",
               router = false, extern_learn = false, family = "inet"}
local neigh_slots = {S({1}, K.table), S({1, "dst"}, K.addr), S({1, "dev"}, K.dev),
                     S({1, "lladdr"}, K.text(4096), O), S({1, "state"}, K.text(32), O),
                     S({1, "router"}, K.bool, O), S({1, "extern_learn"}, K.bool, O),
                     S({1, "family"}, K.int(4, 4), O)}
for _, verb in ipairs{"add", "replace", "delete"} do variant("neigh." .. verb, {neigh}, neigh_slots) end
variant("neigh.add", {{dst = "10.9.0.6", dev = "ta0", proxy = true}}, {S({1, "proxy"}, K.bool, O)})
for _, verb in ipairs{"list", "flush"} do
  variant("neigh." .. verb, {{dev = "ta0", family = "inet", state = {"stale"}, proxy = false}},
          {S({1}, K.opts, O), S({1, "dev"}, K.dev, O), S({1, "family"}, K.text(8), O),
           S({1, "state"}, K.opts, O), S({1, "state", 1}, K.text(32)), S({1, "proxy"}, K.bool, O)})
end
local fdb = {mac = "02:00:00:00:00:07", dev = "ta0", self = true, state = "static", sticky = false,
             extern_learn = false, router = false, vlan = 5, dst = "10.9.0.2", port = 4790,
             vni = 7, src_vni = 8, via = "ta0", append = false}
local fdb_slots = {S({1}, K.table), S({1, "mac"}, K.text(4096)), S({1, "dev"}, K.dev),
                   S({1, "self"}, K.bool, O), S({1, "master"}, boolname, O),
                   S({1, "state"}, K.text(32), O), S({1, "sticky"}, K.bool, O),
                   S({1, "extern_learn"}, K.bool, O), S({1, "router"}, K.bool, O),
                   S({1, "vlan"}, K.int(1, 4094), O), S({1, "dst"}, K.addr, O),
                   S({1, "port"}, K.int(1, 65535), O), S({1, "vni"}, K.int(0, 0xffffff), O),
                   S({1, "src_vni"}, K.int(0, 0xffffff), O), S({1, "via"}, K.dev, O),
                   S({1, "append"}, K.bool, O)}
for _, verb in ipairs{"add", "append", "replace", "delete"} do variant("fdb." .. verb, {fdb}, fdb_slots) end
variant("fdb.list", {{dev = "ta0", br = "tbr", state = "static", vlan = 5}},
        {S({1}, K.opts, O), S({1, "dev"}, K.dev, O), S({1, "br"}, K.dev, O),
         S({1, "state"}, K.text(32), O), S({1, "vlan"}, K.int(1, 4094), O)})
variant("fdb.flush", {{br = "tbr", state = "dynamic", vlan = 5}},
        {S({1}, K.table), S({1, "br"}, K.dev), S({1, "state"}, K.text(32), O),
         S({1, "vlan"}, K.int(1, 4094), O)})
local vlan = {dev = "ta0", vid = 10, pvid = true, untagged = true, self = false, master = false}
local vlan_slots = {S({1}, K.table), S({1, "dev"}, K.dev), S({1, "vid"}, K.int(1, 4094)),
                    S({1, "pvid"}, K.bool, O), S({1, "untagged"}, K.bool, O),
                    S({1, "self"}, K.bool, O), S({1, "master"}, K.bool, O)}
for _, verb in ipairs{"add", "delete"} do
  variant("vlan." .. verb, {vlan}, vlan_slots)
  variant("vlan." .. verb, {{dev = "ta0", vid = 20, vid_end = 22}}, {S({1, "vid_end"}, K.int(20, 4094))})
end
variant("vlan.list", {{dev = "ta0"}}, {S({1}, K.opts, O), S({1, "dev"}, K.dev, O)})
local rule = {priority = 100, from = "10.5.0.0/16", to = "10.6.0.0/16", fwmark = 1, fwmask = 255,
              iif = "ta0", oif = "ta1", table = 100, suppress_prefixlength = 0, invert = false,
              tos = 0, protocol = "static", family = "inet", unresolved = false}
local rule_slots = {S({1}, K.table), S({1, "priority"}, K.int(0, U32), O), S({1, "from"}, K.addr, O),
                    S({1, "to"}, K.addr, O), S({1, "fwmark"}, K.int(0, U32), O),
                    S({1, "fwmask"}, K.int(0, U32), O), S({1, "iif"}, K.dev, O),
                    S({1, "oif"}, K.dev, O), S({1, "table"}, K.int(1, U32), O),
                    S({1, "suppress_prefixlength"}, K.int(0, 128), O), S({1, "invert"}, K.bool, O),
                    S({1, "tos"}, K.int(0, 255), O), S({1, "protocol"}, K.int(0, 255), O),
                    S({1, "family"}, K.int(4, 4), O), S({1, "unresolved"}, K.bool, O)}
for _, verb in ipairs{"add", "delete"} do
  variant("rule." .. verb, {rule}, rule_slots)
  variant("rule." .. verb, {{priority = 101, action = "goto", ["goto"] = 200}},
          {S({1, "action"}, K.text(32), O), S({1, "goto"}, K.int(0, U32), O)})
end
variant("rule.list", {{family = "inet"}}, {S({1}, K.opts, O), S({1, "family"}, K.text(8), O)})

-- monitors: the function, and a monitor's methods (their argument 1 is the monitor)
variant("monitor", {{links = true, addrs = true, routes = true, neigh = true, tc = true, nft = true}},
        {S({1}, K.opts, O), S({1, "links"}, K.bool, O), S({1, "addrs"}, K.bool, O),
         S({1, "routes"}, K.bool, O), S({1, "neigh"}, K.bool, O), S({1, "tc"}, K.bool, O),
         S({1, "nft"}, K.bool, O)})
local MON = {} -- stands for the monitor in a method's arguments
variant("monitor:next", {MON, 0}, {S({2}, K.num(0, 1e9), O)})
variant("monitor:events", {MON, {timeout = 0}}, {S({2}, K.opts, O), S({2, "timeout"}, K.num(0, 1e9), O)})
variant("monitor:wait", {MON, {object = "none"}, 0},
        {S({2}, {ok = function(v) return type(v) == "table" or type(v) == "function" end}),
         S({3}, K.num(0, 1e9), O)})
variant("monitor:close", {MON}, {})

-- A handle's own: close takes nothing (driven without arguments only by the handle tests).
variant("close", {}, {})
-- A transaction's own methods take nothing.
variant("tx.commit", {}, {})
variant("tx.close", {}, {})
variant("tx.count", {}, {})

-- ---- helpers for the drivers: copy a template's arguments, read and write a slot ----

local function copy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local out = {}
  seen[v] = out
  for k, x in pairs(v) do out[k] = copy(x, seen) end
  return out
end

-- Sets the value at path in args (a copy); returns false when the path's parent is missing.
local function put(args, path, value)
  local t = args
  for i = 1, #path - 1 do
    if type(t[path[i]]) ~= "table" then return false end
    t = t[path[i]]
  end
  t[path[#path]] = value
  return true
end

-- The value at path in args, or nil when the path's parent is missing.
local function get(args, path)
  local t = args
  for i = 1, #path - 1 do
    if type(t[path[i]]) ~= "table" then return nil end
    t = t[path[i]]
  end
  return t[path[#path]]
end

return {T = T, K = K, S = S, O = O, fixtures = fixtures, INT_MAX = INT_MAX, U32 = U32,
        copy = copy, put = put, get = get}
end
