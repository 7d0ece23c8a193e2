//! The control plane: lowers, children, their TAPs and sockets, and the
//! `mvl-core` port of each lower. Every change goes through the port first
//! (so the kernel's rules and errnos apply), then to the devices.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use mvl_core::{ChildId, Flags, MacAddr, MacChange, MacvlanChange, Mode, NewMacvlan, Port};
use mvl_netlink::{Link, LinkChange, NetNs, Netlink, IFF_UP};

use crate::api::{parse_mac, AddRequest, ChildStatus, DevSpec, SetRequest};
use crate::counters::{ChildShared, Conflict, Counters};
use crate::error::{Error, Result};
use crate::isolation::{Isolation, Rules};
use crate::loopback;
use crate::packet::PacketSocket;
use crate::state::{new_id, SavedChild, Store};
use crate::tap::{Tap, TapFlags};
use crate::worker::{Ctl, PortShared, Worker};

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Queues per TAP and forwarding threads per lower.
    pub queues: usize,
    /// Carry virtio-net headers (GSO and checksum offload pass through).
    pub vnet_hdr: bool,
    /// Where the children are remembered across restarts (none: nowhere).
    pub state_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            queues: 1,
            vnet_hdr: true,
            state_dir: None,
        }
    }
}

pub(crate) type Key = (u32, ChildId);

struct LowerRt {
    netns: NetNs,
    /// How the namespace was named to us (a name or a path), for saving.
    ns_arg: Option<String>,
    ifindex: u32,
    name: String,
    shared: Arc<PortShared>,
    workers: Vec<Worker>,
    /// Holds the unicast memberships and the promiscuous mode (it receives nothing).
    ctl: PacketSocket,
    promisc: bool,
    /// The tc ingress filter that hides consumed frames from the lower's stack.
    isolation: Isolation,
    /// The lower's loopback hook is installed (see `loopback`).
    looped: bool,
    /// The lower had no `clsact` qdisc before the engine served it: the
    /// engine made it, and removes it with its filters.
    clsact_ours: bool,
}

struct ChildRt {
    netns: NetNs,
    /// How the namespace was named to us (a name or a path), for saving.
    ns_arg: Option<String>,
    ctl: Tap,
    shared: Arc<ChildShared>,
    /// The refusal the kernel would have given for what was done to the
    /// TAP, while it stands (logged once, shown by `link show`).
    conflict: Option<String>,
    /// Its interface index in `netns`, as last seen.
    ifindex: u32,
    /// The name of its file in the state directory.
    file: String,
    /// What that file holds (`None`: not written yet).
    saved: Option<SavedChild>,
}

/// A child's TAP as it is now: what `ip link show` shows, set by anyone.
struct TapState {
    name: String,
    netns: NetNs,
    ifindex: u32,
    up: bool,
    /// Up at least once: it has a qdisc other than `noop`.
    ever_up: bool,
    mtu: u32,
    mac: MacAddr,
}

struct Inner {
    opts: Options,
    lowers: BTreeMap<u32, LowerRt>,
    children: BTreeMap<Key, ChildRt>,
    next_lower: u32,
    store: Option<Store>,
    /// Held (never read) while the engine lives: one engine per state directory.
    _state_lock: Option<nix::fcntl::Flock<std::fs::File>>,
    /// Saved children whose lower is not there (renamed, not plugged in,
    /// not moved in yet): kept, shown, and served when it appears. Each
    /// with the name of its file.
    pending: Vec<(String, SavedChild)>,
    /// Children that may have changed since they were last saved.
    dirty: BTreeSet<Key>,
    /// Files of children that are gone, to remove at the next save.
    forgotten: Vec<String>,
    /// Where the forwarding threads ask for a child's TAP to be looked at.
    follow_tx: mpsc::Sender<Key>,
}

/// The userspace macvlan engine.
pub struct Engine {
    inner: Arc<Mutex<Inner>>,
}

/// The namespace a TAP lives in now.
fn tap_netns(tap: &Tap) -> Option<NetNs> {
    let fd = tap.netns().ok()?;
    NetNs::from_path(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd))).ok()
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

/// Serves the forwarding threads' requests to look at a child's TAP (a
/// frame came from a child the port holds down). It ends with the engine.
fn follower(inner: Weak<Mutex<Inner>>, rx: mpsc::Receiver<Key>) {
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(k) => {
                let Some(inner) = inner.upgrade() else { return };
                let mut g = lock(&inner);
                if g.lowers.contains_key(&k.0) && Engine::follow_port(&mut g, k.0, Some(k)) {
                    if let Err(e) = g.save() {
                        tracing::warn!("saving the children: {e}");
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if inner.strong_count() > 0 => {}
            Err(_) => return,
        }
    }
}

/// The namespace `arg` names (`None`: the caller's).
pub(crate) fn open_ns(arg: Option<&str>) -> Result<NetNs> {
    Ok(match arg {
        Some(a) => NetNs::from_arg(a)?,
        None => NetNs::current()?,
    })
}

/// A name under `/run/netns` for `ns`, if it has one.
pub(crate) fn ns_name(ns: &NetNs) -> Option<String> {
    ns_names().remove(ns.id())
}

/// A name under `/run/netns` for `ns`: `hint` when it still names it
/// (one look, where a scan of every name would cost one per namespace).
fn ns_name_hinted(ns: &NetNs, hint: Option<&str>) -> Option<String> {
    match hint {
        Some(h) if NetNs::from_name(h).is_ok_and(|n| n.same_as(ns)) => Some(h.to_string()),
        _ => ns_name(ns),
    }
}

/// Every name under `/run/netns` by the identity of its namespace (the
/// first name, for a namespace with several): one scan for many lookups.
fn ns_names() -> HashMap<String, String> {
    let mut names = HashMap::new();
    for e in std::fs::read_dir("/run/netns").into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(n) = NetNs::from_name(&name) {
            names.entry(n.id().to_string()).or_insert(name);
        }
    }
    names
}

/// A namespace known by a name under `/run/netns` whose name is gone
/// (`ip netns del`) and that no other name reaches: deleted for everyone
/// else, though our own descriptors (sockets, TAP queues) keep it alive —
/// so the engine lets go of what it holds there, and the kernel then
/// destroys it and its devices, as it would around a kernel macvlan.
fn ns_deleted(ns: &NetNs, name: &Option<String>) -> bool {
    let Some(name) = name
        .as_deref()
        .filter(|n| !n.contains('/') && !n.bytes().all(|b| b.is_ascii_digit()))
    else {
        return false;
    };
    match NetNs::from_name(name) {
        Ok(n) => !n.same_as(ns) && ns_name(ns).is_none(),
        Err(_) => ns_name(ns).is_none(),
    }
}

/// Whether the lower `spec` names is there (in a namespace that is there).
fn lower_present(spec: &DevSpec) -> bool {
    open_ns(spec.netns.as_deref())
        .and_then(|ns| Ok(Netlink::open_in(&ns)?))
        .is_ok_and(|mut nl| nl.link(spec.name.as_str()).is_ok())
}

