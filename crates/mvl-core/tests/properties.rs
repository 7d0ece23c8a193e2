//! Properties that hold for any port configuration and any frame.

mod common;

use common::*;
use mvl_core::*;
use proptest::prelude::*;

/// One macvlan of a generated port.
#[derive(Debug, Clone)]
struct Spec {
    mode: Mode,
    mac: u8,
    up: bool,
    nodst: bool,
    sources: Vec<u8>,
    groups: Vec<u8>,
    allmulti: bool,
}

/// Addresses frames and lists are drawn from: 1..=6 are children's MACs,
/// 7 is the lower's, 8 an external host, 9..=11 multicast groups, 12 broadcast.
fn addr(n: u8) -> MacAddr {
    match n {
        1..=6 => mac(n),
        7 => LOWER_MAC,
        8 => EXTERNAL,
        9..=11 => group(n),
        _ => MacAddr::BROADCAST,
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::sample::select(vec![Mode::Private, Mode::Vepa, Mode::Bridge, Mode::Source]),
        1u8..=6,
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(1u8..=8, 0..3),
        prop::collection::vec(9u8..=11, 0..2),
        any::<bool>(),
    )
        .prop_map(|(mode, mac, up, nodst, sources, groups, allmulti)| Spec {
            mode,
            mac,
            up,
            nodst,
            sources,
            groups,
            allmulti,
        })
}

/// Builds the port; children that cannot come up (MAC in use) stay down.
fn build(specs: &[Spec], order: &[usize]) -> (Port, Vec<ChildId>) {
    let mut p = port();
    let mut ids = vec![None; specs.len()];
    for &i in order {
        let s = &specs[i];
        let mut req = NewMacvlan::new(&format!("c{i}"), mac(s.mac)).mode(s.mode);
        if s.mode == Mode::Source {
            req.macvlan.macaddr = Some(MacaddrOp::Set(s.sources.iter().map(|&n| addr(n)).collect()));
            if s.nodst {
                req.macvlan.flags = Some(Flags::NODST);
            }
        }
        let id = p.create(req).unwrap();
        for &g in &s.groups {
            p.join_group(id, addr(g)).unwrap();
        }
        p.set_allmulti(id, s.allmulti).unwrap();
        ids[i] = Some(id);
    }
    for &i in order {
        if specs[i].up {
            let _ = p.open(ids[i].unwrap());
        }
    }
    (p, ids.into_iter().map(Option::unwrap).collect())
}

fn port_and_frame() -> impl Strategy<Value = (Vec<Spec>, u8, u8, Option<usize>)> {
    prop::collection::vec(spec(), 1..7).prop_flat_map(|specs| {
        let n = specs.len();
        (Just(specs), 1u8..=12, 1u8..=8, prop::option::of(0..n))
    })
}

