//! `hostAccess`: the host and its macvlan containers reach each other.
//!
//! A macvlan never passes frames between its children and the master's
//! own stack, so the host cannot reach its containers through the master.
//! The usual fix is a "shim": one more bridge-mode macvlan on the same
//! master, in the host's namespace, and a host route (`/32`, `/128`) to
//! each container address through it. Bridge-mode siblings reach each
//! other inside the port, so host ↔ container traffic goes shim ↔ child.
//! Over IPv6 the shim also answers neighbour solicitations for the host's
//! addresses on the master, as a neighbour proxy (proxy NDP).
//!
//! One shim per master (named `mvlshim<master ifindex>`), shared by every
//! container on that master with `hostAccess`, removed with the last one.
//! Who uses it is kept in a small JSON file per master in the state
//! directory (`stateDir` in the configuration, else `$MVL_CNI_STATE_DIR`,
//! else `/var/lib/mvl-cni`), guarded by an exclusive `flock` on
//! `STATE/lock`. The file holds the set of attachments (network,
//! container ID, ifname, addresses), so a repeated DEL cannot count twice;
//! it also holds the boot ID, so files from before a reboot are ignored.

use std::fs::{self, File, OpenOptions};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mvl_core::Mode;
use mvl_netlink::{Link, LinkRef, NetNs, Netlink, NewMacvlanLink};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::config::{Attachment, Conf};
use crate::error::{Error, Result};
use crate::net;

/// Where state lives when neither the configuration nor the environment says.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/mvl-cni";
/// The environment variable naming the state directory (used by tests).
pub const STATE_DIR_ENV: &str = "MVL_CNI_STATE_DIR";

/// How long to wait for another invocation holding the state lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The state directory for `conf`.
pub fn state_dir(conf: &Conf) -> PathBuf {
    conf.state_dir
        .clone()
        .or_else(|| {
            std::env::var_os(STATE_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
}

/// The shim's name for a master.
pub fn shim_name(master_index: u32) -> String {
    let n = format!("mvlshim{master_index}");
    if n.len() <= 15 {
        n
    } else {
        format!("mvls{master_index:x}")
    }
}

/// One container using a shim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    network: String,
    container_id: String,
    ifname: String,
    addresses: Vec<IpAddr>,
}

/// The users of one shim.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShimState {
    boot_id: String,
    netns: String,
    master_index: u32,
    master: String,
    shim: String,
    attachments: Vec<Entry>,
}

fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn state_err(what: &str, p: &Path, e: impl std::fmt::Display) -> Error {
    Error::State(format!("hostAccess state: {what} {}: {e}", p.display()))
}

/// The state directory, locked for the lifetime of the value.
struct Locked {
    dir: PathBuf,
    _lock: Flock<File>,
}

impl Locked {
    fn open(dir: &Path) -> Result<Locked> {
        fs::create_dir_all(dir).map_err(|e| state_err("cannot create", dir, e))?;
        let lp = dir.join("lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lp)
            .map_err(|e| state_err("cannot open", &lp, e))?;
        let start = Instant::now();
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(l) => {
                    return Ok(Locked {
                        dir: dir.to_path_buf(),
                        _lock: l,
                    })
                }
                Err((f, nix::errno::Errno::EWOULDBLOCK)) if start.elapsed() < LOCK_WAIT => {
                    file = f;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                    return Err(Error::TryAgain(format!(
                        "hostAccess state {} is locked by another invocation for more than {} s",
                        lp.display(),
                        LOCK_WAIT.as_secs()
                    )))
                }
                Err((_, e)) => return Err(state_err("cannot lock", &lp, e)),
            }
        }
    }

    fn path(&self, ns_id: &str, master_index: u32) -> PathBuf {
        let ino: String = ns_id.chars().filter(char::is_ascii_digit).collect();
        self.dir.join(format!("shim-{ino}-{master_index}.json"))
    }

    /// Every state file of namespace `ns_id` from this boot, with its path.
    fn all(&self, ns_id: &str) -> Result<Vec<(PathBuf, ShimState)>> {
        let mut out = Vec::new();
        let rd = fs::read_dir(&self.dir).map_err(|e| state_err("cannot read", &self.dir, e))?;
        let boot = boot_id();
        for ent in rd.flatten() {
            let p = ent.path();
            let is_state = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("shim-") && n.ends_with(".json"));
            if !is_state {
                continue;
            }
            if let Some(s) = read_state(&p)? {
                if s.boot_id != boot {
                    // From before a reboot: its links are gone.
                    let _ = fs::remove_file(&p);
                } else if s.netns == ns_id {
                    out.push((p, s));
                }
            }
        }
        Ok(out)
    }
}

fn read_state(p: &Path) -> Result<Option<ShimState>> {
    match fs::read(p) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| state_err("cannot parse", p, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(state_err("cannot read", p, e)),
    }
}

