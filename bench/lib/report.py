"""Results of bench/run: the markdown table, the CSV of every run, the plots."""
import csv
import os
import platform
import shutil
import statistics
import subprocess

import tools as T

PHASE_ORDER = ['setup', 'teardown', 'teardown+free', 'load', 'list', 'start', 'add', 'del',
               'storm-add', 'storm-del']
PLOTS = [('containers', 'setup'), ('containers', 'teardown'), ('containers', 'teardown+free'),
         ('rules', 'load'), ('rules-set', 'load')]


def _first_line(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return '?'


def machine(runs, quick, elapsed, settles, load0=None):
    cpu = '?'
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30
    good = [s for s in settles if s == s]
    return {
        'kernel': platform.release(),
        'cpu': '%s, %d cores' % (cpu, os.cpu_count()),
        'memory': '%.0f GiB' % mem,
        'iproute2': _first_line(['ip', '-V']),
        'nft': _first_line(['nft', '--version']),
        'load': 'load average %.1f at start, %.1f at end' % ((load0 or os.getloadavg())[0], os.getloadavg()[0]),
        'runs': runs, 'quick': quick, 'elapsed': elapsed,
        'settle': '%.3f s median, %.3f s max' % (statistics.median(good), max(good)) if good else '?',
    }


def summarize(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r['workload'], r['size'], r['phase'], r['tool']), []).append(r)
    out = {}
    for k, rs in groups.items():
        walls = [r['wall'] for r in rs]
        out[k] = {
            'n': len(rs), 'median': statistics.median(walls), 'min': min(walls), 'max': max(walls),
            'user': statistics.median([r['user'] for r in rs]) if 'user' in rs[0] else None,
            'sys': statistics.median([r['sys'] for r in rs]) if 'sys' in rs[0] else None,
            'rss': max(r['maxrss_kib'] for r in rs) / 1024 if 'maxrss_kib' in rs[0] else None,
        }
    return out


def fmt_t(s):
    if s is None:
        return ''
    return '%.0f ms' % (s * 1000) if s < 0.1 else '%.2f s' % s if s < 100 else '%.0f s' % s


def write_csv(path, rows):
    keys = ['workload', 'size', 'tool', 'phase', 'run', 'wall', 'user', 'sys', 'maxrss_kib']
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction='ignore')
        w.writeheader()
        for r in rows:
            w.writerow(r)


def markdown(stamp, summ, status, meta, wl, sizes):
    L = ['# cnet benchmark %s' % stamp, '',
         'Machine: %s; %s; kernel %s; %s; %s.' % (meta['cpu'], meta['memory'], meta['kernel'],
                                                   meta['iproute2'], meta['nft']),
         'Runs per cell: %d%s; whole bench %.0f s; kernel namespace-free wait between runs: %s; %s '
         '(other work on the machine inflates absolute times; the ratios compare tools run side by side, '
         'interleaved run by run).' % (
             meta['runs'], ' (quick smoke run)' if meta['quick'] else '', meta['elapsed'], meta['settle'],
             meta['load']),
         '', 'Wall time is the median over runs, with min-max; user and sys are medians of the '
         'process tree\'s CPU time (getrusage of the waited-for children); peak RSS is the largest '
         'single process of the tree. "x cnet" is the tool\'s median wall time divided by cnet\'s '
         '(above 1: cnet is faster).', '']
    for w, (skey, unit, tools) in wl.items():
        phases = sorted({k[2] for k in summ if k[0] == w}, key=lambda p: PHASE_ORDER.index(p) if p in PHASE_ORDER else 99)
        if not phases:
            continue
        for ph in phases:
            L += ['## %s: %s' % (w, ph), '',
                  '| %s | tool | wall (median) | min-max | user | sys | peak RSS | x cnet |' % (unit or 'size'),
                  '|---:|---|---:|---:|---:|---:|---:|---:|']
            for size in sizes[skey]:
                cn = summ.get((w, size, ph, 'cnet'))
                ordered = sorted((k for k in summ if k[0] == w and k[1] == size and k[2] == ph),
                                 key=lambda k: summ[k]['median'])
                for k in ordered:
                    s = summ[k]
                    ratio = '%.2f' % (s['median'] / cn['median']) if cn and cn['median'] > 0 else ''
                    L.append('| %s | %s | %s | %s-%s | %s | %s | %s | %s |' % (
                        size or '', k[3], fmt_t(s['median']), fmt_t(s['min']), fmt_t(s['max']),
                        fmt_t(s['user']), fmt_t(s['sys']),
                        '%.1f MiB' % s['rss'] if s['rss'] is not None else '', ratio))
            L.append('')
    bad = sorted((k, v) for k, v in status.items() if v[0] != 'ok')
    if bad:
        L += ['## Not measured', '', '| workload | size | tool | status | reason |', '|---|---:|---|---|---|']
        for (w, size, tool), (st, why) in bad:
            why = ' '.join(str(why).split())[:300].replace('|', '/')
            L.append('| %s | %s | %s | %s | %s |' % (w, size, tool, st, why))
        L.append('')
    return '\n'.join(L)


def plot(out, stamp, summ):
    if shutil.which('gnuplot') is None:
        return []
    made = []
    for w, ph in PLOTS:
        keys = [k for k in summ if k[0] == w and k[2] == ph]
        toolnames = sorted({k[3] for k in keys})
        if not toolnames:
            continue
        base = os.path.join(out, '%s-%s-%s' % (stamp, w, ph.replace('+', '-')))
        series = []
        for i, tool in enumerate(toolnames):
            dat = '%s.%d.dat' % (base, i)
            with open(dat, 'w') as f:
                for k in sorted((k for k in keys if k[3] == tool), key=lambda k: k[1]):
                    f.write('%d %g %g %g\n' % (k[1], summ[k]['median'], summ[k]['min'], summ[k]['max']))
            series.append((dat, tool))
        unit = 'containers N' if w == 'containers' else 'rules or set elements M'
        gp = ['set terminal pngcairo size 1000,600 font "sans,10"',
              'set output "%s.png"' % base,
              'set title "%s: %s, wall time (median, bars min-max)"' % (w, ph),
              'set xlabel "%s"' % unit, 'set ylabel "seconds"',
              'set logscale xy', 'set key outside right', 'set grid',
              'plot ' + ', '.join('"%s" using 1:2:3:4 with yerrorlines title "%s"' % (d, t.replace('"', ''))
                                  for d, t in series)]
        r = subprocess.run(['gnuplot'], input='\n'.join(gp), capture_output=True, text=True)
        for d, _ in series:
            os.remove(d)
        if r.returncode == 0:
            made.append(base + ".png")
    return made


def write(out, stamp, rows, status, meta, wl, sizes):
    summ = summarize(rows)
    csv_path = os.path.join(out, stamp + '.csv')
    write_csv(csv_path, rows)
    md_path = os.path.join(out, stamp + '.md')
    plots = plot(out, stamp, summ)
    text = markdown(stamp, summ, status, meta, wl, sizes)
    if plots:
        text += '\n## Plots\n\n' + '\n'.join('![](%s)' % os.path.basename(s) for s in plots) + '\n'
    with open(md_path, 'w') as f:
        f.write(text)
    return [md_path, csv_path] + plots
