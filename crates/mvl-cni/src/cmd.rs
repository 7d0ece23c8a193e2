//! The commands: ADD, DEL, CHECK, STATUS, GC, VERSION.

use std::net::IpAddr;
use std::time::Duration;

use mvl_core::{MacaddrOp, Mode};
use mvl_netlink::{Link, LinkChange, LinkRef, NetNs, Netlink, NewMacvlanLink};
use serde_json::{json, Value};

use crate::config::{Conf, Settings};
use crate::env::{Command, Invocation};
use crate::error::{collect, Error, Result};
use crate::hostaccess;
use crate::ipam::{Ipam, Running};
use crate::net;
use crate::result::{is_v4, CniResult, Interface, IpConfig};
use crate::version::Version;

/// How many random temporary names are tried before giving up (code 11).
const NAME_TRIES: usize = 3;

/// How long IPv6 addresses may stay tentative before routes are added.
const DAD_SETTLE: Duration = Duration::from_secs(5);

/// Runs one invocation: the JSON to print on success (`None` for commands
/// that print nothing).
pub fn run(inv: &Invocation, stdin: &[u8]) -> Result<Option<Value>> {
    if inv.command == Command::Version {
        return Ok(Some(version_reply(stdin)));
    }
    let conf = Conf::parse(stdin)?;
    let v = conf.version();
    let need = |min: Version, what: &str| {
        if v < min {
            Err(Error::IncompatibleVersion(format!(
                "config version {v} does not allow {what} (it needs {min} or later)"
            )))
        } else {
            Ok(())
        }
    };
    match inv.command {
        Command::Add => add(inv, &conf, stdin).map(Some),
        Command::Del => del(inv, &conf, stdin).map(|()| None),
        Command::Check => {
            need(Version::V0_4_0, "CHECK")?;
            check(inv, &conf, stdin).map(|()| None)
        }
        Command::Status => {
            need(Version::V1_1_0, "STATUS")?;
            status(inv, &conf, stdin).map(|()| None)
        }
        Command::Gc => {
            need(Version::V1_1_0, "GC")?;
            gc(inv, &conf, stdin).map(|()| None)
        }
        Command::Version => unreachable!("answered above"),
    }
}

fn version_reply(stdin: &[u8]) -> Value {
    let asked = serde_json::from_slice::<Value>(stdin)
        .ok()
        .and_then(|v| v.get("cniVersion").and_then(Value::as_str).map(String::from))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| Version::LATEST.as_str().to_string());
    json!({ "cniVersion": asked, "supportedVersions": Version::all_strings() })
}

/// Deletes a link when dropped, unless disarmed: the rollback of ADD.
struct LinkGuard {
    ns: NetNs,
    index: u32,
    armed: bool,
}

impl Drop for LinkGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let r = Netlink::open_in(&self.ns).and_then(|mut nl| nl.delete_link(self.index));
        match r {
            Err(e) if !e.is_no_device() => {
                eprintln!("mvl-cni: rollback: deleting link {} failed: {e}", self.index)
            }
            _ => {}
        }
    }
}

/// An IPAM allocation in progress or held: released (IPAM DEL, after the
/// ADD finished) when dropped, unless kept.
struct Lease<'a> {
    ipam: &'a Ipam,
    running: Option<Running<'a>>,
    armed: bool,
}

impl<'a> Lease<'a> {
    fn start(ipam: &'a Ipam) -> Result<Lease<'a>> {
        Ok(Lease {
            ipam,
            running: Some(ipam.start(Command::Add)?),
            armed: true,
        })
    }

    fn result(&mut self) -> Result<CniResult> {
        let out = match self.running.take() {
            Some(r) => r.finish()?,
            None => return Err(Error::Ipam("IPAM ADD was already collected".into())),
        };
        self.ipam.parse_result(&out)
    }

    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(r) = self.running.take() {
            let _ = r.finish();
        }
        if let Err(e) = self.ipam.run(Command::Del) {
            eprintln!("mvl-cni: rollback: releasing the IPAM allocation failed: {e}");
        }
    }
}

/// Undoes a `hostAccess` attachment when dropped, unless disarmed.
struct HostGuard<'a> {
    conf: &'a Conf,
    host: NetNs,
    id: (String, String),
    armed: bool,
}

