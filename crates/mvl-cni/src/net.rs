//! What the plugin does to the kernel beyond creating the macvlan: find
//! the master, apply and read IPv4/IPv6 addresses and routes, write
//! sysctls inside a namespace. Raw `netlink-packet-route` messages through
//! [`Netlink::request`] / [`Netlink::dump`], since results are dual-stack.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use mvl_core::MacAddr;
use mvl_netlink::packet::address::{AddressAttribute, AddressFlags, AddressMessage};
use mvl_netlink::packet::link::{LinkAttribute, LinkMessage, Prop};
use mvl_netlink::packet::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use mvl_netlink::packet::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteMetric, RouteProtocol, RouteScope, RouteType,
};
use mvl_netlink::packet::{AddressFamily, RouteNetlinkMessage};
use mvl_netlink::{Link, NetNs, Netlink};

use crate::config::MasterSpec;
use crate::error::{Error, Result};
use crate::result::{IpNet, Route};

const NLM_F_REPLACE: u16 = libc::NLM_F_REPLACE as u16;
const NLM_F_EXCL: u16 = libc::NLM_F_EXCL as u16;
const NLM_F_CREATE: u16 = libc::NLM_F_CREATE as u16;
const RT_TABLE_MAIN: u32 = 254;

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
            let dump = nl
                .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
                .map_err(|e| raw_err("dump links", e))?;
            let index = dump.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) if link_has_name(&l, n) => Some(l.header.index),
                _ => None,
            });
            match index {
                Some(i) => nl
                    .link(i)
                    .map_err(|e| link_err(format!("master \"{n}\""), &ns, e)),
                None => Err(Error::Master(format!(
                    "masterMatch \"{n}\": no interface has this name or alternative name in {ns}"
                ))),
            }
        }
        MasterSpec::Mac(mac) => master_by_mac(nl, *mac, &ns),
        MasterSpec::DefaultRoute => default_route_link(nl, &ns),
    }
}

fn link_has_name(l: &LinkMessage, name: &str) -> bool {
    l.attributes.iter().any(|a| match a {
        LinkAttribute::IfName(n) => n == name,
        LinkAttribute::PropList(props) => props.iter().any(|p| matches!(p, Prop::AltIfName(n) if n == name)),
        _ => false,
    })
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
    for v4 in [true, false] {
        for r in routes(nl, v4)? {
            if r.dst.prefix == 0 && r.table == RT_TABLE_MAIN && r.kind == RouteType::Unicast {
                if let Some(oif) = r.oif {
                    return nl.link(oif).map_err(Error::kernel);
                }
            }
        }
    }
    Err(Error::Master(format!(
        "no master given and no default route interface found in {ns}"
    )))
}

/// A route as dumped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// Destination.
    pub dst: IpNet,
    /// Gateway.
    pub gw: Option<IpAddr>,
    /// Output interface.
    pub oif: Option<u32>,
    /// Table.
    pub table: u32,
    /// Type.
    pub kind: RouteType,
}

fn family(v4: bool) -> AddressFamily {
    if v4 {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

fn unspecified(v4: bool) -> IpAddr {
    if v4 {
        IpAddr::from([0u8; 4])
    } else {
        IpAddr::from([0u8; 16])
    }
}

fn route_addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(x) => Some(IpAddr::V4(*x)),
        RouteAddress::Inet6(x) => Some(IpAddr::V6(*x)),
        _ => None,
    }
}

/// Every route of one family, all tables.
pub fn routes(nl: &mut Netlink, v4: bool) -> Result<Vec<RouteEntry>> {
    let mut req = RouteMessage::default();
    req.header.address_family = family(v4);
    let dump = nl
        .dump(RouteNetlinkMessage::GetRoute(req))
        .map_err(|e| raw_err("dump routes", e))?;
    let mut out = Vec::new();
    for m in dump {
        let RouteNetlinkMessage::NewRoute(m) = m else {
            continue;
        };
        if m.header.address_family != family(v4) {
            continue;
        }
        let mut e = RouteEntry {
            dst: IpNet {
                addr: unspecified(v4),
                prefix: m.header.destination_prefix_length,
            },
            gw: None,
            oif: None,
            table: u32::from(m.header.table),
            kind: m.header.kind,
        };
        for a in &m.attributes {
            match a {
                RouteAttribute::Destination(d) => {
                    if let Some(x) = route_addr(d) {
                        e.dst.addr = x;
                    }
                }
                RouteAttribute::Gateway(g) => e.gw = route_addr(g),
                RouteAttribute::Oif(o) => e.oif = Some(*o),
                RouteAttribute::Table(t) => e.table = *t,
                _ => {}
            }
        }
        out.push(e);
    }
    Ok(out)
}

