//! Moving frames: transmit and receive on each kind of device, the Linux
//! bridge (learning, ageing, flooding, hairpin), and macvlan ports, whose
//! every decision comes from `mvl-core`.

use mvl_core::wire::EthFrame;
use mvl_core::{ChildId, Decision, MacAddr, MacvlanRef, PktType, Reason, Via};

use crate::device::{DevId, Kind};
use crate::packet::{summary, Ipv4};
use crate::sim::{Sim, Work, WIRE_DELAY};
use crate::time::Duration;
use crate::trace::Tag;

/// How long a learned FDB entry lives without traffic (`ageing_time` 300 s).
pub(crate) const FDB_AGEING: Duration = Duration::secs(300);

/// Where a bridge sends a unicast frame.
enum FdbHit {
    Local,
    Port(DevId),
    Unknown,
}

/// The packet type a device assigns to a frame (`eth_type_trans`).
pub(crate) fn eth_pkt_type(own: MacAddr, dst: MacAddr) -> PktType {
    if dst.is_broadcast() {
        PktType::Broadcast
    } else if dst.is_multicast() {
        PktType::Multicast
    } else if dst == own {
        PktType::Host
    } else {
        PktType::OtherHost
    }
}

/// What a driver answered its sender (`NET_XMIT_*`): a frame it refused
/// there and then makes the sender's `sendmsg` fail (ENOBUFS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Xmit {
    Sent,
    Dropped,
}

impl Sim {
    pub(crate) fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    pub(crate) fn hop(&mut self, tag: Tag, text: impl FnOnce(&Sim) -> String) {
        if self.trace.is_some() && tag.0 != 0 {
            let t = text(self);
            if let Some(tr) = self.trace.as_mut() {
                tr.hop(tag, t, false);
            }
        }
    }

    pub(crate) fn drop_hop(&mut self, tag: Tag, text: impl FnOnce(&Sim) -> String) {
        if self.trace.is_some() && tag.0 != 0 {
            let t = text(self);
            if let Some(tr) = self.trace.as_mut() {
                tr.hop(tag, t, true);
            }
        }
    }

    /// The macvlan device of a port's child.
    pub(crate) fn child_dev(&self, lower: DevId, id: ChildId) -> Option<DevId> {
        self.children.get(&(lower, id)).copied()
    }

    pub(crate) fn macvlan_ref(&self, dev: DevId) -> Option<MacvlanRef<DevId>> {
        match self.dev(dev).kind {
            Kind::Macvlan { lower, id } => Some(MacvlanRef { lower, id }),
            _ => None,
        }
    }

    /// `dev` transmits `frame` (`dev_queue_xmit`), and says whether its
    /// driver refused it there and then.
    pub(crate) fn xmit(&mut self, dev: DevId, frame: Vec<u8>, tag: Tag) -> Xmit {
        if !self.dev(dev).up {
            self.dev_mut(dev).stats.tx_dropped += 1;
            self.drop_hop(tag, |s| {
                format!("{}: cannot send, the device is down", s.label(dev))
            });
            return Xmit::Sent;
        }
        if !self.carrier(dev) {
            self.dev_mut(dev).stats.tx_dropped += 1;
            self.drop_hop(tag, |s| {
                format!("{}: cannot send, no carrier (NO-CARRIER)", s.label(dev))
            });
            return Xmit::Sent;
        }
        let now = self.now;
        self.captures.see(dev, now, &frame);
        if let Kind::Veth { peer } = self.dev(dev).kind {
            // `veth_xmit`: a frame too big for the peer is refused at once
            // (`is_skb_forwardable`), counted on both ends.
            let mtu = self.dev(peer).mtu as usize;
            if frame.len() > mtu + 18 {
                self.dev_mut(peer).stats.rx_dropped += 1;
                self.dev_mut(dev).stats.tx_dropped += 1;
                self.drop_hop(tag, |s| {
                    format!("{}: frame larger than the MTU {mtu} of its peer", s.label(dev))
                });
                return Xmit::Dropped;
            }
        }
        // A macvlan counts what its port let through (`macvlan_start_xmit`).
        if !matches!(self.dev(dev).kind, Kind::Macvlan { .. }) {
            let st = &mut self.dev_mut(dev).stats;
            st.tx_packets += 1;
            st.tx_bytes += frame.len() as u64;
        }
        match self.dev(dev).kind.clone() {
            Kind::Loopback => self.schedule(
                Duration(0),
                Work::Rx {
                    dev,
                    frame,
                    pkt: None,
                    tag,
                },
            ),
            Kind::Veth { peer } => {
                self.hop(tag, |s| format!("{} → {} (veth)", s.label(dev), s.label(peer)));
                self.schedule(
                    WIRE_DELAY,
                    Work::Rx {
                        dev: peer,
                        frame,
                        pkt: None,
                        tag,
                    },
                );
            }
            Kind::Bridge(_) => self.bridge_xmit(dev, frame, tag),
            Kind::Macvlan { lower, id } => return self.macvlan_xmit(dev, lower, id, frame, tag),
        }
        Xmit::Sent
    }

