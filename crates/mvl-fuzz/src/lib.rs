//! # mvl-fuzz: what the fuzzers exercise
//!
//! Each function takes arbitrary bytes and must never panic; it panics
//! only when a property of the code under test is broken. `fuzz/` (run with
//! `cargo fuzz run -s none TARGET`, stable toolchain) calls them from
//! libFuzzer; `tests/corpus.rs` replays the checked-in corpus in
//! `fuzz/corpus/TARGET/` on every `cargo test`, so CI exercises them too.
//! None of them touches the network.

#![forbid(unsafe_code)]

use mvl_core::{
    wire, ChildId, Decision, Flags, LowerInfo, MacAddr, MacaddrOp, MacvlanChange, Mode, NewMacvlan, Port,
};

/// Reads bytes as small numbers, zero when they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A MAC from one byte: children, the lower, an outsider, groups, broadcast.
fn mac(b: u8) -> MacAddr {
    match b % 12 {
        0..=5 => MacAddr([2, 0, 0, 0, 0, b % 12 + 1]),
        6 => MacAddr([0x7e, 0, 0, 0, 0, 1]),
        7 => MacAddr([0x36, 0, 0, 0, 0, 1]),
        8 => MacAddr::ZERO,
        9 | 10 => MacAddr([1, 0, 0x5e, 0, 0, b % 12]),
        _ => MacAddr::BROADCAST,
    }
}

const MODES: [Mode; 5] = [
    Mode::Private,
    Mode::Vepa,
    Mode::Bridge,
    Mode::Passthru,
    Mode::Source,
];

/// Drives a port with operations and frames read from `data`, checking the
/// rules that must always hold: no delivery to a down child, no delivery to
/// a source-mode child by destination only, passthru alone on its lower,
/// and no up child sharing its MAC with another or with the lower.
pub fn core_decisions(data: &[u8]) {
    let mut b = Bytes(data);
    let mut p = Port::new(LowerInfo::ethernet("eth0", MacAddr([0x7e, 0, 0, 0, 0, 1])));
    let mut ids: Vec<ChildId> = Vec::new();
    let mut d = Decision::explaining();
    while !b.is_empty() {
        let op = b.u8();
        let pick =
            |b: &mut Bytes, ids: &[ChildId]| (!ids.is_empty()).then(|| ids[b.u8() as usize % ids.len()]);
        match op % 12 {
            0 => {
                let mode = MODES[b.u8() as usize % 5];
                let flags = Flags::from_bits(u16::from(b.u8() & 3)).unwrap_or_default();
                let req = NewMacvlan::new(&format!("c{}", ids.len()), mac(b.u8()))
                    .mode(mode)
                    .flags(flags);
                if let Ok(id) = p.create(req) {
                    ids.push(id);
                }
            }
            1 => {
                if let Some(id) = pick(&mut b, &ids) {
                    let _ = p.open(id);
                }
            }
            2 => {
                if let Some(id) = pick(&mut b, &ids) {
                    let _ = p.stop(id);
                }
            }
            3 => {
                if let Some(id) = pick(&mut b, &ids) {
                    if p.delete(id).is_ok() {
                        ids.retain(|&x| x != id);
                    }
                }
            }
            4 => {
                if let Some(id) = pick(&mut b, &ids) {
                    let m = mac(b.u8());
                    let op = match b.u8() % 4 {
                        0 => MacaddrOp::Add(m),
                        1 => MacaddrOp::Del(m),
                        2 => MacaddrOp::Flush,
                        _ => MacaddrOp::Set(vec![m, mac(b.u8())]),
                    };
                    let change = MacvlanChange {
                        mode: (b.u8() & 1 == 1).then(|| MODES[b.u8() as usize % 5]),
                        flags: Flags::from_bits(u16::from(b.u8() & 3)),
                        macaddr: Some(op),
                        bc_queue_len: Some(u32::from(b.u8() % 3)),
                        bc_cutoff: Some(i32::from(b.u8() % 4) - 1),
                    };
                    let _ = p.change(id, &change);
                }
            }
            5 => {
                if let Some(id) = pick(&mut b, &ids) {
                    let _ = p.set_mac(id, mac(b.u8()));
                }
            }
            6 => {
                if let Some(id) = pick(&mut b, &ids) {
                    let _ = p.set_mtu(id, u32::from(b.u8()) * 16);
                }
            }
            7 => {
                let _ = p.lower_mtu_changed(u32::from(b.u8()) * 16 + 68);
                p.set_lower_state(b.u8() & 1 == 1, b.u8() & 1 == 1);
            }
            8 => {
                if let Some(id) = pick(&mut b, &ids) {
                    let g = mac(b.u8());
                    let _ = if g.is_multicast() {
                        p.join_group(id, g)
                    } else {
                        p.set_allmulti(id, g.is_zero())
                    };
                }
            }
            _ => {
                // A frame: from the wire, or from a child.
                let len = b.u8() as usize;
                let mut f = b.take(len).to_vec();
                if f.len() >= wire::ETH_HLEN && b.u8() & 1 == 1 {
                    wire::write_header(&mut f, mac(b.u8()), mac(b.u8()), 0x0800);
                }
                match pick(&mut b, &ids).filter(|_| op % 2 == 0) {
                    Some(id) => p.tx_from_child(id, &f, &mut d),
                    None => p.rx_from_lower(&f, &mut d),
                }
                for dl in d.deliveries() {
                    let i = p.info(dl.child).expect("deliveries name live children");
                    assert!(i.up, "a delivery to a down child");
                }
            }
        }
        // Invariants of the port's configuration.
        let infos: Vec<_> = ids.iter().map(|&id| p.info(id).expect("live")).collect();
        if infos.iter().any(|i| i.mode == Mode::Passthru) {
            assert_eq!(infos.len(), 1, "passthru shares its lower");
        }
        let up: Vec<MacAddr> = infos.iter().filter(|i| i.up).map(|i| i.mac).collect();
        for (n, m) in up.iter().enumerate() {
            assert!(!up[n + 1..].contains(m), "two up children share {m}");
            assert!(
                p.is_passthru() || *m != p.lower().mac,
                "an up child has the lower's MAC"
            );
        }
    }
}

