#!/bin/bash
# Untimed preparation of dump(K): K links (K/2 veth pairs; this kernel has no
# dummy driver) or K IPv4 routes (10.x.y.0/24 on one veth), made with one
# `ip -batch`.   dump-prep.sh links|routes K
set -euo pipefail
what=$1 k=$2
if [ "$what" = links ]; then
	awk -v k="$k" 'BEGIN { for (i = 1; i <= k / 2; i++)
		printf "link add a%d type veth peer name b%d\n", i, i }' | ip -batch -
else
	ip link add r0 type veth peer name r1
	ip link set r0 up
	ip link set r1 up
	awk -v k="$k" 'BEGIN { for (i = 1; i <= k; i++)
		printf "route add 10.%d.%d.0/24 dev r0\n", int(i / 256) % 256, i % 256 }' | ip -batch -
fi
