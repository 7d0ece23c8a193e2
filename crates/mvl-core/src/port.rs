//! A port: one lower device and its macvlan children, with the lifecycle
//! rules of `macvlan_common_newlink`, `macvlan_open`/`stop`,
//! `macvlan_changelink`, `macvlan_set_mac_address` and the lower's events.

use std::cmp::Reverse;

use crate::error::{BadMac, Error};
use crate::mac::{MacAddr, MacKey, MacMap};
use crate::mode::{Flags, MacaddrOp, Mode};

/// Smallest MTU of a macvlan (`ETH_MIN_MTU`).
pub const MIN_MTU: u32 = 68;
/// Largest MTU of an Ethernet device whose driver sets none (`ETH_MAX_MTU`).
pub const MAX_MTU: u32 = 65535;
/// Default `bcqueuelen` of a macvlan.
pub const DEFAULT_BC_QUEUE_LEN: u32 = 1000;
/// Default `bclim` of a port.
pub const DEFAULT_BC_CUTOFF: i32 = 1;

/// Names a macvlan of a port. Ids are not reused while the port lives:
/// an id of a deleted macvlan stays invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildId {
    index: u32,
    generation: u32,
}

impl ChildId {
    /// A number unique among the port's live children (for messages).
    pub fn index(self) -> u32 {
        self.index
    }
}

/// What the port knows of its lower device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowerInfo {
    /// Its name (for messages; follows renames through [`Port::rename_lower`]).
    pub name: String,
    /// Its current MAC address.
    pub mac: MacAddr,
    /// Its MTU.
    pub mtu: u32,
    /// Its maximum MTU (a macvlan's maximum).
    pub max_mtu: u32,
    /// Administratively up.
    pub admin_up: bool,
    /// Carrier present.
    pub carrier: bool,
    /// The driver filters unicast (`IFF_UNICAST_FLT`). veth does not, so a
    /// veth lower goes promiscuous as soon as one macvlan is up.
    pub unicast_filter: bool,
    /// Promiscuous by the user's own request.
    pub promisc: bool,
    /// All-multicast by the user's own request.
    pub allmulti: bool,
}

impl LowerInfo {
    /// An up Ethernet lower with carrier, MTU 1500 (max 65535), no unicast filter.
    pub fn ethernet(name: &str, mac: MacAddr) -> LowerInfo {
        LowerInfo {
            name: name.to_string(),
            mac,
            mtu: 1500,
            max_mtu: 65535,
            admin_up: true,
            carrier: true,
            unicast_filter: false,
            promisc: false,
            allmulti: false,
        }
    }
}

/// What kind of device a lower is, checked when its port is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LowerKind {
    /// An Ethernet device free to carry macvlans.
    Ethernet,
    /// A loopback device (refused).
    Loopback,
    /// Not Ethernet (refused).
    NotEthernet,
    /// An Ethernet device whose frames already go to another driver, e.g.
    /// "is a port of bridge br0" (refused with EBUSY).
    Busy(String),
}

/// A request to create a macvlan (`RTM_NEWLINK`, kind macvlan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMacvlan {
    /// Its name.
    pub name: String,
    /// Its MAC: the caller's choice or a random locally administered one
    /// (passthru ignores it and takes the lower's).
    pub mac: MacAddr,
    /// MTU; `None` means the lower's.
    pub mtu: Option<u32>,
    /// The macvlan options: mode (`None` is the kernel's default, VEPA),
    /// flags, an initial source-list operation (mode source only),
    /// `bcqueuelen` (`None` is 1000) and `bclim` for the whole port.
    pub macvlan: MacvlanChange,
}

impl NewMacvlan {
    /// A request with every option at its default.
    pub fn new(name: &str, mac: MacAddr) -> NewMacvlan {
        NewMacvlan {
            name: name.to_string(),
            mac,
            mtu: None,
            macvlan: MacvlanChange::default(),
        }
    }

    /// The same request with `mode`.
    pub fn mode(mut self, mode: Mode) -> NewMacvlan {
        self.macvlan.mode = Some(mode);
        self
    }

