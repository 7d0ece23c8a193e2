//! The IPv4 host of each namespace, with the Linux behaviour labs can see:
//! local addresses, ARP (the frames; the neighbour states and timers are
//! the table's, in `neigh`), weak-host ARP replies, ICMP echo (no reply to
//! broadcast pings) and ICMP errors for ping; the routes are `route`'s,
//! forwarding is `forward`'s.

use std::net::Ipv4Addr;

use mvl_core::wire::{EthFrame, ETH_P_ARP, ETH_P_IP};
use mvl_core::{MacAddr, PktType};

use mvl_core::Errno;
use mvl_iproute2::cmd::{directed_broadcast, NeighNud, NeighOp, NeighSet};

use crate::device::{DevId, NsId};
use crate::engine::Xmit;
use crate::error::SimError;
use crate::neigh::{Action, Nud, Queued, Writer};
use crate::packet::{
    fragment, ip_frame, ipv4_packet, Arp, ArpOp, Echo, EchoKind, IcmpError, IcmpErrorKind, IpProtocol, Ipv4,
};
use crate::route::Route;
use crate::sim::{Sim, Work};
use crate::trace::Tag;

impl Sim {
    /// Whether `ip` is one of the namespace's own addresses (any device).
    pub(crate) fn is_local(&self, ns: NsId, ip: Ipv4Addr) -> bool {
        self.devices_in(ns)
            .any(|d| self.dev(d).addrs.iter().any(|a| a.addr() == ip))
    }

    /// A broadcast address of the namespace (limited, or directed on an up device).
    pub(crate) fn is_broadcast(&self, ns: NsId, ip: Ipv4Addr) -> bool {
        ip == Ipv4Addr::BROADCAST
            || self.devices_in(ns).filter(|&d| self.dev(d).up).any(|d| {
                self.dev(d)
                    .addrs
                    .iter()
                    .any(|a| directed_broadcast(*a) == Some(ip))
            })
    }

    /// The host stack of `dev`'s namespace receives a frame.
    pub(crate) fn stack_rx(&mut self, dev: DevId, frame: Vec<u8>, pkt: PktType, tag: Tag) {
        let Ok(eth) = EthFrame::new_checked(&frame[..]) else {
            return;
        };
        match eth.ethertype() {
            ETH_P_ARP => self.arp_rcv(dev, eth.payload(), pkt, tag),
            ETH_P_IP => self.ip_rcv(dev, eth.payload(), pkt, tag),
            t => self.drop_hop(tag, |s| {
                format!("{}: ethertype 0x{t:04x} has no handler", s.label(dev))
            }),
        }
    }

    fn arp_rcv(&mut self, dev: DevId, payload: &[u8], pkt: PktType, tag: Tag) {
        if pkt == PktType::OtherHost {
            self.drop_hop(tag, |s| {
                format!(
                    "{}: ARP frame for another host's MAC (otherhost), ignored",
                    s.label(dev)
                )
            });
            return;
        }
        let Some(a) = Arp::parse(payload) else {
            self.drop_hop(tag, |s| format!("{}: malformed ARP", s.label(dev)));
            return;
        };
        let ns = self.dev(dev).ns;
        if a.op == ArpOp::Request && self.is_local(ns, a.tpa) {
            self.neigh_update(ns, dev, a.spa, a.sha, Nud::Stale, Writer::ArpRequest);
            let mac = self.dev(dev).mac;
            let reply = Arp {
                op: ArpOp::Reply,
                sha: mac,
                spa: a.tpa,
                tha: a.sha,
                tpa: a.spa,
            }
            .frame(a.sha, mac);
            self.hop(tag, |s| {
                format!("{}: {} is a local address: ARP reply", s.label(dev), a.tpa)
            });
            let t = self.trace_frame(dev, &reply);
            self.xmit(dev, reply, t);
            return;
        }
        if let Some(entry) = self.nss[ns.0 as usize].neigh.get(&(dev, a.spa)) {
            let state = if a.op == ArpOp::Reply && pkt == PktType::Host {
                Nud::Reachable
            } else {
                Nud::Stale
            };
            if entry.state == Nud::Permanent {
                self.hop(tag, |s| {
                    format!("{}: ARP entry for {} is permanent: kept", s.label(dev), a.spa)
                });
                return;
            }
            self.neigh_update(ns, dev, a.spa, a.sha, state, Writer::Arp);
            self.hop(tag, |s| {
                format!("{}: ARP entry for {} updated ({})", s.label(dev), a.spa, a.sha)
            });
        } else {
            self.drop_hop(tag, |s| match a.op {
                ArpOp::Request => format!(
                    "{}: ARP request for {}, not a local address: ignored",
                    s.label(dev),
                    a.tpa
                ),
                _ => format!(
                    "{}: ARP reply from {} that nobody asked for: ignored",
                    s.label(dev),
                    a.spa
                ),
            });
        }
    }

