-- Every Lua example in the docs at least compiles: a reader copying one into the REPL
-- should never meet a syntax error. (README's example is also run, in readme_spec.)
local docs = {"README.md", "docs/api.md", "docs/tutorial.md", "docs/recipes.md", "docs/design.md",
              "docs/cni.md"}

describe("the Lua examples in the docs", function()
  for _, doc in ipairs(docs) do
    it(doc .. " compile", function()
      local text = H.read(H.source .. "/" .. doc)
      local n = 0
      local line = 1
      local pos = 1
      for before, code in text:gmatch("()```lua\n(.-)```") do
        -- line number of the block, for the message
        local _, k = text:sub(pos, before):gsub("\n", "")
        line, pos = line + k, before
        n = n + 1
        local chunk, err = load(code, "=" .. doc .. ":" .. line)
        assert.is_not_nil(chunk, err)
      end
      if doc ~= "docs/design.md" and doc ~= "docs/recipes.md" then
        assert.is_true(n > 0, doc .. " has Lua examples")
      end
    end)
  end
end)