    /// The same request with `flags`.
    pub fn flags(mut self, flags: Flags) -> NewMacvlan {
        self.macvlan.flags = Some(flags);
        self
    }

    /// The same request with a source-list operation.
    pub fn macaddr(mut self, op: MacaddrOp) -> NewMacvlan {
        self.macvlan.macaddr = Some(op);
        self
    }

    /// The same request with a `bcqueuelen`.
    pub fn bc_queue_len(mut self, n: u32) -> NewMacvlan {
        self.macvlan.bc_queue_len = Some(n);
        self
    }

    /// The same request with an MTU.
    pub fn mtu(mut self, mtu: u32) -> NewMacvlan {
        self.mtu = Some(mtu);
        self
    }
}

/// A request to change a macvlan (`ip link set DEV type macvlan ...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MacvlanChange {
    /// New mode.
    pub mode: Option<Mode>,
    /// New flags (a whole replacement).
    pub flags: Option<Flags>,
    /// A source-list operation.
    pub macaddr: Option<MacaddrOp>,
    /// New `bcqueuelen` request.
    pub bc_queue_len: Option<u32>,
    /// New `bclim` for the whole port.
    pub bc_cutoff: Option<i32>,
}

/// A snapshot of one macvlan, as a dump shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacvlanInfo {
    /// Id in the port.
    pub id: ChildId,
    /// Name.
    pub name: String,
    /// MAC address.
    pub mac: MacAddr,
    /// Mode.
    pub mode: Mode,
    /// Flags.
    pub flags: Flags,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Carrier (the lower's).
    pub carrier: bool,
    /// Its `bcqueuelen` request.
    pub bc_queue_len: u32,
    /// The port's queue length (the maximum of all requests).
    pub bc_queue_len_used: u32,
    /// The port's `bclim`.
    pub bc_cutoff: i32,
    /// The source allow-list in the order the kernel dumps it.
    pub sources: Vec<MacAddr>,
}

/// The core's MTU range check for any device (`dev_validate_mtu`): `mtu`
/// within the device's `min..=max`.
pub fn check_mtu_range(dev: &str, mtu: u32, min: u32, max: u32) -> Result<(), Error> {
    if (min..=max).contains(&mtu) {
        return Ok(());
    }
    Err(Error::MtuOutOfRange {
        dev: dev.to_string(),
        mtu,
        min,
        max,
    })
}

/// What a MAC change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacChange {
    /// The macvlan's address changed.
    Macvlan,
    /// Passthru: the request went to the lower, whose MAC is now this (and
    /// the macvlan followed). The caller must change the lower device.
    Lower(MacAddr),
}

/// What deleting a macvlan left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    /// The port has no macvlan left (the kernel destroys it).
    pub port_empty: bool,
    /// Passthru: the lower's MAC must be restored to this.
    pub restore_lower_mac: Option<MacAddr>,
}

#[derive(Debug, Clone)]
pub(crate) struct Child {
    pub(crate) name: String,
    pub(crate) mac: MacAddr,
    pub(crate) mode: Mode,
    pub(crate) flags: Flags,
    pub(crate) mtu: u32,
    pub(crate) up: bool,
    pub(crate) promisc: bool,
    pub(crate) allmulti: bool,
    /// Exact multicast membership (sorted).
    pub(crate) groups: Vec<MacAddr>,
    /// Source allow-list, each with the sequence number of its insertion.
    pub(crate) sources: Vec<(MacAddr, u64)>,
    pub(crate) bc_queue_len_req: u32,
    /// When it last entered the hash (the kernel adds at the head of a bucket).
    hash_seq: u64,
}

impl Child {
    /// The per-macvlan multicast filter, exact: broadcast always, every
    /// group when promiscuous or allmulti, else the joined groups.
    #[inline]
    pub(crate) fn accepts_group(&self, dst: MacAddr) -> bool {
        dst.is_broadcast() || self.promisc || self.allmulti || self.groups.binary_search(&dst).is_ok()
    }
}

#[derive(Debug, Clone)]
struct Slot {
    generation: u32,
    child: Option<Child>,
}

