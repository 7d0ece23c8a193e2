//! mvl-netlink against the real kernel, cross-checked with iproute2.
//!
//! Every test makes its own network namespace (a thread unshares
//! CLONE_NEWNET and hands back its descriptor), uses veth pairs as lowers,
//! and runs `ip` from a thread inside that namespace. Nothing of the host is
//! touched. They need root, so they are ignored unless asked for.

use std::net::Ipv4Addr;
use std::process::Command;

use std::collections::BTreeMap;

use mvl_core::{BadMac, ChildId, Flags, MacAddr, MacaddrOp, MacvlanChange, Mode, Port};
use mvl_netlink::{
    Address, Cause, Error, IpNet, LinkChange, NetNs, Netlink, NewMacvlanLink, OperState, Route,
};
use serde_json::Value;

const IP: &str = "/usr/sbin/ip";

/// A private namespace with a veth pair `veth0` — `veth1` (down).
struct Lab {
    ns: NetNs,
    nl: Netlink,
}

impl Lab {
    fn new() -> Lab {
        let ns = NetNs::new_private().expect("unshare a network namespace");
        let mut nl = Netlink::open_in(&ns).unwrap();
        nl.add_veth("veth0", "veth1").unwrap();
        Lab { ns, nl }
    }

    /// Runs `ip ARGS` inside the lab's namespace: (success, stdout, stderr).
    fn ip(&self, args: &[&str]) -> (bool, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        self.ns
            .run(move || {
                let o = Command::new(IP).args(&args).output().expect("run ip");
                (
                    o.status.success(),
                    String::from_utf8_lossy(&o.stdout).into_owned(),
                    String::from_utf8_lossy(&o.stderr).into_owned(),
                )
            })
            .unwrap()
    }

