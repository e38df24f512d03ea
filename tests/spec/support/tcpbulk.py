#!/usr/bin/python3
"""A bounded TCP transfer for the shaping spec (tc_rate_spec.lua).

tcpbulk.py recv ADDR PORT        accepts one connection, reads to the end, prints JSON:
                                 {"bytes": all, "timed": bytes after the first read,
                                  "seconds": from the first read to the last}
tcpbulk.py send ADDR PORT BYTES  connects (retrying for up to 5 s), writes BYTES, closes.
"""
import json
import socket
import sys
import time


def recv(addr, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    srv.settimeout(30)
    conn, _ = srv.accept()
    conn.settimeout(30)
    total, timed, first, last = 0, 0, None, None
    while True:
        data = conn.recv(65536)
        if not data:
            break
        now = time.monotonic()
        if first is None:
            first = now  # the bucket's burst arrives at once: time what follows it
        else:
            timed += len(data)
        total += len(data)
        last = now
    print(json.dumps({"bytes": total, "timed": timed,
                      "seconds": (last - first) if first is not None else 0}))


def send(addr, port, count):
    deadline = time.monotonic() + 5
    while True:
        try:
            s = socket.create_connection((addr, port), timeout=30)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    chunk = b"x" * 65536
    left = count
    while left > 0:
        n = s.send(chunk[:min(left, len(chunk))])
        left -= n
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # wait for the receiver to close: everything has arrived
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
