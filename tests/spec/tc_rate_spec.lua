-- A tbf-shaped link carries about its configured rate: a bounded TCP transfer between two
-- namespaces (tests/spec/support/tcpbulk.py at both ends), timed at the receiver.
local cnet = require "cnet"

local helper = H.source .. "/tests/spec/support/tcpbulk.py"

-- Two namespaces joined by a veth (a0 192.0.2.1 in `a`, b0 192.0.2.2 in `b`).
local function pair()
  local a, b = cnet.netns.add(H.name("ra")), cnet.netns.add(H.name("rb"))
  a.link.set("lo", {up = true})
  b.link.set("lo", {up = true})
  a.link.add{name = "a0", type = "veth", peer = {name = "b0", netns = b}, up = true}
  b.link.set("b0", {up = true})
  a.addr.add("a0", "192.0.2.1/24")
  b.addr.add("b0", "192.0.2.2/24")
  return a, b
end

-- Sends `bytes` from a to b; returns the receiver's bit rate over what followed its first read.
local function transfer(a, b, bytes)
  local out = os.tmpname()
  -- the ends run without the sanitizer runtime the ASan run preloads: they are not under test
  local env = {LD_PRELOAD = false}
  local rpid = b.spawn({"/usr/bin/python3", helper, "recv", "192.0.2.2", "5001"},
                       {stdout = out, env = env})
  local spid = a.spawn({"/usr/bin/python3", helper, "send", "192.0.2.2", "5001", tostring(bytes)},
                       {env = env})
  assert.are.equal(0, a.wait(spid, 60))
  assert.are.equal(0, b.wait(rpid, 60))
  local r = H.json(H.read(out))
  os.remove(out)
  assert.are.equal(bytes, r.bytes)
  return r.timed * 8 / r.seconds, r
end

describe("a tbf-shaped link", function()
  it("carries its configured rate within 20% (4 Mbit/s for about 3 s)", function()
    local a, b = pair()
    local fast = transfer(a, b, 1500000)             -- unshaped first: far above the rate
    local rate = 4e6
    assert.are.equal("tbf", a.tc.shape("a0", {rate = rate}))
    local measured, r = transfer(a, b, 1500000)      -- 1.5 MB at 4 Mbit/s: 3 s
    io.stderr:write(("\n[tc_rate] configured %.0f bit/s, measured %.0f bit/s (%.1f%%) over "
      .. "%.2f s, %d bytes; unshaped %.0f bit/s\n"):format(rate, measured,
      100 * measured / rate, r.seconds, r.timed, fast))
    assert.is_true(fast > 2 * rate, "the unshaped link is not faster than the shaped one")
    assert.is_true(measured > 0.8 * rate and measured < 1.2 * rate,
      ("measured %.0f bit/s for a configured %.0f"):format(measured, rate))
    a.close(); b.close()
  end)
end)