    fn ip_ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.ip(args);
        assert!(ok, "ip {args:?}: {err}");
        out
    }

    /// `ip -j -d link show dev DEV`.
    fn ip_json(&self, dev: &str) -> Value {
        let out = self.ip_ok(&["-j", "-d", "link", "show", "dev", dev]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v[0].clone()
    }
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

fn macs(v: &[&str]) -> Vec<MacAddr> {
    v.iter().map(|s| mac(s)).collect()
}

/// The mvl_core rule behind a refusal.
fn rule(e: &Error) -> &mvl_core::Error {
    match e.cause() {
        Some(Cause::Rule(r)) => r,
        other => panic!("expected a rule, got {other:?} for {e}"),
    }
}

/// Checks that what mvl-netlink decodes of `dev` is what `ip -j -d` shows.
fn same_as_ip(lab: &mut Lab, dev: &str) {
    let l = lab.nl.link(dev).unwrap();
    let j = lab.ip_json(dev);
    assert_eq!(j["ifindex"], l.index, "{dev} ifindex");
    assert_eq!(j["ifname"], l.name.as_str());
    assert_eq!(j["mtu"], l.mtu.unwrap());
    assert_eq!(j["address"], l.address.unwrap().to_string());
    assert_eq!(j["operstate"], l.operstate.as_str());
    assert_eq!(j["min_mtu"], l.min_mtu.unwrap());
    assert_eq!(j["max_mtu"], l.max_mtu.unwrap());
    assert_eq!(j["txqlen"], l.txqlen.unwrap());
    assert_eq!(j["promiscuity"], l.promiscuity.unwrap());
    assert_eq!(j["linkinfo"]["info_kind"], l.kind.as_deref().unwrap());
    let flags: Vec<&str> = j["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(flags.contains(&"UP"), l.is_up(), "{dev} UP flag");
    if let Some(netnsid) = l.link_netnsid {
        assert_eq!(j["link_netnsid"], netnsid);
        assert_eq!(j["link_index"], l.link.unwrap());
    } else if let Some(lower) = l.link {
        let lower = lab.nl.link(lower).unwrap();
        assert_eq!(j["link"], lower.name.as_str());
    }
    let Some(mv) = &l.macvlan else {
        return;
    };
    let d = &j["linkinfo"]["info_data"];
    assert_eq!(d["mode"], mv.mode.unwrap().as_str(), "{dev} mode");
    assert_eq!(
        d["nopromisc"].as_bool().unwrap_or(false),
        mv.flags.contains(Flags::NOPROMISC)
    );
    assert_eq!(
        d["nodst"].as_bool().unwrap_or(false),
        mv.flags.contains(Flags::NODST)
    );
    assert_eq!(d["bcqueuelen"], mv.bc_queue_len.unwrap(), "{dev} bcqueuelen");
    assert_eq!(
        d["usedbcqueuelen"],
        mv.bc_queue_len_used.unwrap(),
        "{dev} usedbcqueuelen"
    );
    if mv.mode == Some(Mode::Source) {
        assert_eq!(d["macaddr_count"], mv.macaddr_count);
        let theirs: Vec<String> = d["macaddr_data"]
            .as_array()
            .map(|a| a.iter().map(|m| m.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        let ours: Vec<String> = mv.macaddrs.iter().map(|m| m.to_string()).collect();
        assert_eq!(theirs, ours, "{dev} source list in the kernel's order");
    }
}

#[test]
#[ignore = "needs root"]
fn create_with_every_attribute_then_show() {
    let mut lab = Lab::new();
    let req = NewMacvlanLink::new("mv0", "veth0")
        .mode(Mode::Source)
        .flags(Flags::NODST)
        .macaddr(MacaddrOp::Set(macs(&[
            "02:00:00:00:00:01",
            "02:00:00:00:00:02",
            "02:00:00:00:00:03",
        ])))
        .bc_queue_len(2000)
        .bc_cutoff(-1)
        .address(mac("02:aa:00:00:00:01"))
        .mtu(1400);
    lab.nl.create_macvlan(&req).unwrap();
    let l = lab.nl.macvlan("mv0").unwrap();
    let veth0 = lab.nl.link("veth0").unwrap();
    assert_eq!(l.name, "mv0");
    assert_eq!(l.kind.as_deref(), Some("macvlan"));
    assert_eq!(l.link, Some(veth0.index));
    assert_eq!(l.link_netnsid, None);
    assert_eq!(l.address, Some(mac("02:aa:00:00:00:01")));
    assert_eq!(l.mtu, Some(1400));
    assert!(!l.is_up());
    assert_eq!(l.operstate, OperState::Down);
    let mv = l.macvlan.clone().unwrap();
    assert_eq!(mv.mode, Some(Mode::Source));
    assert_eq!(mv.raw_mode, 16);
    assert_eq!(mv.flags, Flags::NODST);
    assert_eq!(mv.macaddr_count, 3);
    let mut sorted = mv.macaddrs.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        macs(&["02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"])
    );
    // The dump order is the kernel's hash-bucket order (spec §2.3).
    let mut expect = sorted.clone();
    expect.sort_by_key(|m| m.kernel_bucket());
    let buckets: Vec<u8> = mv.macaddrs.iter().map(|m| m.kernel_bucket()).collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(mv.bc_queue_len, Some(2000));
    assert_eq!(mv.bc_queue_len_used, Some(2000));
    // iproute2 6.1 does not know bclim: our decode is the check.
    assert_eq!(mv.bc_cutoff, Some(-1));
    same_as_ip(&mut lab, "mv0");
    // The same through a dump.
    let all = lab.nl.macvlans().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0], l);
}

#[test]
#[ignore = "needs root"]
fn each_attribute_round_trips_against_ip() {
    let mut lab = Lab::new();
    // Ours, read by ip.
    let cases: Vec<(&str, NewMacvlanLink)> = vec![
        ("m1", NewMacvlanLink::new("m1", "veth0").mode(Mode::Private)),
        ("m2", NewMacvlanLink::new("m2", "veth0").mode(Mode::Vepa)),
        (
            "m3",
            NewMacvlanLink::new("m3", "veth0")
                .mode(Mode::Bridge)
                .bc_queue_len(0),
        ),
        (
            "m4",
            NewMacvlanLink::new("m4", "veth0")
                .mode(Mode::Source)
                .flags(Flags::NODST),
        ),
        (
            "m5",
            NewMacvlanLink::new("m5", "veth0")
                .mode(Mode::Source)
                .macaddr(MacaddrOp::Add(mac("02:00:00:00:00:05"))),
        ),
        (
            "m6",
            NewMacvlanLink::new("m6", "veth0")
                .address(mac("02:00:00:00:00:66"))
                .mtu(1280),
        ),
        ("m7", NewMacvlanLink::new("m7", "veth0").bc_queue_len(4321)),
        (
            "p1",
            NewMacvlanLink::new("p1", "veth1")
                .mode(Mode::Passthru)
                .flags(Flags::NOPROMISC),
        ),
    ];
    for (name, req) in &cases {
        lab.nl.create_macvlan(req).unwrap();
        same_as_ip(&mut lab, name);
    }
    // The kernel default mode is vepa, and the port's used length is the max.
    let m7 = lab.nl.macvlan("m7").unwrap().macvlan.unwrap();
    assert_eq!(m7.mode, Some(Mode::Vepa));
    assert_eq!(m7.bc_queue_len_used, Some(4321));
    let p1 = lab.nl.macvlan("p1").unwrap();
    assert_eq!(
        p1.address,
        lab.nl.link("veth1").unwrap().address,
        "passthru takes the lower's MAC"
    );

    // ip's, read by us.
    let mut lab = Lab::new();
    lab.ip_ok(&[
        "link",
        "add",
        "i1",
        "link",
        "veth0",
        "type",
        "macvlan",
        "mode",
        "source",
        "nodst",
        "macaddr",
        "set",
        "02:00:00:00:00:01",
        "02:00:00:00:00:02",
        "bcqueuelen",
        "77",
    ]);
    lab.ip_ok(&[
        "link",
        "add",
        "i2",
        "link",
        "veth0",
        "address",
        "02:00:00:00:00:22",
        "mtu",
        "1000",
        "type",
        "macvlan",
        "mode",
        "bridge",
    ]);
    lab.ip_ok(&[
        "link",
        "add",
        "i3",
        "link",
        "veth1",
        "type",
        "macvlan",
        "mode",
        "passthru",
        "nopromisc",
    ]);
    for d in ["i1", "i2", "i3"] {
        same_as_ip(&mut lab, d);
    }
    let i1 = lab.nl.macvlan("i1").unwrap().macvlan.unwrap();
    assert_eq!(i1.flags, Flags::NODST);
    assert_eq!(i1.macaddr_count, 2);
    assert_eq!(i1.bc_queue_len, Some(77));
    let i2 = lab.nl.macvlan("i2").unwrap();
    assert_eq!((i2.mtu, i2.address), (Some(1000), Some(mac("02:00:00:00:00:22"))));
    assert_eq!(
        lab.nl.macvlan("i3").unwrap().macvlan.unwrap().flags,
        Flags::NOPROMISC
    );
}

fn change(mv: MacvlanChange) -> LinkChange {
    LinkChange {
        macvlan: Some(mv),
        ..Default::default()
    }
}

#[test]
#[ignore = "needs root"]
fn every_change() {
    let mut lab = Lab::new();
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0").mode(Mode::Bridge))
        .unwrap();
    let info = |lab: &mut Lab| lab.nl.macvlan("mv0").unwrap().macvlan.unwrap();
    for m in [Mode::Vepa, Mode::Private, Mode::Bridge, Mode::Source] {
        lab.nl
            .set_link(
                "mv0",
                &change(MacvlanChange {
                    mode: Some(m),
                    ..Default::default()
                }),
            )
            .unwrap();
        assert_eq!(info(&mut lab).mode, Some(m));
        same_as_ip(&mut lab, "mv0");
    }
    // Source list: add, add, del, set, flush.
    let op = |o: MacaddrOp| {
        change(MacvlanChange {
            macaddr: Some(o),
            ..Default::default()
        })
    };
    lab.nl
        .set_link("mv0", &op(MacaddrOp::Add(mac("02:00:00:00:00:01"))))
        .unwrap();
    lab.nl
        .set_link("mv0", &op(MacaddrOp::Add(mac("02:00:00:00:00:02"))))
        .unwrap();
    assert_eq!(info(&mut lab).macaddr_count, 2);
    lab.nl
        .set_link("mv0", &op(MacaddrOp::Del(mac("02:00:00:00:00:01"))))
        .unwrap();
    assert_eq!(info(&mut lab).macaddrs, macs(&["02:00:00:00:00:02"]));
    same_as_ip(&mut lab, "mv0");
    let set = macs(&["02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:0c"]);
    lab.nl.set_link("mv0", &op(MacaddrOp::Set(set.clone()))).unwrap();
    let mut got = info(&mut lab).macaddrs;
    got.sort();
    assert_eq!(got, set);
    same_as_ip(&mut lab, "mv0");
    lab.nl.set_link("mv0", &op(MacaddrOp::Flush)).unwrap();
    assert_eq!(info(&mut lab).macaddr_count, 0);
    assert!(info(&mut lab).macaddrs.is_empty());
    // Flags, bcqueuelen, bclim, then back to the defaults.
    lab.nl
        .set_link(
            "mv0",
            &change(MacvlanChange {
                flags: Some(Flags::NODST),
                bc_queue_len: Some(3000),
                bc_cutoff: Some(5),
                ..Default::default()
            }),
        )
        .unwrap();
    let i = info(&mut lab);
    assert_eq!(
        (i.flags, i.bc_queue_len, i.bc_cutoff),
        (Flags::NODST, Some(3000), Some(5))
    );
    same_as_ip(&mut lab, "mv0");
    lab.nl
        .set_link(
            "mv0",
            &change(MacvlanChange {
                flags: Some(Flags::NONE),
                bc_cutoff: Some(1),
                ..Default::default()
            }),
        )
        .unwrap();
    let i = info(&mut lab);
    assert_eq!(
        (i.flags, i.bc_cutoff),
        (Flags::NONE, None),
        "bclim 1 is the default, left out of dumps"
    );
    // Generic: address, mtu, up, down, promisc.
    lab.nl
        .set_link(
            "mv0",
            &LinkChange {
                address: Some(mac("02:00:00:00:00:99")),
                mtu: Some(1300),
                up: Some(true),
                promisc: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    let l = lab.nl.link("mv0").unwrap();
    assert_eq!((l.address, l.mtu), (Some(mac("02:00:00:00:00:99")), Some(1300)));
    assert!(l.is_up());
    assert!(l.flags & mvl_netlink::IFF_PROMISC != 0);
    // veth0's peer is down: the macvlan has no carrier.
    assert_eq!(l.operstate, OperState::LowerLayerDown);
    same_as_ip(&mut lab, "mv0");
    lab.nl.set_up("veth1", true).unwrap();
    lab.nl.set_up("veth0", true).unwrap();
    let l = lab.nl.link("mv0").unwrap();
    assert_eq!(l.operstate, OperState::Up);
    lab.nl.set_up("mv0", false).unwrap();
    assert!(!lab.nl.link("mv0").unwrap().is_up());
    same_as_ip(&mut lab, "mv0");
    // Rename.
    lab.nl.rename("mv0", "renamed").unwrap();
    assert!(lab.nl.link("mv0").unwrap_err().is_no_device());
    assert_eq!(
        lab.nl.link("renamed").unwrap().address,
        Some(mac("02:00:00:00:00:99"))
    );
    lab.ip_ok(&["link", "show", "renamed"]);
}

#[test]
#[ignore = "needs root"]
fn delete() {
    let mut lab = Lab::new();
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0"))
        .unwrap();
    let idx = lab.nl.index_of("mv0").unwrap();
    lab.nl.delete_link(idx).unwrap();
    assert!(lab.nl.link("mv0").unwrap_err().is_no_device());
    let (ok, _, _) = lab.ip(&["link", "show", "mv0"]);
    assert!(!ok);
    // Deleting the lower deletes its macvlans.
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv1", "veth0"))
        .unwrap();
    lab.nl.delete_link("veth0").unwrap();
    assert!(lab.nl.macvlans().unwrap().is_empty());
    let e = lab.nl.delete_link("mv1").unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENODEV));
    assert!(
        matches!(e.cause(), Some(Cause::NoDevice { name, .. }) if name == "mv1"),
        "{e}"
    );
}

#[test]
#[ignore = "needs root"]
fn eaddrinuse_names_the_holder() {
    let mut lab = Lab::new();
    let m = mac("02:00:00:00:00:01");
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0").address(m))
        .unwrap();
    lab.nl.set_up("mv0", true).unwrap();
    // The kernel does not check at creation, only when it comes up.
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv1", "veth0").address(m))
        .unwrap();
    let e = lab.nl.set_up("mv1", true).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EADDRINUSE));
    let mvl_core::Error::AddrInUse {
        dev,
        mac: got,
        holder,
        lower,
    } = rule(&e)
    else {
        panic!("{e}")
    };
    assert_eq!(
        (dev.as_str(), *got, holder.as_str(), lower.as_str()),
        ("mv1", m, "mv0", "veth0")
    );
    assert_eq!(
        rule(&e).errno().code(),
        libc::EADDRINUSE,
        "same errno as the emulator's rule"
    );
    assert!(e.to_string().contains("already used by mv0"), "{e}");
    // Changing a down macvlan's MAC to an up sibling's: refused too.
    lab.nl
        .set_link(
            "mv1",
            &LinkChange {
                address: Some(mac("02:00:00:00:00:02")),
                ..Default::default()
            },
        )
        .unwrap();
    let e = lab
        .nl
        .set_link(
            "mv1",
            &LinkChange {
                address: Some(m),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(rule(&e), mvl_core::Error::AddrInUse { holder, .. } if holder == "mv0"),
        "{e}"
    );
    // The lower's own MAC.
    let lower_mac = lab.nl.link("veth0").unwrap().address.unwrap();
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv2", "veth0").address(lower_mac))
        .unwrap();
    let e = lab.nl.set_up("mv2", true).unwrap_err();
    assert!(
        matches!(rule(&e), mvl_core::Error::AddrInUse { holder, .. } if holder == "the lower veth0"),
        "{e}"
    );
}

