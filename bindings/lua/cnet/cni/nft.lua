-- cnet.cni.nft: a network's masquerade and port mappings, in one nftables table of its own.
--
-- The table is `inet cnet-NETWORK`; nothing else is ever touched, so it lives beside
-- firewalld's, Docker's or kube-proxy's tables. Every change of an ADD or a DEL is one
-- transaction: the kernel applies all of it or none.
--
--   table inet cnet-NETWORK {
--     set nets4 { type ipv4_addr; flags interval } -- the subnets of its containers with ipMasq
--     set nets6 { type ipv6_addr; flags interval }
--     chain postrouting { type nat hook postrouting priority srcnat
--       ip saddr @nets4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade
--       ip6 saddr @nets6 ip6 daddr != @nets6 ip6 daddr != ff00::/8 masquerade }
--     set local4 { type ipv4_addr }                -- this host's own addresses
--     set local6 { type ipv6_addr }
--     chain prerouting { type nat hook prerouting priority dstnat; jump hostports }
--     chain output { type nat hook output priority dstnat; jump hostports }
--     chain hostports {                            -- one rule per mapping, commented with
--       ip daddr @local4 tcp dport 8080 dnat ip to 10.88.0.5:80 comment "CID/IFNAME"
--       ip daddr 192.0.2.1 tcp dport 8081 dnat ip to 10.88.0.6:80 comment "..." }  -- hostIP
--   }
--
-- A port mapping answers on the host's own addresses only, never on traffic the host
-- forwards. nft says that with `fib daddr type local`, which cnet's rule compiler does not
-- know yet; until it does, the sets local4/local6 hold the host's addresses (loopback and
-- IPv6 link-local ones left out), filled again whenever a mapping is added or removed and by
-- GC; CHECK reports an address the host gained since.
--
-- Masquerade is by subnet, as Docker and podman do it, not by container address: a subnet's
-- element comes with the first container of the network in it and goes with the last one,
-- so most ADDs and DELs leave the table alone. Each change of a table is a commit, and in
-- the kernel every commit's old objects wait for an RCU grace period, which any process
-- closing an nftables socket meanwhile waits for too, holding the commit lock: a storm of
-- 100 DELs of per-container elements took twice as long as one without them.
--
-- What the table should hold is a function of the network's state (its attachments), so it
-- can always be rebuilt from it (`M.rebuild`), and DEL finds a container's port rules by
-- their comment, whether or not the container's namespace still exists.
local cnet = require "cnet"
local ipnet = require "cnet.cni.ipnet"

local M = {}

function M.table(network) return "inet cnet-" .. network end

