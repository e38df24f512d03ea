#!/bin/bash
# Untimed check of the kernel's state after a timed phase, through iproute2
# and nft (never the tool's own word), so a peer that does less cannot look
# faster.   check.sh containers N | rules rules|set M | clean | none
set -euo pipefail
die() { echo "check: $*" >&2; exit 1; }
case $1 in
containers)
	n=$2
	[ "$(ls /run/netns | wc -l)" = "$n" ] || die "$(ls /run/netns | wc -l) namespaces, want $n"
	[ "$(ls /sys/class/net/br0/brif | wc -l)" = "$n" ] || die "bridge has $(ls /sys/class/net/br0/brif | wc -l) ports, want $n"
	ip -br addr show br0 | grep >/dev/null '10\.200\.0\.1/16' || die "br0 address"
	ip -br link show br0 | grep >/dev/null ',UP' || die "br0 down"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || die "ip_forward off"
	# the recipes' table ip cnet, or the topology's own (cnet up of 09-scale.lua)
	{ nft list table ip cnet 2>/dev/null || nft list table ip cnet-scale; } |
		grep >/dev/null 'ip saddr 10.200.0.0/16 .*masquerade' || die "no masquerade rule"
	up=$(ip -br link show master br0 | grep -c ',UP') || true
	[ "$up" = "$n" ] || die "$up bridge ports up, want $n"
	for i in 1 $n; do
		h=$((i + 1)) a="10.200.$((h >> 8)).$((h & 255))/16"
		ip -n c$i -br addr show eth0 | grep >/dev/null " $a " || die "c$i: eth0 has no $a"
		ip -n c$i -br link show lo | grep >/dev/null ',UP' || die "c$i: lo down"
		ip -n c$i -br link show eth0 | grep >/dev/null ',UP' || die "c$i: eth0 down"
		ip -n c$i route show default | grep >/dev/null 'via 10.200.0.1 dev eth0' || die "c$i: no default route"
	done
	;;
rules)
	m=$3
	chain=$(nft list chain ip bench input)
	if [ "$2" = rules ]; then
		got=$(grep -c 'ip saddr 10\..* accept' <<< "$chain") || true
	else
		grep >/dev/null 'ip saddr @allow accept' <<< "$chain" || die "no set rule"
		got=$(nft -j list set ip bench allow | grep -o '"10\.[0-9.]*"' | wc -l)
	fi
	[ "$got" = "$m" ] || die "$got rules/elements, want $m"
	grep >/dev/null 'hook input' <<< "$chain" || die "no base chain"
	;;
clean)
	[ -z "$(ls /run/netns)" ] || die "namespaces left: $(ls /run/netns | head -3)"
	[ -z "$(nft list ruleset)" ] || die "nft ruleset not empty"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || die "ip_forward still on"
	;;
none) ;;
*) die "unknown check $1" ;;
esac