#[test]
#[ignore = "needs root"]
fn einval_on_passthru_names_the_other_macvlans() {
    let mut lab = Lab::new();
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0"))
        .unwrap();
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv1", "veth0"))
        .unwrap();
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("pt", "veth0").mode(Mode::Passthru))
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL));
    assert_eq!(
        rule(&e),
        &mvl_core::Error::PassthruNeedsEmptyLower {
            lower: "veth0".into(),
            children: "mv0, mv1".into()
        }
    );
    assert_eq!(rule(&e).errno().code(), libc::EINVAL);
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("pt", "veth1").mode(Mode::Passthru))
        .unwrap();
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mv2", "veth1").mode(Mode::Bridge))
        .unwrap_err();
    assert_eq!(
        rule(&e),
        &mvl_core::Error::PassthruPortFull {
            lower: "veth1".into(),
            child: "pt".into()
        }
    );
    let e = lab
        .nl
        .set_link(
            "pt",
            &change(MacvlanChange {
                mode: Some(Mode::Bridge),
                ..Default::default()
            }),
        )
        .unwrap_err();
    assert_eq!(
        rule(&e),
        &mvl_core::Error::PassthruModeChange {
            dev: "pt".into(),
            from: Mode::Passthru,
            to: Mode::Bridge
        }
    );
    // A source list outside source mode.
    let e = lab
        .nl
        .set_link(
            "mv0",
            &change(MacvlanChange {
                macaddr: Some(MacaddrOp::Flush),
                ..Default::default()
            }),
        )
        .unwrap_err();
    assert!(
        matches!(
            rule(&e),
            mvl_core::Error::MacaddrNotSource { mode: Mode::Vepa, .. }
        ),
        "{e}"
    );
    // A macvlan option on a veth.
    let e = lab
        .nl
        .set_link(
            "veth0",
            &change(MacvlanChange {
                mode: Some(Mode::Bridge),
                ..Default::default()
            }),
        )
        .unwrap_err();
    assert!(
        matches!(e.cause(), Some(Cause::NotMacvlan { name, .. }) if name == "veth0"),
        "{e}"
    );
    // A lower that is not Ethernet.
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mvlo", "lo"))
        .unwrap_err();
    assert!(matches!(rule(&e), mvl_core::Error::LowerIsLoopback { .. }), "{e}");
}

