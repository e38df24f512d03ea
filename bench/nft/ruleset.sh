#!/bin/bash
# Write the rules(M) ruleset as an nft script (the input of `nft -f`).
#   ruleset.sh rules|set M > FILE
# rules: M rules "ip saddr A accept" in one chain; set: the same M addresses
# as one named set and one rule.  Address i (1..M) is 10.0.0.0 + i.
set -euo pipefail
form=$1 m=$2
echo 'add table ip bench'
echo 'add chain ip bench input { type filter hook input priority 0; }'
if [ "$form" = rules ]; then
	awk -v m="$m" 'BEGIN { for (i = 1; i <= m; i++)
		printf "add rule ip bench input ip saddr 10.%d.%d.%d accept\n",
			int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
else
	echo 'add set ip bench allow { type ipv4_addr; }'
	awk -v m="$m" 'BEGIN { printf "add element ip bench allow {";
		for (i = 1; i <= m; i++)
			printf "%s 10.%d.%d.%d", (i > 1 ? "," : ""),
				int(i / 65536) % 256, int(i / 256) % 256, i % 256
		print " }" }'
	echo 'add rule ip bench input ip saddr @allow accept'
fi
