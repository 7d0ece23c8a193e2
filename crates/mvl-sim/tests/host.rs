//! The emulated host's Linux behaviour, one test per behaviour.

use mvl_core::{Errno, MacAddr, Mode};
use mvl_iproute2::cmd::{
    Ipv4Net, LinkAdd, LinkSet, LinkShow, MacvlanChange, NeighNud, NeighOp, NeighSet, NewKind, Ping,
};
use mvl_sim::time::Duration;
use mvl_sim::{NsId, Sim};

fn veth(sim: &mut Sim, ns: NsId, a: &str, b: &str) {
    let req = LinkAdd {
        warnings: Vec::new(),
        name: Some(a.into()),
        address: None,
        mtu: None,
        netns: None,
        kind: NewKind::Veth {
            peer: Some(b.into()),
            peer_address: None,
            peer_mtu: None,
            peer_netns: None,
        },
    };
    sim.link_add(ns, &req).unwrap();
}

fn macvlan(sim: &mut Sim, ns: NsId, name: &str, link: &str, mode: Mode) -> Result<(), mvl_sim::SimError> {
    let opts = MacvlanChange {
        mode: Some(mode),
        ..Default::default()
    };
    let req = LinkAdd {
        warnings: Vec::new(),
        name: Some(name.into()),
        address: None,
        mtu: None,
        netns: None,
        kind: NewKind::Macvlan {
            link: Some(link.into()),
            opts,
        },
    };
    sim.link_add(ns, &req)
}

fn set(sim: &mut Sim, ns: NsId, dev: &str, f: impl FnOnce(&mut LinkSet)) -> Result<(), mvl_sim::SimError> {
    let mut s = LinkSet {
        dev: dev.into(),
        ..Default::default()
    };
    f(&mut s);
    sim.link_set(ns, &s)
}

fn up(sim: &mut Sim, ns: NsId, dev: &str) {
    set(sim, ns, dev, |s| s.up = Some(true)).unwrap();
}

fn addr(sim: &mut Sim, ns: NsId, cidr: &str, dev: &str) {
    sim.addr_add(ns, cidr.parse::<Ipv4Net>().unwrap(), dev).unwrap();
}

fn ping(sim: &mut Sim, ns: NsId, to: &str, wait: f64) -> mvl_sim::PingOutcome {
    let p = Ping {
        count: Some(1),
        wait: Some(wait),
        ..Ping::to(to.parse().unwrap())
    };
    sim.ping(ns, &p, true)
}

