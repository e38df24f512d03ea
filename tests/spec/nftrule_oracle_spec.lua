-- The nft oracle through the public API: every rule of tests/nftrule-oracle.txt goes through
-- cnet.nft both ways, and the real nft is the judge.
--  * cnet.nft.add_rule(chain, RULE): `nft list chain` prints exactly the corpus's canonical text;
--  * `nft add rule ... RULE`: cnet.nft.list_rules gives exactly the text nft prints;
--  * "!" rules (valid nft outside cnet's subset): add_rule raises EOPNOTSUPP naming the column,
--    and listing the rule nft added reports an error instead of a guessed text.
-- (tests/nft-corpus-check does the same for the whole grammar below the Lua layer.)
local cnet = require "cnet"
local nft = cnet.nft

local function read_corpus()
  local rules = {}
  local n = 0
  for line in io.lines(H.source .. "/tests/nftrule-oracle.txt") do
    n = n + 1
    if line ~= "" and not line:match("^#") then
      local refuse = line:sub(1, 1) == "!"
      local fam, chain, rest = line:gsub("^!%s*", ""):match("^(%S+)%s+(%S+)%s+(.*)$")
      local text, canon = rest:match("^(.-) => (.*)$")
      rules[#rules + 1] = {line = n, family = fam, chain = chain, text = text or rest,
                           canon = canon or rest, refuse = refuse}
    end
  end
  return rules
end

local function nft_script(s)
  return H.sh("nft -f - <<'CNET_EOF'\n" .. s .. "\nCNET_EOF\n")
end

-- the rule lines of a chain as `nft list chain` prints them
local function nft_rules(fam, chain)
  local out, inside = {}, false
  for l in H.sh(("nft list chain %s t %s"):format(fam, chain)):gmatch("[^\n]+") do
    l = l:gsub("^%s+", "")
    if l:match("^chain ") then inside = true
    elseif l == "}" then inside = false
    elseif inside and not l:match("^type ") and l ~= "" then out[#out + 1] = l end
  end
  return out
end

local corpus = read_corpus()

describe("nft rule syntax against the nft oracle (cnet.nft)", function()
  setup(function()
    for _, fam in ipairs{"ip", "ip6", "inet"} do
      nft_script(([[
table %s t {
  set s4 { type ipv4_addr; }
  set s6 { type ipv6_addr; }
  set sp { type inet_service; }
  set sm { type mark; }
  chain other { }
  chain c { type filter hook forward priority 0; }
  chain n { type nat hook postrouting priority 100; }
  chain pre { type nat hook prerouting priority -100; }
}]]):format(fam))
    end
  end)
  teardown(function()
    H.try("nft delete table ip t; nft delete table ip6 t; nft delete table inet t")
  end)

  it("has a corpus of at least 60 rules inside the subset", function()
    local inside = 0
    for _, r in ipairs(corpus) do if not r.refuse then inside = inside + 1 end end
    assert.is_true(inside >= 60, "only " .. inside)
  end)

  for _, r in ipairs(corpus) do
    local chain = ("%s t %s"):format(r.family, r.chain)
    if not r.refuse then
      it(("line %d: cnet adds '%s', nft lists '%s'"):format(r.line, r.text, r.canon), function()
        H.sh("nft flush chain " .. chain)
        nft.add_rule(chain, r.text)
        assert.same({r.canon}, nft_rules(r.family, r.chain))
      end)
      it(("line %d: nft adds '%s', cnet lists what nft prints"):format(r.line, r.text), function()
        nft_script(("flush chain %s\nadd rule %s %s"):format(chain, chain, r.text))
        local printed = nft_rules(r.family, r.chain)
        local listed = nft.list_rules(chain)
        assert.equal(1, #listed)
        assert.is_nil(listed[1].error)
        assert.same(printed, {listed[1].text})
      end)
    else
      it(("line %d: cnet refuses '%s' both ways"):format(r.line, r.text), function()
        H.sh("nft flush chain " .. chain)
        local ok, err = pcall(nft.add_rule, chain, r.text)
        assert.is_false(ok)
        assert.equal("EOPNOTSUPP", err.code)
        assert.matches("column %d+:", tostring(err))
        assert.same({}, nft_rules(r.family, r.chain))   -- nothing half-made
        nft_script(("add rule %s %s"):format(chain, r.text))
        local listed = nft.list_rules(chain)
        assert.equal(1, #listed)
        assert.is_string(listed[1].error)
      end)
    end
  end
end)