/// A saved child waiting for its lower, as `link show` lists it.
fn pending_status(s: &SavedChild) -> ChildStatus {
    let change = &s.macvlan;
    let flags = change.flags.unwrap_or_default();
    ChildStatus {
        name: s.name.clone(),
        netns: s.netns.clone(),
        ifindex: 0,
        lower: s.lower.clone(),
        lower_ifindex: 0,
        lower_same_netns: false,
        link_netnsid: None,
        ever_up: false,
        lower_up: false,
        address: s.address.clone(),
        mtu: s.mtu,
        up: false,
        carrier: false,
        conflict: None,
        pending: true,
        mode: change.mode.unwrap_or(Mode::Vepa),
        nopromisc: flags.contains(Flags::NOPROMISC),
        nodst: flags.contains(Flags::NODST),
        macaddr_data: change
            .macaddr
            .as_ref()
            .map(|op| op.addrs().to_vec())
            .unwrap_or_default(),
        bcqueuelen: change.bc_queue_len.unwrap_or(mvl_core::DEFAULT_BC_QUEUE_LEN),
        usedbcqueuelen: 0,
        bclim: change.bc_cutoff.unwrap_or(mvl_core::DEFAULT_BC_CUTOFF),
        spoofchk: s.spoofchk,
        stats: Default::default(),
    }
}

/// The lower's control socket and one AF_PACKET socket per queue (several
/// share a fanout group, unique to the lower within this process), opened
/// in the lower's namespace.
/// A lower's control socket, and for each queue its socket and (with the
/// loopback hook) its loopback sender.
type LowerSockets = (PacketSocket, Vec<(PacketSocket, Option<PacketSocket>)>);

/// Whether the lower has a `clsact` qdisc now (true when that cannot be read).
fn has_clsact(ns: &NetNs, ifindex: u32) -> bool {
    Netlink::open_in(ns).map_or(true, |mut nl| nl.has_clsact(ifindex))
}

/// Installs the loopback hook on a lower (see `loopback`); false, with a
/// warning, where it cannot be had.
fn install_loopback(ns: &NetNs, ifindex: u32, name: &str) -> bool {
    let r = Netlink::open_in(ns)
        .map_err(Error::from)
        .and_then(|mut nl| loopback::install(&mut nl, ifindex, name));
    if let Err(e) = &r {
        tracing::warn!("{name}: a capture on the lower will miss unicast between bridge-mode children: {e}");
    }
    r.is_ok()
}

/// Removes the loopback hook again (when `installed`), after a failure.
fn remove_loopback(ns: &NetNs, ifindex: u32, installed: bool) {
    if let (true, Ok(mut nl)) = (installed, Netlink::open_in(ns)) {
        loopback::remove(&mut nl, ifindex);
    }
}

fn lower_sockets(
    ns: &NetNs,
    ifindex: u32,
    key: u32,
    opts: &Options,
    loopback: bool,
) -> Result<std::io::Result<LowerSockets>> {
    let (vnet, queues) = (opts.vnet_hdr, opts.queues.max(1));
    let group = ((std::process::id() as u16) ^ (key as u16).rotate_left(8)) | 1;
    Ok(ns.run(|| {
        let ctl = PacketSocket::control()?.for_device(ifindex);
        let mut v = Vec::new();
        for _ in 0..queues {
            let s = PacketSocket::open(ifindex, vnet)?;
            if queues > 1 {
                s.join_fanout(group)?;
            }
            let sender = if loopback {
                // The lower's socket must not deliver the copies a second time.
                s.ignore_mark(loopback::MARK)?;
                Some(PacketSocket::sender(ifindex, vnet, loopback::MARK)?)
            } else {
                None
            };
            v.push((s, sender));
        }
        Ok((ctl, v))
    })?)
}

fn random_mac() -> MacAddr {
    // Without the kernel's randomness (never seen on Linux), the clock still
    // gives distinct addresses.
    MacAddr::random_local(getrandom::u64().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }))
}

impl Inner {
    fn port(&self, lower: u32) -> &Arc<PortShared> {
        &self.lowers[&lower].shared
    }

    fn read_port(&self, lower: u32) -> std::sync::RwLockReadGuard<'_, Port> {
        self.port(lower).port.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_port(&self, lower: u32) -> std::sync::RwLockWriteGuard<'_, Port> {
        self.port(lower).port.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The child a spec names: a TAP of ours, by its current namespace and
    /// name. The namespace is asked what bears that name (one request, not
    /// one per child): a device that is no TAP is no child. The TAP is the
    /// one seen there with that index, checked against the device itself;
    /// only when none is (a move not followed yet) are all looked at.
    fn find(&self, spec: &DevSpec) -> Result<Key> {
        let ns = open_ns(spec.netns.as_deref())?;
        let none = || Error::NoDevice(spec.name.clone());
        // Nothing of that name there (or no valid name at all): no child.
        let Ok(link) = Netlink::open_in(&ns)?.link(spec.name.as_str()) else {
            return Err(none());
        };
        if link.kind.as_deref() != Some("tun") {
            return Err(none());
        }
        let is_it = |c: &ChildRt| {
            c.ctl.current_name().is_ok_and(|n| n == spec.name)
                && tap_netns(&c.ctl).is_some_and(|h| h.same_as(&ns))
        };
        let seen = self
            .children
            .iter()
            .find(|(_, c)| c.ifindex == link.index && c.netns.same_as(&ns) && is_it(c));
        seen.or_else(|| self.children.iter().find(|(_, c)| is_it(c)))
            .map(|(k, _)| *k)
            .ok_or_else(none)
    }

    /// The pending child `spec` names: by name, in the same namespace.
    fn pending_index(&self, spec: &DevSpec) -> Option<usize> {
        let ns = open_ns(spec.netns.as_deref()).ok()?;
        self.pending.iter().position(|(_, s)| {
            s.name == spec.name && open_ns(s.netns.as_deref()).is_ok_and(|n| n.same_as(&ns))
        })
    }

    fn find_lower(&self, ns: &NetNs, ifindex: u32) -> Option<u32> {
        self.lowers
            .iter()
            .find(|(_, l)| l.ifindex == ifindex && l.netns.same_as(ns))
            .map(|(k, _)| *k)
    }

    /// Starts the forwarding threads and sockets of a new lower.
    fn start_lower(&mut self, ns: NetNs, ns_arg: Option<String>, link: &Link) -> Result<u32> {
        let key = self.next_lower;
        self.next_lower += 1;
        let kind = Netlink::open_in(&ns)?.lower_kind(link, None);
        let port = Port::for_lower(link.lower_info(), &kind)?;
        let shared = Arc::new(PortShared {
            port: RwLock::new(port),
            lower: Counters::default(),
            key,
            follow: self.follow_tx.clone(),
        });
        let (ifindex, vnet) = (link.index, self.opts.vnet_hdr);
        let clsact_ours = !has_clsact(&ns, ifindex);
        let looped = install_loopback(&ns, ifindex, &link.name);
        let (ctl, socks) = lower_sockets(&ns, ifindex, key, &self.opts, looped)
            .and_then(|r| r.map_err(Error::io(format!("opening AF_PACKET sockets on {}", link.name))))
            .inspect_err(|_| remove_loopback(&ns, ifindex, looped))?;
        let mut workers = Vec::new();
        for (q, (s, sender)) in socks.into_iter().enumerate() {
            let w = Worker::spawn(format!("mvl-{}-q{q}", link.name), shared.clone(), vnet)
                .map_err(Error::io("starting a forwarding thread"))?;
            w.send(Ctl::Socket(s, sender));
            workers.push(w);
        }
        self.lowers.insert(
            key,
            LowerRt {
                netns: ns.clone(),
                ns_arg: ns_name(&ns).or(ns_arg),
                ifindex,
                name: link.name.clone(),
                shared,
                workers,
                ctl,
                promisc: false,
                isolation: Isolation::default(),
                looped,
                clsact_ours,
            },
        );
        Ok(key)
    }

