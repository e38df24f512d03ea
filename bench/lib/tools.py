"""The workloads and the tools that run them: what each tool executes for a
given size, and what it needs to be there."""
import glob
import os
import shutil
import subprocess

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
PY = '/usr/bin/python3'
CBIN = os.path.join(ROOT, 'build', 'bench-c')

SIZES = {
    'containers': [10, 100, 500],
    'rules': [1000, 10000],
    'dump-links': [1000],
    'dump-routes': [10000],
    'dump-neigh': [10000],
    'dump-fdb': [10000],
    'startup': [0],
    'topology-read': [100, 500],
    'topology-small': [0],
    'cni': [20],
    'cni-storm': [100],
}
QUICK_SIZES = {
    'containers': [10],
    'rules': [1000],
    'dump-links': [100],
    'dump-routes': [1000],
    'dump-neigh': [1000],
    'dump-fdb': [1000],
    'startup': [0],
    'topology-read': [10],
    'topology-small': [0],
    'cni': [5],
    'cni-storm': [16],
}
GROUPS = {  # --only names to workloads
    'containers': ['containers'],
    'rules': ['rules', 'rules-set'],
    'dump': ['dump-links', 'dump-routes', 'dump-neigh', 'dump-fdb'],
    'startup': ['startup'],
    'topology': ['topology-read', 'topology-small'],
    'cni': ['cni', 'cni-storm'],
}


def b(*parts):
    return os.path.join(BENCH, *parts)


# --- prerequisites: each returns None when met, else the reason -------------

def need_cmds(*cmds):
    def check():
        missing = [c for c in cmds if shutil.which(c) is None]
        return 'missing command: ' + ', '.join(missing) if missing else None
    return check


def need_pyroute2():
    if not os.path.exists(PY):
        return 'no %s' % PY
    r = subprocess.run([PY, '-c', 'import pyroute2'], capture_output=True)
    return None if r.returncode == 0 else 'pyroute2 does not import under %s (apt-get install python3-pyroute2)' % PY


def need_cni():
    path = os.environ.get('CNI_PATH', '/usr/lib/cni')
    missing = [p for p in ('bridge', 'host-local', 'loopback') if not os.access(os.path.join(path, p), os.X_OK)]
    if missing:
        return 'CNI plugins missing in %s: %s (apt-get install containernetworking-plugins)' % (path, ', '.join(missing))
    return need_cmds('ip', 'nft')()


_cbuild = {}


def need_cpeers():
    """Build the C peers with their own Makefile (not the main build)."""
    if 'reason' not in _cbuild:
        r = subprocess.run(['make', '-s', '-C', b('c'), 'OUT=' + CBIN], capture_output=True, text=True)
        _cbuild['reason'] = None if r.returncode == 0 else 'C peers do not build: ' + (r.stderr.strip().splitlines() or ['?'])[-1]
    return _cbuild['reason']


def cnet_command():
    """argv prefix that runs a Lua script with cnet loaded, or None."""
    env = os.environ.get('CNET')
    if env:
        return [env] if os.access(env, os.X_OK) else None
    exe = os.path.join(ROOT, 'build', 'cnet')
    if os.access(exe, os.X_OK):
        return [exe]
    return None


def cnet_module_dir():
    for so in [os.path.join(ROOT, 'build', 'cnet.so')] + glob.glob(os.path.join(ROOT, 'build', '*', 'cnet.so')):
        if os.path.exists(so):
            return os.path.dirname(so)
    return None


def need_cnet():
    if cnet_command() is None and (cnet_module_dir() is None or shutil.which('lua5.4') is None):
        return 'cnet not built (no $CNET, build/cnet or build/cnet.so)'
    return None


def need_cnet_without_nft():
    """For the "rule by nft -f" variants: only while cnet.nft cannot do it."""
    why = need_cnet()
    if why:
        return why
    argv = cnet_script('has.lua', 'nft.apply', 'nft.delete_table')
    r = subprocess.run(argv, env=dict(os.environ, **cnet_env()), capture_output=True)
    return 'cnet.nft exists: see the cnet row' if r.returncode == 0 else None


def need_topology():
    """cnet up/down/plan/status: the host binary and lua-cjson (the state file's JSON)."""
    cmd = cnet_command()
    if cmd is None:
        return 'no cnet host binary (build/cnet or $CNET)'
    r = subprocess.run(cmd + ['-e', 'require "cnet.topology" require "cjson"'], capture_output=True)
    return None if r.returncode == 0 else 'cnet.topology or lua-cjson missing: ' + r.stderr.decode()[-200:]