    fn ip_rcv(&mut self, dev: DevId, payload: &[u8], pkt: PktType, tag: Tag) {
        if pkt == PktType::OtherHost {
            self.drop_hop(tag, |s| {
                format!(
                    "{}: IP packet for another host's MAC (otherhost), dropped",
                    s.label(dev)
                )
            });
            return;
        }
        let Some(ip) = Ipv4::parse(payload) else {
            self.drop_hop(tag, |s| format!("{}: malformed IPv4", s.label(dev)));
            return;
        };
        let ns = self.dev(dev).ns;
        if self.is_local(ns, ip.dst) && ip.is_fragment() {
            let Some(whole) = self.defrag(ns, &ip) else {
                self.hop(tag, |s| {
                    format!(
                        "{}: fragment at {} of a packet from {}: held until the packet is whole",
                        s.label(dev),
                        ip.frag_offset,
                        ip.src
                    )
                });
                return;
            };
            self.hop(tag, |s| {
                format!("{}: the last fragment made the packet whole", s.label(dev))
            });
            let ip = Ipv4::parse(&whole).expect("reassembled from checked fragments");
            self.ip_local_deliver(dev, &ip, tag);
            return;
        }
        if !self.is_local(ns, ip.dst) {
            if self.is_broadcast(ns, ip.dst) {
                self.drop_hop(tag, |s| {
                    format!(
                        "{}: echo to a broadcast address ignored (icmp_echo_ignore_broadcasts)",
                        s.label(dev)
                    )
                });
            } else if self.nss[ns.0 as usize].forwarding {
                self.forward(dev, &ip, tag);
            } else {
                self.drop_hop(tag, |s| {
                    format!(
                        "{}: {} is not a local address and forwarding is off",
                        s.label(dev),
                        ip.dst
                    )
                });
            }
            return;
        }
        self.ip_local_deliver(dev, &ip, tag);
    }

    /// A whole packet for this host: ICMP errors go to ping, echo requests
    /// are answered, echo replies reach ping.
    fn ip_local_deliver(&mut self, dev: DevId, ip: &Ipv4, tag: Tag) {
        let ns = self.dev(dev).ns;
        if ip.proto != IpProtocol::Icmp {
            return;
        }
        if let Some(err) = IcmpError::parse(ip.payload) {
            self.hop(tag, |s| {
                format!(
                    "{}: {} from {} reaches ping",
                    s.label(dev),
                    err.kind.ping_text(),
                    ip.src
                )
            });
            self.icmp_error_rcv(ns, ip.src, &err);
            return;
        }
        let Some(echo) = Echo::parse(ip.payload) else {
            return;
        };
        match echo.kind {
            EchoKind::Request => {
                self.hop(tag, |s| {
                    format!("{}: echo request for {}: replying", s.label(dev), ip.dst)
                });
                let reply = Echo {
                    kind: EchoKind::Reply,
                    ..echo
                };
                let (src, dst) = (ip.dst, ip.src);
                match self.route_output(ns, dst, None) {
                    Some(r) => {
                        // The kernel's ICMP socket never sets Don't Fragment.
                        let packet = self.ip_packet(ns, src, dst, false, &reply.bytes());
                        self.ip_output(ns, r, dst, packet, None);
                    }
                    None => self.drop_hop(tag, |s| format!("{}: no route back to {dst}", s.label(dev))),
                }
            }
            EchoKind::Reply => {
                self.hop(tag, |s| {
                    format!("{}: echo reply from {} reaches ping", s.label(dev), ip.src)
                });
                self.ping_reply(ns, ip.src, ip.ttl, &echo);
            }
        }
    }

