#!/bin/sh
# Runs a command in a throwaway sandbox: new network, mount and PID namespaces, a private
# /proc, a tmpfs of its own on /run/netns, loopback up. Nothing it does reaches the host's
# network, and everything it made vanishes when the command exits.
set -e
exec unshare --net --mount --pid --fork --mount-proc --propagation private \
  sh -c 'mkdir -p /run/netns && mount -t tmpfs -o mode=0755 cnet-sandbox /run/netns &&
         ip link set lo up && exec "$@"' cnet-sandbox "$@"
