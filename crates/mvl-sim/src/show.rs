//! What `ip link`, `ip addr`, `ip neigh`, `bridge link`, `bridge fdb` and
//! `ip netns list` print, in iproute2's format (as of iproute2 6.1).

use std::fmt::Write;

use crate::device::{DevId, Kind, NsId};
use crate::engine::FDB_AGEING;
use crate::error::SimError;
use crate::neigh::Nud;
use crate::sim::Sim;
use mvl_core::MacAddr;
use mvl_iproute2::cmd::{AddrShow, LinkShow, ShowForm};
use mvl_iproute2::show::{
    addr_text, addrs_brief_json, addrs_json, device_flags, links_brief_json, links_json, neighs_text,
    AddrView, BridgePortView, BridgeView, Details, How, KindData, LinkNetns, LinkView, Lower, MacvlanView,
    NeighView, ARPHRD_ETHER, ARPHRD_LOOPBACK,
};

/// The kernel's operational state, as `ip link` prints it.
pub(crate) fn operstate(sim: &Sim, id: DevId) -> &'static str {
    let d = sim.dev(id);
    if !d.up {
        return "DOWN";
    }
    // A loopback, and a bridge whose carrier never changed, report no state.
    match &d.kind {
        Kind::Loopback => return "UNKNOWN",
        Kind::Bridge(b) if !b.had_port => return "UNKNOWN",
        _ => {}
    }
    if sim.carrier(id) {
        return "UP";
    }
    // No carrier: look the link up by ifindex in the device's own namespace
    // (`default_operstate`); found and not up means the lower layer is down.
    match sim.iflink(id).map(|l| sim.dev(l).ifindex) {
        Some(ifindex) => match sim.devices_in(d.ns).find(|&x| sim.dev(x).ifindex == ifindex) {
            Some(x) if !sim.oper_up(x) => "LOWERLAYERDOWN",
            _ => "DOWN",
        },
        None => "DOWN",
    }
}

impl Sim {
    fn netnsid(&mut self, viewer: NsId, other: NsId) -> usize {
        let ids = &mut self.nss[viewer.0 as usize].peer_ids;
        match ids.iter().position(|&n| n == other) {
            Some(i) => i,
            None => {
                ids.push(other);
                ids.len() - 1
            }
        }
    }

    fn mdown(&self, id: DevId) -> bool {
        let d = self.dev(id);
        self.iflink(id)
            .is_some_and(|l| self.dev(l).ns == d.ns && !self.dev(l).up)
    }

    fn flags(&self, id: DevId) -> u32 {
        let d = self.dev(id);
        let loopback = matches!(d.kind, Kind::Loopback);
        device_flags(loopback, d.up, self.carrier(id), d.promisc, d.allmulti)
    }

    /// The lower as `name@link` names it, and its namespace when elsewhere.
    fn lower_of(&mut self, id: DevId) -> (Option<Lower>, Option<LinkNetns>) {
        let ns = self.dev(id).ns;
        match self.iflink(id) {
            Some(l) if self.dev(l).ns == ns => (Some(Lower::Here(self.dev(l).name.clone())), None),
            Some(l) => {
                let (lns, lidx) = (self.dev(l).ns, self.dev(l).ifindex);
                let netns = match self.nss[lns.0 as usize].name.clone() {
                    Some(n) => LinkNetns {
                        id: None,
                        name: Some(n),
                    },
                    None => LinkNetns {
                        id: Some(self.netnsid(ns, lns) as i32),
                        name: None,
                    },
                };
                (Some(Lower::Elsewhere(lidx)), Some(netns))
            }
            None => (None, None),
        }
    }

