-- cnet.nft named sets: every key type, intervals, element add/delete, flush, delete, and
-- rules using them; checked with `nft -j list set`.
local cnet = require "cnet"
local nft = cnet.nft

local function kernel_set(ref)
  for _, item in ipairs(H.json(H.sh("nft -j list set " .. ref)).nftables) do
    if item.set then return item.set end
  end
end

-- The elements as nft -j shows them, flattened to strings ("10.0.0.0/8", "1-5", "22").
local function kernel_elems(ref)
  local out = {}
  for _, e in ipairs(kernel_set(ref).elem or {}) do
    if type(e) == "table" and e.prefix then
      out[#out + 1] = e.prefix.addr .. "/" .. e.prefix.len
    elseif type(e) == "table" and e.range then
      out[#out + 1] = e.range[1] .. "-" .. e.range[2]
    else
      out[#out + 1] = tostring(e)
    end
  end
  return out
end

local function listed(ref)
  return nft.list_sets(ref)[1]
end

describe("cnet.nft sets", function()
  before_each(function() H.sh("nft add table inet st") end)
  after_each(function() H.sh("nft delete table inet st") end)

  it("creates a set of each key type with its elements", function()
    local cases = {
      {"ipv4_addr", {"192.0.2.1", "198.51.100.2"}, {"192.0.2.1", "198.51.100.2"}},
      {"ipv6_addr", {"2001:db8::1", "2001:db8::2"}, {"2001:db8::1", "2001:db8::2"}},
      {"ether_addr", {"02:00:00:00:00:01"}, {"02:00:00:00:00:01"}},
      {"inet_proto", {"tcp", 17}, {"tcp", "udp"}},
      {"inet_service", {"ssh", 80, "443"}, {"22", "80", "443"}},
      {"mark", {1, "0x10"}, {"0x00000001", "0x00000010"}},
      {"ifname", {"eth0", "br0"}, {'"br0"', '"eth0"'}},
    }
    for _, c in ipairs(cases) do
      local ref = "inet st s_" .. c[1]
      nft.add_set(ref, {type = c[1], elements = c[2]})
      local k = kernel_set(ref)
      assert.are.equal(c[1], k.type)
      assert.are.equal(#c[2], #k.elem, c[1])
      local mine = listed(ref)
      assert.are.equal(c[1], mine.type)
      assert.are.same(c[3], mine.elements, c[1])
    end
  end)

  it("takes prefixes and ranges in interval sets and lists them merged back", function()
    nft.add_set("inet st nets", {type = "ipv4_addr", flags = {"interval"},
      elements = {"10.0.0.0/8", "192.0.2.7", "198.51.100.10-198.51.100.20"}})
    assert.are.same({"10.0.0.0/8", "192.0.2.7", "198.51.100.10-198.51.100.20"},
      kernel_elems("inet st nets"))
    assert.are.same({"10.0.0.0/8", "192.0.2.7", "198.51.100.10-198.51.100.20"},
      listed("inet st nets").elements)
    assert.are.same({"interval"}, listed("inet st nets").flags)
    nft.add_set("inet st ports", {type = "inet_service", flags = "interval",
      elements = {"8000-8099", "22", "65000-65535"}})
    assert.are.same({"22", "8000-8099", "65000-65535"}, kernel_elems("inet st ports"))
    assert.are.same({"22", "8000-8099", "65000-65535"}, listed("inet st ports").elements)
    nft.add_set("inet st six", {type = "ipv6_addr", flags = "interval",
      elements = {"2001:db8::/32"}})
    assert.are.same({"2001:db8::/32"}, kernel_elems("inet st six"))
  end)

  it("adds and deletes elements, also intervals", function()
    nft.add_set("inet st nets", {type = "ipv4_addr", flags = "interval"})
    nft.add_element("inet st nets", {"10.0.0.0/8", "192.0.2.0/24"})
    nft.add_element("inet st nets", "198.51.100.1")
    assert.are.same({"10.0.0.0/8", "192.0.2.0/24", "198.51.100.1"}, kernel_elems("inet st nets"))
    nft.delete_element("inet st nets", {"10.0.0.0/8", "198.51.100.1"})
    assert.are.same({"192.0.2.0/24"}, kernel_elems("inet st nets"))
    nft.add_set("inet st p", {type = "inet_service", elements = {22, 80}})
    nft.delete_element("inet st p", 22)
    assert.are.same({"80"}, kernel_elems("inet st p"))
    local ok, err = pcall(nft.delete_element, "inet st p", 22)
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("element inet st p { 22 }", err.object)
  end)

  it("flushes and deletes sets", function()
    nft.add_set("inet st p", {type = "inet_service", elements = {22, 80}})
    nft.flush_set("inet st p")
    assert.are.same({}, kernel_elems("inet st p"))
    assert.are.same({}, listed("inet st p").elements)
    nft.delete_set("inet st p")
    assert.is_false((H.try("nft list set inet st p")))
    nft.add_set("inet st nets", {type = "ipv4_addr", flags = "interval",
      elements = {"10.0.0.0/8", "192.0.2.1-192.0.2.5"}})
    nft.flush_set("inet st nets")
    assert.are.same({}, kernel_elems("inet st nets"))
    nft.add_element("inet st nets", "10.0.0.0/8") -- usable again after the flush
    assert.are.same({"10.0.0.0/8"}, kernel_elems("inet st nets"))
    assert.has_error(function() nft.add_element("inet st nets", true) end,
      "bad argument #2 to 'add_element' (elements: a string or a list of strings expected, got boolean)")
  end)

  it("adds many elements in one transaction, spread over several messages", function()
    local elems = {}
    for i = 1, 2000 do elems[i] = ("10.%d.%d.1"):format(i // 256, i % 256) end
    local tx <close> = nft.transaction()
    tx.add_set("inet st big", {type = "ipv4_addr"})
    tx.add_element("inet st big", elems)
    assert.is_true(tx.count() > 2)
    tx.commit()
    assert.are.equal(2000, #kernel_set("inet st big").elem)
    assert.are.equal(2000, #listed("inet st big").elements)
  end)

  it("keeps each range whole across messages of a big interval set", function()
    -- 3000 ranges of 2 addresses each: a start and an end marker per range, several messages
    local elems, want = {}, {}
    for i = 1, 3000 do
      local a, b = ("10.%d.%d.%d"):format(i // 64, (i % 64) * 4, 1), ("10.%d.%d.%d"):format(i // 64, (i % 64) * 4, 2)
      elems[i] = a .. "-" .. b
      want[a .. "-" .. b] = true
    end
    elems[#elems + 1] = "192.0.2.0/24"
    want["192.0.2.0/24"] = true
    local tx <close> = nft.transaction()
    tx.add_set("inet st ranges", {type = "ipv4_addr", flags = "interval"})
    tx.add_element("inet st ranges", elems)
    assert.is_true(tx.count() > 3)
    tx.commit()
    local got = kernel_elems("inet st ranges")
    assert.are.equal(3001, #got)
    for _, e in ipairs(got) do assert.is_true(want[e], e) end
    assert.are.equal(3001, #listed("inet st ranges").elements)
  end)

  it("refuses a whole big list for one bad element far in, queuing none of it", function()
    local elems = {}
    for i = 1, 5000 do elems[i] = ("10.%d.%d.1"):format(i // 256, i % 256) end
    elems[4321] = "10.1.2"
    local tx <close> = nft.transaction()
    tx.add_set("inet st big", {type = "ipv4_addr"})
    local ok, err = pcall(tx.add_element, "inet st big", elems)
    assert.is_false(ok)
    assert.are.equal("nft.add", err.op)
    assert.are.equal("element inet st big", err.object)
    assert.truthy(tostring(err):find('element "10.1.2": not a valid ipv4_addr', 1, true))
    assert.are.equal(1, tx.count()) -- only the set: no message of the list stayed queued
    tx.add_element("inet st big", {"192.0.2.1"}) -- the transaction is still usable
    tx.commit()
    assert.are.same({"192.0.2.1"}, kernel_elems("inet st big"))
  end)

  it("makes a set of a given size, and refuses elements beyond it", function()
    nft.add_set("inet st sized", {type = "ipv4_addr", size = 3, elements = {"192.0.2.1", "192.0.2.2"}})
    assert.are.equal(3, kernel_set("inet st sized").size)
    assert.are.equal(3, listed("inet st sized").size)
    nft.add_element("inet st sized", "192.0.2.3")
    local ok, err = pcall(nft.add_element, "inet st sized", {"192.0.2.4", "192.0.2.5"})
    assert.is_false(ok)
    assert.are.equal("ENFILE", err.code)
    assert.are.equal("nft.add", err.op)
    assert.truthy(tostring(err):find("the set is full", 1, true))
    assert.are.same({"192.0.2.1", "192.0.2.2", "192.0.2.3"}, kernel_elems("inet st sized"))
    nft.add_set("inet st plain", {type = "ipv4_addr"})
    assert.is_nil(kernel_set("inet st plain").size)
    assert.is_nil(listed("inet st plain").size)
    for bad, msg in pairs({[0] = "0 out of range [1, 4294967295]",
                           [-1] = "-1 out of range [1, 4294967295]",
                           [1.5] = "integer expected, got 1.5", many = "integer expected, got string",
                           [2 ^ 40] = "1099511627776 out of range [1, 4294967295]"}) do
      assert.has_error(function() nft.add_set("inet st bad", {type = "ipv4_addr", size = bad}) end,
        "bad argument #2 to 'add_set' (field 'size': " .. msg .. ")")
    end
    assert.is_false((H.try("nft list set inet st bad"))) -- nothing made of the refused ones
  end)

  it("lets rules use a set made in the same transaction, and one made before", function()
    H.sh("nft add chain inet st input '{ type filter hook input priority 0; }'")
    local tx <close> = nft.transaction()
    tx.add_set("inet st blocked", {type = "ipv4_addr", flags = "interval", elements = {"192.0.2.0/24"}})
    tx.add_rule("inet st input", "ip saddr @blocked drop")
    tx.commit()
    nft.add_set("inet st ports", {type = "inet_service", elements = {22}})
    nft.add_rule("inet st input", "tcp dport @ports accept")
    local text = H.sh("nft list chain inet st input")
    assert.truthy(text:find("ip saddr @blocked drop", 1, true), text)
    assert.truthy(text:find("tcp dport @ports accept", 1, true), text)
    local rules = nft.list_rules("inet st input")
    assert.are.equal("ip saddr @blocked drop", rules[1].text)
    assert.are.equal("tcp dport @ports accept", rules[2].text)
    -- a set in use cannot go
    local ok, err = pcall(nft.delete_set, "inet st ports")
    assert.is_false(ok)
    assert.are.equal("EBUSY", err.code)
  end)

  it("says named maps, typeof and timeouts are not supported yet, and lets rules use nft's", function()
    for _, opt in ipairs({"map", "typeof", "timeout"}) do
      local ok, err = pcall(nft.add_set, "inet st m", {type = "ipv4_addr", [opt] = "mark"})
      assert.is_false(ok)
      assert.truthy(tostring(err):find("field '" .. opt .. "': named maps, typeof and timeouts " ..
                                       "are not supported by cnet's sets yet", 1, true), tostring(err))
    end
    assert.is_false((H.try("nft list set inet st m")))  -- nothing made
    -- a map made by nft: rules use it, and list it back
    H.sh("nft add map inet st marks '{ type ipv4_addr : mark; }'")
    H.sh("nft add chain inet st input")
    nft.add_rule("inet st input", "meta mark set ip saddr map @marks")
    assert.are.equal("meta mark set ip saddr map @marks", nft.list_rules("inet st input")[1].text)
    assert.truthy(H.sh("nft list chain inet st input"):find("meta mark set ip saddr map @marks", 1, true))
  end)

  it("refuses a rule using a set that does not exist, naming it", function()
    H.sh("nft add chain inet st input")
    local ok, err = pcall(nft.add_rule, "inet st input", "ip saddr @nosuch drop")
    assert.is_false(ok)
    assert.are.equal("nft.add", err.op)
    assert.are.equal('rule inet st input "ip saddr @nosuch drop"', err.object)
    assert.truthy(tostring(err):find("nosuch", 1, true))
  end)
end)
