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
  local inner = ("%sHOME=%s/home TERM=dumb %s %s"):format(leaks, tmpdir, H.bin, args or "")
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
    local _, out = session{"undefined_fn(", 0.3, "\3", 0.3, "print('after ctrl-c')\n",
      "while true do end\n", 0.5, "\3", 0.3, "print('alive')\n"}
    assert.truthy(has_line(out, "after ctrl-c"), out)
    assert.is_nil(out:find("undefined_fn", 1, true) and out:find("attempt to call", 1, true))
    assert.truthy(out:find("interrupted!", 1, true), out)
    assert.truthy(has_line(out, "alive"), out)
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
    cnet.netns.delete("c1")
  end)

  it("saves the history to ~/.cnet_history and reads it back in the next session", function()
    session{"x = 40 + 2\n", "print('saved ' .. x)\n"}
    local f = assert(io.open(history))
    local saved = f:read("a")
    f:close()
    assert.are.equal("x = 40 + 2\nprint('saved ' .. x)\n", saved)
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
