#!/usr/bin/env bash
# Soak the userspace datapath beside the kernel's macvlan, at once and for
# a bounded time (default 120 s, at most 600 s): UDP traffic through a
# child to an external host, a broadcast storm into the children, and
# add/up/del churn of children through the daemon (and through ip on the
# kernel side). Reports the traffic's loss on both sides, the churn done,
# and the daemon's memory over time. Not part of CI.
#
# Usage: scripts/soak.sh [SECONDS]   (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
if [ "$secs" -gt 600 ]; then secs=600; fi
if [ "$(id -u)" != 0 ]; then
  echo "soak: needs root" >&2
  exit 2
fi
command -v iperf3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null
cargo build --release -q -p mvl
mvl=$PWD/target/release/mvl
. scripts/lib/side-by-side.sh
enter_sandbox "$0" "$@"
two_wires k1 u1 kc uc

ip link add mk1 link lowerK netns k1 type macvlan mode bridge
ip -n k1 addr add 10.1.0.1/24 dev mk1
ip -n k1 link set mk1 up
start_daemon
user link add mu1 link lowerU netns u1 type macvlan mode bridge
ip -n u1 addr add 10.2.0.1/24 dev mu1
user -n u1 link set mu1 up
ip netns exec k1 ping -c 1 -W 1 10.1.0.254 >/dev/null
ip netns exec u1 ping -c 1 -W 1 10.2.0.254 >/dev/null

# Servers as jobs of this shell (not -D daemons), so the exit trap stops them.
ip netns exec ext iperf3 -s -p 5201 >/dev/null 2>&1 &
ip netns exec ext iperf3 -s -p 5202 >/dev/null 2>&1 &
sleep 0.3
echo "soaking for $secs s: UDP 300 Mbit/s through a child, a broadcast storm, add/del churn"
ip netns exec k1 iperf3 -c 10.1.0.254 -p 5201 -u -b 300M -l 1400 -t "$secs" -J >"$work/k.json" &
kc=$!
ip netns exec u1 iperf3 -c 10.2.0.254 -p 5202 -u -b 300M -l 1400 -t "$secs" -J >"$work/u.json" &
uc=$!
ip netns exec ext ping -b -q -i 0.002 -w "$secs" 10.1.0.255 >/dev/null 2>&1 &
ip netns exec ext ping -b -q -i 0.002 -w "$secs" 10.2.0.255 >/dev/null 2>&1 &
(
  n=0
  end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    ip link add kx link lowerK netns kc type macvlan mode bridge && ip -n kc link set kx up && ip -n kc link del kx
    user link add ux link lowerU netns uc type macvlan mode bridge && user -n uc link set ux up && user -n uc link del ux
    n=$((n + 1))
  done
  echo "$n" >"$work/churn"
) &
rss=()
for _ in $(seq $((secs / 5))); do
  sleep 5
  rss+=("$(awk '/VmRSS/ {print $2}' /proc/$daemon/status)")
done
wait $kc $uc
sleep 1
loss() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["end"]["sum"]; print("%.3f%% of %d" % (s["lost_percent"], s["packets"]))' "$1"; }
echo "UDP loss, kernel macvlan: $(loss "$work/k.json")"
echo "UDP loss, mvl:            $(loss "$work/u.json")"
for _ in $(seq 50); do [ -s "$work/churn" ] && break; sleep 0.2; done
echo "add/up/del cycles on each side: $(cat "$work/churn" 2>/dev/null || echo '?')"
echo "daemon RSS every 5 s (KiB): ${rss[*]}"
echo "daemon alive: $(kill -0 $daemon && echo yes || echo no); children left: $(user link show | grep -c '@' || true)"
kill $daemon