def topology_file(name):
    return os.path.join(ROOT, 'scripts', 'topologies', name)


def cnet_cmd(*args):
    return (cnet_command() or ['false']) + [str(a) for a in args]


def cnet_script(script, *args):
    cmd = cnet_command()
    if cmd is not None:
        return cmd + [b('cnet', script)] + [str(a) for a in args]
    return ['lua5.4', b('cnet', 'run.lua'), b('cnet', script)] + [str(a) for a in args]


def cnet_env():
    d = cnet_module_dir()
    return {'LUA_CPATH': os.path.join(d, '?.so') + ';;'} if d and cnet_command() is None else {}


# --- the tools ---------------------------------------------------------------

class Tool:
    """name: shown in the table; phases(size) -> list of phase dicts;
    prep(size) -> untimed commands; needs: prerequisite check; max_size:
    skip larger sizes (with the reason in why_max)."""

    def __init__(self, name, phases, needs, prep=None, max_size=None, why_max='', env=None, check=None):
        self.name, self.phases, self.needs = name, phases, needs
        self.prep = prep or (lambda size: [])
        self.max_size, self.why_max = max_size, why_max
        self.env = env or (lambda: {})
        self.check = check


def containers_phases(setup, teardown):
    def phases(n):
        return [
            {'name': 'setup', 'argv': setup(n), 'check': [b('lib', 'check.sh'), 'containers', str(n)]},
            {'name': 'teardown', 'argv': teardown(n), 'wait_free': True,
             'check': [b('lib', 'check.sh'), 'clean']},
        ]
    return phases


def sh(script):
    return lambda phase: (lambda n: ['bash', b(script), phase, str(n)])


def containers_tools():
    mnl = os.path.join(CBIN, 'mnl-containers')
    tools = [
        Tool('cnet', containers_phases(lambda n: cnet_script('containers.lua', 'setup', n),
                                       lambda n: cnet_script('containers.lua', 'teardown', n)),
             need_cnet, env=cnet_env),
        Tool('cnet (batch)', containers_phases(lambda n: cnet_script('containers_batch.lua', 'setup', n),
                                               lambda n: cnet_script('containers_batch.lua', 'teardown', n)),
             need_cnet, env=cnet_env),
        Tool('cnet (grouped batch)',
             containers_phases(lambda n: cnet_script('containers_grouped.lua', 'setup', n),
                               lambda n: cnet_script('containers_grouped.lua', 'teardown', n)),
             need_cnet, env=cnet_env),
        Tool('cnet (rule by nft -f)', containers_phases(lambda n: cnet_script('containers.lua', 'setup', n),
                                                       lambda n: cnet_script('containers.lua', 'teardown', n)),
             need_cnet_without_nft, env=lambda: dict(cnet_env(), BENCH_RULE_BY_NFT='1')),
        Tool('cnet (batch; rule by nft -f)',
             containers_phases(lambda n: cnet_script('containers_batch.lua', 'setup', n),
                               lambda n: cnet_script('containers_batch.lua', 'teardown', n)),
             need_cnet_without_nft, env=lambda: dict(cnet_env(), BENCH_RULE_BY_NFT='1')),
        # scripts/topologies/09-scale.lua is this very network, described as a topology:
        # up plans against the kernel, tags, records its state, then makes it in one batch;
        # down removes what the state says, namespaces first, and waits for the veths to go
        Tool('cnet up (topology)',
             containers_phases(lambda n: cnet_cmd('up', topology_file('09-scale.lua'), n, '-q'),
                               lambda n: cnet_cmd('down', 'scale', '-q')),
             need_topology),
        Tool('raw libmnl', containers_phases(lambda n: [mnl, 'setup', str(n)],
                                             lambda n: [mnl, 'teardown', str(n)]), need_cpeers),
        Tool('raw libmnl (one by one)', containers_phases(lambda n: [mnl, 'setup-serial', str(n)],
                                                          lambda n: [mnl, 'teardown', str(n)]),
             need_cpeers),
        Tool('raw libmnl (veth-first teardown)', containers_phases(lambda n: [mnl, 'setup', str(n)],
                                                                  lambda n: [mnl, 'teardown-links', str(n)]),
             need_cpeers),
        Tool('ip -batch', containers_phases(sh('ip/containers-batch.sh')('setup'),
                                            sh('ip/containers-batch.sh')('teardown')),
             need_cmds('ip', 'nft')),
        Tool('ip -n script', containers_phases(sh('ip/containers-n.sh')('setup'),
                                               sh('ip/containers-n.sh')('teardown')),
             need_cmds('ip', 'nft', 'sysctl')),
        Tool('ip netns exec script', containers_phases(sh('ip/containers-exec.sh')('setup'),
                                                       sh('ip/containers-exec.sh')('teardown')),
             need_cmds('ip', 'nft', 'sysctl')),
        Tool('pyroute2 (fast)', containers_phases(lambda n: [PY, b('pyroute2', 'containers_fast.py'), 'setup', str(n)],
                                                  lambda n: [PY, b('pyroute2', 'containers_fast.py'), 'teardown', str(n)]),
             need_pyroute2),
        Tool('pyroute2 (plain)', containers_phases(lambda n: [PY, b('pyroute2', 'containers.py'), 'setup', str(n)],
                                                   lambda n: [PY, b('pyroute2', 'containers.py'), 'teardown', str(n)]),
             need_pyroute2),
        Tool('CNI bridge', containers_phases(sh('cni/containers.sh')('setup'), sh('cni/containers.sh')('teardown')),
             need_cni),
    ]
    return tools


