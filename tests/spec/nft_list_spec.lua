-- cnet.nft listings: tables, chains, rules (handles, counters, text), sets, and the nested
-- list(); compared with the kernel's view through `nft -j`.
local cnet = require "cnet"
local nft = cnet.nft

local function nft_items(args)
  local out = {}
  for _, item in ipairs(H.json(H.sh("nft -j " .. args)).nftables) do
    local kind, obj = next(item)
    if kind ~= "metainfo" then
      out[#out + 1] = obj
      obj.kind = kind
    end
  end
  return out
end

local function by(list, field, kind)
  local out = {}
  for _, x in ipairs(list) do
    if kind == nil or x.kind == kind then out[x[field]] = x end
  end
  return out
end

describe("cnet.nft listings", function()
  setup(function()
    H.sh("nft add table ip ls; nft add table inet ls2")
    H.sh("nft add chain ip ls input '{ type filter hook input priority 10; policy accept; }'")
    H.sh("nft add chain ip ls post '{ type nat hook postrouting priority srcnat; }'")
    H.sh("nft add chain ip ls plain")
    H.sh("nft add rule ip ls input iifname lo accept")
    H.sh("nft add rule ip ls input counter accept")
    H.sh("nft add rule ip ls post ip saddr 192.168.1.0/24 masquerade")
    H.sh("nft add set ip ls addrs '{ type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.0.2.1, 198.51.100.10-198.51.100.20 }; }'")
    H.sh("nft add set ip ls ports '{ type inet_service; elements = { 22, 80, 443 }; }'")
    H.sh("nft add set ip ls names '{ type ifname; elements = { \"eth0\", \"br0\" }; }'")
  end)
  teardown(function()
    H.sh("nft delete table ip ls; nft delete table inet ls2")
  end)

  it("list_tables gives every table with family, name and handle", function()
    local mine = {}
    for _, t in ipairs(nft.list_tables()) do mine[t.family .. " " .. t.name] = t.handle end
    for _, t in ipairs(nft_items("list tables")) do
      assert.are.equal(t.handle, mine[t.family .. " " .. t.name])
    end
    assert.truthy(mine["ip ls"] and mine["inet ls2"])
    local only = nft.list_tables("inet")
    assert.are.equal(1, #only)
    assert.are.equal("ls2", only[1].name)
  end)

  it("list_chains gives base chains with type, hook, priority and policy", function()
    local chains = by(nft.list_chains("ip ls"), "name")
    local kernel = by(nft_items("list table ip ls"), "name", "chain")
    for _, name in ipairs{"input", "post", "plain"} do
      assert.are.equal(kernel[name].handle, chains[name].handle)
      assert.are.equal(kernel[name].type, chains[name].type)
      assert.are.equal(kernel[name].hook, chains[name].hook)
      assert.are.equal(kernel[name].prio, chains[name].priority)
      assert.are.equal(kernel[name].policy, chains[name].policy)
    end
    assert.are.equal(10, chains.input.priority)
    assert.are.equal(100, chains.post.priority)
    assert.is_nil(chains.plain.hook)
    assert.are.equal(1, #nft.list_chains("ip ls post"))
  end)

  it("list_rules gives handles, text and counters in chain order", function()
    local rules = nft.list_rules("ip ls input")
    local kernel = {}
    for _, x in ipairs(nft_items("list chain ip ls input")) do
      if x.kind == "rule" then kernel[#kernel + 1] = x end
    end
    assert.are.equal(2, #rules)
    for i = 1, 2 do assert.are.equal(kernel[i].handle, rules[i].handle) end
    assert.are.equal('iifname "lo" accept', rules[1].text)
    assert.is_nil(rules[1].counter)
    assert.is_table(rules[2].counter)
    assert.truthy(rules[2].text:find("^counter packets %d+ bytes %d+ accept$"), rules[2].text)
    assert.are.equal("ls", rules[1].table)
    assert.are.equal("input", rules[1].chain)
    local post = nft.list_rules("ip ls post")
    assert.are.equal("ip saddr 192.168.1.0/24 masquerade", post[1].text)
    assert.are.equal(3, #nft.list_rules("ip ls"))
  end)

  it("counts the traffic that crossed a rule, as the kernel does", function()
    -- traffic from a namespace of our own: a veth pair, TCP SYNs to a closed port
    local name = H.name("lsns")
    local ns <close> = cnet.netns.add(name)
    H.sh("ip link add lsv0 type veth peer name lsv1 netns " .. name)
    H.sh("ip addr add 10.77.0.1/24 dev lsv0 && ip link set lsv0 up")
    H.sh("ip -n " .. name .. " addr add 10.77.0.2/24 dev lsv1 && ip -n " .. name ..
         " link set lsv1 up && ip -n " .. name .. " link set lo up")
    nft.add_chain("ip ls count", {type = "filter", hook = "input", priority = 0})
    nft.add_rule("ip ls count", "ip saddr 10.77.0.2 counter accept")
    for _ = 1, 3 do
      H.try("ip netns exec " .. name .. " timeout 3 bash -c 'echo > /dev/tcp/10.77.0.1/9' ")
    end
    local mine = nft.list_rules("ip ls count")[1]
    local kernel
    for _, x in ipairs(nft_items("list chain ip ls count")) do
      if x.kind == "rule" then kernel = x end
    end
    local kc = kernel.expr[#kernel.expr - 1].counter
    assert.truthy(mine.counter.packets >= 3, mine.counter.packets)
    assert.are.equal(kc.packets, mine.counter.packets)
    assert.are.equal(kc.bytes, mine.counter.bytes)
    assert.truthy(mine.text:find("counter packets " .. kc.packets .. " bytes " .. kc.bytes, 1, true))
    nft.delete_chain("ip ls count")
    H.sh("ip link del lsv0")
    cnet.netns.delete(name)
  end)

  it("list_sets gives typed sets with their elements in nft's notation", function()
    local sets = by(nft.list_sets("ip ls"), "name")
    assert.are.equal("ipv4_addr", sets.addrs.type)
    assert.are.same({"interval"}, sets.addrs.flags)
    assert.are.same({"10.0.0.0/8", "192.0.2.1", "198.51.100.10-198.51.100.20"}, sets.addrs.elements)
    assert.are.equal("inet_service", sets.ports.type)
    assert.are.same({}, sets.ports.flags)
    assert.are.same({"22", "80", "443"}, sets.ports.elements)
    assert.are.equal("ifname", sets.names.type)
    assert.are.same({'"br0"', '"eth0"'}, sets.names.elements)
    local kernel = by(nft_items("list sets"), "name", "set")
    assert.are.equal(kernel.addrs.handle, sets.addrs.handle)
    assert.are.equal(1, #nft.list_sets("ip ls ports"))
  end)

  it("list nests chains with their rules, and sets, under each table", function()
    local all = nft.list()
    local t = by(all, "name").ls
    assert.are.equal("ip", t.family)
    local chains = by(t.chains, "name")
    assert.are.equal(2, #chains.input.rules)
    assert.are.equal(1, #chains.post.rules)
    assert.are.equal(0, #chains.plain.rules)
    assert.are.equal(3, #t.sets)
    assert.are.equal(0, #by(all, "name").ls2.chains)
    assert.are.equal(1, #nft.list("inet"))
    assert.are.equal(1, #nft.list("ip ls"))
  end)

  it("lists inside another namespace", function()
    local name = H.name("lsns")
    local ns <close> = cnet.netns.add(name)
    assert.are.same({}, ns.nft.list_tables())
    H.sh("ip netns exec " .. name .. " nft add table ip6 inside")
    local t = ns.nft.list_tables()
    assert.are.equal(1, #t)
    assert.are.equal("ip6", t[1].family)
    assert.are.equal("inside", t[1].name)
    cnet.netns.delete(name)
  end)
end)