fn show(sim: &mut Sim, ns: NsId, dev: &str) -> String {
    sim.link_show(
        ns,
        &LinkShow {
            dev: Some(dev.into()),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Two namespaces joined by a veth pair, 10.0.0.1 and 10.0.0.2.
fn pair() -> (Sim, NsId, NsId) {
    let mut sim = Sim::new(3);
    sim.netns_add("a").unwrap();
    sim.netns_add("b").unwrap();
    let (a, b) = (sim.netns(Some("a")).unwrap(), sim.netns(Some("b")).unwrap());
    veth(&mut sim, a, "va", "vb");
    set(&mut sim, a, "vb", |s| s.netns = Some("b".into())).unwrap();
    addr(&mut sim, a, "10.0.0.1/24", "va");
    addr(&mut sim, b, "10.0.0.2/24", "vb");
    up(&mut sim, a, "va");
    up(&mut sim, b, "vb");
    (sim, a, b)
}

#[test]
fn ping_across_a_veth_and_arp_states() {
    let (mut sim, a, b) = pair();
    let o = ping(&mut sim, a, "10.0.0.2", 1.0);
    assert_eq!(o.exit_code, 0, "{}", o.output);
    assert!(o.output.contains("64 bytes from 10.0.0.2: icmp_seq=1 ttl=64"));
    assert!(o
        .output
        .contains("1 packets transmitted, 1 received, 0% packet loss"));
    assert!(
        sim.neigh_show(a, Default::default())
            .contains("10.0.0.2 dev va lladdr"),
        "{}",
        sim.neigh_show(a, Default::default())
    );
    assert!(sim.neigh_show(a, Default::default()).contains("REACHABLE"));
    // The responder learned the requester from its ARP request.
    assert!(sim
        .neigh_show(b, Default::default())
        .contains("10.0.0.1 dev vb lladdr"));
    sim.sleep(Duration::secs(60));
    assert!(
        sim.neigh_show(a, Default::default()).contains("STALE"),
        "{}",
        sim.neigh_show(a, Default::default())
    );
}

fn neigh(op: NeighOp, addr: &str, lladdr: Option<&str>, dev: &str, nud: NeighNud) -> NeighSet {
    NeighSet {
        op,
        addr: addr.parse().unwrap(),
        lladdr: lladdr.map(|m| m.parse().unwrap()),
        dev: dev.into(),
        nud,
    }
}

#[test]
fn static_neighbours_as_ip_neigh_writes_them() {
    let (mut sim, a, b) = pair();
    let vb_mac = show(&mut sim, b, "vb")
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap()
        .to_string();
    let wrong = "02:00:00:00:00:99";
    let add = |op, ll: Option<&str>, nud| neigh(op, "10.0.0.2", ll, "va", nud);

    // A permanent entry with a wrong address: no ARP, so no reply. Nor
    // does b's ARP request correct it, so a answers b's ping to the wrong MAC.
    sim.neigh_set_cmd(a, &add(NeighOp::Add, Some(wrong), NeighNud::Permanent))
        .unwrap();
    assert_eq!(ping(&mut sim, a, "10.0.0.2", 1.0).exit_code, 1);
    assert_eq!(ping(&mut sim, b, "10.0.0.1", 1.0).exit_code, 1);
    assert!(
        sim.neigh_show(b, Default::default())
            .contains("10.0.0.1 dev vb lladdr"),
        "b learned a's MAC from its reply"
    );
    assert!(sim
        .neigh_show(a, Default::default())
        .contains(&format!("10.0.0.2 dev va lladdr {wrong} PERMANENT")));
    sim.neigh_flush_cmd(a, None).unwrap();
    assert!(
        sim.neigh_show(a, Default::default()).contains("PERMANENT"),
        "{}",
        sim.neigh_show(a, Default::default())
    );

    // add refuses an existing entry; replace and change overwrite it.
    let e = sim
        .neigh_set_cmd(a, &add(NeighOp::Add, Some(&vb_mac), NeighNud::Permanent))
        .unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EEXIST));
    assert_eq!(
        e.to_string(),
        "RTNETLINK answers: File exists (va has an entry for 10.0.0.2; replace overwrites it)"
    );
    sim.neigh_set_cmd(a, &add(NeighOp::Replace, Some(&vb_mac), NeighNud::Permanent))
        .unwrap();
    assert_eq!(ping(&mut sim, a, "10.0.0.2", 1.0).exit_code, 0);
    // change without an address keeps the one it has.
    sim.neigh_set_cmd(a, &add(NeighOp::Change, None, NeighNud::Stale))
        .unwrap();
    assert!(
        sim.neigh_show(a, Default::default())
            .contains(&format!("lladdr {vb_mac} STALE")),
        "{}",
        sim.neigh_show(a, Default::default())
    );

    // del removes it; a second del, a change of a missing entry, and an
    // entry with no address anywhere are refused.
    sim.neigh_del_cmd(a, "10.0.0.2".parse().unwrap(), "va").unwrap();
    assert!(!sim.neigh_show(a, Default::default()).contains("10.0.0.2"));
    let e = sim
        .neigh_del_cmd(a, "10.0.0.2".parse().unwrap(), "va")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "RTNETLINK answers: No such file or directory (va has no entry for 10.0.0.2)"
    );
    let e = sim
        .neigh_set_cmd(a, &add(NeighOp::Change, Some(wrong), NeighNud::Permanent))
        .unwrap_err();
    assert_eq!(e.errno(), Some(Errno::ENOENT));
    let e = sim
        .neigh_set_cmd(a, &add(NeighOp::Replace, None, NeighNud::Permanent))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Error: No link layer address given. (va: 10.0.0.2 is not resolved; give lladdr)"
    );
    assert!(
        sim.neigh_show(a, Default::default()).is_empty(),
        "refusals leave nothing: {}",
        sim.neigh_show(a, Default::default())
    );
    let e = sim.neigh_set_cmd(
        a,
        &neigh(NeighOp::Add, "10.0.0.3", Some(wrong), "nope", NeighNud::Permanent),
    );
    assert!(matches!(e, Err(mvl_sim::SimError::NoDevice(_))));

    // Taking the device down forgets even permanent entries, as the kernel does.
    sim.neigh_set_cmd(a, &add(NeighOp::Add, Some(&vb_mac), NeighNud::Permanent))
        .unwrap();
    set(&mut sim, a, "va", |s| s.up = Some(false)).unwrap();
    assert!(
        sim.neigh_show(a, Default::default()).is_empty(),
        "{}",
        sim.neigh_show(a, Default::default())
    );
}

