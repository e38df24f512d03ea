-- The CNI plugin's nftables table (bindings/lua/cnet/cni/nft.lua), in a sandbox of its own
-- so that the first test sees a host with no address but the ones the network gives it:
-- port mappings answer on the gateway from the first ADD on, CHECK names a port mapping
-- whose rule is gone, and ADD, CHECK, GC and DEL leave every other table in the namespace
-- as it was. Checked with nft -j and real connections.
local D = dofile(H.source .. "/tests/spec/support/cni.lua")
local cnet = require "cnet"

teardown(function() os.execute("rm -rf " .. D.tmp) end)

local hello = os.getenv("CNET_HELLO") or (H.build .. "/cnet-hello")

local netns = D.netns

local function with(conf, over)
  local c = {}
  for k, v in pairs(conf) do c[k] = v end
  for k, v in pairs(over) do c[k] = v end
  return c
end

-- The rules of `chain` in a table listed by D.nft (nft -j's rule objects).
local function rules_of(t, chain)
  local out = {}
  for _, r in ipairs(t.rules) do
    if r.chain == chain then out[#out + 1] = r end
  end
  return out
end

-- The set a rule's "ip daddr" match refers to ("@local4" -> "local4"), or nil.
local function daddr_set(rule)
  for _, x in ipairs(rule.expr) do
    local m = x.match
    if m and type(m.left) == "table" and m.left.payload and m.left.payload.field == "daddr"
       and type(m.right) == "string" and m.right:sub(1, 1) == "@" then
      return m.right:sub(2)
    end
  end
end

describe("cnet CNI plugin port mappings on a fresh host", function()
  local conf = D.conf("fresh", "10.110.0.0/24", {cniVersion = "1.1.0",
    runtimeConfig = {portMappings = {{hostPort = 8080, containerPort = 80}}}})

  it("answer on the gateway from the first ADD, and CHECK right after it is silent", function()
    -- nothing but loopback yet: the gateway is the host's only address once ADD is done
    assert.are.equal(0, #H.ipj("-4 addr show scope global"))
    netns("f1")
    local r = D.ok("ADD", conf, {id = "f1"})
    local ip = r.ips[1].address:match("^[^/]+")
    assert.are.equal("10.110.0.1", r.ips[1].gateway)
    -- the kernel's view: the gateway is on the bridge, and in the set the mapping's rule uses
    assert.are.equal("10.110.0.1", H.ipj("-4 addr show dev br-fresh")[1].addr_info[1]["local"])
    local t = D.nft("fresh")
    assert.are.same({"10.110.0.1"}, t.sets.local4)
    local hp = rules_of(t, "hostports")
    assert.are.equal(1, #hp)
    assert.are.equal("local4", daddr_set(hp[1]))
    assert.are.equal("f1/eth0", hp[1].comment)
    -- CHECK agrees
    local code, out, err = D.cni("CHECK", with(conf, {prevResult = r}), {id = "f1"})
    assert.are.equal(0, code, D.json(out) .. err)
    -- a connection to gateway:8080 from the host reaches the container's port 80
    local ns = cnet.netns.open("f1")
    ns.spawn({hello, "-q", "80"}, {stdout = false, stderr = false})
    assert.is_true((ns.tcp_connect(ip, 80, {retry = 5, timeout = 1}))) -- it listens
    local ok, reply = cnet.tcp_connect("10.110.0.1", 8080, {send = "GET / HTTP/1.0\r\n\r\n", timeout = 1})
    assert.is_true(ok, tostring(reply))
    assert.truthy(reply:find("hello!", 1, true), reply)
    ns.kill()
    D.ok("DEL", conf, {id = "f1"})
    assert.is_nil(D.nft("fresh"))
  end)
end)

describe("cnet CNI plugin CHECK of port mappings", function()
  local conf = D.conf("chkport", "10.111.0.0/24", {cniVersion = "1.1.0",
    runtimeConfig = {portMappings = {{hostPort = 9080, containerPort = 80},
                                     {hostPort = 9080, containerPort = 81, hostIP = "192.0.2.1"},
                                     {hostPort = 9053, containerPort = 53, protocol = "udp"}}}})

  it("names each port mapping whose rule was deleted behind its back", function()
    netns("cp1")
    local r = D.ok("ADD", conf, {id = "cp1"})
    local ip = r.ips[1].address:match("^[^/]+")
    D.ok("CHECK", with(conf, {prevResult = r}), {id = "cp1"})
    -- delete the udp rule and the one for 192.0.2.1, by the handles nft gives them
    local n = 0
    for _, rule in ipairs(rules_of(D.nft("chkport"), "hostports")) do
      local text = D.json(rule.expr)
      if text:find('"udp"', 1, true) or text:find('"192.0.2.1"', 1, true) then
        H.sh("nft delete rule inet cnet-chkport hostports handle " .. rule.handle)
        n = n + 1
      end
    end
    assert.are.equal(2, n)
    assert.are.equal(1, #rules_of(D.nft("chkport"), "hostports"))
    local code, out = D.cni("CHECK", with(conf, {prevResult = r}), {id = "cp1"})
    assert.are.equal(1, code)
    assert.are.equal(101, out.code)
    assert.truthy(out.details:find("port mapping udp 9053 -> " .. ip .. ":53 is missing from chain inet cnet-chkport hostports", 1, true), out.details)
    assert.truthy(out.details:find("port mapping tcp 192.0.2.1 9080 -> " .. ip .. ":81 is missing", 1, true), out.details)
    assert.is_nil(out.details:find(":80 ", 1, true), out.details) -- the one on @local4 is still there
    D.ok("DEL", conf, {id = "cp1"})
    assert.is_nil(D.nft("chkport"))
  end)
end)

describe("cnet CNI plugin and other nftables tables", function()
  local conf = D.conf("mine", "10.112.0.0/24", {cniVersion = "1.1.0",
    runtimeConfig = {portMappings = {{hostPort = 8080, containerPort = 80}}}})

  it("ADD, CHECK, GC and DEL leave another table, even one named like a network's, as it was", function()
    -- a firewall's table hooked where cnet's are, and one that looks like another network's
    H.write(D.tmp .. "/foreign.nft", [[
table inet fw {
  set allowed { type ipv4_addr; elements = { 192.0.2.1, 198.51.100.7 }; }
  chain pre { type nat hook prerouting priority dstnat; policy accept; tcp dport 8080 ip saddr @allowed accept; }
  chain post { type nat hook postrouting priority srcnat; policy accept; ip saddr 10.112.0.0/24 accept; }
}
table inet cnet-other {
  set masq4 { type ipv4_addr; elements = { 10.112.0.2 }; }
  chain hostports { ip daddr 203.0.113.5 tcp dport 8080 dnat ip to 10.112.0.2:80 comment "x/eth0"; }
}
]])
    H.sh("nft -f " .. D.tmp .. "/foreign.nft")
    local function foreign()
      return H.sh("nft -j list table inet fw") .. "\n" .. H.sh("nft -j list table inet cnet-other")
    end
    local before = foreign()
    netns("o1")
    local r = D.ok("ADD", conf, {id = "o1"})
    assert.are.equal("10.112.0.2/24", r.ips[1].address) -- the address cnet-other names too
    assert.is_not_nil(D.nft("mine"))
    D.ok("CHECK", with(conf, {prevResult = r}), {id = "o1"})
    D.ok("GC", with(conf, {["cni.dev/valid-attachments"] = {{containerID = "o1", ifname = "eth0"}}}))
    assert.are.same({"10.112.0.0/24"}, D.nft("mine").sets.nets4)
    assert.are.equal(before, foreign())
    D.ok("DEL", conf, {id = "o1"})
    assert.is_nil(D.nft("mine"))
    assert.are.equal(before, foreign())
    -- and GC with nothing valid, once the network is empty, too
    D.ok("GC", with(conf, {["cni.dev/valid-attachments"] = D.list()}))
    assert.are.equal(before, foreign())
  end)
end)
