-- cnet.sysctl: get and set per namespace, checked through /proc/sys read by other processes.
local cnet = require "cnet"

local function proc(key, ns)
  local path = "/proc/sys/" .. key:gsub("%.", "/")
  return H.sh((ns and ("ip netns exec " .. ns .. " ") or "") .. "cat " .. path)
end

describe("cnet.sysctl", function()
  it("reads and writes in the namespace it is bound to, dotted or slashed keys", function()
    local nsname = H.name("sns")
    local ns <close> = cnet.netns.add(nsname)
    assert.are.equal(proc("net.ipv4.ip_forward"), cnet.sysctl.get("net.ipv4.ip_forward"))
    cnet.sysctl.set("net.ipv4.ip_forward", 1)
    assert.are.equal("1", proc("net.ipv4.ip_forward"))
    assert.are.equal("0", proc("net.ipv4.ip_forward", nsname))
    ns.sysctl.set("net/ipv4/ip_forward", "1")
    assert.are.equal("1", proc("net.ipv4.ip_forward", nsname))
    assert.are.equal("1", ns.sysctl.get("net/ipv4/ip_forward"))
    cnet.sysctl.set("net.ipv4.ip_forward", false)
    assert.are.equal("0", proc("net.ipv4.ip_forward"))
    assert.are.equal("1", ns.sysctl.get("net.ipv4.ip_forward"))
  end)

  it("handles values with spaces and interface names with dots (slashed keys)", function()
    cnet.sysctl.set("net.ipv4.ip_local_port_range", "20000 30000")
    assert.are.equal("20000\t30000", proc("net.ipv4.ip_local_port_range"))
    assert.are.equal("20000\t30000", cnet.sysctl.get("net.ipv4.ip_local_port_range"))
    H.sh("ip link add v.1 type veth peer name v.2")
    cnet.sysctl.set("net/ipv4/conf/v.1/forwarding", 1)
    assert.are.equal("1", H.sh("cat /proc/sys/net/ipv4/conf/v.1/forwarding"))
    H.sh("ip link del v.1")
  end)

  it("inside cnet.batch, sees the links queued before it", function()
    cnet.batch(function()
      cnet.link.add{name = "bsys0", type = "bridge"}
      cnet.sysctl.set("net.ipv4.conf.bsys0.forwarding", 1)
    end)
    assert.are.equal("1", H.sh("cat /proc/sys/net/ipv4/conf/bsys0/forwarding"))
    H.sh("ip link del bsys0")
  end)

  it("raises ENOENT for unknown keys and EINVAL for bad keys and refused values", function()
    local ok, err = pcall(cnet.sysctl.get, "net.ipv4.no_such_key")
    assert.is_false(ok)
    assert.are.equal("ENOENT", err.code)
    assert.are.equal("sysctl.get net.ipv4.no_such_key: No such file or directory", tostring(err))
    for _, bad in ipairs{"", "net..ipv4", "../../etc/passwd", "/etc/passwd", "net/ipv4/../../x"} do
      ok, err = pcall(cnet.sysctl.get, bad)
      assert.is_false(ok, bad)
      assert.are.equal("EINVAL", err.code, bad)
    end
    ok, err = pcall(cnet.sysctl.set, "net.ipv4.ip_forward", "abc")
    assert.are.equal("EINVAL", err.code)
    assert.are.equal("sysctl.set net.ipv4.ip_forward: Invalid argument: value 'abc' refused", tostring(err))
    -- a bad key is blamed on the key, whatever the value
    ok, err = pcall(cnet.sysctl.set, "net..ipv4", "1")
    assert.are.equal("EINVAL", err.code)
    assert.are.equal("sysctl.set net..ipv4: Invalid argument: invalid key (net.ipv4.ip_forward or net/ipv4/ip_forward)",
      tostring(err))
    assert.has_error(function() cnet.sysctl.set("net.ipv4.ip_forward", {}) end,
      "bad argument #2 to 'set' (string, integer or boolean expected, got table)")
    assert.has_error(function() cnet.sysctl.set("net.ipv4.ip_forward", 1.5) end,
      "bad argument #2 to 'set' (value: integer expected, got 1.5)")
  end)

  it("refuses to write keys outside net.*, which are machine-wide, and leaves them unchanged", function()
    local before = H.sh("cat /proc/sys/kernel/hostname")
    local ok, err = pcall(cnet.sysctl.set, "kernel.hostname", "changed-by-cnet")
    assert.is_false(ok)
    assert.are.equal("EPERM", err.code)
    assert.are.equal("sysctl.set kernel.hostname: Operation not permitted: only net.* keys belong to a network namespace",
      tostring(err))
    assert.are.equal(before, H.sh("cat /proc/sys/kernel/hostname"))
    -- reading is harmless and allowed
    assert.are.equal(before, cnet.sysctl.get("kernel.hostname"))
  end)
end)
