-- `cnet cni COMMAND ...`: the CNI plugin driven by hand (see bindings/lua/cnet/cni/cli.lua).
return function(...)
  return require("cnet.cni").cli(...)
end
