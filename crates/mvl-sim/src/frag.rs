//! Packet sizes, as Linux handles them for IPv4: the path MTU a host sends
//! with (its device's, or less once an ICMP "fragmentation needed" taught
//! it so: a route exception, `ip_rt_update_pmtu`), the fragments it cuts
//! what is larger into (`ip_do_fragment`), and the reassembly of what
//! arrives for it in pieces (`ip_defrag`), given up after `ipfrag_time`
//! with an ICMP error when the first piece had come.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::device::{DevId, NsId};
use crate::packet::{reassemble, IcmpErrorKind, Ipv4};
use crate::route::Route;
use crate::sim::{Sim, Work};
use crate::time::{Duration, Instant};

/// How long a host keeps an incomplete packet (`net.ipv4.ipfrag_time`).
const IPFRAG_TIME: Duration = Duration::secs(30);

/// The most a whole packet can carry after its header.
const MAX_PAYLOAD: usize = 65535 - 20;

/// How long a learned path MTU holds (`net.ipv4.route.mtu_expires`).
const MTU_EXPIRES: Duration = Duration::secs(600);

/// The smallest path MTU an ICMP message can teach (`min_pmtu`); a smaller
/// one is raised to it and locked, so Don't Fragment is no longer set.
const MIN_PMTU: u32 = 552;

/// A path MTU learned for one destination, on the route it was learned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PmtuException {
    pub dev: DevId,
    pub gateway: Option<Ipv4Addr>,
    pub mtu: u32,
    /// Learned below [`MIN_PMTU`]: sent without Don't Fragment.
    pub locked: bool,
    pub expires: Instant,
}

/// What ties the fragments of one packet together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FragKey {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ident: u16,
    pub proto: u8,
}

/// The pieces of one packet that have arrived.
#[derive(Debug, Clone, Default)]
pub(crate) struct FragQueue {
    /// The first fragment (offset 0), whose header the whole packet takes.
    first: Option<Vec<u8>>,
    /// Each piece's payload by offset.
    pieces: BTreeMap<usize, Vec<u8>>,
    /// The payload's length, known once the last fragment came.
    len: Option<usize>,
    /// Which expiry timer is this queue's.
    generation: u64,
}

impl FragQueue {
    /// Adds a fragment; false when it overlaps what came before (Linux
    /// then drops the whole packet) or contradicts the known length.
    fn add(&mut self, ip: &Ipv4) -> bool {
        let (start, end) = (ip.frag_offset, ip.frag_offset + ip.payload.len());
        let held = self.pieces.iter().next_back().map_or(0, |(o, p)| o + p.len());
        if self.len.is_some_and(|l| end > l || (!ip.mf && end != l))
            || (!ip.mf && end < held)
            || end > MAX_PAYLOAD
        {
            return false;
        }
        if let Some(prev) = self.pieces.range(..end).next_back() {
            if prev.0 + prev.1.len() > start && (*prev.0, prev.0 + prev.1.len()) != (start, end) {
                return false;
            }
        }
        if !ip.mf {
            self.len = Some(end);
        }
        if start == 0 {
            self.first = Some(ip.packet.to_vec());
        }
        self.pieces.insert(start, ip.payload.to_vec());
        true
    }

    /// The whole packet, when every piece is in.
    fn whole(&self) -> Option<Vec<u8>> {
        let len = self.len?;
        let mut at = 0;
        for (&off, p) in &self.pieces {
            if off != at {
                return None;
            }
            at += p.len();
        }
        if at != len {
            return None;
        }
        let mut payload = Vec::with_capacity(len);
        for p in self.pieces.values() {
            payload.extend_from_slice(p);
        }
        Some(reassemble(self.first.as_deref()?, &payload))
    }
}

impl Sim {
    /// The MTU for a packet to `dst` along `route`, and whether it may say
    /// Don't Fragment (not when the path MTU is locked). A router
    /// `forwarding` goes by its device's MTU and a locked path MTU only
    /// (`ip_dst_mtu_maybe_forward`, `ip_forward_use_pmtu` 0).
    pub(crate) fn path_mtu(&self, ns: NsId, route: &Route, dst: Ipv4Addr, forwarding: bool) -> (u32, bool) {
        let dev_mtu = self.dev(route.dev).mtu;
        match self.nss[ns.0 as usize].pmtu.get(&dst) {
            Some(e)
                if e.dev == route.dev
                    && e.gateway == route.gateway
                    && e.expires > self.now
                    && (e.locked || !forwarding) =>
            {
                (e.mtu.min(dev_mtu), !e.locked)
            }
            _ => (dev_mtu, true),
        }
    }

