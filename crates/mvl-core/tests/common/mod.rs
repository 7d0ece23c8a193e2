//! Builders shared by the rule tests and the property tests.
#![allow(dead_code)]

use mvl_core::{ChildId, Decision, LowerInfo, MacAddr, Mode, NewMacvlan, PktType, Port};

pub const LOWER_MAC: MacAddr = MacAddr([0x7e, 0xfc, 0xbf, 0x1f, 0xce, 0x58]);
pub const EXTERNAL: MacAddr = MacAddr([0x36, 0x50, 0x43, 0x11, 0x71, 0xc0]);

pub fn mac(n: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, 0, n])
}

pub fn group(n: u8) -> MacAddr {
    MacAddr([0x01, 0x00, 0x5e, 0, 0, n])
}

/// A frame from `src` to `dst` carrying IPv4 (60 bytes, the minimum on the wire).
pub fn frame(dst: MacAddr, src: MacAddr) -> Vec<u8> {
    frame_len(dst, src, 60)
}

pub fn frame_len(dst: MacAddr, src: MacAddr, len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    mvl_core::wire::write_header(&mut b, dst, src, mvl_core::wire::ETH_P_IP);
    b
}

pub fn lower() -> LowerInfo {
    LowerInfo::ethernet("eth0", LOWER_MAC)
}

pub fn port() -> Port {
    Port::new(lower())
}

/// Adds an up macvlan `name` with MAC `mac(n)` in `mode`.
pub fn up(p: &mut Port, name: &str, n: u8, mode: Mode) -> ChildId {
    let id = p.create(NewMacvlan::new(name, mac(n)).mode(mode)).unwrap();
    p.open(id).unwrap();
    id
}

pub fn rx(p: &Port, f: &[u8]) -> Decision {
    let mut d = Decision::explaining();
    p.rx_from_lower(f, &mut d);
    d
}

pub fn tx(p: &Port, from: ChildId, f: &[u8]) -> Decision {
    let mut d = Decision::explaining();
    p.tx_from_child(from, f, &mut d);
    d
}

/// Receivers of a frame sent by `from`: local copies, plus — when the
/// switch hairpins — what the reflected wire copy reaches. "lower" stands
/// for the lower's own stack.
pub fn reach(p: &Port, from: ChildId, f: &[u8], hairpin: bool) -> Vec<(String, PktType)> {
    let mut out = Vec::new();
    let d = tx(p, from, f);
    for dl in d.deliveries() {
        out.push((p.name(dl.child), dl.pkt_type));
    }
    if d.to_wire && hairpin {
        let r = rx(p, f);
        for dl in r.deliveries() {
            out.push((p.name(dl.child), dl.pkt_type));
        }
        if r.to_lower_stack {
            out.push(("lower".to_string(), PktType::Host));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn names(p: &Port, d: &Decision) -> Vec<String> {
    let mut v: Vec<String> = d.deliveries().iter().map(|dl| p.name(dl.child)).collect();
    v.sort();
    v
}
