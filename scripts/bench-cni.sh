#!/usr/bin/env bash
# ADD+DEL latency of the mvl-cni plugin against the reference macvlan plugin
# (/usr/lib/cni/macvlan, Debian package containernetworking-plugins), same
# run, same config (static IPAM), as a runtime sees it: one process per
# command, wall time from exec to exit. Runs as root inside a private
# network and mount namespace (unshare) with its own temp state: a veth pair
# as the master, a container namespace held by a sleeping process.
# Usage: scripts/bench-cni.sh [CYCLES_PER_ROUND] [ROUNDS]   (defaults 50, 5)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--inside" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench-cni: needs root (it makes private network namespaces)" >&2
    exit 2
  fi
  REF=${MVL_CNI_REF:-/usr/lib/cni/macvlan}
  if [ ! -x "$REF" ] || [ ! -x "$(dirname "$REF")/static" ]; then
    echo "bench-cni: $REF or its static IPAM plugin is missing (apt-get install containernetworking-plugins)" >&2
    exit 2
  fi
  cargo build --release -q -p mvl-cni
  export MVL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/mvl-cni" MVL_REF="$REF"
  exec unshare --net --mount --propagation private bash "$0" --inside "${1:-50}" "${2:-5}"
fi

N=$2
ROUNDS=$3
TMP=$(mktemp -d /tmp/bench-cni.XXXXXX)
unshare --net sleep 100000 &
HOLDER=$!
trap 'kill $HOLDER 2>/dev/null; rm -rf "$TMP"' EXIT
ip link add veth0 type veth peer name veth1
ip link set veth0 up
ip link set veth1 up
ip addr add 10.77.0.1/24 dev veth0
sleep 0.2

export CNI_NETNS=/proc/$HOLDER/ns/net CNI_CONTAINERID=bench CNI_IFNAME=eth0
export CNI_PATH
CNI_PATH=$(dirname "$MVL_REF")
export MVL_CNI_STATE_DIR=$TMP/state
CONF='{"cniVersion":"1.0.0","name":"bench","type":"macvlan","master":"veth0","mode":"bridge",
"ipam":{"type":"static","addresses":[{"address":"10.77.0.2/24","gateway":"10.77.0.1"}],"routes":[{"dst":"0.0.0.0/0"}]}}'

us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }

# Checks that the container has no macvlan left: DEL is done when it returns.
settle() {
  nsenter --net="$CNI_NETNS" ip -o link show type macvlan | grep -q . || return 0
  echo "bench-cni: a macvlan is left in the container" >&2
  exit 1
}

# round PLUGIN -> prints "add_us del_us" per cycle
round() {
  local p=$1 conf=$CONF a=0 d=0 t0 t1 t2
  for _ in $(seq "$N"); do
    t0=$(us)
    CNI_COMMAND=ADD "$p" <<<"$conf" >/dev/null || { echo "ADD failed: $p" >&2; exit 1; }
    t1=$(us)
    CNI_COMMAND=DEL "$p" <<<"$conf" >/dev/null || { echo "DEL failed: $p" >&2; exit 1; }
    t2=$(us)
    a=$((a + t1 - t0))
    d=$((d + t2 - t1))
  done
  settle
  echo "$((a / N)) $((d / N))"
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

: >"$TMP/ours"
: >"$TMP/ref"
round "$MVL_BIN" >/dev/null # warm-up: page cache, binaries
round "$MVL_REF" >/dev/null
for r in $(seq "$ROUNDS"); do
  round "$MVL_BIN" >>"$TMP/ours"
  round "$MVL_REF" >>"$TMP/ref"
  echo "round $r: ours $(tail -1 "$TMP/ours"), reference $(tail -1 "$TMP/ref") (add del, us)" >&2
done

report() {
  local f=$1 add del
  add=$(cut -d' ' -f1 "$f" | median)
  del=$(cut -d' ' -f2 "$f" | median)
  echo "$add $del $((add + del))"
}
read -r oa od ot <<<"$(report "$TMP/ours")"
read -r ra rd rt <<<"$(report "$TMP/ref")"
ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }
echo
echo "$N ADD+DEL cycles per round, $ROUNDS rounds, median of the per-round means (static IPAM, cniVersion 1.0.0)"
printf '%-22s %10s %10s %10s\n' plugin "ADD ms" "DEL ms" "cycle ms"
printf '%-22s %10s %10s %10s\n' "mvl-cni" "$(ms "$oa")" "$(ms "$od")" "$(ms "$ot")"
printf '%-22s %10s %10s %10s\n' "reference macvlan" "$(ms "$ra")" "$(ms "$rd")" "$(ms "$rt")"
awk -v o="$ot" -v r="$rt" 'BEGIN {printf "ratio (mvl-cni / reference): %.2f\n", o / r}'
