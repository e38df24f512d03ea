-- cnet status [NAME|FILE]: each topology that is up, against its description.
local cli = require "cnet.topology.cli"
local usage = [[
usage: cnet status [NAME|FILE]
For each topology this machine holds (or the one named), says whether everything is as its
description says, and if not, what is missing, what drifted and what is extra. Exit status:
0 when every topology shown is as described, 1 otherwise.
]]
return function(...)
  local o = cli.parse("status", {...}, usage, {["--host"] = "value"})
  return cli.run("status", function()
    local topology = require "cnet.topology"
    local names, given = {}, nil
    if o.target and cli.is_file(o.target) then
      given = topology.load(o.target, o.args)
      names = {given.name}
    elseif o.target then
      names = {o.target}
    else
      names = topology.list()
      if #names == 0 then print("no topologies are up") return 0 end
    end
    local all = true
    for _, name in ipairs(names) do
      local st = topology.status(given or name, {host = o.host})
      if not st.up then
        print(("%s: not up"):format(name))
        all = false
      elseif st.ok then
        local n = #st.state.order
        print(("%s: up, all as described (%d objects)"):format(name, n))
      else
        all = false
        print(("%s: up, %d differences from the description"):format(name, #st.lines))
        for _, l in ipairs(st.lines) do print("  " .. l) end
      end
    end
    return all and 0 or 1
  end)
end
