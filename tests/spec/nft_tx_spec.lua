-- cnet.nft transactions and one-shot commands: one atomic batch per commit, checked against
-- the kernel's own view (`nft -j`).
local cnet = require "cnet"
local nft = cnet.nft

local function rules(tbl, chain)
  local out = {}
  for _, item in ipairs(H.json(H.sh("nft -j list chain " .. tbl .. " " .. chain)).nftables) do
    if item.rule then out[#out + 1] = item.rule end
  end
  return out
end

-- the interface name each rule of the chain matches on (rules like "iifname X accept")
local function names(tbl, chain)
  local out = {}
  for _, r in ipairs(rules(tbl, chain)) do out[#out + 1] = r.expr[1].match.right end
  return out
end

local function has_table(spec)
  return (H.try("nft list table " .. spec))
end

describe("cnet.nft.transaction", function()
  it("commits every command in one batch", function()
    local tx <close> = nft.transaction()
    tx.add_table("ip tx1")
    tx.add_chain("ip tx1 fw", {type = "filter", hook = "forward", priority = -10, policy = "drop"})
    tx.add_rule("ip tx1 fw", "iifname a1 accept")
    tx:add_rule("ip tx1 fw", "iifname a2 accept") -- the method form works too
    assert.are.equal(4, tx.count())
    assert.is_false(has_table("ip tx1")) -- nothing is sent before commit
    tx.commit()
    assert.are.same({"a1", "a2"}, names("ip tx1", "fw"))
    local chain = H.json(H.sh("nft -j list chain ip tx1 fw")).nftables[2].chain
    assert.are.equal(-10, chain.prio)
    assert.are.equal("drop", chain.policy)
    H.sh("nft delete table ip tx1")
  end)

  it("applies nothing when the kernel refuses one command, and names that command", function()
    H.sh("nft add table ip tx2; nft add chain ip tx2 fw '{ type filter hook forward priority 0; }'")
    H.sh("nft add rule ip tx2 fw iifname x0 accept")
    local before = H.sh("nft -j list ruleset")
    local tx <close> = nft.transaction()
    tx.add_table("ip tx2new")
    tx.add_rule("ip tx2 fw", "iifname x1 accept")
    tx.add_rule("ip tx2 fw", "ip saddr 10.0.0.0/8 masquerade") -- refused: not a nat chain
    tx.add_rule("ip tx2 fw", "iifname x2 accept")
    local ok, err = pcall(tx.commit)
    assert.is_false(ok)
    assert.are.equal("EOPNOTSUPP", err.code)
    assert.are.equal("nft.add", err.op)
    assert.are.equal('rule ip tx2 fw "ip saddr 10.0.0.0/8 masquerade"', err.object)
    assert.truthy(tostring(err):find('^nft.add rule ip tx2 fw "ip saddr 10.0.0.0/8 masquerade": '))
    assert.truthy(err.where:find("nft_tx_spec.lua:%d+:"), err.where) -- the line that queued it
    assert.are.equal(before, H.sh("nft -j list ruleset"))
    H.sh("nft delete table ip tx2")
  end)

  it("names the refused command in a batch of thousands, and applies none of it", function()
    H.sh("nft add table ip big; nft add chain ip big c '{ type filter hook input priority 0; }'")
    local before = H.sh("nft -j list ruleset")
    local tx <close> = nft.transaction()
    for i = 1, 3000 do tx.add_rule("ip big c", ("ip saddr 10.%d.%d.1 accept"):format(i // 256, i % 256)) end
    tx.add_rule("ip big c", "ip daddr 10.0.0.1 masquerade") -- refused: not a nat chain
    tx.add_rule("ip big c", "accept")
    local ok, err = pcall(tx.commit)
    assert.is_false(ok)
    assert.are.equal("EOPNOTSUPP", err.code)
    assert.are.equal('rule ip big c "ip daddr 10.0.0.1 masquerade"', err.object)
    assert.are.equal(before, H.sh("nft -j list ruleset"))
    local tx2 <close> = nft.transaction()
    for i = 1, 3000 do tx2.add_rule("ip big c", ("ip saddr 10.%d.%d.1 accept"):format(i // 256, i % 256)) end
    tx2.commit()
    assert.are.equal(3000, #nft.list_rules("ip big c"))
    H.sh("nft delete table ip big")
  end)

  it("names a command that refers to a missing chain", function()
    local before = H.sh("nft -j list ruleset")
    local tx <close> = nft.transaction()
    tx.add_table("ip tx3")
    tx.add_chain("ip tx3 c")
    tx.add_rule("ip tx3 nochain", "accept")
    local ok, err = pcall(tx.commit)
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal('rule ip tx3 nochain "accept"', err.object)
    assert.are.equal(before, H.sh("nft -j list ruleset"))
  end)

  it("sends again a batch the kernel refused for a newer ruleset when what it read holds", function()
    H.sh("nft add table ip gen; nft add set ip gen s '{ type ipv4_addr; }'")
    local tx <close> = nft.transaction()
    tx.add_element("ip gen s", "192.0.2.1") -- reads the set's type from the kernel
    H.sh("nft add table ip gen2")          -- someone else changes the ruleset meanwhile
    tx.commit()                            -- refused (ERESTART), the set unchanged: sent again
    assert.truthy(H.sh("nft list set ip gen s"):find("192.0.2.1", 1, true))
    H.sh("nft delete table ip gen; nft delete table ip gen2")
  end)

  it("refuses to commit what it built on a read the ruleset has since outdated", function()
    H.sh("nft add table ip gen; nft add set ip gen s '{ type ipv4_addr; }'")
    local tx <close> = nft.transaction()
    tx.add_element("ip gen s", "192.0.2.1") -- reads the set's type from the kernel
    -- someone else makes the set another one of the same key length meanwhile
    H.sh("nft delete set ip gen s; nft add set ip gen s '{ type mark; }'")
    local before = H.sh("nft -j list ruleset")
    local ok, err = pcall(tx.commit)
    assert.is_false(ok)
    assert.are.equal("ERESTART", err.code)
    assert.are.equal("nft.commit", err.op)
    assert.truthy(tostring(err):find("the ruleset changed after this transaction read it", 1, true))
    assert.are.equal(before, H.sh("nft -j list ruleset"))
    H.sh("nft delete table ip gen")
  end)

  it("discards what was not committed when closed or collected", function()
    do
      local tx <close> = nft.transaction()
      tx.add_table("ip tx4")
    end
    local tx = nft.transaction()
    tx.add_table("ip tx4b")
    tx = nil
    collectgarbage()
    collectgarbage()
    assert.is_false(has_table("ip tx4"))
    assert.is_false(has_table("ip tx4b"))
  end)

  it("cannot be used after commit or close", function()
    local tx = nft.transaction()
    tx.add_table("ip tx5")
    tx.commit()
    assert.has_error(function() tx.commit() end, "cnet.nft.transaction was already committed")
    assert.has_error(function() tx.add_table("ip tx5b") end,
      "cnet.nft.transaction was already committed")
    local tx2 = nft.transaction()
    tx2.close()
    tx2.close() -- harmless twice
    assert.has_error(function() tx2.add_table("ip tx5c") end, "cnet.nft.transaction is closed")
    assert.truthy(tostring(tx):find("committed"))
    H.sh("nft delete table ip tx5")
  end)

  it("commits an empty transaction as a no-op", function()
    local before = H.sh("nft -j list ruleset")
    local tx <close> = nft.transaction()
    tx.commit()
    assert.are.equal(before, H.sh("nft -j list ruleset"))
  end)
end)

describe("cnet.nft rule commands", function()
  local T = "ip rc"
  before_each(function()
    H.sh("nft add table ip rc; nft add chain ip rc c")
  end)
  after_each(function()
    H.sh("nft delete table ip rc")
  end)

  it("add_rule appends, or goes after a handle", function()
    nft.add_rule(T .. " c", "iifname r1 accept")
    nft.add_rule(T .. " c", "iifname r3 accept")
    local h1 = rules(T, "c")[1].handle
    nft.add_rule(T .. " c", "iifname r2 accept", {after = h1})
    assert.are.same({"r1", "r2", "r3"}, names(T, "c"))
  end)

  it("insert_rule prepends, or goes before a handle", function()
    nft.add_rule(T .. " c", "iifname r3 accept")
    nft.insert_rule(T .. " c", "iifname r1 accept")
    local h3 = rules(T, "c")[2].handle
    nft.insert_rule(T .. " c", "iifname r2 accept", {before = h3})
    assert.are.same({"r1", "r2", "r3"}, names(T, "c"))
  end)

  it("replace_rule and delete_rule act on one rule by handle", function()
    nft.add_rule(T .. " c", "iifname r1 accept")
    nft.add_rule(T .. " c", "iifname r2 accept")
    nft.add_rule(T .. " c", "iifname r3 accept")
    local rs = rules(T, "c")
    nft.replace_rule(T .. " c", rs[2].handle, "iifname rX drop")
    assert.are.same({"r1", "rX", "r3"}, names(T, "c"))
    assert.are.equal(rs[2].handle, rules(T, "c")[2].handle)
    nft.delete_rule(T .. " c", rs[1].handle)
    assert.are.same({"rX", "r3"}, names(T, "c"))
  end)

  it("raises ENOENT naming the rule when the handle does not exist", function()
    local ok, err = pcall(nft.delete_rule, T .. " c", 4242)
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("nft.delete", err.op)
    assert.are.equal("rule ip rc c handle 4242", err.object)
  end)

  it("flush_chain empties a chain, flush_table every chain of the table", function()
    H.sh("nft add chain ip rc d")
    nft.add_rule(T .. " c", "accept")
    nft.add_rule(T .. " d", "accept")
    nft.flush_chain(T .. " c")
    assert.are.equal(0, #rules(T, "c"))
    assert.are.equal(1, #rules(T, "d"))
    nft.add_rule(T .. " c", "accept")
    nft.flush_table(T)
    assert.are.equal(0, #rules(T, "c"))
    assert.are.equal(0, #rules(T, "d"))
  end)

  it("delete_chain and delete_table remove them", function()
    H.sh("nft add chain ip rc d")
    nft.delete_chain(T .. " d")
    assert.is_false((H.try("nft list chain ip rc d")))
    nft.add_table("inet gone")
    assert.is_true(has_table("inet gone"))
    nft.delete_table("inet gone")
    assert.is_false(has_table("inet gone"))
  end)
end)

describe("cnet.nft tables of every family", function()
  it("creates ip, ip6, inet, bridge, netdev and arp tables and base chains", function()
    local tx <close> = nft.transaction()
    for _, f in ipairs{"ip", "ip6", "inet", "bridge", "arp"} do
      tx.add_table(f .. " fam")
      tx.add_chain(f .. " fam c", {type = "filter", hook = (f == "arp") and "input" or "output",
                                   priority = "filter"})
    end
    tx.add_table("netdev fam")
    tx.commit()
    local seen = {}
    for _, item in ipairs(H.json(H.sh("nft -j list ruleset")).nftables) do
      if item.chain and item.chain.table == "fam" then
        seen[item.chain.family] = item.chain.prio
      end
    end
    assert.are.same({ip = 0, ip6 = 0, inet = 0, bridge = -200, arp = 0}, seen)
    assert.is_true(has_table("netdev fam"))
    H.sh("nft delete table ip fam; nft delete table ip6 fam; nft delete table inet fam; " ..
         "nft delete table bridge fam; nft delete table arp fam; nft delete table netdev fam")
  end)

  it("makes netdev chains on a device and route chains", function()
    nft.apply{table = "netdev nd", chains = {ing = {type = "filter", hook = "ingress",
      device = "lo", priority = -5, "counter accept"}}}
    nft.apply{table = "ip rtb", chains = {out = {type = "route", hook = "output",
      priority = "mangle", "meta mark set 1"}}}
    local text = H.sh("nft list ruleset")
    assert.truthy(text:find('type filter hook ingress device "lo" priority filter - 5;', 1, true), text)
    assert.truthy(text:find("type route hook output priority mangle;", 1, true), text)
    local ing = nft.list_chains("netdev nd ing")[1]
    assert.are.equal("lo", ing.device)
    assert.are.equal(-5, ing.priority)
    assert.are.equal("ingress", ing.hook)
    H.sh("nft delete table netdev nd; nft delete table ip rtb")
  end)

  it("uses each family's standard priorities by name", function()
    nft.apply{table = "bridge pr", chains = {
      a = {type = "filter", hook = "prerouting", priority = "dstnat"},
      b = {type = "filter", hook = "postrouting", priority = "srcnat"},
      c = {type = "filter", hook = "output", priority = "out"}}}
    nft.apply{table = "ip pr", chains = {
      a = {type = "filter", hook = "prerouting", priority = "raw"},
      b = {type = "filter", hook = "prerouting", priority = "mangle"},
      c = {type = "nat", hook = "prerouting", priority = "dstnat"},
      d = {type = "filter", hook = "input", priority = "security"},
      e = {type = "nat", hook = "postrouting", priority = "srcnat - 5"}}}
    local prios = {}
    for _, item in ipairs(H.json(H.sh("nft -j list ruleset")).nftables) do
      if item.chain and item.chain.table == "pr" then
        prios[item.chain.family .. " " .. item.chain.name] = item.chain.prio
      end
    end
    assert.are.same({["bridge a"] = -300, ["bridge b"] = 300, ["bridge c"] = 100,
                     ["ip a"] = -300, ["ip b"] = -150, ["ip c"] = -100, ["ip d"] = 50,
                     ["ip e"] = 95}, prios)
    H.sh("nft delete table bridge pr; nft delete table ip pr")
  end)
end)