def rules_tools(form):
    nftnl = os.path.join(CBIN, 'nftnl-rules')

    def one(argv):
        return lambda m: [{'name': 'load', 'argv': argv(m),
                           'check': [b('lib', 'check.sh'), 'rules', form, str(m)]}]
    tools = [
        # Like nft -f's ruleset file, cnet's input (the M addresses, or the M rule texts) is
        # written before the clock starts: both then time reading and parsing it, not making it.
        Tool('cnet', one(lambda m: cnet_script('rules.lua', form, m, '/run/cnet-bench/input.txt')),
             need_cnet, env=cnet_env,
             prep=lambda m: [['sh', '-c', '%s %s %d > /run/cnet-bench/input.txt' % (b('cnet', 'input.sh'), form, m)]]),
        Tool('raw libnftnl', one(lambda m: [nftnl, form, str(m)]), need_cpeers),
        Tool('nft -f', one(lambda m: ['nft', '-f', '/run/cnet-bench/ruleset.nft']), need_cmds('nft'),
             prep=lambda m: [['sh', '-c', '%s %s %d > /run/cnet-bench/ruleset.nft' % (b('nft', 'ruleset.sh'), form, m)]]),
        Tool('nft commands', one(lambda m: ['bash', b('nft', 'rules-cmds.sh'), form, str(m)]), need_cmds('nft'),
             max_size=1000, why_max='one nft process per rule: minutes at this size'),
    ]
    if form == 'rules':
        tools.append(Tool('pyroute2', one(lambda m: [PY, b('pyroute2', 'rules.py'), str(m)]), need_pyroute2))
    return tools


def dump_tools(what):
    prep = lambda k: [[b('lib', 'dump-prep.sh'), what, str(k)]]  # noqa: E731
    one = lambda argv: (lambda k: [{'name': 'list', 'argv': argv}])  # noqa: E731
    # the iproute2 command that lists the same objects as JSON
    ipcmd = {'links': ['ip', '-j', 'link', 'show'], 'routes': ['ip', '-j', 'route', 'show'],
             'neigh': ['ip', '-j', 'neigh', 'show'], 'fdb': ['bridge', '-j', 'fdb', 'show']}[what]
    return [
        Tool('cnet', one(cnet_script('dump.lua', what)), need_cnet, prep=prep, env=cnet_env),
        Tool(' '.join(ipcmd[:2]), one(ipcmd), need_cmds(ipcmd[0]), prep=prep),
        Tool('pyroute2', one([PY, b('pyroute2', 'dump.py'), what]), need_pyroute2, prep=prep),
    ]


def startup_tools():
    one = lambda argv: (lambda k: [{'name': 'start', 'argv': argv}])  # noqa: E731
    cmd = cnet_command()
    cnet_argv = (cmd + ['-e', '']) if cmd else ['false']
    return [
        Tool('cnet', one(cnet_argv), lambda: None if cnet_command() else 'no cnet host binary (build/cnet or $CNET)'),
        Tool('lua5.4', one(['lua5.4', '-e', '']), need_cmds('lua5.4')),
        Tool('python3 + import pyroute2', one([PY, '-c', 'import pyroute2']), need_pyroute2),
    ]