impl Drop for HostGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let r = Netlink::open_in(&self.host)
            .map_err(Error::kernel)
            .and_then(|mut nl| hostaccess::detach(self.conf, &mut nl, &self.host, &self.id.0, &self.id.1));
        if let Err(e) = r {
            eprintln!("mvl-cni: rollback: hostAccess: {e}");
        }
    }
}

fn no_prev(conf: &Conf) -> Result<Option<CniResult>> {
    conf.prev_result
        .as_ref()
        .map(|v| CniResult::from_json(v).map_err(|e| Error::Decode(format!("prevResult: {e}"))))
        .transpose()
}

/// Opens the container's namespace and refuses the plugin's own.
fn container_ns(inv: &Invocation) -> Result<NetNs> {
    let ns = net::open_netns(&inv.netns)?.with_label(format!("the container namespace {}", inv.netns));
    let own = NetNs::current().map_err(|e| Error::Netns(e.to_string()))?;
    if ns.same_as(&own) && !inv.netns_override {
        return Err(Error::Env(format!(
            "CNI_NETNS {} is the plugin's own network namespace (set CNI_NETNS_OVERRIDE=1 if that is meant)",
            inv.netns
        )));
    }
    Ok(ns)
}

fn open_in(ns: &NetNs) -> Result<Netlink> {
    Netlink::open_in(ns).map_err(|e| Error::Netns(e.to_string()))
}

/// How errors name the attachment: the user's objects, not ours.
fn attachment(inv: &Invocation) -> String {
    format!("{} of container {}", inv.ifname, inv.container_id)
}

