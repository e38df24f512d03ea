-- An ADD storm: 100 containers attached to one bridge by 100 plugin processes, 8 at a time
-- (xargs -P8), as a node does when many pods start at once. Every ADD must succeed (no
-- "File exists" from two processes making the bridge, no lost or doubled lease), every
-- container gets its own address, and after 100 DELs, also 8 at a time, nothing is left.
local D = dofile(H.source .. "/tests/spec/support/cni.lua")

-- The sanitizer run (CNET_ASAN) checks the same paths with fewer containers: each
-- instrumented plugin process costs it tens of milliseconds just to start.
local N, P = os.getenv("CNET_ASAN") and 24 or 100, 8

teardown(function() os.execute("rm -rf " .. D.tmp) end)

-- Runs the plugin for containers 1..N with `command`, P at a time; returns, per container,
-- the exit status and the output text.
local function storm(command, conf)
  local cfile = H.write(D.tmp .. "/storm.json", D.json(conf))
  local outdir = D.tmp .. "/" .. command
  H.sh("mkdir -p " .. outdir)
  local script = H.write(D.tmp .. "/one.sh", ([[
i=$1
CNI_COMMAND=%s CNI_CONTAINERID=s$i CNI_NETNS=/run/netns/s$i CNI_IFNAME=eth0 CNI_PATH=%s \
  %s < %s > %s/$i.out 2>&1
echo $? > %s/$i.rc
]]):format(command, D.refdir, D.plugin, cfile, outdir, outdir))
  H.sh(("unset LD_PRELOAD; seq %d | xargs -P%d -n1 sh %s"):format(N, P, script))
  local res = {}
  for i = 1, N do
    res[i] = {rc = tonumber(H.read(("%s/%d.rc"):format(outdir, i)):match("%d+")),
              out = H.read(("%s/%d.out"):format(outdir, i))}
  end
  return res
end

describe("an ADD storm", function()
  it(("attaches %d containers %d at a time with distinct addresses, and detaches them all"):format(N, P), function()
    local lines = {}
    for i = 1, N do lines[#lines + 1] = "netns add s" .. i end
    H.ip_batch(lines)
    local conf = D.conf("storm", "10.140.0.0/24")
    local res = storm("ADD", conf)
    local seen = {}
    for i, r in ipairs(res) do
      assert.are.equal(0, r.rc, ("container %d: %s"):format(i, r.out))
      local addr = H.json(r.out).ips[1].address
      assert.is_nil(seen[addr], addr .. " handed out twice")
      seen[addr] = i
      -- the kernel's view agrees with the result
      local a = H.ipj("-4 addr show dev eth0", "s" .. i)[1].addr_info[1]
      assert.are.equal(addr, a["local"] .. "/" .. a.prefixlen)
    end
    assert.are.equal(N, D.count(seen))
    assert.are.equal(N, #H.ipj("link show master br-storm"))
    assert.are.same({"10.140.0.0/24"}, D.nft("storm").sets.nets4)
    local st = D.state("storm")
    assert.are.equal(N, D.count(st.leases))
    assert.are.equal(N, D.count(st.attachments))

    res = storm("DEL", conf)
    for i, r in ipairs(res) do assert.are.equal(0, r.rc, ("container %d: %s"):format(i, r.out)) end
    st = D.state("storm")
    assert.are.equal(0, D.count(st.leases))
    assert.are.equal(0, D.count(st.attachments))
    assert.is_nil(D.nft("storm"))
    assert.is_nil(H.iplink("br-storm"))
    for name in pairs(D.links()) do assert.is_nil(name:match("^veth"), name .. " left behind") end
    for i = 1, N do assert.is_nil(D.links("s" .. i).eth0) end
  end)
end)
