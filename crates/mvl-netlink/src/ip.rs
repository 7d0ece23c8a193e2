//! Addresses, routes and neighbour proxies of both families: what a CNI
//! plugin and the tests need around a macvlan. Networks are
//! [`ipnet::IpNet`], the address with its prefix (host bits kept).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteMetric, RouteProtocol, RouteScope,
    RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::Result;
use crate::explain::Ctx;
use crate::link::LinkRef;
use crate::socket::Netlink;

/// `RT_TABLE_MAIN`.
pub const RT_TABLE_MAIN: u32 = 254;
/// `RTPROT_BOOT`: what `ip route add` uses.
pub const RTPROT_BOOT: u8 = 3;
/// `RTPROT_KERNEL`: routes the kernel adds (the prefix route of an address).
pub const RTPROT_KERNEL: u8 = 2;
/// `RT_SCOPE_UNIVERSE`.
pub const RT_SCOPE_UNIVERSE: u8 = 0;
/// `RT_SCOPE_LINK`.
pub const RT_SCOPE_LINK: u8 = 253;
/// `RT_SCOPE_HOST`.
pub const RT_SCOPE_HOST: u8 = 254;
/// `RTN_UNICAST`.
pub const RTN_UNICAST: u8 = 1;

fn family(v4: bool) -> AddressFamily {
    if v4 {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

fn unspecified(v4: bool) -> IpAddr {
    if v4 {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    }
}

/// `net` made of a dumped address and prefix length; a length the family
/// cannot have is clamped (the kernel never sends one).
fn net_of(addr: IpAddr, prefix: u8) -> IpNet {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    IpNet::new(addr, prefix.min(max)).expect("prefix clamped to the family's")
}

/// An address of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The link's index.
    pub index: u32,
    /// The address (`IFA_LOCAL`, else `IFA_ADDRESS`) with its prefix.
    pub net: IpNet,
    /// The peer, when `IFA_ADDRESS` differs from the local address.
    pub peer: Option<IpAddr>,
    /// IPv4 broadcast address.
    pub broadcast: Option<Ipv4Addr>,
    /// Label.
    pub label: Option<String>,
    /// Scope (`RT_SCOPE_*`).
    pub scope: u8,
    /// Still in duplicate address detection (`IFA_F_TENTATIVE`).
    pub tentative: bool,
    /// Duplicate address detection failed (`IFA_F_DADFAILED`).
    pub dad_failed: bool,
}

impl Address {
    fn from_message(m: AddressMessage) -> Option<Address> {
        let v4 = match m.header.family {
            AddressFamily::Inet => true,
            AddressFamily::Inet6 => false,
            _ => return None,
        };
        let (mut local, mut address, mut broadcast, mut label) = (None, None, None, None);
        let mut flags = u32::from(m.header.flags.bits());
        for attr in m.attributes {
            match attr {
                AddressAttribute::Local(x) => local = Some(x),
                AddressAttribute::Address(x) => address = Some(x),
                AddressAttribute::Broadcast(b) => broadcast = Some(b),
                AddressAttribute::Label(l) => label = Some(l),
                AddressAttribute::Flags(f) => flags = f.bits(),
                _ => {}
            }
        }
        // IFA_LOCAL is absent on some point-to-point setups and for IPv6:
        // then IFA_ADDRESS is the local address.
        let addr = local.or(address).unwrap_or_else(|| unspecified(v4));
        Some(Address {
            index: m.header.index,
            net: net_of(addr, m.header.prefix_len),
            peer: address.filter(|&x| local.is_some_and(|l| l != x)),
            broadcast,
            label,
            scope: m.header.scope.into(),
            tentative: flags & AddressFlags::Tentative.bits() != 0,
            dad_failed: flags & AddressFlags::Dadfailed.bits() != 0,
        })
    }
}

/// A route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination (prefix length 0 for the default route); only its
    /// network part is sent.
    pub destination: IpNet,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Output link index.
    pub oif: Option<u32>,
    /// Routing table (254 = main).
    pub table: u32,
    /// Origin (`RTPROT_*`).
    pub protocol: u8,
    /// Scope (`RT_SCOPE_*`).
    pub scope: u8,
    /// Type (`RTN_*`).
    pub kind: u8,
    /// Preferred source address.
    pub prefsrc: Option<IpAddr>,
    /// Metric (`RTA_PRIORITY`).
    pub metric: Option<u32>,
    /// Path MTU (`RTAX_MTU`).
    pub mtu: Option<u32>,
    /// Advertised MSS (`RTAX_ADVMSS`).
    pub advmss: Option<u32>,
}

