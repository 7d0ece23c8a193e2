//! Per-child packet counters and drop reasons, shared between the
//! forwarding threads (which add) and the control plane (which reads).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use mvl_core::{MacAddr, Reason};

/// Counters of one child (or, for `lower`, of its port).
#[derive(Debug, Default)]
pub struct Counters {
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    drops: [AtomicU64; Reason::NAMES.len()],
    conflicts: [AtomicU64; Conflict::NAMES.len()],
    errors: AtomicU64,
}

/// A state the kernel's macvlan would have refused but a TAP cannot: its
/// owner changed the device with `ip` (or any tool) and the change stands.
/// The child then forwards nothing until the conflict is gone, and each
/// frame it sends is counted under the conflict's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Its MAC is the lower's or an up sibling's (EADDRINUSE for the kernel).
    Mac,
    /// Its MTU is above the lower's (EINVAL for the kernel).
    Mtu,
}

impl Conflict {
    /// The names drops are counted under, by [`Conflict::index`].
    pub const NAMES: [&'static str; 2] = ["mac_conflict", "mtu_above_lower"];

    fn index(self) -> usize {
        match self {
            Conflict::Mac => 0,
            Conflict::Mtu => 1,
        }
    }

    /// The name its drops are counted under.
    pub fn name(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    fn code(c: Option<Conflict>) -> u8 {
        c.map_or(0, |c| c.index() as u8 + 1)
    }

    fn from_code(v: u8) -> Option<Conflict> {
        match v {
            1 => Some(Conflict::Mac),
            2 => Some(Conflict::Mtu),
            _ => None,
        }
    }
}

impl Counters {
    pub(crate) fn rx(&self, bytes: usize) {
        self.rx_packets.fetch_add(1, Ordering::Relaxed);
        self.rx_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn tx(&self, bytes: usize) {
        self.tx_packets.fetch_add(1, Ordering::Relaxed);
        self.tx_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn drop(&self, r: &Reason) {
        self.drops[r.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn conflict_drop(&self, c: Conflict) {
        self.conflicts[c.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// A write or send failed (a full TAP queue, a lower that went away).
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> CounterSnapshot {
        let drops = Reason::NAMES
            .iter()
            .zip(&self.drops)
            .chain(Conflict::NAMES.iter().zip(&self.conflicts))
            .map(|(n, c)| (n.to_string(), c.load(Ordering::Relaxed)))
            .filter(|(_, v)| *v > 0)
            .collect();
        CounterSnapshot {
            rx_packets: self.rx_packets.load(Ordering::Relaxed),
            rx_bytes: self.rx_bytes.load(Ordering::Relaxed),
            tx_packets: self.tx_packets.load(Ordering::Relaxed),
            tx_bytes: self.tx_bytes.load(Ordering::Relaxed),
            drops,
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

/// Counters as numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CounterSnapshot {
    /// Frames delivered to the child.
    pub rx_packets: u64,
    /// Bytes delivered to the child.
    pub rx_bytes: u64,
    /// Frames the child sent that went somewhere.
    pub tx_packets: u64,
    /// Bytes of those.
    pub tx_bytes: u64,
    /// Frames dropped, by reason (`mvl_core::Reason::NAMES`, then `Conflict::NAMES`).
    pub drops: BTreeMap<String, u64>,
    /// Writes and sends that failed.
    pub errors: u64,
}

/// What the forwarding threads need to know of a child besides its id.
#[derive(Debug)]
pub(crate) struct ChildShared {
    pub counters: Counters,
    /// Drop frames whose source is not `mac` (anti-spoofing).
    pub spoofchk: AtomicBool,
    pub mac: AtomicU64,
    /// A [`Conflict`] code (0: none): the child forwards nothing.
    conflict: AtomicU8,
}

impl ChildShared {
    pub(crate) fn new(mac: MacAddr, spoofchk: bool) -> ChildShared {
        ChildShared {
            counters: Counters::default(),
            spoofchk: AtomicBool::new(spoofchk),
            mac: AtomicU64::new(mac.to_u64()),
            conflict: AtomicU8::new(0),
        }
    }

    pub(crate) fn set_conflict(&self, c: Option<Conflict>) {
        self.conflict.store(Conflict::code(c), Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn conflict(&self) -> Option<Conflict> {
        Conflict::from_code(self.conflict.load(Ordering::Relaxed))
    }

    /// Its MAC, as bytes.
    pub(crate) fn mac(&self) -> [u8; 6] {
        let b = self.mac.load(Ordering::Relaxed).to_le_bytes();
        [b[0], b[1], b[2], b[3], b[4], b[5]]
    }

    pub(crate) fn set_mac(&self, mac: MacAddr) {
        self.mac.store(mac.to_u64(), Ordering::Relaxed);
    }

    /// The frame's source is not allowed (only when spoofchk is on).
    #[inline]
    pub(crate) fn spoofed(&self, src: MacAddr) -> bool {
        self.spoofchk.load(Ordering::Relaxed) && src.to_u64() != self.mac.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_snapshots() {
        let c = ChildShared::new(MacAddr([2, 0, 0, 0, 0, 1]), true);
        c.counters.rx(60);
        c.counters.tx(100);
        c.counters.tx(100);
        c.counters.drop(&Reason::NoCarrier);
        let s = c.counters.snapshot();
        assert_eq!(
            (s.rx_packets, s.rx_bytes, s.tx_packets, s.tx_bytes),
            (1, 60, 2, 200)
        );
        assert_eq!(s.drops.get("no_carrier"), Some(&1));
        assert_eq!(s.drops.len(), 1);
        assert!(c.spoofed(MacAddr([2, 0, 0, 0, 0, 2])));
        assert!(!c.spoofed(MacAddr([2, 0, 0, 0, 0, 1])));
        c.spoofchk.store(false, Ordering::Relaxed);
        assert!(!c.spoofed(MacAddr([2, 0, 0, 0, 0, 2])));
        assert_eq!(c.conflict(), None);
        c.set_conflict(Some(Conflict::Mtu));
        assert_eq!(c.conflict(), Some(Conflict::Mtu));
        c.counters.conflict_drop(Conflict::Mtu);
        assert_eq!(c.counters.snapshot().drops.get("mtu_above_lower"), Some(&1));
        c.set_conflict(None);
        assert_eq!(c.conflict(), None);
    }
}