    /// A frame arrives at `dev`.
    pub(crate) fn receive(&mut self, dev: DevId, frame: Vec<u8>, pkt: Option<PktType>, tag: Tag) {
        if !self.dev(dev).up {
            self.dev_mut(dev).stats.rx_dropped += 1;
            self.drop_hop(tag, |s| {
                format!("{}: dropped on arrival, the device is down", s.label(dev))
            });
            return;
        }
        let now = self.now;
        self.captures.see(dev, now, &frame);
        // A bridge counts what it passes up without the Ethernet header
        // (`br_pass_frame_up` counts `skb->len` after `eth_type_trans`).
        let header = if matches!(self.dev(dev).kind, Kind::Bridge(_)) {
            14
        } else {
            0
        };
        // What a macvlan port hands over, the port has counted (`deliver_copies`).
        if !(matches!(self.dev(dev).kind, Kind::Macvlan { .. }) && pkt.is_some()) {
            let st = &mut self.dev_mut(dev).stats;
            st.rx_packets += 1;
            st.rx_bytes += (frame.len() - header.min(frame.len())) as u64;
        }
        let Ok(eth) = EthFrame::new_checked(&frame[..]) else {
            self.drop_hop(tag, |s| format!("{}: runt frame", s.label(dev)));
            return;
        };
        let (dst, src) = (eth.dst(), eth.src());
        if let Some(br) = self.dev(dev).master {
            self.bridge_input(br, dev, frame, (dst, src), tag);
            return;
        }
        if self.ports.port(dev).is_some() {
            self.macvlan_rx(dev, frame, dst, tag);
            return;
        }
        let pkt = pkt.unwrap_or_else(|| eth_pkt_type(self.dev(dev).mac, dst));
        self.stack_rx(dev, frame, pkt, tag);
    }

    fn explain_reasons(&self, lower: DevId, d: &Decision) -> Vec<String> {
        let Some(port) = self.ports.port(lower) else {
            return Vec::new();
        };
        let name = |id: ChildId| {
            self.child_dev(lower, id)
                .map_or_else(|| port.name(id), |d| self.label(d))
        };
        // The sender skipping its own flood is no news.
        d.skipped()
            .iter()
            .filter(|(_, r)| *r != Reason::IsSender)
            .map(|(id, r)| format!("not to {}: {}", name(*id), r.describe(&name)))
            .collect()
    }

    fn describe(&self, lower: DevId, reason: &Reason) -> String {
        let Some(port) = self.ports.port(lower) else {
            return String::new();
        };
        let name = |id: ChildId| {
            self.child_dev(lower, id)
                .map_or_else(|| port.name(id), |d| self.label(d))
        };
        reason.describe(&name)
    }

