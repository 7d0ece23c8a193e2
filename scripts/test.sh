#!/usr/bin/env bash
# Runs every test of the workspace. On a fresh machine, as root, it first
# installs what the tests need (iproute2 and ping for the kernel backend,
# tcpdump for captures, the reference CNI plugins for mvl-cni's comparison,
# podman, runc and busybox-static for mvl-cni under a container engine,
# Chromium to open the HTML report of a lab in a real browser).
# As root the privileged tests run too (--include-ignored); without root
# they are listed as ignored, "needs root".
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ip >/dev/null || need+=(iproute2)
command -v ping >/dev/null || need+=(iputils-ping)
command -v tcpdump >/dev/null || need+=(tcpdump)
# The reference CNI plugins, which mvl-cni's tests compare against.
[ -x /usr/lib/cni/macvlan ] || need+=(containernetworking-plugins)
# A real container engine for mvl-cni's end-to-end test: podman (CNI
# backend) with runc, and a static busybox to import as the image.
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "note: ${need[*]} missing and cannot be installed here: the tests that need them will skip" >&2
  fi
fi

# The tests that need root are #[ignore = "needs root"]: as root, run them
# too (after any test-binary arguments the caller gave behind "--").
if [ "$(id -u)" = 0 ]; then
  case " $* " in
    *" -- "*) set -- "$@" --include-ignored ;;
    *) set -- "$@" -- --include-ignored ;;
  esac
fi
cargo test --workspace --release "$@"
