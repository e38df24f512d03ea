-- What the kernel here cannot check: link kinds it has no driver for (dummy, vlan, ipvlan, vrf,
-- bond, wireguard) and the bridge's VLAN options it was built without. For each, the request
-- cnet sends is compared with the one `ip link add` sends for the same device, as strace sees
-- them leave (every byte of each sendmsg). The kernel refuses both here; cnet must say so
-- plainly.
local cnet = require "cnet"

local NLM_F_CREATE, RTM_NEWLINK = 0x400, 16
-- Nested attributes: IFLA_LINKINFO at the top, IFLA_INFO_DATA inside it. Strings that ip sends
-- without their NUL and cnet with it (the kernel takes both): IFLA_IFNAME, IFLA_INFO_KIND.
-- Attribute types are compared without NLA_F_NESTED, which libmnl sets on a nest and ip does
-- not (the kernel takes both).
local NESTED = {top = {[18] = "linkinfo"}, linkinfo = {[2] = "data"}, data = {}}
local STRINGS = {top = {[3] = true}, linkinfo = {[1] = true}, data = {}}

local function u16(b, i) return b[i] | b[i + 1] << 8 end

-- The attributes in bytes b[from..to] as one canonical string: sorted by type, nested ones
-- expanded, strings without trailing NULs.
local function canon(b, from, to, level)
  local parts, i = {}, from
  while i + 3 <= to do
    local len, typ = u16(b, i), u16(b, i + 2) & 0x3fff
    if len < 4 then break end
    local s, e = i + 4, i + len - 1
    local text
    if NESTED[level][typ] then
      text = "{" .. canon(b, s, e, NESTED[level][typ]) .. "}"
    else
      if STRINGS[level][typ] then while e >= s and b[e] == 0 do e = e - 1 end end
      local hex = {}
      for k = s, e do hex[#hex + 1] = ("%02x"):format(b[k]) end
      text = table.concat(hex)
    end
    parts[#parts + 1] = typ .. "=" .. text
    i = i + ((len + 3) & ~3)
  end
  table.sort(parts)
  return table.concat(parts, " ")
end

-- The link-creating requests among what `cmd` sent (H.netlink_sent), each as
-- "flags ifinfomsg attributes"; and cmd's own output.
local function requests(cmd)
  local msgs, out = H.netlink_sent(cmd)
  local found = {}
  for _, m in ipairs(msgs) do
    if m.type == RTM_NEWLINK and m.flags & NLM_F_CREATE ~= 0 then
      local b, ifi = m.bytes, {}
      for k = 17, 32 do ifi[#ifi + 1] = ("%02x"):format(b[k]) end
      found[#found + 1] = ("flags=%x ifi=%s %s"):format(m.flags, table.concat(ifi),
        canon(b, 33, #b, "top"))
    end
  end
  return found, out
end

local cases = {
  {"d0", "dummy", "link add d0 type dummy", {}},
  {"v10", "vlan", "link add link eth0 name v10 type vlan id 10", {link = "eth0", id = 10}},
  {"v11", "vlan", "link add link eth0 name v11 mtu 1400 type vlan id 11 protocol 802.1ad",
   {link = "eth0", id = 11, protocol = "802.1ad", mtu = 1400}},
  {"iv0", "ipvlan", "link add link eth0 name iv0 type ipvlan mode l3", {link = "eth0", mode = "l3"}},
  {"iv1", "ipvlan", "link add link eth0 name iv1 type ipvlan mode l3s private",
   {link = "eth0", mode = "l3s", flags = "private"}},
  {"vrf0", "vrf", "link add vrf0 type vrf table 10", {table = 10}},
  {"bond0", "bond", "link add bond0 type bond mode 802.3ad miimon 100 updelay 200 downdelay 200 " ..
   "xmit_hash_policy layer3+4 lacp_rate fast ad_select bandwidth min_links 2",
   {mode = "802.3ad", miimon = 100, updelay = 200, downdelay = 200,
    xmit_hash_policy = "layer3+4", lacp_rate = "fast", ad_select = "bandwidth", min_links = 2}},
  {"wg0", "wireguard", "link add wg0 type wireguard", {}},
  {"br9", "bridge", "link add br9 type bridge vlan_filtering 1 vlan_protocol 802.1ad " ..
   "vlan_default_pvid 5 vlan_stats_enabled 1 vlan_stats_per_port 1",
   {vlan_filtering = 1, vlan_protocol = "802.1ad", vlan_default_pvid = 5,
    vlan_stats_enabled = 1, vlan_stats_per_port = 1}},
}

-- A cnet.link.add call as Lua text.
local function call(name, kind, opts)
  local fields = {("name = %q"):format(name), ("type = %q"):format(kind)}
  local keys = {}
  for k in pairs(opts) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = opts[k]
    fields[#fields + 1] = ("%s = %s"):format(k, type(v) == "string" and ("%q"):format(v) or tostring(v))
  end
  return "require('cnet').link.add{" .. table.concat(fields, ", ") .. "}"
end

describe("link requests the kernel here refuses", function()
  setup(function() H.sh("ip link add eth0 type veth peer name eth1") end)
  teardown(function() H.try("ip link del eth0") end)

  for _, c in ipairs(cases) do
    local name, kind, ipcmd, opts = c[1], c[2], c[3], c[4]
    it(("%s: cnet sends what `ip %s` sends"):format(kind, ipcmd), function()
      local ip = requests("ip " .. ipcmd)
      H.try("ip link del " .. name) -- in a kernel that has the kind
      local lua = call(name, kind, opts)
      local mine, out = requests(("%s -e %q"):format(H.bin, lua))
      local made = H.iplink(name) ~= nil
      H.try("ip link del " .. name)
      assert.are.equal(1, #ip, "ip sent one request")
      assert.are.equal(1, #mine, "cnet sent one request: " .. out)
      assert.are.equal(ip[1], mine[1])
      if not made then -- refused: cnet says why, naming the call
        assert.truthy(out:find("link.add " .. name .. ": Operation not supported", 1, true), out)
        if kind ~= "bridge" then
          assert.truthy(out:find("link kind " .. kind .. " is not available in this kernel", 1, true), out)
        end
      end
    end)
  end

  it("would see a difference (the comparison itself works)", function()
    local a = requests("ip link add link eth0 name v12 type vlan id 12")
    local b = requests(("%s -e %q"):format(H.bin, call("v12", "vlan", {link = "eth0", id = 13})))
    assert.are.equal(1, #a)
    assert.are.equal(1, #b)
    assert.are_not.equal(a[1], b[1])
    assert.truthy(a[1]:find("2={1=0c00} 1=766c616e") or a[1]:find("1=766c616e 2={1=0c00}"), a[1])
  end)
end)

describe("kinds the kernel here lacks", function()
  it("are refused with the kind named, in a batch too", function()
    local ok, err = pcall(cnet.link.add, {name = "d1", type = "dummy"})
    if ok then
      H.sh("ip link del d1")
      pending("this kernel has the dummy driver")
      return
    end
    assert.are.same({"EOPNOTSUPP", "link.add", "d1"}, {err.code, err.op, err.object})
    assert.are.equal("link.add d1: Operation not supported: link kind dummy is not available in this kernel",
      tostring(err))
    assert.is_nil(H.iplink("d1"))
    ok, err = pcall(cnet.batch, function()
      cnet.link.add{name = "b0", type = "bridge"}
      cnet.link.add{name = "v20", type = "vlan", link = "b0", id = 20}
    end)
    assert.is_false(ok)
    assert.are.equal("link.add v20: Operation not supported: link kind vlan is not available in this kernel",
      tostring(err))
    assert.is_not_nil(H.iplink("b0"), "the rest of the batch was sent")
    H.sh("ip link del b0")
  end)
end)
