-- cnet.nft.apply: whole tables described in Lua, applied atomically and idempotently.
-- The kernel's view comes from `nft -j list ...`, never from cnet.
local cnet = require "cnet"

local function nftj(args)
  local out = {}
  for _, item in ipairs(H.json(H.sh("nft -j " .. args)).nftables) do
    local kind, obj = next(item)
    if kind ~= "metainfo" then out[#out + 1] = {kind = kind, obj = obj} end
  end
  return out
end

local function kernel_chains(tbl)
  local chains = {}
  for _, it in ipairs(nftj("list table " .. tbl)) do
    if it.kind == "chain" then chains[it.obj.name] = it.obj end
  end
  return chains
end

local function kernel_rules(tbl, chain)
  local rules = {}
  for _, it in ipairs(nftj("list chain " .. tbl .. " " .. chain)) do
    if it.kind == "rule" then rules[#rules + 1] = it.obj end
  end
  return rules
end

local function desc(name)
  return {
    table = "ip " .. name,
    chains = {
      postrouting = {type = "nat", hook = "postrouting", priority = "srcnat",
        "ip saddr 192.168.1.0/24 masquerade"},
      forward = {type = "filter", hook = "forward", policy = "drop",
        "iifname br0 accept", "oifname br0 accept"},
      helper = {"counter accept"},
    },
  }
end

describe("cnet.nft.apply", function()
  it("creates the described table, base chains with hook, priority and policy, and rules", function()
    cnet.nft.apply(desc("ap1"))
    local chains = kernel_chains("ip ap1")
    assert.are.equal("nat", chains.postrouting.type)
    assert.are.equal("postrouting", chains.postrouting.hook)
    assert.are.equal(100, chains.postrouting.prio)
    assert.are.equal("accept", chains.postrouting.policy)
    assert.are.equal("filter", chains.forward.type)
    assert.are.equal("forward", chains.forward.hook)
    assert.are.equal(0, chains.forward.prio)
    assert.are.equal("drop", chains.forward.policy)
    assert.is_nil(chains.helper.hook) -- a regular chain
    local fwd = kernel_rules("ip ap1", "forward")
    assert.are.equal(2, #fwd)
    assert.are.equal("br0", fwd[1].expr[1].match.right)
    assert.are.equal("iifname", fwd[1].expr[1].match.left.meta.key)
    assert.are.equal("oifname", fwd[2].expr[1].match.left.meta.key)
    local nat = kernel_rules("ip ap1", "postrouting")
    assert.are.equal(1, #nat)
    assert.truthy(nat[1].expr[#nat[1].expr].masquerade ~= nil or
                  H.sh("nft list chain ip ap1 postrouting"):find("masquerade"))
    H.sh("nft delete table ip ap1")
  end)

  it("converges: applying the same description again gives the same ruleset", function()
    cnet.nft.apply(desc("ap2"))
    local first = H.sh("nft list ruleset")
    cnet.nft.apply(desc("ap2"))
    cnet.nft.apply(desc("ap2"))
    assert.are.equal(first, H.sh("nft list ruleset"))
    H.sh("nft delete table ip ap2")
  end)

  it("replaces what the table held before with the new description", function()
    cnet.nft.apply(desc("ap3"))
    H.sh("nft add chain ip ap3 extra")
    H.sh("nft add rule ip ap3 forward counter drop")
    cnet.nft.apply{table = "ip ap3", chains = {forward = {type = "filter", hook = "forward",
      "iifname br9 accept"}}}
    local chains = kernel_chains("ip ap3")
    assert.is_nil(chains.extra)
    assert.is_nil(chains.postrouting)
    assert.are.equal("accept", chains.forward.policy)
    local fwd = kernel_rules("ip ap3", "forward")
    assert.are.equal(1, #fwd)
    assert.are.equal("br9", fwd[1].expr[1].match.right)
    H.sh("nft delete table ip ap3")
  end)

  it("never touches tables it was not given", function()
    H.sh("nft add table inet keep; nft add chain inet keep input '{ type filter hook input priority 0; }'; nft add rule inet keep input counter accept")
    H.sh("nft add table ip ap4other; nft add chain ip ap4other c")
    local before_keep = H.sh("nft -j list table inet keep")
    local before_other = H.sh("nft -j list table ip ap4other")
    cnet.nft.apply(desc("ap4"))
    cnet.nft.apply(desc("ap4"))
    assert.are.equal(before_keep, H.sh("nft -j list table inet keep"))
    assert.are.equal(before_other, H.sh("nft -j list table ip ap4other"))
    H.sh("nft delete table ip ap4; nft delete table inet keep; nft delete table ip ap4other")
  end)

  it("is all or nothing: a description the kernel refuses leaves the ruleset as it was", function()
    cnet.nft.apply(desc("ap5"))
    local before = H.sh("nft -j list ruleset")
    local bad = desc("ap5")
    bad.chains.forward[3] = "ip saddr 10.0.0.0/8 masquerade" -- masquerade outside a nat chain
    bad.chains.newone = {"accept"}
    local ok, err = pcall(cnet.nft.apply, bad)
    assert.is_false(ok)
    assert.are.equal("EOPNOTSUPP", err.code)
    assert.are.equal("nft.add", err.op)
    assert.are.equal('rule ip ap5 forward "ip saddr 10.0.0.0/8 masquerade"', err.object)
    assert.are.equal(before, H.sh("nft -j list ruleset"))
    H.sh("nft delete table ip ap5")
  end)

  it("creates named sets with their elements before the rules", function()
    cnet.nft.apply{table = "inet ap6",
      sets = {blocked = {type = "ipv4_addr", flags = "interval",
                         elements = {"192.0.2.0/24", "198.51.100.7"}},
              ports = {type = "inet_service", elements = {22, "80"}}},
      chains = {input = {type = "filter", hook = "input", priority = "filter + 5", "accept"}}}
    local sets = {}
    for _, it in ipairs(nftj("list table inet ap6")) do
      if it.kind == "set" then sets[it.obj.name] = it.obj end
      if it.kind == "chain" then assert.are.equal(5, it.obj.prio) end
    end
    assert.are.equal("ipv4_addr", sets.blocked.type)
    assert.are.same({"interval"}, sets.blocked.flags)
    assert.are.equal("inet_service", sets.ports.type)
    local text = H.sh("nft list set inet ap6 blocked")
    assert.truthy(text:find("192.0.2.0/24", 1, true))
    assert.truthy(text:find("198.51.100.7", 1, true))
    assert.truthy(H.sh("nft list set inet ap6 ports"):find("22, 80", 1, true))
    H.sh("nft delete table inet ap6")
  end)

  it("rejects unknown keys and wrong types before sending anything", function()
    local before = H.sh("nft -j list ruleset")
    assert.has_error(function() cnet.nft.apply{table = "ip x", chain = {}} end,
      "bad argument #1 to 'apply' (unknown option 'chain')")
    assert.has_error(function() cnet.nft.apply{chains = {}} end)
    assert.has_error(function() cnet.nft.apply{table = "ip x", chains = {c = {hooks = "input"}}} end,
      "bad argument #1 to 'apply' (chain c: unknown option 'hooks')")
    assert.has_error(function() cnet.nft.apply{table = "ip x", chains = {c = {42}}} end,
      "bad argument #1 to 'apply' (chain c: rule #1 is a number, not a string)")
    assert.are.equal(before, H.sh("nft -j list ruleset"))
  end)

  it("acts inside the namespace of the handle it is called on", function()
    local name = H.name("nsap")
    local ns <close> = cnet.netns.add(name)
    local outside = H.sh("nft -j list ruleset")
    ns.nft.apply(desc("ap7"))
    assert.are.equal(outside, H.sh("nft -j list ruleset"))
    local inside = H.sh("ip netns exec " .. name .. " nft list table ip ap7")
    assert.truthy(inside:find("masquerade", 1, true))
    assert.truthy(inside:find("policy drop", 1, true))
    cnet.netns.delete(name)
  end)
end)