def need_cnet_plugin():
    cmd = cnet_command()
    if cmd is None:
        return 'no cnet host binary (build/cnet or $CNET): the plugin is that binary'
    if not os.path.exists(os.path.join(os.path.dirname(cmd[0]), 'cni', 'cnet')):
        return 'no cni/cnet link next to %s (built by cmake)' % cmd[0]
    return None


def need_cnet_plugin_hl():
    return need_cnet_plugin() or need_cni()


def cni_tools(storm):
    """The CNI plugins, one process per container and command (bench/cni/plugin.sh): cnet's
    bridge recipe with its built-in allocator and with host-local, and the reference bridge
    plugin with host-local, all on the same configuration."""
    add, dele = ('storm-add', 'storm-del') if storm else ('add', 'del')

    def phases(tool):
        def ph(n):
            script = b('cni', 'plugin.sh')
            return [
                {'name': add, 'argv': ['bash', script, tool, add, str(n)],
                 'check': ['bash', script, tool, 'check-add', str(n)]},
                {'name': dele, 'argv': ['bash', script, tool, dele, str(n)],
                 'check': ['bash', script, tool, 'check-del', str(n)]},
            ]
        return ph

    def prep(tool):
        return lambda n: [['bash', b('cni', 'plugin.sh'), tool, 'prep', str(n)]]

    def env():
        cmd = cnet_command()
        return {'CNET': cmd[0]} if cmd else {}
    # every plugin call is started by bench/c's cni-runner
    def needs(f):
        return lambda: need_cpeers() or f()
    return [
        Tool('cnet', phases('cnet'), needs(need_cnet_plugin), prep=prep('cnet'), env=env),
        Tool('cnet plugin + host-local', phases('cnet-hl'), needs(need_cnet_plugin_hl), prep=prep('cnet-hl'), env=env),
        Tool('CNI bridge + host-local', phases('ref'), needs(need_cni), prep=prep('ref')),
        Tool('kernel floor (one process)', phases('floor'), need_cnet_plugin, prep=prep('floor'), env=env),
    ]


def topology_read_tools():
    """plan and status of example 9 while it is up: every namespace read and compared."""
    f = topology_file('09-scale.lua')
    return [Tool('cnet plan + status',
                 lambda n: [{'name': 'plan', 'argv': cnet_cmd('plan', f, n)},
                            {'name': 'status', 'argv': cnet_cmd('status', 'scale')}],
                 # then 3 s for the kernel's own work after making 500 namespaces (IPv6
                 # duplicate address detection and router solicitation on 1000 devices take
                 # the routing lock for a second or two): plan and status of a topology that
                 # is up, not one still being set up
                 need_topology, prep=lambda n: [cnet_cmd('up', f, n, '-q'), ['sleep', '3']])]


def topology_small_tools():
    """up and down of example 2 (three containers, NAT), process start included."""
    f = topology_file('02-three-containers.lua')
    return [Tool('cnet up/down (example 2)',
                 lambda k: [{'name': 'up', 'argv': cnet_cmd('up', f, '-q')},
                            {'name': 'down', 'argv': cnet_cmd('down', 'three', '-q'), 'wait_free': True}],
                 need_topology)]


def workloads():
    """workload name -> (size key, unit, tools)"""
    return {
        'containers': ('containers', 'N', containers_tools()),
        'rules': ('rules', 'M', rules_tools('rules')),
        'rules-set': ('rules', 'M', rules_tools('set')),
        'dump-links': ('dump-links', 'K', dump_tools('links')),
        'dump-routes': ('dump-routes', 'K', dump_tools('routes')),
        'dump-neigh': ('dump-neigh', 'K', dump_tools('neigh')),
        'dump-fdb': ('dump-fdb', 'K', dump_tools('fdb')),
        'startup': ('startup', '', startup_tools()),
        'topology-read': ('topology-read', 'N', topology_read_tools()),
        'topology-small': ('topology-small', '', topology_small_tools()),
        'cni': ('cni', 'N', cni_tools(False)),
        'cni-storm': ('cni-storm', 'N', cni_tools(True)),
    }
