-- 03-server-in-namespace.lua: a web server inside `cool`, and who can reach it.
--
--   ip netns exec cool ./server &             ->  ns.spawn{hello, "8080"}
--   curl localhost:8080       (from the host) ->  cnet.tcp_connect("127.0.0.1", 8080)
--   ip netns exec cool curl localhost:8080    ->  ns.tcp_connect("127.0.0.1", 8080)
--   ip netns exec cool ip link set dev lo up  ->  ns.link.set("lo", {up = true})
--   ip netns pids cool | xargs kill           ->  ns.kill()
--   ip netns exec cool ping 8.8.8.8           ->  ns.ping("198.51.100.1")
--
-- What it shows, in order: from the host the connection is refused (nothing listens on the
-- host's port 8080: the server lives in another network stack); inside `cool` it is
-- unreachable, because `lo` is down; once `lo` is up the page comes back; killing the
-- namespace's processes leaves it empty; a ping out fails at once: no route at all.
--
-- Run it:   cnet --sandbox scripts/03-server-in-namespace.lua
-- It uses `cool` as scripts/02-create-namespace.lua left it (or creates it), and leaves it
-- with `lo` up and no process, for scripts/04-veth-and-bridge.lua. The web server is the
-- tutorial's, built as cnet-hello: found through $CNET_HELLO (the cnet binary sets it when
-- cnet-hello sits next to it) or $PATH.
local cnet = require "cnet"

local NS, PORT = "cool", 8080
local REQUEST = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"

local function step(text) print("\n== " .. text) end

-- Prints what a call returned: "  nil, refused".
local function show(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  print("  " .. table.concat(t, ", "))
end

local function find_hello()
  local env = os.getenv("CNET_HELLO")
  if env and env ~= "" then return env end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local f = io.open(dir .. "/cnet-hello")
    if f then f:close() return dir .. "/cnet-hello" end
  end
  error("cnet-hello not found: build it (cmake --build build) and set CNET_HELLO or PATH", 0)
end

local ns <close> = cnet.netns.exists(NS) and cnet.netns.open(NS) or cnet.netns.add(NS)
-- The tutorial is at this point with a fresh namespace: lo down (a rerun may find it up).
ns.link.set("lo", {up = false})

step("ip netns exec " .. NS .. " cnet-hello " .. PORT .. " &")
local pid = ns.spawn({find_hello(), tostring(PORT)})
print("  server PID " .. pid)

step("curl localhost:" .. PORT .. "   (from the host)")
local ok, why = cnet.tcp_connect("127.0.0.1", PORT)
show(ok, why)
assert(ok == nil and why == "refused", "the host has nothing on port 8080: refused")

step("ip netns exec " .. NS .. " curl localhost:" .. PORT .. "   (lo is down)")
ok, why = ns.tcp_connect("127.0.0.1", PORT)
show(ok, why)
assert(ok == nil and why == "unreachable", "with lo down, 127.0.0.1 is unreachable")

step("ip netns exec " .. NS .. " ip link set dev lo up")
ns.link.set("lo", {up = true})
local lo = ns.link.get("lo")
print(("  lo: up=%s operstate=%s"):format(tostring(lo.up), lo.operstate))

step("ip netns exec " .. NS .. " curl localhost:" .. PORT)
-- the server may still be starting: refused until it listens, so retry for up to 5 s
local reply
ok, reply = ns.tcp_connect("127.0.0.1", PORT, {send = REQUEST, retry = 5})
assert(ok, "the page should come back once lo is up: " .. tostring(reply))
local body = reply:match("\r\n\r\n(.*)$") or reply
io.write("  ", body)
assert(body:find("^hello! the time right now is "), "the tutorial's greeting")

step("ip netns pids " .. NS .. " | xargs kill")
print("  pids: " .. table.concat(ns.pids(), " "))
local signalled, left = ns.kill({wait = 2}) -- SIGTERM, and collects what we started
print(("  signalled %d, left %d"):format(signalled, left))
assert(signalled >= 1 and left == 0 and #ns.pids() == 0, "no process left in " .. NS)

step("ip netns exec " .. NS .. " ping 198.51.100.1")
ok, why = ns.ping("198.51.100.1")
show(ok, why)
assert(ok == nil and why == "unreachable", NS .. " has no route out: unreachable")

print("\nok: refused from the host, unreachable with lo down, served with lo up, killed, no way out")
