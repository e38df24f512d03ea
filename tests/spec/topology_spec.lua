-- cnet.topology and the commands up/down/plan/status/graph: each example of
-- scripts/topologies/ end to end in a sandbox of its own (cnet --sandbox, with its simulated
-- internet), and the failure cases: conflicts, kernel refusals, a killed `up`, convergence.
local helper = H -- tests/spec/helper.lua, loaded by busted's --helper

local function run(script, ...)
  local args = table.concat({...}, " ")
  -- the sanitizer runtime preloaded for lua5.4 must not reach ip and nft (see helper.lua)
  local cmd = ("unset LD_PRELOAD; CNET_SOURCE_DIR=%s %s --sandbox %s/tests/spec/support/%s %s 2>&1"):format(
    helper.source, helper.bin, helper.source, script, args)
  local p = io.popen(cmd .. "; echo \"::$?\"")
  local out = p:read("a")
  p:close()
  local code = tonumber(out:match("::(%d+)%s*$"))
  return code, (out:gsub("::%d+%s*$", ""))
end

local function example(file, ...)
  local code, out = run("topology_check.lua", helper.source .. "/scripts/topologies/" .. file, ...)
  assert(code == 0, out)
  return out
end

describe("topology examples, up to down", function()
  it("1: the Tl;DR", function()
    local out = example("01-tldr.lua")
    assert.truthy(out:find("ok: tldr: cool reaches 198.51.100.1", 1, true))
    assert.truthy(out:find("ok: down: the sandbox is exactly as before up", 1, true))
  end)
  it("2: three containers on a bridge with NAT", function()
    assert.truthy(example("02-three-containers.lua"):find("ok: three: containers reach each other and the internet", 1, true))
  end)
  it("3: two subnets, a router, a one-way firewall", function()
    assert.truthy(example("03-router.lua"):find("ok: router: a -> b allowed, b -> a refused", 1, true))
  end)
  it("4: a port forward", function()
    assert.truthy(example("04-port-forward.lua"):find("ok: portfw: 203.0.113.2:8080 reaches web:80", 1, true))
  end)
  it("5: a multi-host overlay (three hosts joined by VXLAN)", function()
    assert.truthy(example("05-overlay.lua"):find("ok: overlay: six containers on three hosts share 10.10.0.0/24 over VXLAN 42", 1, true))
  end)
  it("6: macvlan containers", function()
    assert.truthy(example("06-macvlan.lua"):find("ok: macvlan: three containers on one parent", 1, true))
  end)
  it("7: dual-stack containers", function()
    assert.truthy(example("07-dual-stack.lua"):find("ok: dual: IPv4 and IPv6 between containers, IPv6 usable at once", 1, true))
  end)
  it("8: a shaped link between two sites", function()
    local out = example("08-shaped-link.lua")
    assert.truthy(out:find("ok: wan: site-a reaches site-b through wan0", 1, true))
    local skip = out:match("skip: [^\n]*")
    if skip then print("\n" .. skip) end   -- visible in the test's output
  end)
  it("9: N containers (N = 30)", function()
    assert.truthy(example("09-scale.lua", "30"):find("ok: scale: 30 containers up", 1, true))
  end)
end)

describe("topology failures and life cycle", function()
  for _, case in ipairs{"conflict", "refusal", "killed", "converge", "rechange", "kinds", "brnf", "invalid", "lua", "hosts"} do
    it(case, function()
      local code, out = run("topology_cases.lua", case)
      assert(code == 0, out)
      assert.truthy(out:find("ok: " .. case .. ":", 1, true), out)
    end)
  end
end)
