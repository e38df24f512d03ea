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
