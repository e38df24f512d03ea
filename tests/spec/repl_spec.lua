-- The REPL of the host binary, driven through a real pseudo-terminal (script(1) from
-- util-linux): expressions printed, tables shown readably, errors reported without leaving,
-- multi-line statements, Ctrl-C, tab completion, and the history file.
local cnet = require "cnet"

local tmpdir = H.sh("mktemp -d /tmp/cnet-repl-spec.XXXXXX")
local history = tmpdir .. "/home/.cnet_history"
H.sh("mkdir -p " .. tmpdir .. "/home")

local write = H.write

-- Types the chunks into `cnet ARGS` on a terminal, pausing between chunks (a string is typed
-- at once; a number is a pause in seconds). Returns the exit status and what the terminal
-- showed, with carriage returns and escape sequences removed.
local function session(chunks, args)
  local parts = {}
  for i, c in ipairs(chunks) do
    if type(c) == "number" then
      parts[#parts + 1] = "sleep " .. c
    else
      parts[#parts + 1] = "cat " .. write(("%s/in%d"):format(tmpdir, i), c)
    end
  end
  parts[#parts + 1] = "sleep 0.3" -- let the last line be handled before end of input
  -- the sanitizer build keeps leak checking on for the host binary
  local leaks = os.getenv("CNET_ASAN") and "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 " or ""
  local inner = ("umask 022; %sHOME=%s/home TERM=dumb %s %s"):format(leaks, tmpdir, H.bin, args or "")
  local cmd = ("(%s) | script -qfec '%s' /dev/null > %s/tty 2>&1"):format(
    table.concat(parts, "; "), inner, tmpdir)
  local _, _, code = os.execute(cmd)
  local f = assert(io.open(tmpdir .. "/tty"))
  local out = f:read("a")
  f:close()
  out = out:gsub("\27%[[%d;?]*[%a~]", ""):gsub("\r", "")
  return code, out
end

-- The lines the REPL printed (everything not echoing input after a prompt).
local function has_line(out, line)
  for l in (out .. "\n"):gmatch("(.-)\n") do
    if l == line then return true end
  end
  return false
end

teardown(function() os.execute("rm -rf " .. tmpdir) end)

-- ---- sessions on a pseudo-terminal, step by step (tests/spec/support/pty_session.py) ----

local python = io.open("/usr/bin/python3") and "/usr/bin/python3" or "python3"
local function hex(text) return (text:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

-- Plays steps against `cnet ARGS` on a terminal: {"send", text}, {"expect", python_regex
-- [, seconds]}, {"screen", python_regex [, seconds]} (matched against all the terminal
-- showed), {"sleep", seconds}. Returns a table: elapsed[n] (seconds from the last send
-- to the match of expect step n, or false when it failed), exit (the status), shown (what
-- the terminal showed), failed (the first failed step or nil).
local function pty_session(args, steps)
  -- a new sandbox may wait while the kernel still frees the last one's namespaces
  if steps[1][1] == "expect" then steps[1][3] = steps[1][3] or 30 end
  local lines = {}
  for _, st in ipairs(steps) do
    if st[1] == "send" then lines[#lines + 1] = "send " .. hex(st[2])
    elseif st[1] == "expect" or st[1] == "screen" then
      lines[#lines + 1] = ("%s %g %s"):format(st[1], st[3] or 10, hex(st[2]))
    else lines[#lines + 1] = "sleep " .. st[2] end
  end
  local input = write(tmpdir .. "/steps", table.concat(lines, "\n") .. "\n")
  local leaks = (os.getenv("CNET_ASAN") and not args:find("--sandbox", 1, true))
    and "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 " or ""
  local _, out = H.try(("umask 022; %sHOME=%s/home TERM=xterm %s %s/tests/spec/support/pty_session.py %s %s < %s")
    :format(leaks, tmpdir, python, H.source, H.bin, args, input))
  local r = {elapsed = {}}
  local head, shown = out:match("^(.-)\ntranscript\n(.*)$")
  r.shown = shown or out
  for line in (head or ""):gmatch("[^\n]+") do
    local n, t = line:match("^ok (%d+) ([%d.]+)$")
    if n then r.elapsed[tonumber(n)] = tonumber(t) end
    local f = line:match("^fail (%d+)$")
    if f then r.failed = tonumber(f); r.elapsed[r.failed] = false end
    r.exit = r.exit or line:match("^exit (%S+)$")
  end
  return r
end

-- text as a Python regular expression that matches it literally
local function re_quote(text)
  return (text:gsub("[%^%$%(%)%.%[%]%*%+%?%{%}%|\\]", "\\%0"))
end

local function assert_played(r)
  assert.is_nil(r.failed, "step " .. tostring(r.failed) .. " failed; the terminal showed:\n" .. r.shown)
end

local PROMPT = "cnet\\[sandbox\\]> $"

describe("the REPL", function()
  before_each(function() os.remove(history) end)

  it("greets, prints expressions, and leaves on end of input with status 0", function()
    local code, out = session{"1 + 2\n", "'a' .. 'b', 42\n"}
    assert.are.equal(0, code)
    assert.truthy(out:find("cnet " .. cnet.version .. " (Lua 5.4", 1, true), out)
    assert.truthy(has_line(out, "3"), out)
    assert.truthy(has_line(out, "ab\t42"), out)
  end)

  it("shows tables readably: nested, keys sorted, arrays compact", function()
    local _, out = session{"{b = {1, 2, 3}, a = 'x', ['k-2'] = true}\n"}
    assert.truthy(has_line(out, '{ a = "x", b = { 1, 2, 3 }, ["k-2"] = true }'), out)
    local _, big = session{"(function() local t = {} for i = 1, 30 do t['key' .. i] = i end " ..
      "return t end)()\n"}
    assert.truthy(has_line(big, "  key1 = 1,"), big)
    assert.truthy(has_line(big, "  key30 = 30,"), big)
  end)

  it("reports an error and keeps going", function()
    local code, out = session{"error('bad thing')\n", "nosuch.field\n", "print('still here')\n"}
    assert.are.equal(0, code)
    assert.truthy(has_line(out, "cnet: stdin:1: bad thing"), out)
    assert.truthy(out:find("attempt to index a nil value (global 'nosuch')", 1, true), out)
    assert.truthy(has_line(out, "still here"), out)
    -- no traceback when it would show only the typed line
    assert.is_nil(out:find("stack traceback", 1, true), out)
  end)

  it("keeps the traceback of an error raised deeper, in a loaded chunk", function()
    local lib = write(tmpdir .. "/lib.lua", "return function() error('deep') end\n")
    local _, out = session{("f = dofile('%s')\n"):format(lib), "f()\n"}
    assert.truthy(out:find("cnet: " .. lib .. ":1: deep", 1, true), out)
    assert.truthy(out:find("stack traceback:", 1, true), out)
  end)

  it("shows a cnet error object with its message", function()
    local _, out = session{"cnet.netns.open('nope')\n", "print('after')\n"}
    assert.truthy(out:find("cnet: stdin:1: netns.open nope: No such file or directory", 1, true), out)
    assert.truthy(has_line(out, "after"), out)
  end)

  it("reads more lines for an incomplete statement", function()
    local _, out = session{"for i = 1, 3 do\n", "  io.write(i, ' ')\n", "end print()\n"}
    assert.truthy(out:find("...> ", 1, true), out)
    assert.truthy(has_line(out, "1 2 3 "), out)
  end)

  it("drops the line being typed on Ctrl-C and interrupts running code", function()
    -- step by step: a Ctrl-C typed before the REPL reads what came before it would flush that
    -- (the terminal drops unread input on Ctrl-C), or reach a REPL still starting
    local r = pty_session("", {
      {"expect", "cnet> $"},
      {"send", "undefined_fn("},
      {"expect", "undefined_fn\\($"},
      {"send", "\3"},
      {"expect", "\\^C\ncnet> $"},
      {"send", "print('after ctrl-c')\r"},
      {"expect", "\nafter ctrl-c\ncnet> $"},
      {"send", "while true do end\r"},
      {"expect", "while true do end\n"},
      {"sleep", 0.5},  -- the loop runs
      {"send", "\3"},
      {"expect", "interrupted!.*\ncnet> $"},
      {"send", "print('alive')\r"},
      {"expect", "\nalive\ncnet> $"},
    })
    assert_played(r)
    assert.is_nil(r.shown:find("attempt to call", 1, true), r.shown)
    assert.are.equal("0", r.exit, r.shown)
  end)

  it("completes cnet's names with TAB, walking tables and namespace handles", function()
    local _, out = session{"cnet.net\t.li\t()\n"}
    assert.truthy(out:find("cnet> cnet.netns.list()", 1, true), out)
    assert.truthy(has_line(out, "{}"), out)
    -- the routing objects' nouns (issue 11) are there too
    _, out = session{"#cnet.nei\t.li\t{state = 'permanent'}\n", "#cnet.ru\t.li\t()\n", "type(cnet.fd\t.app\t)\n"}
    assert.truthy(out:find("#cnet.neigh.list{state = 'permanent'}", 1, true), out)
    assert.truthy(out:find("#cnet.rule.list()", 1, true), out)
    assert.truthy(out:find("type(cnet.fdb.append)", 1, true), out)
    assert.truthy(has_line(out, "function"), out)
    _, out = session{"type(cnet.li\t)\n"}
    assert.truthy(out:find("type(cnet.link)", 1, true), out)
    assert.truthy(has_line(out, "table"), out)
    -- through a namespace handle (a userdata: its API table)
    _, out = session{"h = cnet.netns.add('c1')\n", "h.li\t.li\t()[1].name\n"}
    assert.truthy(out:find("h.link.list()[1].name", 1, true), out)
    assert.truthy(has_line(out, "lo"), out)
    -- a part of a handle's API reached first, before the handle itself was completed
    _, out = session{"h = cnet.netns.open('c1')\n", "h.link.li\t()[1].name\n"}
    assert.truthy(out:find("h.link.list()[1].name", 1, true), out)
    assert.truthy(has_line(out, "lo"), out)
    cnet.netns.delete("c1")
  end)

  it("completes the link functions of issue 11 (link.stats, link.fields)", function()
    local _, out = session{"type(cnet.link.sta\t('lo').rx_bytes)\n", "#cnet.link.fie\t('vxlan') > 0\n"}
    assert.truthy(out:find("type(cnet.link.stats('lo').rx_bytes)", 1, true), out)
    assert.truthy(has_line(out, "number"), out)
    assert.truthy(out:find("#cnet.link.fields('vxlan') > 0", 1, true), out)
    assert.truthy(has_line(out, "true"), out)
  end)

  it("saves the history to ~/.cnet_history and reads it back in the next session", function()
    session{"x = 40 + 2\n", "print('saved ' .. x)\n"}
    local f = assert(io.open(history))
    local saved = f:read("a")
    f:close()
    assert.are.equal("x = 40 + 2\nprint('saved ' .. x)\n", saved)
    -- only its owner may read it, whatever the umask (it holds what was typed)
    assert.are.equal("600", H.sh("stat -c %a " .. history))
    -- Ctrl-P twice recalls the first line of the previous session, Ctrl-P once the second.
    local _, out = session{"\16\16\n", "\16\16\n"}
    assert.truthy(has_line(out, "saved 42"), out)
  end)

  it("starts after a script with -i, seeing its globals", function()
    local s = write(tmpdir .. "/pre.lua", "greeting = 'hi from the script'\n")
    local _, out = session({"greeting\n"}, "-i " .. s)
    assert.truthy(has_line(out, "hi from the script"), out)
  end)
end)

describe("the REPL in cnet --sandbox, on a terminal", function()
  it("shows that it runs in the sandbox, and a Ctrl-C at the prompt drops the line and kills nothing", function()
    local r = pty_session("--sandbox", {
      {"expect", "In a sandbox: .*\n" .. PROMPT},
      {"send", 'pid = cnet.spawn{"sleep", "300"}\r'},
      {"expect", PROMPT},
      {"send", "half a line"},
      {"expect", "half a line$"},   -- read: a Ctrl-C would drop unread input
      {"send", "\3"},
      {"expect", "\\^C\n" .. PROMPT},
      {"screen", "half a line\\^C\n" .. PROMPT},
      {"send", "\3"},
      {"expect", PROMPT},
      -- the spawned sleep and the internet's web server both still run (pgrep is the
      -- independent view: a process killed by the Ctrl-C would be gone or a zombie)
      {"send", 'print("alive", cnet.wait(pid, 0))\r'},
      {"expect", "\nalive\tnil\ttimeout\n" .. PROMPT},
      {"send", 'print("running", os.execute("pgrep -r S -x sleep >/dev/null") and' ..
        ' os.execute("pgrep -r S -x cnet-hello >/dev/null"))\r'},
      {"expect", "\nrunning\ttrue\n" .. PROMPT},
    })
    assert_played(r)
    assert.are.equal("0", r.exit, r.shown)
  end)

  it("interrupts a running call within a fraction of a second and returns to the prompt", function()
    -- each call would run 30 s or more without the interrupt
    local calls = {
      'cnet.ping("203.0.113.9", {timeout = 30})',
      'cnet.traceroute("203.0.113.77", {max_hops = 60, timeout = 1})',
      'cnet.wait(pid)',
      'cnet.exec{"sleep", "60"}',
      'cnet.tcp_connect("127.0.0.1", 9, {retry = 30})',
      'cnet.kill("CONT", {wait = 30, force = true})',
      'while true do end',
      'cnet.batch(function() for i = 1, 1e9 do cnet.link.set("lo", {mtu = 65536}) end end)',
    }
    local steps = {{"expect", PROMPT}, {"send", 'pid = cnet.spawn{"sleep", "300"}\r'}, {"expect", PROMPT}}
    local at = {}
    for _, call in ipairs(calls) do
      steps[#steps + 1] = {"send", call .. "\r"}
      steps[#steps + 1] = {"expect", re_quote(call) .. "\n"}   -- the line was taken
      steps[#steps + 1] = {"sleep", 0.4}                           -- and the call waits
      steps[#steps + 1] = {"send", "\3"}
      steps[#steps + 1] = {"expect", "interrupted", 10}
      at[call] = #steps
      steps[#steps + 1] = {"expect", PROMPT}
    end
    -- two quick Ctrl-C do not end the REPL either
    steps[#steps + 1] = {"send", "cnet.wait(pid)\r"}
    steps[#steps + 1] = {"expect", "cnet\\.wait\\(pid\\)\n"}
    steps[#steps + 1] = {"sleep", 0.3}
    steps[#steps + 1] = {"send", "\3\3"}
    steps[#steps + 1] = {"expect", "interrupted.*\n" .. PROMPT}
    steps[#steps + 1] = {"send", 'print("still here", cnet.wait(pid, 0))\r'}
    steps[#steps + 1] = {"expect", "\nstill here\tnil\ttimeout\n"}
    steps[#steps + 1] = {"expect", PROMPT}   -- Ctrl-D (the end) goes to the prompt
    local r = pty_session("--sandbox", steps)
    assert_played(r)
    for _, call in ipairs(calls) do
      local t = r.elapsed[at[call]]
      assert.truthy(t < 1.0, ("%s: interrupted after %.2f s"):format(call, t))
    end
    assert.truthy(r.shown:find("ping 203.0.113.9: interrupted", 1, true), r.shown)
    assert.truthy(r.shown:find("traceroute 203.0.113.77: interrupted", 1, true), r.shown)
    assert.truthy(r.shown:find("netns.exec sleep: interrupted", 1, true), r.shown)
    assert.are.equal("0", r.exit, r.shown)
  end)

  it("prints what background processes write above the prompt and redraws the line being typed", function()
    local r = pty_session("--sandbox", {
      {"expect", PROMPT},
      {"send", 'cnet.spawn{"sh", "-c", "sleep 0.5; echo from-background; echo and-more >&2"}\r'},
      {"expect", "\n\\d+\n" .. PROMPT},
      {"send", "abc"},
      {"sleep", 1.2},
      -- the lines came out whole, each on a line of its own, and the prompt with the
      -- unfinished line is below them
      {"screen", "\nfrom-background\nand-more\n" .. PROMPT:gsub("%$$", "") .. "abc$"},
      {"send", "\21print('typed ' .. 'after')\r"},
      {"expect", "\ntyped after\n"},
    })
    assert_played(r)
  end)

  it("calls a handle's functions with ':' as with '.', and prints a ping's round trip in ms", function()
    local r = pty_session("--sandbox", {
      {"expect", PROMPT},
      {"send", 'inet = cnet.netns.open("internet")\r'},
      {"expect", PROMPT},
      {"send", 'inet:ping("203.0.113.2")\r'},
      {"expect", "\n\\d+(\\.\\d+)? ms\n" .. PROMPT},   -- 123 ms has no decimals
      {"send", 'inet.link:get("eth0").name, #inet:pids()\r'},
      {"expect", "\neth0\t1\n" .. PROMPT},
      {"send", 'inet:tcp_connect("198.51.100.1", 80)\r'},
      {"expect", "\ntrue\n" .. PROMPT},
    })
    assert_played(r)
  end)
end)
