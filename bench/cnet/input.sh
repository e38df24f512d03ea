#!/bin/sh
# The input of `rules.lua` for rules(M), written before the clock starts (as nft -f's ruleset
# file is): one rule text per line (rules) or one address per line (set).
#   input.sh rules|set M > FILE
set -eu
awk -v form="$1" -v m="$2" 'BEGIN { for (i = 1; i <= m; i++) {
	a = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
	if (form == "rules") print "ip saddr " a " accept"; else print a } }'