    /// Hands a port's deliveries to its children; `from_sibling`: the frame
    /// was sent by a sibling, not received by the lower.
    fn deliver_copies(&mut self, lower: DevId, d: &Decision, frame: &[u8], tag: Tag, from_sibling: bool) {
        for dl in d.deliveries() {
            if let Some(child) = self.child_dev(lower, dl.child) {
                self.hop(tag, |s| {
                    format!("{} receives it ({})", s.label(child), dl.pkt_type)
                });
                // A macvlan's receive counters are the port's
                // (`macvlan_count_rx`), with Linux 6.18's quirks: a flood copy
                // counts as multicast, and on the transmit path its length is
                // `skb->len + ETH_HLEN` while `skb->len` still holds the
                // Ethernet header (14 bytes too many); a group frame returned
                // to its sender is counted with no bytes at all.
                let bytes = match dl.via {
                    Via::ReturnedToSender => 0,
                    Via::Flood if from_sibling => frame.len() + 14,
                    _ => frame.len(),
                };
                let st = &mut self.dev_mut(child).stats;
                st.rx_packets += 1;
                st.rx_bytes += bytes as u64;
                st.multicast += u64::from(dl.via == Via::Flood);
                self.schedule(
                    Duration(0),
                    Work::Rx {
                        dev: child,
                        frame: frame.to_vec(),
                        pkt: Some(dl.pkt_type),
                        tag,
                    },
                );
            }
        }
    }

    /// The macvlan port on `lower` handles a frame the lower received (to
    /// `dst`, read where it arrived).
    fn macvlan_rx(&mut self, lower: DevId, frame: Vec<u8>, dst: MacAddr, tag: Tag) {
        if dst.is_multicast() && self.unmodelled.is_none() && is_ipv4_fragment(&frame) {
            // `ip_check_defrag`: the port would hold the pieces and hand
            // out the whole packet.
            self.unmodelled = Some(format!(
                "the macvlan port on {} receives a fragment of an IPv4 packet in a broadcast or multicast frame: Linux reassembles it before handing out copies, which the emulator does not model",
                self.dev(lower).name
            ));
        }
        let mut d = if self.tracing() {
            Decision::explaining()
        } else {
            Decision::new()
        };
        self.ports
            .port(lower)
            .expect("checked by caller")
            .rx_from_lower(&frame, &mut d);
        self.hop(tag, |s| {
            format!("{}: macvlan port decides who gets it", s.label(lower))
        });
        if self.tracing() {
            for r in self.explain_reasons(lower, &d) {
                self.drop_hop(tag, |_| r);
            }
        }
        if d.lower_rx_dropped {
            self.dev_mut(lower).stats.rx_dropped += 1;
        }
        self.deliver_copies(lower, &d, &frame, tag, false);
        if d.to_lower_stack {
            let pkt = eth_pkt_type(self.dev(lower).mac, dst);
            self.hop(tag, |s| {
                format!("{}: the lower's own stack gets it ({pkt})", s.label(lower))
            });
            self.stack_rx(lower, frame, pkt, tag);
        } else if let Some(r) = d.drop {
            let why = self.describe(lower, &r);
            self.drop_hop(tag, |s| format!("{}: dropped: {why}", s.label(lower)));
        }
    }

    /// A macvlan transmits: the port decides between local delivery and the wire.
    fn macvlan_xmit(&mut self, dev: DevId, lower: DevId, id: ChildId, frame: Vec<u8>, tag: Tag) -> Xmit {
        let mut d = if self.tracing() {
            Decision::explaining()
        } else {
            Decision::new()
        };
        let Some(port) = self.ports.port(lower) else {
            self.drop_hop(tag, |s| format!("{}: its lower is gone", s.label(dev)));
            return Xmit::Sent;
        };
        port.tx_from_child(id, &frame, &mut d);
        let mode = port.info(id).map(|i| i.mode.as_str()).unwrap_or("?");
        self.hop(tag, |s| {
            format!("{} (macvlan {mode} on {}) sends it", s.label(dev), s.label(lower))
        });
        if d.via_lower_rx {
            // Bridge-mode unicast re-enters through the lower's receive path.
            let now = self.now;
            self.captures.see(lower, now, &frame);
            self.hop(tag, |s| {
                format!(
                    "{}: re-enters the lower's receive path (bridge mode)",
                    s.label(lower)
                )
            });
        }
        if self.tracing() {
            for r in self.explain_reasons(lower, &d) {
                self.drop_hop(tag, |_| r);
            }
        }
        self.deliver_copies(lower, &d, &frame, tag, true);
        if let Some(r) = d.drop {
            if d.deliveries().is_empty() && !d.to_wire {
                self.dev_mut(dev).stats.tx_dropped += 1;
                let why = self.describe(lower, &r);
                self.drop_hop(tag, |s| format!("{}: dropped: {why}", s.label(dev)));
                return Xmit::Sent;
            }
        }
        let len = frame.len() as u64;
        let r = if d.to_wire {
            self.hop(tag, |s| {
                format!(
                    "{}: to the wire through the lower {}",
                    s.label(dev),
                    s.label(lower)
                )
            });
            self.xmit(lower, frame, tag)
        } else {
            Xmit::Sent
        };
        // What the lower refused at once is the macvlan's drop too.
        let st = &mut self.dev_mut(dev).stats;
        match r {
            Xmit::Sent => {
                st.tx_packets += 1;
                st.tx_bytes += len;
            }
            Xmit::Dropped => st.tx_dropped += 1,
        }
        r
    }

