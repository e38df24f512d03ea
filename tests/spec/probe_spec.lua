-- ping, tcp_connect, traceroute: probes whose sockets live in the namespace they test. The
-- topologies are built with ip(8), so the probes are checked against a network cnet did not
-- make; all addresses are documentation ranges inside namespaces this spec creates.
local cnet = require "cnet"

local PY = "/usr/bin/python3"

-- A tiny TCP server: answers "hello <first line of the request>" and closes.
local SERVER = [[
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
while True:
    c, _ = s.accept()
    line = c.recv(4096).split(b"\r\n")[0]
    c.sendall(b"hello " + line + b"\n")
    c.close()
]]

local function serve(ns, addr, port)
  local pid = ns.spawn{PY, "-c", SERVER, addr, tostring(port)}
  for _ = 1, 250 do
    if ns.tcp_connect(addr, port, {timeout = 0.2}) then return pid end
    os.execute("sleep 0.02")
  end
  error("test server did not start")
end

-- A round-trip time as ping and traceroute give it: a cnet.rtt (seconds, printed in ms).
local function assert_rtt(v)
  assert.are.equal("userdata", type(v), tostring(v))
  assert.are.equal("cnet.rtt", getmetatable(v).__name)
  assert.is_number(v.s)
  assert.is_true(v.s >= 0 and v.s < 60)
  assert.truthy(tostring(v):match("^%d+%.?%d* ms$"), tostring(v))
end

-- a <-> r <-> b: a (192.0.2.2) routes via r (192.0.2.1 / 198.51.100.254) to b (198.51.100.1).
local function chain()
  local n = {a = H.name("pa"), r = H.name("pr"), b = H.name("pb")}
  for _, name in pairs(n) do H.sh("ip netns add " .. name) end
  local function ip(ns, args) H.sh("ip -n " .. n[ns] .. " " .. args) end
  H.sh(("ip -n %s link add a0 type veth peer name r0 netns %s"):format(n.a, n.r))
  H.sh(("ip -n %s link add r1 type veth peer name b0 netns %s"):format(n.r, n.b))
  ip("a", "addr add 192.0.2.2/24 dev a0")
  ip("r", "addr add 192.0.2.1/24 dev r0")
  ip("r", "addr add 198.51.100.254/24 dev r1")
  ip("b", "addr add 198.51.100.1/24 dev b0")
  for ns, devs in pairs{a = {"lo", "a0"}, r = {"lo", "r0", "r1"}, b = {"lo", "b0"}} do
    for _, d in ipairs(devs) do ip(ns, "link set " .. d .. " up") end
  end
  ip("a", "route add default via 192.0.2.1")
  ip("b", "route add default via 198.51.100.254")
  H.sh("ip netns exec " .. n.r .. " sysctl -qw net.ipv4.ip_forward=1")
  n.cleanup = function()
    for _, name in ipairs{n.a, n.r, n.b} do H.sh("ip netns del " .. name) end
  end
  return n
end

describe("ns.ping", function()
  it("fails on 127.0.0.1 while lo is down, succeeds once ip brings it up (IPv4 and IPv6)", function()
    local name = H.name("pg")
    local ns <close> = cnet.netns.add(name)
    assert.are.same({nil, "unreachable"}, {ns.ping("127.0.0.1", {timeout = 0.5})})
    assert.are.same({nil, "unreachable"}, {ns.ping("::1", {timeout = 0.5})})
    H.sh("ip -n " .. name .. " link set lo up")
    local rtt = ns.ping("127.0.0.1", {timeout = 1})
    assert_rtt(rtt)
    assert.is_true(rtt > 0 and rtt < 1)
    assert.is_true(ns.ping("::1", {timeout = 1}) > 0)
    assert.are.equal(1, select("#", ns.ping("127.0.0.1", {count = 3})))
    -- the process itself stayed where it was
    assert.are_not.equal(H.sh("stat -L -c %i /run/netns/" .. name), H.sh("stat -L -c %i /proc/self/ns/net"))
    cnet.netns.delete(name)
  end)

  it("reports a router's net-unreachable and a neighbour that never answers", function()
    local n = chain()
    local a <close> = cnet.netns.open(n.a)
    assert_rtt((a.ping("198.51.100.1")))
    -- r has no route to 203.0.113.0/24: it answers with ICMP net unreachable
    assert.are.same({nil, "unreachable", "192.0.2.1"}, {a.ping("203.0.113.1", {timeout = 1})})
    -- nobody owns 192.0.2.99 on a's link: ARP fails, the kernel reports host unreachable
    H.sh("ip netns exec " .. n.a .. " sysctl -qw net.ipv4.neigh.a0.retrans_time_ms=100 net.ipv4.neigh.a0.mcast_solicit=1")
    local _, why = a.ping("192.0.2.99", {timeout = 3})
    assert.are.equal("host unreachable", why)
    -- a hop limit too small for the path: r says the packet expired
    assert.are.same({nil, "ttl exceeded", "192.0.2.1"}, {a.ping("198.51.100.1", {ttl = 1})})
    a.close()
    n.cleanup()
  end)

  it("rejects bad addresses and options", function()
    assert.has_error(function() cnet.ping("192.0.2.300") end,
      "bad argument #1 to 'ping' (not an IP address: '192.0.2.300')")
    assert.has_error(function() cnet.ping("example.com") end,
      "bad argument #1 to 'ping' (not an IP address: 'example.com')")
    assert.has_error(function() cnet.ping("192.0.2.1", {timeout = 0}) end,
      "bad argument #2 to 'ping' (field 'timeout': 0 out of range (0, 3600] (seconds))")
    assert.has_error(function() cnet.ping("192.0.2.1", {count = 0}) end,
      "bad argument #2 to 'ping' (field 'count': 0 out of range [1, 1000])")
    assert.has_error(function() cnet.ping("192.0.2.1", {cuont = 1}) end,
      "bad argument #2 to 'ping' (unknown option 'cuont')")
  end)
end)

