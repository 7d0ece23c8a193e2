//! A lower's macvlan port as the kernel holds it, rebuilt from link dumps
//! into an `mvl_core::Port`: the lower, then each of its macvlans created
//! and brought up as the dumps show them. A request the kernel refused is
//! replayed on it (see `explain`), so the refusal is told by the core's
//! rules rather than by a second copy of them here.

use mvl_core::{
    ChildId, LowerInfo, LowerKind, MacAddr, MacaddrOp, MacvlanChange, Mode, NewMacvlan, Port, MAX_MTU,
};

use crate::link::{Link, LinkRef, ARPHRD_ETHER, ARPHRD_LOOPBACK, IFF_LOOPBACK, IFF_LOWER_UP, IFF_UP};
use crate::socket::Netlink;

impl Link {
    /// What a macvlan port knows of this device as its lower.
    pub fn lower_info(&self) -> LowerInfo {
        LowerInfo {
            name: self.name.clone(),
            mac: self.address.unwrap_or_default(),
            mtu: self.mtu.unwrap_or(1500),
            max_mtu: self.max_mtu.filter(|&m| m > 0).unwrap_or(MAX_MTU),
            admin_up: self.flags & IFF_UP != 0,
            carrier: self.flags & IFF_LOWER_UP != 0,
            unicast_filter: false,
            promisc: false,
            allmulti: false,
        }
    }
}

/// A port rebuilt from dumps, with the device behind each of its macvlans.
pub(crate) struct Rebuilt {
    pub port: Port,
    /// `(seen in the socket's namespace, ifindex there, id)` per macvlan.
    members: Vec<(bool, u32, ChildId)>,
}

impl Rebuilt {
    /// The macvlan that is device `index` of the socket's namespace.
    pub fn id_of(&self, index: u32) -> Option<ChildId> {
        self.members
            .iter()
            .find(|&&(here, i, _)| here && i == index)
            .map(|&(_, _, id)| id)
    }
}

impl Netlink {
    /// What `lower` (in the namespace `nsid` names, or this one) is to a new
    /// port: the checks of `macvlan_port_create`, with what already holds
    /// its frames named.
    pub fn lower_kind(&mut self, lower: &Link, nsid: Option<i32>) -> LowerKind {
        if lower.flags & IFF_LOOPBACK != 0 || lower.link_type == ARPHRD_LOOPBACK {
            return LowerKind::Loopback;
        }
        if lower.link_type != ARPHRD_ETHER {
            return LowerKind::NotEthernet;
        }
        if let Some(mi) = lower.master {
            let holder = match self.get_link_raw(&LinkRef::Index(mi), nsid) {
                Ok(m) => match m.kind.as_deref() {
                    Some("bridge") => format!("is a port of bridge {}", m.name),
                    Some("bond") => format!("is a slave of bond {}", m.name),
                    Some("team") => format!("is a port of team {}", m.name),
                    Some(k) => format!("is enslaved to {k} {}", m.name),
                    None => format!("is enslaved to {}", m.name),
                },
                Err(_) => format!("is enslaved to the device with index {mi}"),
            };
            return LowerKind::Busy(holder);
        }
        // Drivers that, like macvlan, take the lower's receive handler.
        let stacked = self.links_raw(nsid).ok().and_then(|links| {
            links.into_iter().find(|l| {
                l.link == Some(lower.index)
                    && l.link_netnsid.is_none()
                    && matches!(l.kind.as_deref(), Some("ipvlan" | "ipvtap" | "macsec"))
            })
        });
        match (stacked, &lower.slave_kind) {
            (Some(s), _) => LowerKind::Busy(format!("carries {} {}", s.kind.unwrap_or_default(), s.name)),
            (None, Some(k)) => LowerKind::Busy(format!("is a {k} port")),
            (None, None) => LowerKind::Ethernet,
        }
    }

    /// The port of `lower` (in the namespace `nsid` names, or this one) with
    /// the macvlans on it that this socket can see: those in the lower's
    /// namespace and, when that is another one, those here. `Err` is the
    /// core's refusal to make a port on `lower` at all, when it has none.
    pub(crate) fn port_of(&mut self, lower: &Link, nsid: Option<i32>) -> Result<Rebuilt, mvl_core::Error> {
        let on_lower = |l: &Link, netnsid: Option<i32>| {
            l.is_macvlan() && l.link == Some(lower.index) && l.link_netnsid == netnsid
        };
        let mut seen: Vec<(bool, Link)> = Vec::new();
        let there = self.links_raw(nsid).unwrap_or_default();
        seen.extend(
            there
                .into_iter()
                .filter(|l| on_lower(l, None))
                .map(|l| (nsid.is_none(), l)),
        );
        if nsid.is_some() {
            let here = self.links_raw(None).unwrap_or_default();
            seen.extend(here.into_iter().filter(|l| on_lower(l, nsid)).map(|l| (true, l)));
        }
        // Indices grow with creation, which orders the port's list.
        seen.sort_by_key(|(_, l)| l.index);
        let mut port = if seen.is_empty() {
            let kind = self.lower_kind(lower, nsid);
            Port::for_lower(lower.lower_info(), &kind)?
        } else {
            Port::new(lower.lower_info())
        };
        let mut members = Vec::new();
        for (here, l) in seen {
            if let Some(id) = add_member(&mut port, &l) {
                members.push((here, l.index, id));
            }
        }
        Ok(Rebuilt { port, members })
    }
}

/// Creates `l` on `port` as the dump shows it, and brings it up if it is.
fn add_member(port: &mut Port, l: &Link) -> Option<ChildId> {
    let info = l.macvlan.as_ref()?;
    let mode = info.mode.unwrap_or(Mode::Vepa);
    let req = NewMacvlan {
        name: l.name.clone(),
        mac: l.address.unwrap_or(MacAddr::ZERO),
        mtu: l.mtu,
        macvlan: MacvlanChange {
            mode: Some(mode),
            flags: Some(info.flags),
            macaddr: (mode == Mode::Source && !info.macaddrs.is_empty())
                .then(|| MacaddrOp::Set(info.macaddrs.clone())),
            bc_queue_len: info.bc_queue_len,
            bc_cutoff: info.bc_cutoff,
        },
    };
    // The lower's MTU may have dropped under it since; the kernel keeps the
    // macvlan, so keep it here too at the lower's.
    let id = port
        .create(req.clone())
        .or_else(|_| port.create(NewMacvlan { mtu: None, ..req }))
        .ok()?;
    if l.flags & IFF_UP != 0 {
        // Refused only when the lower took the macvlan's MAC since: the
        // kernel leaves it up, the replay leaves it down and holding nothing.
        let _ = port.open(id);
    }
    Some(id)
}