    /// An ICMP packet from this host, Don't Fragment set when `df`.
    pub(crate) fn ip_packet(
        &mut self,
        ns: NsId,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        df: bool,
        payload: &[u8],
    ) -> Vec<u8> {
        let n = &mut self.nss[ns.0 as usize];
        n.ip_id = n.ip_id.wrapping_add(1);
        ipv4_packet(src, dst, IpProtocol::Icmp, n.ip_id, df, payload)
    }

    /// Sends an IPv4 packet for `dst` along `route`, in fragments when it
    /// is larger than the path MTU (the callers refused what said Don't
    /// Fragment). Says whether a device refused it at once.
    pub(crate) fn ip_output(
        &mut self,
        ns: NsId,
        route: Route,
        dst: Ipv4Addr,
        packet: Vec<u8>,
        ping: Option<(usize, u16)>,
    ) -> Xmit {
        let mtu = self.path_mtu(ns, &route, dst, false).0 as usize;
        self.ip_output_mtu(ns, route, dst, packet, ping, mtu)
    }

    /// [`Sim::ip_output`] with the MTU to cut to, for a caller that knows it.
    pub(crate) fn ip_output_mtu(
        &mut self,
        ns: NsId,
        route: Route,
        dst: Ipv4Addr,
        packet: Vec<u8>,
        ping: Option<(usize, u16)>,
        mtu: usize,
    ) -> Xmit {
        let next_hop = route.next_hop(dst);
        if packet.len() <= mtu {
            return self.ip_output_one(ns, route, next_hop, packet, ping);
        }
        let Some(ip) = Ipv4::parse(&packet) else {
            return Xmit::Sent;
        };
        // Errors and a ping's bookkeeping concern the first piece alone.
        let mut tagged = ping;
        for piece in fragment(&ip, mtu) {
            if self.ip_output_one(ns, route, next_hop, piece, tagged.take()) == Xmit::Dropped {
                // `ip_do_fragment` stops at the first piece refused.
                return Xmit::Dropped;
            }
        }
        Xmit::Sent
    }

    fn ip_output_one(
        &mut self,
        ns: NsId,
        route: Route,
        next_hop: Ipv4Addr,
        packet: Vec<u8>,
        ping: Option<(usize, u16)>,
    ) -> Xmit {
        if route.local {
            let f = ip_frame(MacAddr::ZERO, MacAddr::ZERO, &packet);
            let t = self.trace_frame(route.dev, &f);
            self.xmit(route.dev, f, t)
        } else if self.is_broadcast(ns, next_hop) {
            let mac = self.dev(route.dev).mac;
            let f = ip_frame(MacAddr::BROADCAST, mac, &packet);
            let t = self.trace_frame(route.dev, &f);
            self.xmit(route.dev, f, t)
        } else {
            self.neigh_output(ns, route.dev, next_hop, packet, ping)
        }
    }

    fn send_to(&mut self, dev: DevId, lladdr: MacAddr, packet: &[u8]) -> Xmit {
        let f = ip_frame(lladdr, self.dev(dev).mac, packet);
        let t = self.trace_frame(dev, &f);
        self.xmit(dev, f, t)
    }

    /// `neigh_resolve_output`: send with a known address, or queue and resolve.
    fn neigh_output(
        &mut self,
        ns: NsId,
        dev: DevId,
        ip: Ipv4Addr,
        packet: Vec<u8>,
        ping: Option<(usize, u16)>,
    ) -> Xmit {
        let now = self.now;
        let (table, reachable_for) = self.neigh_and_rng(ns);
        let actions = table.output((dev, ip), now, packet, ping, reachable_for);
        self.neigh_run(ns, dev, ip, actions)
    }

