#!/bin/bash
# containers(N) with iproute2's batch mode, in the fastest form we found:
# one `ip -batch` for everything the host side can do (namespaces, bridge,
# veth pairs with the peer created in its namespace), then one
# `ip -n cI -batch` per namespace (ip 6.1 takes no -n inside a batch file),
# and the masquerade rule through `nft -f`.
#   containers-batch.sh setup|teardown N
set -euo pipefail
phase=$1 n=$2
dir=${BENCH_TMP:-/tmp}/ip-batch
mkdir -p "$dir"

if [ "$phase" = setup ]; then
	{
		echo "link add br0 type bridge"
		echo "link set br0 up"
		echo "addr add 10.200.0.1/16 dev br0"
		for ((i = 1; i <= n; i++)); do
			echo "netns add c$i"
			echo "link add veth$i master br0 up type veth peer name eth0 netns c$i"
		done
	} > "$dir/host"
	for ((i = 1; i <= n; i++)); do
		h=$((i + 1))
		printf 'link set lo up\nlink set eth0 up\naddr add 10.200.%d.%d/16 dev eth0\nroute add default via 10.200.0.1\n' \
			$((h >> 8)) $((h & 255)) > "$dir/c$i"
	done
	printf '%s\n' 'add table ip cnet' \
		'add chain ip cnet postrouting { type nat hook postrouting priority srcnat; }' \
		'add rule ip cnet postrouting ip saddr 10.200.0.0/16 masquerade' > "$dir/nft"
	ip -batch "$dir/host"
	for ((i = 1; i <= n; i++)); do
		ip -n c$i -batch "$dir/c$i"
	done
	echo 1 > /proc/sys/net/ipv4/ip_forward
	nft -f "$dir/nft"
else
	{
		for ((i = 1; i <= n; i++)); do
			echo "netns del c$i"
		done
		echo "link del br0"
	} > "$dir/down"
	ip -batch "$dir/down"
	nft delete table ip cnet
	echo 0 > /proc/sys/net/ipv4/ip_forward
fi