#[test]
fn unanswered_arp_fails_after_three_probes() {
    let (mut sim, a, _) = pair();
    let start = sim.now();
    let o = ping(&mut sim, a, "10.0.0.3", 5.0);
    assert_eq!(o.exit_code, 1);
    assert!(
        o.output
            .contains("From 10.0.0.1 icmp_seq=1 Destination Host Unreachable"),
        "{}",
        o.output
    );
    assert!(o
        .output
        .contains("1 packets transmitted, 0 received, +1 errors, 100% packet loss"));
    assert_eq!(
        sim.now() - start,
        Duration::secs(3),
        "three probes a second apart, then FAILED"
    );
    assert_eq!(sim.neigh_show(a, Default::default()), "10.0.0.3 dev va FAILED \n");
    let why = &o.trace.unwrap()[0];
    assert!(
        why.starts_with("why no reply: no ARP reply for 10.0.0.3"),
        "{why}"
    );
}

#[test]
fn ping_errors_like_iputils() {
    let (mut sim, a, _) = pair();
    let o = ping(&mut sim, a, "10.9.9.9", 1.0);
    assert_eq!(
        (o.exit_code, o.output.as_str()),
        (2, "ping: connect: Network is unreachable")
    );
    let o = ping(&mut sim, a, "10.0.0.255", 1.0);
    assert_eq!(o.exit_code, 2);
    assert!(o.output.contains("Then -b"));
    // Local addresses go through lo, which starts down.
    assert_eq!(ping(&mut sim, a, "10.0.0.1", 1.0).exit_code, 1);
    up(&mut sim, a, "lo");
    assert_eq!(ping(&mut sim, a, "10.0.0.1", 1.0).exit_code, 0);
    assert_eq!(ping(&mut sim, a, "127.0.0.1", 1.0).exit_code, 0);
}

#[test]
fn carrier_and_operstate_as_iproute2_shows_them() {
    let mut sim = Sim::new(1);
    let root = sim.root();
    veth(&mut sim, root, "v1", "v2");
    assert!(
        show(&mut sim, root, "v1").contains("<BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN")
    );
    up(&mut sim, root, "v1");
    let s = show(&mut sim, root, "v1");
    assert!(s.starts_with("3: v1@v2: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN"), "{s}");
    up(&mut sim, root, "v2");
    assert!(show(&mut sim, root, "v1")
        .contains("<BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP"));
    macvlan(&mut sim, root, "mv", "v2", Mode::Bridge).unwrap();
    up(&mut sim, root, "mv");
    assert!(show(&mut sim, root, "mv").contains("mv@v2: <BROADCAST,MULTICAST,UP,LOWER_UP>"));
    set(&mut sim, root, "v1", |s| s.up = Some(false)).unwrap();
    let s = show(&mut sim, root, "mv");
    assert!(
        s.contains("<NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state LOWERLAYERDOWN"),
        "{s}"
    );
    set(&mut sim, root, "v2", |s| s.up = Some(false)).unwrap();
    assert!(
        show(&mut sim, root, "mv").contains("UP,M-DOWN>"),
        "the lower is down"
    );
}

