//! IPv4 addresses and routes: what a CNI plugin and the tests need
//! around a macvlan, nothing more.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
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

/// An IPv4 address of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Address {
    /// The link's index.
    pub index: u32,
    /// The address (`IFA_LOCAL`).
    pub address: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
    /// The peer, when `IFA_ADDRESS` differs from the local address.
    pub peer: Option<Ipv4Addr>,
    /// Broadcast address.
    pub broadcast: Option<Ipv4Addr>,
    /// Label.
    pub label: Option<String>,
    /// Scope (`RT_SCOPE_*`).
    pub scope: u8,
}

/// An IPv4 route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Route {
    /// Destination network.
    pub destination: Ipv4Addr,
    /// Its prefix length (0 for the default route).
    pub prefix: u8,
    /// Next hop.
    pub gateway: Option<Ipv4Addr>,
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
    pub prefsrc: Option<Ipv4Addr>,
    /// Metric (`RTA_PRIORITY`).
    pub metric: Option<u32>,
}

impl Ipv4Route {
    /// A unicast route to `destination/prefix` in the main table, as `ip
    /// route add` makes it: scope link without a gateway, universe with one.
    pub fn new(destination: Ipv4Addr, prefix: u8) -> Ipv4Route {
        Ipv4Route {
            destination,
            prefix,
            gateway: None,
            oif: None,
            table: RT_TABLE_MAIN,
            protocol: RTPROT_BOOT,
            scope: RT_SCOPE_LINK,
            kind: RTN_UNICAST,
            prefsrc: None,
            metric: None,
        }
    }

    /// The default route via `gateway`.
    pub fn default_via(gateway: Ipv4Addr) -> Ipv4Route {
        Ipv4Route::new(Ipv4Addr::UNSPECIFIED, 0).via(gateway)
    }

    /// Through `gateway` (scope universe).
    pub fn via(mut self, gateway: Ipv4Addr) -> Ipv4Route {
        self.gateway = Some(gateway);
        self.scope = RT_SCOPE_UNIVERSE;
        self
    }

    /// Out of the link with this index.
    pub fn dev(mut self, index: u32) -> Ipv4Route {
        self.oif = Some(index);
        self
    }

    /// With a metric.
    pub fn metric(mut self, metric: u32) -> Ipv4Route {
        self.metric = Some(metric);
        self
    }