#[test]
#[ignore = "needs root"]
fn ebusy_names_the_master() {
    let mut lab = Lab::new();
    lab.ip_ok(&["link", "add", "br0", "type", "bridge"]);
    lab.ip_ok(&["link", "set", "veth0", "master", "br0"]);
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0"))
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EBUSY));
    assert_eq!(
        rule(&e),
        &mvl_core::Error::LowerBusy {
            lower: "veth0".into(),
            holder: "is a port of bridge br0".into()
        }
    );
    assert_eq!(rule(&e).errno().code(), libc::EBUSY);
    // A bond, where the bonding driver exists.
    let (ok, _, err) = lab.ip(&["link", "add", "bond0", "type", "bond"]);
    if ok {
        lab.ip_ok(&["link", "set", "veth1", "master", "bond0"]);
        let e = lab
            .nl
            .create_macvlan(&NewMacvlanLink::new("mv1", "veth1"))
            .unwrap_err();
        assert!(
            matches!(rule(&e), mvl_core::Error::LowerBusy { holder, .. } if holder == "is a slave of bond bond0"),
            "{e}"
        );
    } else {
        eprintln!("note: no bonding driver here ({}), bond case not run", err.trim());
    }
}

#[test]
#[ignore = "needs root"]
fn refused_macs_say_why() {
    let mut lab = Lab::new();
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0").address(mac("01:00:5e:00:00:01")))
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EADDRNOTAVAIL));
    assert!(
        matches!(
            rule(&e),
            mvl_core::Error::InvalidMac {
                why: BadMac::Multicast,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("multicast"), "{e}");
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0").address(MacAddr::ZERO))
        .unwrap_err();
    assert!(
        matches!(
            rule(&e),
            mvl_core::Error::InvalidMac {
                why: BadMac::Zero,
                ..
            }
        ),
        "{e}"
    );
    let e = lab
        .nl
        .create_macvlan(
            &NewMacvlanLink::new("mv0", "veth0")
                .mode(Mode::Source)
                .macaddr(MacaddrOp::Set(macs(&["02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff"]))),
        )
        .unwrap_err();
    assert!(
        matches!(rule(&e), mvl_core::Error::InvalidMac { mac, .. } if *mac == MacAddr::BROADCAST),
        "{e}"
    );
    assert_eq!(rule(&e).errno().code(), libc::EADDRNOTAVAIL);
    // Nothing was left behind.
    assert!(lab.nl.macvlans().unwrap().is_empty());
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0"))
        .unwrap();
    let e = lab
        .nl
        .set_link(
            "mv0",
            &LinkChange {
                address: Some(mac("33:33:00:00:00:01")),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(
            rule(&e),
            mvl_core::Error::InvalidMac {
                why: BadMac::Multicast,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
#[ignore = "needs root"]
fn mtu_refusals_give_both_numbers() {
    let mut lab = Lab::new();
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0").mtu(9000))
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL));
    assert_eq!(
        rule(&e),
        &mvl_core::Error::MtuAboveLower {
            dev: "mv0".into(),
            mtu: 9000,
            lower: "veth0".into(),
            lower_mtu: 1500
        }
    );
    let s = e.to_string();
    assert!(s.contains("9000") && s.contains("1500"), "{s}");
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0"))
        .unwrap();
    let e = lab
        .nl
        .set_link(
            "mv0",
            &LinkChange {
                mtu: Some(1501),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(
            rule(&e),
            mvl_core::Error::MtuAboveLower {
                mtu: 1501,
                lower_mtu: 1500,
                ..
            }
        ),
        "{e}"
    );
    let e = lab
        .nl
        .set_link(
            "mv0",
            &LinkChange {
                mtu: Some(50),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(rule(&e), mvl_core::Error::MtuOutOfRange { mtu: 50, min: 68, .. }),
        "{e}"
    );
    // The kernel's own words travel with the error.
    assert!(e.extack().is_some_and(|x| x.contains("mtu")), "{e}");
}

#[test]
#[ignore = "needs root"]
fn enodev_and_eexist_name_the_device() {
    let mut lab = Lab::new();
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "nosuch"))
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENODEV));
    assert!(
        matches!(e.cause(), Some(Cause::NoDevice { name, .. }) if name == "nosuch"),
        "{e}"
    );
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mv0", 9999u32))
        .unwrap_err();
    assert!(
        matches!(e.cause(), Some(Cause::NoDevice { name, .. }) if name == "index 9999"),
        "{e}"
    );
    let e = lab.nl.set_up("nosuch", true).unwrap_err();
    assert!(
        matches!(e.cause(), Some(Cause::NoDevice { name, .. }) if name == "nosuch"),
        "{e}"
    );
    assert!(e.to_string().contains("no device nosuch"), "{e}");
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0"))
        .unwrap();
    let e = lab
        .nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0"))
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EEXIST));
    assert!(
        matches!(e.cause(), Some(Cause::NameTaken { name, .. }) if name == "mv0"),
        "{e}"
    );
    let e = lab.nl.rename("mv0", "veth1").unwrap_err();
    assert!(
        matches!(e.cause(), Some(Cause::NameTaken { name, .. }) if name == "veth1"),
        "{e}"
    );
}