#[test]
fn deleting_lowers_and_namespaces_takes_their_devices() {
    let (mut sim, a, b) = pair();
    macvlan(&mut sim, b, "mv1", "vb", Mode::Bridge).unwrap();
    set(&mut sim, b, "mv1", |s| s.netns = Some("a".into())).unwrap();
    assert!(sim.link_show(a, &LinkShow::default()).unwrap().contains("mv1@if"));
    // Deleting the namespace of the lower deletes the lower, its peer, and its macvlan in "a".
    sim.netns_del("b").unwrap();
    let left = sim.link_show(a, &LinkShow::default()).unwrap();
    assert!(!left.contains("mv1") && !left.contains("va"), "{left}");
    assert!(sim.netns(Some("b")).is_err());
    assert_eq!(sim.netns_list(), "a\n");
}

#[test]
fn lowers_with_macvlans_stay_out_of_bridges_and_vice_versa() {
    let mut sim = Sim::new(1);
    let root = sim.root();
    veth(&mut sim, root, "v1", "v2");
    sim.link_add(
        root,
        &LinkAdd {
            warnings: Vec::new(),
            name: Some("br0".into()),
            address: None,
            mtu: None,
            netns: None,
            kind: NewKind::Bridge,
        },
    )
    .unwrap();
    macvlan(&mut sim, root, "mv", "v1", Mode::Vepa).unwrap();
    let e = set(&mut sim, root, "v1", |s| s.master = Some(Some("br0".into()))).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EBUSY));
    assert!(e.to_string().contains("mv"), "{e}");
    set(&mut sim, root, "v2", |s| s.master = Some(Some("br0".into()))).unwrap();
    let e = macvlan(&mut sim, root, "mv2", "v2", Mode::Vepa).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EBUSY));
    assert!(e.to_string().contains("is a port of bridge br0"), "{e}");
    // A bridge device itself may carry macvlans.
    macvlan(&mut sim, root, "mvb", "br0", Mode::Bridge).unwrap();
}

#[test]
fn bridge_learning_hairpin_and_ageing() {
    let mut sim = Sim::new(5);
    let root = sim.root();
    sim.netns_add("h").unwrap();
    let h = sim.netns(Some("h")).unwrap();
    sim.link_add(
        root,
        &LinkAdd {
            warnings: Vec::new(),
            name: Some("br0".into()),
            address: None,
            mtu: None,
            netns: None,
            kind: NewKind::Bridge,
        },
    )
    .unwrap();
    veth(&mut sim, root, "p1", "e1");
    set(&mut sim, root, "p1", |s| s.master = Some(Some("br0".into()))).unwrap();
    set(&mut sim, root, "e1", |s| s.netns = Some("h".into())).unwrap();
    // Two macvlans in VEPA mode on the host's NIC, each in a namespace of
    // its own: they meet only through the switch's hairpin.
    for (n, ip) in [("m1", "10.1.0.1/24"), ("m2", "10.1.0.2/24")] {
        macvlan(&mut sim, h, n, "e1", Mode::Vepa).unwrap();
        sim.netns_add(n).unwrap();
        set(&mut sim, h, n, |s| s.netns = Some(n.into())).unwrap();
        let ns = sim.netns(Some(n)).unwrap();
        addr(&mut sim, ns, ip, n);
        up(&mut sim, ns, n);
    }
    let m1 = sim.netns(Some("m1")).unwrap();
    for d in ["p1", "br0"] {
        up(&mut sim, root, d);
    }
    up(&mut sim, h, "e1");
    let p = |sim: &mut Sim| {
        let req = Ping {
            count: Some(1),
            wait: Some(1.0),
            iface: Some("m1".into()),
            ..Ping::to("10.1.0.2".parse().unwrap())
        };
        sim.ping(m1, &req, false).exit_code
    };
    assert_eq!(p(&mut sim), 1, "no hairpin: VEPA siblings cannot meet");
    sim.bridge_hairpin(root, "p1", true).unwrap();
    assert_eq!(p(&mut sim), 0, "hairpin on");
    let fdb = sim.bridge_fdb_show(root);
    assert_eq!(
        fdb.matches("dev p1 master br0 \n").count(),
        2,
        "learned both macvlans: {fdb}"
    );
    // The last frame (a unicast ARP probe) left 5 s after the ping: wait past 300 s of silence.
    sim.sleep(Duration::secs(320));
    assert_eq!(
        sim.bridge_fdb_show(root).matches("dev p1 master br0 \n").count(),
        0,
        "aged out"
    );
    assert!(
        sim.bridge_hairpin(root, "e1", true).is_err(),
        "not a port of this namespace"
    );
}

