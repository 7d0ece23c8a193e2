//! A read-only view of the emulated host's devices, for tools that draw or
//! inspect it (nothing here changes the emulation).

use mvl_core::{Flags, MacAddr, Mode};

use crate::device::{DevId, Kind};
use crate::show::operstate;
use crate::sim::Sim;
use mvl_iproute2::cmd::Ipv4Net;

/// What a device is, with the links that make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewKind {
    /// `lo`.
    Loopback,
    /// One end of a veth pair.
    Veth {
        /// The other end.
        peer: DevId,
    },
    /// A Linux bridge.
    Bridge {
        /// Its ports, in the order they joined.
        ports: Vec<DevId>,
    },
    /// A macvlan.
    Macvlan {
        /// Its lower device.
        lower: DevId,
        /// Its mode, as `mvl-core` holds it.
        mode: Mode,
        /// Its flags (`nopromisc`, `nodst`).
        flags: Flags,
        /// Source mode's allowed senders.
        sources: Vec<MacAddr>,
    },
}

/// One device as `ip -d link` and `ip addr` would describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceView {
    /// Stable identity (across renames and moves).
    pub id: DevId,
    /// Its namespace, as the lab names it (`root` for the root one).
    pub netns: String,
    /// Its name.
    pub name: String,
    /// Its kind and links.
    pub kind: ViewKind,
    /// Its MAC address.
    pub mac: MacAddr,
    /// Its MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Has carrier.
    pub carrier: bool,
    /// The operational state `ip link` prints (UP, DOWN, LOWERLAYERDOWN, UNKNOWN).
    pub operstate: &'static str,
    /// The bridge it is a port of.
    pub master: Option<DevId>,
    /// As a bridge port: hairpin mode.
    pub hairpin: bool,
    /// Its IPv4 addresses.
    pub addrs: Vec<Ipv4Net>,
}

impl Sim {
    /// Every live device: namespaces in creation order (the root first),
    /// devices in their listing order within each.
    pub fn devices(&self) -> Vec<DeviceView> {
        let mut out = Vec::new();
        for (i, ns) in self.nss.iter().enumerate() {
            if !ns.alive {
                continue;
            }
            let ns = crate::device::NsId(i as u32);
            for id in self.devices_in(ns) {
                out.push(self.view(id));
            }
        }
        out
    }

    fn view(&self, id: DevId) -> DeviceView {
        let d = self.dev(id);
        let kind = match &d.kind {
            Kind::Loopback => ViewKind::Loopback,
            Kind::Veth { peer } => ViewKind::Veth { peer: *peer },
            Kind::Bridge(b) => ViewKind::Bridge {
                ports: b.ports.clone(),
            },
            Kind::Macvlan { lower, id: child } => {
                // A macvlan device always has its child in its lower's port.
                let info = self.ports.port(*lower).and_then(|p| p.info(*child).ok());
                ViewKind::Macvlan {
                    lower: *lower,
                    mode: info.as_ref().map_or(Mode::Vepa, |i| i.mode),
                    flags: info.as_ref().map_or(Flags::NONE, |i| i.flags),
                    sources: info.map(|i| i.sources).unwrap_or_default(),
                }
            }
        };
        DeviceView {
            id,
            netns: self.ns_name(d.ns).to_string(),
            name: d.name.clone(),
            kind,
            mac: d.mac,
            mtu: d.mtu,
            up: d.up,
            carrier: self.carrier(id),
            operstate: operstate(self, id),
            master: d.master,
            hairpin: d.hairpin,
            addrs: d.addrs.clone(),
        }
    }
}
