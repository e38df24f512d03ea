#!/bin/sh
# Runs a command in a throwaway sandbox: new network, mount, PID, UTS and IPC namespaces, a
# private /proc, a tmpfs of its own over /run (so /run/netns starts empty and nothing is left
# on the host), loopback up. Nothing it does reaches the host's network or its machine-wide
# names, and everything it made vanishes when the command exits.
set -e
exec unshare --net --mount --pid --uts --ipc --fork --mount-proc --propagation private \
  sh -c 'mount -t tmpfs -o mode=0755 cnet-sandbox /run && mkdir /run/netns &&
         ip link set lo up && exec "$@"' cnet-sandbox "$@"