impl Route {
    /// A unicast route to `destination` in the main table, as `ip route
    /// add` makes it: for IPv4 scope link without a gateway, universe with
    /// one; for IPv6 always universe.
    pub fn new(destination: IpNet) -> Route {
        let v4 = matches!(destination, IpNet::V4(_));
        Route {
            destination,
            gateway: None,
            oif: None,
            table: RT_TABLE_MAIN,
            protocol: RTPROT_BOOT,
            scope: if v4 { RT_SCOPE_LINK } else { RT_SCOPE_UNIVERSE },
            kind: RTN_UNICAST,
            prefsrc: None,
            metric: None,
            mtu: None,
            advmss: None,
        }
    }

    /// The default route of `gateway`'s family via `gateway`.
    pub fn default_via(gateway: IpAddr) -> Route {
        Route::new(net_of(unspecified(gateway.is_ipv4()), 0)).via(gateway)
    }

    /// Through `gateway` (scope universe).
    pub fn via(mut self, gateway: IpAddr) -> Route {
        self.gateway = Some(gateway);
        self.scope = RT_SCOPE_UNIVERSE;
        self
    }

    /// Out of the link with this index.
    pub fn dev(mut self, index: u32) -> Route {
        self.oif = Some(index);
        self
    }

    /// With a metric.
    pub fn metric(mut self, metric: u32) -> Route {
        self.metric = Some(metric);
        self
    }

    /// In routing table `table`.
    pub fn table(mut self, table: u32) -> Route {
        self.table = table;
        self
    }

    /// With scope `scope` (`RT_SCOPE_*`).
    pub fn scope(mut self, scope: u8) -> Route {
        self.scope = scope;
        self
    }

    /// The default route (prefix length 0).
    pub fn is_default(&self) -> bool {
        self.destination.prefix_len() == 0
    }

    fn to_message(&self) -> RouteMessage {
        let d = &self.destination;
        let mut m = RouteMessage::default();
        m.header.address_family = family(matches!(d, IpNet::V4(_)));
        m.header.destination_prefix_length = d.prefix_len();
        m.header.table = u8::try_from(self.table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
        m.header.protocol = RouteProtocol::from(self.protocol);
        m.header.scope = RouteScope::from(self.scope);
        m.header.kind = RouteType::from(self.kind);
        if self.table > 255 {
            m.attributes.push(RouteAttribute::Table(self.table));
        }
        if !self.is_default() {
            m.attributes
                .push(RouteAttribute::Destination(RouteAddress::from(d.network())));
        }
        if let Some(g) = self.gateway {
            m.attributes.push(RouteAttribute::Gateway(RouteAddress::from(g)));
        }
        if let Some(o) = self.oif {
            m.attributes.push(RouteAttribute::Oif(o));
        }
        if let Some(s) = self.prefsrc {
            m.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::from(s)));
        }
        if let Some(p) = self.metric {
            m.attributes.push(RouteAttribute::Priority(p));
        }
        let metrics: Vec<RouteMetric> = [
            self.mtu.map(RouteMetric::Mtu),
            self.advmss.map(RouteMetric::Advmss),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !metrics.is_empty() {
            m.attributes.push(RouteAttribute::Metrics(metrics));
        }
        m
    }

