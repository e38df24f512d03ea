-- cnet driven by libcni, the reference runtime library (podman, containerd and CRI-O call
-- plugins through it): a small Go program (tests/spec/support/libcni/main.go, built offline
-- from Debian's golang-github-appc-cni-dev) adds, checks and deletes configuration lists.
-- libcni parses every result with its own types, caches it, and passes it back as
-- prevResult for CHECK and DEL, so these specs also prove cnet's results valid for the
-- spec's versions, and usable by the reference plugins chained after it.
local D = dofile(H.source .. "/tests/spec/support/cni.lua")

teardown(function() os.execute("rm -rf " .. D.tmp) end)

local gopath = "/usr/share/gocode"
local why_not
if not H.try("command -v go") then
  why_not = "go is not installed (golang-go)"
elseif not io.open(gopath .. "/src/github.com/containernetworking/cni/libcni/api.go") then
  why_not = "libcni is not installed (golang-github-appc-cni-dev)"
elseif not io.open(D.refdir .. "/portmap") then
  why_not = "the reference plugins are not installed (containernetworking-plugins)"
end

local driver = H.build .. "/libcni-driver/libcni"
local plugins = D.tmp .. "/plugins"

setup(function()
  if why_not then return end
  -- Built once per build tree (offline: GOPATH mode on Debian's sources), then reused; made
  -- under a temporary name so two spec runs at once never see half a binary.
  if not io.open(driver) then
    local dir = H.build .. "/libcni-driver"
    H.sh(("mkdir -p %s && cd %s/tests/spec/support/libcni && GO111MODULE=off GOPATH=%s " ..
          "GOCACHE=%s/gocache GOFLAGS= go build -o %s/libcni.$$ . && mv %s/libcni.$$ %s")
      :format(dir, H.source, gopath, dir, dir, dir, driver))
  end
  H.sh("mkdir -p " .. plugins)
  H.sh(("ln -s %s %s/cnet"):format(D.plugin, plugins))
  for _, p in ipairs{"portmap", "tuning", "loopback"} do
    H.sh(("ln -s %s/%s %s/%s"):format(D.refdir, p, plugins, p))
  end
end)

local function skip()
  if why_not then pending(why_not) return true end
end

-- libcni COMMAND on the list `conf` (a table), container `id` in namespace `id`.
local function libcni(command, conf, id, runtime)
  local f = H.write(("%s/%s.conflist"):format(D.tmp, conf.name), D.json(conf))
  return H.try(("unset LD_PRELOAD; %s %s %s %s %s/cache %s /run/netns/%s %s"):format(
    driver, command, f, plugins, D.tmp, id, id, runtime and D.q(D.json(runtime)) or ""))
end

local function list(name, version, subnet, more)
  local first = D.conf(name, subnet)
  first.cniVersion, first.name = nil, nil
  local l = {cniVersion = version, name = name, plugins = {first}}
  for _, p in ipairs(more or {}) do l.plugins[#l.plugins + 1] = p end
  return l
end

describe("cnet under libcni", function()
  it("reports its versions to libcni", function()
    if skip() then return end
    local out = H.sh(("unset LD_PRELOAD; %s version %s cnet"):format(driver, plugins))
    local v = H.json(out)
    assert.are.same({"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}, v)
  end)

  for _, version in ipairs{"0.4.0", "1.0.0"} do
    it("adds, checks and deletes a " .. version .. " list; libcni parses and caches the result", function()
      if skip() then return end
      local id = "lc" .. version:gsub("%.", "")
      H.sh("ip netns add " .. id)
      local conf = list("lc" .. version:gsub("%.", ""), version, "10.160.0.0/24")
      local ok, out = libcni("add", conf, id)
      assert.is_true(ok, out)
      local r = H.json(out)
      assert.are.equal(version, r.cniVersion)
      assert.are.equal("10.160.0.2/24", r.ips[1].address)
      ok, out = libcni("check", conf, id)
      assert.is_true(ok, out)
      -- drift, seen through libcni's CHECK
      H.sh("ip -n " .. id .. " route del default")
      ok, out = libcni("check", conf, id)
      assert.is_false(ok)
      assert.truthy(out:find("route 0.0.0.0/0 is missing from the container", 1, true), out)
      ok, out = libcni("del", conf, id)
      assert.is_true(ok, out)
      assert.is_nil(D.links(id).eth0)
      assert.are.equal(0, D.count(D.state(conf.name).leases))
      ok, out = libcni("del", conf, id) -- again: libcni has no cached result now
      assert.is_true(ok, out)
    end)
  end

  it("hands its result to the reference plugins chained after it (tuning, portmap)", function()
    if skip() then return end
    H.sh("ip netns add lcchain")
    local conf = list("lcchain", "1.0.0", "10.161.0.0/24", {
      {type = "tuning", sysctl = {["net.ipv4.conf.eth0.rp_filter"] = "2"}},
      {type = "portmap", capabilities = {portMappings = true}, snat = false},
    })
    local ok, out = libcni("add", conf, "lcchain",
      {portMappings = {{hostPort = 8088, containerPort = 80, protocol = "tcp"}}})
    assert.is_true(ok, out)
    local r = H.json(out)
    assert.are.equal("10.161.0.2/24", r.ips[1].address)
    -- tuning found eth0 in the container through cnet's result, portmap its address
    assert.are.equal("2", H.sh("ip netns exec lcchain cat /proc/sys/net/ipv4/conf/eth0/rp_filter"))
    local nat = H.sh("iptables-save -t nat")
    assert.truthy(nat:find("10.161.0.2:80", 1, true), nat)
    -- (no CHECK of this list: portmap 1.1.1's own CHECK fails without IPv6, looking for an
    -- ip6tables chain it never made)
    ok, out = libcni("del", conf, "lcchain", {portMappings = {{hostPort = 8088, containerPort = 80, protocol = "tcp"}}})
    assert.is_true(ok, out)
    assert.is_nil(H.sh("iptables-save -t nat"):find("10.161.0.2:80", 1, true))
    assert.is_nil(D.nft("lcchain"))
  end)
end)
