#!/usr/bin/env bash
# What Linux does when a REACHABLE neighbour entry's confirmation expires
# while packets go through it, which the emulator's neighbour table
# (crates/mvl-sim/src/neigh.rs) models: the entry goes STALE (not DELAY,
# although it is in use), and the next packet moves it to DELAY, then a
# unicast probe, then REACHABLE again. The kernel's timer moves an expired
# entry to DELAY only if `used` is within delay_first_probe_time, and
# `used` is refreshed only by packets sent through neigh_resolve_output,
# not by the cached-header path a REACHABLE entry's packets take. With
# the default timers (reachable 15-45 s, delay 5 s) that never holds, so an
# expired entry always goes STALE, as in the emulator.
#
# The reachable time is shortened here (base 4 s, so 2-6 s; delay 2 s) so
# that it shows within 15 s: pings every 0.2 s for 8 s, then none.
#
# Usage: scripts/kernel-neighbour-timers.sh   (as root; a private mount +
# network namespace: the host's interfaces and /run/netns are untouched)
# Prints the entry's state each time it changes, with seconds since the start.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "kernel-neighbour-timers: needs root (it creates namespaces)" >&2
  exit 2
fi
if [ "${MVL_SANDBOX_INSIDE:-}" != 1 ]; then
  exec env MVL_SANDBOX_INSIDE=1 unshare --mount --net --propagation private "$0" "$@"
fi
if [ -d /run/netns ]; then mount -t tmpfs tmpfs /run/netns; else mount -t tmpfs tmpfs /run; mkdir /run/netns; fi
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
ip netns add a
ip netns add b
ip link add va type veth peer vb
ip link set va netns a
ip link set vb netns b
for n in a b; do ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip -n a addr add 10.9.0.1/24 dev va
ip -n b addr add 10.9.0.2/24 dev vb
ip -n a link set va up
ip -n b link set vb up
ip netns exec a sysctl -qw net.ipv4.neigh.va.base_reachable_time_ms=4000 net.ipv4.neigh.va.delay_first_probe_time=2
start=$(date +%s%N)
since() { echo $((($(date +%s%N) - start) / 100000000)) | sed 's/.$/.&/'; }
(ip netns exec a ping -q -i 0.2 -c 40 10.9.0.2 >/dev/null; echo "$(since) s: the pings end") &
last=
for _ in $(seq 60); do
  state=$(ip -n a neigh show 10.9.0.2 dev va | awk '{print $NF}')
  if [ "$state" != "$last" ]; then echo "$(since) s: $state"; last=$state; fi
  sleep 0.25
done
wait
