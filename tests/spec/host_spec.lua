-- The host binary `cnet`: scripts and their arguments, -e, -l, -i, standard input, --help and
-- --version, exit statuses and error messages, and --sandbox (checked from outside with ip -j,
-- pgrep and /run/netns).
local cnet = require "cnet"

local tmpdir = H.sh("mktemp -d /tmp/cnet-host-spec.XXXXXX")

local write = H.write

local read = H.read

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs `cnet ARGS` (a shell fragment) with optional standard input; returns the exit status,
-- standard output and standard error.
local function cnet_run(args, input)
  local out, err = tmpdir .. "/out", tmpdir .. "/err"
  -- Under the sanitizer build, the host binary keeps leak checking on (the interpreter that
  -- runs busted is not ours, so the test environment turns it off), except in the sandbox:
  -- LeakSanitizer cannot stop the world from PID 1 of a new PID namespace.
  local env = (os.getenv("CNET_ASAN") and not args:find("--sandbox", 1, true))
    and "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 " or ""
  local cmd = ("%s%s %s >%s 2>%s"):format(env, H.bin, args, out, err)
  if input then cmd = cmd .. " <" .. write(tmpdir .. "/in", input) else cmd = cmd .. " </dev/null" end
  local _, _, code = os.execute(cmd)
  return code, read(out), read(err)
end

teardown(function() os.execute("rm -rf " .. tmpdir) end)

describe("cnet SCRIPT", function()
  it("passes the arguments as arg[1..] and as the chunk's varargs, the script as arg[0]", function()
    local s = write(tmpdir .. "/args.lua",
      "print(arg[0], arg[1], arg[2], select('#', ...), ...)\nprint(arg[-1] ~= nil)\n")
    local code, out, err = cnet_run(q(s) .. " one 'two words'")
    assert.are.equal(0, code, err)
    assert.are.equal(s .. "\tone\ttwo words\t2\tone\ttwo words\ntrue\n", out)
  end)

  it("has cnet preloaded and set as the global cnet", function()
    local code, out, err = cnet_run(
      "-e " .. q("print(require('cnet') == cnet, package.preload.cnet ~= nil, type(cnet.netns))"))
    assert.are.equal(0, code, err)
    assert.are.equal("true\ttrue\ttable\n", out)
  end)

  it("exits 1 with 'cnet: FILE:LINE: message' and a traceback when the script fails", function()
    local s = write(tmpdir .. "/boom.lua", "local x = 1\n\nerror('boom')\n")
    local code, out, err = cnet_run(q(s))
    assert.are.equal(1, code)
    assert.are.equal("", out)
    assert.are.equal("cnet: " .. s .. ":3: boom", err:match("^[^\n]*"))
    assert.truthy(err:find("stack traceback:", 1, true))
  end)

  it("prints a cnet error object as where .. tostring(err)", function()
    local s = write(tmpdir .. "/errobj.lua", "-- line 1\ncnet.netns.open('no-such-ns')\n")
    local code, _, err = cnet_run(q(s))
    assert.are.equal(1, code)
    assert.are.equal("cnet: " .. s .. ":2: netns.open no-such-ns: No such file or directory",
      err:match("^[^\n]*"))
    assert.truthy(err:find("stack traceback:", 1, true))
  end)

  it("exits 1 on a syntax error and on a missing script", function()
    local s = write(tmpdir .. "/syntax.lua", "x = = 1\n")
    local code, _, err = cnet_run(q(s))
    assert.are.equal(1, code)
    assert.truthy(err:find("^cnet: " .. s:gsub("%p", "%%%0") .. ":1: "), err)
    code, _, err = cnet_run(tmpdir .. "/missing.lua")
    assert.are.equal(1, code)
    assert.truthy(err:find("^cnet: cannot open"), err)
  end)

  it("exits with the status given to os.exit", function()
    assert.are.equal(3, (cnet_run("-e 'os.exit(3)'")))
  end)

  it("exports CNET_HELLO, the tutorial's web server next to the binary", function()
    local code, out = cnet_run("-e 'io.write(os.getenv(\"CNET_HELLO\") or \"\")'")
    assert.are.equal(0, code)
    assert.truthy(out:find("cnet%-hello$"), out)
    assert.truthy(H.try("test -x " .. q(out)))
  end)
end)

