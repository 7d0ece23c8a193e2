//! Modes, flags and source-list operations, with the kernel's numbers and
//! iproute2's spellings.

use std::fmt;
use std::str::FromStr;

use crate::mac::MacAddr;

/// The mode of a macvlan (`enum macvlan_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Never talks to siblings; a reflected flood goes back only to the sender.
    Private,
    /// Everything leaves through the lower; siblings meet through a hairpin switch.
    Vepa,
    /// Siblings in bridge mode reach each other directly.
    Bridge,
    /// One child takes over the lower: all its unicast, the lower's MAC.
    Passthru,
    /// Receives by source MAC against an allow-list, never by destination.
    Source,
}

impl Mode {
    /// Every mode, in the kernel's numeric order.
    pub const ALL: [Mode; 5] = [
        Mode::Private,
        Mode::Vepa,
        Mode::Bridge,
        Mode::Passthru,
        Mode::Source,
    ];

    /// The kernel's value (`MACVLAN_MODE_*`).
    pub fn to_kernel(self) -> u32 {
        match self {
            Mode::Private => 1,
            Mode::Vepa => 2,
            Mode::Bridge => 4,
            Mode::Passthru => 8,
            Mode::Source => 16,
        }
    }

    /// The mode for a kernel value; `None` for any other value (EINVAL).
    pub fn from_kernel(v: u32) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.to_kernel() == v)
    }

    /// iproute2's word for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Private => "private",
            Mode::Vepa => "vepa",
            Mode::Bridge => "bridge",
            Mode::Passthru => "passthru",
            Mode::Source => "source",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode word iproute2 would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "argument of \"mode\" must be \"private\", \"vepa\", \"bridge\", \"passthru\" or \"source\", not \"{0}\""
)]
pub struct ParseModeError(pub String);

impl FromStr for Mode {
    type Err = ParseModeError;
    /// Exact words only, as iproute2's `macvlan_parse_opt`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseModeError(s.to_string()))
    }
}

/// A set of modes, as the kernel's flood masks (`vlan->mode & mask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeMask(u32);

impl ModeMask {
    /// Flood mask for frames from outside the port.
    pub const EXTERNAL: ModeMask = ModeMask(1 | 2 | 4 | 8);
    /// Flood mask for a frame a hairpin switch reflected from a VEPA child.
    pub const FROM_VEPA: ModeMask = ModeMask(2 | 4);
    /// Flood mask for a frame reflected from a bridge-mode child.
    pub const FROM_BRIDGE: ModeMask = ModeMask(2);
    /// Bridge-mode local delivery at transmit time.
    pub const BRIDGE_ONLY: ModeMask = ModeMask(4);

    /// Whether `mode` is in the set.
    #[inline]
    pub fn contains(self, mode: Mode) -> bool {
        self.0 & mode.to_kernel() != 0
    }
}

/// `IFLA_MACVLAN_FLAGS`: a whole-value u16, only two bits defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u16);

impl Flags {
    /// No flags (`flag null`).
    pub const NONE: Flags = Flags(0);
    /// `MACVLAN_FLAG_NOPROMISC`: passthru leaves the lower's promiscuity alone.
    pub const NOPROMISC: Flags = Flags(1);
    /// `MACVLAN_FLAG_NODST`: a source-list match consumes the frame.
    pub const NODST: Flags = Flags(2);

    /// Flags from the kernel's value; `None` if an undefined bit is set (EINVAL).
    pub fn from_bits(v: u16) -> Option<Flags> {
        (v & !3 == 0).then_some(Flags(v))
    }

    /// The kernel's value.
    pub fn bits(self) -> u16 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Union.
    pub fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

/// An operation on a source-mode allow-list (`IFLA_MACVLAN_MACADDR_MODE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacaddrOp {
    /// Add one address; adding one already present is a no-op.
    Add(MacAddr),
    /// Remove one address; removing one not present succeeds.
    Del(MacAddr),
    /// Remove every address of this macvlan.
    Flush,
    /// Replace the list (flush, then add in order).
    Set(Vec<MacAddr>),
}

impl MacaddrOp {
    /// The kernel's value of `IFLA_MACVLAN_MACADDR_MODE`.
    pub fn kernel_mode(&self) -> u32 {
        match self {
            MacaddrOp::Add(_) => 0,
            MacaddrOp::Del(_) => 1,
            MacaddrOp::Flush => 2,
            MacaddrOp::Set(_) => 3,
        }
    }

    /// The addresses the operation carries.
    pub fn addrs(&self) -> &[MacAddr] {
        match self {
            MacaddrOp::Add(m) | MacaddrOp::Del(m) => std::slice::from_ref(m),
            MacaddrOp::Flush => &[],
            MacaddrOp::Set(v) => v,
        }
    }
}

/// The packet type a receiver sees (`skb->pkt_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PktType {
    /// Addressed to this device.
    Host,
    /// To `ff:ff:ff:ff:ff:ff`.
    Broadcast,
    /// To a multicast group.
    Multicast,
    /// Unicast to some other address: the IP stack drops it, packet sockets see it.
    OtherHost,
}

impl PktType {
    /// Lower-case name as tcpdump and `ip` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            PktType::Host => "host",
            PktType::Broadcast => "broadcast",
            PktType::Multicast => "multicast",
            PktType::OtherHost => "otherhost",
        }
    }

    /// The type for a group destination (`macvlan_broadcast_one`).
    #[inline]
    pub fn for_group(dst: MacAddr) -> PktType {
        if dst.is_broadcast() {
            PktType::Broadcast
        } else {
            PktType::Multicast
        }
    }
}

impl fmt::Display for PktType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_numbers_and_words_round_trip() {
        for m in Mode::ALL {
            assert_eq!(Mode::from_kernel(m.to_kernel()), Some(m));
            assert_eq!(m.as_str().parse::<Mode>().unwrap(), m);
        }
        assert_eq!(Mode::from_kernel(3), None);
        assert_eq!(Mode::from_kernel(0), None);
        let e = "bridg".parse::<Mode>().unwrap_err();
        assert!(e.to_string().contains("not \"bridg\""));
    }

    #[test]
    fn flag_bits() {
        assert_eq!(Flags::from_bits(3).unwrap(), Flags::NOPROMISC.union(Flags::NODST));
        assert_eq!(Flags::from_bits(4), None);
        assert!(Flags::from_bits(2).unwrap().contains(Flags::NODST));
        assert!(!Flags::NONE.contains(Flags::NODST));
    }

    #[test]
    fn masks() {
        assert!(ModeMask::EXTERNAL.contains(Mode::Passthru));
        assert!(!ModeMask::EXTERNAL.contains(Mode::Source));
        assert!(ModeMask::FROM_VEPA.contains(Mode::Bridge));
        assert!(!ModeMask::FROM_VEPA.contains(Mode::Private));
        assert!(!ModeMask::FROM_BRIDGE.contains(Mode::Bridge));
    }

    #[test]
    fn macaddr_op_modes() {
        let m = MacAddr([2, 0, 0, 0, 0, 1]);
        assert_eq!(MacaddrOp::Add(m).kernel_mode(), 0);
        assert_eq!(MacaddrOp::Del(m).kernel_mode(), 1);
        assert_eq!(MacaddrOp::Flush.kernel_mode(), 2);
        assert_eq!(MacaddrOp::Set(vec![m]).kernel_mode(), 3);
        assert_eq!(MacaddrOp::Set(vec![m, m]).addrs().len(), 2);
    }
}
