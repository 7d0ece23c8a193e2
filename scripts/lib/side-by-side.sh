# Sourced by scripts/bench-datapath.sh, scripts/profile-datapath.sh and scripts/soak.sh: the sandbox and
# the topology they share, the kernel's macvlan and mvl side by side.
#
#   ext ns: wireK 10.1.0.254 ──veth── lowerK   (kernel macvlans go here)
#           wireU 10.2.0.254 ──veth── lowerU   (mvl daemon children go here)
#
# The caller sets `mvl` (the binary; `build_mvl` does) before `enter_sandbox "$0" "$@"`.

# Sets `mvl`: the build in $MVL_BIN (an older commit, say, to measure it in
# the same topology), else a fresh release build of this tree.
build_mvl() {
  if [ -n "${MVL_BIN:-}" ]; then
    mvl=$(realpath "$MVL_BIN")
  else
    cargo build --release -q -p mvl
    mvl=$PWD/target/release/mvl
  fi
}

# Re-runs the calling script in a private mount + network namespace (the
# host's interfaces and /run/netns are never touched); inside, gives it a
# private /run/netns, a work directory `$work` removed on exit with every
# job of the shell, and loopback up.
enter_sandbox() {
  if [ "${MVL_SANDBOX_INSIDE:-}" != 1 ]; then
    exec env MVL_SANDBOX_INSIDE=1 unshare --mount --net --propagation private "$@"
  fi
  if [ -d /run/netns ]; then mount -t tmpfs tmpfs /run/netns; else mount -t tmpfs tmpfs /run; mkdir /run/netns; fi
  work=$(mktemp -d)
  trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
  ip link set lo up
}

# Makes the namespaces "ext" and those named (IPv6 off, loopback up) and
# the two wires above, up and addressed.
two_wires() {
  local ns
  for ns in ext "$@"; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip link add lowerK type veth peer wireK
  ip link add lowerU type veth peer wireU
  ip link set wireK netns ext
  ip link set wireU netns ext
  ip -n ext addr add 10.1.0.254/24 dev wireK
  ip -n ext addr add 10.2.0.254/24 dev wireU
  ip -n ext link set wireK up
  ip -n ext link set wireU up
  ip link set lowerK up
  ip link set lowerU up
}

# Starts `mvl daemon` with its socket and state in $work (extra options
# passed on), sets `daemon` to its PID and waits for its socket.
start_daemon() {
  "$mvl" daemon --socket "$work/mvl.sock" --state-dir "$work/state" "$@" 2>"$work/daemon.log" &
  daemon=$!
  for _ in $(seq 100); do [ -S "$work/mvl.sock" ] && break; sleep 0.05; done
}

# `mvl --backend user` against that daemon.
user() { "$mvl" --backend user --socket "$work/mvl.sock" "$@"; }
