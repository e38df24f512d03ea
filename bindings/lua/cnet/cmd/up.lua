-- cnet up FILE [--host NAME] [args...]: brings the topology FILE describes up, or converges it.
local cli = require "cnet.topology.cli"
local usage = [[
usage: cnet up FILE [--host NAME] [-q] [args...]
Brings up the topology that FILE (a Lua file returning a topology) describes: creates what
is missing, changes what differs, removes what it made before and no longer describes;
nothing is touched when all is as described. On failure everything made by this run is
removed again and the reason is printed. With --host, only that host's part of a multi-host
topology, on this machine. args... go to FILE.
]]
return function(...)
  local o = cli.parse("up", {...}, usage, {["--host"] = "value", ["-q"] = "flag"})
  if o.target == nil then cli.die("up", "a topology file expected (cnet up --help)", 2) end
  return cli.run("up", function()
    local topology = require "cnet.topology"
    local cnet = require "cnet"
    local t0 = cnet.now()
    local t = topology.load(o.target, o.args)
    local p = topology.up(t, {host = o.host})
    if not o.q then
      for _, w in ipairs(p.warnings) do print("warning: " .. w) end
      if p.changes == 0 then
        print(("up %s: nothing to do, all is as described"):format(t.name))
      else
        local c = p.counts
        print(("up %s: %d created, %d changed, %d replaced, %d removed in %.3f s"):format(t.name,
          c.create or 0, c.change or 0, c.replace or 0, c.delete or 0, cnet.now() - t0))
      end
    end
    return 0
  end)
end