/// Which side of the passthru rule a new macvlan is on. The names are
/// `None` for macvlans in other namespaces, which only the kernel sees.
enum PassthruClash<'a> {
    /// The master has a passthru macvlan (named).
    MasterHasOne(Option<&'a str>),
    /// The new macvlan is passthru, and the master has these.
    MasterNotEmpty(Option<&'a str>),
}

fn passthru_conflict(inv: &Invocation, master: &Link, clash: PassthruClash) -> Error {
    const RULE: &str = "a passthru macvlan must be the only macvlan on its master";
    let what = match clash {
        PassthruClash::MasterHasOne(child) => format!(
            "cannot add {} on master {}: the master has {}, and {RULE}",
            attachment(inv),
            master.name,
            child.map_or("a passthru macvlan (in another network namespace)".into(), |c| {
                format!("the passthru macvlan {c}")
            })
        ),
        PassthruClash::MasterNotEmpty(others) => format!(
            "cannot add {} in mode passthru on master {}: the master already has {}, and {RULE}",
            attachment(inv),
            master.name,
            others.map_or("a macvlan (in another network namespace)".into(), |o| {
                format!("the macvlan(s) {o}")
            })
        ),
    };
    Error::Conflict(what)
}

/// The passthru rule, checked against the macvlans visible in the
/// master's namespace before anything is made (those in containers'
/// namespaces are not visible: the kernel's refusal covers them, see
/// [`passthru_refusal`]).
fn check_passthru(mnl: &mut Netlink, s: &Settings, master: &Link, inv: &Invocation) -> Result<()> {
    let children: Vec<Link> = mnl
        .links()
        .map_err(Error::kernel)?
        .into_iter()
        .filter(|l| l.is_macvlan() && l.link == Some(master.index) && l.link_netnsid.is_none())
        .collect();
    if let Some(p) = children
        .iter()
        .find(|c| c.macvlan.as_ref().and_then(|m| m.mode) == Some(Mode::Passthru))
    {
        return Err(passthru_conflict(
            inv,
            master,
            PassthruClash::MasterHasOne(Some(&p.name)),
        ));
    }
    if s.mode == Mode::Passthru && !children.is_empty() {
        let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
        return Err(passthru_conflict(
            inv,
            master,
            PassthruClash::MasterNotEmpty(Some(&names.join(", "))),
        ));
    }
    Ok(())
}

/// The kernel's refusal to create a macvlan, when the passthru rule is
/// its reason: named by mvl-netlink, or a bare EINVAL once everything else
/// was checked (the other macvlan is in a namespace we cannot see).
fn passthru_refusal(e: &mvl_netlink::Error, s: &Settings, master: &Link, inv: &Invocation) -> Option<Error> {
    use mvl_netlink::Cause;
    match e.cause()? {
        Cause::Rule(mvl_core::Error::PassthruPortFull { child, .. }) => Some(passthru_conflict(
            inv,
            master,
            PassthruClash::MasterHasOne(Some(child)),
        )),
        Cause::Rule(mvl_core::Error::PassthruNeedsEmptyLower { children, .. }) => Some(passthru_conflict(
            inv,
            master,
            PassthruClash::MasterNotEmpty(Some(children)),
        )),
        Cause::Unexplained if e.errno() == Some(libc::EINVAL) => Some(if s.mode == Mode::Passthru {
            passthru_conflict(inv, master, PassthruClash::MasterNotEmpty(None))
        } else {
            passthru_conflict(inv, master, PassthruClash::MasterHasOne(None))
        }),
        _ => None,
    }
}

/// Creates the macvlan under a random temporary name; returns the name.
fn create(
    mnl: &mut Netlink,
    s: &Settings,
    master: &Link,
    target: Option<&NetNs>,
    inv: &Invocation,
) -> Result<String> {
    for _ in 0..NAME_TRIES {
        // "veth" keeps NetworkManager's hands off, as the reference does.
        let tmp = format!("veth{}", net::random_hex(8));
        let mut req = NewMacvlanLink::new(tmp.clone(), LinkRef::Index(master.index)).mode(s.mode);
        if s.flags != mvl_core::Flags::NONE {
            req = req.flags(s.flags);
        }
        if s.mode == Mode::Source && !s.source_macs.is_empty() {
            req = req.macaddr(MacaddrOp::Set(s.source_macs.clone()));
        }
        if let Some(n) = s.bc_queue_len {
            req = req.bc_queue_len(n);
        }
        if let Some(n) = s.bc_cutoff {
            req = req.bc_cutoff(n);
        }
        if let Some((mac, _)) = s.mac {
            req = req.address(mac);
        }
        if s.mtu != 0 {
            req = req.mtu(s.mtu);
        }
        if let Some(ns) = target {
            req = req.netns(ns.clone());
        }
        match mnl.create_macvlan(&req) {
            Ok(()) => return Ok(tmp),
            Err(e) if e.errno() == Some(libc::EEXIST) => continue,
            Err(e) if e.is_no_device() => {
                return Err(Error::Master(format!("master {} disappeared: {e}", master.name)))
            }
            Err(e) => return Err(passthru_refusal(&e, s, master, inv).unwrap_or_else(|| Error::kernel(e))),
        }
    }
    Err(Error::TryAgain(format!(
        "no free temporary interface name after {NAME_TRIES} tries"
    )))
}

fn sysctl_writes(ifname: &str, v6: bool) -> Vec<(String, &'static str)> {
    let mut w = vec![
        (format!("net/ipv4/conf/{ifname}/arp_notify"), "1"),
        (format!("net/ipv6/conf/{ifname}/ndisc_notify"), "1"),
    ];
    if v6 {
        w.push(("net/ipv6/conf/lo/disable_ipv6".into(), "0"));
        w.push((format!("net/ipv6/conf/{ifname}/disable_ipv6"), "0"));
        w.push((format!("net/ipv6/conf/{ifname}/keep_addr_on_down"), "1"));
    }
    w
}

fn add(inv: &Invocation, conf: &Conf, stdin: &[u8]) -> Result<Value> {
    let s = conf.validate(inv)?;
    let version = conf.version();
    if !version.has_interfaces() && conf.ipam_type.is_none() {
        return Err(Error::IncompatibleVersion(format!(
            "an attachment without IPAM (L2 only) needs cniVersion 0.3.0 or later: a {version} result cannot describe it"
        )));
    }
    let prev = no_prev(conf)?;
    let cns = container_ns(inv)?;
    let mut cnl = open_in(&cns)?;
    match cnl.link(inv.ifname.as_str()) {
        Ok(_) => {
            return Err(Error::IfNameTaken(format!(
                "an interface named {} already exists in {}",
                inv.ifname, inv.netns
            )))
        }
        Err(e) if e.is_no_device() => {}
        Err(e) => return Err(Error::kernel(e)),
    }
    let host = NetNs::current().map_err(|e| Error::Netns(e.to_string()))?;
    let in_container = conf.link_in_container;
    let mut hnl = if in_container {
        None
    } else {
        Some(Netlink::open().map_err(Error::kernel)?)
    };
    let mnl = match hnl.as_mut() {
        Some(h) => h,
        None => &mut cnl,
    };
    let master = net::resolve_master(mnl, &s.master)?;
    s.check_mtu(&master.name, master.mtu.unwrap_or(u32::MAX))?;
    if let Some((mac, from)) = s.mac {
        if master.address == Some(mac) && s.mode != Mode::Passthru {
            return Err(Error::InvalidConfig(format!(
                "invalid MAC {mac} from {from}: it is the address of master {} (only mode passthru may share it)",
                master.name
            )));
        }
    }

    if s.mode == Mode::Passthru {
        check_passthru(mnl, &s, &master, inv)?;
    }

    // IPAM runs while the link is made; the lease is released on any
    // failure from here on.
    let ipam = match &conf.ipam_type {
        Some(t) => Some(Ipam::find(t, &inv.path, stdin, version)?),
        None => None,
    };
    let mut lease = ipam.as_ref().map(Lease::start).transpose()?;

    let tmp = create(mnl, &s, &master, (!in_container).then_some(&cns), inv)?;
    let link = match cnl.link(tmp.as_str()) {
        Ok(l) => l,
        Err(e) => {
            // The lookup failed, not the creation: delete by name, so it cannot leak.
            let _ = cnl.delete_link(tmp.as_str());
            return Err(Error::kernel(e));
        }
    };
    let mut guard = LinkGuard {
        ns: cns.clone(),
        index: link.index,
        armed: true,
    };
    let index = link.index;
    let rename = LinkChange {
        name: Some(inv.ifname.clone()),
        ..Default::default()
    };
    cnl.set_link(index, &rename).map_err(|e| match e.errno() {
        Some(libc::EEXIST) => Error::IfNameTaken(format!(
            "an interface named {} already exists in {}",
            inv.ifname, inv.netns
        )),
        _ => Error::kernel(e),
    })?;

    let ipam_result = match lease.as_mut() {
        Some(l) => {
            let r = l.result()?;
            if r.ips.is_empty() {
                return Err(Error::Ipam(format!(
                    "IPAM plugin {} returned no IP addresses",
                    ipam.as_ref().map_or("", |i| i.kind.as_str())
                )));
            }
            Some(r)
        }
        None => None,
    };
    let has_v6 = ipam_result
        .as_ref()
        .is_some_and(|r| r.ips.iter().any(|i| !is_v4(&i.address)));
    for (path, e) in net::write_sysctls(&cns, &sysctl_writes(&inv.ifname, has_v6))? {
        let required = path.contains("disable_ipv6") || path.contains("keep_addr_on_down");
        if required {
            return Err(Error::System(format!(
                "{path}: {e} (needed for the IPv6 addresses from IPAM)"
            )));
        }
        eprintln!("mvl-cni: warning: {path}: {e}");
    }
    let up = |nl: &mut Netlink| {
        nl.set_up(index, true).map_err(|e| match (e.errno(), s.mac) {
            // The kernel checks a macvlan's MAC against its siblings' when
            // it comes up. A chosen MAC stays taken as long as the other
            // interface exists; a random one is new on the next try.
            (Some(libc::EADDRINUSE), Some((mac, from))) => Error::Conflict(format!(
                "cannot bring up {}: its MAC {mac} (from {from}) is already used by another macvlan on master {}, and the macvlans of a master need distinct MACs",
                attachment(inv),
                master.name
            )),
            _ => Error::kernel(e),
        })
    };
    let mut ips = Vec::new();
    let mut routes = Vec::new();
    let mut ipam_dns = Default::default();
    match ipam_result {
        None => up(&mut cnl)?,
        Some(r) => {
            for ip in &r.ips {
                net::add_address(&mut cnl, index, &inv.ifname, &ip.address)?;
            }
            up(&mut cnl)?;
            let gw4 = r.ips.iter().filter(|i| is_v4(&i.address)).find_map(|i| i.gateway);
            let gw6 = r
                .ips
                .iter()
                .filter(|i| !is_v4(&i.address))
                .find_map(|i| i.gateway);
            if gw6.is_some() {
                net::settle_addresses(&mut cnl, index, &inv.ifname, DAD_SETTLE)?;
            }
            for rt in &r.routes {
                let gw = rt.gw.or(if is_v4(&rt.dst) { gw4 } else { gw6 });
                net::add_route(&mut cnl, index, &inv.ifname, rt, gw)?;
            }
            ips = r.ips;
            routes = r.routes;
            ipam_dns = r.dns;
        }
    }

    let mut host_guard = None;
    if conf.host_access {
        let addrs: Vec<IpAddr> = ips.iter().map(|i| i.address.addr()).collect();
        let mut hnl = Netlink::open().map_err(Error::kernel)?;
        host_guard = Some(HostGuard {
            conf,
            host: host.clone(),
            id: (inv.container_id.clone(), inv.ifname.clone()),
            armed: true,
        });
        hostaccess::attach(
            conf,
            &mut hnl,
            &host,
            &master,
            (&inv.container_id, &inv.ifname),
            &addrs,
        )?;
    }

    let final_link = cnl.link(index).map_err(Error::kernel)?;
    let mut result = prev.unwrap_or_default();
    let our = result.interfaces.len();
    result.interfaces.push(Interface {
        name: inv.ifname.clone(),
        mac: final_link.address.map(|m| m.to_string()),
        mtu: final_link.mtu,
        sandbox: Some(inv.netns.clone()),
        ..Default::default()
    });
    result.ips.extend(ips.into_iter().map(|i| IpConfig {
        interface: Some(our),
        ..i
    }));
    result.routes.extend(routes);
    if !conf.dns.is_empty() {
        result.dns = conf.dns.clone();
    } else if result.dns.is_empty() {
        result.dns = ipam_dns;
    }
    let out = result.to_json(version)?;

    guard.armed = false;
    if let Some(mut h) = host_guard {
        h.armed = false;
    }
    if let Some(l) = lease {
        l.keep();
    }
    Ok(out)
}

/// What `CNI_NETNS` is now.
enum NsState {
    Gone,
    Present(NetNs),
}

fn netns_state(path: &str) -> Result<NsState> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(NsState::Gone),
        Err(e) => return Err(Error::Netns(format!("cannot open CNI_NETNS {path}: {e}"))),
    };
    // A namespace file whose bind mount is gone is an ordinary file: the
    // namespace (and the link in it) went with it.
    let on_nsfs = nix::sys::statfs::fstatfs(&f)
        .map(|s| s.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
        .unwrap_or(false);
    if !on_nsfs {
        return Ok(NsState::Gone);
    }
    match NetNs::from_path(path) {
        Ok(ns) => Ok(NsState::Present(
            ns.with_label(format!("the container namespace {path}")),
        )),
        Err(e) => Err(Error::Netns(format!("cannot use CNI_NETNS {path}: {e}"))),
    }
}

