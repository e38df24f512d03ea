-- exec, spawn, wait, pids, kill: processes inside namespaces, checked through /proc and
-- `ip netns pids`, never through cnet's own answers alone.
local cnet = require "cnet"

local function inode(path) return H.sh("stat -L -c %i " .. path) end

local function ip_netns_pids(name)
  local pids = {}
  for p in H.sh("ip netns pids " .. name):gmatch("%d+") do pids[#pids + 1] = tonumber(p) end
  table.sort(pids)
  return pids
end

local function sysfs_mounts()
  local n = 0
  for line in io.lines("/proc/self/mountinfo") do
    if line:find(" %- sysfs ") then n = n + 1 end
  end
  return n
end

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return false end
  f:close()
  return true
end

describe("ns.exec", function()
  it("runs ip -j link inside the namespace and returns its exit code and output", function()
    local name = H.name("ex")
    local ns <close> = cnet.netns.add(name)
    H.sh("ip -n " .. name .. " link add exa0 type veth peer name exb0")
    local code, out, err = ns.exec({"ip", "-j", "link"}, {capture = true})
    assert.are.equal(0, code)
    assert.are.equal("", err)
    local names = {}
    for _, l in ipairs(H.json(out)) do names[#names + 1] = l.ifname end
    table.sort(names)
    assert.are.same({"exa0", "exb0", "lo"}, names)
    -- the same view iproute2 gives of that namespace, and not the sandbox's own devices
    assert.are.equal(#H.ipj("link show", name), #names)
    assert.is_nil(H.iplink("exa0"))
    cnet.netns.delete(name)
  end)

  it("gives the child a /sys that shows the namespace's devices, and leaves ours alone", function()
    local name = H.name("exsys")
    local ns <close> = cnet.netns.add(name)
    H.sh("ip -n " .. name .. " link add sysa0 type veth peer name sysb0")
    local before_mounts = sysfs_mounts()
    local before_ns = inode("/proc/self/ns/net")
    local code, out = ns.exec({"ls", "/sys/class/net"}, {capture = true})
    assert.are.equal(0, code)
    local listed = {}
    for n in out:gmatch("%S+") do listed[#listed + 1] = n end
    table.sort(listed)
    assert.are.same({"lo", "sysa0", "sysb0"}, listed)
    assert.are.equal(before_mounts, sysfs_mounts())
    assert.are.equal(before_ns, inode("/proc/self/ns/net"))
    cnet.netns.delete(name)
  end)

  it("reports exit codes, and 128 + signal for a killed child", function()
    local name = H.name("excode")
    local ns <close> = cnet.netns.add(name)
    assert.are.equal(3, ns.exec{"sh", "-c", "exit 3"})
    assert.are.equal(137, ns.exec{"sh", "-c", "kill -9 $$"})
    assert.are.equal(0, ns.exec{"true"})
    cnet.netns.delete(name)
  end)

  it("feeds stdin, sets the environment and the working directory", function()
    local name = H.name("exio")
    local ns <close> = cnet.netns.add(name)
    local code, out, err = ns.exec({"sh", "-c", "cat; echo oops >&2"}, {capture = true, stdin = "hello\n"})
    assert.are.equal(0, code)
    assert.are.equal("hello\n", out)
    assert.are.equal("oops\n", err)
    -- a large input does not deadlock against a large output
    local big = ("x"):rep(1 << 20)
    code, out = ns.exec({"cat"}, {capture = true, stdin = big})
    assert.are.equal(0, code)
    assert.are.equal(#big, #out)
    -- a program that ignores its input: the broken pipe is not ours to die of
    assert.are.equal(0, ns.exec({"true"}, {stdin = big .. big .. big}))
    code, out = ns.exec({"head", "-c", "3"}, {capture = true, stdin = big})
    assert.are.equal("xxx", out)
    -- output is returned when the program exits, even if its background child keeps the pipe
    local t0 = os.time()
    code, out = ns.exec({"sh", "-c", "sleep 30 & echo started"}, {capture = true})
    assert.are.equal("started\n", out)
    assert.is_true(os.time() - t0 < 10)
    ns.kill("KILL", {wait = 2})
    code, out = ns.exec({"sh", "-c", "echo ${CNET_T}:${HOME-unset}"},
      {capture = true, env = {CNET_T = "v1", HOME = false}})
    assert.are.equal("v1:unset\n", out)
    code, out = ns.exec({"pwd"}, {capture = true, cwd = "/tmp"})
    assert.are.equal("/tmp\n", out)
    cnet.netns.delete(name)
  end)

  it("writes to files when asked, and kills a child that outlives its timeout", function()
    local name = H.name("exfile")
    local ns <close> = cnet.netns.add(name)
    local path = os.tmpname()
    assert.are.equal(0, ns.exec({"sh", "-c", "echo out; echo err >&2"}, {stdout = path, stderr = path}))
    local f = assert(io.open(path))
    local text = f:read("a")
    f:close()
    os.remove(path)
    assert.truthy(text:find("out\n", 1, true) and text:find("err\n", 1, true))
    local t0 = os.time()
    assert.are.equal(137, ns.exec({"sleep", "30"}, {timeout = 0.2}))
    assert.is_true(os.time() - t0 < 5)
    cnet.netns.delete(name)
  end)

  it("binds the files of /etc/netns/NAME over /etc for the child, like ip netns exec", function()
    local name = H.name("exetc")
    local ns <close> = cnet.netns.add(name)
    -- The real /etc stays untouched: the check runs in a mount namespace of its own, over a
    -- throwaway overlay of /etc that holds /etc/netns/NAME/hosts.
    local ov, script = os.tmpname(), os.tmpname()
    -- H.try drops the sanitizer runtime; the Lua that loads cnet needs it back
    local preload = os.getenv("LD_PRELOAD") and ("LD_PRELOAD=" .. os.getenv("LD_PRELOAD") .. " ") or ""
    os.remove(ov)
    H.sh("mkdir " .. ov)
    local f = assert(io.open(script, "w"))
    f:write(([[
      local cnet = require "cnet"
      local ns = cnet.netns.open(%q)
      local _, inside = ns.exec({"cat", "/etc/hosts"}, {capture = true})
      local _, outside = cnet.exec({"cat", "/etc/hosts"}, {capture = true})
      io.write(inside, "--\n", outside == io.open("/etc/hosts"):read("a") and "same" or "changed")
    ]]):format(name))
    f:close()
    local ok, out = H.try(("unshare --mount sh -c 'mount -t tmpfs cnet-ov %s && " ..
      "mkdir %s/u %s/w && mount -t overlay cnet-ov -o lowerdir=/etc,upperdir=%s/u,workdir=%s/w /etc && " ..
      "mkdir -p /etc/netns/%s && echo \"192.0.2.53 cnet-etc-test\" > /etc/netns/%s/hosts && %slua5.4 %s'")
      :format(ov, ov, ov, ov, ov, name, name, preload, script))
    os.remove(script)
    os.remove(ov)
    assert.is_true(ok, out)
    assert.are.equal("192.0.2.53 cnet-etc-test\n--\nsame", out)
    assert.falsy(H.sh("cat /etc/hosts"):find("cnet-etc-test", 1, true))
    cnet.netns.delete(name)
  end)

  it("passes no descriptor of ours to the child: no netlink socket, no open file", function()
    local name = H.name("exfd")
    local ns <close> = cnet.netns.add(name)
    local keep = assert(io.open("/proc/self/stat")) -- Lua opens files inheritable
    local code, out = ns.exec({"sh", "-c", "ls -l /proc/$$/fd"}, {capture = true, stdin = ""})
    keep:close()
    assert.are.equal(0, code)
    assert.falsy(out:find("socket:", 1, true), out)
    assert.falsy(out:find("/proc/", 1, true), out)
    cnet.netns.delete(name)
  end)

  it("raises when the program cannot be started, naming it", function()
    local name = H.name("exbad")
    local ns <close> = cnet.netns.add(name)
    local ok, err = pcall(ns.exec, {"cnet-no-such-program", "x"})
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("netns.exec", err.op)
    assert.are.equal("netns.exec cnet-no-such-program: No such file or directory", tostring(err))
    local plain = os.tmpname() -- a file without execute permission
    ok, err = pcall(ns.exec, {plain})
    os.remove(plain)
    assert.is_false(ok)
    assert.are.equal("EACCES", err.code)
    ok, err = pcall(ns.exec, {"true"}, {cwd = "/no/such/dir"})
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("netns.exec true: No such file or directory: chdir", tostring(err))
    cnet.netns.delete(name)
  end)

  it("rejects bad arguments", function()
    local name = H.name("exarg")
    local ns <close> = cnet.netns.add(name)
    assert.has_error(function() ns.exec({}) end, "bad argument #1 to 'exec' (empty command)")
    assert.has_error(function() ns.exec("ls") end,
      "bad argument #1 to 'exec' (command (a list of strings) expected, got string)")
    assert.has_error(function() ns.exec({"ls", {}}) end,
      "bad argument #1 to 'exec' (command element 2 is a table, not a string)")
    assert.has_error(function() ns.exec({"ls"}, {captur = true}) end,
      "bad argument #2 to 'exec' (unknown option 'captur')")
    assert.has_error(function() ns.exec({"ls"}, {capture = true, stdout = "/tmp/x"}) end,
      "bad argument #2 to 'exec' (options 'stdout'/'stderr' and 'capture' exclude each other)")
    assert.has_error(function() ns.exec({"ls"}, {timeout = -1}) end,
      "bad argument #2 to 'exec' (field 'timeout': -1 out of range [0, 31536000])")
    cnet.netns.delete(name)
  end)
end)

describe("ns.spawn", function()
  it("starts a process in the background whose /proc/PID/ns/net is the namespace", function()
    local name = H.name("sp")
    local ns <close> = cnet.netns.add(name)
    local log = os.tmpname()
    local pid = ns.spawn({"sh", "-c", "echo started; exec sleep 30"}, {stdout = log})
    assert.is_true(pid > 0)
    assert.are.equal(inode("/run/netns/" .. name), inode("/proc/" .. pid .. "/ns/net"))
    assert.are.same({pid}, ip_netns_pids(name))
    for _ = 1, 100 do
      local f = io.open(log)
      local text = f and f:read("a")
      if f then f:close() end
      if text == "started\n" then break end
      os.execute("sleep 0.02")
    end
    local f = assert(io.open(log))
    assert.are.equal("started\n", f:read("a"))
    f:close()
    os.remove(log)
    assert.are.same({1, 0}, {ns.kill("KILL", {wait = 2})})
    cnet.netns.delete(name)
  end)

  it("raises for a missing program and leaves nothing running", function()
    local name = H.name("spbad")
    local ns <close> = cnet.netns.add(name)
    local ok, err = pcall(ns.spawn, {"cnet-no-such-program"})
    assert.is_false(ok)
    assert.are.equal("netns.spawn cnet-no-such-program: No such file or directory", tostring(err))
    assert.are.same({}, ip_netns_pids(name))
    ok, err = pcall(ns.spawn, {"true"}, {stdout = "/no/such/dir/log"})
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("/no/such/dir/log", err.object)
    cnet.netns.delete(name)
  end)
end)

describe("ns.wait", function()
  it("returns the exit code, or nil and 'timeout' while the child runs", function()
    local name = H.name("wt")
    local ns <close> = cnet.netns.add(name)
    local pid = ns.spawn{"sh", "-c", "exit 7"}
    assert.are.equal(7, ns.wait(pid, 5))
    assert.is_false(alive(pid)) -- reaped: no zombie left
    pid = ns.spawn{"sleep", "30"}
    assert.are.same({nil, "timeout"}, {ns.wait(pid, 0.05)})
    ns.kill("KILL", {wait = 2})
    local ok, err = pcall(ns.wait, pid)
    assert.is_false(ok)
    assert.are.equal("ECHILD", err.code)
    cnet.netns.delete(name)
  end)
end)

describe("ns.pids", function()
  it("lists what ip netns pids lists, including processes cnet did not start", function()
    local name = H.name("pd")
    local ns <close> = cnet.netns.add(name)
    assert.are.same({}, ns.pids())
    local a = ns.spawn{"sleep", "30"}
    local b = tonumber(H.sh("ip netns exec " .. name .. " sh -c 'sleep 30 >/dev/null 2>&1 & echo $!'"))
    local pids = ns.pids()
    table.sort(pids)
    assert.are.same(ip_netns_pids(name), pids)
    assert.are.equal(2, #pids)
    assert.truthy(pids[1] == math.min(a, b) and pids[2] == math.max(a, b))
    -- the module's own namespace holds this very process
    local own = {}
    for _, p in ipairs(cnet.pids()) do own[p] = true end
    local self_pid = tonumber(io.open("/proc/self/stat"):read("a"):match("^%d+"))
    assert.is_true(own[self_pid] or false)
    ns.kill("KILL", {wait = 2})
    cnet.netns.delete(name)
  end)
end)

describe("ns.kill", function()
  it("signals every process in the namespace and waits until they are gone", function()
    local name = H.name("kl")
    local ns <close> = cnet.netns.add(name)
    local a = ns.spawn{"sleep", "30"}
    local b = ns.spawn{"sleep", "30"}
    local count, left = ns.kill{wait = 5}
    assert.are.equal(2, count)
    assert.are.equal(0, left)
    assert.are.same({}, ip_netns_pids(name))
    assert.is_false(alive(a)) -- our children are reaped, not left as zombies
    assert.is_false(alive(b))
    assert.are.same({0, 0}, {ns.kill()})
    cnet.netns.delete(name)
  end)

  it("reaps its own children even without wait, so none stays a zombie", function()
    local name = H.name("klz")
    local ns <close> = cnet.netns.add(name)
    local a = ns.spawn{"sleep", "30"}
    assert.are.equal(1, (ns.kill()))
    local f = io.open("/proc/" .. a .. "/stat")
    local state = f and f:read("l"):match("%) (%a)")
    if f then f:close() end
    assert.is_nil(state, "pid " .. a .. " is still there in state " .. tostring(state))
    cnet.netns.delete(name)
  end)

  it("accepts signal names and numbers, and never signals the caller itself", function()
    local name = H.name("klsig")
    local ns <close> = cnet.netns.add(name)
    for _, sig in ipairs{"HUP", "SIGINT", "term", 9} do
      ns.spawn{"sleep", "30"}
      assert.are.same({1, 0}, {ns.kill(sig, {wait = 5})})
    end
    -- cnet's own namespace is refused unless forced: outside a sandbox it is the machine
    local ok, err = pcall(cnet.kill, 0)
    assert.is_false(ok)
    assert.are.equal("EPERM", err.code)
    assert.truthy(tostring(err):find("^netns%.kill %(cnet's own namespace%): Operation not permitted: refusing"))
    -- signal 0 only checks: this process is in the module's namespace but not counted
    local before = #cnet.pids()
    local count = cnet.kill(0, {force = true})
    assert.are.equal(before - 1, count)
    cnet.netns.delete(name)
  end)

  it("rejects unknown signals and options", function()
    local name = H.name("klbad")
    local ns <close> = cnet.netns.add(name)
    assert.has_error(function() ns.kill("FOO") end, "bad argument #1 to 'kill' (unknown signal 'FOO')")
    assert.has_error(function() ns.kill(99) end,
      "bad argument #1 to 'kill' (signal number: 99 out of range [0, 64])")
    assert.has_error(function() ns.kill("TERM", {wiat = 1}) end,
      "bad argument #2 to 'kill' (unknown option 'wiat')")
    cnet.netns.delete(name)
  end)
end)
