-- README's example is the first code a newcomer runs: it must work as printed.
describe("README.md's Lua example", function()
  it("runs under cnet --sandbox: the namespace pings the bridge", function()
    local f = assert(io.open(H.source .. "/README.md"))
    local text = f:read("a")
    f:close()
    local code = assert(text:match("```lua\n(.-)```"), "README has a lua block")
    local path = os.tmpname()
    local out = assert(io.open(path, "w"))
    out:write(code, '\nprint("readme example: ok")\n')
    out:close()
    for run = 1, 3 do -- a flaky first ping would show up here
      local ok, output = H.try(H.bin .. " --sandbox " .. path)
      assert.is_true(ok, "run " .. run .. ": " .. output)
      assert.truthy(output:find("readme example: ok", 1, true), output)
    end
    os.remove(path)
  end)
end)
