#!/usr/bin/env bash
# mvl-cni under podman (4.3, CNI network backend), beside the reference
# macvlan plugin (/usr/lib/cni/macvlan), end to end. Run by tests/podman.rs
# as root with MVL_CNI_BIN naming the plugin; needs podman, runc,
# busybox-static and containernetworking-plugins (scripts/test.sh installs
# them).
#
# Everything runs in private namespaces: see scripts/lib/podman-sandbox.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../../../scripts/lib/podman-sandbox.sh
. "$here/../../../../scripts/lib/podman-sandbox.sh"
podman_enter "$0" "$@"
: "${MVL_CNI_BIN:?MVL_CNI_BIN must name the mvl-cni binary}"
REF_DIR=/usr/lib/cni

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

podman_setup || fail "setting up podman"
cp "$MVL_CNI_BIN" "$T/bin/mvl-cni"
mkdir "$T/dropin"
# The drop-in: mvl-cni under the name macvlan, next to the reference's
# IPAM plugins, and nothing else in the plugin path.
cp "$MVL_CNI_BIN" "$T/dropin/macvlan"
ln -s macvlan "$T/dropin/mvl-cni"
for p in host-local static; do ln -s "$REF_DIR/$p" "$T/dropin/$p"; done
podman_conf "$T/dropin" >"$T/containers-dropin.conf"
step "podman $(podman version -f '{{.Client.Version}}'), runc $(runc --version | head -1 | cut -d' ' -f3)"

# --- the LAN: master veth0 (and veth2, to be deleted), peers in "lan" ------
ip netns add lan
ip -n lan link set lo up
for m in 0 2; do
  ip link add "veth$m" type veth peer name "veth$((m + 1))" netns lan
  sysctl -qw "net.ipv6.conf.veth$m.accept_dad=0"
  ip link set "veth$m" up
  ip -n lan link set "veth$((m + 1))" up
done
ip addr add 192.168.1.1/24 dev veth0
ip addr add fd00:1::1/64 dev veth0
ip addr add 192.168.2.1/24 dev veth2

run_ctr() { # NAME NETWORK
  podman run -d --name "$1" --network "$2" "$IMG" sleep 100000 >/dev/null || fail "podman run $1 on $2"
}
field() { # CONTAINER NETWORK FIELD
  podman inspect -f "{{(index .NetworkSettings.Networks \"$2\").$3}}" "$1"
}
# Bounded retries: fresh IPv6 addresses are usable after duplicate
# address detection, about a second.
ping_from() { # CONTAINER ADDR
  for _ in $(seq 20); do
    podman exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  return 1
}
host_ping() { # ADDR
  for _ in $(seq 20); do
    ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  return 1
}
leases() { # NETWORK: host-local's reservations (one file per address)
  ls /var/lib/cni/networks/"$1" 2>/dev/null | grep -E '^[0-9a-f.:]+$' || true
}

# --- networks ---------------------------------------------------------------
cp "$here/lan.conflist" "$T/cni/lan.conflist"
# The reference's own conflist, as podman writes it.
podman network create -d macvlan -o parent=veth0 --subnet 192.168.1.0/24 \
  --ip-range 192.168.1.64/27 --gateway 192.168.1.1 refnet >/dev/null
podman network create -d macvlan -o parent=veth2 --subnet 192.168.2.0/24 \
  --ip-range 192.168.2.64/27 refnet2 >/dev/null
sed -e 's/"name": "lan"/"name": "lan2"/' -e 's/veth0/veth2/' -e 's/192\.168\.1\./192.168.2./g' \
  -e 's/fd00:1::/fd00:2::/g' "$here/lan.conflist" >"$T/cni/lan2.conflist"

step "two containers on each plugin ping each other, and across plugins"
run_ctr m1 lan
run_ctr m2 lan
run_ctr r1 refnet
run_ctr r2 refnet
m1=$(field m1 lan IPAddress)
m2=$(field m2 lan IPAddress)
r1=$(field r1 refnet IPAddress)
r2=$(field r2 refnet IPAddress)
m1v6=$(field m1 lan GlobalIPv6Address)
[ -n "$m1" ] && [ -n "$m2" ] && [ -n "$r1" ] && [ -n "$r2" ] && [ -n "$m1v6" ] ||
  fail "podman inspect shows no address: m1=$m1 m2=$m2 r1=$r1 r2=$r2 m1v6=$m1v6"
ping_from m1 "$m2" || fail "m1 -> m2 (mvl-cni)"
ping_from r1 "$r2" || fail "r1 -> r2 (reference)"
ping_from m1 "$r1" || fail "m1 (mvl-cni) -> r1 (reference)"
ping_from m2 "$(field m1 lan GlobalIPv6Address)" || fail "m2 -> m1 over IPv6"

