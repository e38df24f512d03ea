-- The bounded fuzz runs of ctest: each has a TIMEOUT, and the nft fuzzer (its seed from the
-- clock) says its seed before anything can go wrong, and makes the same inputs again from it.
-- README's commands for the long runs work as printed.

-- The test programs of this build (ctest builds them first; the ASan run takes their copies).
local suffix = os.getenv("CNET_ASAN") and "-asan" or ""
local fuzzer = ("%s/tests/nft_fuzz_sandbox_test%s"):format(H.build, suffix)

-- Runs the nft fuzzer in a sandbox of its own with the environment `env`; returns its
-- output (stdout and stderr) and whether it exited 0. `limit`: seconds before it is killed.
local function fuzz(env, limit)
  local cmd = ("%s %s/tests/sandbox.sh timeout -s KILL %d %s"):format(env, H.source, limit or 120, fuzzer)
  local ok, out = H.try(cmd)
  return out, ok
end

local function seed_of(out) return out:match("^nft fuzz: seed (%d+) %(replay: CNET_FUZZ_SEED=%1%)\n") end
local function digest_of(out) return out:match("%d+ inputs %(digest (%x+)%)") end

describe("the nft fuzzer (unit/nft_fuzz_sandbox_test)", function()
  it("prints its seed first, and makes the same inputs again from it", function()
    assert.truthy(H.try("test -x " .. fuzzer), fuzzer .. " is not built (ctest builds it)")
    local out, ok = fuzz("CNET_FUZZ_INPUTS=150")
    assert.is_true(ok, out)
    local seed, digest = seed_of(out), digest_of(out)
    assert.truthy(seed, "no seed on the first line: " .. out)
    assert.truthy(out:find(" 150 inputs ", 1, true), out)
    assert.truthy(digest, out)
    -- replayed from the seed it printed: the same 150 inputs
    local again = fuzz("CNET_FUZZ_INPUTS=150 CNET_FUZZ_SEED=" .. seed)
    assert.are.equal(seed, seed_of(again), again)
    assert.are.equal(digest, digest_of(again), again)
    -- and another seed makes other inputs (the digest is of the inputs, not a constant)
    local other = fuzz("CNET_FUZZ_INPUTS=150 CNET_FUZZ_SEED=" .. (seed == "99" and "98" or "99"))
    assert.are_not.equal(digest, digest_of(other), other)
  end)

  it("has printed its seed when it is killed midway, as ctest's TIMEOUT does", function()
    local out, ok = fuzz("CNET_FUZZ_SECONDS=60 CNET_FUZZ_SEED=4242", 3)
    assert.is_false(ok, "ran to its end in 3 s: " .. out)
    assert.is_nil(digest_of(out), out)
    assert.are.equal("4242", seed_of(out))
  end)
end)

describe("ctest", function()
  it("gives every fuzz run a TIMEOUT", function()
    local list = H.json(H.sh("ctest --test-dir " .. H.build .. " --show-only=json-v1"))
    local fuzz_tests, missing = {}, {}
    for _, t in ipairs(list.tests) do
      if t.name:find("fuzz", 1, true) then
        local timeout
        for _, p in ipairs(t.properties or {}) do
          if p.name == "TIMEOUT" then timeout = p.value end
        end
        fuzz_tests[#fuzz_tests + 1] = t.name
        if not (timeout and timeout > 0 and timeout <= 600) then missing[#missing + 1] = t.name end
      end
    end
    table.sort(fuzz_tests)
    for _, want in ipairs{"unit/nft_fuzz_sandbox_test", "unit/nftrule_fuzz_test", "fuzz/api"} do
      assert.truthy(table.concat(fuzz_tests, " "):find(want, 1, true), want .. " not in ctest")
    end
    assert.are.same({}, missing)
  end)
end)

describe("README's long fuzz runs", function()
  it("work as printed (for 3 s each instead of an hour)", function()
    local readme = H.read(H.source .. "/README.md")
    local block
    for code in readme:gmatch("```sh\n(.-)```") do
      if code:find("run-api-fuzz", 1, true) then block = code end
    end
    assert.truthy(block, "README shows no command for run-api-fuzz")
    assert.truthy(block:find("nft_fuzz_sandbox_test", 1, true), "nor for the nft fuzzer: " .. block)
    local n = 0
    for line in block:gmatch("[^\n]+") do
      -- this build, wherever it is, in place of README's build/
      local cmd = line:gsub("3600", "3"):gsub("run%-api%-fuzz 3$", "run-api-fuzz 3 " .. H.build)
                      :gsub("build/tests/", H.build .. "/tests/")
      local ok, out = H.try(("cd %s && %s"):format(H.source, cmd))
      assert.is_true(ok, cmd .. "\n" .. out)
      assert.truthy(out:find("api_fuzz: seed %d+") or out:find("nft fuzz: seed %d+"), cmd .. "\n" .. out)
      n = n + 1
    end
    assert.are.equal(2, n)
  end)
end)