describe("cnet -e, -l, -i and standard input", function()
  it("runs -e chunks in order, before the script", function()
    local s = write(tmpdir .. "/after.lua", "print('script', x)\n")
    local code, out, err = cnet_run("-e 'x = 1' -e 'x = x + 1; print(\"e\", x)' " .. q(s))
    assert.are.equal(0, code, err)
    assert.are.equal("e\t2\nscript\t2\n", out)
  end)

  it("reports an -e error as (command line):LINE and exits 1", function()
    local code, _, err = cnet_run("-e 'local a = 1' -e 'error(\"bad\")'")
    assert.are.equal(1, code)
    assert.are.equal("cnet: (command line):1: bad", err:match("^[^\n]*"))
  end)

  it("requires a module with -l", function()
    local code, out = cnet_run("-l string -e 'print(string == require(\"string\"))'")
    assert.are.equal(0, code)
    assert.are.equal("true\n", out)
  end)

  it("exits 1 naming the module when -l cannot load it", function()
    local code, _, err = cnet_run("-l no_such_module_x -e 'print(1)'")
    assert.are.equal(1, code)
    assert.truthy(err:find("^cnet: module 'no_such_module_x' not found"), err)
  end)

  it("runs standard input as a script when it is not a terminal", function()
    local code, out = cnet_run("", "print('from stdin', cnet ~= nil)\n")
    assert.are.equal(0, code)
    assert.are.equal("from stdin\ttrue\n", out)
    code, out = cnet_run("- a b", "print(...)\n")
    assert.are.equal(0, code)
    assert.are.equal("a\tb\n", out)
  end)

  it("enters the REPL after -e with -i, evaluating what it reads", function()
    local code, out = cnet_run("-e 'x = 21' -i", "x * 2\n{k = 'v'}\n")
    assert.are.equal(0, code)
    assert.truthy(out:find("42\n", 1, true), out)
    assert.truthy(out:find('{ k = "v" }', 1, true), out)
  end)
end)

describe("cnet usage", function()
  it("prints the help on --help and exits 0", function()
    local code, out = cnet_run("--help")
    assert.are.equal(0, code)
    assert.truthy(out:find("^usage: cnet "))
    assert.truthy(out:find("--sandbox", 1, true))
  end)

  it("prints the version on --version and exits 0", function()
    local code, out = cnet_run("--version")
    assert.are.equal(0, code)
    assert.are.equal("cnet " .. cnet.version, out:match("^(cnet %S+)"))
  end)

  it("exits 2 on an unknown option or a missing argument", function()
    local code, out, err = cnet_run("--bogus")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.truthy(err:find("unrecognized option '--bogus'", 1, true))
    assert.truthy(err:find("usage: cnet", 1, true))
    code, _, err = cnet_run("-e")
    assert.are.equal(2, code)
    assert.truthy(err:find("'-e' needs an argument", 1, true))
  end)
end)

