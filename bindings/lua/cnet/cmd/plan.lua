-- cnet plan FILE [--host NAME] [args...]: what `cnet up FILE` would do, changing nothing.
local cli = require "cnet.topology.cli"
local usage = [[
usage: cnet plan FILE [--host NAME] [args...]
Shows what `cnet up FILE` would create (+), change (~), replace (-/+) or remove (-), and
what stands in its way (!: an object of the same name that this topology did not make),
against the kernel's state now. Changes nothing. Exit status: 0 when there is nothing to do,
2 when there are changes, 1 on conflicts or errors.
]]
return function(...)
  local o = cli.parse("plan", {...}, usage, {["--host"] = "value"})
  if o.target == nil then cli.die("plan", "a topology file expected (cnet plan --help)", 2) end
  return cli.run("plan", function()
    local topology = require "cnet.topology"
    local t = topology.load(o.target, o.args)
    local p = topology.plan(t, {host = o.host})
    p.close()
    print(("plan for topology %s:"):format(t.name))
    print(topology.format_plan(p))
    if (p.counts.conflict or 0) > 0 then return 1 end
    return p.changes > 0 and 2 or 0
  end)
end
