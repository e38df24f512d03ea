-- dump(K) with cnet: every link, every IPv4 route of the main table, every
-- neighbour, or every FDB entry, read back into Lua tables.
--   cnet dump.lua links|routes|neigh|fdb
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local arg = (select("#", ...) > 0) and {...} or arg
if arg == nil then io.stderr:write("missing API: script arguments (arg)\n") os.exit(77) end
local B = require("benchlib")
local cnet = B.cnet
local what = arg[1]

local items
if what == "links" then
  B.need("link.list")
  items = cnet.link.list()
elseif what == "neigh" then
  B.need("neigh.list")
  items = cnet.neigh.list()
elseif what == "fdb" then
  B.need("fdb.list")
  items = cnet.fdb.list()
else
  B.need("route.list")
  items = cnet.route.list{family = "inet"}
end
print(#items)
