//! The emulated host: namespaces, devices, the ports of `mvl-core`, the
//! event queue and virtual clock.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::net::Ipv4Addr;

use mvl_core::{ChildId, LowerInfo, LowerKind, MacAddr, PktType, Ports};

use crate::capture::Captures;
use crate::device::{DevId, Device, Kind, Netns, NsId, Stats};
use crate::error::SimError;
use crate::neigh::NeighTable;
use crate::ping::PingState;
use crate::time::{Duration, Instant};
use crate::trace::{Tag, Trace};

/// One scheduled piece of work.
#[derive(Debug)]
pub(crate) enum Work {
    /// A frame arrives at a device; `pkt` is the packet type a macvlan
    /// port assigned (None: computed from the device's address).
    Rx {
        dev: DevId,
        frame: Vec<u8>,
        pkt: Option<PktType>,
        tag: Tag,
    },
    /// A neighbour entry's timer.
    Neigh {
        ns: NsId,
        dev: DevId,
        ip: Ipv4Addr,
        generation: u64,
    },
    /// A ping sends its next echo request.
    PingSend { ping: usize },
    /// A ping stops waiting for replies.
    PingDone { ping: usize },
    /// A packet's reassembly times out.
    FragExpire {
        ns: NsId,
        key: crate::frag::FragKey,
        generation: u64,
    },
}

#[derive(Debug)]
pub(crate) struct Scheduled {
    pub at: Instant,
    pub seq: u64,
    pub work: Work,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// Time a frame takes across a veth "cable".
pub(crate) const WIRE_DELAY: Duration = Duration::micros(20);
/// Safety valve: work items processed at one instant before the emulator
/// declares a forwarding loop.
const LOOP_LIMIT: usize = 200_000;

/// The emulated host.
#[derive(Debug)]
pub struct Sim {
    pub(crate) now: Instant,
    rng: u64,
    pub(crate) nss: Vec<Netns>,
    pub(crate) devs: Vec<Option<Device>>,
    pub(crate) ports: Ports<DevId>,
    /// The device of each macvlan of a port, so that a delivery finds its
    /// receiver without walking every device.
    pub(crate) children: HashMap<(DevId, ChildId), DevId>,
    /// Live namespaces by name, so that a command finds its own at once.
    pub(crate) ns_by_name: HashMap<String, NsId>,
    /// Every device that is a bridge port (`master` set).
    pub(crate) bridge_ports: BTreeSet<DevId>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    order_seq: u64,
    pub(crate) captures: Captures,
    pub(crate) trace: Option<Trace>,
    pub(crate) pings: Vec<PingState>,
    /// Frames dropped because the emulator saw a forwarding loop.
    pub loop_drops: u64,
    /// Something happened that Linux does and the emulator does not model
    /// (an ICMP redirect): the running command fails, saying so.
    pub(crate) unmodelled: Option<String>,
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new(1)
    }
}

/// The emulator's random numbers (splitmix64): deterministic from the seed.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn reachable_time(rng: &mut u64) -> Duration {
    Duration::millis(15_000 + next_random(rng) % 30_000)
}