    fn is_local_mac(&self, br: DevId, mac: MacAddr) -> bool {
        if self.dev(br).mac == mac {
            return true;
        }
        match &self.dev(br).kind {
            Kind::Bridge(b) => b.ports.iter().any(|&p| self.dev(p).mac == mac),
            _ => false,
        }
    }

    /// The port of `br` whose own address is `mac`.
    fn port_with_mac(&self, br: DevId, mac: MacAddr) -> Option<DevId> {
        match &self.dev(br).kind {
            Kind::Bridge(b) => b.ports.iter().copied().find(|&p| self.dev(p).mac == mac),
            _ => None,
        }
    }

    fn fdb_lookup(&mut self, br: DevId, mac: MacAddr) -> FdbHit {
        if self.is_local_mac(br, mac) {
            return FdbHit::Local;
        }
        let now = self.now;
        let Kind::Bridge(b) = &mut self.dev_mut(br).kind else {
            return FdbHit::Unknown;
        };
        match b.fdb.get(&mac).copied() {
            Some((p, seen)) if now - seen < FDB_AGEING => FdbHit::Port(p),
            Some(_) => {
                b.fdb.remove(&mac);
                FdbHit::Unknown
            }
            None => FdbHit::Unknown,
        }
    }

    /// A frame from bridge port `port` (`br_handle_frame`).
    /// `dst` and `src` are the frame's addresses, read where it arrived.
    fn bridge_input(
        &mut self,
        br: DevId,
        port: DevId,
        frame: Vec<u8>,
        (dst, src): (MacAddr, MacAddr),
        tag: Tag,
    ) {
        if !self.port_forwarding(port) {
            self.drop_hop(tag, |s| {
                format!(
                    "{}: bridge port of {} is not forwarding",
                    s.label(port),
                    s.dev(br).name
                )
            });
            return;
        }
        if src.is_multicast() {
            self.drop_hop(tag, |s| format!("{}: multicast source address", s.label(br)));
            return;
        }
        if !self.is_local_mac(br, src) {
            let now = self.now;
            if let Kind::Bridge(b) = &mut self.dev_mut(br).kind {
                b.fdb.insert(src, (port, now));
            }
        }
        if dst.is_multicast() {
            self.hop(tag, |s| {
                format!("{} (bridge) floods it and keeps a copy", s.label(br))
            });
            self.bridge_flood(br, Some(port), &frame, tag);
            let pkt = eth_pkt_type(MacAddr::ZERO, dst);
            self.schedule(
                Duration(0),
                Work::Rx {
                    dev: br,
                    frame,
                    pkt: Some(pkt),
                    tag,
                },
            );
            return;
        }
        let hit = self.fdb_lookup(br, dst);
        if !matches!(hit, FdbHit::Local) && self.promiscuous(br) {
            // A promiscuous bridge passes every frame up besides forwarding
            // it (`br_handle_frame_finish`): how a macvlan on br0 hears its own.
            self.hop(tag, |s| {
                format!("{} (bridge, promiscuous) keeps a copy", s.label(br))
            });
            self.schedule(
                Duration(0),
                Work::Rx {
                    dev: br,
                    frame: frame.clone(),
                    pkt: Some(PktType::OtherHost),
                    tag,
                },
            );
        }
        match hit {
            FdbHit::Local => {
                self.hop(tag, |s| {
                    format!("{} (bridge): for the bridge itself", s.label(br))
                });
                self.schedule(
                    Duration(0),
                    Work::Rx {
                        dev: br,
                        frame,
                        pkt: Some(PktType::Host),
                        tag,
                    },
                );
            }
            FdbHit::Port(q) if q == port && !self.dev(port).hairpin => {
                self.drop_hop(tag, |s| {
                    format!(
                        "{} (bridge): {dst} is behind {}, the port it came in on, and hairpin is off",
                        s.label(br),
                        s.dev(port).name
                    )
                });
            }
            FdbHit::Port(q) => {
                self.hop(tag, |s| {
                    format!("{} (bridge): {dst} is behind {}", s.label(br), s.dev(q).name)
                });
                self.bridge_port_xmit(q, frame, tag);
            }
            FdbHit::Unknown => {
                self.hop(tag, |s| {
                    format!("{} (bridge): {dst} unknown, flooding", s.label(br))
                });
                self.bridge_flood(br, Some(port), &frame, tag);
            }
        }
    }

