-- cnet.vlan: VLANs of bridge ports. The kernel takes them only with bridge VLAN filtering
-- (CONFIG_BRIDGE_VLAN_FILTERING); where it lacks it, the requests cnet sends are compared
-- byte for byte with those `bridge vlan` sends (captured with strace), and the refusal is
-- checked to be the kernel's clear EOPNOTSUPP.
local cnet = require "cnet"

local function bridge()
  local br, a = H.name("vbr"), H.name("va")
  H.sh(("ip link add %s type bridge && ip link add %s type veth peer name %sp && " ..
        "ip link set %s master %s && ip link set %s up && ip link set %s up")
    :format(br, a, a, a, br, br, a))
  return br, a
end

-- Whether this kernel filters VLANs on bridges.
local function filtering()
  local br = H.name("vq")
  local ok = H.try("ip link add " .. br .. " type bridge vlan_filtering 1")
  H.try("ip link del " .. br)
  return ok
end

-- The netlink messages of type RTM_SETLINK (19) or RTM_DELLINK (17) a command sent, with the
-- sequence number and port id zeroed.
local function sent(cmd)
  local msgs = {}
  for _, m in ipairs(H.netlink_sent(cmd)) do
    if m.type == 19 or m.type == 17 then
      for i = 9, 16 do m.bytes[i] = 0 end -- nlmsg_seq, nlmsg_pid
      msgs[#msgs + 1] = table.concat(m.bytes, " ")
    end
  end
  return msgs
end

-- cnet runs as the host binary on a one-liner; a refusal is expected here, so under pcall.
local function cnet_sent(code)
  local f = os.tmpname()
  H.write(f, "pcall(" .. code .. ")\n")
  local msgs = sent(H.bin .. " " .. f)
  os.remove(f)
  return msgs
end

describe("cnet.vlan", function()
  it("sends the requests bridge vlan sends", function()
    if not H.try("command -v strace >/dev/null") then
      pending("strace is not installed: the requests are not compared")
      return
    end
    local br, a = bridge()
    local cases = {
      {("bridge vlan add vid 10 dev %s pvid untagged"):format(a),
       ("cnet.vlan.add, {dev = %q, vid = 10, pvid = true, untagged = true}"):format(a)},
      {("bridge vlan add vid 20-22 dev %s"):format(a),
       ("cnet.vlan.add, {dev = %q, vid = 20, vid_end = 22}"):format(a)},
      {("bridge vlan add vid 30 dev %s self"):format(br),
       ("cnet.vlan.add, {dev = %q, vid = 30, self = true}"):format(br)},
      {("bridge vlan add vid 31 dev %s master untagged"):format(a),
       ("cnet.vlan.add, {dev = %q, vid = 31, master = true, untagged = true}"):format(a)},
      {("bridge vlan del vid 10 dev %s"):format(a),
       ("cnet.vlan.delete, {dev = %q, vid = 10}"):format(a)},
      {("bridge vlan del vid 20-22 dev %s"):format(a),
       ("cnet.vlan.delete, {dev = %q, vid = 20, vid_end = 22}"):format(a)},
    }
    for _, c in ipairs(cases) do
      local theirs, mine = sent(c[1]), cnet_sent(c[2])
      assert.are.equal(1, #theirs, c[1])
      assert.are.same(theirs, mine, c[2])
    end
    H.sh("ip link del " .. br .. " && ip link del " .. a)
  end)

  it("adds, lists and deletes port VLANs as bridge vlan shows them (or says the kernel cannot)", function()
    local br, a = bridge()
    if not filtering() then
      -- This kernel has no VLAN filtering: the kernel's refusal comes back whole and clear.
      local ok, err = pcall(cnet.vlan.add, {dev = a, vid = 10, pvid = true, untagged = true})
      assert.is_false(ok)
      assert.are.equal("EOPNOTSUPP", err.code)
      assert.are.equal("vlan.add vid 10 dev " .. a .. ": Operation not supported", tostring(err))
      assert.are.same({}, H.json(H.sh("bridge -j vlan show")))
      assert.are.same({}, cnet.vlan.list())
      H.sh("ip link del " .. br .. " && ip link del " .. a)
      pending("this kernel lacks CONFIG_BRIDGE_VLAN_FILTERING: VLANs checked as requests only")
      return
    end
    H.sh("ip link set " .. br .. " type bridge vlan_filtering 1")
    cnet.vlan.add{dev = a, vid = 10, pvid = true, untagged = true}
    cnet.vlan.add{dev = a, vid = 20, vid_end = 22}
    local theirs = {}
    for _, port in ipairs(H.json(H.sh("bridge -j vlan show dev " .. a))) do
      for _, v in ipairs(port.vlans) do
        theirs[#theirs + 1] = ("%d-%d"):format(v.vlan, v.vlanEnd or v.vlan)
      end
    end
    local mine = {}
    for _, v in ipairs(cnet.vlan.list(a)) do mine[#mine + 1] = ("%d-%d"):format(v.vid, v.vid_end or v.vid) end
    assert.are.same(theirs, mine)
    cnet.vlan.delete{dev = a, vid = 20, vid_end = 22}
    H.sh("ip link del " .. br .. " && ip link del " .. a)
  end)

  it("rejects bad VLAN ids before sending anything", function()
    local br, a = bridge()
    assert.has_error(function() cnet.vlan.add{dev = a, vid = 4095} end,
      "bad argument #1 to 'add' (field 'vid': 4095 out of range [1, 4094])")
    assert.has_error(function() cnet.vlan.add{dev = a, vid = 20, vid_end = 10} end,
      "bad argument #1 to 'add' (field 'vid_end': must not be below vid)")
    assert.has_error(function() cnet.vlan.add{dev = a, vid = 20, vid_end = 22, pvid = true} end,
      "bad argument #1 to 'add' (field 'pvid': one VLAN only, not a range)")
    assert.has_error(function() cnet.vlan.add{dev = a} end, "bad argument #1 to 'add' (field 'vid' required)")
    assert.has_error(function() cnet.vlan.add{dev = a, vid = 5, tagged = true} end,
      "bad argument #1 to 'add' (unknown option 'tagged')")
    local ok, err = pcall(cnet.vlan.add, {dev = "nosuch0", vid = 5})
    assert.are.equal("vlan.add vid 5 dev nosuch0: No such device: dev nosuch0", tostring(err))
    H.sh("ip link del " .. br .. " && ip link del " .. a)
  end)
end)