fn decide(p: &Port, ids: &[ChildId], dst: u8, src: u8, from: Option<usize>) -> Decision {
    let f = frame(addr(dst), addr(src));
    let mut d = Decision::new();
    match from {
        Some(i) => p.tx_from_child(ids[i], &f, &mut d),
        None => p.rx_from_lower(&f, &mut d),
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_a_delivery_to_a_down_child((specs, dst, src, from) in port_and_frame()) {
        let (p, ids) = build(&specs, &(0..specs.len()).collect::<Vec<_>>());
        let d = decide(&p, &ids, dst, src, from);
        for dl in d.deliveries() {
            prop_assert!(p.info(dl.child).unwrap().up, "{} is down", p.name(dl.child));
        }
    }

    #[test]
    fn a_private_child_never_gets_a_siblings_flood((specs, dst, src, from) in port_and_frame()) {
        let (p, ids) = build(&specs, &(0..specs.len()).collect::<Vec<_>>());
        let f = frame(addr(dst), addr(src));
        // Either sent by a sibling, or reflected with a sibling's MAC as
        // source — spoofed or not, it does not matter.
        let mut d = Decision::new();
        match from {
            Some(i) => p.tx_from_child(ids[i], &f, &mut d),
            None => p.rx_from_lower(&f, &mut d),
        }
        if addr(dst).is_multicast() {
            let sibling_src = from.map(|i| ids[i]).or_else(|| p.up_owner(addr(src)));
            for dl in d.deliveries() {
                let info = p.info(dl.child).unwrap();
                if info.mode == Mode::Private {
                    if let Some(s) = sibling_src {
                        prop_assert!(s == dl.child || info.sources.contains(&addr(src)),
                            "{} got a flood from {}", info.name, p.name(s));
                    }
                }
            }
        }
    }

    #[test]
    fn a_source_child_never_receives_by_destination((specs, dst, src, from) in port_and_frame()) {
        let (p, ids) = build(&specs, &(0..specs.len()).collect::<Vec<_>>());
        let d = decide(&p, &ids, dst, src, from);
        let src = addr(src);
        for dl in d.deliveries() {
            let info = p.info(dl.child).unwrap();
            if info.mode == Mode::Source {
                let listed = info.sources.contains(&src);
                let own_reflection = addr(dst).is_multicast() && src == info.mac && from.is_none();
                prop_assert!(listed || own_reflection, "{} got a frame from {}", info.name, src);
            }
        }
    }

    #[test]
    fn decisions_do_not_depend_on_creation_order(
        (specs, dst, src, from) in port_and_frame(),
        seed in any::<u64>(),
    ) {
        // Distinct MACs: with duplicates, who wins the address depends on
        // who came up first, in the kernel too.
        let mut seen = std::collections::HashSet::new();
        let specs: Vec<Spec> = specs.into_iter().filter(|s| seen.insert(s.mac)).collect();
        let n = specs.len();
        let mut order: Vec<usize> = (0..n).collect();
        let mut x = seed;
        for i in (1..n).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (x >> 33) as usize % (i + 1));
        }
        let (p1, ids1) = build(&specs, &(0..n).collect::<Vec<_>>());
        let (p2, ids2) = build(&specs, &order);
        let from = from.filter(|&i| i < n);
        let d1 = decide(&p1, &ids1, dst, src, from);
        let d2 = decide(&p2, &ids2, dst, src, from);
        let set = |p: &Port, d: &Decision| {
            let mut v: Vec<(String, PktType)> =
                d.deliveries().iter().map(|dl| (p.name(dl.child), dl.pkt_type)).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        prop_assert_eq!(set(&p1, &d1), set(&p2, &d2));
        prop_assert_eq!(d1.to_lower_stack, d2.to_lower_stack);
        prop_assert_eq!(d1.to_wire, d2.to_wire);
    }

    #[test]
    fn any_bytes_are_decided_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..80), specs in prop::collection::vec(spec(), 1..5)) {
        let (p, ids) = build(&specs, &(0..specs.len()).collect::<Vec<_>>());
        let mut d = Decision::explaining();
        p.rx_from_lower(&bytes, &mut d);
        if bytes.len() < 14 {
            prop_assert!(d.reaches_no_one());
        }
        for &id in &ids {
            p.tx_from_child(id, &bytes, &mut d);
        }
    }

    #[test]
    fn explaining_does_not_change_the_decision((specs, dst, src, from) in port_and_frame()) {
        let (p, ids) = build(&specs, &(0..specs.len()).collect::<Vec<_>>());
        let f = frame(addr(dst), addr(src));
        let (mut a, mut b) = (Decision::new(), Decision::explaining());
        match from {
            Some(i) => { p.tx_from_child(ids[i], &f, &mut a); p.tx_from_child(ids[i], &f, &mut b); }
            None => { p.rx_from_lower(&f, &mut a); p.rx_from_lower(&f, &mut b); }
        }
        prop_assert_eq!(a.deliveries(), b.deliveries());
        prop_assert_eq!((a.to_lower_stack, a.to_wire, a.drop), (b.to_lower_stack, b.to_wire, b.drop));
        // Nobody is both delivered and skipped.
        for (id, _) in b.skipped() {
            prop_assert!(b.delivered_to(*id).is_none());
        }
    }
}
