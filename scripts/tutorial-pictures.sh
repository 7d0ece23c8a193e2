#!/usr/bin/env bash
# Draws the tutorial's pictures from labs/tutorial.sh: its topology and one
# ping per macvlan mode (bridge, vepa, private, passthru, source), each with
# every frame's path and where and why a frame died. Usage:
#   scripts/tutorial-pictures.sh [DIR]     (default: docs/pictures)
# MVL=path/to/mvl uses that binary instead of building one.
set -euo pipefail
dir=$(realpath -m "${1:-docs/pictures}")
cd "$(dirname "$0")/.."
if [ -z "${MVL:-}" ]; then
  cargo build --release -q -p mvl
  MVL="${CARGO_TARGET_DIR:-target}/release/mvl"
fi
mvl=$MVL
lab=labs/tutorial.sh
mkdir -p "$dir"

# Line of the tutorial -> picture. The lines are the tutorial's own pings.
"$mvl" lab draw "$lab" --at 42 -o "$dir/topology.svg"    # set up, before the first ping
"$mvl" lab draw "$lab" --ping 45 -o "$dir/bridge.svg"    # bridge: ns1 reaches its sibling ns2 inside the port
"$mvl" lab draw "$lab" --ping 66 -o "$dir/vepa.svg"      # vepa: out to the switch, which does not hairpin
"$mvl" lab draw "$lab" --ping 83 -o "$dir/private.svg"   # private: ARP for the sibling goes out, never answered
"$mvl" lab draw "$lab" --ping 95 -o "$dir/passthru.svg"  # passthru: the one macvlan owns the NIC and its MAC
"$mvl" lab draw "$lab" --ping 109 -o "$dir/source.svg"   # source: only frames from br0's MAC come in
echo "pictures in $dir: topology bridge vepa private passthru source"