fn write_state(p: &Path, s: &ShimState) -> Result<()> {
    let tmp = p.with_extension("tmp");
    let data = serde_json::to_vec_pretty(s).map_err(|e| state_err("cannot encode", p, e))?;
    fs::write(&tmp, data).map_err(|e| state_err("cannot write", &tmp, e))?;
    fs::rename(&tmp, p).map_err(|e| state_err("cannot write", p, e))
}

/// The shim of `master` if it exists and is one: a bridge-mode macvlan on it.
fn find_shim(nl: &mut Netlink, name: &str, master: u32) -> Result<Option<Link>> {
    match nl.link(name) {
        Ok(l) => {
            let ours = l.is_macvlan()
                && l.link == Some(master)
                && l.macvlan.as_ref().and_then(|m| m.mode) == Some(Mode::Bridge);
            if ours {
                Ok(Some(l))
            } else {
                Err(Error::State(format!(
                    "hostAccess: a device named {name} exists but is not a bridge-mode macvlan on the master: rename or remove it"
                )))
            }
        }
        Err(e) if e.is_no_device() => Ok(None),
        Err(e) => Err(Error::kernel(e)),
    }
}

/// Records the attachment and makes sure the shim and the host routes to
/// `addresses` exist; returns the shim's name.
pub fn attach(
    conf: &Conf,
    nl: &mut Netlink,
    host: &NetNs,
    master: &Link,
    inv_id: (&str, &str),
    addresses: &[IpAddr],
) -> Result<String> {
    let locked = Locked::open(&state_dir(conf))?;
    let ns_id = host.id().to_string();
    let path = locked.path(&ns_id, master.index);
    let boot = boot_id();
    let mut state = match read_state(&path)? {
        Some(s) if s.boot_id == boot => s,
        _ => ShimState {
            boot_id: boot,
            netns: ns_id,
            master_index: master.index,
            master: master.name.clone(),
            shim: shim_name(master.index),
            attachments: Vec::new(),
        },
    };
    let (shim, created) = match find_shim(nl, &state.shim, master.index)? {
        Some(l) => (l, false),
        None => {
            nl.create_macvlan(
                &NewMacvlanLink::new(state.shim.clone(), LinkRef::Index(master.index)).mode(Mode::Bridge),
            )
            .map_err(Error::kernel)?;
            (nl.link(state.shim.as_str()).map_err(Error::kernel)?, true)
        }
    };
    let v6 = addresses.iter().any(IpAddr::is_ipv6);
    let prepared = if v6 { prepare_v6(host, &state.shim) } else { Ok(()) };
    let up = prepared.and_then(|()| {
        if shim.is_up() {
            Ok(())
        } else {
            nl.set_up(shim.index, true).map_err(Error::kernel)
        }
    });
    if let Err(e) = up {
        // No state file names a shim made here yet: take it back.
        if created {
            let _ = nl.delete_link(shim.index);
        }
        return Err(e);
    }
    let (cid, ifname) = inv_id;
    state
        .attachments
        .retain(|e| !(e.network == conf.name && e.container_id == cid && e.ifname == ifname));
    state.attachments.push(Entry {
        network: conf.name.clone(),
        container_id: cid.to_string(),
        ifname: ifname.to_string(),
        addresses: addresses.to_vec(),
    });
    // Recorded before the routes, so a failure below is undone by detach.
    write_state(&path, &state)?;
    for a in addresses {
        net::replace_host_route(nl, shim.index, &state.shim, *a)?;
    }
    if v6 {
        for a in host_v6(nl, master)? {
            net::add_ndp_proxy(nl, shim.index, &state.shim, a)?;
        }
    }
    Ok(state.shim)
}

/// The shim's IPv6 settings. Linux answers an ARP request on any
/// interface, for any of the host's addresses, but a neighbour
/// solicitation only on the interface that holds the target. The host's
/// IPv6 addresses sit on the master, where a macvlan's frames never arrive,
/// so the shim answers for them as a neighbour proxy (which Linux does only
/// on an interface with forwarding on), at once (`proxy_delay` 0, not a
/// random wait of up to 0.8 s), with a link-local address that is usable
/// at once (no duplicate address detection on the shim).
fn prepare_v6(host: &NetNs, shim: &str) -> Result<()> {
    let writes = [
        (format!("net/ipv6/conf/{shim}/disable_ipv6"), "0"),
        (format!("net/ipv6/conf/{shim}/accept_dad"), "0"),
        (format!("net/ipv6/conf/{shim}/forwarding"), "1"),
        (format!("net/ipv6/conf/{shim}/proxy_ndp"), "1"),
        (format!("net/ipv6/neigh/{shim}/proxy_delay"), "0"),
    ];
    match net::write_sysctls(host, &writes)?.into_iter().next() {
        None => Ok(()),
        Some((path, e)) => Err(Error::System(format!(
            "hostAccess over IPv6: {path}: {e} (the shim {shim} must answer neighbour solicitations for the host)"
        ))),
    }
}

