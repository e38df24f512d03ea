-- The Lua examples of the docs run as printed, so the docs cannot drift from behaviour.
-- docs/api.md and docs/tutorial.md: every ```lua block runs in a fresh `cnet --sandbox`,
-- with the markers of docs/design.md ("Examples in the docs") for a hidden setup, a block
-- that continues the one before it, or one that must be skipped (with a reason). Errors
-- point at the doc's own lines. Every other doc's examples at least compile; README's
-- example also runs, in readme_spec.
local run_docs = {"docs/api.md", "docs/tutorial.md"}
local compile_docs = {"README.md", "docs/recipes.md", "docs/design.md", "docs/performance.md",
                      "docs/cni.md"}

local tmpdir = H.sh("mktemp -d /tmp/cnet-docs-spec.XXXXXX")
teardown(function() os.execute("rm -rf " .. tmpdir) end)

local function line_of(text, pos)
  local _, n = text:sub(1, pos):gsub("\n", "")
  return n + 1
end

-- The examples of a doc, in order: {line =, code =, setup = {line =, code =} | nil,
-- continues = bool, skip = reason | nil}. line is the doc line of the block's first code line.
local function examples(doc)
  local text = H.read(H.source .. "/" .. doc)
  local list = {}
  for start, code in text:gmatch("()```lua\n(.-)```") do
    local ex = {line = line_of(text, start) + 1, code = code}
    -- a marker is an HTML comment ending right above the block
    local before = text:sub(1, start - 1)
    local mstart, marker
    if before:find("%-%->%s*$") then
      local from = 1
      while true do -- the last marker before the block
        local at = before:find("<!-- example:", from, true)
        if not at then break end
        mstart, from = at, at + 1
      end
      marker = mstart and before:sub(mstart):match("^<!%-%- example:(.-)%-%->%s*$")
      if marker and marker:find("-->", 1, true) then marker = nil end
    end
    if marker then
      local head, body = marker:match("^([^\n]*)\n?(.*)$")
      for word in head:gmatch("[%w]+") do
        if word == "continues" then ex.continues = true end
        if word == "setup" then
          ex.setup = {line = line_of(text, mstart) + 1, code = body}
        end
      end
      ex.skip = head:match("^%s*skip%s+(.-)%s*$")
      assert(ex.continues or ex.setup or ex.skip,
        ("%s:%d: unknown example marker '%s'"):format(doc, line_of(text, mstart), head))
      assert(not head:match("^%s*skip") or (ex.skip and ex.skip ~= ""),
        ("%s:%d: a skipped example says why"):format(doc, line_of(text, mstart)))
    end
    list[#list + 1] = ex
  end
  return list
end

-- One chunk for a group of examples (a block and those that continue it): each code line at
-- its own line number, everything else blank, so that errors name the doc's lines.
local function chunk(group)
  local lines, last = {}, 0
  local function place(line, code)
    local i = line
    for l in (code .. "\n"):gmatch("(.-)\n") do
      lines[i] = l
      if i > last then last = i end
      i = i + 1
    end
  end
  for _, ex in ipairs(group) do
    if ex.setup then place(ex.setup.line, ex.setup.code) end
    place(ex.line, ex.code)
  end
  local out = {}
  for i = 1, last do out[i] = lines[i] or "" end
  return table.concat(out, "\n") .. "\n"
end

-- Runs every job ({doc =, code =}) under its own `cnet --sandbox`, several at once (a new
-- sandbox waits for the kernel to free the last one's namespaces: in parallel those waits
-- overlap), with the tutorial's server on the PATH (as after `cmake --install`). Each
-- chunk is loaded under the doc's name. Sets job.ok and job.out.
local function run_all(jobs)
  for i, job in ipairs(jobs) do
    local file = H.write(("%s/example%d.lua"):format(tmpdir, i), job.code)
    H.write(("%s/runner%d.lua"):format(tmpdir, i), ([[
      local f = assert(io.open(%q))
      local code = f:read("a")
      f:close()
      assert(load(code, "@%s"))()
    ]]):format(file, job.doc))
  end
  H.sh(("cd %s && seq 1 %d | PATH=%s:$PATH CNET_SOURCE_DIR=%s xargs -P 6 -I{} sh -c " ..
        "'%s --sandbox runner{}.lua </dev/null >out{} 2>&1; echo $? >rc{}'")
    :format(tmpdir, #jobs, H.build, H.source, H.bin))
  for i, job in ipairs(jobs) do
    job.ok = H.read(("%s/rc%d"):format(tmpdir, i)) == "0\n"
    job.out = H.read(("%s/out%d"):format(tmpdir, i))
  end
end

for _, doc in ipairs(run_docs) do
  describe("the examples of " .. doc, function()
    local groups = {}
    for _, ex in ipairs(examples(doc)) do
      if ex.skip then
        it(("line %d compiles (not run: %s)"):format(ex.line, ex.skip), function()
          local f, err = load(ex.code, "=" .. doc .. ":" .. ex.line)
          assert.is_not_nil(f, err)
        end)
      elseif ex.continues and #groups > 0 then
        table.insert(groups[#groups], ex)
      else
        groups[#groups + 1] = {ex}
      end
    end
    assert.is_true(#groups > 0, doc .. " has Lua examples")
    local jobs = {}
    for i, group in ipairs(groups) do jobs[i] = {doc = doc, code = chunk(group)} end
    setup(function() run_all(jobs) end)
    for i, group in ipairs(groups) do
      local lines = {}
      for _, ex in ipairs(group) do lines[#lines + 1] = ex.line end
      it("run as printed: line " .. table.concat(lines, ", "), function()
        assert.is_true(jobs[i].ok, jobs[i].out)
      end)
    end
  end)
end

describe("the Lua examples of the other docs", function()
  for _, doc in ipairs(compile_docs) do
    it(doc .. " compile", function()
      local text = H.read(H.source .. "/" .. doc)
      for start, code in text:gmatch("()```lua\n(.-)```") do
        local f, err = load(code, "=" .. doc .. ":" .. line_of(text, start))
        assert.is_not_nil(f, err)
      end
    end)
  end
end)

describe("the REPL session shown in docs/api.md", function()
  it("names the Lua this cnet is built with", function()
    local text = H.read(H.source .. "/docs/api.md")
    local version = H.sh(H.bin .. " --version")
    local shown = 0
    for banner in text:gmatch("\ncnet (%d+%.%d+%.%d+ %(Lua [%d.]+%)):") do
      shown = shown + 1
      assert.are.equal(version, "cnet " .. banner)
    end
    assert.is_true(shown > 0)
  end)
end)
