-- Out of memory at any allocation: every call below is run again and again with its first,
-- second, third... allocation failing, until it makes no more (tests/spec/support/oomhost.c):
-- once with the n-th malloc/calloc/realloc of the process failing (the core's, the libraries',
-- libc's), once with Lua's allocations failing from the n-th on. Each run must end in a clear
-- error or a result, never a crash; leave no file descriptor and no heap block behind (the
-- count of both is compared around each sweep; the ASan run also has LeakSanitizer check at
-- exit); leave nothing half-made in the kernel; and the next call must work.
local module = package.searchpath("cnet", package.cpath)

local script = [==[
local fails = {}
local function check(cond, msg) if not cond then fails[#fails + 1] = msg end end

local function exists(name) return cnet.netns.exists(name) end

-- Sweeps f (name) through both kinds of failure; undo() runs after a call that succeeded,
-- after_fail() after one that failed (to check nothing was left).
local function sweep(name, f, undo, after_fail)
  do -- once first: sockets opened on first use stay open, caches fill
    local ok0, r0 = pcall(f)
    check(ok0, name .. " fails before the sweep: " .. tostring(r0))
    if ok0 and undo then undo(r0) end
  end
  collectgarbage(); collectgarbage()
  local fd0, live0 = fds(), live()
  local points = 0
  for _, mode in ipairs{"c", "lua"} do
    for n = 1, 20000 do
      local ok, err, fired
      if mode == "c" then ok, err, fired = with_failing(n, f)
      else ok, err = with_budget(n - 1, f); fired = not ok end
      if ok and undo then undo(err) end
      if not ok then
        local msg = tostring(err)
        check(type(err) == "string" or (type(err) == "table" and err.code),
              name .. ": raised a " .. type(err))
        check(#msg < 1000, name .. ": a long message")
        if after_fail then after_fail(msg) end
      end
      if not fired then break end
      points = points + 1
    end
  end
  do -- works again
    local ok, r = pcall(f)
    check(ok, name .. " fails after the sweep: " .. tostring(r))
    if ok and undo then undo(r) end
  end
  collectgarbage(); collectgarbage()
  check(fds() == fd0, ("%s: %d descriptors before, %d after"):format(name, fd0, fds()))
  local grew = live() - live0
  -- a leak per failure would show as hundreds of blocks; a few come from Lua's own caches
  check(grew < 40, ("%s: %d heap blocks more after %d failures"):format(name, grew, points))
  print(("%-22s %5d allocation points, %d blocks more"):format(name, points, grew))
  return points
end

local total = 0
local function run(...) total = total + sweep(...) end

run("netns.add", function() return cnet.netns.add("oomns") end,
    function(ns) ns.close(); cnet.netns.delete("oomns") end,
    function() check(not exists("oomns"), "netns.add left /run/netns/oomns after failing") end)
run("netns.open", function() return cnet.netns.open("oomfix") end, function(ns) ns.close() end)
run("netns.open{path}", function() return cnet.netns.open{path = "/run/netns/oomfix"} end,
    function(ns) ns.close() end)
run("netns.current", function() return cnet.netns.current() end, function(ns) ns.close() end)
run("netns.list", function() return cnet.netns.list() end)
run("netns.attach", function() return cnet.netns.attach("oomatt", PID) end,
    function(ns) ns.close(); cnet.netns.detach("oomatt") end,
    function() check(not exists("oomatt"), "netns.attach left oomatt after failing") end)
run("link.list", function() return cnet.link.list() end)
run("link.get", function() return cnet.link.get("oom0") end)
run("link.add", function() cnet.link.add{name = "oomv0", type = "veth", peer = {name = "oomv1"}} end,
    function() cnet.link.delete("oomv0") end,
    function() pcall(cnet.link.delete, "oomv0") end)
run("addr.list", function() return cnet.addr.list() end)
run("route.list", function() return cnet.route.list() end)
run("sysctl.get", function() return cnet.sysctl.get("net.ipv4.ip_forward") end)
run("exec", function() return cnet.exec({"true"}, {capture = true}) end)
run("pids", function() return cnet.pids() end)
run("ping", function() return cnet.ping("127.0.0.1", {timeout = 1}) end)
run("nft.list", function() return cnet.nft.list() end)
run("nft.list_tables", function() return cnet.nft.list_tables() end)
run("nft.list_chains", function() return cnet.nft.list_chains("ip oomt") end)
run("nft.list_rules", function() return cnet.nft.list_rules("ip oomt") end)
run("nft.list_sets", function() return cnet.nft.list_sets("ip oomt") end)
run("nft.add_rule", function() cnet.nft.add_rule("ip oomt c2", "ip saddr @s counter accept") end,
    function() cnet.nft.flush_chain("ip oomt c2") end)
run("nft.apply", function()
  cnet.nft.apply{table = "ip oomapply", chains = {c = {type = "filter", hook = "input",
    "tcp dport { 22, 80 } accept"}}, sets = {s = {type = "ipv4_addr", elements = {"10.0.0.1"}}}}
end)
run("monitor", function() local m = cnet.monitor{links = true}; m:close() end)
run("tc.qdisc.list", function() return cnet.tc.qdisc.list() end)
run("batch", function() cnet.batch(function() cnet.link.set("oom0", {up = true}) end) end)
print("total allocation points: " .. total)
if #fails > 0 then error(table.concat(fails, "\n")) end
]==]

describe("out of memory at any allocation", function()
  it("leaks nothing, leaves nothing half-made, and the next call works", function()
    local dir = module and H.oomhost_build()
    if not dir then
      pending("needs a C compiler and the built module")
      return
    end
    H.ip_batch{"link add oom0 type veth peer name oom1"}
    H.sh("ip netns add oomfix")
    H.sh("nft add table ip oomt; nft add chain ip oomt c; nft add chain ip oomt c2; " ..
         "nft add set ip oomt s '{ type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 }; }'; " ..
         "nft add rule ip oomt c ip saddr @s counter accept; nft add rule ip oomt c tcp dport { 22, 80 } drop")
    local pid = H.sh("sleep 300 >/dev/null 2>&1 & echo $!")
    H.write(dir .. "/oom.lua", "PID = " .. pid .. "\n" .. script)
    -- Under ASan, LeakSanitizer checks the whole run at exit (the host frees everything). The
    -- dynamic loader's own bookkeeping, when one of its allocations fails inside a dlopen
    -- that libc makes for itself, is glibc's to lose, not ours.
    H.write(dir .. "/lsan.supp", "leak:add_to_global_resize\nleak:add_name_to_object\n")
    local out = H.oomhost(dir, module, os.getenv("CNET_ASAN") and
      ("ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=%s/lsan.supp"):format(dir) or "")
    H.sh("kill " .. pid)
    print(out)
    local points = tonumber(out:match("total allocation points: (%d+)"))
    assert.is_true(points and points > 500, out)
    assert.is_nil(H.iplink("oomv0"))
    H.sh("rm -rf " .. dir .. "; ip netns del oomfix; nft delete table ip oomt; nft delete table ip oomapply; ip link del oom0")
  end)
end)