/// The host's IPv6 addresses on the master that containers reach through
/// the shim: all but link-local ones.
fn host_v6(nl: &mut Netlink, master: &Link) -> Result<Vec<std::net::Ipv6Addr>> {
    Ok(net::addresses(nl, master.index)?
        .into_iter()
        .filter_map(|a| match a.net.addr() {
            IpAddr::V6(x) if x.segments()[0] & 0xffc0 != 0xfe80 => Some(x),
            _ => None,
        })
        .collect())
}

/// Drops the attachments of `network` that `keep` refuses, deleting their
/// host routes, and each shim left without users.
fn drop_where(
    conf: &Conf,
    nl: &mut Netlink,
    host: &NetNs,
    mut gone: impl FnMut(&Entry) -> bool,
) -> Result<()> {
    let locked = Locked::open(&state_dir(conf))?;
    let mut errors = Vec::new();
    for (path, mut state) in locked.all(host.id())? {
        let (drop, keep): (Vec<Entry>, Vec<Entry>) = state
            .attachments
            .drain(..)
            .partition(|e| e.network == conf.name && gone(e));
        if drop.is_empty() {
            continue;
        }
        state.attachments = keep;
        let shim = match nl.link(state.shim.as_str()) {
            Ok(l) if l.is_macvlan() && l.link == Some(state.master_index) => Some(l),
            _ => None,
        };
        if let Some(shim) = &shim {
            if state.attachments.is_empty() {
                if let Err(e) = crate::cmd::delete_link(nl, shim) {
                    errors.push(e);
                }
            } else {
                for a in drop.iter().flat_map(|e| e.addresses.iter()) {
                    if let Err(e) = net::del_host_route(nl, shim.index, *a) {
                        errors.push(e);
                    }
                }
            }
        }
        let r = if state.attachments.is_empty() {
            fs::remove_file(&path).map_err(|e| state_err("cannot remove", &path, e))
        } else {
            write_state(&path, &state)
        };
        if let Err(e) = r {
            errors.push(e);
        }
    }
    crate::error::collect(errors)
}

/// DEL: forgets the attachment; the last user takes the shim with it.
pub fn detach(conf: &Conf, nl: &mut Netlink, host: &NetNs, container_id: &str, ifname: &str) -> Result<()> {
    drop_where(conf, nl, host, |e| {
        e.container_id == container_id && e.ifname == ifname
    })
}

/// GC: forgets every attachment of the network not in `valid`.
pub fn gc(conf: &Conf, nl: &mut Netlink, host: &NetNs, valid: &[Attachment]) -> Result<()> {
    drop_where(conf, nl, host, |e| {
        !valid
            .iter()
            .any(|v| v.container_id == e.container_id && v.ifname == e.ifname)
    })
}

/// CHECK: the attachment is recorded, the shim is up, the host routes exist.
pub fn check(
    conf: &Conf,
    nl: &mut Netlink,
    host: &NetNs,
    master: &Link,
    inv_id: (&str, &str),
    addresses: &[IpAddr],
) -> Result<()> {
    let locked = Locked::open(&state_dir(conf))?;
    let path = locked.path(host.id(), master.index);
    let (cid, ifname) = inv_id;
    let state = read_state(&path)?.filter(|s| s.boot_id == boot_id());
    let recorded = state.as_ref().is_some_and(|s| {
        s.attachments
            .iter()
            .any(|e| e.network == conf.name && e.container_id == cid && e.ifname == ifname)
    });
    if !recorded {
        return Err(Error::Check(format!(
            "hostAccess: no record of {cid}/{ifname} in {}",
            path.display()
        )));
    }
    let name = shim_name(master.index);
    let shim = find_shim(nl, &name, master.index)?.ok_or_else(|| {
        Error::Check(format!(
            "hostAccess: the shim {name} on {} is missing",
            master.name
        ))
    })?;
    if !shim.is_up() {
        return Err(Error::Check(format!("hostAccess: the shim {name} is down")));
    }
    if addresses.iter().any(IpAddr::is_ipv6) {
        let proxied = net::ndp_proxies(nl, shim.index)?;
        if let Some(a) = host_v6(nl, master)?.into_iter().find(|a| !proxied.contains(a)) {
            return Err(Error::Check(format!(
                "hostAccess: the shim {name} does not answer neighbour solicitations for the host's address {a} on {}",
                master.name
            )));
        }
    }
    let routes = if addresses.is_empty() {
        Vec::new()
    } else {
        net::routes(nl)?
    };
    for a in addresses {
        let host_route = crate::result::IpNet::from(*a);
        let found = routes
            .iter()
            .any(|r| r.destination == host_route && r.oif == Some(shim.index));
        if !found {
            return Err(Error::Check(format!(
                "hostAccess: the host route {host_route} dev {name} is missing"
            )));
        }
    }
    Ok(())
}

/// STATUS: the state directory can be created and locked.
pub fn usable(conf: &Conf) -> Result<()> {
    Locked::open(&state_dir(conf)).map(drop)
}