    /// Does what the neighbour table of `ns` asked for its entry (dev, ip);
    /// says whether a packet it sent was refused at once.
    fn neigh_run(&mut self, ns: NsId, dev: DevId, ip: Ipv4Addr, actions: Vec<Action>) -> Xmit {
        let mut r = Xmit::Sent;
        for a in actions {
            match a {
                Action::Send { lladdr, packet } => {
                    if self.send_to(dev, lladdr, &packet) == Xmit::Dropped {
                        r = Xmit::Dropped;
                    }
                }
                Action::Solicit { unicast } => self.arp_solicit(ns, dev, ip, unicast),
                Action::Arm { after, generation } => self.schedule(
                    after,
                    Work::Neigh {
                        ns,
                        dev,
                        ip,
                        generation,
                    },
                ),
                Action::Fail { queue } => self.neigh_failed(dev, ip, queue),
            }
        }
        r
    }

    /// Sends an ARP request for `target` (broadcast, or unicast to a known address).
    fn arp_solicit(&mut self, ns: NsId, dev: DevId, target: Ipv4Addr, unicast: Option<MacAddr>) {
        let d = self.dev(dev);
        let queued_src = self.nss[ns.0 as usize]
            .neigh
            .get(&(dev, target))
            .and_then(|e| e.queue.last())
            .and_then(|(p, _)| Ipv4::parse(p).map(|ip| ip.src))
            .filter(|&s| self.is_local(ns, s));
        let spa = queued_src
            .or_else(|| d.addrs.iter().find(|a| a.contains(&target)).map(|a| a.addr()))
            .or_else(|| d.addrs.first().map(|a| a.addr()))
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let arp = Arp {
            op: ArpOp::Request,
            sha: d.mac,
            spa,
            tha: unicast.unwrap_or(MacAddr::ZERO),
            tpa: target,
        };
        let f = arp.frame(unicast.unwrap_or(MacAddr::BROADCAST), d.mac);
        let t = self.trace_frame(dev, &f);
        self.xmit(dev, f, t);
    }

    /// `neigh_update`: a new address and state for an entry (created for an
    /// ARP request to us or by an administrator); sends what was queued once
    /// the address is known.
    fn neigh_update(&mut self, ns: NsId, dev: DevId, ip: Ipv4Addr, lladdr: MacAddr, state: Nud, by: Writer) {
        let now = self.now;
        // Drawn for every update, used or not: the emulator's random
        // numbers stay where they were.
        let reachable_for = self.reachable_time();
        let table = &mut self.nss[ns.0 as usize].neigh;
        let actions = table.update((dev, ip), now, lladdr, state, by, reachable_for);
        // Packets queued for resolution go out later: nobody hears back.
        let _ = self.neigh_run(ns, dev, ip, actions);
    }

    pub(crate) fn neigh_timer(&mut self, ns: NsId, dev: DevId, ip: Ipv4Addr, generation: u64) {
        if !self.exists(dev) {
            return;
        }
        let actions = self.nss[ns.0 as usize].neigh.timer((dev, ip), generation);
        let _ = self.neigh_run(ns, dev, ip, actions);
    }

    /// Resolution failed: queued pings learn "Destination Host Unreachable",
    /// the senders of forwarded packets an ICMP error (`ipv4_link_failure`).
    fn neigh_failed(&mut self, dev: DevId, ip: Ipv4Addr, queue: Vec<Queued>) {
        if self.tracing() {
            let text = format!("{}: no ARP reply for {ip}: entry FAILED", self.label(dev));
            self.trace.as_mut().expect("checked").new_frame(text);
        }
        let ns = self.dev(dev).ns;
        let kind = IcmpErrorKind::HostUnreachable;
        for (packet, ping) in queue {
            match ping {
                Some((idx, seq)) => {
                    let p = &mut self.pings[idx];
                    if !p.done {
                        let from = p.src;
                        p.error(format!("From {from} icmp_seq={seq} {}", kind.ping_text()));
                    }
                }
                None => {
                    if let Some(forwarded) = Ipv4::parse(&packet) {
                        self.icmp_error(ns, kind, &forwarded);
                    }
                }
            }
        }
    }