step "hostAccess: IPv4 and IPv6, both ways; the reference cannot"
ping_from m1 192.168.1.1 || fail "container -> host, IPv4"
ping_from m1 fd00:1::1 || fail "container -> host, IPv6"
host_ping "$m1" || fail "host -> container, IPv4"
host_ping "$m1v6" || fail "host -> container, IPv6"
podman exec r1 ping -c 1 -W 1 192.168.1.1 >/dev/null 2>&1 && fail "the reference reached the host: the control is broken"

step "restart and network reload"
podman restart -t 0 m1 >/dev/null || fail "podman restart m1"
m1=$(field m1 lan IPAddress)
ping_from m2 "$m1" || fail "m2 -> m1 after restart"
ping_from m1 fd00:1::1 || fail "m1 -> host over IPv6 after restart"
podman network reload m1 >/dev/null || fail "podman network reload m1"
ping_from m2 "$(field m1 lan IPAddress)" || fail "m2 -> m1 after network reload"
podman network reload --all >/dev/null || fail "podman network reload --all"
ping_from m1 "$m2" || fail "m1 -> m2 after network reload --all"
ping_from r1 "$r2" || fail "r1 -> r2 after network reload --all"
host_ping "$(field m2 lan IPAddress)" || fail "host -> m2 after network reload --all"
n=$(leases lan | wc -l)
[ "$n" = 4 ] || fail "after restart and reloads lan has $n leases, not 4 (2 containers x 2 families): $(leases lan | tr '\n' ' ')"

step "network connect and disconnect: the namespace stays, DEL leaves nothing in it"
# A second network on the master without routes: r2 keeps its default route.
printf '%s\n' '{"cniVersion": "1.0.0", "name": "side", "plugins": [{"type": "mvl-cni", "master": "veth0",
  "ipam": {"type": "host-local", "ranges": [[{"subnet": "192.168.1.0/24", "rangeStart": "192.168.1.180", "rangeEnd": "192.168.1.189"}]]}}]}' \
  >"$T/cni/side.conflist"
links_of() { podman exec "$1" ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' '; }
before=$(links_of r2)
for round in 1 2; do
  podman network connect side r2 2>"$T/connect.err" || fail "podman network connect side r2: $(cat "$T/connect.err")"
  [ "$(field r2 side IPAddress)" != "" ] || fail "r2 has no address on side"
  ping_from r2 "$m2" || fail "r2 -> m2 with side connected"
  podman network disconnect side r2 || fail "podman network disconnect side r2"
  [ "$(links_of r2)" = "$before" ] || fail "round $round: r2's links after disconnect: $(links_of r2); before: $before"
  [ -z "$(leases side)" ] || fail "side leaked leases: $(leases side | tr '\n' ' ')"
done
ping_from r2 "$r1" || fail "r2 -> r1 after disconnect"

step "master deleted under running containers, then rm -f"
run_ctr m3 lan2
run_ctr r3 refnet2
veth2=$(ip -o link show dev veth2 | cut -d: -f1)
ls /var/lib/mvl-cni/shim-*-"$veth2".json >/dev/null 2>&1 || fail "no hostAccess state for veth2"
ip link del veth2
podman rm -f -t 0 m3 >/dev/null 2>"$T/rm.err" || fail "podman rm -f m3: $(cat "$T/rm.err")"
podman rm -f -t 0 r3 >/dev/null 2>"$T/rm-ref.err" || true
[ -z "$(leases lan2)" ] || fail "mvl-cni leaked leases: $(leases lan2 | tr '\n' ' ')"
! ls /var/lib/mvl-cni/shim-*-"$veth2".json >/dev/null 2>&1 || fail "mvl-cni leaked hostAccess state for veth2"
! ls /var/lib/cni/results/lan2-* >/dev/null 2>&1 || fail "libcni's cache still holds m3: $(ls /var/lib/cni/results)"
[ "$(ip -o link show type macvlan | grep -c -v mvlshim || true)" = 0 ] || fail "a macvlan is left in the host namespace"
echo "   the reference after the same leaves leases [$(leases refnet2 | tr '\n' ' ')] and libcni cache entries [$(ls /var/lib/cni/results | grep -c '^refnet2-')]"

step "a bad configuration gives the podman user a clear message"
bad() { # NAME PLUGIN_JSON EXPECTED_MESSAGE
  printf '{"cniVersion": "1.0.0", "name": "%s", "plugins": [%s]}\n' "$1" "$2" >"$T/cni/$1.conflist"
  if podman run --rm --name "$1-ctr" --network "$1" "$IMG" true >/dev/null 2>"$T/$1.err"; then
    fail "podman run on network $1 succeeded"
  fi
  grep -qF "$3" "$T/$1.err" || fail "podman's message for $1 lacks \"$3\": $(cat "$T/$1.err")"
  echo "   $1: $(grep -F "$3" "$T/$1.err" | head -1 | cut -c1-240)"
  podman container exists "$1-ctr" && fail "the container of $1 is left"
  [ -z "$(leases "$1")" ] || fail "$1 leaked leases: $(leases "$1" | tr '\n' ' ')"
  rm "$T/cni/$1.conflist"
}
ipam='"ipam": {"type": "host-local", "ranges": [[{"subnet": "192.168.1.0/24", "rangeStart": "192.168.1.160", "rangeEnd": "192.168.1.170"}]]}'
bad badmtu "{\"type\": \"mvl-cni\", \"master\": \"veth0\", \"mtu\": 9000, $ipam}" \
  "invalid MTU 9000: above the MTU of master veth0 (1500)"