    /// An ICMP "fragmentation needed" about a packet to `dst` reached this
    /// host: later packets there take the smaller MTU, never a larger one
    /// (`__ip_rt_update_pmtu`).
    pub(crate) fn learn_pmtu(&mut self, ns: NsId, dst: Ipv4Addr, mtu: u16) {
        let Some(route) = self.route_output(ns, dst, None) else {
            return;
        };
        let (old, may_df) = self.path_mtu(ns, &route, dst, false);
        if !may_df || old < u32::from(mtu) {
            return;
        }
        let (mtu, locked) = match u32::from(mtu) {
            m if m < MIN_PMTU => (old.min(MIN_PMTU), true),
            m => (m, false),
        };
        let now = self.now;
        let expires = now + MTU_EXPIRES;
        let n = &mut self.nss[ns.0 as usize];
        n.pmtu.retain(|_, e| e.expires > now);
        n.pmtu.insert(
            dst,
            PmtuException {
                dev: route.dev,
                gateway: route.gateway,
                mtu,
                locked,
                expires,
            },
        );
    }

    /// `ip_defrag`: a fragment for this host joins its packet's queue. The
    /// whole packet, once complete, is returned for delivery.
    pub(crate) fn defrag(&mut self, ns: NsId, ip: &Ipv4) -> Option<Vec<u8>> {
        let key = FragKey {
            src: ip.src,
            dst: ip.dst,
            ident: ip.ident,
            proto: ip.proto.into(),
        };
        let n = &mut self.nss[ns.0 as usize];
        let new = !n.frags.contains_key(&key);
        n.frag_generation += 1;
        let generation = n.frag_generation;
        let q = n.frags.entry(key).or_insert_with(|| FragQueue {
            generation,
            ..FragQueue::default()
        });
        if !q.add(ip) {
            n.frags.remove(&key);
            return None;
        }
        if let Some(whole) = q.whole() {
            n.frags.remove(&key);
            return Some(whole);
        }
        if new {
            self.schedule(IPFRAG_TIME, Work::FragExpire { ns, key, generation });
        }
        None
    }

