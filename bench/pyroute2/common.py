"""Shared bits of the pyroute2 peers (Debian's python3-pyroute2 0.7)."""
import subprocess

GW = '10.200.0.1'


def addr(i):
    """Address of container i (1-based): 10.200.0.0 + i + 1."""
    h = i + 1
    return '10.200.%d.%d' % (h >> 8, h & 255)


def set_forward(on):
    with open('/proc/sys/net/ipv4/ip_forward', 'w') as f:
        f.write('1' if on else '0')


def masquerade():
    """The one masquerade rule, through pyroute2's nftables API."""
    from pyroute2.nftables.main import NFTables
    from pyroute2.nftables.expressions import genex, ipv4addr
    with NFTables(nfgen_family=2) as nft:  # NFPROTO_IPV4
        nft.table('add', name='cnet')
        nft.chain('add', table='cnet', name='postrouting', hook='postrouting',
                  type='nat', priority=100)
        nft.rule('add', table='cnet', chain='postrouting',
                 expressions=(ipv4addr(src='10.200.0.0/16'), [genex('masq', {})]))


def unmasquerade():
    from pyroute2.nftables.main import NFTables
    with NFTables(nfgen_family=2) as nft:
        nft.table('del', name='cnet')


def nft_listing():
    return subprocess.run(['nft', 'list', 'ruleset'], capture_output=True, text=True).stdout
