# Sourced by crates/mvl-cni/tests/podman/e2e.sh and scripts/bench-cni.sh:
# podman 4.3 (CNI network backend, runc) in private mount, network and PID
# namespaces, so that the host is never touched. Podman runs in there, so
# the "host" it sees is the private namespace. /run/netns and /var/lib are
# private tmpfs mounts (podman's container namespaces, host-local's leases,
# libcni's cache, mvl-cni's hostAccess state); podman's configuration,
# storage and run directories live in a temp directory (CONTAINERS_CONF,
# CONTAINERS_STORAGE_CONF); every process left at the end dies with the PID
# namespace. The image is busybox-static imported with `podman import`: no
# registry is needed.

# podman_enter SCRIPT ARGS...: re-runs the calling script inside the
# namespaces, unless it already runs there.
podman_enter() {
  if [ "${MVL_PODMAN_INSIDE:-}" != 1 ]; then
    exec env MVL_PODMAN_INSIDE=1 unshare --mount --net --pid --fork --mount-proc \
      --propagation private bash "$@"
  fi
}

# podman_conf PLUGIN_DIR...: a containers.conf for these machines: the CNI
# backend with these plugin directories, runc (crun refuses hybrid
# cgroups), cgroupfs and events in a file (no systemd), explicit ulimits
# (no CAP_SYS_RESOURCE to raise them).
podman_conf() {
  local dirs="" d
  for d in "$@"; do dirs="$dirs${dirs:+, }\"$d\""; done
  cat <<EOC
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[network]
network_backend = "cni"
network_config_dir = "$T/cni"
cni_plugin_dirs = [$dirs]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
tmp_dir = "$T/tmp"
EOC
}

# podman_setup: inside the namespaces, makes the private mounts, the work
# directory $T (removed on exit, with every container), the configuration
# (exported; plugins are looked up in $T/bin, then /usr/lib/cni), loopback
# up and the image $IMG.
podman_setup() {
  if [ -d /run/netns ]; then mount -t tmpfs tmpfs /run/netns; else mount -t tmpfs tmpfs /run && mkdir /run/netns; fi
  mount -t tmpfs tmpfs /var/lib
  T=$(mktemp -d /tmp/mvl-podman.XXXXXX)
  trap 'podman rm -af -t 0 >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
  mkdir -p "$T/cni" "$T/tmp" "$T/bin" "$T/rootfs/bin"
  podman_conf "$T/bin" /usr/lib/cni >"$T/containers.conf"
  cat >"$T/storage.conf" <<EOC
[storage]
driver = "vfs"
graphroot = "$T/storage"
runroot = "$T/run"
EOC
  export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf
  ip link set lo up
  if ldd /bin/busybox >/dev/null 2>&1; then
    echo "/bin/busybox is linked dynamically: the image needs busybox-static" >&2
    return 1
  fi
  cp /bin/busybox "$T/rootfs/bin/busybox"
  local a
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$T/rootfs/bin/$a"; done
  IMG=localhost/mvl-busybox:1
  tar -C "$T/rootfs" -cf - . | podman import -q --change 'CMD ["/bin/sh"]' - "$IMG" >/dev/null
}