#[test]
#[ignore = "needs root"]
fn netns_move_rename_and_create_elsewhere() {
    let mut lab = Lab::new();
    let other = NetNs::new_private().unwrap();
    let mut there = Netlink::open_in(&other).unwrap();
    lab.nl
        .create_macvlan(
            &NewMacvlanLink::new("mv0", "veth0")
                .mode(Mode::Bridge)
                .address(mac("02:00:00:00:00:01")),
        )
        .unwrap();
    // Move and rename in one request, as a CNI plugin does.
    lab.nl
        .set_link(
            "mv0",
            &LinkChange {
                netns: Some(other.clone()),
                name: Some("eth0".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(lab.nl.link("mv0").unwrap_err().is_no_device());
    let moved = there.link("eth0").unwrap();
    assert_eq!(moved.address, Some(mac("02:00:00:00:00:01")));
    assert_eq!(moved.macvlan.as_ref().unwrap().mode, Some(Mode::Bridge));
    assert!(
        moved.link_netnsid.is_some(),
        "its lower lives in another namespace"
    );
    // ip, inside the other namespace, agrees.
    let out = other
        .run(|| {
            Command::new(IP)
                .args(["-j", "-d", "link", "show", "eth0"])
                .output()
                .unwrap()
        })
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j[0]["link_netnsid"], moved.link_netnsid.unwrap());
    assert_eq!(j[0]["linkinfo"]["info_data"]["mode"], "bridge");
    // Created directly in the other namespace, on a lower here.
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv1", "veth0").netns(other.clone()))
        .unwrap();
    assert!(there.link("mv1").is_ok());
    assert!(lab.nl.link("mv1").is_err());
    // A name taken in the target namespace.
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("eth0", "veth0"))
        .unwrap();
    let e = lab.nl.set_netns("eth0", &other).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EEXIST));
    assert!(
        matches!(e.cause(), Some(Cause::NameTaken { name, ns }) if name == "eth0" && ns == other.label()),
        "{e}"
    );
    // Up there, while its lower is here and down: no carrier.
    there.set_up("eth0", true).unwrap();
    assert!(there.link("eth0").unwrap().is_up());
    // Moving back by index.
    let idx = there.index_of("eth0").unwrap();
    let here = NetNs::from_path(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&lab.ns)
    ))
    .unwrap();
    assert!(here.same_as(&lab.ns));
    there
        .set_link(
            idx,
            &LinkChange {
                netns: Some(lab.ns.clone()),
                name: Some("back".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(lab.nl.link("back").unwrap().link_netnsid, None);
}

#[test]
#[ignore = "needs root"]
fn eaddrinuse_across_namespaces() {
    let mut lab = Lab::new();
    let other = NetNs::new_private().unwrap();
    let mut there = Netlink::open_in(&other).unwrap();
    let m = mac("02:00:00:00:00:07");
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0").address(m))
        .unwrap();
    lab.nl.set_up("mv0", true).unwrap();
    lab.nl
        .create_macvlan(
            &NewMacvlanLink::new("mv1", "veth0")
                .address(m)
                .netns(other.clone()),
        )
        .unwrap();
    let e = there.set_up("mv1", true).unwrap_err();
    // The holder lives in the lower's namespace; it is found through the netnsid.
    assert!(
        matches!(rule(&e), mvl_core::Error::AddrInUse { holder, lower, .. } if holder == "mv0" && lower == "veth0"),
        "{e}"
    );
}

#[test]
#[ignore = "needs root"]
fn dump_of_many_links() {
    let mut lab = Lab::new();
    for i in 0..300 {
        lab.nl
            .create_macvlan(&NewMacvlanLink::new(format!("mv{i}"), "veth0").mode(Mode::Bridge))
            .unwrap();
    }
    let all = lab.nl.links().unwrap();
    let mvs = lab.nl.macvlans().unwrap();
    assert_eq!(mvs.len(), 300);
    assert_eq!(all.len(), 303, "lo, veth0, veth1 and the macvlans");
    assert!(all.windows(2).all(|w| w[0].index < w[1].index));
    let out = lab.ip_ok(&["-j", "link", "show"]);
    let j: Value = serde_json::from_str(&out).unwrap();
    let theirs: Vec<&str> = j
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap())
        .collect();
    let ours: Vec<&str> = all.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(ours, theirs);
}

#[test]
#[ignore = "needs root"]
fn dumps_stay_whole_while_links_change() {
    let mut lab = Lab::new();
    for i in 0..100 {
        lab.nl
            .create_macvlan(&NewMacvlanLink::new(format!("s{i}"), "veth0"))
            .unwrap();
    }
    let ns = lab.ns.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let churn = std::thread::spawn(move || {
        let mut nl = Netlink::open_in(&ns).unwrap();
        let mut n = 0u32;
        while !s2.load(std::sync::atomic::Ordering::Relaxed) && n < 5000 {
            nl.create_macvlan(&NewMacvlanLink::new("churn", "veth1")).unwrap();
            nl.delete_link("churn").unwrap();
            n += 1;
        }
    });
    for _ in 0..50 {
        // Whatever the churn does, a finished dump has every stable link once.
        let links = lab.nl.links().unwrap();
        let stable = links.iter().filter(|l| l.name.starts_with('s')).count();
        assert_eq!(stable, 100);
        let mut idx: Vec<u32> = links.iter().map(|l| l.index).collect();
        idx.dedup();
        assert_eq!(idx.len(), links.len());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();
}

#[test]
#[ignore = "needs root"]
fn addresses_and_routes() {
    let mut lab = Lab::new();
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0").mode(Mode::Bridge))
        .unwrap();
    lab.nl.set_up("veth1", true).unwrap();
    lab.nl.set_up("veth0", true).unwrap();
    lab.nl.set_up("mv0", true).unwrap();
    let v4: IpNet = "10.1.0.2/24".parse().unwrap();
    let v6: IpNet = "fd00:1::2/64".parse().unwrap();
    lab.nl.add_address("mv0", v4).unwrap();
    lab.nl.add_address("mv0", v6).unwrap();
    let a = lab.nl.addresses(Some("mv0".into())).unwrap();
    let ours: Vec<&Address> = a.iter().filter(|a| a.net == v4 || a.net == v6).collect();
    assert_eq!(ours.len(), 2, "{a:?}");
    assert_eq!(ours[0].broadcast, Some(Ipv4Addr::new(10, 1, 0, 255)));
    // The kernel's own link-local address is listed too.
    assert!(
        a.iter().any(|a| a.net.addr().to_string().starts_with("fe80::")),
        "{a:?}"
    );
    let out = lab.ip_ok(&["-j", "addr", "show", "dev", "mv0"]);
    assert!(
        out.contains("\"local\":\"10.1.0.2\"") && out.contains("\"local\":\"fd00:1::2\""),
        "{out}"
    );
    let e = lab.nl.add_address("mv0", v4).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EEXIST));

    let idx = lab.nl.index_of("mv0").unwrap();
    let r = Route::new("10.2.0.0/16".parse().unwrap())
        .via("10.1.0.1".parse().unwrap())
        .dev(idx);
    lab.nl.add_route(&r).unwrap();
    let d = Route::default_via("10.1.0.1".parse().unwrap())
        .dev(idx)
        .metric(50);
    lab.nl.add_route(&d).unwrap();
    let mut r6 = Route::new("fd00:2::/64".parse().unwrap())
        .via("fd00:1::1".parse().unwrap())
        .dev(idx);
    r6.mtu = Some(1400);
    lab.nl.add_route(&r6).unwrap();
    let routes = lab.nl.routes(Some("mv0".into())).unwrap();
    let main: Vec<_> = routes
        .iter()
        .filter(|r| r.table == mvl_netlink::RT_TABLE_MAIN)
        .collect();
    assert!(main
        .iter()
        .any(|x| x.destination == "10.1.0.0/24".parse::<IpNet>().unwrap()
            && x.protocol == mvl_netlink::RTPROT_KERNEL));
    assert!(main
        .iter()
        .any(|x| x.destination.prefix_len() == 16 && x.gateway == Some("10.1.0.1".parse().unwrap())));
    assert!(main.iter().any(|x| x.is_default() && x.metric == Some(50)));
    assert!(main
        .iter()
        .any(|x| x.gateway == Some("fd00:1::1".parse().unwrap()) && x.mtu == Some(1400)));
    let out = lab.ip_ok(&["route", "show"]);
    assert!(out.contains("10.2.0.0/16 via 10.1.0.1 dev mv0"), "{out}");
    assert!(out.contains("default via 10.1.0.1 dev mv0"), "{out}");
    let out = lab.ip_ok(&["-6", "route", "show"]);
    assert!(
        out.contains("fd00:2::/64 via fd00:1::1 dev mv0") && out.contains("mtu 1400"),
        "{out}"
    );
    // Replace: the same destination, another gateway.
    let replaced = r.clone().via("10.1.0.9".parse().unwrap());
    lab.nl.replace_route(&replaced).unwrap();
    let out = lab.ip_ok(&["route", "show"]);
    assert!(out.contains("10.2.0.0/16 via 10.1.0.9 dev mv0"), "{out}");
    // A delete names the route as it now is.
    assert_eq!(lab.nl.del_route(&r).unwrap_err().errno(), Some(libc::ESRCH));
    lab.nl.del_route(&replaced).unwrap();
    lab.nl.del_route(&d).unwrap();
    lab.nl.del_route(&r6).unwrap();
    let out = lab.ip_ok(&["route", "show"]);
    assert!(!out.contains("10.2.0.0/16") && !out.contains("default"), "{out}");
    assert!(!lab.ip_ok(&["-6", "route", "show"]).contains("fd00:2::"));

    let p: std::net::Ipv6Addr = "fd00:1::77".parse().unwrap();
    lab.nl.add_neigh_proxy("mv0", p).unwrap();
    lab.nl.add_neigh_proxy("mv0", p).unwrap();
    assert_eq!(lab.nl.neigh_proxies("mv0").unwrap(), vec![p]);
    let out = lab.ip_ok(&["-6", "neigh", "show", "proxy"]);
    assert!(out.contains("fd00:1::77 dev mv0 proxy"), "{out}");

    lab.nl.del_address("mv0", v4).unwrap();
    lab.nl.del_address("mv0", v6).unwrap();
    let left = lab.nl.addresses(Some("mv0".into())).unwrap();
    assert!(left.iter().all(|a| a.net != v4 && a.net != v6), "{left:?}");
}