#[test]
fn mtu_follows_the_lower_down_and_passthru_restores_the_mac() {
    let mut sim = Sim::new(1);
    let root = sim.root();
    veth(&mut sim, root, "v1", "v2");
    macvlan(&mut sim, root, "mv", "v1", Mode::Bridge).unwrap();
    set(&mut sim, root, "v1", |s| s.mtu = Some(1200)).unwrap();
    assert!(show(&mut sim, root, "mv").contains("mtu 1200"));
    set(&mut sim, root, "v1", |s| s.mtu = Some(9000)).unwrap();
    assert!(show(&mut sim, root, "mv").contains("mtu 1200"), "never raised");
    let e = set(&mut sim, root, "mv", |s| s.mtu = Some(9001)).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EINVAL));
    sim.link_del(root, "mv").unwrap();

    let before = show(&mut sim, root, "v1");
    macvlan(&mut sim, root, "pt", "v1", Mode::Passthru).unwrap();
    let mac: MacAddr = "02:00:00:00:00:99".parse().unwrap();
    set(&mut sim, root, "pt", |s| s.address = Some(mac)).unwrap();
    assert!(
        show(&mut sim, root, "v1").contains("02:00:00:00:00:99"),
        "the request went to the lower"
    );
    sim.link_del(root, "pt").unwrap();
    assert_eq!(show(&mut sim, root, "v1"), before, "restored");
}

#[test]
fn refusals_change_nothing_and_name_the_rule() {
    let mut sim = Sim::new(1);
    let root = sim.root();
    veth(&mut sim, root, "v1", "v2");
    let e = macvlan(&mut sim, root, "v2", "v1", Mode::Bridge).unwrap_err();
    assert_eq!(
        e.to_string(),
        "RTNETLINK answers: File exists (a device named v2 exists in root)"
    );
    let e = macvlan(&mut sim, root, "mv", "nosuch", Mode::Bridge).unwrap_err();
    assert_eq!(e.to_string(), "Cannot find device \"nosuch\"");
    let opts = MacvlanChange {
        mode: Some(Mode::Bridge),
        macaddr: Some(mvl_core::MacaddrOp::Add("02:00:00:00:00:01".parse().unwrap())),
        ..Default::default()
    };
    let req = LinkAdd {
        warnings: Vec::new(),
        name: Some("mv".into()),
        address: None,
        mtu: None,
        netns: None,
        kind: NewKind::Macvlan {
            link: Some("v1".into()),
            opts,
        },
    };
    let before = sim.link_show(root, &LinkShow::default()).unwrap();
    assert_eq!(sim.link_add(root, &req).unwrap_err().errno(), Some(Errno::EINVAL));
    assert_eq!(sim.link_show(root, &LinkShow::default()).unwrap(), before);
    let e = sim.link_add(
        root,
        &LinkAdd {
            warnings: Vec::new(),
            name: Some("mv".into()),
            address: None,
            mtu: None,
            netns: None,
            kind: NewKind::Macvlan {
                link: None,
                opts: MacvlanChange::default(),
            },
        },
    );
    assert!(e.unwrap_err().to_string().contains("needs \"link DEV\""));
}

#[test]
fn tcpdump_and_pcap() {
    let (mut sim, a, _) = pair();
    let cap = sim
        .tcpdump_start(a, "va", mvl_iproute2::Filter::Icmp, Some(1))
        .unwrap();
    assert_eq!(ping(&mut sim, a, "10.0.0.2", 1.0).exit_code, 0);
    let frames = sim.captured(cap);
    assert_eq!(frames.len(), 1, "-c 1 stops after one frame");
    let lines = mvl_sim::tcpdump_lines(frames, false);
    assert!(
        lines[0].contains("IP 10.0.0.1 > 10.0.0.2: ICMP echo request"),
        "{lines:?}"
    );
    let mut buf = Vec::new();
    mvl_sim::write_pcap(&mut buf, frames).unwrap();
    assert_eq!(buf.len(), 24 + 16 + frames[0].1.len());
}