    /// Brings the lower's ingress filter in line with the port's rules.
    fn isolate(&mut self, lower: u32) {
        let Some(l) = self.lowers.get(&lower) else { return };
        let rules = Rules::of(&l.shared.port.read().unwrap_or_else(|p| p.into_inner()));
        if l.isolation.implements(&rules) {
            return;
        }
        let l = self.lowers.get_mut(&lower).expect("checked");
        let r = Netlink::open_in(&l.netns)
            .map_err(Error::from)
            .and_then(|mut nl| l.isolation.apply(&mut nl, l.ifindex, &l.name, rules));
        if let Err(e) = r {
            tracing::warn!(
                "{}: the lower's stack may see frames a macvlan would hide: {e}",
                l.name
            );
        }
    }

    fn stop_lower(&mut self, key: u32) {
        if let Some(l) = self.lowers.get_mut(&key) {
            if let Ok(mut nl) = Netlink::open_in(&l.netns) {
                let _ = l.isolation.apply(&mut nl, l.ifindex, &l.name, Rules::default());
                if l.looped {
                    loopback::remove(&mut nl, l.ifindex);
                }
                if l.clsact_ours {
                    nl.remove_clsact_if_unused(l.ifindex);
                }
            }
        }
        if let Some(mut l) = self.lowers.remove(&key) {
            for w in &mut l.workers {
                w.stop();
            }
        }
    }

    fn broadcast(&self, lower: u32, c: impl Fn() -> Ctl) {
        for w in &self.lowers[&lower].workers {
            w.send(c());
        }
    }

    /// Keeps the lower's unicast filter and promiscuity in line with the port.
    fn sync_filters(&mut self, lower: u32, old: Option<(MacAddr, bool)>, key: Key) {
        let (mac, up, passthru, nopromisc) = {
            let p = self.read_port(lower);
            let Ok(i) = p.info(key.1) else { return };
            (i.mac, i.up, p.is_passthru(), i.flags.contains(Flags::NOPROMISC))
        };
        let l = self.lowers.get_mut(&lower).expect("live lower");
        if let Some((m, was_up)) = old {
            if was_up && !passthru {
                let _ = l.ctl.drop_unicast(m);
            }
        }
        if up && !passthru {
            if let Err(e) = l.ctl.add_unicast(mac) {
                tracing::warn!("{}: unicast filter for {mac}: {e}", l.name);
            }
        }
        let want_promisc = passthru && up && !nopromisc;
        if want_promisc != l.promisc {
            match l.ctl.set_promisc(want_promisc) {
                Ok(()) => l.promisc = want_promisc,
                Err(e) => tracing::warn!("{}: promiscuous mode: {e}", l.name),
            }
        }
    }

    /// Child `k`'s TAP as it is now; `None` when it cannot be read (gone).
    /// The TAPs of `keys` as they are now, with one link dump per namespace
    /// they live in (not a socket and a request per child): following a
    /// port costs about the same per child at 10 children or 1,000.
    fn tap_states(&self, keys: &[Key]) -> Vec<(Key, TapState)> {
        let mut by_ns: HashMap<String, (NetNs, Vec<(Key, String)>)> = HashMap::new();
        for &k in keys {
            let Some(c) = self.children.get(&k) else { continue };
            let (Ok(name), Some(netns)) = (c.ctl.current_name(), tap_netns(&c.ctl)) else {
                continue;
            };
            by_ns
                .entry(netns.id().to_string())
                .or_insert_with(|| (netns, Vec::new()))
                .1
                .push((k, name));
        }
        let mut out = Vec::with_capacity(keys.len());
        for (netns, taps) in by_ns.into_values() {
            let Ok(mut nl) = Netlink::open_in(&netns) else {
                continue;
            };
            // A few: asked for by name; many: one dump.
            let links: Vec<Link> = if taps.len() <= 4 {
                taps.iter()
                    .filter_map(|(_, name)| nl.link(name.as_str()).ok())
                    .collect()
            } else {
                nl.links().unwrap_or_default()
            };
            let links: HashMap<&str, &Link> = links.iter().map(|l| (l.name.as_str(), l)).collect();
            for (k, name) in taps {
                let Some(link) = links.get(name.as_str()) else {
                    continue;
                };
                out.push((
                    k,
                    TapState {
                        ifindex: link.index,
                        up: link.flags & IFF_UP != 0,
                        ever_up: link.qdisc.as_deref().is_some_and(|q| q != "noop"),
                        mtu: link.mtu.unwrap_or(1500),
                        mac: link.address.unwrap_or_default(),
                        netns: netns.clone(),
                        name,
                    },
                ));
            }
        }
        out
    }

    fn tap_state(&self, k: Key) -> Option<TapState> {
        self.tap_states(&[k]).pop().map(|(_, t)| t)
    }

    fn status(&self, k: Key) -> Result<ChildStatus> {
        let c = &self.children[&k];
        let l = &self.lowers[&k.0];
        let p = self.read_port(k.0);
        let i = p.info(k.1)?;
        // What the device has, whoever set it; the port's view when the TAP
        // cannot be read.
        let tap = self.tap_state(k);
        let ns = tap
            .as_ref()
            .map(|t| t.netns.clone())
            .or_else(|| tap_netns(&c.ctl));
        let same = ns.as_ref().is_some_and(|n| n.same_as(&l.netns));
        Ok(ChildStatus {
            name: tap.as_ref().map_or(i.name.clone(), |t| t.name.clone()),
            netns: ns.as_ref().and_then(ns_name),
            ifindex: tap.as_ref().map_or(0, |t| t.ifindex),
            lower: DevSpec {
                netns: ns_name(&l.netns),
                name: l.name.clone(),
            },
            lower_ifindex: l.ifindex,
            lower_same_netns: same,
            link_netnsid: ns
                .as_ref()
                .filter(|_| !same)
                .and_then(|n| Netlink::open_in(n).ok()?.nsid_assign(&l.netns).ok()),
            ever_up: tap.as_ref().map_or(i.up, |t| t.ever_up),
            lower_up: p.lower().admin_up,
            address: tap.as_ref().map_or(i.mac, |t| t.mac).to_string(),
            mtu: tap.as_ref().map_or(i.mtu, |t| t.mtu),
            up: tap.as_ref().map_or(i.up, |t| t.up),
            carrier: i.carrier,
            conflict: c.conflict.clone(),
            pending: false,
            mode: i.mode,
            nopromisc: i.flags.contains(Flags::NOPROMISC),
            nodst: i.flags.contains(Flags::NODST),
            macaddr_data: i.sources.clone(),
            bcqueuelen: i.bc_queue_len,
            usedbcqueuelen: i.bc_queue_len_used,
            bclim: i.bc_cutoff,
            spoofchk: c.shared.spoofchk.load(std::sync::atomic::Ordering::Relaxed),
            stats: c.shared.counters.snapshot(),
        })
    }