impl Sim {
    /// A host with only its root namespace (holding a down `lo`). Random
    /// MAC addresses come from `seed`.
    pub fn new(seed: u64) -> Sim {
        let mut sim = Sim {
            now: Instant::default(),
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
            nss: Vec::new(),
            devs: Vec::new(),
            ports: Ports::new(),
            children: HashMap::new(),
            ns_by_name: HashMap::new(),
            bridge_ports: BTreeSet::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            order_seq: 0,
            captures: Captures::default(),
            trace: None,
            pings: Vec::new(),
            loop_drops: 0,
            unmodelled: None,
        };
        sim.new_netns(None);
        sim
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The root namespace.
    pub fn root(&self) -> NsId {
        NsId(0)
    }

    /// A random number (splitmix64).
    pub(crate) fn random(&mut self) -> u64 {
        next_random(&mut self.rng)
    }

    /// A neighbour's reachable time, random in [15 s, 45 s) (base 30 s, as
    /// Linux); with the generator apart from the rest of the emulator, for
    /// a caller that holds a namespace's neighbour table.
    pub(crate) fn reachable_time(&mut self) -> Duration {
        reachable_time(&mut self.rng)
    }

    /// The neighbour table of `ns` and the reachable-time generator,
    /// borrowed together.
    pub(crate) fn neigh_and_rng(&mut self, ns: NsId) -> (&mut NeighTable, impl FnOnce() -> Duration + '_) {
        let rng = &mut self.rng;
        (&mut self.nss[ns.0 as usize].neigh, move || reachable_time(rng))
    }

    pub(crate) fn random_mac(&mut self) -> MacAddr {
        MacAddr::random_local(self.random())
    }

    pub(crate) fn new_netns(&mut self, name: Option<String>) -> NsId {
        let id = NsId(self.nss.len() as u32);
        if let Some(n) = &name {
            self.ns_by_name.insert(n.clone(), id);
        }
        self.nss.push(Netns {
            name,
            alive: true,
            devs: Vec::new(),
            next_ifindex: 1,
            neigh: NeighTable::default(),
            peer_ids: Vec::new(),
            local_table: false,
            ip_id: 1,
            routes: Vec::new(),
            forwarding: false,
            pmtu: Default::default(),
            frags: Default::default(),
            frag_generation: 0,
        });
        let lo = Device {
            ns: id,
            ifindex: 0,
            name: "lo".into(),
            mac: MacAddr::ZERO,
            mac_set: true,
            mtu: 65536,
            min_mtu: 0,
            max_mtu: 0,
            up: false,
            ever_up: false,
            promisc: false,
            allmulti: false,
            kind: Kind::Loopback,
            master: None,
            hairpin: false,
            port_enabled: false,
            addrs: Vec::new(),
            addr_since: Vec::new(),
            up_since: 0,
            stats: Stats::default(),
        };
        self.register(lo);
        id
    }

    /// Adds a device to its namespace with the next free ifindex.
    pub(crate) fn register(&mut self, mut d: Device) -> DevId {
        d.ifindex = self.alloc_ifindex(d.ns, None);
        let id = DevId(self.devs.len() as u32);
        self.nss[d.ns.0 as usize].devs.push(id);
        if let Kind::Macvlan { lower, id: child } = d.kind {
            self.children.insert((lower, child), id);
        }
        self.devs.push(Some(d));
        id
    }

    /// An ifindex in `ns`: `want` if free, else the next free one.
    pub(crate) fn alloc_ifindex(&mut self, ns: NsId, want: Option<u32>) -> u32 {
        if let Some(w) = want {
            if !self.devices_in(ns).any(|id| self.dev(id).ifindex == w) {
                return w;
            }
        }
        loop {
            let n = self.nss[ns.0 as usize].next_ifindex;
            self.nss[ns.0 as usize].next_ifindex += 1;
            if !self.devices_in(ns).any(|id| self.dev(id).ifindex == n) {
                return n;
            }
        }
    }

    pub(crate) fn next_order(&mut self) -> u64 {
        self.order_seq += 1;
        self.order_seq
    }

    /// The namespace called `name` (`None`: the root).
    pub fn netns(&self, name: Option<&str>) -> Result<NsId, SimError> {
        match name {
            None => Ok(self.root()),
            Some(n) => self
                .ns_by_name
                .get(n)
                .copied()
                .ok_or_else(|| SimError::NoNetns(n.to_string())),
        }
    }

    /// The name of a namespace as the lab writes it.
    pub fn ns_name(&self, ns: NsId) -> &str {
        self.nss[ns.0 as usize].name.as_deref().unwrap_or("root")
    }

    pub(crate) fn dev(&self, id: DevId) -> &Device {
        self.devs[id.0 as usize].as_ref().expect("live device")
    }

    pub(crate) fn dev_mut(&mut self, id: DevId) -> &mut Device {
        self.devs[id.0 as usize].as_mut().expect("live device")
    }

    pub(crate) fn exists(&self, id: DevId) -> bool {
        self.devs.get(id.0 as usize).is_some_and(Option::is_some)
    }

    /// Devices of `ns` in their listing order.
    pub(crate) fn devices_in(&self, ns: NsId) -> impl Iterator<Item = DevId> + '_ {
        self.nss[ns.0 as usize].devs.iter().copied()
    }

    /// The device called `name` in `ns`.
    pub fn find(&self, ns: NsId, name: &str) -> Result<DevId, SimError> {
        self.devices_in(ns)
            .find(|&id| self.dev(id).name == name)
            .ok_or_else(|| SimError::NoDevice(name.to_string()))
    }

    /// `ns/name` for messages.
    pub(crate) fn label(&self, id: DevId) -> String {
        let d = self.dev(id);
        format!("{}/{}", self.ns_name(d.ns), d.name)
    }

    pub(crate) fn lo(&self, ns: NsId) -> DevId {
        self.devices_in(ns).next().expect("every namespace has lo")
    }

    /// Carrier: loopback when up; a veth when both ends are up; a bridge
    /// when a port forwards; a macvlan when its lower has carrier.
    pub(crate) fn carrier(&self, id: DevId) -> bool {
        let d = self.dev(id);
        match &d.kind {
            Kind::Loopback => d.up,
            Kind::Veth { peer } => d.up && self.dev(*peer).up,
            Kind::Bridge(b) => d.up && (!b.had_port || b.ports.iter().any(|&p| self.port_forwarding(p))),
            Kind::Macvlan { lower, .. } => self.carrier(*lower),
        }
    }

    /// Operationally up (`netif_oper_up`).
    pub(crate) fn oper_up(&self, id: DevId) -> bool {
        self.dev(id).up && self.carrier(id)
    }

    /// Whether `dev` receives frames for other addresses: `promisc on`, or
    /// macvlans on it whose addresses a device without a unicast filter
    /// (a bridge, here) can only take that way (`__dev_set_rx_mode`).
    pub(crate) fn promiscuous(&self, dev: DevId) -> bool {
        self.dev(dev).promisc || self.ports.port(dev).is_some_and(|p| p.lower_promiscuity() > 0)
    }

