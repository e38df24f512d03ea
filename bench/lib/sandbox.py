#!/usr/bin/python3
"""Inside a fresh sandbox (started by bench/run as `unshare --net --mount
sandbox.py SPEC`): make /run/netns and a scratch dir (SCRATCH) private tmpfs, bring lo
up, run the untimed preparation commands, then each timed phase, and print
one JSON object with wall, user, sys and peak RSS per phase.

A phase marked wait_free is followed by polling until every network device
but lo is gone from this namespace: the kernel frees deleted namespaces (and
the veth ends they take with them) asynchronously, so "free" is the time
from the start of that phase until the kernel has really finished."""
import json
import os
import subprocess
import sys
import time

SCRATCH = '/run/cnet-bench'  # private tmpfs inside each sandbox

EXIT_SKIP = 77  # a phase exiting 77 means "cannot run here" (missing API)


def sh(*argv):
    subprocess.run(argv, check=True)


def private_mounts():
    sh('mount', '--make-rprivate', '/')
    # One tmpfs over /run holds /run/netns and the scratch directory (not /tmp: the source
    # tree may live there), so nothing is created on the host's own /run.
    sh('mount', '-t', 'tmpfs', 'none', '/run')
    os.makedirs('/run/netns', exist_ok=True)
    os.makedirs(SCRATCH, exist_ok=True)
    sh('mount', '-t', 'sysfs', 'none', '/sys')  # /sys/class/net of this namespace
    sh('ip', 'link', 'set', 'lo', 'up')


def links():
    return [d for d in os.listdir('/sys/class/net') if d != 'lo']


def run_phase(argv, env, rtime):
    """Run one timed phase; through rtime (bench/c/rtime.c) when it is built,
    else with wait4() here (then peak RSS includes Python's own, see rtime.c)."""
    err = open(SCRATCH + '/.phase-err', 'w+')
    t0 = time.perf_counter()
    if rtime:
        p = subprocess.run([rtime, SCRATCH + '/.phase-time'] + argv, env=env, stdout=subprocess.DEVNULL,
                           stderr=err, stdin=subprocess.DEVNULL)
        with open(SCRATCH + '/.phase-time') as f:
            wall, user, sys_, rss, rc = f.read().split()
        r = {'wall': float(wall), 'user': float(user), 'sys': float(sys_), 'maxrss_kib': int(rss), 'rc': int(rc)}
    else:
        p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        r = {'wall': time.perf_counter() - t0, 'user': ru.ru_utime, 'sys': ru.ru_stime,
             'maxrss_kib': ru.ru_maxrss, 'rc': os.waitstatus_to_exitcode(status)}
    err.seek(0)
    r['stderr'] = err.read()[-2000:]
    r['t0'] = t0
    return r


def probe():
    """Time for the kernel to free one namespace deleted now.  Namespaces are
    freed by one ordered work queue, so when this one is gone, every namespace
    deleted before it (by earlier runs) is gone too."""
    private_mounts()
    sh('ip', 'netns', 'add', 'probe')
    sh('ip', 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1', 'netns', 'probe')
    t0 = time.perf_counter()
    sh('ip', 'netns', 'del', 'probe')
    deadline = time.monotonic() + 120
    while os.path.exists('/sys/class/net/p0') and time.monotonic() < deadline:
        time.sleep(0.002)
    return {'status': 'ok', 'settle': time.perf_counter() - t0}


def main():
    spec = json.loads(sys.argv[1])
    if spec.get('probe'):
        return probe()
    result = {'phases': {}, 'status': 'ok'}
    env = dict(os.environ)
    env.update(spec.get('env', {}))
    env['BENCH_TMP'] = SCRATCH
    try:
        private_mounts()
        for argv in spec.get('prep', []):
            r = subprocess.run(argv, env=env, capture_output=True, text=True)
            if r.returncode != 0:
                result.update(status='failed', error='prep %s: %s' % (argv, r.stderr[-1500:]))
                return result
        for ph in spec['phases']:
            r = run_phase(ph['argv'], env, spec.get('rtime'))
            if r['rc'] == EXIT_SKIP:
                result.update(status='skipped', error=r['stderr'].strip().splitlines()[-1:] or ['exit 77'])
                result['error'] = result['error'][0]
                return result
            if r['rc'] != 0:
                result.update(status='failed', error='%s exited %d: %s' % (ph['name'], r['rc'], r['stderr']))
                return result
            t0 = r.pop('t0')
            del r['stderr']
            result['phases'][ph['name']] = r
            if ph.get('wait_free'):
                deadline = time.monotonic() + 60
                while links() and time.monotonic() < deadline:
                    time.sleep(0.002)
                left = links()
                if left:
                    result.update(status='failed', error='%d links left after %s: %s' % (len(left), ph['name'], left[:5]))
                    return result
                result['phases'][ph['name'] + '+free'] = {'wall': time.perf_counter() - t0}
            if ph.get('check'):
                c = subprocess.run(ph['check'], env=env, capture_output=True, text=True)
                if c.returncode != 0:
                    result.update(status='failed', error='check after %s: %s%s' % (ph['name'], c.stdout[-800:], c.stderr[-800:]))
                    return result
    except Exception as e:  # report, never crash the runner
        import traceback
        tb = traceback.extract_tb(e.__traceback__)[-1]
        result.update(status='failed', error='sandbox: %r at %s:%d' % (e, os.path.basename(tb.filename), tb.lineno))
    return result


if __name__ == '__main__':
    print(json.dumps(main()))
