//! Who gets a frame: the receive path from the lower
//! (`macvlan_handle_frame`) and the transmit path from a macvlan
//! (`macvlan_queue_xmit`).

use crate::decision::{Decision, Reason, Via};
use crate::mac::{MacAddr, MacKey};
use crate::mode::{Mode, ModeMask, PktType};
use crate::port::{ChildId, Port};
use crate::wire::{EthFrame, ETH_HLEN, ETH_P_PAUSE};

/// Bytes a forwarded frame may exceed the receiver's MTU by (Ethernet
/// header plus one VLAN tag, `is_skb_forwardable`).
const FORWARD_SLACK: usize = ETH_HLEN + 4;

impl Port {
    /// Decides the fate of `frame`, received on the lower from outside (or
    /// re-entering it, for bridge-mode unicast). `out` is reset first.
    pub fn rx_from_lower(&self, frame: &[u8], out: &mut Decision) {
        out.reset();
        match EthFrame::new_checked(frame) {
            Ok(eth) => self.rx(&eth, out),
            Err(e) => out.drop = Some(Reason::Truncated { len: e.0 }),
        }
    }

    fn rx(&self, eth: &EthFrame<&[u8]>, out: &mut Decision) {
        let dst = eth.dst();
        let src = eth.src();
        // Source-mode copies come first, for every frame.
        if let Some(by) = self.forward_source(dst, src, out) {
            if out.deliveries().is_empty() {
                out.drop = Some(Reason::NodstConsumed { by });
            }
            return;
        }
        if dst.is_multicast() {
            self.rx_group(eth, dst, src, out);
        } else {
            self.rx_unicast(dst, out);
        }
    }

    /// `macvlan_forward_source`: a copy to every up source-mode macvlan
    /// whose allow-list holds `src`. Returns the nodst macvlan that
    /// consumes the frame, if any (even a down one).
    fn forward_source(&self, dst: MacAddr, src: MacAddr, out: &mut Decision) -> Option<ChildId> {
        let list = self.sources.get(&MacKey::from(src));
        if out.explain() {
            self.explain_source_misses(src, list.map_or(&[][..], |l| &l[..]), out);
        }
        let list = list?;
        let base = if dst.is_multicast() {
            PktType::for_group(dst)
        } else if dst == self.lower.mac {
            PktType::Host
        } else {
            PktType::OtherHost
        };
        let mut consumed_by = None;
        for &id in list.iter().rev() {
            let Some(c) = self.get(id) else { continue };
            if c.flags.contains(crate::mode::Flags::NODST) && consumed_by.is_none() {
                consumed_by = Some(id);
            }
            if !c.up {
                out.skip(id, Reason::ChildDown);
                continue;
            }
            out.deliver(
                id,
                if dst == c.mac { PktType::Host } else { base },
                Via::SourceList,
            );
        }
        consumed_by
    }

    fn explain_source_misses(&self, src: MacAddr, listed: &[ChildId], out: &mut Decision) {
        for &id in &self.order {
            if let Some(c) = self.get(id) {
                if c.mode == Mode::Source && c.up && !listed.contains(&id) {
                    out.skip(id, Reason::NotInSourceList { src });
                }
            }
        }
    }

    fn rx_unicast(&self, dst: MacAddr, out: &mut Decision) {
        let target = if self.passthru {
            self.order.first().copied()
        } else {
            self.up_owner(dst)
        };
        let Some(id) = target else {
            if out.explain() {
                self.explain_down_owner(dst, out);
            }
            out.to_lower_stack = true;
            return;
        };
        let c = self.get(id).expect("lookups hold live children");
        if c.mode == Mode::Source {
            out.skip(id, Reason::SourceModeByDestination);
            out.to_lower_stack = true;
            return;
        }
        if !c.up {
            out.drop = Some(Reason::DestinationDown { child: id });
            out.skip(id, Reason::DestinationDown { child: id });
            return;
        }
        out.deliver(id, PktType::Host, Via::Unicast);
    }

    /// Explains a unicast that found no up owner although a down macvlan has the MAC.
    fn explain_down_owner(&self, dst: MacAddr, out: &mut Decision) {
        for &id in &self.order {
            if self.get(id).is_some_and(|c| !c.up && c.mac == dst) {
                out.skip(id, Reason::DestinationDown { child: id });
            }
        }
    }

    fn rx_group(&self, eth: &EthFrame<&[u8]>, dst: MacAddr, src: MacAddr, out: &mut Decision) {
        let sender = self.up_owner(src);
        if let Some(sid) = sender {
            let mode = self.get(sid).expect("lookups hold live children").mode;
            if !matches!(mode, Mode::Vepa | Mode::Bridge) {
                // Forward to original port: the sender alone gets it back.
                out.deliver(sid, PktType::for_group(dst), Via::ReturnedToSender);
                if out.explain() {
                    for &id in &self.flood_order {
                        if id != sid {
                            out.skip(id, Reason::ReturnedToSender { sender: sid, mode });
                        }
                    }
                }
                return;
            }
        }
        // The lower's own stack gets every other group frame.
        out.to_lower_stack = true;
        if eth.ethertype() == ETH_P_PAUSE {
            self.skip_all(out, Reason::Pause);
            return;
        }
        if self.bc_queue_len_used == 0 && self.queued(dst) {
            out.lower_rx_dropped = true;
            self.skip_all(out, Reason::BcQueueZero);
            return;
        }
        let sender_mode = sender.and_then(|id| self.get(id)).map(|c| c.mode);
        let mask = match sender_mode {
            None => ModeMask::EXTERNAL,
            Some(Mode::Vepa) => ModeMask::FROM_VEPA,
            Some(_) => ModeMask::FROM_BRIDGE,
        };
        self.flood(dst, sender, mask, sender_mode, None, out);
    }