    fn to_message(&self) -> RouteMessage {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = self.prefix;
        m.header.table = u8::try_from(self.table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
        m.header.protocol = RouteProtocol::from(self.protocol);
        m.header.scope = RouteScope::from(self.scope);
        m.header.kind = RouteType::from(self.kind);
        if self.table > 255 {
            m.attributes.push(RouteAttribute::Table(self.table));
        }
        if self.prefix > 0 {
            m.attributes
                .push(RouteAttribute::Destination(RouteAddress::Inet(self.destination)));
        }
        if let Some(g) = self.gateway {
            m.attributes.push(RouteAttribute::Gateway(RouteAddress::Inet(g)));
        }
        if let Some(o) = self.oif {
            m.attributes.push(RouteAttribute::Oif(o));
        }
        if let Some(s) = self.prefsrc {
            m.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::Inet(s)));
        }
        if let Some(p) = self.metric {
            m.attributes.push(RouteAttribute::Priority(p));
        }
        m
    }

    fn from_message(m: RouteMessage) -> Option<Ipv4Route> {
        if m.header.address_family != AddressFamily::Inet {
            return None;
        }
        let mut r = Ipv4Route::new(Ipv4Addr::UNSPECIFIED, m.header.destination_prefix_length);
        r.table = u32::from(m.header.table);
        r.protocol = m.header.protocol.into();
        r.scope = m.header.scope.into();
        r.kind = m.header.kind.into();
        for a in m.attributes {
            match a {
                RouteAttribute::Destination(RouteAddress::Inet(d)) => r.destination = d,
                RouteAttribute::Gateway(RouteAddress::Inet(g)) => r.gateway = Some(g),
                RouteAttribute::PrefSource(RouteAddress::Inet(s)) => r.prefsrc = Some(s),
                RouteAttribute::Oif(o) => r.oif = Some(o),
                RouteAttribute::Priority(p) => r.metric = Some(p),
                RouteAttribute::Table(t) => r.table = t,
                _ => {}
            }
        }
        Some(r)
    }

    fn words(&self) -> String {
        let mut s = if self.prefix == 0 {
            "default".to_string()
        } else {
            format!("{}/{}", self.destination, self.prefix)
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

fn address_message(index: u32, address: Ipv4Addr, prefix: u8) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = prefix;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(IpAddr::V4(address)));
    m.attributes.push(AddressAttribute::Address(IpAddr::V4(address)));
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

    /// Adds `address/prefix` to `dev`, with the directed broadcast address
    /// for prefixes up to /30.
    pub fn add_address(&mut self, dev: impl Into<LinkRef>, address: Ipv4Addr, prefix: u8) -> Result<()> {
        let dev = dev.into();
        let op = format!("add address {address}/{prefix} to {dev}");
        let index = self.index_for(&dev, &op)?;
        let mut m = address_message(index, address, prefix);
        if prefix < 31 {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            let brd = Ipv4Addr::from(u32::from(address) | !mask);
            m.attributes.push(AddressAttribute::Broadcast(brd));
        }
        self.exchange(&RouteNetlinkMessage::NewAddress(m), NLM_F_CREATE | NLM_F_EXCL)
            .map(drop)
            .map_err(|f| f.unexplained(op))
    }

    /// Removes `address/prefix` from `dev`.
    pub fn del_address(&mut self, dev: impl Into<LinkRef>, address: Ipv4Addr, prefix: u8) -> Result<()> {
        let dev = dev.into();
        let op = format!("delete address {address}/{prefix} from {dev}");
        let index = self.index_for(&dev, &op)?;
        let m = address_message(index, address, prefix);
        self.exchange(&RouteNetlinkMessage::DelAddress(m), 0)
            .map(drop)
            .map_err(|f| f.unexplained(op))
    }

    /// The IPv4 addresses of `dev`, or of every link.
    pub fn addresses(&mut self, dev: Option<LinkRef>) -> Result<Vec<Ipv4Address>> {
        let op = "dump IPv4 addresses";
        let index = match &dev {
            Some(d) => Some(self.index_for(d, op)?),
            None => None,
        };
        let mut req = AddressMessage::default();
        req.header.family = AddressFamily::Inet;
        let replies = self
            .dump_raw(&RouteNetlinkMessage::GetAddress(req), op)
            .map_err(|f| f.unexplained(op))?;
        let mut out = Vec::new();
        for r in replies {
            let RouteNetlinkMessage::NewAddress(m) = r else {
                continue;
            };
            if m.header.family != AddressFamily::Inet || index.is_some_and(|i| i != m.header.index) {
                continue;
            }
            let mut a = Ipv4Address {
                index: m.header.index,
                address: Ipv4Addr::UNSPECIFIED,
                prefix: m.header.prefix_len,
                peer: None,
                broadcast: None,
                label: None,
                scope: m.header.scope.into(),
            };
            let mut ifa_address = None;
            for attr in m.attributes {
                match attr {
                    AddressAttribute::Local(IpAddr::V4(l)) => a.address = l,
                    AddressAttribute::Address(IpAddr::V4(x)) => ifa_address = Some(x),
                    AddressAttribute::Broadcast(b) => a.broadcast = Some(b),
                    AddressAttribute::Label(l) => a.label = Some(l),
                    _ => {}
                }
            }
            // IFA_LOCAL is absent on some point-to-point setups: then
            // IFA_ADDRESS is the local address.
            match ifa_address {
                Some(x) if a.address.is_unspecified() => a.address = x,
                Some(x) if x != a.address => a.peer = Some(x),
                _ => {}
            }
            out.push(a);
        }
        Ok(out)
    }

    /// The IPv4 routes of every table, or those leaving through `dev`.
    pub fn routes(&mut self, dev: Option<LinkRef>) -> Result<Vec<Ipv4Route>> {
        let op = "dump IPv4 routes";
        let index = match &dev {
            Some(d) => Some(self.index_for(d, op)?),
            None => None,
        };
        let mut req = RouteMessage::default();
        req.header.address_family = AddressFamily::Inet;
        let replies = self
            .dump_raw(&RouteNetlinkMessage::GetRoute(req), op)
            .map_err(|f| f.unexplained(op))?;
        Ok(replies
            .into_iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewRoute(m) => Ipv4Route::from_message(m),
                _ => None,
            })
            .filter(|r| index.is_none() || r.oif == index)
            .collect())
    }

    /// Adds a route.
    pub fn add_route(&mut self, route: &Ipv4Route) -> Result<()> {
        let op = format!("add route {}", route.words());
        self.exchange(
            &RouteNetlinkMessage::NewRoute(route.to_message()),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
        .map_err(|f| f.unexplained(op))
    }

    /// Deletes a route.
    pub fn del_route(&mut self, route: &Ipv4Route) -> Result<()> {
        let op = format!("delete route {}", route.words());
        let mut m = route.to_message();
        // Match any origin and scope, as `ip route del` does.
        m.header.protocol = RouteProtocol::Unspec;
        m.header.scope = RouteScope::NoWhere;
        self.exchange(&RouteNetlinkMessage::DelRoute(m), 0)
            .map(drop)
            .map_err(|f| f.unexplained(op))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_round_trips_through_a_message() {
        let r = Ipv4Route::default_via(Ipv4Addr::new(10, 0, 0, 1))
            .dev(3)
            .metric(100);
        let back = Ipv4Route::from_message(r.to_message()).unwrap();
        assert_eq!(back, r);
        assert_eq!(r.words(), "default via 10.0.0.1 dev index 3");
        let r = Ipv4Route::new(Ipv4Addr::new(10, 1, 0, 0), 16);
        assert_eq!(Ipv4Route::from_message(r.to_message()).unwrap(), r);
        assert_eq!(r.scope, RT_SCOPE_LINK);
    }
}
