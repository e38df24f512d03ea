-- The tutorial's recipes (scripts/), each run for real: in this spec's own sandbox (so the
-- kernel's state can be checked afterwards with ip -j), in the tutorial's order, then the
-- cleanup, twice; and each once more alone under `cnet --sandbox`.
local cnet = require "cnet"

local scripts = H.source .. "/scripts/"
local tmpdir = H.sh("mktemp -d /tmp/cnet-recipes-spec.XXXXXX")

local read = H.read

-- Runs `cnet ARGS`; returns the exit status, standard output and standard error.
local function cnet_run(args)
  local out, err = tmpdir .. "/out", tmpdir .. "/err"
  local _, _, code = os.execute(("%s %s </dev/null >%s 2>%s"):format(H.bin, args, out, err))
  return code, read(out), read(err)
end

-- Runs a shell command; returns the exit status, standard output and standard error.
local function cnet_run_in(cmd)
  local out, err = tmpdir .. "/out", tmpdir .. "/err"
  local _, _, code = os.execute(("%s </dev/null >%s 2>%s"):format(cmd, out, err))
  return code, read(out), read(err)
end

local function recipe(name, sandbox)
  local code, out, err = cnet_run((sandbox and "--sandbox " or "") .. scripts .. name)
  assert(code == 0, ("%s exited %s\n--- stdout\n%s\n--- stderr\n%s"):format(name, code, out, err))
  return out
end

local function netns_names()
  local t = {}
  for line in H.sh("ip netns list"):gmatch("[^\n]+") do t[#t + 1] = line:match("^(%S+)") end
  table.sort(t)
  return table.concat(t, " ")
end

local function addr_of(name, ns)
  local l = H.ipj("addr show dev " .. name, ns)[1]
  local out = {}
  for _, a in ipairs(l.addr_info) do
    if a.family == "inet" then out[#out + 1] = a end
  end
  return out
end

local function route(dst, ns)
  for _, r in ipairs(H.ipj("route show", ns)) do
    if r.dst == dst then return r end
  end
end

-- Whether a process whose command line matches pattern runs (anchored, so that the shell
-- running pgrep does not match itself).
-- Live processes only: a killed child stays a zombie until someone reaps it, and the
-- sandbox's PID 1 (busted) reaps nobody.
local function running(pattern)
  return (H.try("pgrep -r R,S,D,T,t -f '^" .. pattern .. "'"))
end

teardown(function() os.execute("rm -rf " .. tmpdir) end)

local recipes = {"01-namespaces-in-the-wild.lua", "02-create-namespace.lua",
  "03-server-in-namespace.lua", "04-veth-and-bridge.lua", "cleanup.lua"}

describe("every recipe", function()
  it("starts with a comment saying what it shows and how to run it in the sandbox", function()
    for _, name in ipairs(recipes) do
      local text = read(scripts .. name)
      assert.truthy(text:find("^%-%- " .. name:gsub("%p", "%%%0") .. ": "), name)
      assert.truthy(text:find("cnet --sandbox scripts/" .. name, 1, true), name)
    end
  end)
end)

describe("the recipes in the tutorial's order, in one namespace", function()
  local bystander = H.name("keep")

  setup(function()
    -- Things the recipes did not make: cleanup.lua must leave them alone.
    H.sh("ip netns add other && ip link add " .. bystander .. " type bridge")
  end)

  teardown(function()
    os.execute("ip netns del other 2>/dev/null; ip link del " .. bystander .. " 2>/dev/null")
  end)

  it("01 reaches a namespace by PID, names it, and leaves nothing", function()
    local out = recipe("01-namespaces-in-the-wild.lua")
    assert.truthy(out:find("eth0@if%d+ <%-> cnet%-veth%-box@if%d+"), out)
    assert.truthy(out:find("ip netns list: [^\n]*ubuntu"), out)
    assert.truthy(out:find("cnet-veth-box disappeared with the container's namespace", 1, true), out)
    assert.are.equal("other", netns_names())
    assert.is_nil(H.iplink("cnet-docker0"))
    assert.is_nil(H.iplink("cnet-veth-box"))
    assert.is_false(running("sleep 600"))
  end)

  it("02 creates cool with only lo, down", function()
    local out = recipe("02-create-namespace.lua")
    assert.truthy(out:find("ok: cool exists", 1, true), out)
    assert.are.equal("cool other", netns_names())
    local links = H.ipj("link show", "cool")
    assert.are.equal(1, #links)
    assert.are.equal("lo", links[1].ifname)
    assert.are.equal("DOWN", links[1].operstate)
  end)

  it("03 is refused from the host, unreachable with lo down, served with lo up", function()
    local out = recipe("03-server-in-namespace.lua")
    assert.truthy(out:find("\n  nil, refused\n", 1, true), out)
    assert.truthy(out:find("\n  nil, unreachable\n", 1, true), out)
    assert.truthy(out:find("\n  hello! the time right now is ", 1, true), out)
    local up = false
    for _, f in ipairs(H.iplink("lo", "cool").flags) do up = up or f == "UP" end
    assert.is_true(up, "lo is up in cool")
    assert.are.equal("", H.sh("ip netns pids cool"))
    assert.is_false(running("[^ ]*cnet-hello"))
  end)

  it("04 builds the veth pair, the bridge, addresses and routes; cool pings the bridge", function()
    local out = recipe("04-veth-and-bridge.lua")
    assert.truthy(out:find("ok: cool pings the bridge 192.168.1.10", 1, true), out)
    local pveth, br = H.iplink("br-veth0"), H.iplink("br0")
    assert.are.equal("br0", pveth.master)
    assert.are.equal("veth", pveth.linkinfo.info_kind)
    assert.are.equal("bridge", br.linkinfo.info_kind)
    local veth0 = H.iplink("veth0", "cool")
    assert.are.equal("veth", veth0.linkinfo.info_kind)
    assert.are.equal(pveth.ifindex, veth0.link_index)
    local a = addr_of("br0")
    assert.are.same({"192.168.1.10", 24, "192.168.1.255"}, {a[1]["local"], a[1].prefixlen, a[1].broadcast})
    a = addr_of("veth0", "cool")
    assert.are.same({"192.168.1.11", 24}, {a[1]["local"], a[1].prefixlen})
    local r = route("192.168.1.0/24")
    assert.are.same({"br0", "kernel", "link", "192.168.1.10"}, {r.dev, r.protocol, r.scope, r.prefsrc})
    r = route("default", "cool")
    assert.are.same({"192.168.1.10", "veth0"}, {r.gateway, r.dev})
  end)

  it("04 run again stops at its first step, naming the object that exists", function()
    local code, _, err = cnet_run(scripts .. "04-veth-and-bridge.lua")
    assert.are.equal(1, code)
    assert.truthy(err:find("^cnet: [^\n]*04%-veth%-and%-bridge%.lua:%d+: link%.add br%-veth0: File exists"), err)
  end)

  it("cleanup removes what the recipes made and nothing else, and is safe to run twice", function()
    -- what 05-forwarding-nat.lua and tldr.lua leave (their table), and a table of someone else
    H.sh("nft add table ip cnet && nft add table ip keepme")
    local out = recipe("cleanup.lua")
    assert.truthy(out:find("nft table ip cnet: deleted", 1, true), out)
    assert.is_false((H.try("nft list table ip cnet")))
    assert.is_true((H.try("nft list table ip keepme")))
    assert.truthy(out:find("br-veth0: deleted", 1, true), out)
    assert.truthy(out:find("br0: deleted", 1, true), out)
    assert.truthy(out:find("cool: 0 process(es) killed, namespace deleted", 1, true), out)
    assert.is_nil(H.iplink("br-veth0"))
    assert.is_nil(H.iplink("br0"))
    assert.are.equal("other", netns_names())
    assert.is_not_nil(H.iplink(bystander))
    out = recipe("cleanup.lua")
    assert.truthy(out:find("br-veth0: not there", 1, true), out)
    assert.truthy(out:find("cool: not there", 1, true), out)
    assert.truthy(out:find("nft table ip cnet: not there", 1, true), out)
    assert.is_true((H.try("nft list table ip keepme")))
    assert.are.equal("other", netns_names())
    assert.is_not_nil(H.iplink(bystander))
  end)
end)

describe("the bridge recipe in a bare namespace", function()
  it("04 works where the veth's two ends get the same ifindex in their namespaces", function()
    -- A nested plain sandbox: br-veth0 and veth0 are both ifindex 2 there.
    local code, out, err = cnet_run_in(H.source .. "/tests/sandbox.sh " .. H.bin .. " " ..
      scripts .. "04-veth-and-bridge.lua")
    assert.are.equal(0, code, out .. err)
    assert.truthy(out:find("\n  2: br%-veth0@if2 "), out)
    assert.truthy(out:find("\n  2: veth0@if2 "), out)
  end)
end)

describe("each recipe alone under cnet --sandbox", function()
  for _, name in ipairs(recipes) do
    it(name .. " succeeds and leaves nothing behind", function()
      local before = H.sh("ip -o link show | wc -l") .. netns_names()
      local out = recipe(name, true)
      if name ~= "cleanup.lua" then assert.truthy(out:find("\nok: "), out) end
      assert.are.equal(before, H.sh("ip -o link show | wc -l") .. netns_names())
      assert.is_false(running("[^ ]*cnet-hello"))
    end)
  end
end)