    /// Forgets every neighbour learned on `dev` (device down, moved, new MAC).
    pub(crate) fn flush_neigh_dev(&mut self, dev: DevId) {
        for ns in &mut self.nss {
            ns.neigh.retain(|&(d, _), _| d != dev);
        }
    }

    /// Runs a configuration change; then a device that lost its carrier in
    /// it forgets its neighbours (whatever else the command did, or refused).
    pub(crate) fn watching_carrier<T>(&mut self, change: impl FnOnce(&mut Sim) -> T) -> T {
        let watch = self.carrier_watch();
        let r = change(self);
        self.carrier_lost(watch);
        r
    }

    /// The devices that have a non-permanent neighbour entry and carrier:
    /// what [`Sim::carrier_lost`] looks at again after a change.
    fn carrier_watch(&self) -> Vec<DevId> {
        let mut v: Vec<DevId> = self
            .nss
            .iter()
            .flat_map(|ns| ns.neigh.iter())
            .filter(|(_, e)| e.state != Nud::Permanent)
            .map(|(&(d, _), _)| d)
            .collect();
        v.dedup();
        v.retain(|&d| self.carrier(d));
        v
    }

    /// `neigh_carrier_down`: a device of `watch` that has lost its carrier
    /// (an admin-down port of its lower's bridge, a veth peer gone down)
    /// forgets its non-permanent neighbours, as Linux's ARP does on
    /// `NETDEV_CHANGE` without carrier.
    fn carrier_lost(&mut self, watch: Vec<DevId>) {
        for d in watch {
            if self.exists(d) && !self.carrier(d) {
                for ns in &mut self.nss {
                    ns.neigh.retain(|&(x, _), e| x != d || e.state == Nud::Permanent);
                }
            }
        }
    }

    /// `ip neigh flush all|dev X`: forgets non-permanent entries.
    pub(crate) fn flush_neigh(&mut self, ns: NsId, dev: Option<DevId>) {
        self.nss[ns.0 as usize]
            .neigh
            .retain(|&(d, _), e| e.state == Nud::Permanent || dev.is_some_and(|x| x != d));
    }

    /// `ip neigh add|replace|change`: an administrator's entry, as the
    /// kernel's `neigh_add` and `__neigh_update(..., ADMIN)`.
    pub(crate) fn neigh_set(&mut self, ns: NsId, dev: DevId, req: &NeighSet) -> Result<(), SimError> {
        let entry = self.nss[ns.0 as usize].neigh.get(&(dev, req.addr));
        let name = &self.dev(dev).name;
        match req.op {
            NeighOp::Add if entry.is_some() => {
                return Err(SimError::kernel(
                    Errno::EEXIST,
                    format!("{name} has an entry for {}; replace overwrites it", req.addr),
                ))
            }
            NeighOp::Change if entry.is_none() => {
                return Err(SimError::kernel(
                    Errno::ENOENT,
                    format!("{name} has no entry for {} to change", req.addr),
                ))
            }
            _ => {}
        }
        let known = entry
            .filter(|e| !matches!(e.state, Nud::Incomplete | Nud::Failed))
            .and_then(|e| e.lladdr);
        let Some(lladdr) = req.lladdr.or(known) else {
            return Err(SimError::Kernel {
                errno: Errno::EINVAL,
                extack: Some("No link layer address given"),
                detail: format!("{name}: {} is not resolved; give lladdr", req.addr),
            });
        };
        let state = match req.nud {
            NeighNud::Permanent => Nud::Permanent,
            NeighNud::Reachable => Nud::Reachable,
            NeighNud::Stale => Nud::Stale,
        };
        self.neigh_update(ns, dev, req.addr, lladdr, state, Writer::Admin);
        Ok(())
    }

    /// `ip neigh del ADDR dev DEV`.
    pub(crate) fn neigh_del(&mut self, ns: NsId, dev: DevId, addr: Ipv4Addr) -> Result<(), SimError> {
        match self.nss[ns.0 as usize].neigh.remove(&(dev, addr)) {
            true => Ok(()),
            false => Err(SimError::kernel(
                Errno::ENOENT,
                format!("{} has no entry for {addr}", self.dev(dev).name),
            )),
        }
    }
}