describe("a round-trip time (cnet.rtt)", function()
  local ns
  setup(function()
    ns = cnet.netns.add(H.name("rt"))
    ns.link.set("lo", {up = true})
  end)
  teardown(function() cnet.netns.delete(ns); ns.close() end)

  it("prints in milliseconds, as ping(8) does, and counts as its seconds", function()
    local rtt = ns.ping("127.0.0.1")
    assert_rtt(rtt)
    assert.are.equal(rtt.s * 1000, rtt.ms)
    -- three significant digits, as ping(8) prints: 0.045 ms, 5.84 ms, 12.3 ms, 123 ms (even
    -- on loopback a loaded machine can take milliseconds to answer)
    local ms = rtt.ms
    local decimals = ms < 1 and 3 or ms < 10 and 2 or ms < 100 and 1 or 0
    assert.are.equal(("%." .. decimals .. "f ms"):format(ms), tostring(rtt))
    assert.are.equal("rtt " .. tostring(rtt), "rtt " .. rtt)
    -- arithmetic and comparisons work on the seconds and give plain numbers
    assert.are.equal(rtt.s * 1000, rtt * 1000)
    assert.are.equal(rtt.s + 1, 1 + rtt)
    assert.are.equal(-rtt.s, -rtt)
    assert.is_true(rtt < 1 and rtt > 0 and 0 <= rtt and rtt >= 0)
    assert.is_true(rtt <= rtt and rtt == rtt)
    assert.is_number(rtt.s)
    assert.is_nil(rtt.other)
    assert.has_error(function() return rtt + {} end,
      "attempt to perform arithmetic on a table value")
    -- the REPL's printer shows it the same way inside tables
    local hops = ns.traceroute("127.0.0.1", {max_hops = 2})
    assert.truthy(cnet.inspect(hops):find("rtt = %d+%.?%d* ms"), cnet.inspect(hops))
  end)
end)

