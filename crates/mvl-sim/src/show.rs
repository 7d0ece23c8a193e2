//! What `ip link`, `ip addr`, `ip neigh`, `bridge link`, `bridge fdb` and
//! `ip netns list` print, in iproute2's format (as of iproute2 6.1).

use std::fmt::Write;

use crate::device::{DevId, Kind, NsId};
use crate::engine::FDB_AGEING;
use crate::error::SimError;
use crate::neigh::Nud;
use crate::sim::Sim;
use mvl_iproute2::cmd::{AddrShow, LinkShow};
use mvl_iproute2::show::{device_flags, flag_words, MacvlanView};

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

    fn flags(&self, id: DevId) -> String {
        let d = self.dev(id);
        let loopback = matches!(d.kind, Kind::Loopback);
        let flags = device_flags(loopback, d.up, self.carrier(id), d.promisc, d.allmulti);
        let mdown = self
            .iflink(id)
            .is_some_and(|l| self.dev(l).ns == d.ns && !self.dev(l).up);
        flag_words(flags, mdown).join(",")
    }

    /// `name@link` and the `link-netns` suffix of the link/ether line.
    fn link_names(&mut self, id: DevId) -> (String, String) {
        let d = self.dev(id);
        let (ns, name) = (d.ns, d.name.clone());
        match self.iflink(id) {
            Some(l) if self.dev(l).ns == ns => (format!("{name}@{}", self.dev(l).name), String::new()),
            Some(l) => {
                let (lns, lidx) = (self.dev(l).ns, self.dev(l).ifindex);
                let suffix = match self.nss[lns.0 as usize].name.clone() {
                    Some(n) => format!(" link-netns {n}"),
                    None => format!(" link-netnsid {}", self.netnsid(ns, lns)),
                };
                (format!("{name}@if{lidx}"), suffix)
            }
            None => (name, String::new()),
        }
    }

    fn link_header(&mut self, id: DevId, with_mode: bool) -> String {
        let (at, netns) = self.link_names(id);
        let d = self.dev(id);
        let qdisc = if d.ever_up { "noqueue" } else { "noop" };
        let master = d
            .master
            .map(|m| format!(" master {}", self.dev(m).name))
            .unwrap_or_default();
        let mode = if with_mode { " mode DEFAULT" } else { "" };
        let ether = match d.kind {
            Kind::Loopback => "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00".to_string(),
            _ => format!("link/ether {} brd ff:ff:ff:ff:ff:ff{netns}", d.mac),
        };
        format!(
            "{}: {at}: <{}> mtu {} qdisc {qdisc}{master} state {}{mode} group default qlen 1000\n    {ether}",
            d.ifindex,
            self.flags(id),
            d.mtu,
            operstate(self, id)
        )
    }

    fn promiscuity(&self, id: DevId) -> (u32, u32) {
        let d = self.dev(id);
        let mut p = u32::from(d.promisc) + u32::from(d.master.is_some());
        if let Some(port) = self.ports.port(id) {
            p += port.lower_promiscuity();
        }
        (p, u32::from(d.allmulti) + u32::from(d.master.is_some()))
    }

    fn details(&self, id: DevId) -> String {
        let d = self.dev(id);
        let (p, a) = self.promiscuity(id);
        let mut s = format!(
            " promiscuity {p}  allmulti {a} minmtu {} maxmtu {} ",
            d.min_mtu, d.max_mtu
        );
        match &d.kind {
            Kind::Loopback => {}
            Kind::Veth { .. } => s.push_str("\n    veth "),
            Kind::Bridge(_) => s.push_str(&format!(
                "\n    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time {} stp_state 0 priority 32768 vlan_filtering 0 ",
                FDB_AGEING.0 / 10_000_000
            )),
            Kind::Macvlan { lower, id: cid } => {
                if let Some(i) = self.ports.port(*lower).and_then(|p| p.info(*cid).ok()) {
                    s.push_str("\n    macvlan ");
                    s.push_str(&MacvlanView::from(&i).text());
                }
            }
        }
        if d.master.is_some() {
            let state = if self.port_forwarding(id) {
                "forwarding"
            } else {
                "disabled"
            };
            s.push_str(&format!(
                "\n    bridge_slave state {state} priority 32 cost 2 hairpin {} learning on flood on ",
                if d.hairpin { "on" } else { "off" }
            ));
        }
        s
    }

    fn stats_lines(&self, id: DevId) -> String {
        let st = self.dev(id).stats;
        format!(
            "\n    RX:  bytes packets errors dropped  missed   mcast           \n{:>14}{:>8}{:>7}{:>8}{:>8}{:>8} \n    TX:  bytes packets errors dropped carrier collsns           \n{:>14}{:>8}{:>7}{:>8}{:>8}{:>8} ",
            st.rx_bytes, st.rx_packets, 0, st.rx_dropped, 0, st.multicast, st.tx_bytes, st.tx_packets, 0, st.tx_dropped, 0, 0
        )
    }

    fn selected(&self, ns: NsId, dev: &Option<String>) -> Result<Vec<DevId>, SimError> {
        match dev {
            Some(n) => Ok(vec![self
                .find(ns, n)
                .map_err(|_| SimError::NoDeviceShown(n.clone()))?]),
            None => Ok(self.devices_in(ns).collect()),
        }
    }

    /// `ip [-d] [-s] link show [dev X] [type K]`.
    pub fn link_show(&mut self, ns: NsId, req: &LinkShow) -> Result<String, SimError> {
        let mut out = String::new();
        for id in self.selected(ns, &req.dev)? {
            let kind = self.dev(id).kind.name();
            if req.kind.as_deref().is_some_and(|k| k != kind) || (req.up && !self.dev(id).up) {
                continue;
            }
            let mut s = self.link_header(id, true);
            if req.details {
                s.push_str(&self.details(id));
            }
            if req.stats {
                s.push_str(&self.stats_lines(id));
            }
            let _ = writeln!(out, "{s}");
        }
        Ok(out)
    }

    /// `ip [-4] addr show [dev X] [up]`.
    pub fn addr_show(&mut self, ns: NsId, req: &AddrShow) -> Result<String, SimError> {
        let mut out = String::new();
        for id in self.selected(ns, &req.dev)? {
            let d = self.dev(id);
            if (req.up && !d.up) || (req.ipv4 && d.addrs.is_empty()) {
                continue;
            }
            let header = self.link_header(id, false);
            // With -4 only the first line of the link is shown, not its link/ether.
            let header = if req.ipv4 {
                header.lines().next().unwrap_or_default().to_string()
            } else {
                header
            };
            let _ = writeln!(out, "{header}");
            let d = self.dev(id);
            for (i, a) in d.addrs.iter().enumerate() {
                let secondary = d.addrs[..i]
                    .iter()
                    .any(|p| p.prefix_len() == a.prefix_len() && p.contains(&a.addr()));
                let scope = if matches!(d.kind, Kind::Loopback) {
                    "host"
                } else {
                    "global"
                };
                let sec = if secondary { " secondary" } else { "" };
                let _ = writeln!(out, "    inet {a} scope {scope}{sec} {}", d.name);
                let _ = writeln!(out, "       valid_lft forever preferred_lft forever");
            }
        }
        Ok(out)
    }

    /// `ip neigh show`.
    pub fn neigh_show(&self, ns: NsId) -> String {
        let mut out = String::new();
        for (&(dev, ip), e) in self.nss[ns.0 as usize].neigh.iter() {
            let state = e.state_at(self.now);
            let ll = match (state, e.lladdr) {
                (Nud::Incomplete | Nud::Failed, _) | (_, None) => String::new(),
                (_, Some(m)) => format!(" lladdr {m}"),
            };
            let _ = writeln!(out, "{ip} dev {}{ll} {} ", self.dev(dev).name, state.as_str());
        }
        out
    }

    /// `bridge link show`.
    pub fn bridge_link_show(&mut self, ns: NsId) -> String {
        let mut out = String::new();
        let ports: Vec<DevId> = self
            .devices_in(ns)
            .filter(|&d| self.dev(d).master.is_some())
            .collect();
        for id in ports {
            let (at, _) = self.link_names(id);
            let d = self.dev(id);
            let state = if self.port_forwarding(id) {
                "forwarding"
            } else {
                "disabled"
            };
            let master = self.dev(d.master.expect("port")).name.clone();
            let _ = writeln!(
                out,
                "{}: {at}: <{}> mtu {} master {master} state {state} priority 32 cost 2 ",
                d.ifindex,
                self.flags(id),
                d.mtu
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
