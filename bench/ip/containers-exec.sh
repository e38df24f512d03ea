#!/bin/bash
# containers(N) as a shell script of individual `ip netns exec NS ip` commands, one per
# step, the way the tutorial writes it.   containers-exec.sh setup|teardown N
set -euo pipefail
phase=$1 n=$2
addr() { local h=$(($1 + 1)); echo "10.200.$((h >> 8)).$((h & 255))"; }

if [ "$phase" = setup ]; then
	ip link add br0 type bridge
	ip link set br0 up
	ip addr add 10.200.0.1/16 dev br0
	for ((i = 1; i <= n; i++)); do
		ip netns add c$i
		ip netns exec c$i ip link set lo up
		ip link add veth$i type veth peer name eth0 netns c$i
		ip link set veth$i master br0
		ip link set veth$i up
		ip netns exec c$i ip link set eth0 up
		ip netns exec c$i ip addr add "$(addr $i)/16" dev eth0
		ip netns exec c$i ip route add default via 10.200.0.1
	done
	sysctl -qw net.ipv4.ip_forward=1
	nft add table ip cnet
	nft add chain ip cnet postrouting '{ type nat hook postrouting priority srcnat; }'
	nft add rule ip cnet postrouting ip saddr 10.200.0.0/16 masquerade
else
	for ((i = 1; i <= n; i++)); do
		ip netns del c$i
	done
	ip link del br0
	nft delete table ip cnet
	sysctl -qw net.ipv4.ip_forward=0
fi