    /// Sends a copy out of every forwarding port but the ingress one
    /// (unless that port is in hairpin mode).
    fn bridge_flood(&mut self, br: DevId, ingress: Option<DevId>, frame: &[u8], tag: Tag) {
        let ports = match &self.dev(br).kind {
            Kind::Bridge(b) => b.ports.clone(),
            _ => return,
        };
        // Linux adds ports at the head of its list: the newest floods first.
        for &p in ports.iter().rev() {
            if !self.port_forwarding(p) {
                continue;
            }
            if Some(p) == ingress && !self.dev(p).hairpin {
                self.drop_hop(tag, |s| {
                    format!(
                        "{}: not back out of {}, the port it came in on (hairpin off)",
                        s.label(br),
                        s.dev(p).name
                    )
                });
                continue;
            }
            self.bridge_port_xmit(p, frame.to_vec(), tag);
        }
    }

    /// `br_dev_queue_push_xmit`: out of a port, unless the frame is too big
    /// for it (dropped without a count).
    fn bridge_port_xmit(&mut self, port: DevId, frame: Vec<u8>, tag: Tag) {
        let mtu = self.dev(port).mtu as usize;
        if frame.len() > mtu + 18 {
            self.drop_hop(tag, |s| {
                format!("{}: frame larger than the bridge port's MTU {mtu}", s.label(port))
            });
            return;
        }
        self.xmit(port, frame, tag);
    }

    /// The bridge device's own stack sends (`br_dev_xmit`).
    fn bridge_xmit(&mut self, br: DevId, frame: Vec<u8>, tag: Tag) {
        let Ok(eth) = EthFrame::new_checked(&frame[..]) else {
            self.drop_hop(tag, |s| format!("{}: runt frame", s.label(br)));
            return;
        };
        let dst = eth.dst();
        if dst.is_multicast() {
            self.bridge_flood(br, None, &frame, tag);
            return;
        }
        match self.fdb_lookup(br, dst) {
            FdbHit::Port(q) => self.bridge_port_xmit(q, frame, tag),
            // A port's own address is a local entry that points at the port:
            // `br_dev_xmit` forwards there. The bridge's own has no port.
            FdbHit::Local => match self.port_with_mac(br, dst) {
                Some(q) => {
                    self.hop(tag, |s| {
                        format!(
                            "{} (bridge): {dst} is {}'s own, out there",
                            s.label(br),
                            s.dev(q).name
                        )
                    });
                    self.bridge_port_xmit(q, frame, tag)
                }
                None => self.drop_hop(tag, |s| {
                    format!(
                        "{} (bridge): sent to its own address, it goes nowhere",
                        s.label(br)
                    )
                }),
            },
            FdbHit::Unknown => self.bridge_flood(br, None, &frame, tag),
        }
    }

    /// A new traced frame, when tracing.
    pub(crate) fn trace_frame(&mut self, from: DevId, frame: &[u8]) -> Tag {
        if self.trace.is_none() {
            return Tag::default();
        }
        let desc = format!("{} sends {}", self.label(from), summary(frame, false));
        self.trace.as_mut().expect("checked").new_frame(desc)
    }
}

/// Whether an Ethernet frame carries a piece of an IPv4 packet.
fn is_ipv4_fragment(frame: &[u8]) -> bool {
    EthFrame::new_checked(frame)
        .ok()
        .filter(|e| e.ethertype() == mvl_core::wire::ETH_P_IP)
        .and_then(|e| Ipv4::parse(e.payload()).map(|ip| ip.is_fragment()))
        .unwrap_or(false)
}
