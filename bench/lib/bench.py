"""The run loop of bench/run: sandboxes, waits between runs, and collection."""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

import report
import tools as T

SANDBOX = os.path.join(T.BENCH, 'lib', 'sandbox.py')


def in_sandbox(spec, timeout):
    """Run sandbox.py with SPEC in a fresh network + mount namespace."""
    argv = ['unshare', '--net', '--mount', T.PY, SANDBOX, json.dumps(spec)]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {'status': 'failed', 'error': 'timed out after %ds' % timeout}
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {'status': 'failed', 'error': 'sandbox rc %d: %s' % (r.returncode, r.stderr[-1500:])}


def settle():
    """Wait until the kernel has freed every namespace deleted so far."""
    r = in_sandbox({'probe': True}, 180)
    return r.get('settle', float('nan'))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def main(args):
    quick = args.quick
    runs = args.runs or (1 if quick else 5)
    sizes = dict(T.QUICK_SIZES if quick else T.SIZES)
    for item in filter(None, args.sizes.split(';')):
        key, vals = item.split('=')
        sizes[key] = [int(v) for v in vals.split(',')]
    wl = T.workloads()
    if args.only:
        names = []
        for g in args.only.split(','):
            names += T.GROUPS.get(g, [g])
        wl = {k: v for k, v in wl.items() if k in names}
    only_tools = set(filter(None, args.tools.split(',')))

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d-%H%M')
    out = args.out or (tempfile.mkdtemp(prefix='cnet-bench-') if quick else os.path.join(T.BENCH, 'results'))
    os.makedirs(out, exist_ok=True)

    rows = []      # every run: dict(workload, size, tool, phase, run, wall, user, sys, maxrss_kib)
    status = {}    # (workload, size, tool) -> ('ok'|'skipped'|'failed', reason)
    settles = []
    t_start = time.monotonic()
    load0 = os.getloadavg()
    settle()
    rtime = os.path.join(T.CBIN, 'rtime') if T.need_cpeers() is None else None
    if rtime is None:
        log('bench: C peers do not build; timing from Python (peak RSS then includes ~10 MiB of Python)')
    for w, (skey, unit, tools) in wl.items():
        tools = [t for t in tools if not only_tools or t.name in only_tools]
        for size in sizes[skey]:
            live = []
            for t in tools:
                why = t.needs()
                if why is None and t.max_size is not None and size > t.max_size:
                    why = t.why_max
                if why is not None:
                    status[(w, size, t.name)] = ('skipped', why)
                    log('%-12s %6s %-32s skipped: %s' % (w, size, t.name, why))
                else:
                    live.append(t)
            for run in range(1, runs + 1):
                for t in list(live):  # tools interleaved within each run
                    spec = {'prep': t.prep(size), 'phases': t.phases(size), 'env': t.env(), 'rtime': rtime}
                    res = in_sandbox(spec, 900)
                    settles.append(settle())
                    if res.get('status') == 'failed' and str(res.get('error', '')).startswith('sandbox:'):
                        # the harness itself tripped (not the tool): say so and retry once
                        log('%-12s %6s %-32s retry after harness error: %s' % (w, size, t.name, res['error']))
                        res = in_sandbox(spec, 900)
                        settles.append(settle())
                    st = res.get('status')
                    if st != 'ok':
                        status[(w, size, t.name)] = (st, res.get('error', '?'))
                        live.remove(t)
                        log('%-12s %6s %-32s %s: %s' % (w, size, t.name, st, res.get('error', '?')))
                        continue
                    status[(w, size, t.name)] = ('ok', '')
                    for ph, m in res['phases'].items():
                        rows.append(dict(workload=w, size=size, tool=t.name, phase=ph, run=run, **m))
                    log('%-12s %6s %-32s run %d: %s' % (w, size, t.name, run, '  '.join(
                        '%s %.3fs' % (ph, m['wall']) for ph, m in res['phases'].items())))
            # write what we have after every size: a long run cut short keeps its data
            report.write(out, stamp, rows, status,
                         report.machine(runs, quick, time.monotonic() - t_start, settles, load0), wl, sizes)
    elapsed = time.monotonic() - t_start
    meta = report.machine(runs, quick, elapsed, settles, load0)
    paths = report.write(out, stamp, rows, status, meta, wl, sizes)
    for p in paths:
        print(p)
    failed = sorted(k for k, v in status.items() if v[0] == 'failed')
    if failed:
        log('FAILED: ' + '; '.join('%s(%s) %s' % k for k in failed))
    ok = sum(1 for v in status.values() if v[0] == 'ok')
    skipped = sum(1 for v in status.values() if v[0] == 'skipped')
    print('bench: %d passed, %d failed, %d skipped' % (ok, len(failed), skipped))
    return 1 if failed else 0
