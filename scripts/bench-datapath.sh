#!/usr/bin/env bash
# Throughput of the userspace datapath (mvl daemon) against the kernel's
# macvlan, measured in the same run on the same kind of topology:
#
#   ext ns: wireK 10.1.0.254 ──veth── lowerK ── kernel macvlans mk1 (ns k1, .1), mk2 (ns k2, .2)
#           wireU 10.2.0.254 ──veth── lowerU ── mvl children   mu1 (ns u1, .1), mu2 (ns u2, .2)
#
# For each: iperf3 TCP from the first child to the external host and between
# the two bridge-mode siblings, and the UDP 64-byte packet rate on both
# paths; then the daemon's RSS with 64 children. Prints both and the ratios.
#
# Usage: scripts/bench-datapath.sh [SECONDS] [QUEUES]   (as root)
# Everything runs in a private mount + network namespace: the host's
# interfaces and /run/netns are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
queues=${2:-1}

if [ "$(id -u)" != 0 ]; then
  echo "bench-datapath: needs root (it creates namespaces and devices)" >&2
  exit 2
fi
if ! command -v iperf3 >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null
fi
cargo build --release -q -p mvl
mvl=$PWD/target/release/mvl

. scripts/lib/side-by-side.sh
enter_sandbox "$0" "$@"
two_wires k1 k2 u1 u2

# Kernel macvlans.
for i in 1 2; do
  ip link add mk$i link lowerK netns k$i type macvlan mode bridge
  ip -n k$i addr add 10.1.0.$i/24 dev mk$i
  ip -n k$i link set mk$i up
done

# Userspace datapath children.
start_daemon --queues "$queues"
for i in 1 2; do
  user link add mu$i link lowerU netns u$i type macvlan mode bridge
  # After `link add`, a child is a device like any other: `ip` drives it.
  ip -n u$i addr add 10.2.0.$i/24 dev mu$i
  ip -n u$i link set mu$i up
done

# Servers as jobs of this shell (not -D daemons), so the exit trap stops them.
for ns in ext k2 u2; do ip netns exec $ns iperf3 -s >/dev/null 2>&1 & done
sleep 0.5
ip netns exec k1 ping -c 1 -W 1 10.1.0.254 >/dev/null
ip netns exec u1 ping -c 1 -W 1 10.2.0.254 >/dev/null

tcp() { # ns server -> Gbit/s
  ip netns exec "$1" iperf3 -c "$2" -t "$secs" -J | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}
udp() { # ns server -> received kpps
  ip netns exec "$1" iperf3 -c "$2" -u -l 64 -b 0 -t "$secs" -J | python3 -c '
import json,sys
s=json.load(sys.stdin)["end"]["sum"]
print("%.0f" % ((s["packets"]-s["lost_packets"])/s["seconds"]/1e3))'
}
ratio() { python3 -c "print('%.2f' % ($1/$2))"; }

printf '%-34s %12s %12s %8s\n' "path" "kernel" "mvl" "ratio"
a=$(tcp k1 10.1.0.254); b=$(tcp u1 10.2.0.254)
printf '%-34s %9s Gb/s %7s Gb/s %8s\n' "TCP child -> external" "$a" "$b" "$(ratio "$b" "$a")"
a=$(tcp k1 10.1.0.2); b=$(tcp u1 10.2.0.2)
printf '%-34s %9s Gb/s %7s Gb/s %8s\n' "TCP bridge sibling -> sibling" "$a" "$b" "$(ratio "$b" "$a")"
a=$(udp k1 10.1.0.254); b=$(udp u1 10.2.0.254)
printf '%-34s %8s kpps %7s kpps %8s\n' "UDP 64 B child -> external" "$a" "$b" "$(ratio "$b" "$a")"
a=$(udp k1 10.1.0.2); b=$(udp u1 10.2.0.2)
printf '%-34s %8s kpps %7s kpps %8s\n' "UDP 64 B sibling -> sibling" "$a" "$b" "$(ratio "$b" "$a")"

# Memory with 64 children.
for i in $(seq 3 64); do
  user link add mu$i link lowerU type macvlan mode bridge
  ip link set mu$i up
done
echo "daemon RSS with 64 children: $(awk '/VmRSS/ {print $2, $3}' /proc/$daemon/status)"
kill $daemon