    fn from_message(m: RouteMessage) -> Option<Route> {
        let v4 = match m.header.address_family {
            AddressFamily::Inet => true,
            AddressFamily::Inet6 => false,
            _ => return None,
        };
        let ip = |a: RouteAddress| match a {
            RouteAddress::Inet(x) => Some(IpAddr::V4(x)),
            RouteAddress::Inet6(x) => Some(IpAddr::V6(x)),
            _ => None,
        };
        let mut destination = unspecified(v4);
        let mut r = Route::new(net_of(destination, 0));
        r.table = u32::from(m.header.table);
        r.protocol = m.header.protocol.into();
        r.scope = m.header.scope.into();
        r.kind = m.header.kind.into();
        for a in m.attributes {
            match a {
                RouteAttribute::Destination(d) => destination = ip(d).unwrap_or(destination),
                RouteAttribute::Gateway(g) => r.gateway = ip(g),
                RouteAttribute::PrefSource(s) => r.prefsrc = ip(s),
                RouteAttribute::Oif(o) => r.oif = Some(o),
                RouteAttribute::Priority(p) => r.metric = Some(p),
                RouteAttribute::Table(t) => r.table = t,
                RouteAttribute::Metrics(ms) => {
                    for x in ms {
                        match x {
                            RouteMetric::Mtu(v) => r.mtu = Some(v),
                            RouteMetric::Advmss(v) => r.advmss = Some(v),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        r.destination = net_of(destination, m.header.destination_prefix_length);
        Some(r)
    }

    /// The route as `ip route` words (for messages).
    pub fn words(&self) -> String {
        let mut s = if self.is_default() {
            "default".to_string()
        } else {
            self.destination.trunc().to_string()
        };
        if let Some(g) = self.gateway {
            s.push_str(&format!(" via {g}"));
        }
        if let Some(o) = self.oif {
            s.push_str(&format!(" dev index {o}"));
        }
        s
    }
}

fn address_message(index: u32, net: IpNet) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = family(matches!(net, IpNet::V4(_)));
    m.header.prefix_len = net.prefix_len();
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(net.addr()));
    m.attributes.push(AddressAttribute::Address(net.addr()));
    m
}

fn proxy_message(index: u32, addr: Ipv6Addr) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = AddressFamily::Inet6;
    m.header.ifindex = index;
    m.header.flags = NeighbourFlags::Proxy;
    m.attributes
        .push(NeighbourAttribute::Destination(NeighbourAddress::Inet6(addr)));
    m
}

impl Netlink {
    fn index_for(&mut self, dev: &LinkRef, op: &str) -> Result<u32> {
        match dev {
            LinkRef::Index(i) => Ok(*i),
            r => self.get_link_raw(r, None).map(|l| l.index).map_err(|f| {
                let ctx = Ctx::new(op.to_string()).dev(r.clone());
                self.explain(&ctx, f)
            }),
        }
    }

    /// Adds `net` to `dev`, an IPv4 one with its directed broadcast address
    /// for prefixes up to /30, as `ip addr add` does.
    pub fn add_address(&mut self, dev: impl Into<LinkRef>, net: IpNet) -> Result<()> {
        let dev = dev.into();
        let op = format!("add address {net} to {dev}");
        let index = self.index_for(&dev, &op)?;
        let mut m = address_message(index, net);
        if let IpNet::V4(v4) = net {
            if v4.prefix_len() < 31 {
                m.attributes.push(AddressAttribute::Broadcast(v4.broadcast()));
            }
        }
        self.exchange(&RouteNetlinkMessage::NewAddress(m), NLM_F_CREATE | NLM_F_EXCL)
            .map(drop)
            .map_err(|f| f.unexplained(op))
    }

    /// Removes `net` from `dev`.
    pub fn del_address(&mut self, dev: impl Into<LinkRef>, net: IpNet) -> Result<()> {
        let dev = dev.into();
        let op = format!("delete address {net} from {dev}");
        let index = self.index_for(&dev, &op)?;
        self.exchange(&RouteNetlinkMessage::DelAddress(address_message(index, net)), 0)
            .map(drop)
            .map_err(|f| f.unexplained(op))
    }

    /// The addresses of both families of `dev`, or of every link.
    pub fn addresses(&mut self, dev: Option<LinkRef>) -> Result<Vec<Address>> {
        let op = "dump addresses";
        let index = match &dev {
            Some(d) => Some(self.index_for(d, op)?),
            None => None,
        };
        let replies = self
            .dump_raw(&RouteNetlinkMessage::GetAddress(AddressMessage::default()), op)
            .map_err(|f| f.unexplained(op))?;
        Ok(replies
            .into_iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewAddress(m) => Address::from_message(m),
                _ => None,
            })
            .filter(|a| index.is_none_or(|i| i == a.index))
            .collect())
    }

    /// The routes of both families in every table, or those leaving
    /// through `dev`.
    pub fn routes(&mut self, dev: Option<LinkRef>) -> Result<Vec<Route>> {
        let op = "dump routes";
        let index = match &dev {
            Some(d) => Some(self.index_for(d, op)?),
            None => None,
        };
        let mut out = Vec::new();
        for v4 in [true, false] {
            let mut req = RouteMessage::default();
            req.header.address_family = family(v4);
            let replies = self
                .dump_raw(&RouteNetlinkMessage::GetRoute(req), op)
                .map_err(|f| f.unexplained(op))?;
            out.extend(
                replies
                    .into_iter()
                    .filter_map(|r| match r {
                        RouteNetlinkMessage::NewRoute(m) => Route::from_message(m),
                        _ => None,
                    })
                    .filter(|r| index.is_none() || r.oif == index),
            );
        }
        Ok(out)
    }

