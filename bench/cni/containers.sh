#!/bin/bash
# containers(N) through the CNI bridge plugin with host-local IPAM (Debian's
# containernetworking-plugins), invoked per container the way a runtime does:
# the runtime makes the namespace, then calls the loopback plugin and the
# bridge plugin with CNI_COMMAND=ADD, the network config on stdin; teardown
# calls DEL for each container, then removes the namespace.  The bridge
# plugin makes br0, gives it the gateway address and turns on ip_forward; the
# masquerade rule is added once by the "runtime" with nft (the plugin's own
# ipMasq writes per-container iptables rules, which is not this workload).
#   containers.sh setup|teardown N
set -euo pipefail
phase=$1 n=$2
CNI_PATH=${CNI_PATH:-/usr/lib/cni}
state=${BENCH_TMP:-/tmp}/cni
mkdir -p "$state"
export CNI_PATH

bridge_conf() {
	cat <<JSON
{"cniVersion": "1.0.0", "name": "bench", "type": "bridge", "bridge": "br0",
 "isGateway": true, "ipMasq": false,
 "ipam": {"type": "host-local", "subnet": "10.200.0.0/16", "gateway": "10.200.0.1",
          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$state/ipam"}}
JSON
}
lo_conf='{"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}'
bridge_conf > "$state/bridge.json"

cni() { # cni ADD|DEL plugin container conf-file
	CNI_COMMAND=$1 CNI_CONTAINERID=$3 CNI_NETNS=/run/netns/$3 CNI_IFNAME=$4 \
		"$CNI_PATH/$2" < "$5" > /dev/null
}
echo "$lo_conf" > "$state/lo.json"

if [ "$phase" = setup ]; then
	for ((i = 1; i <= n; i++)); do
		ip netns add c$i
		cni ADD loopback c$i lo "$state/lo.json"
		cni ADD bridge c$i eth0 "$state/bridge.json"
	done
	sysctl -qw net.ipv4.ip_forward=1
	nft -f - <<'NFT'
add table ip cnet
add chain ip cnet postrouting { type nat hook postrouting priority srcnat; }
add rule ip cnet postrouting ip saddr 10.200.0.0/16 masquerade
NFT
else
	for ((i = 1; i <= n; i++)); do
		cni DEL bridge c$i eth0 "$state/bridge.json"
		cni DEL loopback c$i lo "$state/lo.json"
		ip netns del c$i
	done
	ip link del br0
	nft delete table ip cnet
	sysctl -qw net.ipv4.ip_forward=0
fi
