#!/usr/bin/python3
"""rules(M) with pyroute2's nftables API: one table, one base chain, M rules
"ip saddr A accept" (pyroute2 sends each rule as its own transaction; its
0.7 API has no named sets, so only the rules form exists).
    rules.py M"""
import sys

from pyroute2.nftables.expressions import ipv4addr, verdict
from pyroute2.nftables.main import NFTables

m = int(sys.argv[1])
with NFTables(nfgen_family=2) as nft:  # NFPROTO_IPV4
    nft.table('add', name='bench')
    nft.chain('add', table='bench', name='input', hook='input', type='filter', priority=0)
    for i in range(1, m + 1):
        a = '10.%d.%d.%d' % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
        nft.rule('add', table='bench', chain='input',
                 expressions=(ipv4addr(src=a), verdict(code=1)))  # NF_ACCEPT