/// Deletes `link` and waits for the kernel to unregister it (an RCU grace
/// period, ~16 ms). DEL is synchronous on purpose: when it returns, the
/// name, the MAC, the addresses and (passthru) the master are free for the
/// next ADD, and nothing is left for a background process to finish — a
/// process that could be killed, or outlive the namespace's owner.
pub(crate) fn delete_link(nl: &mut Netlink, link: &Link) -> Result<()> {
    match nl.delete_link(link.index) {
        Ok(()) => Ok(()),
        Err(e) if e.is_no_device() => Ok(()),
        Err(e) => Err(Error::kernel(e)),
    }
}

fn remove_container_link(inv: &Invocation, ns: &NetNs) -> Result<()> {
    let mut nl = open_in(ns)?;
    let link = match nl.link(inv.ifname.as_str()) {
        Ok(l) => l,
        Err(e) if e.is_no_device() => return Ok(()),
        Err(e) => return Err(Error::kernel(e)),
    };
    if !link.is_macvlan() {
        eprintln!(
            "mvl-cni: DEL: {} in {} is a {} device, not a macvlan: left alone",
            inv.ifname,
            inv.netns,
            link.kind.as_deref().unwrap_or("plain")
        );
        return Ok(());
    }
    delete_link(&mut nl, &link)
}

