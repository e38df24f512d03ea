-- cnet.link.stats: the kernel's 64-bit counters after real traffic (pings between two
-- namespaces), against `ip -s -s -j link` and /sys/class/net/DEV/statistics.
local cnet = require "cnet"

-- ip's stats64.rx / stats64.tx keys, as cnet (and sysfs) name them.
local function ip_names(dir, key)
  if key == "multicast" or key == "collisions" then return key end
  return dir .. "_" .. key
end

describe("cnet.link.stats", function()
  it("gives the counters ip and sysfs give, after traffic", function()
    local na, nb = H.name("sta"), H.name("stb")
    local a <close> = cnet.netns.add(na)
    local b <close> = cnet.netns.add(nb)
    -- no IPv6 on these links: nothing but the pings (and ARP) moves the counters
    for _, ns in ipairs{a, b} do ns.sysctl.set("net.ipv6.conf.default.disable_ipv6", 1) end
    a.link.add{name = "s0", type = "veth", peer = {name = "s1", netns = b}, up = true}
    b.link.set("s1", {up = true})
    a.addr.add("s0", "192.0.2.1/24")
    b.addr.add("s1", "192.0.2.2/24")
    for _ = 1, 5 do assert(a.ping("192.0.2.2", {timeout = 2})) end
    local ip = H.ipj("-s -s link show s0", na)[1].stats64
    local mine = a.link.stats("s0")
    for _, dir in ipairs{"rx", "tx"} do
      for k, v in pairs(ip[dir]) do
        if k ~= "carrier_changes" then -- not a stats64 counter (IFLA_CARRIER_CHANGES)
          assert.are.equal(v, mine[ip_names(dir, k)], dir .. "." .. k)
        end
      end
    end
    local sys = H.sh("ip netns exec " .. na .. " sh -c 'cd /sys/class/net/s0/statistics && " ..
                     "for f in *; do echo $f $(cat $f); done'")
    local n = 0
    for name, value in sys:gmatch("(%S+) (%d+)") do
      assert.are.equal(tonumber(value), mine[name], name)
      n = n + 1
    end
    assert.is_true(n >= 20, "sysfs has the counters")
    -- five echo requests out and five replies in, at least, and their bytes
    assert.is_true(mine.tx_packets >= 5 and mine.rx_packets >= 5)
    assert.is_true(mine.tx_bytes >= 5 * 98 and mine.rx_bytes >= 5 * 98)
    assert.are.same({0, 0}, {mine.rx_errors, mine.tx_errors})
    -- the peer saw the requests and sent the replies
    local peer = b.link.stats("s1")
    assert.is_true(peer.rx_packets >= 5 and peer.tx_packets >= 5)
    -- by index, and every link at once
    local index = a.link.get("s0").index
    assert.are.same(mine, a.link.stats(index))
    local all = a.link.stats()
    assert.are.same(mine, all.s0)
    assert.is_table(all.lo)
    local ok, err = pcall(a.link.stats, "nosuch0")
    assert.is_false(ok)
    assert.are.equal("link.stats nosuch0: No such device", tostring(err))
  end)
end)
