#!/usr/bin/env bash
# Throughput of the userspace datapath (mvl daemon) against the kernel's
# macvlan, measured in the same run on the same kind of topology:
#
#   ext ns: wireK 10.1.0.254 ──veth── lowerK ── kernel macvlans mk1 (ns k1, .1), mk2 (ns k2, .2)
#           wireU 10.2.0.254 ──veth── lowerU ── mvl children   mu1 (ns u1, .1), mu2 (ns u2, .2)
#
# For each: iperf3 TCP from the first child to the external host, back
# (iperf3 -R) and between the two bridge-mode siblings, and the UDP 64-byte
# packet rate to the host and between siblings; then the daemon's RSS with
# 64 children. Prints the medians of ROUNDS rounds (kernel and mvl in turn),
# the median ratio, and the daemon's CPU per Gbit/s or per packet.
#
# Usage: [MVL_BIN=path] scripts/bench-datapath.sh [SECONDS] [QUEUES] [ROUNDS]   (as root)
# Everything runs in a private mount + network namespace: the host's
# interfaces and /run/netns are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
queues=${2:-1}
rounds=${3:-1}

if [ "$(id -u)" != 0 ]; then
  echo "bench-datapath: needs root (it creates namespaces and devices)" >&2
  exit 2
fi
if ! command -v iperf3 >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null
fi
. scripts/lib/side-by-side.sh
build_mvl
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

# Each test prints its result and, after a space, the bits or packets that
# arrived (for the daemon's CPU per unit).
tcp() { # ns server [iperf3 options] -> Gbit/s bits
  local ns=$1 server=$2; shift 2
  ip netns exec "$ns" iperf3 -c "$server" -t "$secs" -J "$@" | python3 -c '
import json,sys
s=json.load(sys.stdin)["end"]["sum_received"]
print("%.2f %d" % (s["bits_per_second"]/1e9, s["bytes"]*8))'
}
udp() { # ns server -> received-kpps packets
  ip netns exec "$1" iperf3 -c "$2" -u -l 64 -b 0 -t "$secs" -J | python3 -c '
import json,sys
s=json.load(sys.stdin)["end"]["sum"]
n=s["packets"]-s["lost_packets"]
print("%.0f %d" % (n/s["seconds"]/1e3, n))'
}
# The daemon's CPU time so far (all its threads), in clock ticks.
ticks() { awk '{print $14 + $15}' /proc/$daemon/stat; }
hz=$(getconf CLK_TCK)

# One row, ROUNDS times, kernel and mvl in turn: the median of each and of
# the ratios, and the daemon's CPU per unit (% of a core per Gbit/s for
# TCP, ns per packet for UDP) over all of mvl's rounds.
row() { # label unit test args-kernel -- args-mvl
  local label=$1 unit=$2 test=$3; shift 3
  local k=() u=() ka=() ua=() seen=0 r t0 t1 cpu=0 amount=0 res
  for x in "$@"; do
    if [ "$x" = -- ]; then seen=1; elif [ $seen = 0 ]; then ka+=("$x"); else ua+=("$x"); fi
  done
  for _ in $(seq "$rounds"); do
    res=$($test "${ka[@]}"); k+=("${res% *}")
    t0=$(ticks); res=$($test "${ua[@]}"); t1=$(ticks)
    u+=("${res% *}")
    cpu=$((cpu + t1 - t0)); amount=$((amount + ${res#* }))
  done
  python3 - "$label" "$unit" "$hz" "$cpu" "$amount" "$secs" "${k[*]}" "${u[*]}" <<'PY'
import statistics as st, sys
label, unit, hz, cpu, amount, secs, k, u = sys.argv[1:]
k = [float(x) for x in k.split()]; u = [float(x) for x in u.split()]
ratios = [b / a for a, b in zip(k, u)]
cpu_s = int(cpu) / int(hz); amount = int(amount)
if unit == "Gb/s":
    # % of one core per Gbit/s carried: (cpu_s / time) / (bits / time).
    per = "%.1f %%/Gb/s" % (100 * cpu_s / (amount / 1e9)) if amount else "-"
else:
    per = "%.0f ns/pkt" % (1e9 * cpu_s / amount) if amount else "-"
num = "%9.2f" if unit == "Gb/s" else "%9.0f"
print(("%-30s " + num + " %-4s " + num[:1] + "7" + num[2:] + " %-4s %6.2f %15s") % (label, st.median(k), unit, st.median(u), unit, st.median(ratios), per))
PY
}

printf '%-30s %14s %12s %6s %15s\n' "path (median of $rounds)" "kernel" "mvl" "ratio" "mvl daemon CPU"
row "TCP child -> external" Gb/s tcp k1 10.1.0.254 -- u1 10.2.0.254
row "TCP external -> child" Gb/s tcp k1 10.1.0.254 -R -- u1 10.2.0.254 -R
row "TCP bridge sibling -> sibling" Gb/s tcp k1 10.1.0.2 -- u1 10.2.0.2
row "UDP 64 B child -> external" kpps udp k1 10.1.0.254 -- u1 10.2.0.254
row "UDP 64 B sibling -> sibling" kpps udp k1 10.1.0.2 -- u1 10.2.0.2

# Memory with 64 children.
for i in $(seq 3 64); do
  user link add mu$i link lowerU type macvlan mode bridge
  ip link set mu$i up
done
echo "daemon RSS with 64 children: $(awk '/VmRSS/ {print $2, $3}' /proc/$daemon/status)"
kill $daemon
