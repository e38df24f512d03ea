#!/bin/bash
# rules(M) as a shell script of individual nft commands, one per rule (or
# one per set element), the tutorial's style.   rules-cmds.sh rules|set M
set -euo pipefail
form=$1 m=$2
nft add table ip bench
nft add chain ip bench input '{ type filter hook input priority 0; }'
if [ "$form" = set ]; then
	nft add set ip bench allow '{ type ipv4_addr; }'
	nft add rule ip bench input ip saddr @allow accept
fi
for ((i = 1; i <= m; i++)); do
	a="10.$(((i >> 16) & 255)).$(((i >> 8) & 255)).$((i & 255))"
	if [ "$form" = rules ]; then
		nft add rule ip bench input ip saddr "$a" accept
	else
		nft add element ip bench allow "{ $a }"
	fi
done
