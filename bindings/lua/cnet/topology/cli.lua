-- What the commands up, down, plan, status and graph share: argument parsing and reporting.
local M = {}

-- Splits "FILE [--host NAME] [-q] [args...]": options may come before or after FILE; what
-- follows FILE (and is not one of ours) goes to the description as its arguments.
function M.parse(cmd, argv, usage, flags)
  local o = {args = {}}
  flags = flags or {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" or a == "--help" then
      io.stdout:write(usage)
      os.exit(0)
    elseif flags[a] == "value" then
      if argv[i + 1] == nil then M.die(cmd, a .. " needs a value", 2) end
      o[a:gsub("^%-+", "")] = argv[i + 1]
      i = i + 1
    elseif flags[a] == "flag" then
      o[a:gsub("^%-+", "")] = true
    elseif a == "--" then
      for j = i + 1, #argv do o.args[#o.args + 1] = argv[j] end
      break
    elseif o.target == nil then
      if a:sub(1, 1) == "-" then M.die(cmd, "unknown option " .. a, 2) end
      o.target = a
    else
      o.args[#o.args + 1] = a
    end
    i = i + 1
  end
  return o
end

function M.die(cmd, msg, code)
  io.stderr:write("cnet " .. cmd .. ": " .. tostring(msg) .. "\n")
  os.exit(code or 1)
end

-- A target names a description file when it exists as a file (or ends in .lua); otherwise a
-- topology by name.
function M.is_file(target)
  if target:find("%.lua$") or target:find("/") then return true end
  local f = io.open(target, "r")
  if f then f:close() return true end
  return false
end

-- Runs f, turning an error into the command's one-line reason.
function M.run(cmd, f, ...)
  local ok, res = pcall(f, ...)
  if not ok then
    local msg = tostring(res):gsub("\n.*", "")
    io.stderr:write("cnet " .. cmd .. ": " .. msg .. "\n")
    return 1
  end
  return res
end

return M
