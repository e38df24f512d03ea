-- cnet.nft bad input: every refusal is a clear error naming the operation and the object,
-- and leaves the ruleset exactly as it was.
local cnet = require "cnet"
local nft = cnet.nft

local refused = H.nft_refused -- fails, and leaves the ruleset as it was

describe("cnet.nft bad input", function()
  setup(function() H.sh("nft add table ip bad; nft add chain ip bad c") end)
  teardown(function() H.sh("nft delete table ip bad") end)

  it("refuses an unknown family", function()
    local err = refused(nft.add_table, "ipx cnet")
    assert.are.equal("EAFNOSUPPORT", err.code)
    assert.are.equal("nft.add", err.op)
    assert.are.equal("table ipx cnet", err.object)
    assert.truthy(tostring(err):find('unknown family "ipx"', 1, true))
    err = refused(nft.add_rule, "ipx cnet c", "accept")
    assert.are.equal("EAFNOSUPPORT", err.code)
    assert.are.equal("nft.add rule ipx cnet c: Address family not supported by protocol: " ..
      'unknown family "ipx" (ip, ip6, inet, arp, bridge, netdev)', tostring(err))
    err = refused(nft.apply, {table = "nope cnet"})
    assert.are.equal("nft.apply", err.op)
    assert.are.equal("EAFNOSUPPORT", err.code)
  end)

  it("refuses references with the wrong number of words", function()
    local err = refused(nft.add_chain, "ip bad")
    assert.are.equal("EINVAL", err.code)
    assert.truthy(tostring(err):find('expected "[family] table name"', 1, true))
    err = refused(nft.add_table, "ip a b c")
    assert.are.equal("EINVAL", err.code)
  end)

  it("refuses a bad hook", function()
    local err = refused(nft.add_chain, "ip bad x", {type = "filter", hook = "sideways"})
    assert.are.equal("EINVAL", err.code)
    assert.are.equal("nft.add", err.op)
    assert.are.equal("chain ip bad x", err.object)
    assert.are.equal('nft.add chain ip bad x: Invalid argument: unknown hook "sideways" for family ip',
      tostring(err))
    err = refused(nft.add_chain, "ip bad x", {type = "filter", hook = "ingress"})
    assert.are.equal("EINVAL", err.code) -- ingress is netdev/inet only
  end)

  it("refuses a bad priority", function()
    for _, p in ipairs{"banana", "filter +", "srcnat * 2", "out", "99999999999"} do
      local err = refused(nft.add_chain, "ip bad x", {type = "filter", hook = "input", priority = p})
      assert.are.equal("EINVAL", err.code, p)
      assert.truthy(tostring(err):find("bad priority", 1, true), p)
    end
  end)

  it("refuses a bad chain type or policy", function()
    local err = refused(nft.add_chain, "ip bad x", {type = "firewall", hook = "input"})
    assert.truthy(tostring(err):find('unknown chain type "firewall"', 1, true))
    err = refused(nft.add_chain, "ip bad x", {type = "filter", hook = "input", policy = "reject"})
    assert.truthy(tostring(err):find('bad policy "reject"', 1, true))
    err = refused(nft.add_chain, "ip bad x", {hook = "input", prio = 0})
    assert.truthy(tostring(err):find("unknown option 'prio'", 1, true))
  end)

  it("refuses a kernel-invalid combination, naming the chain", function()
    local err = refused(nft.add_chain, "ip bad x", {type = "nat", hook = "forward"})
    assert.are.equal("nft.add", err.op)
    assert.are.equal("chain ip bad x", err.object)
    assert.is_string(err.code)
  end)

  it("refuses a malformed rule with the rule and a column, before sending anything", function()
    local err = refused(nft.add_rule, "ip bad c", "iifname br0 acept")
    assert.are.equal("EINVAL", err.code)
    assert.are.equal("nft.add", err.op)
    assert.are.equal('rule ip bad c "iifname br0 acept"', err.object)
    assert.truthy(tostring(err):find("column 13", 1, true), tostring(err))
    -- in a transaction: raised by the call that adds it; nothing else is sent either
    local tx <close> = nft.transaction()
    tx.add_rule("ip bad c", "accept")
    assert.has_error(function() tx.add_rule("ip bad c", "") end)
    assert.are.equal(1, tx.count())
  end)

  it("refuses a rule in a missing table or chain, naming it", function()
    local err = refused(nft.add_rule, "ip bad nochain", "accept")
    assert.are.equal("ENOENT", err.code)
    assert.are.equal('rule ip bad nochain "accept"', err.object)
    err = refused(nft.add_rule, "ip notable c", "accept")
    assert.are.equal("ENOENT", err.code)
  end)

  it("refuses deleting what does not exist", function()
    assert.are.equal("ENOENT", refused(nft.delete_table, "ip nosuch").code)
    assert.are.equal("ENOENT", refused(nft.delete_chain, "ip bad nosuch").code)
    assert.are.equal("ENOENT", refused(nft.delete_set, "ip bad nosuch").code)
  end)

  it("refuses bad sets and elements", function()
    local err = refused(nft.add_set, "ip bad s", {type = "ipv5_addr"})
    assert.truthy(tostring(err):find('unknown set type "ipv5_addr"', 1, true))
    err = refused(nft.add_set, "ip bad s", {type = "ipv4_addr", flags = "sparkly"})
    assert.truthy(tostring(err):find("field 'flags': unknown set flag 'sparkly' (interval, constant)", 1, true))
    err = refused(nft.add_set, "ip bad s", {type = "ipv4_addr", elements = {"10.0.0.0/8"}})
    assert.truthy(tostring(err):find("need a set with flags interval", 1, true))
    err = refused(nft.add_set, "ip bad s", {type = "inet_service", elements = {"80", "http2x"}})
    assert.are.equal('nft.add element ip bad s: Invalid argument: element "http2x": not a valid inet_service',
      tostring(err))
    err = refused(nft.add_element, "ip bad nosuch", {"1.2.3.4"})
    assert.are.equal("ENOENT", err.code)
    H.sh("nft add set ip bad s4 '{ type ipv4_addr; }'")
    err = refused(nft.add_element, "ip bad s4", {"1.2.3.4", "1.2.3"})
    assert.truthy(tostring(err):find('element "1.2.3": not a valid ipv4_addr', 1, true))
    assert.are.equal("", (H.sh("nft list set ip bad s4"):match("elements = ([^\n]*)") or ""))
    H.sh("nft delete set ip bad s4")
  end)

  it("raises argument errors for wrong types", function()
    assert.has_error(function() nft.add_table(42) end)
    assert.has_error(function() nft.add_table({}) end,
      "bad argument #1 to 'add_table' (string expected, got table)")
    assert.has_error(function() nft.delete_rule("ip bad c", "x") end)
    assert.has_error(function() nft.delete_rule("ip bad c", 0) end)
    assert.has_error(function() nft.add_rule("ip bad c", "accept", {before = 3}) end)
    assert.has_error(function() nft.apply("ip bad") end)
  end)
end)
