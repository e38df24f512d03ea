#!/bin/bash
# Untimed preparation of dump(K): K links (K/2 veth pairs; this kernel has no
# dummy driver), K IPv4 routes (10.x.y.0/24 on one veth), K permanent IPv4
# neighbours on one veth, or K static FDB entries on one bridge port; made
# with one `ip -batch` (or `bridge -batch`).
#   dump-prep.sh links|routes|neigh|fdb K
set -euo pipefail
what=$1 k=$2
case $what in
links)
	awk -v k="$k" 'BEGIN { for (i = 1; i <= k / 2; i++)
		printf "link add a%d type veth peer name b%d\n", i, i }' | ip -batch -
	;;
routes)
	ip link add r0 type veth peer name r1
	ip link set r0 up
	ip link set r1 up
	awk -v k="$k" 'BEGIN { for (i = 1; i <= k; i++)
		printf "route add 10.%d.%d.0/24 dev r0\n", int(i / 256) % 256, i % 256 }' | ip -batch -
	;;
neigh)
	ip link add n0 type veth peer name n1
	ip link set n0 up
	ip link set n1 up
	awk -v k="$k" 'BEGIN { for (i = 1; i <= k; i++) {
		a = int(i / 65536) % 256; b = int(i / 256) % 256; c = i % 256
		printf "neigh add 10.%d.%d.%d lladdr 02:00:00:%02x:%02x:%02x dev n0 nud permanent\n", a, b, c, a, b, c } }' |
		ip -batch -
	;;
fdb)
	ip link add br0 type bridge
	ip link add p0 type veth peer name p1
	ip link set p0 master br0
	ip link set br0 up
	ip link set p0 up
	ip link set p1 up
	awk -v k="$k" 'BEGIN { for (i = 1; i <= k; i++) {
		a = int(i / 65536) % 256; b = int(i / 256) % 256; c = i % 256
		printf "fdb add 02:00:01:%02x:%02x:%02x dev p0 master static\n", a, b, c } }' | bridge -batch -
	;;
*) echo "dump-prep.sh: unknown $what" >&2; exit 1 ;;
esac
