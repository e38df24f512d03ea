-- cnet down FILE|NAME: removes exactly what `cnet up` made for that topology.
local cli = require "cnet.topology.cli"
local usage = [[
usage: cnet down FILE|NAME [-q]
Takes down the topology named NAME, or described by FILE: removes what `cnet up` made for
it (namespaces first, which frees their veths in one go), as its state in /run/cnet says,
and puts back the kernel parameters it changed. Objects carrying another topology's tag,
and everything it did not make, are left alone. Works from any process, also after the one
that ran `up` was killed.
]]
return function(...)
  local o = cli.parse("down", {...}, usage, {["-q"] = "flag", ["--host"] = "value"})
  if o.target == nil then cli.die("down", "a topology file or name expected (cnet down --help)", 2) end
  return cli.run("down", function()
    local topology = require "cnet.topology"
    local cnet = require "cnet"
    local t0 = cnet.now()
    local name = o.target
    if cli.is_file(o.target) then name = topology.load(o.target, o.args).name end
    local n, notes = topology.down(name)
    for _, note in ipairs(notes) do io.stderr:write("cnet down: " .. note .. "\n") end
    if not o.q then print(("down %s: %d removed in %.3f s"):format(name, n, cnet.now() - t0)) end
    return 0
  end)
end
