#!/usr/bin/env bash
# ADD+DEL latency of the mvl-cni plugin against the reference macvlan plugin
# (/usr/lib/cni/macvlan, Debian package containernetworking-plugins), same
# run, same config (static IPAM), as a runtime sees it: one process per
# command, wall time from exec to exit. Runs as root inside a private
# network and mount namespace (unshare) with its own temp state: a veth pair
# as the master, a container namespace held by a sleeping process.
#
# With `podman`, the same as a podman user sees it: `podman run --rm` of a
# busybox image with each plugin (and with --network none, the baseline),
# interleaved run by run, in the private namespaces of
# scripts/lib/podman-sandbox.sh (podman 4.3, CNI backend, runc).
#
# Usage: scripts/bench-cni.sh [CYCLES_PER_ROUND] [ROUNDS]      (defaults 50, 5)
#        scripts/bench-cni.sh podman [RUNS_PER_ROUND] [ROUNDS]  (defaults 10, 3)
set -euo pipefail
cd "$(dirname "$0")/.."

us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }

if [ "${1:-}" = podman ]; then
  # shellcheck source=lib/podman-sandbox.sh
  . scripts/lib/podman-sandbox.sh
  if [ "${MVL_PODMAN_INSIDE:-}" != 1 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "bench-cni: needs root (it makes private namespaces)" >&2
      exit 2
    fi
    for need in podman runc /usr/lib/cni/macvlan /usr/lib/cni/host-local /bin/busybox; do
      command -v "$need" >/dev/null || {
        echo "bench-cni: $need is missing (apt-get install podman runc busybox-static containernetworking-plugins)" >&2
        exit 2
      }
    done
    cargo build --release -q -p mvl-cni
    export MVL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/mvl-cni"
  fi
  podman_enter "$0" "$@"
  N=${2:-10}
  ROUNDS=${3:-3}
  podman_setup
  cp "$MVL_BIN" "$T/bin/mvl-cni"
  ip link add veth0 type veth peer name veth1
  ip link set veth0 up
  ip link set veth1 up
  ip addr add 10.77.0.1/24 dev veth0
  # The same network on each plugin, in its own part of the subnet.
  for net in mvl:mvl-cni:10 ref:macvlan:100; do
    IFS=: read -r name type first <<<"$net"
    printf '{"cniVersion": "1.0.0", "name": "%s", "plugins": [{"type": "%s", "master": "veth0", "mode": "bridge",
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.77.0.0/24", "rangeStart": "10.77.0.%s", "rangeEnd": "10.77.0.%s"}]]}}]}\n' \
      "$name" "$type" "$first" "$((first + 50))" >"$T/cni/$name.conflist"
  done
  run() {
    podman run --rm --network "$1" "$IMG" true >/dev/null || {
      echo "bench-cni: podman run --network $1 failed" >&2
      exit 1
    }
  }
  for net in mvl ref none; do run "$net"; done # warm-up: page cache, binaries
  for r in $(seq "$ROUNDS"); do
    for _ in $(seq "$N"); do
      for net in mvl ref none; do
        t0=$(us)
        run "$net"
        echo $(($(us) - t0)) >>"$T/t-$net"
      done
    done
    echo "round $r: medians so far: mvl-cni $(median <"$T/t-mvl"), reference $(median <"$T/t-ref"), none $(median <"$T/t-none") (us)" >&2
  done
  m=$(median <"$T/t-mvl")
  f=$(median <"$T/t-ref")
  z=$(median <"$T/t-none")
  echo
  echo "podman run --rm, $((N * ROUNDS)) runs with each network, interleaved; medians (host-local IPAM, cniVersion 1.0.0)"
  printf '%-22s %10s\n' network "run ms"
  printf '%-22s %10s\n' "mvl-cni" "$(ms "$m")"
  printf '%-22s %10s\n' "reference macvlan" "$(ms "$f")"
  printf '%-22s %10s\n' "--network none" "$(ms "$z")"
  awk -v o="$m" -v r="$f" 'BEGIN {printf "ratio (mvl-cni / reference): %.2f\n", o / r}'
  awk -v o="$m" -v r="$f" -v z="$z" \
    'BEGIN {printf "network part (run - none): mvl-cni %.2f ms, reference %.2f ms\n", (o - z) / 1000, (r - z) / 1000}'
  exit 0
fi

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
echo
echo "$N ADD+DEL cycles per round, $ROUNDS rounds, median of the per-round means (static IPAM, cniVersion 1.0.0)"
printf '%-22s %10s %10s %10s\n' plugin "ADD ms" "DEL ms" "cycle ms"
printf '%-22s %10s %10s %10s\n' "mvl-cni" "$(ms "$oa")" "$(ms "$od")" "$(ms "$ot")"
printf '%-22s %10s %10s %10s\n' "reference macvlan" "$(ms "$ra")" "$(ms "$rd")" "$(ms "$rt")"
awk -v o="$ot" -v r="$rt" 'BEGIN {printf "ratio (mvl-cni / reference): %.2f\n", o / r}'
