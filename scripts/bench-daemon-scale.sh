#!/usr/bin/env bash
# How the daemon scales with its children: `mvl --backend user link add` of
# N children on one lower (each brought up with `ip`), timed per hundred so
# that a step that grows with the number of children shows as a rising
# time; the daemon's RSS at the end; then the deletion of all of them.
# Beside it, the same for N kernel macvlans (`ip link add`), in the same run.
#
# Usage: scripts/bench-daemon-scale.sh [N]   (as root; N defaults to 1024)
# Everything runs in a private mount + network namespace: the host's
# interfaces and /run/netns are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1024}

if [ "$(id -u)" != 0 ]; then
  echo "bench-daemon-scale: needs root (it creates namespaces and devices)" >&2
  exit 2
fi
cargo build --release -q -p mvl
mvl=$PWD/target/release/mvl

. scripts/lib/side-by-side.sh
enter_sandbox "$0" "$@"
two_wires

now() { date +%s.%N; }
ms() { python3 -c "print('%.0f' % (($2 - $1) * 1000))"; }

start_daemon
printf '%-22s %14s %14s\n' "children" "mvl ms/100" "kernel ms/100"
t=$(now)
k=$(now)
for i in $(seq 1 "$n"); do
  user link add mu$i link lowerU type macvlan mode bridge
  ip link set mu$i up
  if [ $((i % 100)) = 0 ] || [ "$i" = "$n" ]; then
    t2=$(now)
    # The kernel's own, over the same hundred.
    k1=$(now)
    for j in $(seq $((i - (i - 1) % 100)) "$i"); do
      ip link add mk$j link lowerK type macvlan mode bridge
      ip link set mk$j up
    done
    k2=$(now)
    printf '%-22s %14s %14s\n' "$((i - (i - 1) % 100))-$i" "$(ms "$t" "$t2")" "$(ms "$k1" "$k2")"
    t=$(now)
  fi
done
echo "daemon RSS with $n children: $(awk '/VmRSS/ {print $2, $3}' /proc/$daemon/status)"
s=$(now)
for i in $(seq 1 "$n"); do user link del mu$i; done
e=$(now)
s2=$(now)
for i in $(seq 1 "$n"); do ip link del mk$i; done
e2=$(now)
echo "deleting all $n: mvl $(ms "$s" "$e") ms, kernel $(ms "$s2" "$e2") ms"
kill $daemon
