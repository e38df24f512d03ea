-- The argument layer cannot be skipped: outside bindings/common/args.c no binding reads a
-- Lua value with the raw calls that truncate at a NUL byte (lua_tostring and friends), wrap
-- an integer into a C type (lua_tointeger, luaL_checkinteger) or accept a number for a
-- string (luaL_checkstring). A line that reads a value of the bindings' own making (an
-- upvalue, a dump's field, a message) says so with the comment "not user input".
-- The host binary (bindings/cli/) is not part of the module's API and is not checked.

local raw = {
  "luaL_checklstring", "luaL_checkstring", "luaL_optlstring", "luaL_optstring",
  "luaL_checkinteger", "luaL_optinteger", "luaL_checknumber", "luaL_optnumber",
  "luaL_checkoption", "lua_tointeger", "lua_tointegerx", "lua_tonumber", "lua_tonumberx",
  "lua_tostring", "lua_tolstring", "lua_toboolean",
}

local function binding_files()
  local list = H.sh("find " .. H.source .. "/bindings -name '*.c' -o -name '*.h' | sort")
  local files = {}
  for path in list:gmatch("[^\n]+") do
    if not path:find("/bindings/cli/") and not path:find("/bindings/common/args%.c$") then
      files[#files + 1] = path
    end
  end
  return files
end

-- "file:line: call" for every raw read on a line without the marker.
local function offences(text, path)
  local found = {}
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if not line:find("not user input", 1, true) then
      for _, name in ipairs(raw) do
        if line:find("%f[%w_]" .. name .. "%f[^%w_]") then
          found[#found + 1] = ("%s:%d: %s"):format(path, n, name)
        end
      end
    end
  end
  return found
end

describe("the argument layer", function()
  it("is the only reader of user input in the bindings", function()
    local files = binding_files()
    assert.is_true(#files > 10, "bindings not found under " .. H.source)
    local all = {}
    for _, path in ipairs(files) do
      for _, o in ipairs(offences(H.read(path), path)) do all[#all + 1] = o end
    end
    assert.are.same({}, all)
  end)

  it("would catch a raw read (the check itself works)", function()
    local bad = offences("  const char *name = luaL_checkstring(L, 1);\n" ..
                         "  int i = (int)lua_tointeger(L, 2);\n" ..
                         "  int j = (int)lua_tointeger(L, 3); /* not user input: upvalue */\n",
                         "x.c")
    assert.are.same({"x.c:1: luaL_checkstring", "x.c:2: lua_tointeger"}, bad)
  end)
end)