    /// Adds a route; one to the same destination must not exist.
    pub fn add_route(&mut self, route: &Route) -> Result<()> {
        self.new_route(route, "add", NLM_F_EXCL)
    }

    /// Adds a route or replaces the one to the same destination.
    pub fn replace_route(&mut self, route: &Route) -> Result<()> {
        self.new_route(route, "replace", NLM_F_REPLACE)
    }

    /// `RTM_NEWROUTE` with `NLM_F_CREATE` and `how` (exclusive or replace).
    fn new_route(&mut self, route: &Route, verb: &str, how: u16) -> Result<()> {
        let op = format!("{verb} route {}", route.words());
        self.exchange(
            &RouteNetlinkMessage::NewRoute(route.to_message()),
            NLM_F_CREATE | how,
        )
        .map(drop)
        .map_err(|f| f.unexplained(op))
    }

    /// Deletes a route.
    pub fn del_route(&mut self, route: &Route) -> Result<()> {
        let op = format!("delete route {}", route.words());
        let mut m = route.to_message();
        // Match any origin and scope, as `ip route del` does.
        m.header.protocol = RouteProtocol::Unspec;
        m.header.scope = RouteScope::NoWhere;
        self.exchange(&RouteNetlinkMessage::DelRoute(m), 0)
            .map(drop)
            .map_err(|f| f.unexplained(op))
    }

    /// Makes `dev` answer neighbour solicitations for `addr`, as `ip -6
    /// neigh add proxy ADDR dev DEV` does; an existing entry is kept.
    pub fn add_neigh_proxy(&mut self, dev: impl Into<LinkRef>, addr: Ipv6Addr) -> Result<()> {
        let dev = dev.into();
        let op = format!("add neighbour proxy {addr} dev {dev}");
        let index = self.index_for(&dev, &op)?;
        self.exchange(
            &RouteNetlinkMessage::NewNeighbour(proxy_message(index, addr)),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
        .map_err(|f| f.unexplained(op))
    }

    /// The addresses `dev` answers neighbour solicitations for as a proxy.
    pub fn neigh_proxies(&mut self, dev: impl Into<LinkRef>) -> Result<Vec<Ipv6Addr>> {
        let dev = dev.into();
        let op = "dump neighbour proxies";
        let index = self.index_for(&dev, op)?;
        let mut q = NeighbourMessage::default();
        q.header.family = AddressFamily::Inet6;
        q.header.flags = NeighbourFlags::Proxy;
        let replies = self
            .dump_raw(&RouteNetlinkMessage::GetNeighbour(q), op)
            .map_err(|f| f.unexplained(op))?;
        Ok(replies
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_through_a_message() {
        let r = Route::default_via("10.0.0.1".parse().unwrap()).dev(3).metric(100);
        assert_eq!(Route::from_message(r.to_message()).unwrap(), r);
        assert_eq!(r.words(), "default via 10.0.0.1 dev index 3");
        let r = Route::new("10.1.0.0/16".parse().unwrap());
        assert_eq!(Route::from_message(r.to_message()).unwrap(), r);
        assert_eq!(r.scope, RT_SCOPE_LINK);
        let mut r = Route::default_via("fd00::1".parse().unwrap()).table(1000);
        r.mtu = Some(1400);
        r.advmss = Some(1300);
        assert_eq!(Route::from_message(r.to_message()).unwrap(), r);
        assert_eq!(
            Route::new("fd00:1::/64".parse().unwrap()).scope,
            RT_SCOPE_UNIVERSE
        );
    }

    #[test]
    fn only_the_network_of_a_destination_is_sent() {
        let r = Route::new("10.1.2.3/16".parse().unwrap());
        let back = Route::from_message(r.to_message()).unwrap();
        assert_eq!(back.destination, "10.1.0.0/16".parse::<IpNet>().unwrap());
        assert_eq!(r.words(), "10.1.0.0/16");
    }

    #[test]
    fn addresses_of_both_families_decode() {
        for net in ["10.1.0.2/24", "fd00::2/64"] {
            let net: IpNet = net.parse().unwrap();
            let a = Address::from_message(address_message(7, net)).unwrap();
            assert_eq!((a.index, a.net, a.peer), (7, net, None));
        }
    }
}
