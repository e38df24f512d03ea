-- Shared by every spec: where the build is, and an independent view of the kernel through
-- iproute2's JSON output (never through cnet itself).
local H = {}

H.source = os.getenv("CNET_SOURCE_DIR") or "."
H.build = os.getenv("CNET_BUILD_DIR") or "build"
H.bin = os.getenv("CNET_BIN") or (H.build .. "/cnet")

-- Commands run without the sanitizer runtime the ASan spec runs preload into lua5.4: iproute2
-- itself trips ASan (strncpy overlap in print_route), and it is the independent view, not
-- the code under test.
local function shell(cmd)
  return "unset LD_PRELOAD; " .. cmd .. " 2>&1"
end

-- Runs a shell command; returns its stdout (trailing newline removed), and raises if it fails.
function H.sh(cmd)
  local p = assert(io.popen(shell(cmd)))
  local out = p:read("a")
  local ok, _, code = p:close()
  if not ok then error(("command failed (%s): %s\n%s"):format(tostring(code), cmd, out), 2) end
  return (out:gsub("\n$", ""))
end

-- Runs a shell command; returns ok, output (does not raise).
function H.try(cmd)
  local p = assert(io.popen(shell(cmd)))
  local out = p:read("a")
  local ok = p:close()
  return ok == true, out
end