    /// What child `k`'s file should hold now.
    fn record(&self, k: Key) -> Result<SavedChild> {
        let c = &self.children[&k];
        let l = &self.lowers[&k.0];
        let p = self.read_port(k.0);
        let i = p.info(k.1)?;
        Ok(SavedChild {
            name: c.ctl.current_name().unwrap_or(i.name.clone()),
            netns: ns_name_hinted(&c.netns, c.ns_arg.as_deref()).or_else(|| c.ns_arg.clone()),
            lower: DevSpec {
                netns: ns_name_hinted(&l.netns, l.ns_arg.as_deref()).or_else(|| l.ns_arg.clone()),
                name: l.name.clone(),
            },
            address: i.mac.to_string(),
            mtu: i.mtu,
            up: i.up,
            macvlan: MacvlanChange {
                mode: Some(i.mode),
                flags: Some(i.flags),
                macaddr: (i.mode == Mode::Source).then(|| mvl_core::MacaddrOp::Set(i.sources.clone())),
                bc_queue_len: Some(i.bc_queue_len),
                bc_cutoff: (i.bc_cutoff != mvl_core::DEFAULT_BC_CUTOFF).then_some(i.bc_cutoff),
            },
            spoofchk: c.shared.spoofchk.load(std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// The children of port `lower` may have changed (the lower's name,
    /// namespace, MTU or MAC reaches them all).
    fn dirty_port(&mut self, lower: u32) {
        self.dirty
            .extend(self.children.keys().filter(|k| k.0 == lower).copied());
    }

    /// Writes the files of the children that changed, and removes those of
    /// children that are gone: a save costs what changed, not the number of
    /// children.
    fn save(&mut self) -> Result<()> {
        let Some(store) = &self.store else {
            self.dirty.clear();
            self.forgotten.clear();
            return Ok(());
        };
        while let Some(k) = self.dirty.pop_first() {
            if !self.children.contains_key(&k) {
                continue;
            }
            // On a failure, the child stays to be saved (with the rest).
            let rec = self.record(k).inspect_err(|_| {
                self.dirty.insert(k);
            })?;
            let c = self.children.get_mut(&k).expect("checked");
            if c.saved.as_ref() != Some(&rec) {
                if let Err(e) = store.put(&c.file, &rec) {
                    self.dirty.insert(k);
                    return Err(e);
                }
                c.saved = Some(rec);
            }
        }
        while let Some(f) = self.forgotten.pop() {
            if let Err(e) = store.remove(&f) {
                self.forgotten.push(f);
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Engine {
    /// An engine with no child. With a state directory, the children saved
    /// there are brought back: their TAPs (persistent) are re-attached, with
    /// their addresses and routes untouched.
    pub fn new(opts: Options) -> Result<Engine> {
        let store = opts.state_dir.as_ref().map(|d| Store::new(d.clone()));
        let state_lock = store.as_ref().map(Store::lock).transpose()?;
        let saved = match &store {
            Some(s) => s.load()?,
            None => Vec::new(),
        };
        let (follow_tx, follow_rx) = mpsc::channel();
        let engine = Engine {
            inner: Arc::new(Mutex::new(Inner {
                opts,
                lowers: BTreeMap::new(),
                children: BTreeMap::new(),
                next_lower: 1,
                store: None,
                _state_lock: state_lock,
                pending: Vec::new(),
                dirty: BTreeSet::new(),
                forgotten: Vec::new(),
                follow_tx,
            })),
        };
        let weak = Arc::downgrade(&engine.inner);
        std::thread::Builder::new()
            .name("mvl-follow".into())
            .spawn(move || follower(weak, follow_rx))
            .map_err(Error::io("starting the thread that follows the TAPs"))?;
        {
            let mut g = engine.lock();
            let mut ports = BTreeSet::new();
            for (file, s) in saved {
                if !lower_present(&s.lower) {
                    tracing::info!(
                        "{}: its lower {} is not there: kept as pending, served when it appears",
                        s.name,
                        s.lower
                    );
                    g.pending.push((file, s));
                } else {
                    ports.extend(Self::restore(&mut g, &file, &s));
                }
            }
            for lower in ports {
                Self::follow_port(&mut g, lower, None);
            }
            g.store = store;
            g.save()?;
        }
        Ok(engine)
    }

    /// Serves the pending children whose lower has appeared.
    fn serve_pending(g: &mut Inner) -> Result<()> {
        if g.pending.iter().all(|(_, s)| !lower_present(&s.lower)) {
            return Ok(());
        }
        for (file, s) in std::mem::take(&mut g.pending) {
            if !lower_present(&s.lower) {
                g.pending.push((file, s));
                continue;
            }
            if let Some(lower) = Self::restore(g, &file, &s) {
                Self::follow_port(g, lower, None);
                tracing::info!("{}: its lower {} is there: served", s.name, s.lower);
            }
        }
        g.save()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Creates a child (a TAP in its namespace) on a lower.
    pub fn add(&self, req: &AddRequest) -> Result<ChildStatus> {
        let mut g = self.lock();
        let k = Self::add_locked(&mut g, req, None)?;
        g.save()?;
        g.status(k)
    }

    /// Re-attaches a saved child's TAP; the caller then follows its port
    /// (the TAP is the truth: up or down, its MAC and MTU are what it has
    /// now, whoever set them while no daemon ran).
    /// A child that cannot be restored is logged and forgotten (its file
    /// goes at the next save); `None` then.
    fn restore(g: &mut Inner, file: &str, s: &SavedChild) -> Option<u32> {
        let req = AddRequest {
            name: s.name.clone(),
            link: s.lower.clone(),
            netns: s.netns.clone(),
            address: Some(s.address.clone()),
            mtu: Some(s.mtu),
            macvlan: s.macvlan.clone(),
            spoofchk: s.spoofchk,
        };
        match Self::add_locked(g, &req, Some((file.to_string(), s.clone()))) {
            Ok((lower, _)) => Some(lower),
            Err(e) => {
                tracing::error!("cannot restore {}: {e}", s.name);
                g.forgotten.push(file.to_string());
                None
            }
        }
    }

    /// With `restored` (a saved child and its file), the child's TAP is
    /// re-attached, never made.
    fn add_locked(g: &mut Inner, req: &AddRequest, restored: Option<(String, SavedChild)>) -> Result<Key> {
        let reattach = restored.is_some();
        let change = &req.macvlan;
        let address = req.address.as_deref().map(parse_mac).transpose()?;
        let parent_ns = open_ns(req.link.netns.as_deref())?;
        // Stacking: on one of our children, the new child joins its lower.
        let lower = match g.find(&req.link) {
            Ok((lower, _)) => lower,
            Err(_) => {
                let link = Netlink::open_in(&parent_ns)?
                    .link(req.link.name.as_str())
                    .map_err(|e| {
                        if e.is_no_device() {
                            Error::NoDevice(req.link.name.clone())
                        } else {
                            Error::Netlink(e)
                        }
                    })?;
                match g.find_lower(&parent_ns, link.index) {
                    Some(l) => l,
                    None => g.start_lower(parent_ns.clone(), req.link.netns.clone(), &link)?,
                }
            }
        };
        let (target, target_arg) = match &req.netns {
            Some(n) => (NetNs::from_arg(n)?, Some(n.clone())),
            // As in the kernel: where the request is made, the parent's side.
            None => (parent_ns.clone(), req.link.netns.clone()),
        };
        let mut nl = Netlink::open_in(&target)?;
        let existing = nl.link(req.name.as_str()).ok();
        if reattach && existing.as_ref().and_then(|l| l.kind.as_deref()) != Some("tun") {
            // Never create a device while restoring: the saved one is gone.
            Self::drop_lower_if_empty(g, lower);
            return Err(Error::NoDevice(format!(
                "{} (saved TAP no longer in {})",
                req.name,
                target.label()
            )));
        }
        if !reattach && existing.is_some() {
            let netns = ns_name(&target).unwrap_or_else(|| target.label().to_string());
            Self::drop_lower_if_empty(g, lower);
            return Err(Error::Exists {
                name: req.name.clone(),
                netns,
            });
        }
        let new = NewMacvlan {
            name: req.name.clone(),
            mac: address.unwrap_or_else(random_mac),
            mtu: req.mtu,
            macvlan: change.clone(),
        };
        let created = g.write_port(lower).create(new);
        let id = match created {
            Ok(id) => id,
            Err(e) => {
                Self::drop_lower_if_empty(g, lower);
                return Err(e.into());
            }
        };
        if change.bc_cutoff.is_some() {
            // bclim is the port's: saved with each of its children.
            g.dirty_port(lower);
        }
        match Self::make_tap(
            g,
            lower,
            id,
            (&target, target_arg),
            &mut nl,
            (req.spoofchk, restored),
        ) {
            Ok(()) => {
                g.isolate(lower);
                Ok((lower, id))
            }
            Err(e) => {
                let _ = g.write_port(lower).delete(id);
                Self::drop_lower_if_empty(g, lower);
                Err(e)
            }
        }
    }

    fn make_tap(
        g: &mut Inner,
        lower: u32,
        id: ChildId,
        (target, ns_arg): (&NetNs, Option<String>),
        nl: &mut Netlink,
        (spoofchk, restored): (bool, Option<(String, SavedChild)>),
    ) -> Result<()> {
        let reattach = restored.is_some();
        let info = g.read_port(lower).info(id)?;
        let queues = g.opts.queues.max(1);
        let flags = TapFlags {
            vnet_hdr: g.opts.vnet_hdr,
            multi_queue: queues > 1,
        };
        let name = info.name.clone();
        let taps = target
            .run(|| {
                (0..queues)
                    .map(|_| Tap::open(&name, flags))
                    .collect::<std::io::Result<Vec<Tap>>>()
            })?
            .map_err(Error::io(format!("creating the TAP {name}")))?;
        let ctl = taps[0]
            .try_clone()
            .map_err(Error::io(format!("{name}: duplicating the TAP's descriptor")))?;
        ctl.set_persist(true)
            .map_err(Error::io(format!("{name}: TUNSETPERSIST")))?;
        let change = LinkChange {
            address: Some(info.mac),
            mtu: Some(info.mtu),
            ..Default::default()
        };
        // A re-attached TAP keeps what it has: the engine follows it.
        if !reattach {
            if let Err(e) = nl.set_link(name.as_str(), &change) {
                let _ = nl.delete_link(name.as_str());
                return Err(e.into());
            }
        }
        let shared = Arc::new(ChildShared::new(info.mac, spoofchk));
        for (w, t) in g.lowers[&lower].workers.iter().zip(taps) {
            t.set_nonblocking()
                .map_err(Error::io(format!("{name}: O_NONBLOCK")))?;
            w.send(Ctl::AddTap(id, t, shared.clone()));
        }
        let ns_arg = ns_name_hinted(target, ns_arg.as_deref()).or(ns_arg);
        let (file, saved) = match restored {
            Some((file, saved)) => (file, Some(saved)),
            None => (new_id(), None),
        };
        g.children.insert(
            (lower, id),
            ChildRt {
                netns: target.clone(),
                ns_arg,
                ctl,
                shared,
                conflict: None,
                ifindex: nl.index_of(name.as_str()).unwrap_or(0),
                file,
                saved,
            },
        );
        g.dirty.insert((lower, id));
        Self::apply_carrier(g, (lower, id));
        Ok(())
    }

    fn drop_lower_if_empty(g: &mut Inner, lower: u32) {
        if g.lowers
            .get(&lower)
            .is_some_and(|l| l.shared.port.read().map(|p| p.is_empty()).unwrap_or(false))
        {
            g.stop_lower(lower);
        }
    }

    fn apply_carrier(g: &Inner, k: Key) {
        let carrier = g.read_port(k.0).lower().carrier;
        if let Some(c) = g.children.get(&k) {
            if let Err(e) = c.ctl.set_carrier(carrier) {
                tracing::warn!("{}: carrier: {e}", c.ctl.name());
            }
        }
    }

    /// Changes a child, in the kernel's order: macvlan options, namespace,
    /// address, MTU, name, down, up. As in the kernel, a refusal keeps the
    /// steps already done.
    pub fn set(&self, req: &SetRequest) -> Result<()> {
        let mut g = self.lock();
        let k = g.find(&req.dev)?;
        let r = Self::set_locked(&mut g, k, req);
        g.isolate(k.0);
        g.dirty.insert(k);
        if req.macvlan.as_ref().is_some_and(|m| m.bc_cutoff.is_some()) {
            // bclim is the port's: saved with each of its children.
            g.dirty_port(k.0);
        }
        g.save()?;
        r
    }

    fn set_locked(g: &mut Inner, k: Key, req: &SetRequest) -> Result<()> {
        let (lower, id) = k;
        if let Some(spec) = &req.macvlan {
            let before = g.read_port(lower).info(id)?;
            let r = g.write_port(lower).change(id, spec);
            g.sync_filters(lower, Some((before.mac, before.up)), k);
            r?;
        }
        let mut name = g.children[&k]
            .ctl
            .current_name()
            .map_err(Error::io("TUNGETIFF"))?;
        let mut nl = Netlink::open_in(&g.children[&k].netns)?;
        if let Some(ns) = &req.netns {
            let target = NetNs::from_arg(ns)?;
            if !target.same_as(&g.children[&k].netns) {
                if Netlink::open_in(&target)?.link(name.as_str()).is_ok() {
                    return Err(Error::Exists {
                        name,
                        netns: ns.clone(),
                    });
                }
                // A moved device arrives down, as a kernel macvlan does.
                Self::set_admin(g, k, false, &mut nl, &name)?;
                nl.set_netns(name.as_str(), &target)?;
                let c = g.children.get_mut(&k).expect("found");
                c.ns_arg = ns_name(&target).or(Some(ns.clone()));
                c.netns = target.clone();
                nl = Netlink::open_in(&target)?;
                if let Ok(i) = nl.index_of(name.as_str()) {
                    g.children.get_mut(&k).expect("found").ifindex = i;
                }
            }
        }
        if let Some(a) = &req.address {
            let mac = parse_mac(a)?;
            let before = g.read_port(lower).info(id)?;
            let changed = g.write_port(lower).set_mac(id, mac)?;
            if let MacChange::Lower(m) = changed {
                let l = &g.lowers[&lower];
                Netlink::open_in(&l.netns)?.set_link(
                    l.ifindex,
                    &LinkChange {
                        address: Some(m),
                        ..Default::default()
                    },
                )?;
            }
            nl.set_link(
                name.as_str(),
                &LinkChange {
                    address: Some(mac),
                    ..Default::default()
                },
            )?;
            g.children[&k].shared.set_mac(mac);
            g.sync_filters(lower, Some((before.mac, before.up)), k);
        }
        if let Some(mtu) = req.mtu {
            g.write_port(lower).set_mtu(id, mtu)?;
            nl.set_link(
                name.as_str(),
                &LinkChange {
                    mtu: Some(mtu),
                    ..Default::default()
                },
            )?;
        }
        if let Some(n) = &req.name {
            if *n != name {
                nl.rename(name.as_str(), n)?;
                g.write_port(lower).rename(id, n)?;
                name = n.clone();
            }
        }
        if req.up == Some(false) {
            Self::set_admin(g, k, false, &mut nl, &name)?;
        }
        if req.up == Some(true) {
            Self::set_admin(g, k, true, &mut nl, &name)?;
        }
        if let Some(on) = req.spoofchk {
            g.children[&k]
                .shared
                .spoofchk
                .store(on, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    fn set_admin(g: &mut Inner, k: Key, up: bool, nl: &mut Netlink, name: &str) -> Result<()> {
        let before = g.read_port(k.0).info(k.1)?;
        if before.up == up {
            return Ok(());
        }
        {
            let mut p = g.write_port(k.0);
            if up {
                p.open(k.1)?;
            } else {
                p.stop(k.1)?;
            }
        }
        if let Err(e) = nl.set_up(name, up) {
            let mut p = g.write_port(k.0);
            let _ = if up { p.stop(k.1) } else { p.open(k.1) };
            return Err(e.into());
        }
        g.sync_filters(k.0, Some((before.mac, before.up)), k);
        Ok(())
    }

    /// Whether the kernel's macvlan would refuse `req` (only its rules are
    /// replayed, on a copy of the port: nothing changes). A lab runs the
    /// real `ip` on the TAP, which cannot refuse, only when this says yes.
    pub fn check_set(&self, req: &SetRequest) -> Result<()> {
        let g = self.lock();
        let (lower, id) = g.find(&req.dev)?;
        let mut p = g.read_port(lower).clone();
        if let Some(spec) = &req.macvlan {
            p.change(id, spec)?;
        }
        if req.netns.is_some() {
            // A moved device arrives down.
            p.stop(id)?;
        }
        if let Some(a) = &req.address {
            p.set_mac(id, parse_mac(a)?)?;
        }
        if let Some(mtu) = req.mtu {
            p.set_mtu(id, mtu)?;
        }
        match req.up {
            Some(true) => p.open(id)?,
            Some(false) => p.stop(id)?,
            None => {}
        }
        Ok(())
    }

    /// Follows the TAPs of the children of port `lower`: whatever changed
    /// them (`ip`, NetworkManager, a container runtime), their name,
    /// namespace, MTU, MAC and admin state go through the port's rules at
    /// once. Children going down are looked at first, so that a MAC one
    /// frees can be taken by another; passes repeat while something changes.
    ///
    /// With `only`, the one child whose TAP changed is looked at, with the
    /// children in conflict (a MAC or MTU the change may have freed); so an
    /// event costs the same with 1,000 children as with 2. Returns whether
    /// anything changed.
    fn follow_port(g: &mut Inner, lower: u32, only: Option<Key>) -> bool {
        let keys: Vec<Key> = g
            .children
            .iter()
            .filter(|(k, c)| k.0 == lower && only.is_none_or(|o| o == **k || c.conflict.is_some()))
            .map(|(k, _)| *k)
            .collect();
        let mut changed = false;
        for _ in 0..=keys.len() {
            let mut states = g.tap_states(&keys);
            states.sort_by_key(|(_, t)| t.up);
            let mut pass = false;
            for (k, t) in states {
                if Self::follow_child(g, k, t) {
                    g.dirty.insert(k);
                    pass = true;
                }
            }
            if !pass {
                break;
            }
            changed = true;
        }
        if changed {
            g.isolate(lower);
        }
        // Frames held for this look are decided now.
        g.broadcast(lower, || Ctl::Resume);
        changed
    }

    /// Brings child `k` in line with its TAP `t`. Returns whether the port
    /// or the child's place changed. What the kernel would have refused
    /// (a MAC in use, an MTU above the lower's) stands on the TAP, so the
    /// child forwards nothing while it lasts: see [`Conflict`].
    fn follow_child(g: &mut Inner, k: Key, t: TapState) -> bool {
        let (lower, id) = k;
        let Ok(before) = g.read_port(lower).info(id) else {
            return false;
        };
        let mut moved = false;
        if let Some(c) = g.children.get_mut(&k) {
            // The monitor knows the TAP by its index there.
            c.ifindex = t.ifindex;
            if !c.netns.same_as(&t.netns) {
                c.ns_arg = ns_name(&t.netns);
                c.netns = t.netns.clone();
                moved = true;
            }
        }
        let mut conflict: Option<(Conflict, mvl_core::Error)> = None;
        let mut lower_mac = None;
        let after = {
            let mut p = g.write_port(lower);
            if before.name != t.name {
                let _ = p.rename(id, &t.name);
            }
            if before.mtu != t.mtu {
                if let Err(e) = p.set_mtu(id, t.mtu) {
                    conflict = Some((Conflict::Mtu, e));
                }
            }
            if before.mac != t.mac {
                match p.set_mac(id, t.mac) {
                    Ok(MacChange::Lower(m)) => lower_mac = Some(m),
                    Ok(MacChange::Macvlan) => {}
                    Err(e) => {
                        conflict.get_or_insert((Conflict::Mac, e));
                    }
                }
            }
            if t.up && conflict.is_none() {
                if let Err(e) = p.open(id) {
                    conflict = Some((Conflict::Mac, e));
                }
            }
            if !t.up || conflict.is_some() {
                let _ = p.stop(id);
            }
            if !t.up {
                // Nothing flows from a down device: nothing to refuse yet.
                conflict = None;
            }
            p.info(id).ok()
        };
        let Some(after) = after else { return false };
        if let Some(m) = lower_mac {
            // Passthru: the MAC set on the child is the lower's, as in the kernel.
            let l = &g.lowers[&lower];
            let r = Netlink::open_in(&l.netns).and_then(|mut nl| {
                nl.set_link(
                    l.ifindex,
                    &LinkChange {
                        address: Some(m),
                        ..Default::default()
                    },
                )
            });
            if let Err(e) = r {
                tracing::warn!(
                    "{}: passthru child {} set MAC {m}, the lower did not take it: {e}",
                    l.name,
                    t.name
                );
            }
        }
        let changed = before != after;
        if changed {
            g.children[&k].shared.set_mac(after.mac);
            g.sync_filters(lower, Some((before.mac, before.up)), k);
        }
        let lower_name = g.lowers[&lower].name.clone();
        let c = g.children.get_mut(&k).expect("followed child");
        c.shared.set_conflict(conflict.as_ref().map(|(c, _)| *c));
        let msg = conflict.map(|(c, e)| format!("{}: {e}", c.name()));
        if msg != c.conflict {
            match &msg {
                Some(m) => tracing::warn!(
                    "{} on {lower_name}: forwards nothing while its TAP keeps what the kernel would refuse ({m})",
                    t.name
                ),
                None => tracing::info!("{} on {lower_name}: forwards again", t.name),
            }
            c.conflict = msg;
        }
        changed || moved
    }

    /// Follows child `k`, whose TAP changed (and the children of its port
    /// in conflict).
    pub(crate) fn follow(&self, k: Key) {
        let mut g = self.lock();
        if g.lowers.contains_key(&k.0) && Self::follow_port(&mut g, k.0, Some(k)) {
            if let Err(e) = g.save() {
                tracing::warn!("saving the children: {e}");
            }
        }
    }

    /// Calls `f` with the namespace of each lower and child (where the
    /// monitor listens); nothing is copied, so a look costs little with
    /// 1,000 children.
    pub(crate) fn each_namespace(&self, mut f: impl FnMut(&NetNs)) {
        let g = self.lock();
        g.lowers.values().for_each(|l| f(&l.netns));
        g.children.values().for_each(|c| f(&c.netns));
    }

    /// The children whose TAP is interface `index` of namespace `ns_id`.
    pub(crate) fn children_at(&self, ns_id: &str, index: u32) -> Vec<Key> {
        let g = self.lock();
        g.children
            .iter()
            .filter(|(_, c)| c.ifindex == index && c.netns.id() == ns_id)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The ports whose lower is interface `index` of namespace `ns_id`, with
    /// the lower's MAC (by which a move is found).
    pub(crate) fn lowers_at(&self, ns_id: &str, index: u32) -> Vec<(u32, MacAddr)> {
        let g = self.lock();
        g.lowers
            .iter()
            .filter(|(_, l)| l.ifindex == index && l.netns.id() == ns_id)
            .map(|(&k, _)| (k, g.read_port(k).lower().mac))
            .collect()
    }

    /// Deletes a child: its TAP goes, and the lower's port with its last child.
    pub fn del(&self, dev: &DevSpec) -> Result<()> {
        let mut g = self.lock();
        match g.find(dev) {
            Ok(k) => Self::delete_locked(&mut g, k)?,
            Err(e) => {
                // A pending child: forget it, and its TAP goes.
                let i = g.pending_index(dev).ok_or(e)?;
                let (file, s) = g.pending.remove(i);
                g.forgotten.push(file);
                let ns = open_ns(s.netns.as_deref())?;
                let mut nl = Netlink::open_in(&ns)?;
                if let Ok(l) = nl.link(s.name.as_str()) {
                    if l.kind.as_deref() == Some("tun") {
                        nl.delete_link(l.index)?;
                    }
                }
            }
        }
        g.save()
    }

    fn delete_locked(g: &mut Inner, k: Key) -> Result<()> {
        let (lower, id) = k;
        let before = g.read_port(lower).info(id)?;
        let passthru = g.read_port(lower).is_passthru();
        let deleted = g.write_port(lower).delete(id)?;
        g.sync_filters_gone(lower, before.mac, before.up && !passthru);
        g.broadcast(lower, || Ctl::RemoveTap(id));
        if let Some(c) = g.children.remove(&k) {
            g.forgotten.push(c.file.clone());
            let name = c.ctl.current_name().unwrap_or(before.name.clone());
            let _ = c.ctl.set_persist(false);
            if let Ok(mut nl) = Netlink::open_in(&c.netns) {
                let _ = nl.delete_link(name.as_str());
            }
        }
        if let Some(m) = deleted.restore_lower_mac {
            let l = &g.lowers[&lower];
            Netlink::open_in(&l.netns)?.set_link(
                l.ifindex,
                &LinkChange {
                    address: Some(m),
                    ..Default::default()
                },
            )?;
        }
        if deleted.port_empty {
            g.stop_lower(lower);
        } else {
            g.isolate(lower);
        }
        Ok(())
    }

    /// The children, or the one `dev` names.
    /// Pending children (waiting for their lower) are listed too.
    pub fn show(&self, dev: Option<&DevSpec>) -> Result<Vec<ChildStatus>> {
        let g = self.lock();
        match dev {
            Some(d) => match g.find(d) {
                Ok(k) => Ok(vec![g.status(k)?]),
                Err(e) => {
                    let i = g.pending_index(d).ok_or(e)?;
                    Ok(vec![pending_status(&g.pending[i].1)])
                }
            },
            None => {
                let mut v = g
                    .children
                    .keys()
                    .map(|&k| g.status(k))
                    .collect::<Result<Vec<_>>>()?;
                v.extend(g.pending.iter().map(|(_, s)| pending_status(s)));
                Ok(v)
            }
        }
    }

    /// The children living in namespace `netns` (what `ip -n NS` names).
    pub fn show_netns(&self, netns: &str) -> Result<Vec<ChildStatus>> {
        let ns = open_ns(Some(netns))?;
        let g = self.lock();
        let mut v = Vec::new();
        for (&k, c) in &g.children {
            if tap_netns(&c.ctl).is_some_and(|n| n.same_as(&ns)) {
                v.push(g.status(k)?);
            }
        }
        for (_, s) in &g.pending {
            if open_ns(s.netns.as_deref()).is_ok_and(|n| n.same_as(&ns)) {
                v.push(pending_status(s));
            }
        }
        Ok(v)
    }

    /// Whether `dev` is one of the engine's children.
    pub fn is_child(&self, dev: &DevSpec) -> bool {
        self.lock().find(dev).is_ok()
    }

    /// A lower with children cannot join a bridge or bond (EBUSY), as with
    /// the kernel's macvlan.
    pub fn check_enslave(&self, dev: &DevSpec, master: &str) -> Result<()> {
        let g = self.lock();
        let ns = open_ns(dev.netns.as_deref())?;
        let Ok(index) = Netlink::open_in(&ns)?.index_of(dev.name.as_str()) else {
            return Ok(());
        };
        match g.find_lower(&ns, index) {
            Some(l) => {
                let p = g.read_port(l);
                Err(Error::Rule(mvl_core::Error::LowerHasMacvlans {
                    lower: dev.name.clone(),
                    children: p
                        .children()
                        .iter()
                        .map(|&c| p.name(c))
                        .collect::<Vec<_>>()
                        .join(", "),
                    master: master.to_string(),
                }))
            }
            None => Ok(()),
        }
    }

    /// The lower of port `key` changed or went away: look at it again and
    /// follow — carrier and admin state, name, MTU (clamping children),
    /// MAC (passthru follows), or its deletion (the children go too).
    pub(crate) fn refresh_lower(&self, key: u32) -> Result<()> {
        let mut g = self.lock();
        let Some(l) = g.lowers.get(&key) else {
            return Ok(());
        };
        let found = Netlink::open_in(&l.netns)?.link(l.ifindex);
        match found {
            Ok(link) => Self::lower_changed(&mut g, key, &link),
            Err(e) if e.is_no_device() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn lower_changed(g: &mut Inner, key: u32, link: &Link) -> Result<()> {
        let info = link.lower_info();
        let (renamed, mtu_changed, mac_changed) = {
            let l = g.lowers.get_mut(&key).expect("live lower");
            let renamed = l.name != link.name;
            l.name = link.name.clone();
            // The port's view of the lower is the one truth: a MAC the
            // engine set itself (passthru) is no change made by someone else.
            let p = l.shared.port.read().unwrap_or_else(|p| p.into_inner());
            (renamed, p.lower().mtu != info.mtu, p.lower().mac != info.mac)
        };
        if renamed || mtu_changed || mac_changed {
            // Saved with each child: the lower's name, and what it clamps.
            g.dirty_port(key);
        }
        let mut clamped = Vec::new();
        let mut followed = None;
        {
            let mut p = g.write_port(key);
            p.set_lower_state(info.admin_up, info.carrier);
            p.rename_lower(&info.name);
            if mtu_changed {
                clamped = p.lower_mtu_changed(info.mtu);
            }
            if mac_changed {
                followed = p.lower_mac_changed(info.mac);
            }
        }
        let keys: Vec<Key> = g.children.keys().filter(|k| k.0 == key).copied().collect();
        for k in keys {
            Self::apply_carrier(g, k);
            let c = &g.children[&k];
            let Ok(name) = c.ctl.current_name() else { continue };
            let Ok(mut nl) = Netlink::open_in(&c.netns) else {
                continue;
            };
            if clamped.contains(&k.1) {
                let _ = nl.set_link(
                    name.as_str(),
                    &LinkChange {
                        mtu: Some(info.mtu),
                        ..Default::default()
                    },
                );
            }
            if followed == Some(k.1) {
                let _ = nl.set_link(
                    name.as_str(),
                    &LinkChange {
                        address: Some(info.mac),
                        ..Default::default()
                    },
                );
                c.shared.set_mac(info.mac);
            }
        }
        g.save()
    }

    /// The lower of port `key` is gone from its namespace. If it moved
    /// (`moved_to` is where it went), the port follows it there; if it was
    /// deleted, its children are deleted too.
    pub(crate) fn lower_gone(&self, key: u32, moved_to: Option<(NetNs, u32)>) -> Result<()> {
        let mut g = self.lock();
        if !g.lowers.contains_key(&key) {
            return Ok(());
        }
        match moved_to {
            Some((ns, ifindex)) => Self::rehome_lower(&mut g, key, ns, ifindex),
            None => {
                let keys: Vec<Key> = g.children.keys().filter(|k| k.0 == key).copied().collect();
                let lower = g.lowers[&key].name.clone();
                for k in keys {
                    let name = g.read_port(key).name(k.1);
                    tracing::info!("{name}: its lower {lower} is gone: deleting the child");
                    let _ = Self::delete_locked(&mut g, k);
                }
                g.stop_lower(key);
                g.save()
            }
        }
    }

    fn rehome_lower(g: &mut Inner, key: u32, ns: NetNs, ifindex: u32) -> Result<()> {
        let name = g.lowers[&key].name.clone();
        // A device's tc hooks do not move with it: install them again there.
        let clsact_ours = !has_clsact(&ns, ifindex);
        let looped = install_loopback(&ns, ifindex, &name);
        let (ctl, socks) = lower_sockets(&ns, ifindex, key, &g.opts, looped)
            .and_then(|r| r.map_err(Error::io("re-opening the lower's sockets after a move")))
            .inspect_err(|_| remove_loopback(&ns, ifindex, looped))?;
        {
            let l = g.lowers.get_mut(&key).expect("live lower");
            l.ns_arg = ns_name(&ns);
            l.netns = ns;
            l.ifindex = ifindex;
            l.ctl = ctl;
            l.promisc = false;
            l.isolation = Isolation::default();
            l.looped = looped;
            l.clsact_ours = clsact_ours;
            for (w, (s, sender)) in l.workers.iter().zip(socks) {
                w.send(Ctl::Socket(s, sender));
            }
        }
        let keys: Vec<Key> = g.children.keys().filter(|k| k.0 == key).copied().collect();
        for k in keys {
            g.sync_filters(key, None, k);
        }
        // Saved with each child: the lower's namespace.
        g.dirty_port(key);
        g.isolate(key);
        if let Ok(link) = Netlink::open_in(&g.lowers[&key].netns)?.link(ifindex) {
            Self::lower_changed(g, key, &link)?;
        }
        Ok(())
    }

    /// Brings the engine in line with what exists: every lower is looked at
    /// again (changed, moved or deleted), and children whose TAP is gone
    /// (deleted by someone, or with its namespace) are forgotten.
    pub fn reconcile(&self) -> Result<()> {
        {
            let mut g = self.lock();
            Self::serve_pending(&mut g)?;
            // The children first: one moved by `ip` lives where its TAP is now.
            let ports: Vec<u32> = g.lowers.keys().copied().collect();
            for lower in ports {
                Self::follow_port(&mut g, lower, None);
            }
            let gone: Vec<u32> = g
                .lowers
                .iter()
                .filter(|(_, l)| ns_deleted(&l.netns, &l.ns_arg))
                .map(|(k, _)| *k)
                .collect();
            let orphans: Vec<Key> = g
                .children
                .iter()
                .filter(|(k, c)| !gone.contains(&k.0) && ns_deleted(&c.netns, &c.ns_arg))
                .map(|(k, _)| *k)
                .collect();
            for k in orphans {
                let name = g.read_port(k.0).name(k.1);
                let ns = g.children[&k].ns_arg.clone().unwrap_or_default();
                tracing::info!("{name}: its namespace {ns} was deleted: deleting the child");
                Self::delete_locked(&mut g, k)?;
            }
            for key in &gone {
                let l = &g.lowers[key];
                tracing::info!(
                    "{}: its namespace {} was deleted: its children go with it",
                    l.name,
                    l.ns_arg.clone().unwrap_or_default()
                );
            }
            drop(g);
            for key in gone {
                self.lower_gone(key, None)?;
            }
        }
        for (key, ns, ifindex, mac) in self.lowers() {
            let found = Netlink::open_in(&ns)?.link(ifindex);
            match found {
                Ok(link) => {
                    let mut g = self.lock();
                    if g.lowers.contains_key(&key) {
                        Self::lower_changed(&mut g, key, &link)?;
                    }
                }
                Err(e) if e.is_no_device() => {
                    let to = self.find_moved(mac, None);
                    self.lower_gone(key, to)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut g = self.lock();
        let dead: Vec<Key> = g
            .children
            .iter()
            .filter(|(_, c)| c.ctl.current_name().is_err())
            .map(|(k, _)| *k)
            .collect();
        for k in dead {
            tracing::info!(
                "{}: its TAP was deleted: forgetting the child",
                g.read_port(k.0).name(k.1)
            );
            let passthru = g.read_port(k.0).is_passthru();
            let before = g.read_port(k.0).info(k.1)?;
            let deleted = g.write_port(k.0).delete(k.1)?;
            g.sync_filters_gone(k.0, before.mac, before.up && !passthru);
            g.broadcast(k.0, || Ctl::RemoveTap(k.1));
            if let Some(c) = g.children.remove(&k) {
                g.forgotten.push(c.file);
            }
            if deleted.port_empty {
                g.stop_lower(k.0);
            } else {
                g.isolate(k.0);
            }
        }
        g.save()
    }

    /// Where a moved lower went: a device with its MAC (and the new index,
    /// when the kernel said it) in one of the candidate namespaces.
    pub(crate) fn find_moved(&self, mac: MacAddr, new_index: Option<u32>) -> Option<(NetNs, u32)> {
        for ns in self.candidate_namespaces() {
            let Ok(mut nl) = Netlink::open_in(&ns) else {
                continue;
            };
            let Ok(links) = nl.links() else { continue };
            let found = links.iter().find(|l| {
                // A child may carry the lower's MAC (passthru, or chosen): not the lower.
                l.address == Some(mac)
                    && new_index.is_none_or(|i| i == l.index)
                    && !self.is_child(&DevSpec {
                        netns: Some(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&ns))),
                        name: l.name.clone(),
                    })
            });
            if let Some(l) = found {
                return Some((ns, l.index));
            }
        }
        None
    }

    /// The namespaces and interface indexes of the lowers, by port key
    /// (what the monitor watches).
    pub(crate) fn lowers(&self) -> Vec<(u32, NetNs, u32, MacAddr)> {
        let g = self.lock();
        g.lowers
            .iter()
            .map(|(&k, l)| (k, l.netns.clone(), l.ifindex, g.read_port(k).lower().mac))
            .collect()
    }

    /// Namespaces where a moved lower may have gone: those under
    /// `/run/netns` and those of the children.
    pub(crate) fn candidate_namespaces(&self) -> Vec<NetNs> {
        let mut v: Vec<NetNs> = Vec::new();
        if let Ok(dir) = std::fs::read_dir("/run/netns") {
            for e in dir.flatten() {
                if let Ok(ns) = NetNs::from_name(&e.file_name().to_string_lossy()) {
                    v.push(ns);
                }
            }
        }
        if let Ok(ns) = NetNs::current() {
            v.push(ns);
        }
        for c in self.lock().children.values() {
            v.push(c.netns.clone());
        }
        v
    }

    /// Counters of the lower of each port (drops on the receive side).
    pub fn lower_stats(&self) -> Vec<(String, crate::counters::CounterSnapshot)> {
        self.lock()
            .lowers
            .values()
            .map(|l| (l.name.clone(), l.shared.lower.snapshot()))
            .collect()
    }

    /// Stops every forwarding thread. The children (persistent TAPs) stay,
    /// with their addresses and routes, for the next start.
    pub fn shutdown(&self) {
        let mut g = self.lock();
        let keys: Vec<u32> = g.lowers.keys().copied().collect();
        for k in keys {
            g.stop_lower(k);
        }
        g.children.clear();
    }
}

impl Inner {
    /// A deleted child's unicast membership goes; promiscuity ends with
    /// the last child. `had_membership`: it was up and not passthru.
    fn sync_filters_gone(&mut self, lower: u32, mac: MacAddr, had_membership: bool) {
        if let Some(l) = self.lowers.get_mut(&lower) {
            if had_membership {
                let _ = l.ctl.drop_unicast(mac);
            }
            if l.promisc && !self.children.keys().any(|k| k.0 == lower) {
                let _ = l.ctl.set_promisc(false);
                l.promisc = false;
            }
        }
    }
}
