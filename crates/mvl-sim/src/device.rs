//! Devices and namespaces: the objects a lab creates.

use std::collections::BTreeMap;

use mvl_core::{ChildId, MacAddr};

use crate::neigh::NeighTable;
use crate::time::Instant;
use mvl_iproute2::cmd::Ipv4Net;

/// Names a network namespace of the emulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NsId(pub(crate) u32);

/// Names a device of the emulation (stable across renames and moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevId(pub(crate) u32);

/// What a device is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Loopback,
    Veth { peer: DevId },
    Bridge(Bridge),
    Macvlan { lower: DevId, id: ChildId },
}

impl Kind {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Kind::Loopback => "loopback",
            Kind::Veth { .. } => "veth",
            Kind::Bridge(_) => "bridge",
            Kind::Macvlan { .. } => "macvlan",
        }
    }
}

/// A Linux bridge's forwarding database and settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bridge {
    /// Learned entries: MAC -> (port, last seen).
    pub fdb: BTreeMap<MacAddr, (DevId, Instant)>,
    /// Ports in the order they joined.
    pub ports: Vec<DevId>,
    /// Whether a port ever joined. A bridge is created with carrier on and
    /// keeps it until its ports are first counted; from then on it has
    /// carrier while one of its ports forwards (`br_port_state_selection`).
    pub had_port: bool,
    /// The user set its MTU: it no longer follows its ports'
    /// (`BROPT_MTU_SET_BY_USER`).
    pub mtu_by_user: bool,
}

/// A device's counters, by the kernel's names (`rtnl_link_stats64`); the
/// emulator counts packets, bytes, drops and (on a macvlan, as
/// `macvlan_count_rx` does; a veth does not) multicast and broadcast frames
/// received.
pub use mvl_iproute2::show::Stats;

#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub ns: NsId,
    pub ifindex: u32,
    pub name: String,
    pub mac: MacAddr,
    /// The address was chosen by the user (a bridge then keeps it).
    pub mac_set: bool,
    pub mtu: u32,
    pub min_mtu: u32,
    pub max_mtu: u32,
    pub up: bool,
    /// Has been up once (its qdisc is then noqueue rather than noop).
    pub ever_up: bool,
    pub promisc: bool,
    pub allmulti: bool,
    pub kind: Kind,
    pub master: Option<DevId>,
    /// As a bridge port: hairpin mode.
    pub hairpin: bool,
    /// As a bridge port: forwarding at the last check (to flush its FDB
    /// entries when it stops).
    pub port_enabled: bool,
    pub addrs: Vec<Ipv4Net>,
    /// When each address's prefix route went in (beside `addrs`, same
    /// order): at `ip addr add` on an up device, else when it comes up.
    /// Of two routes to one prefix, Linux uses the older.
    pub addr_since: Vec<u64>,
    /// When the device last came up (its addresses' routes went in then).
    pub up_since: u64,
    pub stats: Stats,
}

impl Device {
    /// Whether address `i` is a secondary: an earlier address of the
    /// device is on the same subnet (it makes no route; `ip addr` says so).
    pub fn secondary(&self, i: usize) -> bool {
        let net = self.addrs[i].trunc();
        self.addrs[..i].iter().any(|p| p.trunc() == net)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Netns {
    /// `None` for the lab's root namespace.
    pub name: Option<String>,
    pub alive: bool,
    /// Its devices in listing order (creation, or arrival by a move): so
    /// that what a host does costs the size of its own namespace, not the
    /// whole emulation's.
    pub devs: Vec<DevId>,
    pub next_ifindex: u32,
    pub neigh: NeighTable,
    /// Peer namespaces in the order this one gave them a netnsid.
    pub peer_ids: Vec<NsId>,
    pub ip_id: u16,
    /// An address was ever added here, so the kernel made the local routing
    /// table; until then `bind` takes any source address (`inet_addr_type`).
    pub local_table: bool,
    /// Routes added with `ip route`, in the order they went in.
    pub routes: Vec<crate::route::StaticRoute>,
    /// `net.ipv4.ip_forward`: the namespace forwards packets not for it.
    pub forwarding: bool,
    /// Path MTUs learned from ICMP, by destination.
    pub pmtu: std::collections::BTreeMap<std::net::Ipv4Addr, crate::frag::PmtuException>,
    /// Packets arriving in pieces, until whole or expired.
    pub frags: std::collections::BTreeMap<crate::frag::FragKey, crate::frag::FragQueue>,
    /// Stamps the reassembly timers.
    pub frag_generation: u64,
}
