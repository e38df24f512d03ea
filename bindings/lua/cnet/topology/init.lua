-- cnet.topology: networks described as data, brought up, checked and taken down as a whole.
--
--   local topology = require "cnet.topology"
--   local t = topology.new("lab")
--   t:bridge("br0", {addr = "10.0.0.1/24"})
--   t:container("c1", {bridge = "br0", addr = "10.0.0.11/24", gw = "10.0.0.1"})
--   t:up()        -- or topology.up(t); `cnet up FILE` for a file that returns t
local model = require "cnet.topology.model"
require "cnet.topology.helpers"
local planmod = require "cnet.topology.plan"
local apply = require "cnet.topology.apply"
local state = require "cnet.topology.state"
local livemod = require "cnet.topology.live"

local M = {}
local Topology = model.Topology

M.new = model.new
M.Topology = Topology

local function is_topology(v) return getmetatable(v) == Topology end

-- Runs a topology file and returns the topology it describes. The file gets `args...` as its
-- chunk arguments (and in `arg`), and returns a topology (made with topology.new) or a
-- function that fills the one it is given (named after the file).
function M.load(file, args)
  args = args or {}
  local chunk, err = loadfile(file, "t")
  if chunk == nil then error(err, 0) end
  local saved = rawget(_G, "arg")
  local a = {[0] = file}
  for i, v in ipairs(args) do a[i] = v end
  _G.arg = a
  local ok, res = pcall(chunk, table.unpack(args))
  _G.arg = saved
  if not ok then error(res, 0) end
  if type(res) == "function" then
    local t = M.new((file:match("([^/]+)%.lua$") or file:match("([^/]+)$")))
    res(t, table.unpack(args))
    res = t
  end
  if not is_topology(res) then
    error(("%s: a topology file returns a topology (topology.new(name)) or a function "
      .. "that fills one, got %s"):format(file, type(res)), 0)
  end
  res.file, res.args = file, args
  return res
end

local function absolute(file)
  if file == nil or file:sub(1, 1) == "/" then return file end
  local pwd = os.getenv("PWD")
  return pwd and (pwd .. "/" .. file) or file
end

-- The plan of a topology against the kernel: plan(t [, {host=}]).
function M.plan(t, opts)
  opts = opts or {}
  local resources = model.expand(t, {host = opts.host})
  local live = livemod.new()
  -- The collector is paused while the kernel is read and compared: everything read lives
  -- until the plan is made, so collecting in between only walks live tables (15% of the
  -- CPU of a plan of 500 namespaces). It resumes, if it ran, before anything else happens.
  local was_running = collectgarbage("isrunning")
  collectgarbage("stop")
  local ok, p = pcall(planmod.make, {name = t.name, resources = resources,
    state = state.load(t.name), live = live})
  if was_running then collectgarbage("restart") end
  if not ok then live:close() error(p, 0) end
  p.close = function() live:close() end
  return setmetatable(p, {__tostring = function(x)
    return ("plan for topology %s:\n%s"):format(x.name, planmod.format(x))
  end})
end

-- Brings a topology up, or converges it: up(t [, {host=}]) -> plan (its `changes` is 0 when
-- nothing needed doing). Raises, after undoing everything it made, when something fails.
function M.up(t, opts)
  opts = opts or {}
  local p = M.plan(t, opts)
  local ok, err = pcall(apply.up, p, {file = absolute(t.file), args = t.args, host = opts.host})
  p.close()
  if not ok then error(err, 0) end
  return setmetatable(p, {__tostring = function(x)
    if x.changes == 0 then return ("up %s: nothing to do, all is as described"):format(x.name) end
    local c = x.counts
    return ("up %s: %d created, %d changed, %d replaced, %d removed"):format(x.name, c.create or 0,
      c.change or 0, c.replace or 0, c.delete or 0)
  end})
end

-- Takes a topology down (a topology or its name): down(t | name) -> count, notes.
function M.down(t)
  local name = is_topology(t) and t.name or t
  if type(name) ~= "string" then error("topology.down: a topology or its name expected", 2) end
  return apply.down(name)
end

-- The names of the topologies this machine holds (with a state file).
function M.list() return state.list() end

-- What is up of a topology, against its description: status(t | name [, {host=}]) ->
-- {name=, ok=, plan=, missing=, lines=}. ok is true when everything is as described.
function M.status(t, opts)
  opts = opts or {}
  local name = is_topology(t) and t.name or t
  local s = state.load(name)
  if not is_topology(t) then
    if s == nil then error(("status %s: no such topology"):format(name), 0) end
    if s.file == nil then error(("status %s: its state names no description file"):format(name), 0) end
    t = M.load(s.file, s.args)
    opts.host = opts.host or s.host
  end
  local p = M.plan(t, opts)
  p.close()
  local lines = {}
  for _, a in ipairs(p.actions) do
    local r = a.r
    local what = model.describe(r)
    if a.op == "create" then lines[#lines + 1] = "missing: " .. what
    elseif a.op == "delete" then lines[#lines + 1] = "extra: " .. what .. (a.why and (" (" .. a.why .. ")") or "")
    elseif a.op == "conflict" then lines[#lines + 1] = "conflict: " .. what .. ": " .. a.why
    else lines[#lines + 1] = "drifted: " .. what .. ": " .. (a.why or a.op) end
  end
  return setmetatable({name = name, up = s ~= nil, ok = s ~= nil and #p.actions == 0, plan = p,
    lines = lines, state = s}, {__tostring = function(x)
      if not x.up then return x.name .. ": not up" end
      if x.ok then return ("%s: up, all as described (%d objects)"):format(x.name, #x.state.order) end
      return ("%s: up, %d differences from the description\n  %s"):format(x.name, #x.lines,
        table.concat(x.lines, "\n  "))
    end})
end

-- The live network as DOT: graph([{topology = NAME, file = "x.svg"}]); with file, also
-- written there (.dot, or .svg/.png/.pdf through Graphviz).
function M.graph(opts)
  opts = opts or {}
  local g = require "cnet.topology.graph"
  local text = g.dot(opts)
  if opts.file then g.write(text, opts.file) end
  return text
end

-- The same as methods of a topology: t:up(), t:down(), t:plan(), t:status(), t:graph().
function Topology:up(opts) return M.up(self, opts) end
function Topology:down() return M.down(self) end
function Topology:plan(opts) return M.plan(self, opts) end
function Topology:status(opts) return M.status(self, opts) end
function Topology:graph(opts)
  opts = opts or {}
  opts.topology = opts.topology or self.name
  return M.graph(opts)
end
M.format_plan = planmod.format

return M