-- Calls fn until it returns a true value, and returns that value; raises, naming `what`, when
-- `seconds` (default 30) pass first. For what the kernel or another process does on its own
-- schedule (a deleted namespace's devices going, a server starting): a test waits for the
-- condition, never for a fixed time, and a generous deadline costs nothing when it is met
-- early. Tries every 20 ms at first, backing off to every 200 ms.
function H.wait_until(fn, what, seconds)
  local deadline = os.time() + (seconds or 30) + 1   -- os.time counts whole seconds
  local pause = 0.02
  while true do
    local v = fn()
    if v then return v end
    if os.time() >= deadline then
      error(("gave up after %d s waiting for %s"):format(seconds or 30, what), 2)
    end
    os.execute(shell(("sleep %.2f"):format(pause)))
    pause = math.min(pause * 2, 0.2)
  end
end

-- A file's whole text, or "" when it cannot be opened.
function H.read(path)
  local f = io.open(path)
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Writes text to path (replacing it) and returns the path.
function H.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- Minimal JSON decoder for `ip -j` / `nft -j` output (objects, arrays, strings, numbers,
-- true/false/null), so specs need no extra library.
function H.json(text)
  local pos = 1
  local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local c = text:sub(i, i)
      if c == '"' then break end
      if c == "\\" then
        local e = text:sub(i + 1, i + 1)
        if e == "u" then
          out[#out + 1] = utf8.char(tonumber(text:sub(i + 2, i + 5), 16)); i = i + 6
        else
          out[#out + 1] = ({n = "\n", t = "\t", r = "\r", b = "\b", f = "\f"})[e] or e; i = i + 2
        end
      else
        out[#out + 1] = c; i = i + 1
      end
    end
    pos = i + 1
    return table.concat(out)
  end
  function value()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      local t = {}; pos = pos + 1; ws()
      if text:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        ws(); local k = str(); ws(); pos = pos + 1 -- ':'
        t[k] = value(); ws()
        local d = text:sub(pos, pos); pos = pos + 1
        if d == "}" then return t end
      end
    elseif c == "[" then
      local t = {}; pos = pos + 1; ws()
      if text:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        t[#t + 1] = value(); ws()
        local d = text:sub(pos, pos); pos = pos + 1
        if d == "]" then return t end
      end
    elseif c == '"' then return str()
    elseif text:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif text:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif text:sub(pos, pos + 3) == "null" then pos = pos + 4; return nil
    else
      local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      pos = pos + #num
      return tonumber(num)
    end
  end
  return value()
end

-- `ip -j ...` in the sandbox's own namespace, or in netns `ns` (a name) when given.
function H.ipj(args, ns)
  local pre = ns and ("ip -n " .. ns .. " -j ") or "ip -j "
  return H.json(H.sh(pre .. args))
end

-- The link named `name` as iproute2 sees it, or nil.
function H.iplink(name, ns)
  local ok, out = H.try((ns and ("ip -n " .. ns) or "ip") .. " -j -d link show dev " .. name)
  if not ok then return nil end
  return H.json(out)[1]
end

-- Runs `lines` (a list of iproute2 commands without the leading `ip`) through one `ip -batch`.
function H.ip_batch(lines)
  local path = os.tmpname()
  H.write(path, table.concat(lines, "\n") .. "\n")
  local ok, out = H.try("ip -batch " .. path)
  os.remove(path)
  assert(ok, out)
end

-- The netlink messages `cmd` sent, as strace sees them leave (every byte of each sendmsg and
-- sendto): a list of {type =, flags =, bytes = {b1, b2, ...}} in order, bytes being the
-- whole message with its header; and cmd's own output. For comparing cnet's requests with
-- iproute2's where the kernel here cannot take them.
function H.netlink_sent(cmd)
  local log = os.tmpname()
  local _, out = H.try(("strace -f -qq -e trace=sendmsg,sendto -e write=all -o %s %s"):format(log, cmd))
  local bufs, cur = {}, nil
  for line in io.lines(log) do
    -- a buffer's dump follows a sendto, or a sendmsg's "* N bytes in buffer I" (one per iov)
    if line:find("bytes in buffer", 1, true) or line:find("sendto(", 1, true) then
      cur = {}
      bufs[#bufs + 1] = cur
    elseif cur and line:match("^ | %x%x%x%x%x  ") then -- " | OFFSET  16 bytes in hex  ascii |"
      for h in line:sub(11, 59):gmatch("%x%x") do cur[#cur + 1] = tonumber(h, 16) end
    end
  end
  os.remove(log)
  local msgs = {}
  for _, b in ipairs(bufs) do
    local i = 1
    while i + 15 <= #b do
      local len = b[i] | b[i + 1] << 8 | b[i + 2] << 16 | b[i + 3] << 24
      if len < 16 or i + len - 1 > #b then break end
      msgs[#msgs + 1] = {type = b[i + 4] | b[i + 5] << 8, flags = b[i + 6] | b[i + 7] << 8,
                         bytes = table.move(b, i, i + len - 1, 1, {})}
      i = i + ((len + 3) & ~3)
    end
  end
  return msgs, out
end

-- Builds tests/spec/support/oomhost (its allocators exported, so that every library's calls
-- reach them) into a new temporary directory and returns it, or nil without a C compiler.
function H.oomhost_build()
  local cc = os.getenv("CC") or "cc"
  if not H.try(cc .. " --version") then return nil end
  local dir = H.sh("mktemp -d")
  H.sh(("%s -rdynamic -o %s/oomhost %s/tests/spec/support/oomhost.c $(pkg-config --cflags --libs lua5.4) -ldl")
    :format(cc, dir, H.source))
  return dir
end

-- Runs tests/spec/support/oomhost (built in dir) on dir/oom.lua with the module at `module`
-- and returns its output; env (optional) is put before the command ("NAME=value ..."). The
-- ASan run's module needs its runtime preloaded, which H.sh leaves out for other programs.
function H.oomhost(dir, module, env)
  local preload = os.getenv("LD_PRELOAD")
  env = (env or "") .. (preload and (" LD_PRELOAD=" .. preload .. " ") or " ")
  return H.sh(("%s%s/oomhost %s %s/oom.lua"):format(env, dir, module, dir))
end

-- Unique names so specs never collide with each other's leftovers.
local counter = 0
function H.name(prefix)
  counter = counter + 1
  return ("%s%d"):format(prefix or "t", counter)
end

-- pcall(fn, ...) must fail and leave the nftables ruleset exactly as it was (nft's view);
-- returns the error.
-- A fresh veth pair named prefix .. "a" / prefix .. "b" (unique), both ends up; returns
-- both names.
function H.veth(prefix)
  local a, b = H.name(prefix .. "a"), H.name(prefix .. "b")
  H.sh(("ip link add %s type veth peer name %s && ip link set %s up && ip link set %s up")
    :format(a, b, a, b))
  return a, b
end

function H.nft_refused(fn, ...)
  local before = H.sh("nft -j list ruleset")
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  assert(before == H.sh("nft -j list ruleset"), "the ruleset changed")
  return err
end

-- Every spec file runs inside tests/sandbox.sh; refuse to touch a real host by mistake.
function H.assert_sandboxed()
  local f = assert(io.open("/proc/self/mountinfo"))
  local info = f:read("a")
  f:close()
  assert(info:find("cnet%-sandbox"), "specs must run inside tests/sandbox.sh")
end

H.assert_sandboxed()
package.loaded["helper"] = H
_G.H = H
return H
