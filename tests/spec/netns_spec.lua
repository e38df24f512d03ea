-- cnet.netns: named namespaces, interop with iproute2 both ways, handles and their errors.
local cnet = require "cnet"

local function ip_netns_names()
  local names = {}
  for line in H.sh("ip netns list"):gmatch("[^\n]+") do names[#names + 1] = line:match("^(%S+)") end
  table.sort(names)
  return names
end

local function inode(path)
  return H.sh("stat -L -c %i " .. path)
end

describe("cnet.netns.add", function()
  it("creates a namespace that ip netns sees, with only a loopback that is down", function()
    local name = H.name("nsadd")
    local ns <close> = cnet.netns.add(name)
    assert.are.same(name, ns.name)
    assert.are.same("/run/netns/" .. name, ns.path)
    assert.truthy(H.sh("ip netns list"):find(name, 1, true))
    local links = H.ipj("link show", name)
    assert.are.equal(1, #links)
    assert.are.equal("lo", links[1].ifname)
    assert.are.equal("DOWN", links[1].operstate)
    -- a different kernel namespace than the sandbox's own
    assert.are_not.equal(inode("/proc/self/ns/net"), inode("/run/netns/" .. name))
    cnet.netns.delete(name)
  end)

  it("raises EEXIST when the name is taken, and leaves the existing namespace intact", function()
    local name = H.name("nsdup")
    H.sh("ip netns add " .. name)
    local before = inode("/run/netns/" .. name)
    local ok, err = pcall(cnet.netns.add, name)
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    assert.are.equal(17, err.errno)
    assert.are.equal("netns.add", err.op)
    assert.are.equal(name, err.object)
    assert.are.equal("netns.add " .. name .. ": File exists", tostring(err))
    assert.are.equal(before, inode("/run/netns/" .. name))
    H.sh("ip netns del " .. name)
  end)

  it("rejects names that cannot be a file in /run/netns", function()
    for _, bad in ipairs{"", "a/b", ".."} do
      local ok, err = pcall(cnet.netns.add, bad)
      assert.is_false(ok)
      assert.truthy(err.code == "EINVAL" or err.code == "ENAMETOOLONG", tostring(err))
      assert.are.equal("netns.add", err.op)
    end
    assert.has_error(function() cnet.netns.add(("x"):rep(300)) end,
      "bad argument #1 to 'add' (namespace name: too long (300 bytes, at most 255))")
    assert.are.same({}, ip_netns_names())
  end)

  it("raises a type error for a non-string name", function()
    assert.has_error(function() cnet.netns.add({}) end,
      "bad argument #1 to 'add' (namespace name: string expected, got table)")
  end)
end)

describe("a namespace handle's API", function()
  it("is bound part by part on first use, and all of it reaches what the module has", function()
    local ns <close> = cnet.netns.current()
    local api = debug.getuservalue(ns, 1)
    assert.is_nil(rawget(api, "link"))
    assert.is_function(ns.link.add)
    assert.is_table(rawget(api, "link"))
    -- a part binds each function on first use too, and every one before a walk
    assert.are.equal(ns.link.add, rawget(ns.link, "add"))
    assert.is_nil(rawget(ns.link, "list"))
    assert.is_nil(ns.link.no_such_function)
    assert.is_nil(ns.link["add\0"])
    -- what the REPL prints of a part shows all of it, not only what was used
    assert.truthy(cnet.inspect(ns.link):find("delete = function", 1, true), cnet.inspect(ns.link))
    local walked = {}
    for k, v in pairs(ns.link) do walked[k] = type(v) end
    local want = {}
    for k, v in pairs(cnet.link) do want[k] = type(v) end
    assert.are.same(want, walked)
    assert.is_function(rawget(ns.link, "list"))
    assert.are.equal("cnet.api", getmetatable(ns.link).__name)
    assert.is_nil(rawget(api, "addr"))
    assert.is_nil(rawget(api, "ping"))
    assert.is_function(ns.ping)
    assert.is_function(rawget(api, "exec"))  -- bound with ping: one part
    assert.is_nil(ns.no_such_function)
    for k in pairs(cnet) do local _ = ns[k] end
    local n = 0
    for k, v in pairs(api) do -- all but close (the module has none) is the module's too
      n = n + 1
      if k ~= "close" then assert.are.equal(type(cnet[k]), type(v), k) end
    end
    assert.is_true(n >= 14, n .. " names")
  end)
end)

describe("cnet.netns.delete", function()
  it("removes a namespace made by ip netns add", function()
    local name = H.name("nsdel")
    H.sh("ip netns add " .. name)
    cnet.netns.delete(name)
    assert.falsy(H.sh("ip netns list"):find(name, 1, true))
  end)

  it("raises ENOENT for a missing namespace", function()
    local ok, err = pcall(cnet.netns.delete, "no-such-ns")
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("netns.delete no-such-ns: No such file or directory", tostring(err))
  end)
end)

describe("cnet.netns.delete and what it may touch", function()
  local function mounted(dir)
    return H.read("/proc/self/mountinfo"):find(" " .. dir .. " ", 1, true) ~= nil
  end

  it("never follows a symlink: a mount it points at stays, the symlink goes", function()
    local dir = H.sh("mktemp -d /tmp/cnet-nofollow.XXXXXX")
    H.sh("mount -t tmpfs cnet-victim " .. dir .. " && touch " .. dir .. "/keep")
    H.sh("mkdir -p /run/netns && ln -s " .. dir .. " /run/netns/evil")
    cnet.netns.delete("evil")
    assert.is_true(mounted(dir), "the mount the symlink pointed at was unmounted")
    assert.is_true(H.try("test -e " .. dir .. "/keep"))
    assert.is_false(H.try("test -L /run/netns/evil"), "the symlink is still there")
    H.sh("umount " .. dir .. " && rmdir " .. dir)
  end)

  it("also for a symlink to a namespace mounted outside /run/netns", function()
    -- outside /run/netns but inside the sandbox's own /run: /tmp is the machine's, shared
    -- by the plain and sanitizer runs of this spec going on at the same time
    local name = H.name("nsfar")
    local far = "/run/" .. name
    H.sh("touch " .. far .. " && mount --bind /proc/self/ns/net " .. far)
    H.sh("ln -s " .. far .. " /run/netns/" .. name)
    cnet.netns.delete(name)
    assert.are.equal("nsfs", H.sh("stat -f -c %T " .. far))
    H.sh("umount " .. far .. " && rm " .. far)
  end)
end)

describe("a stale entry in /run/netns (its maker died between creating and mounting it)", function()
  -- What a process killed at that moment leaves: the empty mode-0 file, nothing mounted on it.
  local function make_stale(name)
    H.sh(("mkdir -p /run/netns && touch /run/netns/%s && chmod 0 /run/netns/%s"):format(name, name))
  end

  it("is marked stale by netns.list, and namespaces are not", function()
    local stale, live = H.name("stale"), H.name("live")
    make_stale(stale)
    local ns <close> = cnet.netns.add(live)
    local seen = {}
    for _, e in ipairs(cnet.netns.list()) do seen[e.name] = e end
    assert.is_true(seen[stale].stale)
    assert.is_nil(seen[live].stale)
    assert.is_false(cnet.netns.exists(stale))
    cnet.netns.delete(stale)
    cnet.netns.delete(live)
  end)

  it("is reused by netns.add of the same name", function()
    local name = H.name("stale")
    make_stale(name)
    local ns <close> = cnet.netns.add(name)
    assert.are.equal("nsfs", H.sh("stat -f -c %T /run/netns/" .. name))
    local links = H.ipj("link show", name)
    assert.are.equal("lo", links[1].ifname)
    for _, e in ipairs(cnet.netns.list()) do assert.is_nil(e.stale, e.name) end
    cnet.netns.delete(name)
  end)

  it("is removed by netns.delete", function()
    local name = H.name("stale")
    make_stale(name)
    cnet.netns.delete(name)
    assert.is_false(H.try("test -e /run/netns/" .. name))
  end)

  it("does not make a name with a namespace mounted look free", function()
    local name = H.name("taken")
    H.sh("ip netns add " .. name)
    local ok, err = pcall(cnet.netns.add, name)
    assert.is_false(ok)
    assert.are.equal("EEXIST", err.code)
    H.sh("ip netns del " .. name)
  end)
end)

describe("cnet.netns.list", function()
  it("lists what ip netns created and what cnet created, sorted", function()
    local a, b = H.name("lista"), H.name("listb")
    H.sh("ip netns add " .. b)
    local ns <close> = cnet.netns.add(a)
    local names = {}
    for _, e in ipairs(cnet.netns.list()) do
      names[#names + 1] = e.name
      assert.are.equal("/run/netns/" .. e.name, e.path)
    end
    assert.are.same(ip_netns_names(), names)
    cnet.netns.delete(a)
    cnet.netns.delete(b)
    assert.are.same({}, cnet.netns.list())
  end)
end)

describe("cnet.netns.open", function()
  it("opens by name, by path and by pid, reaching the same kernel namespace", function()
    local name = H.name("nsopen")
    H.sh("ip netns add " .. name)
    local byname <close> = cnet.netns.open(name)
    local bypath <close> = cnet.netns.open{path = "/run/netns/" .. name}
    local pid = H.sh("ip netns exec " .. name .. " sh -c 'sleep 30 >/dev/null 2>&1 & echo $!'")
    local bypid <close> = cnet.netns.open{pid = tonumber(pid)}
    assert.is_true(byname == bypath)
    assert.is_true(byname == bypid)
    assert.is_false(byname == cnet.self)
    H.sh("kill " .. pid)
    cnet.netns.delete(name)
  end)

  it("raises for missing names, missing pids and files that are not namespaces", function()
    local ok, err = pcall(cnet.netns.open, "missing")
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("netns.open missing: No such file or directory", tostring(err))
    ok, err = pcall(cnet.netns.open, {pid = 999999})
    assert.is_false(ok)
    assert.are.equal("ESRCH", err.code)
    ok, err = pcall(cnet.netns.open, {path = "/etc/hostname"})
    assert.is_false(ok)
    assert.are.equal("EINVAL", err.code)
    assert.has_error(function() cnet.netns.open{name = "a", pid = 1} end,
      "bad argument #1 to 'open' (give exactly one of name, path, pid)")
    assert.has_error(function() cnet.netns.open{nmae = "a"} end,
      "bad argument #1 to 'open' (unknown option 'nmae')")
  end)
end)

describe("cnet.netns.attach", function()
  it("names a process's namespace like ip netns attach, and detach forgets the name", function()
    local name, src = H.name("att"), H.name("attsrc")
    H.sh("ip netns add " .. src)
    local pid = H.sh("ip netns exec " .. src .. " sh -c 'sleep 30 >/dev/null 2>&1 & echo $!'")
    local ns <close> = cnet.netns.attach(name, tonumber(pid))
    assert.are.equal(inode("/run/netns/" .. src), inode("/run/netns/" .. name))
    assert.truthy(H.sh("ip netns list"):find(name, 1, true))
    cnet.netns.detach(name)
    assert.falsy(H.sh("ip netns list"):find(name .. "\n", 1, true))
    local ok, err = pcall(cnet.netns.attach, name, 999999)
    assert.is_false(ok)
    assert.are.equal("ESRCH", err.code)
    assert.falsy(io.open("/run/netns/" .. name))
    H.sh("kill " .. pid)
    cnet.netns.delete(src)
  end)
end)

describe("a cnet.netns handle", function()
  it("closes idempotently and raises when used after close", function()
    local name = H.name("hclose")
    local ns = cnet.netns.add(name)
    assert.is_false(ns.closed)
    ns:close()
    ns.close()
    assert.is_true(ns.closed)
    assert.are.equal("cnet.netns (closed)", tostring(ns))
    cnet.netns.delete(name)
  end)

  it("prints its name", function()
    local name = H.name("hprint")
    local ns <close> = cnet.netns.add(name)
    assert.are.equal("cnet.netns " .. name, tostring(ns))
    cnet.netns.delete(name)
  end)

  it("does not add globals on require", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded.cnet = nil
    require "cnet"
    for k in pairs(_G) do assert.is_true(before[k], "new global " .. k) end
  end)
end)

describe("a handle's functions called as methods", function()
  -- Every function bound to a handle, with the table it lives in: ns.ping with ns,
  -- ns.link.add with ns.link, ... (close is left out: it would close the handle).
  local function each_function(t, where, out, seen)
    seen = seen or {}
    if seen[t] then return out end
    seen[t] = true
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = t[k]
      if type(v) == "function" and k ~= "close" then
        out[#out + 1] = {name = where .. "." .. k, fn = v, self = t}
      elseif type(v) == "table" and getmetatable(v) and getmetatable(v).__name == "cnet.api" then
        each_function(v, where .. "." .. k, out, seen)
      end
    end
    return out
  end

  -- The outcome of a call, comparable across the two forms (the function's name in an
  -- argument error depends on how it was reached).
  local function outcome(ok, ...)
    if ok then return "ok " .. select("#", ...) end
    return "error " .. tostring((...)):gsub("to '[^']*'", "to 'f'")
  end

  it("behave as with a dot: the handle or the table they come from is dropped", function()
    local name = H.name("meth")
    local ns <close> = cnet.netns.add(name)
    -- a handle binds each part of its API on first use: reach every name the module has
    for k in pairs(cnet) do local _ = ns[k] end
    local fns = each_function(debug.getuservalue(ns, 1), "ns", {}) -- the handle's API table
    -- the handle's own functions (ns.ping, ...) are reached through the handle itself
    local n = 0
    for _, f in ipairs(fns) do
      local self = f.self
      if f.name:match("^ns%.[%w_]+$") then self = ns end
      local dot = outcome(pcall(f.fn))
      local method = outcome(pcall(f.fn, self))
      assert.are.equal(dot, method, f.name)
      n = n + 1
    end
    assert.is_true(n > 30, "found only " .. n .. " functions")
    -- and for real, with arguments
    ns.link:set("lo", {up = true})
    assert.are.equal("lo", ns.link:get("lo").name)
    assert.truthy(tostring(ns:ping("127.0.0.1")):find(" ms$"))
    assert.are.same({}, ns:pids())
    cnet.netns.delete(name)
  end)

  it("refuse another handle's function table with a message saying to use a dot", function()
    local a <close> = cnet.netns.add(H.name("ma"))
    local b <close> = cnet.netns.add(H.name("mb"))
    local ok, err = pcall(a.link.list, b.link)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("call a handle's functions with '.'", 1, true), tostring(err))
    ok, err = pcall(a.ping, cnet, "127.0.0.1")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("call a handle's functions with '.'", 1, true), tostring(err))
    cnet.netns.delete(a)
    cnet.netns.delete(b)
  end)
end)
