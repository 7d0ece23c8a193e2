#!/usr/bin/env bash
# Creates and deletes N macvlans (default 1000) with mvl-netlink, with a loop
# of `ip link add`/`ip link del`, and with `ip -batch`, in a private network
# namespace; prints the median of ROUNDS rounds (default 3). Needs root and
# iproute2. Usage: scripts/bench-netlink.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "bench-netlink: needs root (it makes a private network namespace)" >&2
  exit 2
fi
cargo build --release -q -p mvl-netlink --example bench-netlink
exec target/release/examples/bench-netlink "${1:-1000}" "${2:-3}"