bad badmaster "{\"type\": \"mvl-cni\", \"master\": \"eth9\", $ipam}" 'master "eth9" not found'
bad badmode "{\"type\": \"mvl-cni\", \"master\": \"veth0\", \"mode\": \"hairpin\", $ipam}" '"hairpin"'
bad badmac "{\"type\": \"mvl-cni\", \"master\": \"veth0\", \"mac\": \"01:00:5e:00:00:01\", $ipam}" "01:00:5e:00:00:01"

step "a MAC in use: a lasting conflict, said once, leaving nothing"
mac=02:00:00:00:aa:01
podman run -d --name mac1 --network lan --mac-address "$mac" "$IMG" sleep 100000 >/dev/null || fail "podman run --mac-address"
[ "$(podman exec mac1 cat /sys/class/net/eth0/address)" = "$mac" ] || fail "--mac-address did not reach the plugin"
if podman run --rm --name mac2 --network lan --mac-address "$mac" "$IMG" true >/dev/null 2>"$T/mac.err"; then
  fail "a second container got the MAC $mac on the same master"
fi
want="its MAC $mac (from CNI_ARGS MAC) is already used by another macvlan on master veth0"
grep -qF "$want" "$T/mac.err" || fail "podman's message lacks \"$want\": $(cat "$T/mac.err")"
[ "$(grep -o "$mac" "$T/mac.err" | wc -l)" = 1 ] || fail "the MAC is named more than once: $(cat "$T/mac.err")"
echo "   $(grep -F "$want" "$T/mac.err" | cut -c1-240)"
podman container exists mac2 && fail "the container mac2 is left"
podman rm -f -t 0 mac1 >/dev/null
n=$(leases lan | wc -l)
[ "$n" = 4 ] || fail "lan has $n leases after the conflict, not 4: $(leases lan | tr '\n' ' ')"

step "mvl-cni installed as macvlan runs the reference's own conflist"
export CONTAINERS_CONF=$T/containers-dropin.conf
run_ctr d1 refnet
ping_from d1 "$r1" || fail "d1 (mvl-cni as macvlan) -> r1 (reference)"
ping_from r2 "$(field d1 refnet IPAddress)" || fail "r2 (reference) -> d1 (mvl-cni as macvlan)"
shape='{{range $k, $v := .NetworkSettings.Networks}}{{$k}} prefix={{$v.IPPrefixLen}} gw={{$v.Gateway}} v6={{$v.GlobalIPv6Address}}/{{$v.GlobalIPv6PrefixLen}} mac={{len $v.MacAddress}}{{end}}'
ours=$(podman inspect -f "$shape" d1)
export CONTAINERS_CONF=$T/containers.conf
theirs=$(podman inspect -f "$shape" r1)
[ "$ours" = "$theirs" ] || fail "podman inspect differs: mvl-cni as macvlan: $ours; reference: $theirs"
echo "   podman inspect (both): $ours"
a=$(podman network inspect refnet)
b=$(CONTAINERS_CONF=$T/containers-dropin.conf podman network inspect refnet)
[ "$a" = "$b" ] || fail "podman network inspect differs between the reference and the drop-in"
ifaces() { podman exec "$1" ip -o addr show dev eth0 | awk '{print $3, $4}' | sed -E 's/[0-9a-f:.]+\//ADDR\//'; }
[ "$(ifaces d1)" = "$(ifaces r1)" ] || fail "eth0 differs: drop-in: $(ifaces d1); reference: $(ifaces r1)"

step "everything removed: nothing left"
podman rm -af -t 0 >/dev/null
for n in lan refnet side; do
  [ -z "$(leases "$n")" ] || fail "leases left on $n: $(leases "$n" | tr '\n' ' ')"
done
# The reference's DEL fails once its master is gone (above): what it left
# of refnet2 is its own, reported there.
cache=$(ls /var/lib/cni/results 2>/dev/null | grep -v '^refnet2-' || true)
[ -z "$cache" ] || fail "libcni's cache is not empty: $cache"
[ -z "$(ls /var/lib/mvl-cni/shim-* 2>/dev/null)" ] || fail "hostAccess state left: $(ls /var/lib/mvl-cni)"
[ -z "$(ip -o link show type macvlan)" ] || fail "macvlans left in the host namespace: $(ip -o link show type macvlan)"
[ "$(ip netns list | awk '{print $1}')" = lan ] || fail "network namespaces left: $(ip netns list | tr '\n' ' ')"
[ -z "$(podman ps -aq)" ] || fail "containers left"
ip netns del lan
echo "ok"
