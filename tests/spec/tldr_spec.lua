-- The Tl;DR recipe (scripts/tldr.lua) and the forwarding/NAT section recipe
-- (scripts/05-forwarding-nat.lua), end to end under `cnet --sandbox`, checked from inside the
-- sandbox with independent tools: nft -j, ip -j, /proc, and nft's counters in the `internet`
-- namespace for who the upstream sees as the source.
local cnet = require "cnet"

local tmpdir = H.sh("mktemp -d /tmp/cnet-tldr-spec.XXXXXX")
teardown(function() os.execute("rm -rf " .. tmpdir) end)

local write = H.write

local read = H.read

-- Runs `cnet --sandbox FILE`; returns exit status, stdout, stderr.
local function sandboxed(file)
  local out, err = tmpdir .. "/out", tmpdir .. "/err"
  local _, _, code = os.execute(("%s --sandbox %s >%s 2>%s </dev/null"):format(H.bin, file, out, err))
  return code, read(out), read(err)
end


local recipe = H.source .. "/scripts/tldr.lua"

describe("scripts/tldr.lua", function()
  it("reaches the sandbox's internet through the bridge and NAT, and says so", function()
    local code, out, err = sandboxed(recipe)
    assert.are.equal(0, code, out .. err)
    assert.truthy(out:find("cool: ping 198.51.100.1: [%d.]+ ms"), out)
    assert.truthy(out:find("\n   1  192.168.1.10\n", 1, true), out)
    assert.truthy(out:find("hello! the time right now is", 1, true), out)
    assert.truthy(out:find("from 203.0.113.2 (the uplink), none from 192.168.1.0/24", 1, true), out)
    -- the sandbox vanished with everything the recipe made
    assert.are.equal("", H.sh("ls -A /run/netns"))
    assert.is_nil(H.iplink("br0"))
  end)

  it("leaves a state that the kernel's own tools confirm", function()
    -- A driver runs the recipe, then looks with nft/ip/proc. Before it, a watch table made
    -- with nft itself in `internet` counts the sources of what arrives there.
    local driver = write(tmpdir .. "/driver.lua", ([[
      os.execute("ip netns exec internet nft add table ip w")
      os.execute("ip netns exec internet nft add chain ip w in '{ type filter hook input priority 0; }'")
      os.execute("ip netns exec internet nft add rule ip w in ip saddr 203.0.113.2 counter")
      os.execute("ip netns exec internet nft add rule ip w in ip saddr 192.168.1.0/24 counter")
      dofile(%q)
      print("--- ruleset"); io.stdout:flush()
      os.execute("nft -j list ruleset")
      print("--- watch"); io.stdout:flush()
      os.execute("ip netns exec internet nft -j list table ip w")
      print("--- forward"); io.stdout:flush()
      os.execute("cat /proc/sys/net/ipv4/ip_forward")
      print("--- route"); io.stdout:flush()
      os.execute("ip -n cool -j route show default")
      print("--- master"); io.stdout:flush()
      os.execute("ip -j link show dev br-veth0")
      print("--- end")
    ]]):format(recipe))
    local code, out, err = sandboxed(driver)
    assert.are.equal(0, code, out .. err)
    local function part(name) return out:match("%-%-%- " .. name .. "\n(.-)\n%-%-%- ") end
    -- nft: the recipe's own table, and nothing else but the watch table's namespace
    local tables, chains, rules = {}, {}, {}
    for _, item in ipairs(H.json(part("ruleset")).nftables) do
      if item.table then tables[#tables + 1] = item.table.family .. " " .. item.table.name end
      if item.chain then chains[item.chain.name] = item.chain end
      if item.rule then rules[#rules + 1] = item.rule end
    end
    assert.are.same({"ip cnet"}, tables)
    assert.are.equal("drop", chains.forward.policy)
    assert.are.equal("forward", chains.forward.hook)
    assert.are.equal("nat", chains.postrouting.type)
    assert.are.equal(100, chains.postrouting.prio)
    assert.are.equal(3, #rules)
    -- the upstream saw the uplink's address, never the namespace's
    local counts = {}
    for _, item in ipairs(H.json(part("watch")).nftables) do
      if item.rule then
        local e = item.rule.expr
        counts[e[1].match.right.prefix and "ns" or e[1].match.right] = e[2].counter.packets
      end
    end
    assert.truthy(counts["203.0.113.2"] > 0, part("watch"))
    assert.are.equal(0, counts.ns)
    assert.are.equal("1", part("forward"))
    assert.are.equal("192.168.1.10", H.json(part("route"))[1].gateway)
    assert.are.equal("br0", H.json(part("master"))[1].master)
  end)

  it("stops at the first failed step when run twice (the namespace exists)", function()
    local driver = write(tmpdir .. "/twice.lua", ("dofile(%q); dofile(%q)"):format(recipe, recipe))
    local code, out, err = sandboxed(driver)
    assert.are.equal(1, code, out .. err)
    assert.truthy(err:find("netns.add cool: File exists", 1, true), err)
  end)
end)

describe("scripts/05-forwarding-nat.lua", function()
  it("tells the story: failed ping, traceroute stopping at the bridge, forwarding, rules, success", function()
    local code, out, err = sandboxed(H.source .. "/scripts/05-forwarding-nat.lua")
    assert.are.equal(0, code, out .. err)
    local steps = {}
    for n in out:gmatch("\n== (%d)%.") do steps[#steps + 1] = tonumber(n) end
    assert.are.same({1, 2, 3, 4, 5}, steps)
    assert.truthy(out:find("the bridge answers, nothing beyond it does", 1, true), out)
    assert.truthy(out:find('iifname "br0" accept', 1, true), out)
    assert.truthy(out:find("ip saddr 192.168.1.0/24 masquerade", 1, true), out)
    assert.truthy(out:find("ping 198.51.100.1: [%d.]+ ms"), out)
    assert.truthy(out:find("forwarding + NAT: cool reaches the internet", 1, true), out)
  end)

  it("continues from where scripts/04 left the sandbox", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(('dofile(%q); dofile(%q)\n'):format(H.source .. "/scripts/04-veth-and-bridge.lua",
      H.source .. "/scripts/05-forwarding-nat.lua"))
    f:close()
    local code, out, err = sandboxed(path)
    os.remove(path)
    assert.are.equal(0, code, out .. err)
    assert.truthy(out:find("forwarding + NAT: cool reaches the internet", 1, true), out)
  end)

  it("refuses to run outside the sandbox", function()
    local code, out = pcall(dofile, H.source .. "/scripts/05-forwarding-nat.lua")
    assert.is_false(code)
    assert.truthy(tostring(out):find("run this recipe in the sandbox", 1, true))
    assert.is_nil(H.iplink("br0"))
  end)
end)

describe("scripts/cleanup.lua and net.ipv4.ip_forward", function()
  -- A driver in a sandbox: sets the starting value, runs the recipes, then cleanup twice,
  -- and reads the sysctl from /proc after each.
  local function run(start, recipes)
    local lines = {("cnet.sysctl.set('net.ipv4.ip_forward', %d)"):format(start),
      "local function fwd() local f = io.open('/proc/sys/net/ipv4/ip_forward'); " ..
      "local v = f:read('l'); f:close(); return v end"}
    for _, r in ipairs(recipes) do
      lines[#lines + 1] = ("dofile(%q)"):format(H.source .. "/scripts/" .. r)
    end
    lines[#lines + 1] = "print('RECIPES ' .. fwd())"
    lines[#lines + 1] = ("dofile(%q)"):format(H.source .. "/scripts/cleanup.lua")
    lines[#lines + 1] = "print('CLEANUP ' .. fwd() .. ' ' .. tostring(io.open('/run/cnet-recipes.ip_forward') == nil))"
    lines[#lines + 1] = ("dofile(%q)"):format(H.source .. "/scripts/cleanup.lua")
    lines[#lines + 1] = "print('AGAIN ' .. fwd())"
    local code, out, err = sandboxed(write(tmpdir .. "/fwd.lua", table.concat(lines, "\n") .. "\n"))
    assert.are.equal(0, code, out .. err)
    return out
  end

  it("puts back 0 after tldr.lua turned it on, and forgets the note", function()
    local out = run(0, {"tldr.lua"})
    assert.truthy(out:find("\nRECIPES 1\n", 1, true), out)
    assert.truthy(out:find("net.ipv4.ip_forward: back to 0\n", 1, true), out)
    assert.truthy(out:find("\nCLEANUP 0 true\n", 1, true), out)
    -- run again, cleanup has nothing noted and leaves the value alone
    assert.truthy(out:find("net.ipv4.ip_forward: no recipe changed it (left at 0)", 1, true), out)
    assert.truthy(out:find("\nAGAIN 0\n", 1, true), out)
  end)

  it("notes the value before the first change: 1 stays 1 after 05 turned it off and on", function()
    local out = run(1, {"05-forwarding-nat.lua"})
    assert.truthy(out:find("net.ipv4.ip_forward: back to 1\n", 1, true), out)
    assert.truthy(out:find("\nCLEANUP 1 true\n", 1, true), out)
  end)
end)

describe("scripts/cleanup.lua and the recipes' nftables table", function()
  it("deletes table ip cnet and leaves every other table alone", function()
    H.sh("nft add table ip cnet; nft add chain ip cnet forward '{ type filter hook forward priority 0; policy drop; }'")
    H.sh("nft add table ip other; nft add chain ip other c; nft add rule ip other c counter accept")
    H.sh("nft add table inet cnet")
    local other = H.sh("nft -j list table ip other")
    dofile(H.source .. "/scripts/cleanup.lua")
    assert.is_false((H.try("nft list table ip cnet")))
    assert.are.equal(other, H.sh("nft -j list table ip other"))
    assert.is_true((H.try("nft list table inet cnet")))
    dofile(H.source .. "/scripts/cleanup.lua") -- twice is harmless
    H.sh("nft delete table ip other; nft delete table inet cnet")
  end)

  it("cleanup after the Tl;DR leaves the sandbox as it found it", function()
    local driver = write(tmpdir .. "/undo.lua", ([[
      -- names only: the uplink's carrier state comes up on its own meanwhile
      local view = "nft list ruleset; ip -o link | cut -d' ' -f2; ls /run/netns"
      local before = io.popen(view):read("a")
      dofile(%q)
      dofile(%q)
      local after = io.popen(view):read("a")
      assert(before == after, "before:\n" .. before .. "\nafter:\n" .. after)
      print("same")
    ]]):format(recipe, H.source .. "/scripts/cleanup.lua"))
    local code, out, err = sandboxed(driver)
    assert.are.equal(0, code, out .. err)
    assert.truthy(out:find("\nsame\n"), out)
  end)
end)