    /// A bridge port forwards when the bridge and the port are up and the
    /// port has carrier (STP off: no listening or learning states).
    pub(crate) fn port_forwarding(&self, port: DevId) -> bool {
        let d = self.dev(port);
        let Some(br) = d.master else { return false };
        self.dev(br).up && d.up && self.carrier(port)
    }

    /// The device a device's `iflink` names: a veth's peer, a macvlan's lower.
    pub(crate) fn iflink(&self, id: DevId) -> Option<DevId> {
        match self.dev(id).kind {
            Kind::Veth { peer } => Some(peer),
            Kind::Macvlan { lower, .. } => Some(lower),
            _ => None,
        }
    }

    /// What the port of `lower` should believe about it.
    pub(crate) fn lower_info(&self, lower: DevId) -> LowerInfo {
        let d = self.dev(lower);
        LowerInfo {
            name: d.name.clone(),
            mac: d.mac,
            mtu: d.mtu,
            max_mtu: d.max_mtu,
            admin_up: d.up,
            carrier: self.carrier(lower),
            // veth and bridge devices have no unicast filter.
            unicast_filter: false,
            promisc: d.promisc,
            allmulti: d.allmulti,
        }
    }

    pub(crate) fn lower_kind(&self, lower: DevId) -> LowerKind {
        let d = self.dev(lower);
        match (&d.kind, d.master) {
            (Kind::Loopback, _) => LowerKind::Loopback,
            (_, Some(br)) => LowerKind::Busy(format!("is a port of bridge {}", self.dev(br).name)),
            _ => LowerKind::Ethernet,
        }
    }

    /// Brings derived state up to date after a change: each port's view of
    /// its lower (carrier, admin state, name, flags), and bridge ports that
    /// stopped forwarding lose their learned FDB entries.
    pub(crate) fn sync(&mut self) {
        let lowers: Vec<DevId> = self.ports.iter().map(|(k, _)| k).collect();
        for l in lowers {
            let info = self.lower_info(l);
            if let Some(p) = self.ports.port_mut(l) {
                p.set_lower_state(info.admin_up, info.carrier);
                p.set_lower_flags(info.promisc, info.allmulti);
                p.rename_lower(&info.name);
            }
        }
        let ports: Vec<DevId> = self.bridge_ports.iter().copied().collect();
        for p in ports {
            let fwd = self.port_forwarding(p);
            if self.dev(p).port_enabled && !fwd {
                self.flush_fdb_port(p);
            }
            self.dev_mut(p).port_enabled = fwd;
        }
    }

    pub(crate) fn flush_fdb_port(&mut self, port: DevId) {
        if let Some(br) = self.dev(port).master {
            if let Kind::Bridge(b) = &mut self.dev_mut(br).kind {
                b.fdb.retain(|_, (p, _)| *p != port);
            }
        }
    }

    /// Schedules `work` after `delay`.
    pub(crate) fn schedule(&mut self, delay: Duration, work: Work) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at: self.now + delay,
            seq: self.seq,
            work,
        }));
    }

    /// Runs every event due up to `until`, then sets the clock to `until`.
    pub fn run_until(&mut self, until: Instant) {
        self.run_while(until, |_| true);
        if until > self.now {
            self.now = until;
        }
    }

    /// Advances virtual time by `d` (the lab's `sleep`).
    pub fn sleep(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Runs events in order until `keep_going` says stop (checked after
    /// each event) or the next event is after `until`. Returns whether it
    /// stopped because of `keep_going`.
    pub(crate) fn run_while(&mut self, until: Instant, mut keep_going: impl FnMut(&Sim) -> bool) -> bool {
        let mut at_same_instant = 0usize;
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.at > until {
                return false;
            }
            let Reverse(item) = self.queue.pop().expect("peeked");
            if item.at == self.now {
                at_same_instant += 1;
            } else {
                at_same_instant = 0;
            }
            self.now = self.now.max(item.at);
            if at_same_instant > LOOP_LIMIT {
                self.loop_drops += 1;
                continue;
            }
            self.dispatch(item.work);
            if !keep_going(self) {
                return true;
            }
        }
        false
    }

    fn dispatch(&mut self, work: Work) {
        match work {
            Work::Rx { dev, frame, pkt, tag } => {
                if self.exists(dev) {
                    self.receive(dev, frame, pkt, tag);
                }
            }
            Work::Neigh {
                ns,
                dev,
                ip,
                generation,
            } => self.neigh_timer(ns, dev, ip, generation),
            Work::PingSend { ping } => self.ping_send(ping),
            Work::PingDone { ping } => self.ping_done(ping),
            Work::FragExpire { ns, key, generation } => self.frag_expire(ns, key, generation),
        }
    }

    /// Counters of the device `name` in `ns`.
    pub fn stats(&self, ns: NsId, name: &str) -> Result<Stats, SimError> {
        Ok(self.dev(self.find(ns, name)?).stats)
    }

    /// Every live namespace name (the root excluded), in creation order.
    pub fn netns_names(&self) -> Vec<String> {
        self.nss
            .iter()
            .filter(|n| n.alive)
            .filter_map(|n| n.name.clone())
            .collect()
    }
}
