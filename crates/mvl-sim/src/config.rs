//! Configuration commands: namespaces, links, addresses, neighbours,
//! bridge ports — with the kernel's checks, errnos and side effects.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use mvl_core::{Errno, MacChange, MacvlanRef, NewMacvlan, Parent, Ports};

use crate::capture::{Capture, CaptureId, Captured};
use crate::device::{Bridge, DevId, Device, Kind, NsId, Stats};
use crate::error::SimError;
use crate::sim::Sim;
use mvl_iproute2::cmd::{Filter, Ipv4Net, LinkAdd, LinkSet, MacvlanChange, NeighSet, NewKind};
use mvl_iproute2::invalid_ifname;

fn einval(detail: impl Into<String>) -> SimError {
    SimError::kernel(Errno::EINVAL, detail)
}

impl Sim {
    /// `ip netns add NAME`.
    pub fn netns_add(&mut self, name: &str) -> Result<(), SimError> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(SimError::Unsupported(format!(
                "\"{name}\" is not a valid namespace name"
            )));
        }
        if self.netns(Some(name)).is_ok() {
            return Err(SimError::NetnsExists(name.to_string()));
        }
        self.new_netns(Some(name.to_string()));
        Ok(())
    }

    /// `ip netns del NAME`: the namespace goes, and with it every device in
    /// it (and their veth peers and macvlans elsewhere).
    pub fn netns_del(&mut self, name: &str) -> Result<(), SimError> {
        self.watching_carrier(|s| s.netns_del_request(name))
    }

    fn netns_del_request(&mut self, name: &str) -> Result<(), SimError> {
        let ns = self
            .netns(Some(name))
            .map_err(|_| SimError::NoNetnsToDelete(name.to_string()))?;
        let devs: Vec<DevId> = self.devices_in(ns).collect();
        self.delete_devices(devs);
        self.ns_by_name.remove(name);
        let n = &mut self.nss[ns.0 as usize];
        n.alive = false;
        n.neigh.clear();
        self.sync();
        Ok(())
    }

    fn target_ns(&self, ns: NsId, netns: &Option<String>) -> Result<NsId, SimError> {
        match netns {
            Some(n) => self.netns(Some(n)),
            None => Ok(ns),
        }
    }

    fn check_new_name(&self, ns: NsId, name: &str) -> Result<(), SimError> {
        if let Some(why) = invalid_ifname(name) {
            return Err(einval(format!("\"{name}\": {why}")));
        }
        if self.find(ns, name).is_ok() {
            return Err(SimError::kernel(
                Errno::EEXIST,
                format!("a device named {name} exists in {}", self.ns_name(ns)),
            ));
        }
        Ok(())
    }

    fn auto_name(&self, ns: NsId, prefix: &str, taken: &[&str]) -> String {
        (0..)
            .map(|i| format!("{prefix}{i}"))
            .find(|n| self.find(ns, n).is_err() && !taken.contains(&n.as_str()))
            .expect("some index is free")
    }

    fn blank_device(&self, ns: NsId, name: String, mac: mvl_core::MacAddr, kind: Kind) -> Device {
        Device {
            ns,
            ifindex: 0,
            name,
            mac,
            mac_set: false,
            mtu: 1500,
            min_mtu: 68,
            max_mtu: 65535,
            up: false,
            ever_up: false,
            promisc: false,
            allmulti: false,
            kind,
            master: None,
            hairpin: false,
            port_enabled: false,
            addrs: Vec::new(),
            addr_since: Vec::new(),
            up_since: 0,
            stats: Stats::default(),
        }
    }

    fn check_mtu_range(&self, mtu: u32, min: u32, max: u32) -> Result<(), SimError> {
        if mtu < min {
            return Err(SimError::Kernel {
                errno: Errno::EINVAL,
                extack: Some("mtu less than device minimum"),
                detail: format!("MTU {mtu} < {min}"),
            });
        }
        if mtu > max {
            return Err(SimError::Kernel {
                errno: Errno::EINVAL,
                extack: Some("mtu greater than device maximum"),
                detail: format!("MTU {mtu} > {max}"),
            });
        }
        Ok(())
    }

    fn check_mac(mac: mvl_core::MacAddr, dev: &str) -> Result<(), SimError> {
        match mvl_core::BadMac::of(mac) {
            Some(why) => Err(SimError::kernel(
                Errno::EADDRNOTAVAIL,
                format!("{dev}: {mac}: {why}"),
            )),
            None => Ok(()),
        }
    }

    /// `ip link add ...`.
    pub fn link_add(&mut self, ns: NsId, req: &LinkAdd) -> Result<(), SimError> {
        let target = self.target_ns(ns, &req.netns)?;
        let result = match &req.kind {
            NewKind::Veth {
                peer,
                peer_address,
                peer_mtu,
                peer_netns,
            } => {
                let peer_ns = self.target_ns(ns, peer_netns)?;
                self.add_veth(target, req, peer_ns, peer.clone(), *peer_address, *peer_mtu)
            }
            NewKind::Bridge => self.add_bridge(target, req),
            NewKind::Macvlan { link, opts } => self.add_macvlan(ns, target, req, link, opts),
        };
        self.sync();
        result
    }

    fn add_veth(
        &mut self,
        ns: NsId,
        req: &LinkAdd,
        peer_ns: NsId,
        peer: Option<String>,
        peer_address: Option<mvl_core::MacAddr>,
        peer_mtu: Option<u32>,
    ) -> Result<(), SimError> {
        let name = match &req.name {
            Some(n) => n.clone(),
            None => self.auto_name(ns, "veth", &[]),
        };
        let peer_name = match peer {
            Some(p) => p,
            None => self.auto_name(peer_ns, "veth", &[name.as_str()]),
        };
        self.check_new_name(ns, &name)?;
        self.check_new_name(peer_ns, &peer_name)?;
        if ns == peer_ns && name == peer_name {
            return Err(SimError::kernel(
                Errno::EEXIST,
                format!("both ends of the veth pair are named {name}"),
            ));
        }
        for (m, n) in [(req.address, &name), (peer_address, &peer_name)] {
            if let Some(m) = m {
                Self::check_mac(m, n)?;
            }
        }
        for m in [req.mtu, peer_mtu].into_iter().flatten() {
            self.check_mtu_range(m, 68, 65535)?;
        }
        let peer_mac = match peer_address {
            Some(m) => m,
            None => self.random_mac(),
        };
        let mac = match req.address {
            Some(m) => m,
            None => self.random_mac(),
        };
        // The peer registers first and so gets the lower ifindex.
        let placeholder = DevId(u32::MAX);
        let mut p = self.blank_device(peer_ns, peer_name, peer_mac, Kind::Veth { peer: placeholder });
        p.mtu = peer_mtu.unwrap_or(1500);
        let pid = self.register(p);
        let mut d = self.blank_device(ns, name, mac, Kind::Veth { peer: pid });
        d.mtu = req.mtu.unwrap_or(1500);
        let did = self.register(d);
        self.dev_mut(pid).kind = Kind::Veth { peer: did };
        Ok(())
    }

    fn add_bridge(&mut self, ns: NsId, req: &LinkAdd) -> Result<(), SimError> {
        let name = match &req.name {
            Some(n) => n.clone(),
            None => self.auto_name(ns, "bridge", &[]),
        };
        self.check_new_name(ns, &name)?;
        if let Some(m) = req.address {
            Self::check_mac(m, &name)?;
        }
        if let Some(m) = req.mtu {
            self.check_mtu_range(m, 68, 65535)?;
        }
        let mac = match req.address {
            Some(m) => m,
            None => self.random_mac(),
        };
        let mut d = self.blank_device(ns, name, mac, Kind::Bridge(Bridge::default()));
        d.mac_set = req.address.is_some();
        d.mtu = req.mtu.unwrap_or(1500);
        self.register(d);
        Ok(())
    }

    fn add_macvlan(
        &mut self,
        ns: NsId,
        target: NsId,
        req: &LinkAdd,
        link: &Option<String>,
        opts: &MacvlanChange,
    ) -> Result<(), SimError> {
        let link = link
            .as_deref()
            .ok_or_else(|| einval("a macvlan needs \"link DEV\": no lower device was given"))?;
        let parent_dev = self.find(ns, link)?;
        let name = match &req.name {
            Some(n) => n.clone(),
            None => self.auto_name(target, "macvlan", &[]),
        };
        self.check_new_name(target, &name)?;
        let parent = match self.macvlan_ref(parent_dev) {
            Some(r) => Parent::Macvlan(r),
            None => Parent::Lower(parent_dev),
        };
        let lower = Ports::<DevId>::resolve(parent);
        let info = self.lower_info(lower);
        let kind = self.lower_kind(lower);
        let mac = match req.address {
            Some(m) => m,
            None => self.random_mac(),
        };
        let new = NewMacvlan {
            name: name.clone(),
            mac,
            mtu: req.mtu,
            macvlan: opts.clone(),
        };
        let r = self.ports.create(parent, |_| (info, kind), new)?;
        let ci = self.ports.port(lower).expect("just created").info(r.id)?;
        let mut d = self.blank_device(target, name, ci.mac, Kind::Macvlan { lower, id: r.id });
        d.mtu = ci.mtu;
        d.max_mtu = self.dev(lower).max_mtu;
        d.mac_set = req.address.is_some();
        self.register(d);
        Ok(())
    }

    /// `ip link del DEV`.
    pub fn link_del(&mut self, ns: NsId, name: &str) -> Result<(), SimError> {
        self.watching_carrier(|s| s.link_del_request(ns, name))
    }

    fn link_del_request(&mut self, ns: NsId, name: &str) -> Result<(), SimError> {
        let id = self.find(ns, name)?;
        if matches!(self.dev(id).kind, Kind::Loopback) {
            return Err(SimError::kernel(
                Errno::EOPNOTSUPP,
                "the loopback device cannot be deleted",
            ));
        }
        self.delete_devices(vec![id]);
        self.sync();
        Ok(())
    }

    /// Deletes devices and everything that goes with them: veth peers,
    /// the macvlans of a deleted lower, the ports of a deleted bridge.
    pub(crate) fn delete_devices(&mut self, start: Vec<DevId>) {
        let mut doomed: BTreeSet<DevId> = BTreeSet::new();
        let mut todo = start;
        while let Some(id) = todo.pop() {
            if !self.exists(id) || !doomed.insert(id) {
                continue;
            }
            if let Kind::Veth { peer } = self.dev(id).kind {
                todo.push(peer);
            }
            if let Some(p) = self.ports.port(id) {
                for &c in p.children() {
                    if let Some(d) = self.child_dev(id, c) {
                        todo.push(d);
                    }
                }
            }
        }
        for &id in &doomed {
            if !self.exists(id) {
                continue;
            }
            self.forget_routes(id);
            match self.dev(id).kind.clone() {
                Kind::Macvlan { lower, id: cid }
                    if self.ports.port(lower).is_some_and(|p| p.contains(cid)) =>
                {
                    let res = self.ports.delete(MacvlanRef { lower, id: cid });
                    if let Ok(mvl_core::Deleted {
                        restore_lower_mac: Some(m),
                        ..
                    }) = res
                    {
                        if !doomed.contains(&lower) {
                            self.dev_mut(lower).mac = m;
                            self.flush_neigh_dev(lower);
                        }
                    }
                }
                Kind::Bridge(b) => {
                    for p in b.ports {
                        if self.exists(p) {
                            self.bridge_ports.remove(&p);
                            let d = self.dev_mut(p);
                            d.master = None;
                            d.hairpin = false;
                            d.port_enabled = false;
                        }
                    }
                }
                _ => {}
            }
            self.ports.remove_lower(id);
            if self.dev(id).master.is_some() {
                self.release_port(id);
            }
            self.flush_neigh_dev(id);
            let ns = self.dev(id).ns;
            self.nss[ns.0 as usize].devs.retain(|&d| d != id);
            if let Kind::Macvlan { lower, id: child } = self.dev(id).kind {
                self.children.remove(&(lower, child));
            }
            self.devs[id.0 as usize] = None;
        }
    }

    fn release_port(&mut self, port: DevId) {
        let Some(br) = self.dev(port).master else { return };
        self.flush_fdb_port(port);
        if let Kind::Bridge(b) = &mut self.dev_mut(br).kind {
            b.ports.retain(|&p| p != port);
        }
        self.bridge_ports.remove(&port);
        let d = self.dev_mut(port);
        d.master = None;
        d.hairpin = false;
        d.port_enabled = false;
        self.recalc_bridge_mac(br);
        self.bridge_mtu_auto(br);
    }

    /// A bridge whose address the user did not set takes the smallest
    /// address of its ports (`br_stp_recalculate_bridge_id`).
    fn recalc_bridge_mac(&mut self, br: DevId) {
        if !self.exists(br) || self.dev(br).mac_set {
            return;
        }
        let Kind::Bridge(b) = &self.dev(br).kind else {
            return;
        };
        if let Some(min) = b.ports.iter().map(|&p| self.dev(p).mac).min() {
            self.dev_mut(br).mac = min;
        }
    }

    /// `ip link set DEV ...`, applied in the kernel's order: the kind's
    /// own options, namespace, address, MTU, name, down, master, up and
    /// flags. As in the kernel, a refusal keeps the steps already done.
    pub fn link_set(&mut self, ns: NsId, req: &LinkSet) -> Result<(), SimError> {
        self.watching_carrier(|s| s.link_set_request(ns, req))
    }

    fn link_set_request(&mut self, ns: NsId, req: &LinkSet) -> Result<(), SimError> {
        let id = self.find(ns, &req.dev)?;
        // iproute2 looks these up itself before it asks the kernel.
        let target = self
            .target_ns(ns, &req.netns)
            .map_err(|_| SimError::BadArgument {
                word: req.netns.clone().unwrap_or_default(),
                why: "Invalid \"netns\" value",
            })?;
        if let Some(Some(m)) = &req.master {
            self.find(ns, m).map_err(|_| SimError::BadArgument {
                word: m.clone(),
                why: "Device does not exist",
            })?;
        }
        let r = self.link_set_steps(id, target, req);
        self.sync();
        r
    }

    fn link_set_steps(&mut self, id: DevId, target: NsId, req: &LinkSet) -> Result<(), SimError> {
        let ns = self.dev(id).ns;
        if let Some(opts) = &req.macvlan {
            let Some(r) = self.macvlan_ref(id) else {
                return Err(SimError::kernel(
                    Errno::EOPNOTSUPP,
                    format!("{} is a {}, not a macvlan", req.dev, self.dev(id).kind.name()),
                ));
            };
            let res = self
                .ports
                .port_mut(r.lower)
                .expect("a macvlan has a port")
                .change(r.id, opts);
            res?;
        }
        if req.fdb_flush {
            match &mut self.dev_mut(id).kind {
                Kind::Bridge(b) => b.fdb.clear(),
                _ => {
                    return Err(SimError::kernel(
                        Errno::EOPNOTSUPP,
                        format!("{} is not a bridge", req.dev),
                    ))
                }
            }
        }
        if target != ns {
            self.move_to(id, target)?;
        }
        if let Some(mac) = req.address {
            self.set_address(id, mac)?;
        }
        if let Some(mtu) = req.mtu {
            self.set_mtu(id, mtu)?;
        }
        if let Some(name) = &req.name {
            self.rename(id, name)?;
        }
        if req.up == Some(false) {
            self.set_up(id, false)?;
        }
        if let Some(master) = &req.master {
            match master {
                Some(m) => {
                    let br = self.find(self.dev(id).ns, m)?;
                    self.enslave(id, br)?;
                }
                None => self.release_port(id),
            }
        }
        if req.up == Some(true) {
            self.set_up(id, true)?;
        }
        if let Some(on) = req.promisc {
            self.dev_mut(id).promisc = on;
            if let Some(r) = self.macvlan_ref(id) {
                self.ports
                    .port_mut(r.lower)
                    .expect("port")
                    .set_promisc(r.id, on)?;
            }
        }
        if let Some(on) = req.allmulti {
            self.dev_mut(id).allmulti = on;
            if let Some(r) = self.macvlan_ref(id) {
                self.ports
                    .port_mut(r.lower)
                    .expect("port")
                    .set_allmulti(r.id, on)?;
            }
        }
        Ok(())
    }

    /// Moves a device to another namespace: it arrives down, without
    /// addresses, keeping its ifindex when free.
    fn move_to(&mut self, id: DevId, target: NsId) -> Result<(), SimError> {
        let d = self.dev(id);
        if matches!(d.kind, Kind::Loopback | Kind::Bridge(_)) {
            return Err(SimError::kernel_says(
                Errno::EINVAL,
                "The interface netns is immutable",
                format!(
                    "{} is a {} device, which cannot change namespace",
                    d.name,
                    d.kind.name()
                ),
            ));
        }
        if self.find(target, &d.name).is_ok() {
            return Err(SimError::kernel(
                Errno::EEXIST,
                format!("a device named {} exists in {}", d.name, self.ns_name(target)),
            ));
        }
        if d.up {
            self.set_up(id, false)?;
        }
        if self.dev(id).master.is_some() {
            self.release_port(id);
        }
        self.flush_neigh_dev(id);
        let want = self.dev(id).ifindex;
        let ifindex = self.alloc_ifindex(target, Some(want));
        let from = self.dev(id).ns;
        self.nss[from.0 as usize].devs.retain(|&d| d != id);
        self.nss[target.0 as usize].devs.push(id);
        let d = self.dev_mut(id);
        d.ns = target;
        d.ifindex = ifindex;
        d.addrs.clear();
        d.addr_since.clear();
        Ok(())
    }

    fn rename(&mut self, id: DevId, name: &str) -> Result<(), SimError> {
        let d = self.dev(id);
        if d.name == name {
            return Ok(());
        }
        // Linux 6.18 renames up devices too (observed).
        let ns = d.ns;
        self.check_new_name(ns, name)?;
        self.dev_mut(id).name = name.to_string();
        if let Some(r) = self.macvlan_ref(id) {
            self.ports.port_mut(r.lower).expect("port").rename(r.id, name)?;
        }
        Ok(())
    }

    fn set_address(&mut self, id: DevId, mac: mvl_core::MacAddr) -> Result<(), SimError> {
        let name = self.dev(id).name.clone();
        if matches!(self.dev(id).kind, Kind::Loopback) {
            return Err(SimError::kernel(
                Errno::EOPNOTSUPP,
                "the loopback device has no settable address",
            ));
        }
        Self::check_mac(mac, &name)?;
        if self.dev(id).mac == mac {
            return Ok(());
        }
        if let Some(r) = self.macvlan_ref(id) {
            match self.ports.port_mut(r.lower).expect("port").set_mac(r.id, mac)? {
                MacChange::Macvlan => {}
                MacChange::Lower(m) => self.lower_address_changed(r.lower, m),
            }
            self.dev_mut(id).mac = mac;
            self.dev_mut(id).mac_set = true;
            self.flush_neigh_dev(id);
            return Ok(());
        }
        self.dev_mut(id).mac_set = true;
        self.lower_address_changed(id, mac);
        if self.ports.port(id).is_some() {
            if let Some(c) = self.ports.port_mut(id).expect("checked").lower_mac_changed(mac) {
                if let Some(cd) = self.child_dev(id, c) {
                    self.dev_mut(cd).mac = mac;
                    self.flush_neigh_dev(cd);
                }
            }
        }
        Ok(())
    }

    /// A non-macvlan device's address changed: neighbours and bridges follow.
    fn lower_address_changed(&mut self, id: DevId, mac: mvl_core::MacAddr) {
        self.dev_mut(id).mac = mac;
        self.flush_neigh_dev(id);
        if let Some(br) = self.dev(id).master {
            self.recalc_bridge_mac(br);
        }
    }

    fn set_mtu(&mut self, id: DevId, mtu: u32) -> Result<(), SimError> {
        // `dev_set_mtu_ext`: the same MTU again is no change at all.
        if self.dev(id).mtu == mtu {
            return Ok(());
        }
        if let Some(r) = self.macvlan_ref(id) {
            self.ports.port_mut(r.lower).expect("port").set_mtu(r.id, mtu)?;
            self.mtu_changed(id, mtu);
            return Ok(());
        }
        let d = self.dev(id);
        if !matches!(d.kind, Kind::Loopback) {
            self.check_mtu_range(mtu, d.min_mtu, d.max_mtu)?;
        }
        if let Kind::Bridge(b) = &mut self.dev_mut(id).kind {
            b.mtu_by_user = true;
        }
        self.mtu_changed(id, mtu);
        Ok(())
    }

    /// `NETDEV_CHANGEMTU`: a lower drags its bigger macvlans down to its
    /// new MTU; a bridge port's bridge follows its smallest port.
    fn mtu_changed(&mut self, id: DevId, mtu: u32) {
        self.dev_mut(id).mtu = mtu;
        let lowered = self
            .ports
            .port_mut(id)
            .map(|p| p.lower_mtu_changed(mtu))
            .unwrap_or_default();
        for c in lowered {
            if let Some(cd) = self.child_dev(id, c) {
                self.mtu_changed(cd, mtu);
            }
        }
        if let Some(br) = self.dev(id).master {
            self.bridge_mtu_auto(br);
        }
    }

    /// `br_mtu_auto_adjust`: a bridge whose MTU the user did not set takes
    /// its smallest port's (1500 without ports).
    fn bridge_mtu_auto(&mut self, br: DevId) {
        let Kind::Bridge(b) = &self.dev(br).kind else {
            return;
        };
        if b.mtu_by_user {
            return;
        }
        let min = b.ports.iter().map(|&p| self.dev(p).mtu).min().unwrap_or(1500);
        if min != self.dev(br).mtu {
            self.mtu_changed(br, min);
        }
    }

    fn set_up(&mut self, id: DevId, up: bool) -> Result<(), SimError> {
        if self.dev(id).up == up {
            return Ok(());
        }
        if let Some(r) = self.macvlan_ref(id) {
            let port = self.ports.port_mut(r.lower).expect("port");
            if up {
                port.open(r.id)?;
            } else {
                port.stop(r.id)?;
            }
        }
        let stamp = self.next_order();
        let d = self.dev_mut(id);
        d.up = up;
        if up {
            d.ever_up = true;
            d.up_since = stamp;
            if matches!(d.kind, Kind::Loopback) && d.addrs.is_empty() {
                d.addrs
                    .push(Ipv4Net::new(std::net::Ipv4Addr::LOCALHOST, 8).expect("8 <= 32"));
                d.addr_since.push(stamp);
                let ns = d.ns;
                self.nss[ns.0 as usize].local_table = true;
            }
        } else {
            self.flush_neigh_dev(id);
            self.forget_routes(id);
        }
        Ok(())
    }

    fn enslave(&mut self, id: DevId, br: DevId) -> Result<(), SimError> {
        if self.dev(id).master == Some(br) {
            return Ok(());
        }
        let (name, brname) = (self.dev(id).name.clone(), self.dev(br).name.clone());
        if !matches!(self.dev(br).kind, Kind::Bridge(_)) {
            return Err(SimError::kernel(
                Errno::EOPNOTSUPP,
                format!("{brname} is not a bridge"),
            ));
        }
        match self.dev(id).kind {
            Kind::Loopback => return Err(einval(format!("{name}: loopback cannot join a bridge"))),
            Kind::Bridge(_) => {
                return Err(SimError::kernel_says(
                    mvl_core::Errno::EINVAL,
                    "Can not enslave a bridge to a bridge",
                    format!("{name} is a bridge: bridges do not nest"),
                ))
            }
            _ => {}
        }
        self.ports.check_enslave(id, &brname)?;
        if self.dev(id).master.is_some() {
            self.release_port(id);
        }
        if let Kind::Bridge(b) = &mut self.dev_mut(br).kind {
            b.ports.push(id);
            b.had_port = true;
        }
        self.dev_mut(id).master = Some(br);
        self.bridge_ports.insert(id);
        self.recalc_bridge_mac(br);
        self.bridge_mtu_auto(br);
        Ok(())
    }

    /// `bridge link set dev X hairpin on|off`.
    pub fn bridge_hairpin(&mut self, ns: NsId, dev: &str, on: bool) -> Result<(), SimError> {
        let id = self.find(ns, dev)?;
        if self.dev(id).master.is_none() {
            return Err(SimError::kernel(
                Errno::EOPNOTSUPP,
                format!("{dev} is not a bridge port"),
            ));
        }
        self.dev_mut(id).hairpin = on;
        Ok(())
    }

    /// `ip addr add CIDR dev X`.
    pub fn addr_add(&mut self, ns: NsId, cidr: Ipv4Net, dev: &str) -> Result<(), SimError> {
        let id = self.find(ns, dev)?;
        if self.dev(id).addrs.contains(&cidr) {
            return Err(SimError::kernel_says(
                Errno::EEXIST,
                "ipv4: Address already assigned",
                format!("{dev} already has {cidr}"),
            ));
        }
        let stamp = self.next_order();
        self.nss[ns.0 as usize].local_table = true;
        let d = self.dev_mut(id);
        d.addrs.push(cidr);
        d.addr_since.push(stamp);
        Ok(())
    }

    /// `ip addr del CIDR dev X` (a bare address matches any prefix).
    pub fn addr_del(&mut self, ns: NsId, cidr: Ipv4Net, dev: &str) -> Result<(), SimError> {
        let id = self.find(ns, dev)?;
        let d = self.dev_mut(id);
        let addrs = &mut d.addrs;
        let pos = addrs.iter().position(|a| *a == cidr).or_else(|| {
            (cidr.prefix_len() == 32)
                .then(|| addrs.iter().position(|a| a.addr() == cidr.addr()))
                .flatten()
        });
        match pos {
            Some(p) => {
                let gone = d.addrs.remove(p);
                d.addr_since.remove(p);
                self.address_gone(id, gone.addr());
                Ok(())
            }
            None => Err(SimError::kernel_says(
                Errno::EADDRNOTAVAIL,
                "ipv4: Address not found",
                format!("{dev} has no address {cidr}"),
            )),
        }
    }

    /// `ip neigh flush all|dev X`.
    pub fn neigh_flush_cmd(&mut self, ns: NsId, dev: Option<&str>) -> Result<(), SimError> {
        let d = dev.map(|n| self.find(ns, n)).transpose()?;
        self.flush_neigh(ns, d);
        Ok(())
    }

    /// `ip neigh add|replace|change ADDR lladdr MAC dev DEV [nud STATE]`.
    pub fn neigh_set_cmd(&mut self, ns: NsId, req: &NeighSet) -> Result<(), SimError> {
        let dev = self.find(ns, &req.dev)?;
        self.neigh_set(ns, dev, req)
    }

    /// `ip neigh del ADDR dev DEV`.
    pub fn neigh_del_cmd(&mut self, ns: NsId, addr: Ipv4Addr, dev: &str) -> Result<(), SimError> {
        let dev = self.find(ns, dev)?;
        self.neigh_del(ns, dev, addr)
    }

    /// Starts `tcpdump -i DEV [-c N] [filter]`.
    pub fn tcpdump_start(
        &mut self,
        ns: NsId,
        dev: &str,
        filter: Filter,
        limit: Option<u32>,
    ) -> Result<CaptureId, SimError> {
        // libpcap's words when it cannot open the device.
        let id = self.find(ns, dev).map_err(|_| {
            SimError::Tool(format!(
                "tcpdump: {dev}: No such device exists\n(No such device exists)"
            ))
        })?;
        if !self.dev(id).up {
            return Err(SimError::Tool(format!("tcpdump: {dev}: That device is not up")));
        }
        self.captures.list.push(Capture {
            dev: id,
            filter,
            limit,
            frames: Vec::new(),
        });
        Ok(CaptureId(self.captures.list.len() - 1))
    }

    /// What a capture has seen so far.
    pub fn captured(&self, id: CaptureId) -> &[Captured] {
        &self.captures.list[id.0].frames
    }

    /// Records every frame of every device from now on (for `--pcap`).
    pub fn capture_everything(&mut self) {
        self.captures.all.get_or_insert_with(Default::default);
    }

    /// Every device's frames, as `(namespace, device, frames)`; devices
    /// deleted since are named by their last name.
    pub fn everything_captured(&self) -> Vec<(String, String, &[Captured])> {
        let Some(all) = &self.captures.all else {
            return Vec::new();
        };
        all.iter()
            .map(
                |(id, frames)| match self.devs.get(id.0 as usize).and_then(Option::as_ref) {
                    Some(d) => (self.ns_name(d.ns).to_string(), d.name.clone(), &frames[..]),
                    None => ("gone".to_string(), format!("dev{}", id.0), &frames[..]),
                },
            )
            .collect()
    }
}
