//! The neighbour table of one namespace, as Linux's `net/core/neighbour.c`
//! runs it for ARP: entries by (device, address) in Linux's states
//! (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE, FAILED, PERMANENT), the
//! packets waiting for an address, and the timers that drive resolution.
//!
//! The table reads no clock and sends nothing, in the shape of smoltcp's
//! `neighbor::Cache`: each call takes the time and returns, in order, what
//! the host must do about that one entry ([`Action`]s: send a packet,
//! solicit the address, arm a timer, fail the queue). The host runs the
//! actions; the table is tested on its own, transition by transition.

use std::collections::btree_map::{self, BTreeMap};
use std::net::Ipv4Addr;

use mvl_core::MacAddr;

use crate::device::DevId;
use crate::time::{Duration, Instant};

/// Retransmission interval of a solicitation (`retrans_time`).
pub(crate) const RETRANS: Duration = Duration::secs(1);
/// Broadcast solicitations before an unresolved entry fails (`mcast_solicit`).
pub(crate) const MCAST_SOLICIT: u32 = 3;
/// Unicast probes of a stale entry in use (`ucast_solicit`).
pub(crate) const UCAST_SOLICIT: u32 = 3;
/// Grace before probing a stale entry in use (`delay_first_probe_time`).
pub(crate) const DELAY_FIRST_PROBE: Duration = Duration::secs(5);
/// ARP replies within this time of the last update do not override it (`locktime`).
pub(crate) const LOCKTIME: Duration = Duration::secs(1);
/// Packets queued per unresolved neighbour (`unres_qlen`).
pub(crate) const UNRES_QLEN: usize = 101;

/// State of a neighbour entry (`NUD_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nud {
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
    Failed,
    /// Set by an administrator: neither ARP nor timers change it.
    Permanent,
}

impl Nud {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Nud::Incomplete => "INCOMPLETE",
            Nud::Reachable => "REACHABLE",
            Nud::Stale => "STALE",
            Nud::Delay => "DELAY",
            Nud::Probe => "PROBE",
            Nud::Failed => "FAILED",
            Nud::Permanent => "PERMANENT",
        }
    }
}

/// An IPv4 packet waiting for its next hop's address, with the local ping
/// (index, sequence) it belongs to.
pub(crate) type Queued = (Vec<u8>, Option<(usize, u16)>);

/// An entry.
#[derive(Debug, Clone)]
pub(crate) struct Neigh {
    pub state: Nud,
    pub lladdr: Option<MacAddr>,
    /// Last change of address or state (for the ARP lock time).
    pub updated: Instant,
    /// Last confirmation of reachability.
    pub confirmed: Instant,
    /// How long a confirmation lasts (random in [15 s, 45 s), as Linux).
    pub reachable_for: Duration,
    pub probes: u32,
    /// Packets waiting for the address.
    pub queue: Vec<Queued>,
    /// Bumped at every state change: a timer armed before is ignored.
    pub generation: u64,
}

impl Neigh {
    fn new(state: Nud, now: Instant, reachable_for: Duration) -> Neigh {
        Neigh {
            state,
            lladdr: None,
            updated: now,
            confirmed: Instant::default(),
            reachable_for,
            probes: 0,
            queue: Vec::new(),
            generation: 0,
        }
    }

    /// The state at `now`: a confirmation older than the reachable time
    /// makes a REACHABLE entry STALE. Linux's timer does that at the
    /// expiry, even for an entry in use: it would choose DELAY only for an
    /// entry sent through in the last `DELAY_FIRST_PROBE`, and packets of a
    /// REACHABLE entry (cached header) do not count as such, so with a
    /// reachable time of at least 15 s it never does
    /// (`scripts/kernel-neighbour-timers.sh` shows it). Computed when
    /// looked at, the emulator needs no timer for it.
    pub(crate) fn state_at(&self, now: Instant) -> Nud {
        if self.state == Nud::Reachable && self.confirmed + self.reachable_for <= now {
            Nud::Stale
        } else {
            self.state
        }
    }
}