    /// `ip_expire`: a packet still incomplete after `ipfrag_time` is
    /// dropped; its sender hears of it if its first fragment had come.
    pub(crate) fn frag_expire(&mut self, ns: NsId, key: FragKey, generation: u64) {
        let n = &mut self.nss[ns.0 as usize];
        if n.frags.get(&key).is_none_or(|q| q.generation != generation) {
            return;
        }
        let q = n.frags.remove(&key).expect("checked");
        if let Some(first) = q.first {
            if let Some(ip) = Ipv4::parse(&first) {
                self.icmp_error(ns, IcmpErrorKind::ReassemblyTimeExceeded, &ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{fragment, ipv4_packet, IpProtocol};

    fn packet(len: usize) -> Vec<u8> {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        ipv4_packet(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IpProtocol::Icmp,
            7,
            true,
            &payload,
        )
    }

    #[test]
    fn fragments_fit_the_mtu_and_join_in_any_order() {
        let p = packet(2008);
        let ip = Ipv4::parse(&p).unwrap();
        let frags = fragment(&ip, 1500);
        let lens: Vec<usize> = frags.iter().map(Vec::len).collect();
        assert_eq!(
            lens,
            [1500, 20 + 2008 - 1480],
            "1480 bytes of payload, then the rest"
        );
        let parsed: Vec<Ipv4> = frags.iter().map(|f| Ipv4::parse(f).unwrap()).collect();
        assert!(parsed.iter().all(|f| !f.df && f.ident == 7));
        assert_eq!(
            parsed.iter().map(|f| (f.frag_offset, f.mf)).collect::<Vec<_>>(),
            [(0, true), (1480, false)]
        );
        for order in [[0, 1], [1, 0]] {
            let mut q = FragQueue::default();
            let mut whole = None;
            for i in order {
                assert!(q.add(&parsed[i]));
                whole = q.whole();
            }
            let whole = whole.expect("complete after both pieces");
            let w = Ipv4::parse(&whole).unwrap();
            assert_eq!((w.payload, w.mf, w.frag_offset), (ip.payload, false, 0));
        }
    }

    #[test]
    fn a_fragment_split_again_keeps_its_place_and_more_fragments() {
        let p = packet(3000);
        let ip = Ipv4::parse(&p).unwrap();
        let first = fragment(&ip, 1500).remove(0);
        let again = fragment(&Ipv4::parse(&first).unwrap(), 1000);
        let f: Vec<(usize, bool, usize)> = again
            .iter()
            .map(|b| Ipv4::parse(b).unwrap())
            .map(|f| (f.frag_offset, f.mf, f.payload.len()))
            .collect();
        assert_eq!(f, [(0, true, 976), (976, true, 504)]);
    }

    /// Runs lines that must succeed.
    fn ok(sim: &mut Sim, lines: &str) {
        for l in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let words: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            let (netns, cmd) = mvl_iproute2::parse_command(&words).unwrap();
            let ns = sim.netns(netns.as_deref()).unwrap();
            let r = match &cmd {
                mvl_iproute2::Command::NetnsAdd(n) => sim.netns_add(n),
                mvl_iproute2::Command::LinkAdd(a) => sim.link_add(ns, a),
                mvl_iproute2::Command::LinkSet(s) => sim.link_set(ns, s),
                mvl_iproute2::Command::AddrAdd(c, d) => sim.addr_add(ns, *c, d),
                c => panic!("{c:?}"),
            };
            r.unwrap_or_else(|e| panic!("{l}: {e}"));
        }
    }

    #[test]
    fn an_incomplete_packet_expires_and_its_sender_hears_of_it_only_with_the_first_piece() {
        let mut sim = Sim::new(1);
        ok(
            &mut sim,
            "ip netns add a
             ip netns add b
             ip link add va netns a type veth peer name vb netns b
             ip -n a addr add 10.0.0.1/24 dev va
             ip -n b addr add 10.0.0.2/24 dev vb
             ip -n a link set va up
             ip -n b link set vb up",
        );
        let (a, b) = (sim.netns(Some("a")).unwrap(), sim.netns(Some("b")).unwrap());
        let cap = sim
            .tcpdump_start(a, "va", mvl_iproute2::Filter::Icmp, None)
            .unwrap();
        let p = packet(3000);
        let frags = fragment(&Ipv4::parse(&p).unwrap(), 1500);
        // Only the last piece: dropped in silence.
        assert!(sim.defrag(b, &Ipv4::parse(&frags[2]).unwrap()).is_none());
        sim.sleep(Duration::secs(31));
        assert!(sim.nss[b.0 as usize].frags.is_empty(), "given up");
        assert!(sim.captured(cap).is_empty());
        // The first piece too: b answers that time ran out, quoting it.
        assert!(sim.defrag(b, &Ipv4::parse(&frags[0]).unwrap()).is_none());
        sim.sleep(Duration::secs(29));
        assert!(sim.captured(cap).is_empty(), "not before ipfrag_time");
        sim.sleep(Duration::secs(2));
        let lines = crate::tcpdump_lines(sim.captured(cap), false);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].ends_with("IP 10.0.0.2 > 10.0.0.1: ICMP ip reassembly time exceeded, length 556"),
            "{lines:?}"
        );
    }

    #[test]
    fn overlaps_and_holes_never_make_a_packet() {
        let p = packet(3000);
        let ip = Ipv4::parse(&p).unwrap();
        let frags = fragment(&ip, 1000);
        let parsed: Vec<Ipv4> = frags.iter().map(|f| Ipv4::parse(f).unwrap()).collect();
        let mut q = FragQueue::default();
        assert!(q.add(&parsed[0]) && q.add(&parsed[3]));
        assert!(q.whole().is_none(), "a hole in the middle");
        assert!(q.add(&parsed[0]), "the same piece again is no overlap");
        let other = fragment(&ip, 600);
        assert!(
            !q.add(&Ipv4::parse(&other[1]).unwrap()),
            "576..1152 overlaps 0..976"
        );
    }
}
