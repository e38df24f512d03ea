#!/bin/sh
# Redraws the pictures of docs/ from the kernel: each network is made in a throwaway sandbox
# and drawn there by `cnet graph` (nothing is drawn by hand).
#   docs/pictures/make.sh [path/to/cnet]        (default build/cnet; needs Graphviz's dot)
set -e
cd "$(dirname "$0")/../.."
cnet=${1:-build/cnet}
out=docs/pictures
# the tutorial's Tl;DR, made by its recipe
"$cnet" --sandbox -e 'dofile("scripts/tldr.lua")' \
  -e "cnet.topology.graph{file = '$out/tldr.svg'}" >/dev/null
# each example topology, with its default arguments
for f in scripts/topologies/[0-9]*.lua; do
  name=$(basename "$f" .lua)
  args=""
  [ "$name" = 09-scale ] && args="'6'"
  "$cnet" --sandbox -e "cnet.topology.load('$f', {$args}):up()" \
    -e "cnet.topology.graph{file = '$out/$name.svg'}" >/dev/null
  echo "$out/$name.svg"
done
