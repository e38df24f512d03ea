-- What a user gets from the source tree: the license, README's two commands as CI runs them,
-- and a default build that makes the program once, optimized (the tests' extra programs and
-- the sanitizer copies are built by ctest, not by `cmake --build`).
local readme = H.read(H.source .. "/README.md")
local ci = H.read(H.source .. "/.ci/run")

-- The packages an `apt-get install -y ...` text names, as a set.
local function packages(text)
  local set = {}
  for word in text:gsub("\\\n", " "):gmatch("%S+") do
    if word:match("^[%w][%w.+-]+$") and word ~= "apt-get" and word ~= "install" then set[word] = true end
  end
  return set
end

local function sh_blocks(text)
  local blocks = {}
  for code in text:gmatch("```sh\n(.-)```") do blocks[#blocks + 1] = code end
  return blocks
end

describe("the source tree", function()
  it("carries the MIT license at its root", function()
    local text = H.read(H.source .. "/LICENSE")
    assert.truthy(text:find("^MIT License\n"), "LICENSE missing or not MIT")
    assert.truthy(text:find("Permission is hereby granted, free of charge", 1, true))
    assert.truthy(readme:find("MIT", 1, true), "README names the license")
  end)
end)

describe("README's commands", function()
  local blocks = sh_blocks(readme)
  local install = assert(blocks[1]:match("apt%-get install %-y ([^&]+)"), blocks[1])
  local test_cmd = blocks[2]:gsub("\n$", "")

  it("CI runs exactly README's test command, as its last line", function()
    assert.truthy(test_cmd:find("ctest", 1, true), test_cmd)
    assert.are.equal(test_cmd, ci:gsub("\n$", ""):match("[^\n]*$"))
  end)

  it("CI installs every package of README's install line", function()
    local want = packages(install)
    local have = {}
    for line in ci:gsub("\\\n", " "):gmatch("apt%-get install ([^\n>]+)") do
      for p in pairs(packages(line)) do have[p] = true end
    end
    for p in pairs(want) do assert.is_true(have[p] == true, "CI does not install " .. p) end
  end)

  it("installs what cnet needs, not the benchmark's peers", function()
    local want = packages(install)
    for _, bench_only in ipairs{"python3-pyroute2", "containernetworking-plugins", "gnuplot-nox"} do
      assert.is_nil(want[bench_only], bench_only .. " is for the benchmark only")
    end
    for _, needed in ipairs{"liblua5.4-dev", "libmnl-dev", "libnftnl-dev", "libreadline-dev", "man-db"} do
      assert.is_true(want[needed], needed)
    end
  end)
end)

describe("the default build (cmake --build)", function()
  local dir
  setup(function()
    dir = H.sh("mktemp -d /tmp/cnet-pkg.XXXXXX")
    H.sh(("cmake -S %s -B %s"):format(H.source, dir))
  end)
  teardown(function() H.sh("rm -rf " .. dir) end)

  -- The commands `cmake --build` would run for target, without running them (-k: make's dry
  -- run stops at the first object library, whose objects it has not made).
  local function plan(target)
    local _, out = H.try(("make -n -k -C %s %s"):format(dir, target or "all"))
    return out
  end

  it("builds the program once, optimized: no sanitizer copies, no test programs", function()
    local p = plan()
    assert.truthy(p:find("%-O2"), "optimized")
    assert.is_nil(p:find("-fsanitize", 1, true), "the default build compiles a sanitizer copy")
    assert.is_nil(p:find("_test.c", 1, true), "the default build compiles the unit tests")
    -- each source of the host binary is compiled exactly once
    local _, n = p:gsub("%-c [^\n]*bindings/cli/main%.c", "")
    assert.are.equal(1, n)
    local _, k = p:gsub("%-c [^\n]*core/system/netns%.c", "")
    assert.are.equal(1, k)
  end)

  it("leaves the test programs to ctest's first test, build/test-programs", function()
    local tests = H.sh(("ctest --test-dir %s -N"):format(dir))
    assert.truthy(tests:find("build/test-programs", 1, true), tests)
    local p = plan("cnet_test_programs")
    assert.truthy(p:find("-fsanitize", 1, true), "the tests' build makes the sanitizer copies")
    assert.truthy(p:find("_test.c", 1, true), "the tests' build makes the unit tests")
  end)
end)
