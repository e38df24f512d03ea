-- The bytes of cnet's traffic-control requests against tc's own, captured with strace: for
-- every kind, also those this kernel lacks (netem, fq_codel, sfq, prio, fq), whose requests
-- the kernel refuses but both programs still send. Only the sequence number and port id
-- differ between two requests that mean the same; everything else must be equal, rate
-- tables included.
local cnet = require "cnet"

local have_strace = H.try("strace -V")

-- The netlink messages a command sends through sendmsg/sendto, as byte strings.
local function sent(cmd)
  local log = os.tmpname()
  H.try(("strace -f -qq -o %s -e trace=sendmsg,sendto -e write=all %s >/dev/null 2>&1")
    :format(log, cmd))
  local msgs, cur = {}, nil
  for line in H.read(log):gmatch("[^\n]*") do
    -- " | 00000  4c 00 00 00 24 00 05 06  2a cd ...  L...$..." : 16 bytes in columns 11-58
    local off = line:match("^ | (%x%x%x%x%x)  ")
    local hex = off and line:sub(11, 58)
    if off then
      if tonumber(off, 16) == 0 then cur = {}; msgs[#msgs + 1] = cur end
      for b in hex:gmatch("%x%x") do cur[#cur + 1] = string.char(tonumber(b, 16)) end
    end
  end
  os.remove(log)
  -- one write may carry several messages: split by nlmsg_len
  local out = {}
  for _, bytes in ipairs(msgs) do
    local s = table.concat(bytes)
    local pos = 1
    while pos + 16 <= #s + 1 do
      local len = string.unpack("<I4", s, pos)
      if len < 16 then break end
      out[#out + 1] = s:sub(pos, pos + len - 1)
      pos = pos + ((len + 3) & ~3)
    end
  end
  return out
end

-- Only the traffic-control requests (RTM_NEW/DELQDISC 36/37, RTM_NEW/DELTCLASS 40/41,
-- RTM_NEW/DELTFILTER 44/45), with sequence number and port id zeroed.
local function tc_requests(msgs)
  local out = {}
  for _, m in ipairs(msgs) do
    local t = string.unpack("<I2", m, 5)
    if t == 36 or t == 37 or t == 40 or t == 41 or t == 44 or t == 45 then
      out[#out + 1] = m:sub(1, 8) .. string.rep("\0", 8) .. m:sub(17)
    end
  end
  return out
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local dev = "tb0"
H.sh("ip link add tb0 type veth peer name tb1 && ip link set tb0 up && ip link set tb1 up")

local function reset()
  H.try("{ tc qdisc del dev tb0 root; tc qdisc del dev tb0 ingress; } >/dev/null 2>&1")
end

-- tc's arguments after `tc`, and the cnet call (Lua text) meant to send the same.
local cases = {
  {"qdisc add dev tb0 root netem delay 50ms",
   'cnet.tc.qdisc.add("tb0", {kind = "netem", delay = "50ms"})'},
  {"qdisc add dev tb0 root netem delay 50ms 10ms 25% loss 1% 30% duplicate 2% corrupt 0.5% "
     .. "reorder 25% 50% rate 10mbit limit 2000",
   'cnet.tc.qdisc.add("tb0", {kind = "netem", delay = 0.05, jitter = "10ms", delay_correlation = 25,'
     .. ' loss = "1%", loss_correlation = 30, duplicate = 2, corrupt = 0.5, reorder = 25,'
     .. ' reorder_correlation = "50%", rate = "10mbit", limit = 2000})'},
  {"qdisc add dev tb0 root netem delay 1s loss 0.1% ecn rate 40gbit",
   'cnet.tc.qdisc.add("tb0", {kind = "netem", delay = 1, loss = 0.1, ecn = true, rate = "40gbit"})'},
  {"qdisc replace dev tb0 root netem delay 50ms rate 10mbit",
   'cnet.tc.shape("tb0", {rate = "10mbit", delay = "50ms"})'},
  {"qdisc add dev tb0 root fq_codel limit 1000 flows 512 quantum 300 target 5ms interval 100ms ecn "
     .. "ce_threshold 1ms memory_limit 4mb drop_batch 32",
   'cnet.tc.qdisc.add("tb0", {kind = "fq_codel", limit = 1000, flows = 512, quantum = 300,'
     .. ' target = "5ms", interval = 0.1, ecn = true, ce_threshold = "1ms", memory_limit = "4mb",'
     .. ' drop_batch = 32})'},
  {"qdisc add dev tb0 root fq_codel", 'cnet.tc.qdisc.add("tb0", {kind = "fq_codel"})'},
  {"qdisc add dev tb0 root sfq perturb 10 quantum 1514 limit 127 depth 64 headdrop",
   'cnet.tc.qdisc.add("tb0", {kind = "sfq", perturb = 10, quantum = 1514, limit = 127, depth = 64,'
     .. ' headdrop = true})'},
  {"qdisc add dev tb0 root sfq", 'cnet.tc.qdisc.add("tb0", {kind = "sfq"})'},
  {"qdisc add dev tb0 root handle 1: prio", 'cnet.tc.qdisc.add("tb0", {kind = "prio", handle = "1:"})'},
  {"qdisc add dev tb0 root prio bands 4 priomap 3 2 1 0",
   'cnet.tc.qdisc.add("tb0", {kind = "prio", bands = 4, priomap = {3, 2, 1, 0}})'},
  {"qdisc add dev tb0 root fq limit 100 flow_limit 10 buckets 1000 quantum 3028 initial_quantum "
     .. "15140 maxrate 1mbit pacing refill_delay 40ms orphan_mask 1023 ce_threshold 2ms",
   'cnet.tc.qdisc.add("tb0", {kind = "fq", limit = 100, flow_limit = 10, buckets = 1000,'
     .. ' quantum = 3028, initial_quantum = 15140, maxrate = "1mbit", pacing = true,'
     .. ' refill_delay = "40ms", orphan_mask = 1023, ce_threshold = "2ms"})'},
  {"qdisc add dev tb0 root handle 1: tbf rate 10mbit burst 32kb latency 50ms",
   'cnet.tc.qdisc.add("tb0", {kind = "tbf", handle = "1:", rate = "10mbit", burst = "32kb",'
     .. ' latency = "50ms"})'},
  {"qdisc add dev tb0 root tbf rate 1mbit burst 20000 limit 30000 peakrate 2mbit mtu 1600",
   'cnet.tc.qdisc.add("tb0", {kind = "tbf", rate = 1e6, burst = 20000, limit = 30000,'
     .. ' peakrate = "2mbit", mtu = 1600})'},
  {"qdisc add dev tb0 root tbf rate 40gbit burst 1mb latency 10ms peakrate 50gbit mtu 9000",
   'cnet.tc.qdisc.add("tb0", {kind = "tbf", rate = "40gbit", burst = "1mb", latency = 0.01,'
     .. ' peakrate = "50gbit", mtu = 9000})'},
  {"qdisc replace dev tb0 root tbf rate 10mbit burst 16384 latency 50ms",
   'cnet.tc.shape("tb0", {rate = "10mbit"})'},
  {"qdisc add dev tb0 root handle 1: htb default 10 r2q 5 direct_qlen 100",
   'cnet.tc.qdisc.add("tb0", {kind = "htb", handle = "1:", default = "10", r2q = 5,'
     .. ' direct_qlen = 100})'},
  {"qdisc add dev tb0 root handle 1: htb", 'cnet.tc.qdisc.add("tb0", {kind = "htb", handle = "1:"})'},
  {"class add dev tb0 parent 1: classid 1:10 htb rate 5mbit ceil 8mbit burst 15k cburst 20k "
     .. "prio 2 quantum 3000",
   'cnet.tc.class.add("tb0", {classid = "1:10", parent = "1:", rate = "5mbit", ceil = "8mbit",'
     .. ' burst = "15k", cburst = "20k", prio = 2, quantum = 3000})'},
  {"class add dev tb0 parent 1:1 classid 1:20 htb rate 1gbit mtu 9000",
   'cnet.tc.class.add("tb0", {classid = "1:20", parent = "1:1", rate = "1gbit", mtu = 9000})'},
  {"class change dev tb0 parent 1: classid 1:10 htb rate 50gbit",
   'cnet.tc.class.change("tb0", {classid = "1:10", rate = "50gbit"})'},
  {"class del dev tb0 classid 1:10", 'cnet.tc.class.delete("tb0", "1:10")'},
  {"qdisc add dev tb0 root pfifo limit 100", 'cnet.tc.qdisc.add("tb0", {kind = "pfifo", limit = 100})'},
  {"qdisc add dev tb0 root bfifo limit 10kb", 'cnet.tc.qdisc.add("tb0", {kind = "bfifo", limit = "10kb"})'},
  {"qdisc add dev tb0 root pfifo", 'cnet.tc.qdisc.add("tb0", {kind = "pfifo"})'},
  {"qdisc add dev tb0 ingress", 'cnet.tc.qdisc.add("tb0", {kind = "ingress"})'},
  {"qdisc add dev tb0 clsact", 'cnet.tc.qdisc.add("tb0", {kind = "clsact"})'},
  {"qdisc del dev tb0 root", 'cnet.tc.qdisc.delete("tb0")'},
  {"qdisc replace dev tb0 root handle 2: pfifo limit 5",
   'cnet.tc.qdisc.replace("tb0", {kind = "pfifo", handle = "2:", limit = 5})'},
  {"qdisc change dev tb0 root handle 2: pfifo limit 9",
   'cnet.tc.qdisc.change("tb0", {kind = "pfifo", handle = "2:", limit = 9})'},
  -- filters: this kernel has u32 and mirred, but no matchall, flower or gact; tc and cnet
  -- send the request all the same (options in the order cnet writes them)
  {"filter add dev tb0 ingress pref 10 matchall action drop",
   'cnet.tc.filter.add("tb0", {parent = "ingress", prio = 10, kind = "matchall", action = "drop"})'},
  {"filter add dev tb0 egress matchall classid 1:5 skip_sw action pass action mirred egress mirror dev tb1",
   'cnet.tc.filter.add("tb0", {parent = "egress", kind = "matchall", classid = "1:5", skip_sw = true,'
     .. ' action = {"pass", {kind = "mirred", mirror = "tb1"}}})'},
  {"filter add dev tb0 ingress chain 3 pref 2 matchall classid 1:1",
   'cnet.tc.filter.add("tb0", {parent = "ingress", chain = 3, prio = 2, kind = "matchall", classid = "1:1"})'},
  {"filter add dev tb0 ingress protocol ip pref 5 u32 match ip dst 192.0.2.1/32 match ip protocol 6 0xff "
     .. "match ip dport 80 0xffff classid 1:1",
   'cnet.tc.filter.add("tb0", {parent = "ingress", protocol = "ip", prio = 5, kind = "u32",'
     .. ' match = {"ip dst 192.0.2.1/32", "ip protocol 6 0xff", "ip dport 80 0xffff"}, classid = "1:1"})'},
  {"filter add dev tb0 egress protocol ip u32 match ip src 198.51.100.0/24 match u16 0x1000 0xffff at "
     .. "nexthdr+2 match ip df match ip tos 0x10 0xff skip_hw action drop",
   'cnet.tc.filter.add("tb0", {parent = "egress", protocol = "ip", kind = "u32", action = "drop",'
     .. ' skip_hw = true, match = {"ip src 198.51.100.0/24", "u16 0x1000 0xffff at nexthdr+2", "ip df",'
     .. ' "ip tos 0x10 0xff"}})'},
  {"filter add dev tb0 ingress protocol ipv6 pref 7 handle 800::10 u32 match ip6 dst 2001:db8::/48 "
     .. "match ip6 dport 53 0xffff match ether src 02:00:00:00:00:01 match tcp dst 22 0xffff classid 1:2",
   'cnet.tc.filter.add("tb0", {parent = "ingress", protocol = "ipv6", prio = 7, handle = "800::10",'
     .. ' kind = "u32", match = {"ip6 dst 2001:db8::/48", "ip6 dport 53 0xffff",'
     .. ' "ether src 02:00:00:00:00:01", "tcp dst 22 0xffff"}, classid = "1:2"})'},
  {"filter add dev tb0 ingress u32 match u32 0 0 action mirred ingress redirect dev tb1",
   'cnet.tc.filter.add("tb0", {parent = "ingress", kind = "u32", match = "u32 0 0",'
     .. ' action = {kind = "mirred", redirect = "tb1", direction = "ingress"}})'},
  {"filter add dev tb0 parent 1: protocol ip prio 1 u32 match ip tos 0x10 0xff flowid 1:10",
   'cnet.tc.filter.add("tb0", {parent = "1:", protocol = "ip", prio = 1, kind = "u32",'
     .. ' match = "ip tos 0x10 0xff", classid = "1:10"})'},
  {"filter add dev tb0 ingress protocol ip pref 3 flower classid 1:3 dst_mac 02:00:00:00:00:02 "
     .. "src_mac 02:00:00:00:00:01 ip_proto tcp dst_ip 192.0.2.0/24 src_ip 198.51.100.7 dst_port 80 "
     .. "src_port 1024 skip_hw action drop",
   'cnet.tc.filter.add("tb0", {parent = "ingress", protocol = "ip", prio = 3, kind = "flower",'
     .. ' classid = "1:3", dst_mac = "02:00:00:00:00:02", src_mac = "02:00:00:00:00:01",'
     .. ' ip_proto = "tcp", dst_ip = "192.0.2.0/24", src_ip = "198.51.100.7", dst_port = 80,'
     .. ' src_port = 1024, skip_hw = true, action = "drop"})'},
  {"filter add dev tb0 ingress protocol ipv6 flower ip_proto udp dst_ip 2001:db8::1 dst_port 53 action pass",
   'cnet.tc.filter.add("tb0", {parent = "ingress", protocol = "ipv6", kind = "flower", ip_proto = "udp",'
     .. ' dst_ip = "2001:db8::1", dst_port = 53, action = "pass"})'},
  {"filter add dev tb0 ingress flower action drop",
   'cnet.tc.filter.add("tb0", {parent = "ingress", kind = "flower", action = "drop"})'},
  {"filter replace dev tb0 ingress pref 10 handle 1 matchall action drop",
   'cnet.tc.filter.replace("tb0", {parent = "ingress", prio = 10, handle = 1, kind = "matchall",'
     .. ' action = "drop"})'},
  {"filter change dev tb0 ingress pref 10 handle 1 protocol all matchall action pass",
   'cnet.tc.filter.change("tb0", {parent = "ingress", prio = 10, handle = 1, protocol = "all",'
     .. ' kind = "matchall", action = "pass"})'},
  {"filter del dev tb0 ingress pref 10", 'cnet.tc.filter.delete("tb0", {parent = "ingress", prio = 10})'},
  {"filter del dev tb0 ingress pref 5 protocol ip handle 800::800 u32",
   'cnet.tc.filter.delete("tb0", {parent = "ingress", prio = 5, protocol = "ip", handle = "800::800",'
     .. ' kind = "u32"})'},
  {"filter del dev tb0 ingress", 'cnet.tc.filter.delete("tb0", {parent = "ingress"})'},
  {"filter del dev tb0", 'cnet.tc.filter.delete("tb0")'},
}

describe("tc request bytes", function()
  for _, case in ipairs(cases) do
    it("cnet sends what `tc " .. case[1] .. "` sends", function()
      if not have_strace then return pending("strace is not installed") end
      -- a class needs its htb in place for tc to send; cnet sends regardless
      -- filters need a place: the clsact hooks, an htb at 1:
      local setup = case[1]:match("^class") and
        "tc qdisc add dev tb0 root handle 1: htb; tc class add dev tb0 parent 1: classid 1:1 htb rate 1gbit;"
        .. " tc class add dev tb0 parent 1: classid 1:10 htb rate 1mbit"
        or case[1]:match("^filter") and "tc qdisc add dev tb0 clsact; tc qdisc add dev tb0 root handle 1: htb"
        or nil
      reset()
      if setup then H.try("{ " .. setup .. "; } >/dev/null 2>&1") end
      local want = tc_requests(sent("tc " .. case[1]))
      reset()
      if setup then H.try("{ " .. setup .. "; } >/dev/null 2>&1") end
      local got = tc_requests(sent(("%s -e 'pcall(function() %s end)'"):format(H.bin, case[2])))
      reset()
      assert.are.equal(1, #want, "tc sent no traffic-control request")
      assert.are.equal(#want, #got)
      for i = 1, #want do assert.are.equal(hex(want[i]), hex(got[i])) end
    end)
  end
end)
