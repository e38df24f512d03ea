-- The common shapes of a topology, built from the primitives of model.lua: a container on a
-- bridge, NAT to an uplink, a port forward, a router between subnets, a firewall, a shaped
-- link, a VXLAN overlay across hosts.
local model = require "cnet.topology.model"
local Topology = model.Topology
local fail = model.fail

local function ipv4_network(cidr)
  local a, b, c, d, p = cidr:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/(%d+)$")
  if not a then return nil end
  local n = (tonumber(a) << 24) | (tonumber(b) << 16) | (tonumber(c) << 8) | tonumber(d)
  p = tonumber(p)
  local mask = p == 0 and 0 or ((0xffffffff << (32 - p)) & 0xffffffff)
  n = n & mask
  return ("%d.%d.%d.%d/%d"):format(n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255, p)
end
Topology.ipv4_network = ipv4_network

local function strip(cidr) return (cidr:gsub("/%d+$", "")) end

-- A container: a namespace with loopback up and one veth whose other end is a port of a
-- bridge (or sits alone in the host's namespace), an address and a default route.
--   t:container("c1", {bridge = "br0", addr = "10.0.0.11/24", gw = "10.0.0.1",
--                      addr6 = "2001:db8::11/64", gw6 = "2001:db8::1", ifname = "eth0",
--                      host_ifname = "ve-c1", mtu = 1500, sysctl = {...}})
function Topology:container(name, opts)
  opts = opts or {}
  self:netns(name, {role = "container", sysctl = opts.sysctl})
  local ifname = opts.ifname or "eth0"
  local addrs = {}
  for _, a in ipairs(type(opts.addr) == "table" and opts.addr or {opts.addr}) do addrs[#addrs + 1] = a end
  if opts.addr6 then addrs[#addrs + 1] = opts.addr6 end
  self:link{name = opts.host_ifname or model.ifname("ve-", name), type = "veth",
    master = opts.bridge, netns = opts.netns, mtu = opts.mtu,
    peer = {name = ifname, netns = name, addr = addrs, mtu = opts.mtu, mac = opts.mac}}
  if opts.gw then self:route{netns = name, dst = "default", via = opts.gw} end
  if opts.gw6 then self:route{netns = name, dst = "default", via = opts.gw6, family = "inet6"} end
  return name
end

-- The forward chain of the topology's table in a namespace, created on first use. Its policy
-- is accept unless a firewall says otherwise; a firewall's drop policy comes with rules that
-- keep each bridge of that namespace talking to itself (br_netfilter passes bridged frames
-- through this chain when net.bridge.bridge-nf-call-iptables is 1, as on Docker hosts).
local function forward_chain(t, netns)
  local tab = t:nft_table(netns)
  return model.chain(tab, "forward", {type = "filter", hook = "forward", priority = "filter",
    policy = "accept"})
end

-- NAT to the outside: {subnet = "10.0.0.0/24", out = "uplink0" (optional), netns = nil}.
-- Masquerades what leaves the subnet, lets it be forwarded out and its replies back in, and
-- turns on IPv4 forwarding in that namespace.
function Topology:nat(opts)
  local net = type(opts) == "table" and opts.subnet and ipv4_network(opts.subnet)
  if not net then fail(self, "nat: subnet = \"a.b.c.d/p\" required") end
  local tab = self:nft_table(opts.netns)
  local post = model.chain(tab, "postrouting", {type = "nat", hook = "postrouting",
    priority = "srcnat"})
  local out = opts.out and (" oifname \"" .. opts.out .. "\"") or ""
  post[#post + 1] = ("ip saddr %s ip daddr != %s%s masquerade"):format(net, net, out)
  local fwd = forward_chain(self, opts.netns)
  fwd[#fwd + 1] = ("ip saddr %s%s accept"):format(net, out)
  fwd[#fwd + 1] = ("ip daddr %s ct state established,related accept"):format(net)
  self:sysctl{netns = opts.netns, key = "net.ipv4.ip_forward", value = 1}
end

-- A port forward: {port = 8080, to = "10.0.0.11", to_port = 80, proto = "tcp", netns = nil,
-- addr = "203.0.113.2" or iif = "uplink0"}. Connections to the port (on `addr`, or coming in
-- through `iif`, or, with neither, on any local address: nft's `fib daddr type local`) go to
-- the container's address and port; with `addr`, connections made from the namespace itself
-- to addr:port go there too.
function Topology:port_forward(opts)
  if type(opts) ~= "table" or math.type(opts.port) ~= "integer" or type(opts.to) ~= "string" then
    fail(self, "port_forward: port = N and to = \"address\" required")
  end
  local proto = opts.proto or "tcp"
  local to = strip(opts.to)
  local to_port = opts.to_port or opts.port
  local match = opts.addr and ("ip daddr " .. strip(opts.addr))
    or opts.iif and ("iifname \"" .. opts.iif .. "\"") or "fib daddr type local"
  local tab = self:nft_table(opts.netns)
  local pre = model.chain(tab, "prerouting", {type = "nat", hook = "prerouting", priority = "dstnat"})
  local dnat = ("%s %s dport %d dnat to %s:%d"):format(match, proto, opts.port, to, to_port)
  pre[#pre + 1] = dnat
  if opts.addr then
    local outc = model.chain(tab, "output", {type = "nat", hook = "output", priority = "dstnat"})
    outc[#outc + 1] = dnat
  end
  local fwd = forward_chain(self, opts.netns)
  fwd[#fwd + 1] = ("ip daddr %s %s dport %d accept"):format(to, proto, to_port)
  self:sysctl{netns = opts.netns, key = "net.ipv4.ip_forward", value = 1}
end

-- A router: a namespace with forwarding on and one port per network:
--   t:router("r1", {ports = {{bridge = "br1", addr = "10.1.0.1/24"},
--                            {bridge = "br2", addr = "10.2.0.1/24", ifname = "eth1"}}})
function Topology:router(name, opts)
  self:netns(name, {role = "router", sysctl = {["net.ipv4.ip_forward"] = 1}})
  for i, p in ipairs(opts.ports or {}) do
    local ifname = p.ifname or ("eth" .. (i - 1))
    self:link{name = p.host_ifname or model.ifname("r-", name .. "." .. ifname), type = "veth",
      master = p.bridge, netns = p.netns,
      peer = {name = ifname, netns = name, addr = p.addr}}
  end
  for _, r in ipairs(opts.routes or {}) do
    local spec = {}
    for k, v in pairs(r) do spec[k] = v end
    spec.netns = name
    self:route(spec)
  end
  return name
end

-- A firewall on the forward path of a namespace:
--   t:firewall{netns = "r1", policy = "drop", allow = {"iifname eth0 oifname eth1"}}
-- Each allow line is a rule that accepts; replies of allowed connections are accepted; with a
-- drop policy, traffic between two ports of the same bridge of that namespace stays allowed.
function Topology:firewall(opts)
  local fwd = forward_chain(self, opts.netns)
  fwd.policy = opts.policy or fwd.policy
  local function has(rule) for _, r in ipairs(fwd) do if r == rule then return true end end end
  local est = "ct state established,related accept"
  if not has(est) then table.insert(fwd, 1, est) end
  for _, rule in ipairs(opts.allow or {}) do fwd[#fwd + 1] = rule .. " accept" end
  for _, rule in ipairs(opts.rules or {}) do fwd[#fwd + 1] = rule end
  if fwd.policy == "drop" then
    for _, o in ipairs(self.objects) do
      if o.kind == "link" and o.type == "bridge" and o.ns == opts.netns and o.host == self._host then
        local keep = ("iifname \"%s\" oifname \"%s\" accept"):format(o.name, o.name)
        if not has(keep) then table.insert(fwd, 2, keep) end
      end
    end
    fwd.bridges_kept = true
  end
end

-- A shaped link: {netns=, dev=, rate = "10mbit", delay = "50ms", ...}: the device's root
-- qdisc, made by cnet.tc.shape (tbf for a rate alone, netem with delay or loss).
function Topology:shape(opts)
  if type(opts) ~= "table" or type(opts.dev) ~= "string" then fail(self, "shape: dev required") end
  local spec = {}
  for k, v in pairs(opts) do if k ~= "netns" and k ~= "dev" and k ~= "host" then spec[k] = v end end
  return model.add(self, {kind = "shape", ns = opts.netns, dev = opts.dev, opts = spec, host = opts.host})
end

-- A VXLAN overlay across every host: on each, a VXLAN device with the given VNI, a port of
-- the local `bridge`, flooding to every other host through FDB entries (no multicast needed):
--   t:overlay{vni = 42, bridge = "br0", dev = "vx42", port = 4789}
function Topology:overlay(opts)
  if #self.host_order < 2 then fail(self, "overlay: describe two hosts or more first") end
  local vni = opts.vni
  if math.type(vni) ~= "integer" then fail(self, "overlay: vni = N required") end
  local dev = opts.dev or ("vx" .. vni)
  for _, h in ipairs(self.host_order) do
    local hd = self.hosts[h]
    local hv = self:_on(h)
    hv:link{name = dev, type = "vxlan", id = vni, ["local"] = strip(hd.underlay.addr),
      dev = hd.underlay.dev, dstport = opts.port or 4789, master = opts.bridge,
      mtu = opts.mtu, learning = opts.learning}
    for _, other in ipairs(self.host_order) do
      if other ~= h then
        hv:fdb{dev = dev, mac = "00:00:00:00:00:00", dst = strip(self.hosts[other].underlay.addr),
          append = true}
      end
    end
  end
end

-- The view of one host (as t:host returns it), for helpers that place on every host.
function Topology:_on(h)
  local t = self
  return setmetatable({}, {__index = function(_, k)
    return function(_, ...)
      local saved = t._host
      t._host = h
      local r = table.pack(pcall(Topology[k], t, ...))
      t._host = saved
      if not r[1] then error(r[2], 2) end
      return table.unpack(r, 2, r.n)
    end
  end})
end

return Topology
