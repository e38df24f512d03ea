#!/usr/bin/python3
"""dump(K) with pyroute2: every link (or every IPv4 route, neighbour, FDB
entry) of the namespace read back into a Python list of decoded messages.
dump.py links|routes|neigh|fdb"""
import socket
import sys

from pyroute2 import IPRoute

with IPRoute() as ipr:
    if sys.argv[1] == 'links':
        items = list(ipr.get_links())
    elif sys.argv[1] == 'neigh':
        items = list(ipr.get_neighbours())
    elif sys.argv[1] == 'fdb':
        items = list(ipr.get_neighbours(family=socket.AF_BRIDGE))
    else:
        items = list(ipr.get_routes(family=2, table=254))
print(len(items))