    /// A bridge port's STP state as iproute2 names it.
    fn port_state(&self, id: DevId) -> &'static str {
        if self.port_forwarding(id) {
            "forwarding"
        } else {
            "disabled"
        }
    }

    fn promiscuity(&self, id: DevId) -> (u32, u32) {
        let d = self.dev(id);
        let mut p = u32::from(d.promisc) + u32::from(d.master.is_some());
        if let Some(port) = self.ports.port(id) {
            p += port.lower_promiscuity();
        }
        (p, u32::from(d.allmulti) + u32::from(d.master.is_some()))
    }

    fn details(&self, id: DevId) -> Details {
        let d = self.dev(id);
        let (p, a) = self.promiscuity(id);
        let (kind, kind_data) = match &d.kind {
            Kind::Loopback => (None, None),
            Kind::Veth { .. } => (Some("veth"), None),
            Kind::Bridge(_) => (
                Some("bridge"),
                Some(KindData::Bridge(BridgeView {
                    forward_delay: 1500,
                    hello_time: 200,
                    max_age: 2000,
                    ageing_time: (FDB_AGEING.0 / 10_000_000) as u32,
                    stp_state: 0,
                    priority: 32768,
                    vlan_filtering: 0,
                })),
            ),
            Kind::Macvlan { lower, id: cid } => match self.ports.port(*lower).and_then(|p| p.info(*cid).ok())
            {
                Some(i) => (Some("macvlan"), Some(KindData::Macvlan(MacvlanView::from(&i)))),
                None => (None, None),
            },
        };
        let slave_data = d.master.map(|_| BridgePortView {
            state: self.port_state(id),
            priority: 32,
            cost: 2,
            hairpin: d.hairpin,
            learning: true,
            flood: true,
        });
        Details {
            promiscuity: Some(p),
            allmulti: Some(a),
            min_mtu: Some(d.min_mtu),
            max_mtu: Some(d.max_mtu),
            kind: kind.map(str::to_string),
            kind_data,
            slave_kind: slave_data.as_ref().map(|_| "bridge".to_string()),
            slave_data,
            ..Details::default()
        }
    }

    /// Device `id` as iproute2 shows it.
    /// (The details and counters only when `how` shows them: a plain
    /// listing builds neither.)
    fn link_view(&mut self, id: DevId, how: How) -> LinkView {
        let (lower, link_netns) = self.lower_of(id);
        let d = self.dev(id);
        let loopback = matches!(d.kind, Kind::Loopback);
        LinkView {
            index: d.ifindex,
            name: d.name.clone(),
            lower,
            flags: self.flags(id),
            lower_down: self.mdown(id),
            mtu: Some(d.mtu),
            qdisc: Some(if d.ever_up { "noqueue" } else { "noop" }.to_string()),
            master: d.master.map(|m| self.dev(m).name.clone()),
            operstate: operstate(self, id),
            link_mode: Some(0),
            group: Some(0),
            txqlen: Some(1000),
            link_type: if loopback { ARPHRD_LOOPBACK } else { ARPHRD_ETHER },
            address: Some(if loopback { MacAddr::ZERO } else { d.mac }),
            broadcast: Some(if loopback {
                MacAddr::ZERO
            } else {
                MacAddr::BROADCAST
            }),
            link_netns,
            details: if how.details {
                self.details(id)
            } else {
                Details::default()
            },
            stats: (how.stats > 0).then_some(d.stats),
            carrier_changes: None,
        }
    }

    fn selected(&self, ns: NsId, dev: &Option<String>) -> Result<Vec<DevId>, SimError> {
        match dev {
            Some(n) => Ok(vec![self
                .find(ns, n)
                .map_err(|_| SimError::NoDeviceShown(n.clone()))?]),
            None => Ok(self.devices_in(ns).collect()),
        }
    }

    /// `ip [-d] [-s] [-br|-o|-j] link show [dev X] [type K] [master M] [up]`.
    pub fn link_show(&mut self, ns: NsId, req: &LinkShow) -> Result<String, SimError> {
        let master = match &req.master {
            Some(m) => Some(self.find(ns, m).map_err(|_| SimError::BadArgument {
                word: m.clone(),
                why: "Device does not exist",
            })?),
            None => None,
        };
        let how = How {
            details: req.details,
            stats: u8::from(req.stats),
        };
        let mut views = Vec::new();
        for id in self.selected(ns, &req.dev)? {
            let d = self.dev(id);
            if req.kind.as_deref().is_some_and(|k| k != d.kind.name())
                || (req.up && !d.up)
                || master.is_some_and(|m| d.master != Some(m))
            {
                continue;
            }
            views.push(self.link_view(id, how));
        }
        Ok(match (req.form.json, req.form.brief) {
            (true, true) => links_brief_json(&views, req.form.pretty),
            (true, false) => links_json(&views, how, req.form.pretty),
            _ => views.iter().map(|v| v.render(how, req.form)).collect(),
        })
    }

    /// The IPv4 addresses of device `id` as `ip addr` shows them.
    fn addr_views(&self, id: DevId) -> Vec<AddrView> {
        let d = self.dev(id);
        let scope = if matches!(d.kind, Kind::Loopback) {
            "host"
        } else {
            "global"
        };
        d.addrs
            .iter()
            .enumerate()
            .map(|(i, a)| AddrView {
                local: *a,
                scope,
                secondary: d.secondary(i),
                label: d.name.clone(),
            })
            .collect()
    }

    /// `ip [-4] [-br|-o|-j] addr show [dev X] [up]`.
    pub fn addr_show(&mut self, ns: NsId, req: &AddrShow) -> Result<String, SimError> {
        let mut shown = Vec::new();
        for id in self.selected(ns, &req.dev)? {
            let d = self.dev(id);
            if (req.up && !d.up) || (req.ipv4 && d.addrs.is_empty()) {
                continue;
            }
            shown.push((self.link_view(id, How::default()), self.addr_views(id)));
        }
        let links = shown.iter().map(|(l, a)| (l, a.as_slice()));
        match (req.form.json, req.form.brief) {
            (true, true) => return Ok(addrs_brief_json(links, req.form.pretty)),
            (true, false) => return Ok(addrs_json(links, req.ipv4, req.form.pretty)),
            _ => {}
        }
        Ok(shown
            .iter()
            .map(|(l, a)| addr_text(l, a, req.ipv4, req.form))
            .collect())
    }

    /// `ip addr flush dev X`: every IPv4 address goes, and the routes that
    /// go with them.
    pub fn addr_flush(&mut self, ns: NsId, dev: &str) -> Result<(), SimError> {
        let id = self
            .find(ns, dev)
            .map_err(|_| SimError::NoDeviceShown(dev.to_string()))?;
        while let Some(a) = self.dev(id).addrs.last().copied() {
            self.addr_del(ns, a, dev)?;
        }
        Ok(())
    }

    /// `ip [-br] [-j [-p]] neigh show`.
    pub fn neigh_show(&self, ns: NsId, form: ShowForm) -> String {
        let entries: Vec<NeighView> = self.nss[ns.0 as usize]
            .neigh
            .iter()
            .map(|(&(dev, ip), e)| {
                let state = e.state_at(self.now);
                NeighView {
                    dst: ip,
                    dev: self.dev(dev).name.clone(),
                    lladdr: e
                        .lladdr
                        .filter(|_| !matches!(state, Nud::Incomplete | Nud::Failed)),
                    state: state.as_str(),
                }
            })
            .collect();
        neighs_text(&entries, form)
    }

    /// `bridge link show`.
    pub fn bridge_link_show(&mut self, ns: NsId) -> String {
        let mut out = String::new();
        let ports: Vec<DevId> = self
            .devices_in(ns)
            .filter(|&d| self.dev(d).master.is_some())
            .collect();
        for id in ports {
            let v = self.link_view(id, How::default());
            let _ = writeln!(
                out,
                "{}: {}: <{}> mtu {} master {} state {} priority 32 cost 2 ",
                v.index,
                v.name_at(),
                v.flag_words().join(","),
                v.mtu.unwrap_or_default(),
                v.master.unwrap_or_default(),
                self.port_state(id)
            );
        }
        out
    }

    /// `bridge fdb show`: learned entries, each port's and bridge's own
    /// address (permanent), and the multicast entries of every up device.
    pub fn bridge_fdb_show(&self, ns: NsId) -> String {
        let mut out = String::new();
        for id in self.devices_in(ns) {
            let d = self.dev(id);
            match &d.kind {
                Kind::Bridge(b) => {
                    if d.up {
                        let _ = writeln!(out, "01:00:5e:00:00:01 dev {} self permanent", d.name);
                    }
                    let _ = writeln!(out, "{} dev {} vlan 1 master {} permanent", d.mac, d.name, d.name);
                    let _ = writeln!(out, "{} dev {} master {} permanent", d.mac, d.name, d.name);
                    for &p in &b.ports {
                        let pd = self.dev(p);
                        for (mac, (port, seen)) in &b.fdb {
                            if *port == p && self.now - *seen < FDB_AGEING {
                                let _ = writeln!(out, "{mac} dev {} master {} ", pd.name, d.name);
                            }
                        }
                        let _ = writeln!(
                            out,
                            "{} dev {} vlan 1 master {} permanent",
                            pd.mac, pd.name, d.name
                        );
                        let _ = writeln!(out, "{} dev {} master {} permanent", pd.mac, pd.name, d.name);
                    }
                }
                Kind::Loopback => {}
                _ if d.up => {
                    let _ = writeln!(out, "01:00:5e:00:00:01 dev {} self permanent", d.name);
                }
                _ => {}
            }
        }
        out
    }

    /// `ip netns list` (newest first, as iproute2 reads `/run/netns`).
    pub fn netns_list(&self) -> String {
        let mut names = self.netns_names();
        names.reverse();
        names.into_iter().map(|n| n + "\n").collect()
    }
}
