-- The guard on a rule's size (core/nft/nft_rule_size.c): the kernel takes rules longer than
-- its listings hold, and such a rule vanishes, with every rule after it, from `nft list` and
-- cnet.nft.list_rules. cnet refuses a rule whose listing it estimates past 32000 bytes.
-- Rules of `counter name` statements with 255-byte names (288 bytes each) reach it: in a
-- table and a chain of short names, 110 are estimated at 31744 bytes (what the kernel lists),
-- 111 at 32032. Independent view: `nft -j list ruleset`.
local cnet = require "cnet"
local nft = cnet.nft

local name = string.rep("n", 255) -- the longest name nft allows
local function counters(n) return string.rep("counter name " .. name, n, " ") end

-- The rules of chain `ip big c` as nft lists them: for each, the tcp port it matches (if
-- any) and how many of its statements are `counter name` of the long name.
local function listed()
  local out = {}
  for _, item in ipairs(H.json(H.sh("nft -j list ruleset")).nftables) do
    local r = item.rule
    if r and r.table == "big" and r.chain == "c" then
      local row = {counters = 0}
      for _, e in ipairs(r.expr) do
        if e.counter == name then row.counters = row.counters + 1 end
        if e.match then row.port = e.match.right end
      end
      out[#out + 1] = row
    end
  end
  return out
end

describe("cnet.nft.add_rule near the size the kernel can list back", function()
  before_each(function()
    H.sh("nft add table ip big; nft add chain ip big c; nft add counter ip big " .. name)
  end)
  after_each(function() H.sh("nft delete table ip big") end)

  it("takes the largest rule of named counters, listed back with the rules after it", function()
    nft.add_rule("ip big c", "tcp dport 21 accept")
    nft.add_rule("ip big c", counters(110))
    nft.add_rule("ip big c", "tcp dport 23 drop")
    assert.are.same({{port = 21, counters = 0}, {counters = 110}, {port = 23, counters = 0}},
                    listed())
    -- cnet lists it too, as nft prints it (the name quoted)
    local rules = nft.list_rules("ip big c")
    assert.are.equal(3, #rules)
    local text = string.rep('counter name "' .. name .. '"', 110, " ")
    assert.is_true(rules[2].text == text, rules[2].text:sub(1, 300))
    assert.are.equal("tcp dport 23 drop", rules[3].text)
  end)

  it("refuses one counter more with EMSGSIZE naming both sizes, and changes nothing", function()
    nft.add_rule("ip big c", "tcp dport 21 accept")
    local err = H.nft_refused(nft.add_rule, "ip big c", counters(111))
    assert.are.equal("EMSGSIZE", err.code)
    assert.are.equal("nft.add", err.op)
    assert.truthy(err.object:find('^rule ip big c "counter name nnnn'), err.object)
    local why = "rule too long: the kernel would list it in 32032 bytes, more than the 32000 "
      .. "of one listing message"
    assert.are.equal(why, err.extack)
    assert.truthy(tostring(err):find(": Message too long: " .. why, 1, true), tostring(err))
    assert.are.same({{port = 21, counters = 0}}, listed())
  end)

  it("refuses it in a transaction when it is added, and the transaction goes on", function()
    local tx <close> = nft.transaction()
    tx.add_rule("ip big c", "tcp dport 21 accept")
    local err = H.nft_refused(tx.add_rule, "ip big c", counters(111))
    assert.are.equal("EMSGSIZE", err.code)
    assert.are.equal(1, tx.count())
    tx.add_rule("ip big c", "tcp dport 23 drop")
    tx.commit()
    assert.are.same({{port = 21, counters = 0}, {port = 23, counters = 0}}, listed())
  end)
end)
