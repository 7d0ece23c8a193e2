#!/usr/bin/env bash
# Where the userspace datapath's time goes: perf samples of `mvl daemon`
# (all its threads, kernel and user side) while iperf3 runs one path of the
# bench-datapath.sh topology, then the top symbols and the time grouped by
# what it is spent on (copies, system calls, scheduling, ...).
#
# Usage: scripts/profile-datapath.sh [external|sibling|download] [tcp|udp] [SECONDS]   (as root)
# Needs perf (Debian: linux-perf). Runs in a private mount + network
# namespace, as bench-datapath.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
path=${1:-external}
proto=${2:-tcp}
secs=${3:-5}
case $path in external | sibling | download) ;; *) echo "profile-datapath: path is external, sibling or download" >&2; exit 2 ;; esac
case $proto in tcp | udp) ;; *) echo "profile-datapath: protocol is tcp or udp" >&2; exit 2 ;; esac
if [ "$(id -u)" != 0 ]; then
  echo "profile-datapath: needs root (it creates namespaces and devices)" >&2
  exit 2
fi
for tool in iperf3 perf; do
  command -v $tool >/dev/null || { echo "profile-datapath: $tool is not installed" >&2; exit 2; }
done
. scripts/lib/side-by-side.sh
build_mvl
enter_sandbox "$0" "$@"
two_wires u1 u2
start_daemon
for i in 1 2; do
  user link add mu$i link lowerU netns u$i type macvlan mode bridge
  ip -n u$i addr add 10.2.0.$i/24 dev mu$i
  ip -n u$i link set mu$i up
done
for ns in ext u2; do ip netns exec $ns iperf3 -s >/dev/null 2>&1 & done
sleep 0.5
ip netns exec u1 ping -c 1 -W 1 10.2.0.254 >/dev/null

args=(-c 10.2.0.254)
case $path in sibling) args=(-c 10.2.0.2) ;; download) args+=(-R) ;; esac
[ "$proto" = udp ] && args+=(-u -l 64 -b 0)
ip netns exec u1 iperf3 "${args[@]}" -t $((secs + 2)) >"$work/iperf" &
sleep 1
perf record -q -F 1999 -g -o "$work/perf.data" -p "$daemon" -- sleep "$secs" >/dev/null 2>&1
wait %%
tail -4 "$work/iperf" | head -2

perf report -i "$work/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null |
  grep -E '^ +[0-9]' >"$work/symbols"
echo "== top symbols (self time, % of the daemon's samples)"
sed -n 1,15p "$work/symbols"
echo "== by kind"
python3 -c '
import re, sys
kinds = [
    ("copy between user and kernel", r"copy_(to|from)_iter|copy_page_(to|from)_iter|copy_user|__check_object_size|__check_heap_object|__virt_addr_valid|_copy_from_user|_copy_to_user"),
    ("scheduling and wake-ups", r"finish_task_switch|schedule|spin_unlock_irq|try_to_wake_up|__wake_up|ttwu|sock_def_readable|sock_def_write_space|hrtimeout|pick_next|enqueue|dequeue"),
    ("system call entry and exit", r"do_syscall|entry_SYSCALL|syscall_exit|fdget|__GI___writev|__GI___read|^read$|sendmmsg|recvmmsg|vfs_|ksys_|__x64_sys|exit_to_user"),
    ("socket buffers (alloc, free)", r"kmem_cache|kfree|__slab|slab_|skb_release|__kfree_skb|alloc_skb|free_frozen|napi_consume|skb_defer|page_frag|__alloc|build_skb|consume_skb"),
    ("network path (TAP, AF_PACKET, veth, IP)", r"tcp_|udp_|ip_|__netif|netif_|net_rx|process_backlog|handle_softirqs|__dev_queue_xmit|veth_|dev_hard|packet_|tun_|__skb|skb_"),
    ("mvl (userspace)", r"mvl_|core::|std::"),
]
tot = {k: 0.0 for k, _ in kinds}; other = 0.0
for line in sys.stdin:
    m = re.match(r"\s*([0-9.]+)%\s+\[(.)\]\s+(\S+)", line)
    if not m: continue
    pct, sym = float(m.group(1)), m.group(3)
    for k, rx in kinds:
        if re.search(rx, sym):
            tot[k] += pct; break
    else:
        other += pct
for k, _ in kinds:
    print("%-42s %5.1f %%" % (k, tot[k]))
print("%-42s %5.1f %%" % ("other", other))' <"$work/symbols"