describe("cnet --sandbox", function()
  it("has its own hostname and IPC namespace, and leaves the machine's alone", function()
    local host_uts = H.sh("readlink /proc/self/ns/uts")
    local out = H.sh(H.bin .. [[ --sandbox -e 'local f = io.open("/proc/sys/kernel/hostname"); print(f:read("l")); f:close(); os.execute("readlink /proc/self/ns/uts /proc/self/ns/ipc")']])
    local name, uts, ipc = out:match("^(%S+)\n(%S+)\n(%S+)$")
    assert.are.equal("cnet-sandbox", name, out)
    assert.are_not.equal(host_uts, uts)
    assert.are_not.equal(H.sh("readlink /proc/self/ns/ipc"), ipc)
    assert.are_not.equal("cnet-sandbox", H.sh("cat /proc/sys/kernel/hostname"))
  end)

  local function leftovers()
    assert.are.equal("", H.sh("ls -A /run/netns"))
    assert.is_nil(H.iplink("uplink0"))
    assert.is_false((H.try("pgrep -x cnet-hello")))
  end

  it("runs as PID 1 of new namespaces, with CNET_SANDBOX=1 and its own /run/netns", function()
    local code, out, err = cnet_run("--sandbox -e " .. q([[
      local f = io.open("/proc/self/stat"); local pid = f:read("a"):match("^%d+"); f:close()
      print(pid, os.getenv("CNET_SANDBOX"))
      os.execute("readlink /proc/self/ns/net; ip netns list")]]))
    assert.are.equal(0, code, err)
    local pid, flag, netns, list = out:match("^(%d+)\t(%S+)\n(%S+)\n(.*)$")
    assert.are.equal("1", pid)
    assert.are.equal("1", flag)
    assert.are_not.equal(H.sh("readlink /proc/self/ns/net"), netns)
    assert.truthy(list:find("^internet"), list)
    leftovers()
  end)

  it("has an uplink, a default route and a host at 198.51.100.1 answering ping and HTTP", function()
    local code, out, err = cnet_run("--sandbox -e " .. q([[
      print((assert(cnet.ping("198.51.100.1"))))
      local ok, reply = cnet.tcp_connect("198.51.100.1", 80, {send = "GET / HTTP/1.0\r\n\r\n"})
      print(ok, reply)
      os.execute("echo ADDRS; ip -j addr show dev uplink0; echo ROUTES; ip -j route show default;" ..
        "echo INTERNET; ip -n internet -j route show")]]))
    assert.are.equal(0, code, err)
    local rtt, ok, reply, addrs, routes, inet =
      out:match("^(%S+) ms\n(%S+)\t(.-)\nADDRS\n(.-)\nROUTES\n(.-)\nINTERNET\n(.-)\n$")
    assert.truthy(tonumber(rtt), out)
    assert.are.equal("true", ok)
    assert.truthy(reply:find("hello! the time right now is", 1, true), reply)
    local a = H.json(addrs)[1].addr_info
    local found = false
    for _, ai in ipairs(a) do
      if ai["local"] == "203.0.113.2" then found = ai.prefixlen == 24 end
    end
    assert.is_true(found, addrs)
    assert.are.equal("203.0.113.1", H.json(routes)[1].gateway)
    -- The internet knows the uplink's subnet only: no way back to private ranges.
    inet = H.json(inet)
    assert.are.equal(1, #inet)
    assert.are.equal("203.0.113.0/24", inet[1].dst)
    leftovers()
  end)

  it("leaves nothing behind: namespaces, links and processes vanish at exit", function()
    local code, _, err = cnet_run("--sandbox -e " .. q([[
      local ns = cnet.netns.add("cool")
      ns.spawn({"sleep", "300"})
      cnet.spawn({"sleep", "301"})]]))
    assert.are.equal(0, code, err)
    leftovers()
    assert.is_false((H.try("pgrep -f 'sleep 30[01]'")))
  end)

  it("passes the exit status through and keeps the error format", function()
    assert.are.equal(7, (cnet_run("--sandbox -e 'os.exit(7)'")))
    local code, _, err = cnet_run("--sandbox -e 'error(\"inside\")'")
    assert.are.equal(1, code)
    assert.are.equal("cnet: (command line):1: inside", err:match("^[^\n]*"))
    leftovers()
  end)

  it("forwards SIGTERM to the sandbox and exits 128+15", function()
    local out = H.sh(H.bin .. " --sandbox -e 'while true do end' </dev/null >/dev/null 2>&1 & " ..
      "p=$!; sleep 1; kill -TERM $p; wait $p; echo $?")
    assert.are.equal("143", out)
    leftovers()
  end)

  it("runs scripts and the usage checks like the plain forms", function()
    local s = write(tmpdir .. "/sb.lua", "print(..., os.getenv('CNET_SANDBOX'))\n")
    local code, out, err = cnet_run("--sandbox " .. q(s) .. " x")
    assert.are.equal(0, code, err)
    assert.are.equal("x\t1\n", out)
    assert.are.equal(2, (cnet_run("--sandbox --nope")))
  end)
end)
