-- The lean rule path of cnet.nft (issue 4): every rule of a transaction is compiled into one
-- reused rule object and serialized at once, and its label and error strings are written only
-- on failure. These check that nothing of one rule leaks into the next (comments, positions,
-- chains), and that errors still name the right rule and line, against `nft` itself.
local cnet = require "cnet"
local nft = cnet.nft

local function listed(ref)
  local out = {}
  for line in H.sh("nft list chain " .. ref):gmatch("[^\n]+") do
    local r = line:match("^\t\t(.*)$")
    if r then out[#out + 1] = r end
  end
  return out
end

describe("cnet.nft bulk rules", function()
  it("keeps each rule's own comment, position and chain", function()
    H.sh("nft add table ip bulk1; nft add chain ip bulk1 a; nft add chain ip bulk1 b")
    H.sh("nft add rule ip bulk1 a iifname first accept")
    local handle = nft.list_rules("ip bulk1 a")[1].handle
    local tx <close> = nft.transaction()
    tx.add_rule("ip bulk1 a", 'iifname c1 accept comment "one"')
    tx.add_rule("ip bulk1 a", "iifname c2 accept")                 -- no comment left over
    tx.add_rule("ip bulk1 b", 'iifname c3 drop comment "three"')  -- another chain
    tx.add_rule("ip bulk1 b", "iifname c4 drop")
    tx.insert_rule("ip bulk1 a", "iifname c0 accept", {before = handle})
    tx.add_rule("ip bulk1 a", "iifname c5 accept")                 -- no position left over
    tx.commit()
    assert.are.same({'iifname "c0" accept', 'iifname "first" accept',
                     'iifname "c1" accept comment "one"', 'iifname "c2" accept',
                     'iifname "c5" accept'}, listed("ip bulk1 a"))
    assert.are.same({'iifname "c3" drop comment "three"', 'iifname "c4" drop'},
                    listed("ip bulk1 b"))
    H.sh("nft delete table ip bulk1")
  end)

  it("names a refused rule with its position, and the line that queued it", function()
    H.sh("nft add table ip bulk2; nft add chain ip bulk2 a")
    local before = H.sh("nft -j list ruleset")
    local tx <close> = nft.transaction()
    tx.add_rule("ip bulk2 a", "iifname x accept")
    tx.insert_rule("ip bulk2 a", "iifname y accept", {before = 9999}) -- no such handle
    local ok, err = pcall(tx.commit)
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("nft.insert", err.op)
    assert.are.equal('rule ip bulk2 a position 9999 "iifname y accept"', err.object)
    assert.truthy(err.where:find("nft_bulk_spec.lua:43:"), err.where)
    assert.are.equal(before, H.sh("nft -j list ruleset"))
    H.sh("nft delete table ip bulk2")
  end)

  it("names the apply call's line when the kernel refuses one of its rules", function()
    local ok, err = pcall(function()
      nft.apply{table = "ip bulk3", chains = {c = {type = "filter", hook = "input",
        "iifname a accept", "ip daddr 10.0.0.1 masquerade", "iifname b accept"}}}
    end)
    assert.is_false(ok)
    assert.are.equal("EOPNOTSUPP", err.code)
    assert.are.equal('rule ip bulk3 c "ip daddr 10.0.0.1 masquerade"', err.object)
    assert.truthy(err.where:find("nft_bulk_spec.lua:5[56]:"), err.where)
    assert.is_falsy((H.try("nft list table ip bulk3")))
  end)
end)