#[test]
#[ignore = "needs root"]
fn requests_of_the_generic_layer() {
    use mvl_netlink::packet::link::LinkMessage;
    use mvl_netlink::packet::RouteNetlinkMessage;
    let mut lab = Lab::new();
    let replies = lab
        .nl
        .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
        .unwrap();
    assert_eq!(replies.len(), 3);
    let mut m = LinkMessage::default();
    m.header.index = 424242;
    let e = lab.nl.request(RouteNetlinkMessage::GetLink(m), 0).unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENODEV));
    // The socket stays in step after a refusal.
    assert_eq!(lab.nl.links().unwrap().len(), 3);
    assert!(lab.nl.namespace().contains("private"));
}

#[test]
#[ignore = "needs root"]
fn delete_a_group_at_once() {
    let mut lab = Lab::new();
    let g = std::num::NonZeroU32::new(9).unwrap();
    for i in 0..40 {
        lab.nl
            .create_macvlan(&NewMacvlanLink::new(format!("g{i}"), "veth0").group(g))
            .unwrap();
    }
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("keep", "veth0"))
        .unwrap();
    assert_eq!(lab.nl.link("g7").unwrap().group, Some(9));
    let out = lab.ip_ok(&["link", "show", "group", "9"]);
    assert_eq!(out.lines().filter(|l| l.contains(": g")).count(), 40);
    lab.nl.delete_group(g).unwrap();
    let left: Vec<String> = lab.nl.macvlans().unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(left, ["keep"]);
    assert_eq!(lab.nl.links().unwrap().len(), 4, "lo, the veths and keep");
}