fn del(inv: &Invocation, conf: &Conf, stdin: &[u8]) -> Result<()> {
    let mut errors = Vec::new();
    // IPAM DEL runs while the link goes.
    let ipam = match &conf.ipam_type {
        Some(t) => match Ipam::find(t, &inv.path, stdin, conf.version()) {
            Ok(i) => Some(i),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    let running = match ipam.as_ref().map(|i| i.start(Command::Del)).transpose() {
        Ok(r) => r,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if !inv.netns.is_empty() {
        match netns_state(&inv.netns) {
            Ok(NsState::Gone) => {}
            Ok(NsState::Present(ns)) => {
                if let Err(e) = remove_container_link(inv, &ns) {
                    errors.push(e);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if conf.host_access {
        let r = NetNs::current()
            .map_err(|e| Error::Netns(e.to_string()))
            .and_then(|host| {
                let mut nl = Netlink::open().map_err(Error::kernel)?;
                hostaccess::detach(conf, &mut nl, &host, &inv.container_id, &inv.ifname)
            });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    if let Some(r) = running {
        if let Err(e) = r.finish() {
            errors.push(e);
        }
    }
    collect(errors)
}

fn check(inv: &Invocation, conf: &Conf, stdin: &[u8]) -> Result<()> {
    let s = conf.validate(inv)?;
    let prev = no_prev(conf)?.ok_or_else(|| Error::InvalidConfig("required prevResult missing".into()))?;
    if let Some(t) = &conf.ipam_type {
        Ipam::find(t, &inv.path, stdin, conf.version())?.run(Command::Check)?;
    }
    let (our, iface) = prev
        .interfaces
        .iter()
        .enumerate()
        .find(|(_, i)| i.name == inv.ifname && i.sandbox.as_deref() == Some(inv.netns.as_str()))
        .ok_or_else(|| {
            Error::Check(format!(
                "prevResult has no interface {} in sandbox {}",
                inv.ifname, inv.netns
            ))
        })?;
    let cns = container_ns(inv)?;
    let mut cnl = open_in(&cns)?;
    let mut hnl = if conf.link_in_container {
        None
    } else {
        Some(Netlink::open().map_err(Error::kernel)?)
    };
    let mnl = match hnl.as_mut() {
        Some(h) => h,
        None => &mut cnl,
    };
    let master = net::resolve_master(mnl, &s.master)?;
    let link = match cnl.link(inv.ifname.as_str()) {
        Ok(l) => l,
        Err(e) if e.is_no_device() => {
            return Err(Error::Check(format!(
                "interface {} is missing from {}",
                inv.ifname, inv.netns
            )))
        }
        Err(e) => return Err(Error::kernel(e)),
    };
    let name = &inv.ifname;
    let fail = |what: String| Err(Error::Check(format!("{name}: {what}")));
    let Some(mv) = link.macvlan.as_ref().filter(|_| link.is_macvlan()) else {
        return fail(format!(
            "is a {} device, not a macvlan",
            link.kind.as_deref().unwrap_or("plain")
        ));
    };
    if mv.mode != Some(s.mode) {
        let now = mv.mode.map_or_else(|| mv.raw_mode.to_string(), |m| m.to_string());
        return fail(format!("mode is {now}, the configuration says {}", s.mode));
    }
    if mv.flags != s.flags {
        return fail(format!(
            "macvlan flags are {:#x}, the configuration says {:#x}",
            mv.flags.bits(),
            s.flags.bits()
        ));
    }
    if s.mode == Mode::Source {
        let mut want = s.source_macs.clone();
        let mut have = mv.macaddrs.clone();
        want.sort();
        have.sort();
        if want != have {
            return fail(format!(
                "source MAC list is {have:?}, the configuration says {want:?}"
            ));
        }
    }
    if link.link != Some(master.index) {
        let lower = link
            .link
            .map_or_else(|| "none".to_string(), |i| format!("index {i}"));
        return fail(format!(
            "its lower device is {lower}, not master {} (index {})",
            master.name, master.index
        ));
    }
    let mac = link.address.map(|m| m.to_string()).unwrap_or_default();
    if let Some(want) = &iface.mac {
        if !want.eq_ignore_ascii_case(&mac) {
            return fail(format!("MAC is {mac}, prevResult says {want}"));
        }
    }
    if let Some((want, from)) = s.mac {
        if link.address != Some(want) {
            return fail(format!("MAC is {mac}, {from} says {want}"));
        }
    }
    if s.mtu != 0 && link.mtu != Some(s.mtu) {
        let mtu = link.mtu.map_or_else(|| "unknown".to_string(), |m| m.to_string());
        return fail(format!("MTU is {mtu}, the configuration says {}", s.mtu));
    }
    if !link.is_up() {
        return fail("is down".into());
    }
    let have = net::addresses(&mut cnl, link.index)?;
    let ours: Vec<&IpConfig> = prev
        .ips
        .iter()
        .filter(|i| i.interface.is_none_or(|x| x == our))
        .collect();
    for ip in &ours {
        if !have.iter().any(|a| a.net == ip.address) {
            return fail(format!("address {} from prevResult is missing", ip.address));
        }
    }
    let routes = if prev.routes.is_empty() {
        Vec::new()
    } else {
        net::routes(&mut cnl)?
    };
    for want in &prev.routes {
        let table = want.table.unwrap_or(mvl_netlink::RT_TABLE_MAIN);
        let found = routes.iter().any(|r| {
            r.destination.trunc() == want.dst.trunc()
                && r.table == table
                && want.gw.is_none_or(|g| r.gateway == Some(g))
        });
        if !found {
            let via = want.gw.map(|g| format!(" via {g}")).unwrap_or_default();
            return Err(Error::Check(format!(
                "route {}{via} from prevResult is missing in {}",
                want.dst, inv.netns
            )));
        }
    }
    if conf.host_access {
        let host = NetNs::current().map_err(|e| Error::Netns(e.to_string()))?;
        let mut hnl = Netlink::open().map_err(Error::kernel)?;
        let addrs: Vec<IpAddr> = ours.iter().map(|i| i.address.addr()).collect();
        hostaccess::check(
            conf,
            &mut hnl,
            &host,
            &master,
            (&inv.container_id, &inv.ifname),
            &addrs,
        )?;
    }
    Ok(())
}

fn status(inv: &Invocation, conf: &Conf, stdin: &[u8]) -> Result<()> {
    let s = conf.validate(inv)?;
    if let Some(t) = &conf.ipam_type {
        let ipam = Ipam::find(t, &inv.path, stdin, conf.version())
            .map_err(|e| Error::NotAvailable(format!("cannot service ADD: {e}")))?;
        ipam.run(Command::Status)?;
    }
    // With linkInContainer the master is in a namespace we do not know yet.
    if !conf.link_in_container {
        let mut nl = Netlink::open().map_err(Error::kernel)?;
        net::resolve_master(&mut nl, &s.master)
            .map_err(|e| Error::NotAvailable(format!("cannot service ADD: {e}")))?;
    }
    if conf.host_access {
        hostaccess::usable(conf).map_err(|e| Error::NotAvailable(format!("cannot service ADD: {e}")))?;
    }
    Ok(())
}

fn gc(inv: &Invocation, conf: &Conf, stdin: &[u8]) -> Result<()> {
    let mut errors = Vec::new();
    if let Some(t) = &conf.ipam_type {
        if let Err(e) = Ipam::find(t, &inv.path, stdin, conf.version()).and_then(|i| i.run(Command::Gc)) {
            errors.push(e);
        }
    }
    if conf.host_access {
        let r = NetNs::current()
            .map_err(|e| Error::Netns(e.to_string()))
            .and_then(|host| {
                let mut nl = Netlink::open().map_err(Error::kernel)?;
                hostaccess::gc(conf, &mut nl, &host, &conf.valid_attachments)
            });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    collect(errors)
}
