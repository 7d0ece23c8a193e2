//! The result of a forwarding decision: who gets the frame, and why the
//! others do not.

use crate::mac::MacAddr;
use crate::mode::{Mode, PktType};
use crate::port::ChildId;

/// One copy of a frame handed to a macvlan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The receiving macvlan.
    pub child: ChildId,
    /// The packet type it sees.
    pub pkt_type: PktType,
    /// The path that handed it over, which decides how Linux counts it.
    pub via: Via,
}

/// Which path of the driver hands a copy to a macvlan. They count it
/// differently in the receiver's statistics (`macvlan_count_rx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// To the owner of the destination MAC (or the passthru macvlan).
    Unicast,
    /// To a source-mode macvlan that lists the sender (`macvlan_forward_source`).
    SourceList,
    /// A copy of a flood (`macvlan_broadcast`): counted as multicast.
    Flood,
    /// A group frame back to the private, passthru or source macvlan that
    /// sent it ("forward to original port"): counted with 0 bytes, as Linux
    /// never sets the length on that path.
    ReturnedToSender,
}

/// Why a frame, or one copy of it, went nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The buffer is shorter than an Ethernet header.
    Truncated {
        /// Its length.
        len: usize,
    },
    /// A source-mode macvlan with `nodst` lists the sender: the frame goes
    /// only to source-mode macvlans listing it.
    NodstConsumed {
        /// The nodst macvlan that consumed it.
        by: ChildId,
    },
    /// The macvlan the frame is for is down (in passthru, the lower's
    /// unicast is dropped while the passthru macvlan is down; otherwise a
    /// down macvlan's MAC is simply unknown and the frame goes to the lower).
    DestinationDown {
        /// The down macvlan.
        child: ChildId,
    },
    /// The sender is administratively down.
    SenderDown,
    /// The sender has no carrier because its lower has none.
    NoCarrier,
    /// Bridge-mode delivery between siblings passes through the lower's
    /// receive path, which needs the lower up.
    LowerDown,
    /// The frame is larger than the receiver's MTU allows.
    TooBig {
        /// Frame length.
        len: usize,
        /// The receiver's MTU.
        mtu: u32,
    },
    /// Multicast sent by an up private, passthru or source macvlan comes
    /// back (through a hairpin) only to that sender.
    ReturnedToSender {
        /// The sender.
        sender: ChildId,
        /// Its mode.
        mode: Mode,
    },
    /// The receiver's mode is not in the flood set for this sender.
    ModeExcluded {
        /// Mode of the receiver.
        receiver: Mode,
        /// Mode of the sending sibling; `None` for a frame from outside.
        sender: Option<Mode>,
    },
    /// The sender does not receive its own flood.
    IsSender,
    /// The receiver has not joined the group (and is neither allmulti nor promiscuous).
    NotSubscribed {
        /// The group.
        group: MacAddr,
    },
    /// The port's broadcast queue length is 0 (`bcqueuelen 0` on every
    /// macvlan of the lower), so queued broadcast and multicast are dropped.
    BcQueueZero,
    /// 802.3x PAUSE frames are never flooded.
    Pause,
    /// Source-mode macvlans never receive by destination, nor floods: only
    /// through their allow-list.
    SourceModeByDestination,
    /// A source-mode macvlan whose allow-list does not contain the sender.
    NotInSourceList {
        /// The frame's source MAC.
        src: MacAddr,
    },
    /// The macvlan is down, so it is in no lookup.
    ChildDown,
    /// Anti-spoofing (an extension of the userspace datapath, off by
    /// default): the frame's source MAC is not the sender's.
    SpoofedSource {
        /// The frame's source MAC.
        src: MacAddr,
    },
}

impl Reason {
    /// Every reason's short name, in the order of [`Reason::index`].
    pub const NAMES: [&'static str; 17] = [
        "truncated",
        "nodst_consumed",
        "destination_down",
        "sender_down",
        "no_carrier",
        "lower_down",
        "too_big",
        "returned_to_sender",
        "mode_excluded",
        "is_sender",
        "not_subscribed",
        "bc_queue_zero",
        "pause",
        "source_mode_by_destination",
        "not_in_source_list",
        "child_down",
        "spoofed_source",
    ];

    /// A small number per kind of reason, for counters indexed by reason.
    pub fn index(&self) -> usize {
        match self {
            Reason::Truncated { .. } => 0,
            Reason::NodstConsumed { .. } => 1,
            Reason::DestinationDown { .. } => 2,
            Reason::SenderDown => 3,
            Reason::NoCarrier => 4,
            Reason::LowerDown => 5,
            Reason::TooBig { .. } => 6,
            Reason::ReturnedToSender { .. } => 7,
            Reason::ModeExcluded { .. } => 8,
            Reason::IsSender => 9,
            Reason::NotSubscribed { .. } => 10,
            Reason::BcQueueZero => 11,
            Reason::Pause => 12,
            Reason::SourceModeByDestination => 13,
            Reason::NotInSourceList { .. } => 14,
            Reason::ChildDown => 15,
            Reason::SpoofedSource { .. } => 16,
        }
    }