/// Who writes an entry, which decides what it may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// An ARP request for one of our addresses: creates the entry.
    ArpRequest,
    /// Other ARP (a reply, or a request for another address): updates an
    /// existing entry; a different address only overrides after the lock
    /// time.
    Arp,
    /// `ip neigh add|replace|change`: anything, permanent entries included.
    Admin,
}

/// What the host must do for an entry, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Send this IPv4 packet to `lladdr`.
    Send { lladdr: MacAddr, packet: Vec<u8> },
    /// Send an ARP request for the entry's address: broadcast, or a unicast
    /// probe to the address it had.
    Solicit { unicast: Option<MacAddr> },
    /// Call [`NeighTable::timer`] with `generation` after `after`.
    Arm { after: Duration, generation: u64 },
    /// Resolution failed: these packets are dropped.
    Fail { queue: Vec<Queued> },
}

/// Entries by (device, address).
pub(crate) type Key = (DevId, Ipv4Addr);

/// The neighbour table of one namespace.
#[derive(Debug, Clone, Default)]
pub(crate) struct NeighTable {
    entries: BTreeMap<Key, Neigh>,
}

impl NeighTable {
    /// The entry for `key`.
    pub(crate) fn get(&self, key: &Key) -> Option<&Neigh> {
        self.entries.get(key)
    }

