-- ptp: a veth pair, the container end with an address from IPAM, a host route to it.
local cnet = require "cnet"
local cni = require "cnet.cni"
local ipam = require "cnet.cni.ipam"
local state = require "cnet.cni.state"

local R = {keys = {ipam = "object"}}

local function host_name(ctx) return "p" .. ctx.id:sub(1, 10) .. ctx.ifname:sub(-3) end

function R.add(ctx)
  local st <close> = cni.open_state(ctx)
  local r = ipam.add(ctx, st)
  local ns <close> = cnet.netns.open{path = ctx.netns}
  local host = host_name(ctx)
  cnet.link.add{name = host, type = "veth", up = true, peer = {name = ctx.ifname, netns = ns}}
  ns.link.set(ctx.ifname, {up = true})
  local ips = {}
  for i, ip in ipairs(r.ips) do
    ns.addr.add(ctx.ifname, ip.address)
    cnet.route.add{dst = (ip.address:gsub("/%d+$", "")), dev = host}
    ips[i] = {address = ip.address, interface = 1}
  end
  st.data.attachments[state.key(ctx.id, ctx.ifname)] = {host = host}
  st:save()
  return {interfaces = {{name = host}, {name = ctx.ifname, sandbox = ctx.netns}},
          ips = ips, routes = r.routes, dns = r.dns}
end

function R.del(ctx)
  local st <close> = cni.open_state(ctx)
  pcall(cnet.link.delete, host_name(ctx)) -- gone already when the namespace went
  ipam.del(ctx, st)
  st.data.attachments[state.key(ctx.id, ctx.ifname)] = nil
  st:save()
end

return R