/// One lower device and its macvlans.
#[derive(Debug, Clone)]
pub struct Port {
    pub(crate) lower: LowerInfo,
    /// The lower's MAC when the port was made (restored after passthru).
    perm_addr: MacAddr,
    pub(crate) passthru: bool,
    slots: Vec<Slot>,
    /// Every macvlan, up or down, in creation order (`port->vlans`).
    pub(crate) order: Vec<ChildId>,
    /// Up macvlans by MAC (`port->vlan_hash`).
    pub(crate) up_by_mac: MacMap<ChildId>,
    /// Up macvlans in the kernel's hash walk order: bucket, then newest first.
    pub(crate) flood_order: Vec<ChildId>,
    /// Source allow-list entries of every source-mode macvlan, up or down,
    /// newest last (the kernel walks newest first).
    pub(crate) sources: MacMap<Vec<ChildId>>,
    pub(crate) bc_cutoff: i32,
    pub(crate) bc_queue_len_used: u32,
    /// The lower's promiscuity references taken by passthru open/close and
    /// flag changes, kept as the kernel counts them.
    promisc_refs: i32,
    seq: u64,
}

impl Port {
    /// A port for `lower` with no macvlan yet.
    pub fn new(lower: LowerInfo) -> Port {
        Port {
            perm_addr: lower.mac,
            lower,
            passthru: false,
            slots: Vec::new(),
            order: Vec::new(),
            up_by_mac: MacMap::default(),
            flood_order: Vec::new(),
            sources: MacMap::default(),
            bc_cutoff: DEFAULT_BC_CUTOFF,
            bc_queue_len_used: 0,
            promisc_refs: 0,
            seq: 0,
        }
    }

    /// Creates a port for `lower` after the checks `macvlan_port_create` makes.
    pub fn for_lower(lower: LowerInfo, kind: &LowerKind) -> Result<Port, Error> {
        match kind {
            LowerKind::Ethernet => Ok(Port::new(lower)),
            LowerKind::Loopback => Err(Error::LowerIsLoopback { lower: lower.name }),
            LowerKind::NotEthernet => Err(Error::LowerNotEthernet { lower: lower.name }),
            LowerKind::Busy(holder) => Err(Error::LowerBusy {
                lower: lower.name,
                holder: holder.clone(),
            }),
        }
    }

    /// The lower as the port knows it.
    pub fn lower(&self) -> &LowerInfo {
        &self.lower
    }

    /// Whether the port is in passthru mode.
    pub fn is_passthru(&self) -> bool {
        self.passthru
    }

    /// Number of macvlans.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// No macvlan on the port.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The macvlans in creation order.
    pub fn children(&self) -> &[ChildId] {
        &self.order
    }

    /// The port's broadcast queue length (the largest request).
    pub fn bc_queue_len_used(&self) -> u32 {
        self.bc_queue_len_used
    }

    /// The port's `bclim`.
    pub fn bc_cutoff(&self) -> i32 {
        self.bc_cutoff
    }