fn address_message(index: u32, a: &IpNet) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = family(a.is_ipv4());
    m.header.prefix_len = a.prefix;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(a.addr));
    m.attributes.push(AddressAttribute::Address(a.addr));
    m
}

/// Adds `a` to the link `index` (with its broadcast address for IPv4 up to /30).
pub fn add_address(nl: &mut Netlink, index: u32, ifname: &str, a: &IpNet) -> Result<()> {
    let mut m = address_message(index, a);
    if let (IpAddr::V4(v4), true) = (a.addr, a.prefix < 31) {
        let mask = if a.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(a.prefix))
        };
        m.attributes
            .push(AddressAttribute::Broadcast((u32::from(v4) | !mask).into()));
    }
    nl.request(RouteNetlinkMessage::NewAddress(m), NLM_F_CREATE | NLM_F_EXCL)
        .map(drop)
        .map_err(|e| raw_err(&format!("add address {a} to {ifname}"), e))
}

/// An address as dumped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressEntry {
    /// The address and prefix.
    pub net: IpNet,
    /// Still doing duplicate address detection.
    pub tentative: bool,
    /// Duplicate address detection failed.
    pub dad_failed: bool,
}

/// The addresses of link `index`, both families.
pub fn addresses(nl: &mut Netlink, index: u32) -> Result<Vec<AddressEntry>> {
    let dump = nl
        .dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))
        .map_err(|e| raw_err("dump addresses", e))?;
    let mut out = Vec::new();
    for m in dump {
        let RouteNetlinkMessage::NewAddress(m) = m else {
            continue;
        };
        if m.header.index != index {
            continue;
        }
        let mut local = None;
        let mut address = None;
        let mut flags = u32::from(m.header.flags.bits());
        for a in &m.attributes {
            match a {
                AddressAttribute::Local(x) => local = Some(*x),
                AddressAttribute::Address(x) => address = Some(*x),
                AddressAttribute::Flags(f) => flags = f.bits(),
                _ => {}
            }
        }
        if let Some(addr) = local.or(address) {
            out.push(AddressEntry {
                net: IpNet {
                    addr,
                    prefix: m.header.prefix_len,
                },
                tentative: flags & AddressFlags::Tentative.bits() != 0,
                dad_failed: flags & AddressFlags::Dadfailed.bits() != 0,
            });
        }
    }
    Ok(out)
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

/// What a route message for `r` through `index` looks like.
fn route_message(index: u32, dst: &IpNet, gw: Option<IpAddr>, r: Option<&Route>) -> RouteMessage {
    let v4 = dst.is_ipv4();
    let mut m = RouteMessage::default();
    m.header.address_family = family(v4);
    m.header.destination_prefix_length = dst.prefix;
    m.header.protocol = RouteProtocol::Boot;
    m.header.kind = RouteType::Unicast;
    let table = r.and_then(|r| r.table).unwrap_or(RT_TABLE_MAIN);
    m.header.table = u8::try_from(table).unwrap_or(0);
    m.header.scope = RouteScope::from(r.and_then(|r| r.scope).unwrap_or(0));
    if table > 255 {
        m.attributes.push(RouteAttribute::Table(table));
    }
    if dst.prefix > 0 {
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dst.network())));
    }
    if let Some(g) = gw {
        m.attributes.push(RouteAttribute::Gateway(RouteAddress::from(g)));
    }
    m.attributes.push(RouteAttribute::Oif(index));
    if let Some(r) = r {
        if let Some(p) = r.priority {
            m.attributes.push(RouteAttribute::Priority(p));
        }
        let mut metrics = Vec::new();
        if let Some(x) = r.mtu {
            metrics.push(RouteMetric::Mtu(x));
        }
        if let Some(x) = r.advmss {
            metrics.push(RouteMetric::Advmss(x));
        }
        if !metrics.is_empty() {
            m.attributes.push(RouteAttribute::Metrics(metrics));
        }
    }
    m
}

