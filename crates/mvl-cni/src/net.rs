//! What the plugin does to the kernel beyond creating the macvlan: find
//! the master, apply and read IPv4/IPv6 addresses, routes and neighbour
//! proxies through `mvl-netlink`, write sysctls inside a namespace.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use mvl_core::MacAddr;
use mvl_netlink::{
    Address, IpNet, Link, NetNs, Netlink, RTN_UNICAST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN,
};

use crate::config::MasterSpec;
use crate::error::{Error, Result};
use crate::result::Route;

/// A failed raw request, named by what we were doing.
pub fn raw_err(op: &str, e: mvl_netlink::Error) -> Error {
    if matches!(e, mvl_netlink::Error::DumpInterrupted { .. }) {
        return Error::TryAgain(format!("{op}: {e}"));
    }
    match e.kernel() {
        Some(k) => {
            let extack = k
                .extack
                .as_deref()
                .map(|x| format!("; kernel: {x}"))
                .unwrap_or_default();
            Error::System(format!("{op}: {} ({}{extack})", k.strerror(), k.errno_name()))
        }
        None => Error::System(format!("{op}: {e}")),
    }
}

/// Random lowercase hex digits, for temporary names.
pub fn random_hex(n: usize) -> String {
    // Without the kernel's randomness (never seen on Linux), time and pid
    // still make names unlikely to collide, and a collision is retried anyway.
    let b = getrandom::u64().unwrap_or_else(|_| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        t ^ (u64::from(std::process::id()) << 32)
    });
    format!("{b:016x}")[..n.min(16)].to_string()
}

/// Opens `CNI_NETNS`.
pub fn open_netns(path: &str) -> Result<NetNs> {
    NetNs::from_path(path).map_err(|e| Error::Netns(format!("cannot use CNI_NETNS {path}: {e}")))
}

fn link_err(what: String, ns: &str, e: mvl_netlink::Error) -> Error {
    if e.is_no_device() {
        Error::Master(format!("{what} not found in {ns}"))
    } else {
        Error::kernel(e)
    }
}

/// The master as `spec` names it, in `nl`'s namespace.
pub fn resolve_master(nl: &mut Netlink, spec: &MasterSpec) -> Result<Link> {
    let ns = nl.namespace().to_string();
    match spec {
        MasterSpec::Name(n) => nl
            .link(n.as_str())
            .map_err(|e| link_err(format!("master \"{n}\""), &ns, e)),
        MasterSpec::AltName(n) => {
            let links = nl.links().map_err(|e| raw_err("dump links", e))?;
            match links
                .into_iter()
                .find(|l| l.name == *n || l.alt_names.contains(n))
            {
                Some(l) => Ok(l),
                None => Err(Error::Master(format!(
                    "masterMatch \"{n}\": no interface has this name or alternative name in {ns}"
                ))),
            }
        }
        MasterSpec::Mac(mac) => master_by_mac(nl, *mac, &ns),
        MasterSpec::DefaultRoute => default_route_link(nl, &ns),
    }
}

/// Devices stacked on a master share its MAC; they are never the master.
fn is_child_kind(l: &Link) -> bool {
    matches!(
        l.kind.as_deref(),
        Some("macvlan" | "macvtap" | "ipvlan" | "ipvtap" | "vlan")
    )
}

fn master_by_mac(nl: &mut Netlink, mac: MacAddr, ns: &str) -> Result<Link> {
    let links: Vec<Link> = nl
        .links()
        .map_err(Error::kernel)?
        .into_iter()
        .filter(|l| !is_child_kind(l) && l.flags & mvl_netlink::IFF_LOOPBACK == 0)
        .collect();
    // The permanent (burned-in) address is the most specific; then
    // devices without a kind (physical NICs); then anything else.
    let perm = |l: &Link| l.perm_address == Some(mac);
    let physical = |l: &Link| l.address == Some(mac) && l.kind.is_none();
    let any = |l: &Link| l.address == Some(mac);
    let tiers: [&dyn Fn(&Link) -> bool; 3] = [&perm, &physical, &any];
    for t in tiers {
        let found: Vec<&Link> = links.iter().filter(|l| t(l)).collect();
        match found.len() {
            0 => continue,
            1 => return Ok(found[0].clone()),
            _ => {
                let names: Vec<&str> = found.iter().map(|l| l.name.as_str()).collect();
                return Err(Error::Master(format!(
                    "masterMatch {mac}: several interfaces in {ns} have this MAC ({}); name the master instead",
                    names.join(", ")
                )));
            }
        }
    }
    Err(Error::Master(format!(
        "masterMatch {mac}: no interface in {ns} has this MAC address"
    )))
}

/// The interface of the first default route of the main table, IPv4
/// first, as the reference plugin picks it.
pub fn default_route_link(nl: &mut Netlink, ns: &str) -> Result<Link> {
    for r in routes(nl)? {
        if r.is_default() && r.table == RT_TABLE_MAIN && r.kind == RTN_UNICAST {
            if let Some(oif) = r.oif {
                return nl.link(oif).map_err(Error::kernel);
            }
        }
    }
    Err(Error::Master(format!(
        "no master given and no default route interface found in {ns}"
    )))
}