    /// The macvlan `id`, if it exists.
    pub(crate) fn get(&self, id: ChildId) -> Option<&Child> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.child.as_ref()
    }

    fn get_mut(&mut self, id: ChildId) -> Result<&mut Child, Error> {
        let slot = self
            .slots
            .get_mut(id.index as usize)
            .ok_or(Error::NoSuchMacvlan(id.index))?;
        if slot.generation != id.generation {
            return Err(Error::NoSuchMacvlan(id.index));
        }
        slot.child.as_mut().ok_or(Error::NoSuchMacvlan(id.index))
    }

    fn child(&self, id: ChildId) -> Result<&Child, Error> {
        self.get(id).ok_or(Error::NoSuchMacvlan(id.index))
    }

    /// The child `id` exists.
    pub fn contains(&self, id: ChildId) -> bool {
        self.get(id).is_some()
    }

    /// The name of `id` (or `#n` if it does not exist).
    pub fn name(&self, id: ChildId) -> String {
        self.get(id)
            .map_or_else(|| format!("#{}", id.index), |c| c.name.clone())
    }

    /// The macvlan whose name is `name`.
    pub fn find(&self, name: &str) -> Option<ChildId> {
        self.order
            .iter()
            .copied()
            .find(|&id| self.get(id).is_some_and(|c| c.name == name))
    }

    /// A snapshot of `id`.
    pub fn info(&self, id: ChildId) -> Result<MacvlanInfo, Error> {
        let c = self.child(id)?;
        let mut sources: Vec<(MacAddr, u64)> = c.sources.clone();
        sources.sort_by_key(|&(m, s)| (m.kernel_bucket(), Reverse(s)));
        Ok(MacvlanInfo {
            id,
            name: c.name.clone(),
            mac: c.mac,
            mode: c.mode,
            flags: c.flags,
            mtu: c.mtu,
            up: c.up,
            carrier: self.lower.carrier,
            bc_queue_len: c.bc_queue_len_req,
            bc_queue_len_used: self.bc_queue_len_used,
            bc_cutoff: self.bc_cutoff,
            sources: sources.into_iter().map(|(m, _)| m).collect(),
        })
    }

    /// The up macvlan that owns `mac`.
    pub fn up_owner(&self, mac: MacAddr) -> Option<ChildId> {
        self.up_by_mac.get(&MacKey::from(mac)).copied()
    }

    fn children_list(&self) -> String {
        self.order
            .iter()
            .map(|&id| self.name(id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The lower's promiscuity count as the port affects it: passthru
    /// references, promiscuous children, and the fallback a lower without
    /// a unicast filter takes while a non-passthru macvlan is up.
    pub fn lower_promiscuity(&self) -> u32 {
        let uc_promisc = !self.lower.unicast_filter
            && !self.passthru
            && self.order.iter().any(|&id| self.get(id).is_some_and(|c| c.up));
        let promisc_children = if self.passthru {
            0
        } else {
            self.order
                .iter()
                .filter(|&&id| self.get(id).is_some_and(|c| c.up && c.promisc))
                .count()
        };
        (self.promisc_refs.max(0) as u32) + u32::from(uc_promisc) + promisc_children as u32
    }

    /// Whether the lower ends up promiscuous or all-multicast, which makes
    /// the kernel queue every multicast frame.
    pub(crate) fn lower_floods_all(&self) -> bool {
        self.lower.promisc
            || self.lower.allmulti
            || self.lower_promiscuity() > 0
            || self
                .order
                .iter()
                .any(|&id| self.get(id).is_some_and(|c| c.up && c.allmulti))
    }

    /// How many up macvlans joined `group` (the kernel's `ha->synced`).
    pub(crate) fn group_subscribers(&self, group: MacAddr) -> usize {
        self.flood_order
            .iter()
            .filter(|&&id| {
                self.get(id)
                    .is_some_and(|c| c.groups.binary_search(&group).is_ok())
            })
            .count()
    }

    fn check_mtu_range(&self, dev: &str, mtu: u32) -> Result<(), Error> {
        check_mtu_range(dev, mtu, MIN_MTU, self.lower.max_mtu)
    }

    fn check_mtu(&self, dev: &str, mtu: u32) -> Result<(), Error> {
        self.check_mtu_range(dev, mtu)?;
        if mtu > self.lower.mtu {
            return Err(Error::MtuAboveLower {
                dev: dev.to_string(),
                mtu,
                lower: self.lower.name.clone(),
                lower_mtu: self.lower.mtu,
            });
        }
        Ok(())
    }

    /// Whether `mac` may be a device's address (`is_valid_ether_addr`):
    /// neither multicast nor zero.
    pub fn check_mac(dev: &str, mac: MacAddr) -> Result<(), Error> {
        match BadMac::of(mac) {
            Some(why) => Err(Error::InvalidMac {
                dev: dev.to_string(),
                mac,
                why,
            }),
            None => Ok(()),
        }
    }

    fn check_op_macs(dev: &str, op: &Option<MacaddrOp>) -> Result<(), Error> {
        op.iter()
            .flat_map(|o| o.addrs())
            .try_for_each(|&m| Self::check_mac(dev, m))
    }

    /// Who holds `mac` among the lower and the up macvlans (`macvlan_addr_busy`).
    fn addr_holder(&self, mac: MacAddr) -> Option<String> {
        if mac == self.lower.mac {
            return Some(format!("the lower {}", self.lower.name));
        }
        self.up_owner(mac).map(|id| self.name(id))
    }

    fn recompute_bc_queue_len(&mut self) {
        let mut max = 0;
        for &id in &self.order {
            if let Some(c) = self.get(id) {
                max = max.max(c.bc_queue_len_req);
            }
        }
        self.bc_queue_len_used = max;
    }

    /// Creates a macvlan (`macvlan_common_newlink`). It starts down.
    pub fn create(&mut self, req: NewMacvlan) -> Result<ChildId, Error> {
        let dev = req.name.as_str();
        let o = &req.macvlan;
        // Checks first, in the kernel's order (the addresses in
        // `macvlan_validate`, the core's MTU range, then the driver), so a
        // refused request changes nothing.
        Self::check_mac(dev, req.mac)?;
        Self::check_op_macs(dev, &o.macaddr)?;
        if let Some(m) = req.mtu {
            self.check_mtu_range(dev, m)?;
        }
        let mtu = match req.mtu {
            Some(m) => {
                self.check_mtu(dev, m)?;
                m
            }
            None => self.lower.mtu,
        };
        if self.passthru {
            let child = self.order.first().map(|&id| self.name(id)).unwrap_or_default();
            return Err(Error::PassthruPortFull {
                lower: self.lower.name.clone(),
                child,
            });
        }
        let mode = o.mode.unwrap_or(Mode::Vepa);
        if mode == Mode::Passthru && !self.order.is_empty() {
            return Err(Error::PassthruNeedsEmptyLower {
                lower: self.lower.name.clone(),
                children: self.children_list(),
            });
        }
        if o.macaddr.is_some() && mode != Mode::Source {
            return Err(Error::MacaddrNotSource {
                dev: dev.to_string(),
                mode,
            });
        }

        let mac = if mode == Mode::Passthru {
            self.lower.mac
        } else {
            req.mac
        };
        let child = Child {
            name: req.name.clone(),
            mac,
            mode,
            flags: o.flags.unwrap_or_default(),
            mtu,
            up: false,
            promisc: false,
            allmulti: false,
            groups: Vec::new(),
            sources: Vec::new(),
            bc_queue_len_req: o.bc_queue_len.unwrap_or(DEFAULT_BC_QUEUE_LEN),
            hash_seq: 0,
        };
        let id = self.insert(child);
        if mode == Mode::Passthru {
            self.passthru = true;
        }
        if let Some(op) = &o.macaddr {
            self.apply_sources(id, op);
        }
        if let Some(c) = o.bc_cutoff {
            self.bc_cutoff = c;
        }
        self.recompute_bc_queue_len();
        Ok(id)
    }

    fn insert(&mut self, child: Child) -> ChildId {
        let index = match self.slots.iter().position(|s| s.child.is_none()) {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    child: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.generation = slot.generation.wrapping_add(1);
        slot.child = Some(child);
        let id = ChildId {
            index: index as u32,
            generation: slot.generation,
        };
        self.order.push(id);
        id
    }

    fn hash_add(&mut self, id: ChildId) {
        let seq = self.next_seq();
        let Ok(c) = self.get_mut(id) else { return };
        c.hash_seq = seq;
        let mac = c.mac;
        self.up_by_mac.insert(MacKey::from(mac), id);
        let key = (mac.kernel_bucket(), Reverse(seq));
        let pos = self.flood_order.partition_point(|&other| {
            let o = self.get(other).expect("flood list holds live children");
            (o.mac.kernel_bucket(), Reverse(o.hash_seq)) < key
        });
        self.flood_order.insert(pos, id);
    }

    fn hash_del(&mut self, id: ChildId) {
        let Some(c) = self.get(id) else { return };
        let key = MacKey::from(c.mac);
        if self.up_by_mac.get(&key) == Some(&id) {
            self.up_by_mac.remove(&key);
        }
        self.flood_order.retain(|&o| o != id);
    }

    /// Brings a macvlan up (`macvlan_open`): its MAC must not be the
    /// lower's nor an up sibling's (EADDRINUSE), except in passthru.
    pub fn open(&mut self, id: ChildId) -> Result<(), Error> {
        let c = self.child(id)?;
        if c.up {
            return Ok(());
        }
        if !self.passthru {
            if let Some(holder) = self.addr_holder(c.mac) {
                return Err(Error::AddrInUse {
                    dev: c.name.clone(),
                    mac: c.mac,
                    holder,
                    lower: self.lower.name.clone(),
                });
            }
        } else if !c.flags.contains(Flags::NOPROMISC) {
            self.promisc_refs += 1;
        }
        self.get_mut(id)?.up = true;
        self.hash_add(id);
        Ok(())
    }

    /// Takes a macvlan down (`macvlan_stop`).
    pub fn stop(&mut self, id: ChildId) -> Result<(), Error> {
        let c = self.child(id)?;
        if !c.up {
            return Ok(());
        }
        if self.passthru && !c.flags.contains(Flags::NOPROMISC) {
            self.promisc_refs -= 1;
        }
        self.hash_del(id);
        self.get_mut(id)?.up = false;
        Ok(())
    }

    /// Deletes a macvlan (`macvlan_dellink`, then the port's teardown when
    /// it was the last one).
    pub fn delete(&mut self, id: ChildId) -> Result<Deleted, Error> {
        self.stop(id)?;
        self.apply_sources(id, &MacaddrOp::Flush);
        self.order.retain(|&o| o != id);
        self.slots[id.index as usize].child = None;
        self.recompute_bc_queue_len();
        let port_empty = self.order.is_empty();
        let mut restore_lower_mac = None;
        if port_empty && self.passthru {
            if self.lower.mac != self.perm_addr {
                restore_lower_mac = Some(self.perm_addr);
                self.lower.mac = self.perm_addr;
            }
            self.passthru = false;
            self.promisc_refs = 0;
        }
        Ok(Deleted {
            port_empty,
            restore_lower_mac,
        })
    }

    /// Renames a macvlan (names only appear in messages and dumps).
    pub fn rename(&mut self, id: ChildId, name: &str) -> Result<(), Error> {
        self.get_mut(id)?.name = name.to_string();
        Ok(())
    }

    /// Changes a macvlan's MAC (`macvlan_set_mac_address`).
    pub fn set_mac(&mut self, id: ChildId, mac: MacAddr) -> Result<MacChange, Error> {
        let c = self.child(id)?;
        Self::check_mac(&c.name, mac)?;
        if c.mac == mac {
            return Ok(MacChange::Macvlan);
        }
        if self.passthru {
            // The request goes to the lower; the macvlan follows its change,
            // and the address to restore at teardown stays the original.
            self.follow_lower_mac(mac);
            return Ok(MacChange::Lower(mac));
        }
        if let Some(holder) = self.addr_holder(mac) {
            return Err(Error::AddrInUse {
                dev: c.name.clone(),
                mac,
                holder,
                lower: self.lower.name.clone(),
            });
        }
        self.set_mac_rehash(id, mac);
        Ok(MacChange::Macvlan)
    }

    fn set_mac_rehash(&mut self, id: ChildId, mac: MacAddr) {
        let up = self.get(id).is_some_and(|c| c.up);
        if up {
            self.hash_del(id);
        }
        if let Ok(c) = self.get_mut(id) {
            c.mac = mac;
        }
        if up {
            self.hash_add(id);
        }
    }

    /// Changes a macvlan's MTU (`macvlan_change_mtu` after the core's range check).
    pub fn set_mtu(&mut self, id: ChildId, mtu: u32) -> Result<(), Error> {
        let name = self.child(id)?.name.clone();
        self.check_mtu(&name, mtu)?;
        self.get_mut(id)?.mtu = mtu;
        Ok(())
    }

    /// Changes mode, flags, source list, `bcqueuelen` or `bclim`
    /// (`macvlan_changelink`). As in the kernel, a request refused at the
    /// source-list step keeps the changes of the earlier steps (mode,
    /// flags, queue length, cutoff); every other refusal changes nothing.
    pub fn change(&mut self, id: ChildId, req: &MacvlanChange) -> Result<(), Error> {
        let c = self.child(id)?;
        let dev = c.name.clone();
        let old_mode = c.mode;
        let old_flags = c.flags;
        Self::check_op_macs(&dev, &req.macaddr)?;
        if let Some(new) = req.mode {
            if (new == Mode::Passthru) != (old_mode == Mode::Passthru) {
                return Err(Error::PassthruModeChange {
                    dev,
                    from: old_mode,
                    to: new,
                });
            }
            if old_mode == Mode::Source && new != Mode::Source {
                self.apply_sources(id, &MacaddrOp::Flush);
            }
        }
        if let Some(flags) = req.flags {
            if self.passthru {
                let was = old_flags.contains(Flags::NOPROMISC);
                let now = flags.contains(Flags::NOPROMISC);
                // The kernel adjusts the lower at once, up or down.
                match (was, now) {
                    (false, true) => self.promisc_refs -= 1,
                    (true, false) => self.promisc_refs += 1,
                    _ => {}
                }
            }
            self.get_mut(id)?.flags = flags;
        }
        if let Some(len) = req.bc_queue_len {
            self.get_mut(id)?.bc_queue_len_req = len;
            self.recompute_bc_queue_len();
        }
        if let Some(cutoff) = req.bc_cutoff {
            self.bc_cutoff = cutoff;
        }
        if let Some(mode) = req.mode {
            self.get_mut(id)?.mode = mode;
        }
        if let Some(op) = &req.macaddr {
            let mode = self.child(id)?.mode;
            if mode != Mode::Source {
                return Err(Error::MacaddrNotSource { dev, mode });
            }
            self.apply_sources(id, op);
        }
        Ok(())
    }

    fn apply_sources(&mut self, id: ChildId, op: &MacaddrOp) {
        match op {
            MacaddrOp::Add(m) => self.source_add(id, *m),
            MacaddrOp::Del(m) => self.source_del(id, *m),
            MacaddrOp::Flush => {
                let macs: Vec<MacAddr> = self
                    .get(id)
                    .map(|c| c.sources.iter().map(|&(m, _)| m).collect())
                    .unwrap_or_default();
                for m in macs {
                    self.source_del(id, m);
                }
            }
            MacaddrOp::Set(list) => {
                self.apply_sources(id, &MacaddrOp::Flush);
                for &m in list {
                    self.source_add(id, m);
                }
            }
        }
    }

    fn source_add(&mut self, id: ChildId, mac: MacAddr) {
        let seq = self.next_seq();
        let Ok(c) = self.get_mut(id) else { return };
        if c.sources.iter().any(|&(m, _)| m == mac) {
            return;
        }
        c.sources.push((mac, seq));
        self.sources.entry(MacKey::from(mac)).or_default().push(id);
    }

    fn source_del(&mut self, id: ChildId, mac: MacAddr) {
        let Ok(c) = self.get_mut(id) else { return };
        c.sources.retain(|&(m, _)| m != mac);
        let key = MacKey::from(mac);
        if let Some(list) = self.sources.get_mut(&key) {
            list.retain(|&o| o != id);
            if list.is_empty() {
                self.sources.remove(&key);
            }
        }
    }

    /// Joins a multicast group on a macvlan (its mc list).
    pub fn join_group(&mut self, id: ChildId, group: MacAddr) -> Result<(), Error> {
        let c = self.get_mut(id)?;
        if let Err(pos) = c.groups.binary_search(&group) {
            c.groups.insert(pos, group);
        }
        Ok(())
    }

    /// Leaves a multicast group.
    pub fn leave_group(&mut self, id: ChildId, group: MacAddr) -> Result<(), Error> {
        let c = self.get_mut(id)?;
        if let Ok(pos) = c.groups.binary_search(&group) {
            c.groups.remove(pos);
        }
        Ok(())
    }

    /// Sets a macvlan's own promiscuous flag (it then accepts every group).
    pub fn set_promisc(&mut self, id: ChildId, on: bool) -> Result<(), Error> {
        self.get_mut(id)?.promisc = on;
        Ok(())
    }

    /// Sets a macvlan's all-multicast flag.
    pub fn set_allmulti(&mut self, id: ChildId, on: bool) -> Result<(), Error> {
        self.get_mut(id)?.allmulti = on;
        Ok(())
    }

    /// Unicast FDB entries (`bridge fdb add MAC dev MV self`) are for
    /// passthru only (`macvlan_fdb_add`); multicast ones join the group.
    pub fn fdb_add(&mut self, id: ChildId, mac: MacAddr) -> Result<(), Error> {
        let c = self.child(id)?;
        if mac.is_multicast() {
            return self.join_group(id, mac);
        }
        if !self.passthru {
            return Err(Error::FdbNotPassthru {
                dev: c.name.clone(),
                mode: c.mode,
            });
        }
        Ok(())
    }

    /// The lower was renamed.
    pub fn rename_lower(&mut self, name: &str) {
        self.lower.name = name.to_string();
    }

    /// The lower's admin state or carrier changed. The macvlans' carrier
    /// follows the lower's (`netif_stacked_transfer_operstate`).
    pub fn set_lower_state(&mut self, admin_up: bool, carrier: bool) {
        self.lower.admin_up = admin_up;
        self.lower.carrier = carrier;
    }

    /// The lower's own promiscuous / all-multicast flags changed.
    pub fn set_lower_flags(&mut self, promisc: bool, allmulti: bool) {
        self.lower.promisc = promisc;
        self.lower.allmulti = allmulti;
    }

    /// The lower's MTU changed: macvlans above it are clamped down to it
    /// (never raised). Returns the macvlans whose MTU changed.
    pub fn lower_mtu_changed(&mut self, mtu: u32) -> Vec<ChildId> {
        self.lower.mtu = mtu;
        let mut changed = Vec::new();
        for &id in &self.order.clone() {
            if let Ok(c) = self.get_mut(id) {
                if c.mtu > mtu {
                    c.mtu = mtu;
                    changed.push(id);
                }
            }
        }
        changed
    }

    /// The lower's MAC changed. In passthru the macvlan follows and the
    /// address to restore later becomes the new one. Returns the macvlan
    /// that followed.
    pub fn lower_mac_changed(&mut self, mac: MacAddr) -> Option<ChildId> {
        if self.passthru {
            self.perm_addr = mac;
        }
        self.follow_lower_mac(mac)
    }

    fn follow_lower_mac(&mut self, mac: MacAddr) -> Option<ChildId> {
        self.lower.mac = mac;
        if !self.passthru {
            return None;
        }
        let id = *self.order.first()?;
        self.set_mac_rehash(id, mac);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(n: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, n])
    }

    #[test]
    fn flood_order_is_bucket_then_newest() {
        let mut p = Port::new(LowerInfo::ethernet("eth0", mac(100)));
        let mut ids = Vec::new();
        for n in 1..=40 {
            let id = p
                .create(NewMacvlan::new(&format!("mv{n}"), mac(n)).mode(Mode::Bridge))
                .unwrap();
            p.open(id).unwrap();
            ids.push(id);
        }
        let keys: Vec<(u8, u64)> = p
            .flood_order
            .iter()
            .map(|&id| {
                let c = p.get(id).unwrap();
                (c.mac.kernel_bucket(), u64::MAX - c.hash_seq)
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(p.flood_order.len(), 40);
    }

    #[test]
    fn ids_are_not_confused_after_delete() {
        let mut p = Port::new(LowerInfo::ethernet("eth0", mac(100)));
        let a = p.create(NewMacvlan::new("a", mac(1))).unwrap();
        p.delete(a).unwrap();
        let b = p.create(NewMacvlan::new("b", mac(2))).unwrap();
        assert_ne!(a, b);
        assert_eq!(p.open(a), Err(Error::NoSuchMacvlan(a.index())));
        assert!(p.contains(b) && !p.contains(a));
    }
}
