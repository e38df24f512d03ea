#!/usr/bin/python3
"""containers(N) with pyroute2 written the plain way, as its documentation
shows it: netns.create() per namespace, IPRoute for the host, NetNS (a proxy
process inside the namespace) for the container side, lookups by name.
    containers.py setup|teardown N"""
import sys

from pyroute2 import IPRoute, NetNS, netns

import common

phase, n = sys.argv[1], int(sys.argv[2])
ipr = IPRoute()
if phase == 'setup':
    ipr.link('add', ifname='br0', kind='bridge')
    br = ipr.link_lookup(ifname='br0')[0]
    ipr.link('set', index=br, state='up')
    ipr.addr('add', index=br, address=common.GW, prefixlen=16)
    for i in range(1, n + 1):
        name = 'c%d' % i
        netns.create(name)
        ipr.link('add', ifname='veth%d' % i, kind='veth',
                 peer={'ifname': 'eth0', 'net_ns_fd': name})
        v = ipr.link_lookup(ifname='veth%d' % i)[0]
        ipr.link('set', index=v, master=br)
        ipr.link('set', index=v, state='up')
        ns = NetNS(name)
        ns.link('set', index=ns.link_lookup(ifname='lo')[0], state='up')
        e = ns.link_lookup(ifname='eth0')[0]
        ns.link('set', index=e, state='up')
        ns.addr('add', index=e, address=common.addr(i), prefixlen=16)
        ns.route('add', dst='default', gateway=common.GW)
        ns.close()
    common.set_forward(True)
    common.masquerade()
else:
    for i in range(1, n + 1):
        netns.remove('c%d' % i)
    ipr.link('del', index=ipr.link_lookup(ifname='br0')[0])
    common.unmasquerade()
    common.set_forward(False)
ipr.close()