describe("ns.tcp_connect", function()
  it("is refused on a closed port and talks to a listener inside the namespace", function()
    local name = H.name("tc")
    local ns <close> = cnet.netns.add(name)
    assert.are.same({nil, "unreachable"}, {ns.tcp_connect("127.0.0.1", 8080)})
    H.sh("ip -n " .. name .. " link set lo up")
    assert.are.same({nil, "refused"}, {ns.tcp_connect("127.0.0.1", 8080)})
    serve(ns, "127.0.0.1", 8080)
    assert.is_true(ns.tcp_connect("127.0.0.1", 8080))
    assert.are.same({true, "hello GET / HTTP/1.0\n"},
      {ns.tcp_connect("127.0.0.1", 8080, {send = "GET / HTTP/1.0\r\n\r\n"})})
    -- the same port in the sandbox's own namespace: nobody there
    assert.are.same({nil, "refused"}, {cnet.tcp_connect("127.0.0.1", 8080)})
    serve(ns, "::1", 8081)
    assert.is_true(ns.tcp_connect("::1", 8081))
    assert.are.same({2, 0}, {ns.kill("TERM", {wait = 5})})
    cnet.netns.delete(name)
  end)

  it("times out against silence and reports a remote's unreachable path", function()
    local n = chain()
    local a <close> = cnet.netns.open(n.a)
    local t0 = os.time()
    -- a's neighbour 192.0.2.99 never answers ARP: the SYN never leaves
    assert.are.same({nil, "timeout"}, {a.tcp_connect("192.0.2.99", 80, {timeout = 0.3})})
    assert.is_true(os.time() - t0 < 3)
    -- fresh veths may drop the first packets until their carrier is up: wait for the path
    assert_rtt(a.ping("198.51.100.1", {timeout = 3}))
    assert.are.same({nil, "refused"}, {a.tcp_connect("198.51.100.1", 80)})
    a.close()
    n.cleanup()
  end)

  it("waits for a server that is still starting with retry = seconds", function()
    local name = H.name("tw")
    local ns <close> = cnet.netns.add(name)
    ns.link.set("lo", {up = true})
    -- the server listens only 0.5 s after it was started
    ns.spawn{"sh", "-c", ("sleep 0.5; exec %s -c '%s' 127.0.0.1 8082"):format(PY, SERVER)}
    assert.are.same({nil, "refused"}, {ns.tcp_connect("127.0.0.1", 8082)})
    local t0 = os.clock()
    local ok, reply = ns.tcp_connect("127.0.0.1", 8082, {retry = 10, send = "ping\r\n"})
    assert.is_true(ok, tostring(reply))
    assert.are.equal("hello ping\n", reply)
    -- nobody at all: it gives up after the retry time with the last reason
    local start = os.time()
    assert.are.same({nil, "refused"}, {ns.tcp_connect("127.0.0.1", 8083, {retry = 0.3})})
    assert.is_true(os.time() - start <= 2)
    assert.is_true(os.clock() - t0 < 1, "retrying must not spin")
    assert.has_error(function() ns.tcp_connect("127.0.0.1", 8083, {retry = 0}) end,
      "bad argument #3 to 'tcp_connect' (field 'retry': 0 out of range (0, 3600] (seconds))")
    ns.kill("TERM", {wait = 5})
    cnet.netns.delete(name)
  end)

  it("rejects bad ports and addresses", function()
    assert.has_error(function() cnet.tcp_connect("127.0.0.1", 0) end,
      "bad argument #2 to 'tcp_connect' (port: 0 out of range [1, 65535])")
    assert.has_error(function() cnet.tcp_connect("127.0.0.1", 70000) end,
      "bad argument #2 to 'tcp_connect' (port: 70000 out of range [1, 65535])")
    assert.has_error(function() cnet.tcp_connect("localhost", 80) end,
      "bad argument #1 to 'tcp_connect' (not an IP address: 'localhost')")
    assert.has_error(function() cnet.tcp_connect("127.0.0.1", 80, {send = 1}) end,
      "bad argument #3 to 'tcp_connect' (field 'send': string expected, got number)")
  end)
end)

describe("ns.traceroute", function()
  it("returns the middle hop of two namespaces linked through a router", function()
    local n = chain()
    local a <close> = cnet.netns.open(n.a)
    local hops, reached = a.traceroute("198.51.100.1", {max_hops = 8, timeout = 1})
    assert.is_true(reached)
    assert.are.equal(2, #hops)
    assert.are.equal(1, hops[1].ttl)
    assert.are.equal("192.0.2.1", hops[1].addr)
    assert_rtt(hops[1].rtt)
    assert.are.equal(2, hops[2].ttl)
    assert.are.equal("198.51.100.1", hops[2].addr)
    -- beyond r nothing routes: the path ends at r's net-unreachable
    hops, reached = a.traceroute("203.0.113.1", {max_hops = 8, timeout = 1})
    assert.is_false(reached)
    assert.are.equal(1, #hops)
    assert.are.same({ttl = 1, addr = "192.0.2.1", reason = "unreachable"},
      {ttl = hops[1].ttl, addr = hops[1].addr, reason = hops[1].reason})
    a.close()
    n.cleanup()
  end)

  it("marks silent hops and stops at max_hops", function()
    local n = chain()
    local a <close> = cnet.netns.open(n.a)
    -- r forwards, but a firewall keeps its "time exceeded" messages in
    H.sh("ip netns exec " .. n.r .. " nft 'add table ip quiet; " ..
      "add chain ip quiet out { type filter hook output priority 0; }; " ..
      "add rule ip quiet out icmp type time-exceeded drop'")
    local hops, reached = a.traceroute("198.51.100.1", {max_hops = 8, timeout = 0.2})
    assert.is_true(reached)
    assert.are.same({ttl = 1}, hops[1])
    assert.are.equal("198.51.100.1", hops[2].addr)
    hops, reached = a.traceroute("198.51.100.1", {max_hops = 1, timeout = 0.2, probes = 2})
    assert.is_false(reached)
    assert.are.same({{ttl = 1}}, hops)
    a.close()
    n.cleanup()
  end)

  it("rejects bad input", function()
    assert.has_error(function() cnet.traceroute("not-an-ip") end,
      "bad argument #1 to 'traceroute' (not an IP address: 'not-an-ip')")
    assert.has_error(function() cnet.traceroute("192.0.2.1", {max_hops = 0}) end,
      "bad argument #2 to 'traceroute' (field 'max_hops': 0 out of range [1, 255])")
  end)
end)