/// A change of several parts that the kernel refuses half-way (the address
/// taken, the MTU refused after it) is set back: the device keeps its
/// address, MTU and mode.
#[test]
#[ignore = "needs root"]
fn a_refused_change_is_set_back() {
    let mut lab = Lab::new();
    lab.nl
        .create_macvlan(&NewMacvlanLink::new("mv0", "veth0").mode(Mode::Bridge))
        .unwrap();
    let before = lab.nl.link("mv0").unwrap();
    let e = lab
        .nl
        .set_link(
            "mv0",
            &LinkChange {
                address: Some(mac("02:00:00:00:0b:01")),
                mtu: Some(60_000),
                macvlan: Some(MacvlanChange {
                    mode: Some(Mode::Private),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("60000"), "{e}");
    let after = lab.nl.link("mv0").unwrap();
    assert_eq!(
        (
            after.address,
            after.mtu,
            after.macvlan.as_ref().and_then(|m| m.mode)
        ),
        (before.address, before.mtu, Some(Mode::Bridge)),
        "{e}"
    );
}

/// The same random requests go to the kernel and to an `mvl_core::Port`:
/// each is accepted by both or refused by both, and every refusal's cause
/// is the core's error, errno and all (the explanation replays the request
/// on the port rebuilt from dumps); after each request the macvlans' MACs,
/// modes, MTUs and up flags, and the lower's MAC, are the same on both.
#[test]
#[ignore = "needs root"]
fn refusals_are_explained_by_the_cores_rules() {
    let seeds: u64 = std::env::var("MVL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    for n in 0..seeds {
        same_answers_for(0x9e37_79b9_7f4a_7c15 ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d));
    }
}

/// One run of [`refusals_are_explained_by_the_cores_rules`] from `seed`.
fn same_answers_for(start: u64) {
    let mut seed = start;
    let mut lab = Lab::new();
    lab.nl.set_up("veth0", true).unwrap();
    let lower = lab.nl.link("veth0").unwrap();
    let mut port = Port::new(lower.lower_info());
    let mut ids: BTreeMap<&str, ChildId> = BTreeMap::new();
    let names = ["a", "b", "c", "d"];
    let macs = [
        lower.address.unwrap(),
        mac("02:00:00:00:00:01"),
        mac("02:00:00:00:00:02"),
        mac("02:00:00:00:00:03"),
        mac("01:00:5e:00:00:01"),
        MacAddr::ZERO,
    ];
    let mtus = [50, 68, 1400, 1500, 1501, 70_000];
    let modes = [
        Mode::Private,
        Mode::Vepa,
        Mode::Bridge,
        Mode::Passthru,
        Mode::Source,
    ];
    let mut pick = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let (mut accepted, mut refused) = (0, 0);
    for step in 0..400 {
        let name = names[pick(names.len())];
        let sources = match pick(5) {
            0 => MacaddrOp::Set(vec![macs[1], macs[2]]),
            1 => MacaddrOp::Add(macs[3]),
            2 => MacaddrOp::Del(macs[1]),
            3 => MacaddrOp::Flush,
            _ => MacaddrOp::Set(vec![macs[4]]),
        };
        let (what, kernel, model) = match (ids.get(name).copied(), pick(6)) {
            (None, _) => {
                let mut req = NewMacvlanLink::new(name, "veth0");
                if pick(6) > 0 {
                    req = req.mode(modes[pick(modes.len())]);
                }
                let address = (pick(2) == 0).then(|| macs[pick(macs.len())]);
                if let Some(a) = address {
                    req = req.address(a);
                }
                if pick(3) == 0 {
                    req = req.mtu(mtus[pick(mtus.len())]);
                }
                if pick(4) == 0 {
                    req = req.macaddr(sources.clone());
                }
                if pick(4) == 0 {
                    req = req.flags(Flags::NOPROMISC);
                }
                let kernel = lab.nl.create_macvlan(&req);
                // The kernel picks an address when the request has none.
                let chosen = match (&kernel, address) {
                    (Ok(()), None) => lab.nl.link(name).unwrap().address.unwrap(),
                    (_, a) => a.unwrap_or(mac("02:00:00:00:00:77")),
                };
                let model = port
                    .create(mvl_core::NewMacvlan {
                        name: name.to_string(),
                        mac: chosen,
                        mtu: req.mtu,
                        macvlan: req.macvlan.clone(),
                    })
                    .map(|id| {
                        ids.insert(name, id);
                    });
                (req.words(), kernel, model)
            }
            (Some(id), op) => {
                let mut change = LinkChange::default();
                let model = match op {
                    0 => {
                        let a = macs[pick(macs.len())];
                        change.address = Some(a);
                        port.set_mac(id, a).map(drop)
                    }
                    1 => {
                        let m = mtus[pick(mtus.len())];
                        change.mtu = Some(m);
                        port.set_mtu(id, m)
                    }
                    2 => {
                        change.up = Some(true);
                        port.open(id)
                    }
                    3 => {
                        change.up = Some(false);
                        port.stop(id)
                    }
                    4 => {
                        let c = match pick(3) {
                            0 => MacvlanChange {
                                mode: Some(modes[pick(modes.len())]),
                                ..Default::default()
                            },
                            1 => MacvlanChange {
                                macaddr: Some(sources),
                                ..Default::default()
                            },
                            _ => MacvlanChange {
                                flags: Some(if pick(2) == 0 {
                                    Flags::NOPROMISC
                                } else {
                                    Flags::NONE
                                }),
                                ..Default::default()
                            },
                        };
                        change.macvlan = Some(c.clone());
                        port.change(id, &c)
                    }
                    _ => {
                        let kernel = lab.nl.delete_link(name);
                        let model = port.delete(id).map(drop);
                        ids.remove(name);
                        assert!(
                            kernel.is_ok() && model.is_ok(),
                            "seed {start:#x} step {step}: delete {name}"
                        );
                        continue;
                    }
                };
                let kernel = lab.nl.set_link(name, &change);
                (format!("set {name} {}", change.words()), kernel, model)
            }
        };
        match (&kernel, &model) {
            (Ok(()), Ok(())) => accepted += 1,
            (Err(k), Err(m)) => {
                refused += 1;
                assert_eq!(
                    k.errno(),
                    Some(m.errno().code()),
                    "seed {start:#x} step {step}: {what}: {k} / {m}"
                );
                assert_eq!(
                    k.cause(),
                    Some(&Cause::Rule(m.clone())),
                    "seed {start:#x} step {step}: {what}: {k}"
                );
            }
            _ => {
                panic!("seed {start:#x} step {step}: {what}: the kernel says {kernel:?}, the core {model:?}")
            }
        }
        for (&n, &id) in &ids {
            let l = lab.nl.link(n).unwrap();
            let i = port.info(id).unwrap();
            let mode = l.macvlan.as_ref().and_then(|m| m.mode);
            assert_eq!(
                (l.address, mode, l.mtu, l.is_up()),
                (Some(i.mac), Some(i.mode), Some(i.mtu), i.up),
                "seed {start:#x} step {step}: {what}: {n}"
            );
        }
        let lower_now = lab.nl.link("veth0").unwrap().address;
        assert_eq!(
            lower_now,
            Some(port.lower().mac),
            "seed {start:#x} step {step}: {what}: the lower's MAC"
        );
    }
    assert!(
        accepted > 50 && refused > 50,
        "{accepted} accepted, {refused} refused"
    );
}
