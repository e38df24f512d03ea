-- cnet under a real container runtime: podman 4 with its CNI backend runs busybox containers
-- from a directory (no image registry) on networks whose plugin is cnet. Everything podman
-- keeps (storage, its run directory, libcni's cache, cnet's state) lives in this spec's
-- tmpfs mounts, inside the spec's sandbox. Checked: run, ping the gateway and a simulated
-- internet (masquerade), rm, nothing left; a long-lived container; two networks side by
-- side, and a container on both.
local D = dofile(H.source .. "/tests/spec/support/cni.lua")

local missing = {}
for _, tool in ipairs{"podman", "runc"} do
  if not H.try("command -v " .. tool) then missing[#missing + 1] = tool end
end
local busybox = io.open("/bin/busybox") and "/bin/busybox"
if not busybox then missing[#missing + 1] = "busybox-static (/bin/busybox)" end

local T = D.tmp .. "/podman"
local env = ""

-- podman with this spec's configuration; returns ok, output (stdout and stderr together).
local function podman(args)
  return H.try(env .. "podman " .. args)
end
local function podman_ok(args)
  local ok, out = podman(args)
  assert(ok, "podman " .. args .. "\n" .. out)
  return out
end

local function network(name, subnet, extra)
  local conf = {cniVersion = "1.0.0", name = name, plugins = {{
    type = "cnet", bridge = name, isGateway = true, ipMasq = true,
    ipam = {type = "cnet", subnet = subnet, routes = {{dst = "0.0.0.0/0"}}},
  }}}
  for k, v in pairs(extra or {}) do conf.plugins[1][k] = v end
  H.write(T .. "/net.d/" .. name .. ".conflist", D.json(conf))
end

setup(function()
  if #missing > 0 then return end
  H.sh("mount -t tmpfs cnet-podman /var/tmp && mount -t tmpfs cnet-podman /etc/cni")
  H.sh(("mkdir -p %s/net.d %s/rootfs/bin %s/rootfs/proc %s/rootfs/sys %s/rootfs/dev " ..
        "%s/rootfs/etc %s/rootfs/tmp %s/storage %s/runroot %s/tmp"):format(T, T, T, T, T, T, T, T, T, T))
  H.sh(("cp %s %s/rootfs/bin/busybox"):format(busybox, T))
  H.sh(("mkdir -p %s/rootfs/www && echo 'hello from a cnet network' > %s/rootfs/www/index.html"):format(T, T))
  for _, c in ipairs{"sh", "ip", "ping", "sleep", "cat", "wget", "httpd"} do
    H.sh(("ln -s busybox %s/rootfs/bin/%s"):format(T, c))
  end
  H.write(T .. "/containers.conf", ([[
[network]
network_backend = "cni"
cni_plugin_dirs = ["%s", "%s"]
network_config_dir = "%s/net.d"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "%s/tmp"
]]):format(D.plugin:match("^(.*)/cnet$"), D.refdir, T, T))
  H.write(T .. "/storage.conf", ([[
[storage]
driver = "vfs"
graphroot = "%s/storage"
runroot = "%s/runroot"
]]):format(T, T))
  env = ("CONTAINERS_CONF=%s/containers.conf CONTAINERS_STORAGE_CONF=%s/storage.conf "):format(T, T)
  D.internet()
  network("cnet1", "10.130.0.0/24")
  network("cnet2", "10.131.0.0/24")
  network("cnet3", "10.132.0.0/24", {capabilities = {portMappings = true}})
end)

-- What a network leaves on the host: its bridge, veths, nft table, leases, attachments.
local function left(name)
  local out = {}
  local links = D.links()
  if links[name] then out[#out + 1] = "bridge " .. name end
  for n in pairs(links) do if n:match("^veth") then out[#out + 1] = "veth " .. n end end
  if D.nft(name) then out[#out + 1] = "nft table inet cnet-" .. name end
  local st = H.read("/var/lib/cni/cnet/" .. name .. "/state.json")
  if st ~= "" then
    local s = H.json(st)
    for ip in pairs(s.leases) do out[#out + 1] = "lease " .. ip end
    for k in pairs(s.attachments) do out[#out + 1] = "attachment " .. k end
  end
  for _, a in ipairs(H.ipj("-4 addr")) do
    for _, i in ipairs(a.addr_info) do
      if i["local"]:match("^10%.13") then out[#out + 1] = "address " .. i["local"] end
    end
  end
  table.sort(out)
  return out
end

local function skip()
  if #missing > 0 then
    pending("podman tests need " .. table.concat(missing, ", ") .. " (README's install line installs them)")
    return true
  end
end

describe("cnet under podman (CNI backend)", function()
  it("runs a container that pings its gateway and the internet, and leaves nothing after rm", function()
    if skip() then return end
    local out = podman_ok("run --rm --network cnet1 --rootfs " .. T .. "/rootfs " ..
      "sh -c 'ip -4 addr show eth0; ip route; ping -c1 -W2 10.130.0.1; ping -c1 -W2 198.51.100.1'")
    assert.truthy(out:find("inet 10.130.0.2/24 brd 10.130.0.255", 1, true), out)
    assert.truthy(out:find("default via 10.130.0.1 dev eth0", 1, true), out)
    assert.truthy(out:find("64 bytes from 10.130.0.1", 1, true), out)
    assert.truthy(out:find("64 bytes from 198.51.100.1", 1, true), out)
    assert.are.same({}, left("cnet1"))
  end)

  it("keeps a long-lived container attached until it is removed", function()
    if skip() then return end
    podman_ok("run -d --name long --network cnet1 --rootfs " .. T .. "/rootfs sleep 600")
    local st = H.json(H.read("/var/lib/cni/cnet/cnet1/state.json"))
    local n, ip = 0, nil
    for addr in pairs(st.leases) do n, ip = n + 1, addr end
    assert.are.equal(1, n)
    assert.are.equal(1, #D.nft("cnet1").sets.nets4)
    local out = podman_ok("exec long ping -c1 -W2 198.51.100.1")
    assert.truthy(out:find("64 bytes from 198.51.100.1", 1, true), out)
    -- a second, short-lived container on the same network meanwhile
    out = podman_ok("run --rm --network cnet1 --rootfs " .. T .. "/rootfs ping -c1 -W2 " .. ip)
    assert.truthy(out:find("64 bytes from " .. ip, 1, true), out)
    assert.are.equal(1, #D.nft("cnet1").sets.nets4) -- the short-lived one's DEL left it
    podman_ok("rm -f -t 0 long")
    assert.are.same({}, left("cnet1"))
  end)

  it("publishes a container's port (podman run -p) on the host's addresses", function()
    if skip() then return end
    podman_ok("run -d --name web -p 8080:80 --network cnet3 --rootfs " .. T .. "/rootfs httpd -f -p 80 -h /www")
    local rules = H.sh("nft list chain inet cnet-cnet3 hostports")
    assert.truthy(rules:find("tcp dport 8080 dnat ip to 10.132.0.2:80", 1, true), rules)
    local inet = require("cnet").netns.open("inet")
    local ok, reply
    for _ = 1, 50 do -- until httpd listens
      ok, reply = inet.tcp_connect("203.0.113.2", 8080, {send = "GET /index.html HTTP/1.0\r\n\r\n", timeout = 1})
      if ok and reply:find("hello", 1, true) then break end
      os.execute("sleep 0.1")
    end
    assert.is_true(ok, tostring(reply))
    assert.truthy(reply:find("hello from a cnet network", 1, true), reply)
    podman_ok("rm -f -t 0 web")
    assert.are.same({}, left("cnet3"))
  end)

  it("runs two networks side by side, and a container on both", function()
    if skip() then return end
    podman_ok("run -d --name a --network cnet1 --rootfs " .. T .. "/rootfs sleep 600")
    podman_ok("run -d --name b --network cnet2 --rootfs " .. T .. "/rootfs sleep 600")
    assert.is_not_nil(D.nft("cnet1"))
    assert.is_not_nil(D.nft("cnet2"))
    assert.are.same({"10.130.0.1/24"}, (function()
      local t = {}
      for _, i in ipairs(H.ipj("-4 addr show dev cnet1")[1].addr_info) do t[#t + 1] = i["local"] .. "/" .. i.prefixlen end
      return t end)())
    local out = podman_ok("run --rm --network cnet1 --network cnet2 --rootfs " .. T .. "/rootfs " ..
      "sh -c 'ip -4 -o addr; ping -c1 -W2 10.130.0.1; ping -c1 -W2 10.131.0.1'")
    assert.truthy(out:find("eth0%s+inet 10%.13[01]%.0%.%d+/24"), out)
    assert.truthy(out:find("eth1%s+inet 10%.13[01]%.0%.%d+/24"), out)
    assert.truthy(out:find("64 bytes from 10.130.0.1", 1, true), out)
    assert.truthy(out:find("64 bytes from 10.131.0.1", 1, true), out)
    podman_ok("rm -f -t 0 a b")
    assert.are.same({}, left("cnet1"))
    assert.are.same({}, left("cnet2"))
  end)
end)