    /// The reason's short name (`destination_down`, ...).
    pub fn name(&self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// A sentence for a person, with devices named by `name`.
    pub fn describe(&self, name: &dyn Fn(ChildId) -> String) -> String {
        match *self {
            Reason::Truncated { len } => format!("frame of {len} bytes is shorter than an Ethernet header"),
            Reason::NodstConsumed { by } => format!(
                "consumed by source-mode macvlan {} (nodst): only source-list copies are made",
                name(by)
            ),
            Reason::DestinationDown { child } => format!("destination macvlan {} is down", name(child)),
            Reason::SenderDown => "the sending macvlan is down".to_string(),
            Reason::NoCarrier => "the sending macvlan has no carrier (its lower has none)".to_string(),
            Reason::LowerDown => {
                "bridge-mode delivery re-enters through the lower, which is down".to_string()
            }
            Reason::TooBig { len, mtu } => {
                format!("frame of {len} bytes exceeds the receiver's MTU {mtu} (+18 bytes of header)")
            }
            Reason::ReturnedToSender { sender, mode } => format!(
                "{mode}: multicast from {} is returned only to its sender",
                name(sender)
            ),
            Reason::ModeExcluded { receiver, sender } => match sender {
                Some(Mode::Bridge) if receiver == Mode::Bridge => {
                    "bridge: bridge siblings already got this flood locally when it was sent".to_string()
                }
                Some(s) => {
                    format!("{receiver}: flood from a {s} sibling is not delivered to {receiver} macvlans")
                }
                None => format!("{receiver}: not in the flood set"),
            },
            Reason::IsSender => "the sender does not receive its own flood".to_string(),
            Reason::NotSubscribed { group } => format!("not subscribed to multicast group {group}"),
            Reason::BcQueueZero => {
                "broadcast queue length is 0 (bcqueuelen 0): queued broadcast/multicast is dropped"
                    .to_string()
            }
            Reason::Pause => "PAUSE frames are never flooded".to_string(),
            Reason::SourceModeByDestination => {
                "source mode: receives only frames whose source is on its allow-list".to_string()
            }
            Reason::NotInSourceList { src } => format!("source mode: {src} is not on its allow-list"),
            Reason::ChildDown => "the macvlan is down".to_string(),
            Reason::SpoofedSource { src } => {
                format!("spoofchk: source {src} is not the sending macvlan's MAC")
            }
        }
    }
}

/// What happens to one frame. Reused between frames: the delivery list
/// keeps its capacity, so a decision allocates nothing once warmed up.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    deliveries: Vec<Delivery>,
    /// The lower's own stack receives the frame (`RX_HANDLER_PASS`).
    pub to_lower_stack: bool,
    /// The frame is transmitted on the lower (to the wire).
    pub to_wire: bool,
    /// The frame re-entered the lower's receive path (bridge-mode unicast
    /// between siblings): the lower's packet taps see it as incoming.
    pub via_lower_rx: bool,
    /// The broadcast queue refused the frame (`bcqueuelen 0`): the kernel
    /// counts it on the lower's `rx_dropped` (`macvlan_broadcast_enqueue`).
    pub lower_rx_dropped: bool,
    /// Why the frame reached no one, when it did not.
    pub drop: Option<Reason>,
    explain: bool,
    skipped: Vec<(ChildId, Reason)>,
}

impl Decision {
    /// An empty decision for the fast path.
    pub fn new() -> Decision {
        Decision::default()
    }

    /// An empty decision that also records why each candidate was skipped.
    pub fn explaining() -> Decision {
        Decision {
            explain: true,
            ..Decision::default()
        }
    }

    /// The copies handed to macvlans, in the kernel's order.
    pub fn deliveries(&self) -> &[Delivery] {
        &self.deliveries
    }

    /// Candidates that did not get a copy, with the reason (explaining decisions only).
    pub fn skipped(&self) -> &[(ChildId, Reason)] {
        &self.skipped
    }

    /// Nobody gets the frame: no macvlan, not the lower's stack, not the wire.
    pub fn reaches_no_one(&self) -> bool {
        self.deliveries.is_empty() && !self.to_lower_stack && !self.to_wire
    }

    /// Whether `child` gets a copy, and as what.
    pub fn delivered_to(&self, child: ChildId) -> Option<PktType> {
        self.deliveries
            .iter()
            .find(|d| d.child == child)
            .map(|d| d.pkt_type)
    }

    pub(crate) fn reset(&mut self) {
        self.deliveries.clear();
        self.skipped.clear();
        self.to_lower_stack = false;
        self.to_wire = false;
        self.via_lower_rx = false;
        self.lower_rx_dropped = false;
        self.drop = None;
    }

    #[inline]
    pub(crate) fn deliver(&mut self, child: ChildId, pkt_type: PktType, via: Via) {
        if self.explain {
            self.skipped.retain(|&(c, _)| c != child);
        }
        self.deliveries.push(Delivery { child, pkt_type, via });
    }

    #[inline]
    pub(crate) fn explain(&self) -> bool {
        self.explain
    }

    #[inline]
    pub(crate) fn skip(&mut self, child: ChildId, reason: Reason) {
        // A source-mode copy may already have reached a child that a later
        // step passes over: it is not "skipped".
        if self.explain && self.delivered_to(child).is_none() {
            self.skipped.push((child, reason));
        }
    }
}
