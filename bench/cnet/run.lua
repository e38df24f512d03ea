-- Runs a bench script under stock lua5.4 with cnet.so (LUA_CPATH), the way
-- the host binary would: lua5.4 run.lua SCRIPT ARGS...
cnet = require("cnet")
local script = assert(arg[1], "usage: lua5.4 run.lua SCRIPT ARGS...")
local newarg = {[0] = script}
for i = 2, #arg do newarg[i - 1] = arg[i] end
arg = newarg
dofile(script)
