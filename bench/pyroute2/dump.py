#!/usr/bin/python3
"""dump(K) with pyroute2: every link (or every IPv4 route) of the namespace
read back into a Python list of decoded messages.   dump.py links|routes"""
import sys

from pyroute2 import IPRoute

with IPRoute() as ipr:
    if sys.argv[1] == 'links':
        items = list(ipr.get_links())
    else:
        items = list(ipr.get_routes(family=2, table=254))
print(len(items))