    /// Every entry, by device and address (what `ip neigh show` lists).
    pub(crate) fn iter(&self) -> btree_map::Iter<'_, Key, Neigh> {
        self.entries.iter()
    }

    /// Forgets the entry for `key`; whether there was one.
    pub(crate) fn remove(&mut self, key: &Key) -> bool {
        self.entries.remove(key).is_some()
    }

    /// Keeps the entries `keep` says yes to.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Key, &Neigh) -> bool) {
        self.entries.retain(|k, e| keep(k, e));
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// `neigh_resolve_output`: a packet for the neighbour `key` at `now`.
    /// A valid address sends it (a stale one starts the delay before a
    /// probe); otherwise it waits and the address is solicited.
    /// `reachable_for` draws the reachable time of an entry made or made
    /// anew (only then: it is random).
    pub(crate) fn output(
        &mut self,
        key: Key,
        now: Instant,
        packet: Vec<u8>,
        ping: Option<(usize, u16)>,
        reachable_for: impl FnOnce() -> Duration,
    ) -> Vec<Action> {
        let entry = self.entries.get_mut(&key);
        if let Some(e) = entry {
            e.state = e.state_at(now);
            match e.state {
                Nud::Reachable | Nud::Delay | Nud::Probe | Nud::Permanent => {
                    let lladdr = e.lladdr.expect("valid entries have an address");
                    return vec![Action::Send { lladdr, packet }];
                }
                Nud::Stale => {
                    let lladdr = e.lladdr.expect("valid entries have an address");
                    e.state = Nud::Delay;
                    e.generation += 1;
                    return vec![
                        Action::Send { lladdr, packet },
                        Action::Arm {
                            after: DELAY_FIRST_PROBE,
                            generation: e.generation,
                        },
                    ];
                }
                Nud::Incomplete => {
                    if e.queue.len() >= UNRES_QLEN {
                        e.queue.remove(0);
                    }
                    e.queue.push((packet, ping));
                    return Vec::new();
                }
                Nud::Failed => {}
            }
        }
        let reachable_for = reachable_for();
        let e = self
            .entries
            .entry(key)
            .or_insert_with(|| Neigh::new(Nud::Incomplete, now, reachable_for));
        e.state = Nud::Incomplete;
        e.probes = 1;
        e.updated = now;
        e.generation += 1;
        e.queue.push((packet, ping));
        vec![
            Action::Solicit { unicast: None },
            Action::Arm {
                after: RETRANS,
                generation: e.generation,
            },
        ]
    }

    /// `neigh_update`: address `lladdr` in `state` for `key` at `now`, from
    /// `by`. An ARP request for us creates the entry, other ARP only
    /// updates one; a permanent entry changes only by an administrator.
    /// What waited for the address is sent. `reachable_for` is the
    /// reachable time a confirmation starts.
    pub(crate) fn update(
        &mut self,
        key: Key,
        now: Instant,
        lladdr: MacAddr,
        state: Nud,
        by: Writer,
        reachable_for: Duration,
    ) -> Vec<Action> {
        let e = match self.entries.entry(key) {
            btree_map::Entry::Occupied(o) => o.into_mut(),
            btree_map::Entry::Vacant(_) if by == Writer::Arp => return Vec::new(),
            btree_map::Entry::Vacant(v) => v.insert(Neigh::new(Nud::Failed, now, reachable_for)),
        };
        let admin = by == Writer::Admin;
        if e.state == Nud::Permanent && !admin {
            return Vec::new();
        }
        let overrides = by != Writer::Arp || e.updated + LOCKTIME <= now;
        let valid = matches!(e.state, Nud::Reachable | Nud::Stale | Nud::Delay | Nud::Probe);
        if let Some(old) = e.lladdr.filter(|_| valid && !admin) {
            if old != lladdr && !overrides {
                if e.state == Nud::Reachable {
                    e.state = Nud::Stale;
                }
                return Vec::new();
            }
            if old == lladdr && state == Nud::Stale {
                // Same address: a request does not demote a confirmed entry.
                return Vec::new();
            }
        }
        e.lladdr = Some(lladdr);
        e.state = state;
        e.updated = now;
        e.generation += 1;
        if state == Nud::Reachable {
            e.confirmed = now;
            e.reachable_for = reachable_for;
        }
        let queue = std::mem::take(&mut e.queue);
        if queue.is_empty() {
            return Vec::new();
        }
        let mut actions = Vec::with_capacity(queue.len() + 1);
        if state == Nud::Stale {
            // Sending through a stale entry starts the delay before probing.
            e.state = Nud::Delay;
            actions.push(Action::Arm {
                after: DELAY_FIRST_PROBE,
                generation: e.generation,
            });
        }
        actions.extend(
            queue
                .into_iter()
                .map(|(packet, _)| Action::Send { lladdr, packet }),
        );
        actions
    }

    /// `neigh_timer_handler`: the timer armed for `key` with `generation`
    /// fires. Unresolved: solicit again, or fail after `MCAST_SOLICIT`;
    /// at the end of the delay: probe by unicast, and fail after
    /// `UCAST_SOLICIT` probes. A timer of an older generation does nothing.
    pub(crate) fn timer(&mut self, key: Key, generation: u64) -> Vec<Action> {
        let Some(e) = self.entries.get_mut(&key) else {
            return Vec::new();
        };
        if e.generation != generation {
            return Vec::new();
        }
        let again = Action::Arm {
            after: RETRANS,
            generation,
        };
        match e.state {
            Nud::Incomplete if e.probes < MCAST_SOLICIT => {
                e.probes += 1;
                vec![Action::Solicit { unicast: None }, again]
            }
            // A confirmation during the delay would have made the entry
            // REACHABLE (and bumped the generation): probe.
            Nud::Delay => {
                e.state = Nud::Probe;
                e.probes = 1;
                vec![Action::Solicit { unicast: e.lladdr }, again]
            }
            Nud::Probe if e.probes < UCAST_SOLICIT => {
                e.probes += 1;
                vec![Action::Solicit { unicast: e.lladdr }, again]
            }
            Nud::Incomplete | Nud::Probe => {
                e.state = Nud::Failed;
                e.generation += 1;
                vec![Action::Fail {
                    queue: std::mem::take(&mut e.queue),
                }]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: DevId = DevId(1);
    const IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const KEY: Key = (DEV, IP);
    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
    const OTHER: MacAddr = MacAddr([2, 0, 0, 0, 0, 3]);
    const REACHABLE_FOR: Duration = Duration::secs(30);

    fn fixed() -> Duration {
        REACHABLE_FOR
    }

    fn at(s: u64) -> Instant {
        Instant::default() + Duration::secs(s)
    }

    fn arm(after: Duration, generation: u64) -> Action {
        Action::Arm { after, generation }
    }

    fn send(packet: &[u8]) -> Action {
        Action::Send {
            lladdr: MAC,
            packet: packet.to_vec(),
        }
    }

    /// A table whose entry for `KEY` was resolved (by a reply) at `at(0)`.
    fn resolved() -> NeighTable {
        let mut t = NeighTable::default();
        t.output(KEY, at(0), vec![1], None, fixed);
        t.update(KEY, at(0), MAC, Nud::Reachable, Writer::Arp, REACHABLE_FOR);
        t
    }

    #[test]
    fn an_unknown_neighbour_is_solicited_and_its_packets_wait() {
        let mut t = NeighTable::default();
        let a = t.output(KEY, at(0), vec![1], Some((0, 1)), fixed);
        assert_eq!(a, [Action::Solicit { unicast: None }, arm(RETRANS, 1)]);
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Incomplete);
        // A second packet waits too, without another solicitation.
        assert_eq!(t.output(KEY, at(0), vec![2], None, fixed), []);
        // The reply sends both, in order.
        let a = t.update(KEY, at(0), MAC, Nud::Reachable, Writer::Arp, REACHABLE_FOR);
        assert_eq!(a, [send(&[1]), send(&[2])]);
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Reachable);
    }

    #[test]
    fn no_reply_fails_after_three_solicitations_with_the_queue() {
        let mut t = NeighTable::default();
        t.output(KEY, at(0), vec![1], Some((0, 1)), fixed);
        for _ in 1..MCAST_SOLICIT {
            assert_eq!(
                t.timer(KEY, 1),
                [Action::Solicit { unicast: None }, arm(RETRANS, 1)]
            );
        }
        assert_eq!(
            t.timer(KEY, 1),
            [Action::Fail {
                queue: vec![(vec![1], Some((0, 1)))]
            }]
        );
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Failed);
        assert_eq!(t.timer(KEY, 1), [], "an old timer does nothing");
        // The next packet starts over.
        let a = t.output(KEY, at(9), vec![2], None, fixed);
        assert_eq!(a, [Action::Solicit { unicast: None }, arm(RETRANS, 3)]);
    }

    #[test]
    fn the_queue_keeps_the_newest_packets() {
        let mut t = NeighTable::default();
        for i in 0..=UNRES_QLEN {
            t.output(KEY, at(0), vec![i as u8], None, fixed);
        }
        let q = &t.get(&KEY).unwrap().queue;
        assert_eq!(q.len(), UNRES_QLEN);
        assert_eq!(q[0].0, [1], "the oldest went");
    }

    #[test]
    fn a_used_stale_entry_waits_then_probes_by_unicast_then_fails() {
        let mut t = resolved();
        assert_eq!(t.output(KEY, at(29), vec![5], None, fixed), [send(&[5])]);
        assert_eq!(
            t.get(&KEY).unwrap().state_at(at(30)),
            Nud::Stale,
            "confirmation expired"
        );
        let g = t.get(&KEY).unwrap().generation;
        let a = t.output(KEY, at(30), vec![6], None, fixed);
        assert_eq!(a, [send(&[6]), arm(DELAY_FIRST_PROBE, g + 1)]);
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Delay);
        // While in DELAY and PROBE the old address is still used.
        assert_eq!(t.output(KEY, at(31), vec![7], None, fixed), [send(&[7])]);
        let probe = [Action::Solicit { unicast: Some(MAC) }, arm(RETRANS, g + 1)];
        assert_eq!(t.timer(KEY, g + 1), probe);
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Probe);
        for _ in 1..UCAST_SOLICIT {
            assert_eq!(t.timer(KEY, g + 1), probe);
        }
        assert_eq!(t.timer(KEY, g + 1), [Action::Fail { queue: Vec::new() }]);
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Failed);
    }

    #[test]
    fn a_reply_during_the_delay_confirms_and_cancels_the_probe() {
        let mut t = resolved();
        t.output(KEY, at(30), vec![6], None, fixed);
        let g = t.get(&KEY).unwrap().generation;
        assert_eq!(
            t.update(KEY, at(31), MAC, Nud::Reachable, Writer::Arp, REACHABLE_FOR),
            []
        );
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Reachable);
        assert_eq!(t.timer(KEY, g), [], "the delay's timer is stale");
    }

    #[test]
    fn arp_respects_the_lock_time_and_never_creates_or_touches_permanent() {
        let mut t = NeighTable::default();
        assert_eq!(
            t.update(KEY, at(0), MAC, Nud::Stale, Writer::Arp, REACHABLE_FOR),
            []
        );
        assert!(t.get(&KEY).is_none(), "only a request for us creates an entry");
        t.update(KEY, at(0), MAC, Nud::Stale, Writer::ArpRequest, REACHABLE_FOR);
        assert_eq!(t.get(&KEY).unwrap().lladdr, Some(MAC));
        // Another address within the lock time does not override...
        t.update(KEY, at(0), OTHER, Nud::Stale, Writer::Arp, REACHABLE_FOR);
        assert_eq!(t.get(&KEY).unwrap().lladdr, Some(MAC));
        // ...after it, it does.
        t.update(KEY, at(2), OTHER, Nud::Stale, Writer::Arp, REACHABLE_FOR);
        assert_eq!(t.get(&KEY).unwrap().lladdr, Some(OTHER));
        // A request with the same address does not demote a confirmed entry.
        t.update(KEY, at(3), OTHER, Nud::Reachable, Writer::Arp, REACHABLE_FOR);
        t.update(KEY, at(4), OTHER, Nud::Stale, Writer::ArpRequest, REACHABLE_FOR);
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Reachable);
        // Permanent: only an administrator changes it.
        t.update(KEY, at(5), MAC, Nud::Permanent, Writer::Admin, REACHABLE_FOR);
        t.update(
            KEY,
            at(9),
            OTHER,
            Nud::Reachable,
            Writer::ArpRequest,
            REACHABLE_FOR,
        );
        let e = t.get(&KEY).unwrap();
        assert_eq!((e.state, e.lladdr), (Nud::Permanent, Some(MAC)));
        assert_eq!(e.state_at(at(1000)), Nud::Permanent, "never stale");
        t.update(KEY, at(9), OTHER, Nud::Stale, Writer::Admin, REACHABLE_FOR);
        assert_eq!(t.get(&KEY).unwrap().lladdr, Some(OTHER));
    }

    #[test]
    fn a_stale_address_learned_with_packets_waiting_sends_them_and_delays() {
        let mut t = NeighTable::default();
        t.output(KEY, at(0), vec![1], None, fixed);
        let a = t.update(KEY, at(0), MAC, Nud::Stale, Writer::ArpRequest, REACHABLE_FOR);
        assert_eq!(a, [arm(DELAY_FIRST_PROBE, 2), send(&[1])]);
        assert_eq!(t.get(&KEY).unwrap().state, Nud::Delay);
    }

    #[test]
    fn a_reachable_time_is_drawn_only_for_an_entry_made_anew() {
        let mut t = resolved();
        let mut draws = 0;
        t.output(KEY, at(1), vec![1], None, || {
            draws += 1;
            REACHABLE_FOR
        });
        assert_eq!(draws, 0, "a known neighbour draws nothing");
        let mut t = NeighTable::default();
        t.output(KEY, at(1), vec![1], None, || {
            draws += 1;
            REACHABLE_FOR
        });
        assert_eq!(draws, 1);
    }
}
