-- A picture of the live network, read from the kernel: namespaces as clusters, interfaces as
-- nodes with their addresses, veth pairs as edges across namespaces, bridge ports, VXLAN
-- tunnels between hosts, NAT and port forwards. Written as Graphviz DOT; `dot` turns it into
-- SVG or PNG.
local cnet = require "cnet"
local state = require "cnet.topology.state"

local M = {}

local function q(s)
  return '"' .. tostring(s):gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n") .. '"'
end

local kind_style = {
  bridge = 'shape=box, style="rounded,filled", fillcolor="#cfe2f3"',
  veth = 'shape=box, style="rounded"',
  vxlan = 'shape=box, style="rounded,filled", fillcolor="#fce5cd"',
  macvlan = 'shape=box, style="rounded,filled", fillcolor="#d9ead3"',
  loopback = 'shape=box, style="rounded,dashed"',
}

-- One place's facts: links by index and name, addresses by device, nft tables.
local function read_place(api)
  local p = {links = {}, byindex = {}, addrs = {}, nat = {}}
  for _, l in ipairs(api.link.list()) do
    p.links[#p.links + 1] = l
    p.byindex[l.index] = l
    -- a VXLAN device without one remote floods to the remotes of its FDB's entries (the
    -- overlay's `bridge fdb append 00:00:00:00:00:00 ... dst HOST`): those are its tunnels
    if l.kind == "vxlan" and type(l.info) == "table" and api.fdb then
      local ok, entries = pcall(api.fdb.list, {dev = l.name})
      if ok then
        local seen = {}
        for _, e in ipairs(entries) do
          if e.dst and not seen[e.dst] and e.dst ~= l.info.remote then
            seen[e.dst] = true
            l.info.fdb_dst = l.info.fdb_dst or {}
            table.insert(l.info.fdb_dst, e.dst)
          end
        end
      end
    end
  end
  for _, a in ipairs(api.addr.list()) do
    if a.scope ~= "link" and not (a.dev == "lo" and a.scope == "host") then
      p.addrs[a.dev] = p.addrs[a.dev] or {}
      table.insert(p.addrs[a.dev], a.cidr)
    end
  end
  local ok, tables = pcall(api.nft.list)
  if ok then
    for _, t in ipairs(tables) do
      for _, c in ipairs(t.chains or {}) do
        if c.hook == "forward" and c.policy == "drop" then
          p.nat[#p.nat + 1] = ("%s %s: forward drops by default, %d rules let through"):format(t.family,
            t.name, #(c.rules or {}))
        end
        for _, r in ipairs(c.rules or {}) do
          local text = r.text or ""
          local what
          if text:find("masquerade") then
            what = "masquerade " .. (text:match("ip saddr (%S+)") or "")
          elseif text:find("dnat to") then
            local port = text:match("dport (%d+)") or "?"
            what = "port " .. port .. " -> " .. (text:match("dnat to (%S+)") or "?")
          elseif text:find("snat to") then
            what = "snat " .. (text:match("snat to (%S+)") or "")
          end
          if what then p.nat[#p.nat + 1] = t.family .. " " .. t.name .. ": " .. what end
        end
      end
    end
  end
  return p
end

-- The places to draw: this machine's namespace and every named one, or only those of one
-- topology (its state says which).
local function places(opts)
  local list = {{name = nil, label = opts.host_label or "this machine's namespace"}}
  local only
  if opts.topology then
    local s = state.load(opts.topology)
    if s == nil then error(("graph %s: no such topology"):format(opts.topology), 0) end
    only, list.host_links = {}, {}
    for _, key in ipairs(s.order) do
      local e = s.resources[key]
      if e.r.kind == "netns" then only[e.r.name] = true end
      if e.r.kind == "link" and e.r.ns == nil then list.host_links[e.r.name] = true end
      if e.r.kind == "link" and e.r.peer and e.r.peer.ns == nil then list.host_links[e.r.peer.name] = true end
    end
    list.tag = s.tag
  end
  for _, n in ipairs(cnet.netns.list()) do
    if only == nil or only[n.name] then list[#list + 1] = {name = n.name, label = "netns " .. n.name} end
  end
  return list
end

local function node_id(place, name) return (place or "@") .. "/" .. name end

-- dot{topology = NAME} -> the DOT text.
function M.dot(opts)
  opts = opts or {}
  local ps = places(opts)
  local facts, handles = {}, {}
  for _, pl in ipairs(ps) do
    local api = cnet
    if pl.name then
      local ok, h = pcall(cnet.netns.open, pl.name)
      api = ok and h or nil
      handles[#handles + 1] = api
    end
    if api then facts[#facts + 1] = {place = pl, f = read_place(api)} end
  end
  for _, h in ipairs(handles) do h.close() end

  local out = {"digraph cnet {",
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, compound=true, nodesep=0.3];',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];'}
  local drawn = {}
  local all_addrs = {}  -- address (no prefix) -> node id, to find VXLAN peers
  for i, x in ipairs(facts) do
    local pl, f = x.place, x.f
    out[#out + 1] = ("  subgraph %s {"):format(q("cluster_" .. i))
    out[#out + 1] = ("    label=%s; style=rounded; color=%s;"):format(q(pl.label),
      pl.name and '"#666666"' or '"#1155cc"')
    for _, l in ipairs(f.links) do
      local skip = l.name == "lo" and not f.addrs.lo
      if opts.topology and pl.name == nil and l.alias ~= ps.tag and not ps.host_links[l.name] then
        skip = true -- in this machine's namespace, only what the topology made
      end
      if not skip then
        local id = node_id(pl.name, l.name)
        drawn[id] = true
        local lines = {l.name .. (l.kind and (" (" .. l.kind .. ")") or "")}
        for _, a in ipairs(f.addrs[l.name] or {}) do
          lines[#lines + 1] = a
          all_addrs[a:gsub("/%d+$", "")] = id
        end
        if not l.up then lines[#lines + 1] = "down" end
        local style = kind_style[l.kind or (l.name == "lo" and "loopback") or ""] or 'shape=box, style="rounded"'
        out[#out + 1] = ("    %s [label=%s, %s];"):format(q(id), q(table.concat(lines, "\n")), style)
      end
    end
    if #f.nat > 0 then
      local id = node_id(pl.name, "nft")
      out[#out + 1] = ("    %s [label=%s, shape=note, style=filled, fillcolor=\"#fff2cc\"];"):format(q(id),
        q(table.concat(f.nat, "\n")))
    end
    out[#out + 1] = "  }"
  end
  -- edges: bridge ports, veth pairs (each pair once), VXLAN tunnels
  local paired = {}
  for _, x in ipairs(facts) do
    local pl, f = x.place, x.f
    for _, l in ipairs(f.links) do
      local id = node_id(pl.name, l.name)
      if drawn[id] and l.master then
        local m = node_id(pl.name, l.master)
        if drawn[m] then out[#out + 1] = ("  %s -> %s [dir=none, style=bold, color=\"#3d85c6\"];"):format(q(id), q(m)) end
      end
      if drawn[id] and l.kind == "veth" and l.peer_index and not paired[id] then
        local peer
        if l.peer_netnsid == nil then
          local p = f.byindex[l.peer_index]
          if p then peer = node_id(pl.name, p.name) end
        else
          -- the peer is elsewhere. Indexes are per namespace (every container's eth0 is 2),
          -- so only a named namespace (peer_netns) or, without one, this machine's own
          -- namespace is trusted, and only when the two ends name each other.
          local y
          if l.peer_netns then
            for _, z in ipairs(facts) do if z.place.name == l.peer_netns then y = z end end
          elseif x ~= facts[1] and facts[1].place.name == nil then
            y = facts[1]
          end
          local p = y and y.f.byindex[l.peer_index]
          if p and p.kind == "veth" and p.peer_index == l.index and p.peer_netnsid ~= nil
            and (y.place.name ~= nil or p.peer_netns == x.place.name) then
            peer = node_id(y.place.name, p.name)
          end
        end
        if peer and drawn[peer] then
          paired[id], paired[peer] = true, true
          -- drawn from the leaf towards the bridge it hangs off, so that Graphviz puts
          -- containers on one side and the bridges and uplinks of the host on the other
          local from, to = id, peer
          if l.master or (pl.name ~= nil and peer:sub(1, 2) == "@/") then from, to = peer, id end
          out[#out + 1] = ("  %s -> %s [dir=none, color=\"#444444\"];"):format(q(from), q(to))
        end
      end
    end
  end
  -- devices on a lower device (macvlan, ipvlan, vxlan's dev): the lower one is in the same
  -- place, or (with a namespace id) usually this machine's own namespace
  for _, x in ipairs(facts) do
    for _, l in ipairs(x.f.links) do
      local id = node_id(x.place.name, l.name)
      if drawn[id] and l.kind ~= "veth" and l.link_index then
        local lower
        if l.peer_netnsid == nil then
          local p = x.f.byindex[l.link_index]
          if p then lower = node_id(x.place.name, p.name) end
        elseif x ~= facts[1] and facts[1].place.name == nil then
          local p = facts[1].f.byindex[l.link_index]
          if p then lower = node_id(nil, p.name) end
        end
        if lower and drawn[lower] then
          out[#out + 1] = ("  %s -> %s [dir=none, style=dotted, label=\"on\"];"):format(q(lower), q(id))
        end
      end
    end
  end
  for _, x in ipairs(facts) do
    for _, l in ipairs(x.f.links) do
      local id = node_id(x.place.name, l.name)
      local vx = l.vxlan or l.info
      if drawn[id] and l.kind == "vxlan" and type(vx) == "table" then
        local remotes = {}
        if vx.remote then remotes[#remotes + 1] = vx.remote end
        for _, r in ipairs(vx.fdb_dst or {}) do remotes[#remotes + 1] = r end
        for _, r in ipairs(remotes) do
          local target = all_addrs[r]
          if target then
            out[#out + 1] = ("  %s -> %s [style=dashed, color=\"#e69138\", label=%s];"):format(q(id),
              q(target), q("vxlan " .. tostring(vx.id or "")))
          end
        end
      end
    end
  end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

-- Writes the picture to file: .dot as is, .svg/.png/.pdf through Graphviz's dot.
function M.write(text, file)
  local fmt = file:match("%.(%w+)$")
  if fmt == "dot" or fmt == "gv" then
    local f = assert(io.open(file, "w"))
    f:write(text)
    f:close()
    return
  end
  if fmt ~= "svg" and fmt ~= "png" and fmt ~= "pdf" then
    error("graph: -o FILE must end in .dot, .svg, .png or .pdf", 0)
  end
  if os.execute("command -v dot >/dev/null 2>&1") ~= true then
    error("graph: Graphviz's dot is needed for ." .. fmt .. " (Debian: apt-get install graphviz); "
      .. "-o FILE.dot writes the DOT text without it", 0)
  end
  local p = assert(io.popen("dot -T" .. fmt .. " -o '" .. file:gsub("'", "'\\''") .. "'", "w"))
  p:write(text)
  local ok = p:close()
  if not ok then error("graph: dot failed to write " .. file, 0) end
end

return M
