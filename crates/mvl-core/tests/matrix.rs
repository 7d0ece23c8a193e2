//! Mode × mode matrices: two up siblings A and B on one lower, frames in
//! both directions, with and without a hairpinning switch reflecting what
//! goes to the wire. The tables are written out by hand from the spec
//! (§3.5, §3.9, §4.2) and the kernel observations of §11.

mod common;

use common::*;
use mvl_core::{MacAddr, Mode, PktType};

/// The non-passthru modes, in table order.
const MODES: [Mode; 4] = [Mode::Private, Mode::Vepa, Mode::Bridge, Mode::Source];

/// Does B receive A's unicast to B's MAC? Rows: A's mode; columns: B's.
const UNICAST: [[bool; 4]; 4] = [
    //  P      V      B      S
    [false, false, false, false], // P
    [false, false, false, false], // V
    [false, false, true, false],  // B
    [false, false, false, false], // S
];
/// The same through a hairpin: reflected unicast is delivered by
/// destination whatever the sender's mode; source mode never by destination.
const UNICAST_HAIRPIN: [[bool; 4]; 4] = [
    [true, true, true, false],
    [true, true, true, false],
    [true, true, true, false],
    [true, true, true, false],
];
/// Does B receive A's broadcast?
const BROADCAST: [[bool; 4]; 4] = [
    [false, false, false, false],
    [false, false, false, false],
    [false, false, true, false],
    [false, false, false, false],
];
/// Through a hairpin: VEPA's reflection reaches VEPA and BRIDGE; BRIDGE's
/// reaches VEPA (bridge siblings got it locally); private and source
/// reflections go back to the sender only.
const BROADCAST_HAIRPIN: [[bool; 4]; 4] = [
    [false, false, false, false],
    [false, true, true, false],
    [false, true, true, false],
    [false, false, false, false],
];

fn pair(a: Mode, b: Mode) -> (mvl_core::Port, mvl_core::ChildId, mvl_core::ChildId) {
    let mut p = port();
    let ia = up(&mut p, "A", 1, a);
    let ib = up(&mut p, "B", 2, b);
    (p, ia, ib)
}

fn b_gets(got: &[(String, PktType)]) -> bool {
    got.iter().any(|(n, _)| n == "B")
}

#[test]
fn matrix_unicast_sibling_to_sibling() {
    for (i, &a) in MODES.iter().enumerate() {
        for (j, &b) in MODES.iter().enumerate() {
            let (p, ia, _) = pair(a, b);
            let f = frame(mac(2), mac(1));
            assert_eq!(b_gets(&reach(&p, ia, &f, false)), UNICAST[i][j], "{a} -> {b}");
            assert_eq!(
                b_gets(&reach(&p, ia, &f, true)),
                UNICAST_HAIRPIN[i][j],
                "{a} -> {b} hairpin"
            );
        }
    }
}

#[test]
fn matrix_broadcast_sibling_to_sibling() {
    for (i, &a) in MODES.iter().enumerate() {
        for (j, &b) in MODES.iter().enumerate() {
            let (p, ia, _) = pair(a, b);
            let f = frame(MacAddr::BROADCAST, mac(1));
            assert_eq!(b_gets(&reach(&p, ia, &f, false)), BROADCAST[i][j], "{a} -> {b}");
            let got = reach(&p, ia, &f, true);
            assert_eq!(b_gets(&got), BROADCAST_HAIRPIN[i][j], "{a} -> {b} hairpin");
            // The sender gets its own reflection back only in private and source mode.
            let own = got.iter().any(|(n, _)| n == "A");
            assert_eq!(
                own,
                matches!(a, Mode::Private | Mode::Source),
                "{a} own reflection"
            );
            // The lower's stack gets the reflection unless it went back to its sender.
            let lower = got.iter().any(|(n, _)| n == "lower");
            assert_eq!(lower, !matches!(a, Mode::Private | Mode::Source), "{a} lower");
        }
    }
}

#[test]
fn matrix_child_and_lower_talk_only_through_a_hairpin() {
    for mode in MODES {
        let (p, ia, _) = pair(mode, Mode::Vepa);
        // Child -> lower's MAC.
        let f = frame(LOWER_MAC, mac(1));
        assert!(
            !reach(&p, ia, &f, false).iter().any(|(n, _)| n == "lower"),
            "{mode}"
        );
        assert!(
            reach(&p, ia, &f, true).iter().any(|(n, _)| n == "lower"),
            "{mode} hairpin"
        );
        // Lower -> child: the lower's own frames never pass the port on the
        // way out; reflected, they are demultiplexed like any other.
        let d = rx(&p, &frame(mac(1), LOWER_MAC));
        let expect = if mode == Mode::Source {
            None
        } else {
            Some(PktType::Host)
        };
        assert_eq!(d.delivered_to(ia), expect, "{mode} reflected from the lower");
    }
}

#[test]
fn matrix_external_frames_reach_every_mode_but_source() {
    for mode in MODES {
        let (p, ia, _) = pair(mode, Mode::Vepa);
        let uni = rx(&p, &frame(mac(1), EXTERNAL));
        let bc = rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL));
        let expect_uni = if mode == Mode::Source {
            None
        } else {
            Some(PktType::Host)
        };
        let expect_bc = if mode == Mode::Source {
            None
        } else {
            Some(PktType::Broadcast)
        };
        assert_eq!(uni.delivered_to(ia), expect_uni, "{mode}");
        assert_eq!(bc.delivered_to(ia), expect_bc, "{mode}");
        assert!(bc.to_lower_stack);
    }
}

#[test]
fn matrix_spec_11_private_hairpin_is_one_way() {
    // Linux 6.18, §11: private with hairpin: ns1 -> parent fails (its ARP
    // request is reflected only to itself) but parent -> ns1 works (the
    // parent's ARP request is external).
    let (p, pr, _) = pair(Mode::Private, Mode::Bridge);
    let arp_from_child = frame(MacAddr::BROADCAST, mac(1));
    let got = reach(&p, pr, &arp_from_child, true);
    assert!(!got.iter().any(|(n, _)| n == "lower"));
    let arp_from_parent = rx(&p, &frame(MacAddr::BROADCAST, LOWER_MAC));
    assert_eq!(arp_from_parent.delivered_to(pr), Some(PktType::Broadcast));
}