-- The entries one attachment needs: {nets4 = {...}, nets6 = {...} (its subnets, when it has
-- ipMasq), ports = {rule text, ...}, maps = {...}}, where maps[i] tells CHECK what
-- ports[i] is: {name = "tcp 8080 -> 10.88.0.5:80", l3 = "ip", daddr = "@local4" or the
-- hostIP's bytes, dport = "tcp dport 8080 "}. a = the attachment record: a.ips (CIDR
-- strings, a.nets their subnets as M.subnets gives them), a.masq (boolean), a.ports (port
-- mappings), key = "CID/IFNAME".
function M.entries(a, key)
  local e = {nets4 = {}, nets6 = {}, ports = {}, maps = {}}
  local first = {}
  for _, cidr in ipairs(a.ips or {}) do
    local c = ipnet.cidr(cidr)
    if c then
      local fam = c.family == 4 and "4" or "6"
      first[fam] = first[fam] or ipnet.tostring(c.addr)
    end
  end
  if a.masq then
    for _, net in ipairs(a.nets or M.subnets(a.ips)) do
      table.insert(e[net:find(":", 1, true) and "nets6" or "nets4"], net)
    end
  end
  for _, p in ipairs(a.ports or {}) do
    local fam = p.family
    local target = first[fam]
    if target then
      local parts = {}
      local l3 = fam == "4" and "ip" or "ip6"
      parts[#parts + 1] = l3 .. " daddr " .. (p.hostIP or ("@local" .. fam))
      parts[#parts + 1] = ("%s dport %d"):format(p.protocol, p.hostPort)
      parts[#parts + 1] = fam == "4" and ("dnat ip to %s:%d"):format(target, p.containerPort)
                                      or ("dnat ip6 to [%s]:%d"):format(target, p.containerPort)
      parts[#parts + 1] = ("comment %q"):format(key)
      e.ports[#e.ports + 1] = table.concat(parts, " ")
      e.maps[#e.ports] = {
        name = ("%s %s%d -> %s:%d"):format(p.protocol, p.hostIP and (p.hostIP .. " ") or "",
          p.hostPort, fam == "4" and target or ("[" .. target .. "]"), p.containerPort),
        l3 = l3, daddr = p.hostIP and ipnet.parse(p.hostIP) or ("@local" .. fam),
        dport = ("%s dport %d "):format(p.protocol, p.hostPort)}
    end
  end
  return e
end

-- The host's own addresses, for the local4/local6 sets: {["4"] = {...}, ["6"] = {...}}.
-- `also` (optional, a list of address strings) adds addresses the host is about to have: an
-- ADD fills the sets before it puts the network's gateway on the bridge.
function M.host_addresses(also)
  local out = {["4"] = {}, ["6"] = {}}
  local seen = {}
  local function put(b, text)
    if not seen[b] then
      seen[b] = true
      table.insert(out[#b == 4 and "4" or "6"], text)
    end
  end
  for _, a in ipairs(cnet.addr.list()) do
    local b = ipnet.parse(a.address)
    if b and a.scope ~= "host" and not (#b == 16 and b:byte(1) == 0xfe and b:byte(2) & 0xc0 == 0x80) then
      put(b, a.address)
    end
  end
  for _, text in ipairs(also or {}) do
    local b = ipnet.parse(text)
    if b then put(b, ipnet.tostring(b)) end
  end
  return out
end

local chains = {
  postrouting = {type = "nat", hook = "postrouting", priority = "srcnat",
    "ip saddr @nets4 ip daddr != @nets4 ip daddr != 224.0.0.0/4 masquerade",
    "ip6 saddr @nets6 ip6 daddr != @nets6 ip6 daddr != ff00::/8 masquerade"},
  prerouting = {type = "nat", hook = "prerouting", priority = "dstnat", "jump hostports"},
  output = {type = "nat", hook = "output", priority = "dstnat", "jump hostports"},
}

local function description(network, all, also)
  local sets = {
    nets4 = {type = "ipv4_addr", flags = "interval", elements = {}},
    nets6 = {type = "ipv6_addr", flags = "interval", elements = {}},
    local4 = {type = "ipv4_addr", elements = {}}, local6 = {type = "ipv6_addr", elements = {}},
  }
  local hostports = {}
  local seen = {}
  for _, e in ipairs(all) do
    for _, s in ipairs{"nets4", "nets6"} do
      for _, v in ipairs(e[s]) do
        if not seen[s .. v] then
          seen[s .. v] = true
          table.insert(sets[s].elements, v)
        end
      end
    end
    for _, r in ipairs(e.ports) do hostports[#hostports + 1] = r end
  end
  if #hostports > 0 then
    local own = M.host_addresses(also)
    sets.local4.elements, sets.local6.elements = own["4"], own["6"]
  end
  for _, set in pairs(sets) do
    if #set.elements == 0 then set.elements = nil end
  end
  local ch = {hostports = hostports}
  for k, v in pairs(chains) do ch[k] = v end
  return {table = M.table(network), sets = sets, chains = ch}
end

-- Runs fn (which builds and commits one transaction) again while the kernel refuses it with
-- ERESTART: a transaction that read the ruleset (a set's type) is refused when another
-- process changed the ruleset in between, as parallel ADDs and DELs of a network do.
local function retried(fn, ...)
  for _ = 1, 50 do
    local ok, err = pcall(fn, ...)
    if ok then return err end
    if type(err) ~= "table" or err.code ~= "ERESTART" then error(err, 0) end
  end
  return fn(...)
end

-- Makes the table exactly what the attachments say (attachments: {[key] = record}), in one
-- atomic batch; with no attachment that needs it, deletes the table (if present). `also`:
-- as for M.host_addresses.
function M.rebuild(network, attachments, also)
  local all, any = {}, false
  for key, a in pairs(attachments) do
    local e = M.entries(a, key)
    if #e.nets4 + #e.nets6 + #e.ports > 0 then any = true end
    all[#all + 1] = e
  end
  if not any then
    local ok, err = pcall(cnet.nft.delete_table, M.table(network))
    if not ok and err.code ~= "ENOENT" then error(err, 0) end
    return false
  end
  retried(cnet.nft.apply, description(network, all, also))
  return true
end

-- Queues the local4/local6 sets' new contents (emptied and filled in the same transaction,
-- so no packet sees them empty).
local function refresh_local(tx, T, also)
  local own = M.host_addresses(also)
  for fam, list in pairs(own) do
    tx.flush_set(T .. " local" .. fam)
    if #list > 0 then tx.add_element(T .. " local" .. fam, list) end
  end
end

-- The subnets ("10.88.0.0/16") of addresses `ips` (CIDR strings), each once.
function M.subnets(ips)
  local out, seen = {}, {}
  for _, cidr in ipairs(ips or {}) do
    local c = ipnet.cidr(cidr)
    if c then
      local net = ipnet.tostring(ipnet.network(c.addr, c.prefix)) .. "/" .. c.prefix
      if not seen[net] then seen[net] = true; out[#out + 1] = net end
    end
  end
  return out
end

-- The subnets that the attachments other than `except` need in the table: {[cidr] = true}.
-- ADD keeps an attachment's subnets in its record (a.nets): parsing every record's addresses
-- instead cost 0.5 ms an ADD, under the network's lock, with 100 containers on it.
function M.nets_in_use(attachments, except)
  local used = {}
  for key, a in pairs(attachments) do
    if key ~= except and a.masq then
      for _, v in ipairs(a.nets or M.subnets(a.ips)) do used[v] = true end
    end
  end
  return used
end

-- Adds one attachment's entries in one transaction: its port rules, and its subnets unless
-- `present` (a set of cidr strings, as M.nets_in_use gives) says the table has them. No
-- transaction when there is nothing to add. `made` is whether the table exists already (the
-- state's word); returns true. When the table or a set is missing after all, the caller
-- rebuilds (M.rebuild) instead. `also`: as for M.host_addresses.
local function add(network, key, a, made, also, present)
  local e = M.entries(a, key)
  local nets = {nets4 = {}, nets6 = {}}
  for _, s in ipairs{"nets4", "nets6"} do
    for _, v in ipairs(e[s]) do
      if not (present and present[v]) then table.insert(nets[s], v) end
    end
  end
  if #nets.nets4 + #nets.nets6 + #e.ports == 0 then return made end
  if not made then return nil end
  local T = M.table(network)
  local tx <close> = cnet.nft.transaction()
  for _, s in ipairs{"nets4", "nets6"} do
    if #nets[s] > 0 then tx.add_element(T .. " " .. s, nets[s]) end
  end
  for _, r in ipairs(e.ports) do tx.add_rule(T .. " hostports", r) end
  if #e.ports > 0 then refresh_local(tx, T, also) end
  tx.commit()
  return true
end

-- Removes one attachment's port rules (found by their comment) in one transaction; its
-- subnets stay, the caller knows whether another container needs them (M.nets_in_use).
-- Raises (ENOENT) when something is already missing: the caller then rebuilds.
local function del(network, key, a)
  local e = M.entries(a, key)
  if #e.ports == 0 then return end
  local T = M.table(network)
  local tx <close> = cnet.nft.transaction()
  local comment = ("comment %q"):format(key)
  for _, r in ipairs(cnet.nft.list_rules(T .. " hostports")) do
    if r.text:sub(-#comment) == comment then tx.delete_rule(T .. " hostports", r.handle) end
  end
  refresh_local(tx, T)
  tx.commit()
end

function M.add(network, key, a, made, also, present)
  return retried(add, network, key, a, made, also, present)
end
function M.del(network, key, a) return retried(del, network, key, a) end

-- What is missing from the table for one attachment: a list of findings.
function M.check(network, key, a)
  local e = M.entries(a, key)
  local findings = {}
  if #e.nets4 + #e.nets6 + #e.ports == 0 then return findings end
  local T = M.table(network)
  local ok, sets = pcall(cnet.nft.list_sets, T)
  if not ok then
    findings[1] = ("nftables table %s is missing"):format(T)
    return findings
  end
  local have = {}
  for _, s in ipairs(sets) do
    have[s.name] = {}
    for _, v in ipairs(s.elements) do have[s.name][v] = true end
  end
  for _, s in ipairs{"nets4", "nets6"} do
    for _, v in ipairs(e[s]) do
      local found = false
      for el in pairs(have[s] or {}) do
        local c, n = ipnet.cidr(el), ipnet.cidr(v)
        if c and n and c.prefix <= n.prefix and ipnet.contains(c.addr, c.prefix, n.addr) then found = true end
      end
      if not found then
        findings[#findings + 1] = ("%s is missing from set %s %s (no masquerade)"):format(v, T, s)
      end
    end
  end
  local rules = {}
  for _, r in ipairs(cnet.nft.list_rules(T)) do rules[r.chain .. "\0" .. r.text] = true end
  for name, c in pairs(chains) do
    for _, text in ipairs(c) do
      local canon = text
      if not rules[name .. "\0" .. canon] then
        findings[#findings + 1] = ("rule %q is missing from chain %s %s"):format(canon, T, name)
      end
    end
  end
  -- A mapping is there when a rule of this attachment (by its comment) has its family,
  -- destination and port: the rest of the text is as the kernel gives it back, which CHECK
  -- need not predict (an address is compared as bytes, not as text).
  local comment = ("comment %q"):format(key)
  local mine = {}
  for k in pairs(rules) do
    if k:sub(1, 10) == "hostports\0" and k:sub(-#comment) == comment then mine[#mine + 1] = k:sub(11) end
  end
  for _, m in ipairs(e.maps) do
    local found = false
    for _, text in ipairs(mine) do
      local l3, daddr = text:match("^(ip6?) daddr (%S+) ")
      if l3 == m.l3 and (daddr == m.daddr or ipnet.parse(daddr or "") == m.daddr)
         and text:find(m.dport, 1, true) then
        found = true
        break
      end
    end
    if not found then
      findings[#findings + 1] = ("port mapping %s is missing from chain %s hostports"):format(m.name, T)
    end
  end
  if #e.ports > 0 then
    for fam, list in pairs(M.host_addresses()) do
      for _, addr in ipairs(list) do
        if not (have["local" .. fam] and have["local" .. fam][addr]) then
          findings[#findings + 1] = ("host address %s is missing from set %s local%s (port mappings do not answer on it)")
            :format(addr, T, fam)
        end
      end
    end
  end
  return findings
end

return M