/// Adds the route `r` through link `index`, via `gw`.
pub fn add_route(nl: &mut Netlink, index: u32, ifname: &str, r: &Route, gw: Option<IpAddr>) -> Result<()> {
    let m = route_message(index, &r.dst, gw, Some(r));
    nl.request(RouteNetlinkMessage::NewRoute(m), NLM_F_CREATE | NLM_F_EXCL)
        .map(drop)
        .map_err(|e| {
            let via = gw.map(|g| format!(" via {g}")).unwrap_or_default();
            raw_err(&format!("add route {}{via} dev {ifname}", r.dst), e)
        })
}

/// Adds (or replaces) the host route `dst/32` or `/128` through link `index`.
pub fn replace_host_route(nl: &mut Netlink, index: u32, ifname: &str, dst: IpAddr) -> Result<()> {
    let net = IpNet::host(dst);
    let mut m = route_message(index, &net, None, None);
    m.header.scope = RouteScope::Link;
    nl.request(RouteNetlinkMessage::NewRoute(m), NLM_F_CREATE | NLM_F_REPLACE)
        .map(drop)
        .map_err(|e| raw_err(&format!("add route {net} dev {ifname}"), e))
}

/// Deletes the host route to `dst` through link `index`; a missing route
/// or link is not an error.
pub fn del_host_route(nl: &mut Netlink, index: u32, dst: IpAddr) -> Result<()> {
    let net = IpNet::host(dst);
    let mut m = route_message(index, &net, None, None);
    m.header.protocol = RouteProtocol::Unspec;
    m.header.scope = RouteScope::NoWhere;
    match nl.request(RouteNetlinkMessage::DelRoute(m), 0) {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.errno(), Some(libc::ESRCH | libc::ENODEV | libc::ENOENT)) => Ok(()),
        Err(e) => Err(raw_err(&format!("delete route {net}"), e)),
    }
}

fn proxy_message(index: u32, addr: std::net::Ipv6Addr) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = AddressFamily::Inet6;
    m.header.ifindex = index;
    m.header.flags = NeighbourFlags::Proxy;
    m.attributes
        .push(NeighbourAttribute::Destination(NeighbourAddress::Inet6(addr)));
    m
}

/// Makes link `index` answer neighbour solicitations for `addr` (an
/// `ip -6 neigh add proxy ADDR dev IFNAME` entry); an existing entry is kept.
pub fn add_ndp_proxy(nl: &mut Netlink, index: u32, ifname: &str, addr: std::net::Ipv6Addr) -> Result<()> {
    nl.request(
        RouteNetlinkMessage::NewNeighbour(proxy_message(index, addr)),
        NLM_F_CREATE | NLM_F_REPLACE,
    )
    .map(drop)
    .map_err(|e| raw_err(&format!("add neighbour proxy {addr} dev {ifname}"), e))
}

/// The addresses link `index` answers neighbour solicitations for as a proxy.
pub fn ndp_proxies(nl: &mut Netlink, index: u32) -> Result<Vec<std::net::Ipv6Addr>> {
    let mut q = NeighbourMessage::default();
    q.header.family = AddressFamily::Inet6;
    q.header.flags = NeighbourFlags::Proxy;
    let dump = nl
        .dump(RouteNetlinkMessage::GetNeighbour(q))
        .map_err(|e| raw_err("dump neighbour proxies", e))?;
    Ok(dump
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewNeighbour(n)
                if n.header.ifindex == index && n.header.flags.contains(NeighbourFlags::Proxy) =>
            {
                n.attributes.into_iter().find_map(|a| match a {
                    NeighbourAttribute::Destination(NeighbourAddress::Inet6(x)) => Some(x),
                    _ => None,
                })
            }
            _ => None,
        })
        .collect())
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
