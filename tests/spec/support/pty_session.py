#!/usr/bin/python3
"""pty_session.py CMD [ARG...]: runs CMD on a new pseudo-terminal, as a user at a terminal
would, and plays the steps read from standard input, one per line:

    send HEX               types the bytes (hex-encoded; "03" is Ctrl-C, which the terminal
                           turns into SIGINT for the foreground process group, as a real
                           keyboard does)
    expect SECONDS HEX     waits until what the terminal showed since the last match
                           matches the regular expression (hex-encoded; matched against
                           the shown text, see shown()); fails after SECONDS
    screen SECONDS HEX     the same, matched against all the terminal showed (lines drawn
                           again included); later steps still start after the last expect
    sleep SECONDS

Prints one line per step, "ok N ELAPSED" (seconds since the last send, for an expect) or
"fail N", stops at the first failure, then ends the input (Ctrl-D), waits up to 10 s for CMD
to exit and prints "exit STATUS" and, after a line "transcript", everything the terminal
showed.
"""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

ESCAPES = re.compile(r'\x1b(\[[0-9;?>=]*[A-Za-z~]|[()][0-9A-Za-z]|[=>])')


def shown(raw):
    """What the terminal shows: escapes removed, and in each line only what follows its last
    carriage return (the cursor went back and wrote over it)."""
    lines = ESCAPES.sub('', raw.decode('utf-8', 'replace')).split('\n')
    return '\n'.join(line.rstrip('\r').rsplit('\r', 1)[-1] for line in lines)


def main():
    steps = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    # A wide terminal: readline does not wrap the long lines typed below.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 250, 0, 0))
    raw = bytearray()
    seen = 0  # the shown text (escapes removed) before this offset matched earlier steps

    def read(timeout):
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            return False
        raw.extend(data)
        return True

    last_send = time.monotonic()
    failed = False
    for n, step in enumerate(steps, 1):
        kind = step[0]
        if kind == 'send':
            os.write(fd, bytes.fromhex(step[1]))
            last_send = time.monotonic()
            print('ok %d' % n)
        elif kind == 'sleep':
            end = time.monotonic() + float(step[1])
            while time.monotonic() < end and read(end - time.monotonic()):
                pass
            print('ok %d' % n)
        elif kind in ('expect', 'screen'):
            pattern = re.compile(bytes.fromhex(step[2]).decode(), re.S)
            end = time.monotonic() + float(step[1])
            while True:
                text = shown(raw)
                m = pattern.search(text, min(seen, len(text)) if kind == 'expect' else 0)
                if m:
                    if kind == 'expect':
                        seen = m.end()
                    print('ok %d %.3f' % (n, time.monotonic() - last_send))
                    break
                left = end - time.monotonic()
                if left <= 0 or not read(left):
                    print('fail %d' % n)
                    failed = True
                    break
            if failed:
                break
        sys.stdout.flush()
    # Ctrl-D. Sent while the program is still between two reads of the terminal (the last step
    # matched output, not the next prompt), the terminal is in canonical mode and the line
    # discipline takes ^D as an end-of-file mark that is no byte: when readline then switches
    # to raw mode for its prompt, the mark is gone and it waits for input that never comes
    # (seen under load, as a REPL that never ended). So ^D is sent again every 2 s, until the
    # program is gone; how many it took is printed.
    os.write(fd, b'\x04')
    status = None
    sent_eof = time.monotonic()
    eofs, next_eof = 1, sent_eof + 2
    end = sent_eof + 30
    while time.monotonic() < end:
        read(0.1)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
        if time.monotonic() >= next_eof:
            os.write(fd, b'\x04')
            eofs, next_eof = eofs + 1, time.monotonic() + 2
    if status is None:
        # what the processes are doing, for whoever reads the failure
        os.system('ps -eo pid,ppid,stat,wchan:32,etimes,args --forest | grep -v " \\[" | tail -40')
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        status = 'killed'
    while read(0.05):
        if not select.select([fd], [], [], 0)[0]:
            break
    print('exit %s' % status)
    print('exit after %.2f s and %d end-of-file' % (time.monotonic() - sent_eof, eofs))
    print('transcript')
    sys.stdout.write(shown(raw))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