/// Parses arbitrary text as a lab; a lab that parses and is small runs on
/// the emulator, which must not panic either.
pub fn lab_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(lab) = mvl_lab::parse(text) else { return };
    let cheap = lab.lines.len() <= 40
        && lab.lines.iter().all(|l| match &l.command {
            mvl_lab::Command::Ping { ping, .. } => {
                ping.count.is_some_and(|c| c <= 3)
                    && ping.wait.unwrap_or(10.0) <= 5.0
                    && ping.deadline.unwrap_or(0) <= 5
            }
            mvl_lab::Command::Tcpdump { write, .. } => write.is_none(),
            _ => true,
        });
    if cheap {
        let mut b = mvl_lab::SimBackend::new(1, std::env::temp_dir(), None);
        let rep = mvl_lab::run(&lab, &mut b, mvl_lab::RunOptions { explain: true }, |_| {})
            .expect("the emulator runs any lab");
        assert_eq!(rep.lines.len(), lab.lines.len());
    }
}

/// Parses arbitrary text as a daemon request, the way the daemon does
/// (macvlan options are checked while parsing), and checks that a request
/// that parses survives a JSON round trip.
pub fn control_line(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(req) = serde_json::from_str::<mvl_datapath::control::Request>(text) else {
        return;
    };
    let again: mvl_datapath::control::Request =
        serde_json::from_str(&serde_json::to_string(&req).expect("requests serialize"))
            .expect("and parse back");
    assert_eq!(again, req);
}

/// Parses a CNI invocation: the bytes before the first NUL are the
/// environment (`K=V` lines), the rest is the configuration on stdin. What
/// the plugin refuses is refused with one of its documented codes and an
/// error object in the configuration's version; nothing touches a kernel.
pub fn cni_input(data: &[u8]) {
    let (env, stdin) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let env = String::from_utf8_lossy(env);
    let vars: Vec<(String, String)> = env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let get = |k: &str| vars.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let check = |e: mvl_cni::Error| {
        let code = e.code();
        assert!(
            matches!(code, 1..=7 | 11 | 50 | 51 | 100..=199),
            "undocumented code {code}: {e}"
        );
        let j = e.to_json("1.1.0");
        assert_eq!(j["code"], code);
        assert!(j["msg"].as_str().is_some_and(|m| !m.is_empty()));
    };
    let inv = match mvl_cni::env::Invocation::from_env(get) {
        Ok(i) => Some(i),
        Err(e) => {
            check(e);
            None
        }
    };
    let conf = match mvl_cni::config::Conf::parse(stdin) {
        Ok(c) => Some(c),
        Err(e) => {
            check(e);
            None
        }
    };
    if let (Some(inv), Some(conf)) = (inv, conf) {
        if let Err(e) = conf.validate(&inv) {
            check(e);
        }
    }
}