    /// Whether the kernel defers this group frame to the broadcast queue
    /// (`bc_filter`): never when `bclim` < 0; always for broadcast or a
    /// promiscuous/all-multicast lower; else when more than `bclim` up
    /// macvlans joined the group.
    fn queued(&self, dst: MacAddr) -> bool {
        if self.bc_cutoff < 0 {
            return false;
        }
        if dst.is_broadcast() || self.lower_floods_all() {
            return true;
        }
        self.group_subscribers(dst) > self.bc_cutoff as usize
    }

    fn skip_all(&self, out: &mut Decision, reason: Reason) {
        if out.explain() {
            for &id in &self.flood_order {
                out.skip(id, reason);
            }
        }
    }

    /// `macvlan_broadcast`: a copy to each up macvlan in `mask`, except the
    /// sender, whose filter accepts `dst`. `mtu_len` is the frame length
    /// checked against each receiver's MTU (local delivery only).
    fn flood(
        &self,
        dst: MacAddr,
        sender: Option<ChildId>,
        mask: ModeMask,
        sender_mode: Option<Mode>,
        mtu_len: Option<usize>,
        out: &mut Decision,
    ) {
        let pkt_type = PktType::for_group(dst);
        for &id in &self.flood_order {
            let c = self.get(id).expect("flood list holds live children");
            if Some(id) == sender {
                out.skip(id, Reason::IsSender);
                continue;
            }
            if !mask.contains(c.mode) {
                let reason = if c.mode == Mode::Source {
                    Reason::SourceModeByDestination
                } else {
                    Reason::ModeExcluded {
                        receiver: c.mode,
                        sender: sender_mode,
                    }
                };
                out.skip(id, reason);
                continue;
            }
            if !c.accepts_group(dst) {
                out.skip(id, Reason::NotSubscribed { group: dst });
                continue;
            }
            if let Some(len) = mtu_len {
                if len > c.mtu as usize + FORWARD_SLACK {
                    out.skip(id, Reason::TooBig { len, mtu: c.mtu });
                    continue;
                }
            }
            out.deliver(id, pkt_type, Via::Flood);
        }
        if out.explain() {
            for &id in &self.order {
                if self.get(id).is_some_and(|c| !c.up) {
                    out.skip(id, Reason::ChildDown);
                }
            }
        }
    }

    /// Decides the fate of `frame` sent by macvlan `sender`. `out` is reset
    /// first. An unknown `sender` reaches no one.
    pub fn tx_from_child(&self, sender: ChildId, frame: &[u8], out: &mut Decision) {
        self.tx_from_child_gso(sender, frame, false, out)
    }

    /// As [`Port::tx_from_child`], for a frame that may be a GSO super-frame
    /// (`gso`): like the kernel's `is_skb_forwardable`, local delivery then
    /// skips the MTU check, since the frame is segmented later if needed.
    pub fn tx_from_child_gso(&self, sender: ChildId, frame: &[u8], gso: bool, out: &mut Decision) {
        out.reset();
        let eth = match EthFrame::new_checked(frame) {
            Ok(eth) => eth,
            Err(e) => {
                out.drop = Some(Reason::Truncated { len: e.0 });
                return;
            }
        };
        let Some(c) = self.get(sender) else {
            out.drop = Some(Reason::SenderDown);
            return;
        };
        if !c.up {
            out.drop = Some(Reason::SenderDown);
            return;
        }
        if !self.lower.carrier {
            out.drop = Some(Reason::NoCarrier);
            return;
        }
        if c.mode == Mode::Bridge {
            let dst = eth.dst();
            if dst.is_multicast() {
                // Local copies to bridge siblings, then the wire.
                self.flood(
                    dst,
                    Some(sender),
                    ModeMask::BRIDGE_ONLY,
                    Some(Mode::Bridge),
                    (!gso).then_some(eth.len()),
                    out,
                );
                out.to_wire = true;
                return;
            }
            if let Some(dest) = self.up_owner(dst) {
                if self.get(dest).is_some_and(|d| d.mode == Mode::Bridge) {
                    // dev_forward_skb(lower): re-enters the lower's receive path.
                    if !self.lower.admin_up {
                        out.drop = Some(Reason::LowerDown);
                        return;
                    }
                    if !gso && eth.len() > self.lower.mtu as usize + FORWARD_SLACK {
                        out.drop = Some(Reason::TooBig {
                            len: eth.len(),
                            mtu: self.lower.mtu,
                        });
                        return;
                    }
                    self.rx(&eth, out);
                    out.via_lower_rx = true;
                    return;
                }
            }
        }
        out.to_wire = true;
    }
}
