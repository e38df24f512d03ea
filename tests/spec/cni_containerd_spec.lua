-- cnet under containerd: `ctr run --cni` runs a busybox container from an OCI image made here
-- by hand (a layer tar, its config and manifest, digests computed; imported with
-- `ctr images import`, no registry), on a network whose plugin is cnet. containerd runs as
-- this spec's own daemon: its own configuration, root, state and socket, all in a tmpfs of
-- the spec, inside the spec's sandbox. ctr reads its CNI configuration from /etc/cni/net.d
-- and its plugins from /opt/cni/bin; both are the spec's own tmpfs mounts here.
--
-- What it shows: the container gets its address and route, reaches its gateway and the
-- simulated internet (masquerade); ctr's DEL comes after the container's process is gone,
-- with an empty CNI_NETNS, and leaves nothing behind (veth, bridge, nft table, lease, record).
local D = dofile(H.source .. "/tests/spec/support/cni.lua")

local missing = {}
for _, tool in ipairs{"containerd", "ctr", "containerd-shim-runc-v2", "runc", "tar", "sha256sum"} do
  if not H.try("command -v " .. tool) then missing[#missing + 1] = tool end
end
local busybox = io.open("/bin/busybox") and "/bin/busybox"
if not busybox then missing[#missing + 1] = "busybox-static (/bin/busybox)" end

local T = D.tmp .. "/ctr"              -- everything containerd and ctr keep
local sock = T .. "/containerd.sock"
local log = T .. "/cni.log"             -- one line per plugin call (the wrapper below)
local cgroup = "cnet-ctr-spec-" .. H.sh("echo $PPID")
local image = "docker.io/cnet/busybox:test"
local daemon                            -- containerd's pid

-- ctr against this spec's daemon; returns ok, output (stdout and stderr together).
local function ctr(args)
  return H.try(("TMPDIR=%s/tmp ctr -a %s %s"):format(T, sock, args))
end
local function ctr_ok(args)
  local ok, out = ctr(args)
  assert(ok, "ctr " .. args .. "\n" .. out)
  return out
end

local function sha256(path) return (H.sh("sha256sum " .. path):match("^(%x+)")) end
local function size(path) return tonumber(H.sh("stat -c %s " .. path)) end

-- A blob of the image layout: moved under its digest; returns its descriptor.
local function blob(path, media)
  local digest, n = sha256(path), size(path)
  H.sh(("mv %s %s/oci/blobs/sha256/%s"):format(path, T, digest))
  return {mediaType = media, digest = "sha256:" .. digest, size = n}
end

-- The OCI image tarball: busybox-static and its applet links as one uncompressed layer.
local function make_image()
  local root = T .. "/rootfs"
  H.sh(("mkdir -p %s/bin %s/proc %s/sys %s/dev %s/etc %s/tmp %s/oci/blobs/sha256"):format(
    root, root, root, root, root, root, T))
  H.sh(("cp %s %s/bin/busybox"):format(busybox, root))
  for _, c in ipairs{"sh", "ip", "ping", "sleep", "cat"} do H.sh(("ln -s busybox %s/bin/%s"):format(root, c)) end
  H.sh(("tar -C %s -cf %s/layer.tar ."):format(root, T))
  local diff_id = "sha256:" .. sha256(T .. "/layer.tar")
  local layer = blob(T .. "/layer.tar", "application/vnd.oci.image.layer.v1.tar")
  local machine = H.sh("uname -m")
  local arch = ({x86_64 = "amd64", aarch64 = "arm64", i686 = "386"})[machine] or machine
  H.write(T .. "/config.json", D.json{architecture = arch, os = "linux",
    config = {Env = {"PATH=/bin"}, Cmd = {"sh"}},
    rootfs = {type = "layers", diff_ids = {diff_id}}})
  local config = blob(T .. "/config.json", "application/vnd.oci.image.config.v1+json")
  H.write(T .. "/manifest.json", D.json{schemaVersion = 2,
    mediaType = "application/vnd.oci.image.manifest.v1+json", config = config, layers = {layer}})
  local manifest = blob(T .. "/manifest.json", "application/vnd.oci.image.manifest.v1+json")
  manifest.annotations = {["io.containerd.image.name"] = image,
                          ["org.opencontainers.image.ref.name"] = "test"}
  H.write(T .. "/oci/index.json", D.json{schemaVersion = 2, manifests = {manifest}})
  H.write(T .. "/oci/oci-layout", '{"imageLayoutVersion":"1.0.0"}')
  H.sh(("tar -C %s/oci -cf %s/image.tar oci-layout index.json blobs"):format(T, T))
end

-- /opt/cni/bin for ctr, without touching the machine's /opt: a tmpfs over /opt (this mount
-- namespace only) that links back to what /opt held, so nothing under it goes missing.
local function plugin_dir()
  H.sh(("mkdir -p %s/opt.orig && mount --bind /opt %s/opt.orig && mount -t tmpfs cnet-ctr /opt"):format(T, T))
  H.sh(("for e in %s/opt.orig/*; do [ -e \"$e\" ] && ln -s \"$e\" /opt/; done; true"):format(T))
  H.sh("rm -rf /opt/cni && mkdir -p /opt/cni/bin")
  -- The plugin as ctr runs it, through a wrapper that notes each call's command, namespace
  -- and exit status (the independent record of what the runtime sent).
  H.write("/opt/cni/bin/cnet", ([[#!/bin/sh
unset LD_PRELOAD
%s
rc=$?
echo "$CNI_COMMAND netns=[$CNI_NETNS] id=$CNI_CONTAINERID rc=$rc" >> %s
exit $rc
]]):format(D.plugin, log))
  H.sh("chmod +x /opt/cni/bin/cnet")
end

setup(function()
  if #missing > 0 then return end
  H.sh(("mkdir -p %s && mount -t tmpfs cnet-ctr %s && mkdir -p %s/tmp"):format(T, T, T))
  H.sh("mkdir -p /etc/cni && mount -t tmpfs cnet-ctr /etc/cni && mkdir -p /etc/cni/net.d")
  plugin_dir()
  make_image()
  H.write(T .. "/config.toml", ([[
version = 2
root = "%s/root"
state = "%s/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "%s"
[ttrpc]
  address = "%s.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "%s/opt"
]]):format(T, T, sock, sock, T))
  daemon = H.sh(("TMPDIR=%s/tmp containerd --config %s/config.toml >%s/containerd.log 2>&1 & echo $!"):format(T, T, T))
  local up
  for _ = 1, 100 do
    up = ctr("version")
    if up then break end
    os.execute("sleep 0.1")
  end
  assert(up, "containerd did not start:\n" .. H.read(T .. "/containerd.log"))
  ctr_ok("images import " .. T .. "/image.tar")
  D.internet()
  H.write("/etc/cni/net.d/10-ctr1.conflist", D.json{cniVersion = "1.0.0", name = "ctr1", plugins = {{
    type = "cnet", bridge = "ctr1", isGateway = true, ipMasq = true,
    ipam = {type = "cnet", subnet = "10.140.0.0/24", routes = {{dst = "0.0.0.0/0"}}}}}})
end)

teardown(function()
  if daemon then H.try("kill " .. daemon .. "; sleep 0.2") end
  -- runc made the container's cgroup under our parent in each hierarchy and removed it; the
  -- parent is ours to remove
  H.try(("for d in /sys/fs/cgroup/%s /sys/fs/cgroup/*/%s; do [ -d $d ] && rmdir $d; done; true"):format(cgroup, cgroup))
end)

-- What the network left: its bridge, veths, nft table, leases, records, libcni's cache.
local function left()
  local out = {}
  local links = D.links()
  if links.ctr1 then out[#out + 1] = "bridge ctr1" end
  for n in pairs(links) do if n:match("^veth") then out[#out + 1] = "veth " .. n end end
  if D.nft("ctr1") then out[#out + 1] = "nft table inet cnet-ctr1" end
  local st = H.read("/var/lib/cni/cnet/ctr1/state.json")
  if st ~= "" then
    local s = H.json(st)
    for ip in pairs(s.leases) do out[#out + 1] = "lease " .. ip end
    for k in pairs(s.attachments) do out[#out + 1] = "attachment " .. k end
  end
  local ok, cache = H.try("ls /var/lib/cni/results")
  if ok and cache ~= "" then out[#out + 1] = "libcni cache " .. cache end
  table.sort(out)
  return out
end

describe("cnet under containerd (ctr run --cni)", function()
  it("runs a container that pings its gateway and the internet; ctr's DEL without a namespace leaves nothing", function()
    if #missing > 0 then
      pending("containerd tests need " .. table.concat(missing, ", ") .. " (README's install line installs them)")
      return
    end
    local out = ctr_ok(("run --rm --cni --snapshotter native --cgroup /%s/c1 %s c1 " ..
      "sh -c 'ip -4 addr show eth0; ip route; ping -c1 -W2 10.140.0.1; ping -c1 -W2 198.51.100.1'")
      :format(cgroup, image))
    assert.truthy(out:find("inet 10.140.0.2/24 brd 10.140.0.255", 1, true), out)
    assert.truthy(out:find("default via 10.140.0.1 dev eth0", 1, true), out)
    assert.truthy(out:find("64 bytes from 10.140.0.1", 1, true), out)
    assert.truthy(out:find("64 bytes from 198.51.100.1", 1, true), out)
    assert.falsy(out:find("network review", 1, true), out) -- ctr's complaint when DEL fails
    -- what ctr sent: ADD with the task's namespace, then DEL once the task is gone, with an
    -- empty CNI_NETNS; both succeeded
    local calls = {}
    for line in H.read(log):gmatch("[^\n]+") do
      if not line:match("^VERSION") then calls[#calls + 1] = line end
    end
    assert.are.equal(2, #calls, H.read(log))
    assert.truthy(calls[1]:match("^ADD netns=%[/proc/%d+/ns/net%] id=default%-c1 rc=0$"), calls[1])
    assert.are.equal("DEL netns=[] id=default-c1 rc=0", calls[2])
    assert.are.same({}, left())
    assert.are.equal("", H.sh("nft list ruleset"))
    -- the task and container are gone too (ctr run --rm)
    assert.are.equal("", (ctr_ok("containers ls -q"):gsub("%s+", "")))
  end)

  it("keeps a running container attached while another one comes and goes", function()
    if #missing > 0 then return pending("containerd tests need " .. table.concat(missing, ", ")) end
    H.write(log, "")
    -- a: a long-lived container (ctr run waits for it, in the background)
    local a = H.sh(("TMPDIR=%s/tmp ctr -a %s run --rm --cni --snapshotter native --cgroup /%s/a %s a sleep 60 " ..
      ">%s/a.out 2>&1 & echo $!"):format(T, sock, cgroup, image, T))
    local st
    for _ = 1, 100 do
      st = H.read("/var/lib/cni/cnet/ctr1/state.json")
      if H.read(log):find("ADD", 1, true) then break end
      os.execute("sleep 0.1")
    end
    assert.truthy(H.read(log):find("ADD netns=[/proc/", 1, true), H.read(log) .. H.read(T .. "/a.out"))
    st = H.json(H.read("/var/lib/cni/cnet/ctr1/state.json"))
    local ip = next(st.leases)
    assert.is_not_nil(ip)
    -- b pings a, and goes
    local out = ctr_ok(("run --rm --cni --snapshotter native --cgroup /%s/b %s b ping -c1 -W2 %s"):format(cgroup, image, ip))
    assert.truthy(out:find("64 bytes from " .. ip, 1, true), out)
    -- b's DEL (no namespace) took b's entries only: a keeps its lease, record and masquerade
    st = H.json(H.read("/var/lib/cni/cnet/ctr1/state.json"))
    assert.are.same({ip}, (function() local t = {} for k in pairs(st.leases) do t[#t + 1] = k end return t end)())
    assert.is_not_nil(st.attachments["default-a/eth0"])
    assert.are.equal(1, #D.nft("ctr1").sets.nets4)
    assert.is_not_nil(D.links().ctr1)
    -- a stops: its DEL, without a namespace too, removes the rest
    ctr_ok("task kill -s KILL a")
    -- (the backgrounded ctr is an orphan: once done it stays a zombie of the sandbox's init)
    local function running()
      local stat = H.read("/proc/" .. a .. "/stat")
      return stat ~= "" and not stat:match("^%d+ %b() [ZX]")
    end
    for _ = 1, 100 do
      if not running() then break end
      os.execute("sleep 0.1")
    end
    assert.is_false(running(), H.read(T .. "/a.out"))
    assert.truthy(H.read(log):find("DEL netns=[] id=default-a rc=0", 1, true), H.read(log))
    assert.truthy(H.read(log):find("DEL netns=[] id=default-b rc=0", 1, true), H.read(log))
    assert.are.same({}, left())
  end)
end)