/// Every route of both families and all tables, IPv4 first.
pub fn routes(nl: &mut Netlink) -> Result<Vec<mvl_netlink::Route>> {
    nl.routes(None).map_err(|e| raw_err("dump routes", e))
}

/// Adds `a` to the link `index` (with its broadcast address for IPv4 up to /30).
pub fn add_address(nl: &mut Netlink, index: u32, ifname: &str, a: &IpNet) -> Result<()> {
    nl.add_address(index, *a)
        .map_err(|e| raw_err(&format!("add address {a} to {ifname}"), e))
}

/// The addresses of link `index`, both families.
pub fn addresses(nl: &mut Netlink, index: u32) -> Result<Vec<Address>> {
    nl.addresses(Some(index.into()))
        .map_err(|e| raw_err("dump addresses", e))
}

/// Waits until no IPv6 address of `index` is tentative (duplicate address
/// detection done), at most `limit`.
pub fn settle_addresses(nl: &mut Netlink, index: u32, ifname: &str, limit: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        let a = addresses(nl, index)?;
        if let Some(bad) = a.iter().find(|e| e.dad_failed) {
            return Err(Error::System(format!(
                "{ifname}: address {} is a duplicate on the network (duplicate address detection failed)",
                bad.net
            )));
        }
        if !a.iter().any(|e| e.tentative) {
            return Ok(());
        }
        if start.elapsed() >= limit {
            return Err(Error::System(format!(
                "{ifname}: IPv6 addresses still tentative after {} s",
                limit.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Adds the route `r` of a result through link `index`, via `gw`.
pub fn add_route(nl: &mut Netlink, index: u32, ifname: &str, r: &Route, gw: Option<IpAddr>) -> Result<()> {
    let mut route = mvl_netlink::Route::new(r.dst)
        .dev(index)
        .table(r.table.unwrap_or(RT_TABLE_MAIN))
        .scope(r.scope.unwrap_or(RT_SCOPE_UNIVERSE));
    route.gateway = gw;
    route.metric = r.priority;
    route.mtu = r.mtu;
    route.advmss = r.advmss;
    nl.add_route(&route).map_err(|e| {
        let via = gw.map(|g| format!(" via {g}")).unwrap_or_default();
        raw_err(&format!("add route {}{via} dev {ifname}", r.dst), e)
    })
}

/// The host route `dst/32` or `/128` through link `index`.
fn host_route(index: u32, dst: IpAddr) -> mvl_netlink::Route {
    mvl_netlink::Route::new(IpNet::from(dst))
        .dev(index)
        .scope(RT_SCOPE_LINK)
}

/// Adds (or replaces) the host route to `dst` through link `index`.
pub fn replace_host_route(nl: &mut Netlink, index: u32, ifname: &str, dst: IpAddr) -> Result<()> {
    nl.replace_route(&host_route(index, dst))
        .map_err(|e| raw_err(&format!("add route {} dev {ifname}", IpNet::from(dst)), e))
}

/// Deletes the host route to `dst` through link `index`; a missing route
/// or link is not an error.
pub fn del_host_route(nl: &mut Netlink, index: u32, dst: IpAddr) -> Result<()> {
    match nl.del_route(&host_route(index, dst)) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.errno(), Some(libc::ESRCH | libc::ENODEV | libc::ENOENT)) => Ok(()),
        Err(e) => Err(raw_err(&format!("delete route {}", IpNet::from(dst)), e)),
    }
}

/// Makes link `index` answer neighbour solicitations for `addr` (an
/// `ip -6 neigh add proxy ADDR dev IFNAME` entry); an existing entry is kept.
pub fn add_ndp_proxy(nl: &mut Netlink, index: u32, ifname: &str, addr: std::net::Ipv6Addr) -> Result<()> {
    nl.add_neigh_proxy(index, addr)
        .map_err(|e| raw_err(&format!("add neighbour proxy {addr} dev {ifname}"), e))
}

/// The addresses link `index` answers neighbour solicitations for as a proxy.
pub fn ndp_proxies(nl: &mut Netlink, index: u32) -> Result<Vec<std::net::Ipv6Addr>> {
    nl.neigh_proxies(index)
        .map_err(|e| raw_err("dump neighbour proxies", e))
}

/// Writes `(path under /proc/sys, value)` pairs from a thread inside
/// `ns` (`/proc/sys/net` shows the namespace of the thread that opens
/// it). A value already in place is not written again (a read-only
/// `/proc/sys` is then no failure). Returns the writes that failed.
pub fn write_sysctls(ns: &NetNs, writes: &[(String, &str)]) -> Result<Vec<(String, std::io::Error)>> {
    ns.run(|| {
        let mut failed = Vec::new();
        for (path, value) in writes {
            let full = format!("/proc/sys/{path}");
            let now = std::fs::read_to_string(&full).unwrap_or_default();
            if now.trim() == *value {
                continue;
            }
            if let Err(e) = std::fs::write(&full, value) {
                failed.push((full, e));
            }
        }
        failed
    })
    .map_err(|e| Error::Netns(e.to_string()))
}

/// Reads a sysctl from a thread inside `ns`.
pub fn read_sysctl(ns: &NetNs, path: &str) -> Option<String> {
    let full = format!("/proc/sys/{path}");
    ns.run(move || std::fs::read_to_string(full).ok().map(|s| s.trim().to_string()))
        .ok()
        .flatten()
}
