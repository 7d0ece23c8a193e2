//! The userspace datapath on real devices, in private network namespaces.
//! Needs root (CI is root); elsewhere each test is ignored ("needs root").

use std::process::Command;
use std::sync::Arc;

use mvl_core::{MacaddrOp, MacvlanChange, Mode};
use mvl_datapath::{AddRequest, DevSpec, Engine, Monitor, Options, SetRequest};
use mvl_netlink::{NetNs, Netlink};

/// A private namespace and the path that names it to the engine.
struct Ns {
    ns: NetNs,
    path: String,
}

impl Ns {
    fn new() -> Ns {
        let ns = NetNs::new_private().unwrap();
        let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&ns));
        let n = Ns { ns, path };
        n.sh("ip link set lo up");
        n
    }

    /// Runs a shell command inside the namespace; returns its exit status.
    fn sh(&self, cmd: &str) -> i32 {
        self.ns
            .run(|| {
                Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .status()
                    .unwrap()
                    .code()
                    .unwrap_or(-1)
            })
            .unwrap()
    }

    fn out(&self, cmd: &str) -> String {
        self.ns
            .run(|| {
                String::from_utf8(Command::new("sh").arg("-c").arg(cmd).output().unwrap().stdout).unwrap()
            })
            .unwrap()
    }

    fn spec(&self, name: &str) -> DevSpec {
        DevSpec {
            netns: Some(self.path.clone()),
            name: name.into(),
        }
    }
}

/// A "switch" namespace with `wire` (10.9.0.254) cabled to `lower` in the host namespace.
fn topology() -> (Ns, Ns) {
    let host = Ns::new();
    let sw = Ns::new();
    let mut nl = Netlink::open_in(&host.ns).unwrap();
    nl.add_veth("lower", "wire").unwrap();
    nl.set_netns("wire", &sw.ns).unwrap();
    nl.set_up("lower", true).unwrap();
    assert_eq!(
        sw.sh("ip addr add 10.9.0.254/24 dev wire && ip link set wire up"),
        0
    );
    (host, sw)
}

fn add(engine: &Engine, host: &Ns, name: &str, guest: &Ns, mode: &str, ip: &str) {
    engine
        .add(&AddRequest {
            name: name.into(),
            link: host.spec("lower"),
            netns: Some(guest.path.clone()),
            macvlan: MacvlanChange {
                mode: Some(mode.parse::<Mode>().unwrap()),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
    assert_eq!(guest.sh(&format!("ip addr add {ip}/24 dev {name}")), 0);
    engine
        .set(&SetRequest {
            dev: guest.spec(name),
            up: Some(true),
            ..Default::default()
        })
        .unwrap();
}

fn ping(from: &Ns, to: &str) -> bool {
    from.sh(&format!("ping -c 1 -W 1 {to} >/dev/null 2>&1")) == 0
}

#[test]
#[ignore = "needs root"]
fn children_reach_the_wire_and_bridge_siblings_reach_each_other() {
    let (host, sw) = topology();
    let (g1, g2, g3) = (Ns::new(), Ns::new(), Ns::new());
    let engine = Arc::new(Engine::new(Options::default()).unwrap());
    add(&engine, &host, "c1", &g1, "bridge", "10.9.0.1");
    add(&engine, &host, "c2", &g2, "bridge", "10.9.0.2");
    add(&engine, &host, "c3", &g3, "vepa", "10.9.0.3");
    assert!(ping(&g1, "10.9.0.254"), "child to the wire");
    assert!(ping(&sw, "10.9.0.2"), "wire to child");
    assert!(ping(&g1, "10.9.0.2"), "bridge siblings");
    assert!(!ping(&g1, "10.9.0.3"), "vepa sibling needs a hairpin");
    // The lower's own stack never sees what the children send or get.
    assert_eq!(host.sh("ip addr add 10.9.0.100/24 dev lower"), 0);
    assert!(!ping(&g1, "10.9.0.100"), "a macvlan cannot reach its parent");
    let st = engine.show(Some(&g1.spec("c1"))).unwrap().remove(0);
    assert!(
        st.stats.tx_packets >= 4 && st.stats.rx_packets >= 4,
        "{:?}",
        st.stats
    );
    assert_eq!(st.mode, Mode::Bridge);
    assert!(st.up && st.carrier);
    // The unicast filter holds each up child's MAC.
    let uc = host.out("ip -d link show lower");
    assert!(
        uc.contains("promiscuity 1"),
        "veth has no unicast filter, so it goes promiscuous: {uc}"
    );
    engine.del(&g2.spec("c2")).unwrap();
    assert_ne!(g2.sh("ip link show c2 >/dev/null 2>&1"), 0, "the TAP is gone");
    assert!(engine.show(Some(&g2.spec("c2"))).is_err());
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn the_kernels_rules_and_errors_apply() {
    let (host, _sw) = topology();
    let g1 = Ns::new();
    let engine = Engine::new(Options::default()).unwrap();
    engine
        .add(&AddRequest {
            name: "c1".into(),
            link: host.spec("lower"),
            netns: Some(g1.path.clone()),
            address: Some("02:00:00:00:00:01".into()),
            ..Default::default()
        })
        .unwrap();
    engine
        .add(&AddRequest {
            name: "c2".into(),
            link: host.spec("lower"),
            netns: Some(g1.path.clone()),
            address: Some("02:00:00:00:00:01".into()),
            ..Default::default()
        })
        .unwrap();
    engine
        .set(&SetRequest {
            dev: g1.spec("c1"),
            up: Some(true),
            ..Default::default()
        })
        .unwrap();
    let e = engine
        .set(&SetRequest {
            dev: g1.spec("c2"),
            up: Some(true),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.errno(), Some(98), "{e}");
    assert!(
        g1.out("ip link show c2").contains("state DOWN"),
        "nothing changed"
    );
    let e = engine
        .add(&AddRequest {
            name: "c1".into(),
            link: host.spec("lower"),
            netns: Some(g1.path.clone()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.errno(), Some(17), "{e}");
    let e = engine
        .add(&AddRequest {
            name: "c3".into(),
            link: host.spec("nosuch"),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "Cannot find device \"nosuch\"");
    let e = engine
        .add(&AddRequest {
            name: "c3".into(),
            link: host.spec("lower"),
            mtu: Some(9000),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.errno(), Some(22));
    assert!(
        e.to_string().contains("9000") && e.to_string().contains("1500"),
        "{e}"
    );
    assert_ne!(host.sh("ip link show c3 >/dev/null 2>&1"), 0, "nothing created");
    // Stacking: a child on a child joins the real lower.
    engine
        .add(&AddRequest {
            name: "c4".into(),
            link: g1.spec("c1"),
            netns: Some(g1.path.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(engine.show(Some(&g1.spec("c4"))).unwrap()[0].lower.name, "lower");
    // A lower with children stays out of bridges.
    assert!(engine
        .check_enslave(&host.spec("lower"), "br0")
        .unwrap_err()
        .to_string()
        .contains("c1"));
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn carrier_follows_the_lower_and_a_deleted_lower_takes_its_children() {
    let (host, sw) = topology();
    let g1 = Ns::new();
    let engine = Arc::new(Engine::new(Options::default()).unwrap());
    let _monitor = Monitor::start(engine.clone()).unwrap();
    add(&engine, &host, "c1", &g1, "bridge", "10.9.0.1");
    assert!(ping(&g1, "10.9.0.254"));
    assert_eq!(sw.sh("ip link set wire down"), 0);
    let mut seen = String::new();
    for _ in 0..50 {
        seen = g1.out("ip link show c1");
        if seen.contains("NO-CARRIER") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(seen.contains("NO-CARRIER"), "{seen}");
    assert_eq!(sw.sh("ip link set wire up"), 0);
    for _ in 0..50 {
        if ping(&g1, "10.9.0.254") {
            break;
        }
    }
    assert!(ping(&g1, "10.9.0.254"), "carrier back");
    assert_eq!(host.sh("ip link del lower"), 0);
    let mut gone = false;
    for _ in 0..50 {
        if g1.sh("ip link show c1 >/dev/null 2>&1") != 0 {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(gone, "the child went with its lower");
    assert!(engine.show(None).unwrap().is_empty());
}

#[test]
#[ignore = "needs root"]
fn a_restart_finds_the_children_again() {
    let (host, _sw) = topology();
    let g1 = Ns::new();
    let dir = std::env::temp_dir().join(format!("mvl-dp-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = Options {
        state_dir: Some(dir.clone()),
        ..Default::default()
    };
    {
        let engine = Engine::new(opts.clone()).unwrap();
        add(&engine, &host, "c1", &g1, "bridge", "10.9.0.1");
        assert!(ping(&g1, "10.9.0.254"));
        engine.shutdown();
    }
    assert!(
        g1.out("ip addr show c1").contains("10.9.0.1/24"),
        "the TAP and its address stay"
    );
    assert!(!ping(&g1, "10.9.0.254"), "no forwarding while the engine is down");
    let engine = Engine::new(opts).unwrap();
    assert!(ping(&g1, "10.9.0.254"), "forwarding resumes");
    let st = engine.show(None).unwrap();
    assert_eq!(st.len(), 1);
    assert!(st[0].up);
    engine.del(&g1.spec("c1")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs root"]
fn spoofchk_drops_and_counts_frames_with_a_foreign_source() {
    let (host, _sw) = topology();
    let g1 = Ns::new();
    let engine = Engine::new(Options::default()).unwrap();
    add(&engine, &host, "c1", &g1, "vepa", "10.9.0.1");
    let mac: mvl_core::MacAddr = engine.show(Some(&g1.spec("c1"))).unwrap()[0]
        .address
        .parse()
        .unwrap();
    let ifindex = Netlink::open_in(&g1.ns).unwrap().index_of("c1").unwrap();
    // A packet socket inside the guest sends frames as any program there could.
    let sock = g1
        .ns
        .run(|| mvl_datapath::packet::PacketSocket::open(ifindex, false).unwrap())
        .unwrap();
    let frame = |src: mvl_core::MacAddr| {
        let mut f = vec![0u8; 60];
        mvl_core::wire::write_header(&mut f, mvl_core::MacAddr::BROADCAST, src, 0x88b5);
        f
    };
    let spoofed = mvl_core::MacAddr([0x02, 0xde, 0xad, 0, 0, 1]);
    let drops = |e: &Engine| {
        e.show(None).unwrap()[0]
            .stats
            .drops
            .get("spoofed_source")
            .copied()
            .unwrap_or(0)
    };
    let tx = |e: &Engine| e.show(None).unwrap()[0].stats.tx_packets;
    // Off (the kernel's behaviour): a spoofed frame goes out.
    let before = tx(&engine);
    sock.send(&[], &frame(spoofed)).unwrap();
    let wait = |f: &dyn Fn() -> bool| {
        for _ in 0..100 {
            if f() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        false
    };
    assert!(wait(&|| tx(&engine) > before), "sent while spoofchk is off");
    assert_eq!(drops(&engine), 0);
    engine
        .set(&SetRequest {
            dev: g1.spec("c1"),
            spoofchk: Some(true),
            ..Default::default()
        })
        .unwrap();
    sock.send(&[], &frame(spoofed)).unwrap();
    assert!(wait(&|| drops(&engine) == 1), "dropped and counted when on");
    let sent = tx(&engine);
    sock.send(&[], &frame(mac)).unwrap();
    assert!(wait(&|| tx(&engine) > sent), "its own MAC still goes out");
    assert!(engine.show(None).unwrap()[0].spoofchk);
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn deleting_a_passthru_child_restores_the_lowers_mac() {
    let (host, _sw) = topology();
    let g1 = Ns::new();
    assert_eq!(host.sh("ip link set lower address 02:aa:00:00:00:01"), 0);
    let engine = Engine::new(Options::default()).unwrap();
    let lower_mac = || {
        let out = host.out("ip link show lower");
        out.split("link/ether ").nth(1).unwrap()[..17].to_string()
    };
    let passthru = |name: &str| AddRequest {
        name: name.into(),
        link: host.spec("lower"),
        netns: Some(g1.path.clone()),
        macvlan: MacvlanChange {
            mode: Some(Mode::Passthru),
            ..Default::default()
        },
        ..Default::default()
    };
    // Through the engine, as `mvl link set pt address` does it.
    engine.add(&passthru("pt")).unwrap();
    engine
        .set(&SetRequest {
            dev: g1.spec("pt"),
            up: Some(true),
            ..Default::default()
        })
        .unwrap();
    engine
        .set(&SetRequest {
            dev: g1.spec("pt"),
            address: Some("02:bb:00:00:00:02".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        lower_mac(),
        "02:bb:00:00:00:02",
        "passthru: the MAC is the lower's"
    );
    // The engine looks at the lower again: its own change is not someone else's.
    engine.reconcile().unwrap();
    engine.del(&g1.spec("pt")).unwrap();
    assert_eq!(lower_mac(), "02:aa:00:00:00:01", "restored, as the kernel does");

    // With `ip` on the child, as a person does it.
    engine.add(&passthru("pt")).unwrap();
    assert_eq!(
        g1.sh("ip link set pt up && ip link set pt address 02:cc:00:00:00:03"),
        0
    );
    engine.reconcile().unwrap();
    assert_eq!(lower_mac(), "02:cc:00:00:00:03", "the lower took the child's MAC");
    engine.reconcile().unwrap();
    engine.del(&g1.spec("pt")).unwrap();
    assert_eq!(
        lower_mac(),
        "02:aa:00:00:00:01",
        "restored after a change made with ip"
    );
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn a_source_child_gets_frames_from_a_listed_mac_sent_to_the_lowers_mac() {
    let (host, sw) = topology();
    let g1 = Ns::new();
    let mac_of = |ns: &Ns, dev: &str| {
        let out = ns.out(&format!("ip link show {dev}"));
        out.split("link/ether ").nth(1).unwrap()[..17].to_string()
    };
    let (wire_mac, lower_mac) = (mac_of(&sw, "wire"), mac_of(&host, "lower"));
    let engine = Engine::new(Options::default()).unwrap();
    engine
        .add(&AddRequest {
            name: "s1".into(),
            link: host.spec("lower"),
            netns: Some(g1.path.clone()),
            macvlan: MacvlanChange {
                mode: Some(Mode::Source),
                macaddr: Some(MacaddrOp::Add(wire_mac.parse().unwrap())),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
    assert_eq!(g1.sh("ip addr add 10.9.0.1/24 dev s1 && ip link set s1 up"), 0);
    // The wire sends to the lower's MAC: the kernel gives the source child
    // its copy as addressed to it (PACKET_HOST), so it answers.
    assert_eq!(
        sw.sh(&format!("ip neigh replace 10.9.0.1 lladdr {lower_mac} dev wire")),
        0
    );
    assert!(
        (0..3).any(|_| ping(&sw, "10.9.0.1")),
        "the source child answers a frame sent to its lower's MAC"
    );
    engine.shutdown();
}

/// 16 MiB that a shifted or repeated piece would not match (xorshift).
fn test_bytes() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..1 << 21)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()
        })
        .collect()
}

/// Sends `data` over TCP from `from` to a listener in `to` at `addr`;
/// returns what the listener read. Both sockets are made inside their
/// namespaces before any byte moves, so nothing waits for the other.
fn tcp_transfer(from: &Ns, to: &Ns, addr: &str, data: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let listener = to
        .ns
        .run(|| std::net::TcpListener::bind("0.0.0.0:5201").unwrap())
        .unwrap();
    let mut client = from
        .ns
        .run(|| std::net::TcpStream::connect((addr, 5201)).unwrap())
        .unwrap();
    std::thread::scope(|s| {
        let sink = s.spawn(move || {
            let (mut c, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            c.read_to_end(&mut got).unwrap();
            got
        });
        client.write_all(data).unwrap();
        drop(client);
        sink.join().unwrap()
    })
}

#[test]
#[ignore = "needs root"]
fn large_tcp_transfers_arrive_intact_on_every_path() {
    // TSO super-frames from a TAP to the wire and to a sibling, and
    // GRO-coalesced frames from the wire to a TAP, through the batches.
    let (host, sw) = topology();
    let (g1, g2) = (Ns::new(), Ns::new());
    let engine = Engine::new(Options::default()).unwrap();
    add(&engine, &host, "c1", &g1, "bridge", "10.9.0.1");
    add(&engine, &host, "c2", &g2, "bridge", "10.9.0.2");
    let data = test_bytes();
    for (from, to, addr, path) in [
        (&g1, &sw, "10.9.0.254", "child to wire"),
        (&sw, &g1, "10.9.0.1", "wire to child"),
        (&g1, &g2, "10.9.0.2", "sibling to sibling"),
    ] {
        let got = tcp_transfer(from, to, addr, &data);
        assert_eq!(got.len(), data.len(), "{path}");
        assert!(got == data, "{path}: the bytes differ");
    }
    for st in engine.show(None).unwrap() {
        assert_eq!(st.stats.errors, 0, "{}", st.name);
    }
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn udp_segmentation_offload_leaves_the_child_as_one_frame() {
    let (host, sw) = topology();
    let g1 = Ns::new();
    let engine = Engine::new(Options::default()).unwrap();
    add(&engine, &host, "c1", &g1, "bridge", "10.9.0.1");
    assert!(ping(&g1, "10.9.0.254"));
    let sink = sw
        .ns
        .run(|| std::net::UdpSocket::bind("0.0.0.0:5300").unwrap())
        .unwrap();
    sink.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let source = g1
        .ns
        .run(|| std::net::UdpSocket::bind("0.0.0.0:0").unwrap())
        .unwrap();
    // UDP_SEGMENT: the stack cuts each send into 1,400-byte datagrams.
    let seg: libc::c_int = 1400;
    // SAFETY: a valid socket, and a c_int option value with its size.
    let r = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&source),
            libc::SOL_UDP,
            libc::UDP_SEGMENT,
            &seg as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "UDP_SEGMENT");
    let tx = |e: &Engine| e.show(Some(&g1.spec("c1"))).unwrap()[0].stats.tx_packets;
    let before = tx(&engine);
    let data: Vec<u8> = (0..14_000u32).map(|i| (i % 251) as u8).collect();
    source.send_to(&data, "10.9.0.254:5300").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while got.len() < data.len() {
        let n = sink.recv(&mut buf).expect("the ten datagrams arrive");
        assert_eq!(n, 1400, "segmented on the way out");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got == data);
    let frames = tx(&engine) - before;
    assert!(
        frames < 10,
        "the TAP carried the send as one GSO frame, not ten: {frames}"
    );
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn a_capture_on_the_lower_sees_unicast_between_bridge_siblings() {
    // The kernel's macvlan passes such a frame through the lower's receive
    // path (dev_forward_skb(lowerdev)), so `tcpdump -i lower` shows it.
    let (host, _sw) = topology();
    let (g1, g2) = (Ns::new(), Ns::new());
    let engine = Engine::new(Options::default()).unwrap();
    add(&engine, &host, "c1", &g1, "bridge", "10.9.0.1");
    add(&engine, &host, "c2", &g2, "bridge", "10.9.0.2");
    let mac = |g: &Ns, n: &str| -> mvl_core::MacAddr {
        engine.show(Some(&g.spec(n))).unwrap()[0].address.parse().unwrap()
    };
    let (m1, m2) = (mac(&g1, "c1"), mac(&g2, "c2"));
    assert!(ping(&g1, "10.9.0.2"), "resolved and reachable");
    // A packet tap on the lower, as tcpdump opens one.
    let ifindex = Netlink::open_in(&host.ns).unwrap().index_of("lower").unwrap();
    let tap = host
        .ns
        .run(|| mvl_datapath::packet::PacketSocket::open(ifindex, false).unwrap())
        .unwrap();
    assert!(ping(&g1, "10.9.0.2"));
    let (mut bufs, mut lens) = (vec![vec![0u8; 2048]; 64], vec![0usize; 64]);
    let mut seen = Vec::new();
    while let Ok(n) = tap.recv_batch(&mut bufs, &mut lens) {
        if n == 0 {
            break;
        }
        for (b, &l) in bufs.iter().zip(&lens).take(n) {
            let f = mvl_core::wire::EthFrame::new_checked(&b[..l]).unwrap();
            // IPv4, ICMP (protocol byte 23 of the frame).
            if f.ethertype() == 0x0800 && b[23] == 1 {
                seen.push((f.src(), f.dst()));
            }
        }
    }
    assert!(seen.contains(&(m1, m2)), "the echo request: {seen:?}");
    assert!(seen.contains(&(m2, m1)), "the echo reply: {seen:?}");
    // Each once, as received: nothing also went out to the wire.
    assert_eq!(seen.len(), 2, "{seen:?}");
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn the_clsact_qdisc_the_engine_made_goes_with_the_last_child() {
    let (host, _sw) = topology();
    let g = Ns::new();
    let engine = Engine::new(Options::default()).unwrap();
    let qdiscs = || host.out("tc qdisc show dev lower");
    add(&engine, &host, "c1", &g, "bridge", "10.9.0.1");
    assert!(qdiscs().contains("clsact"), "{}", qdiscs());
    engine.del(&g.spec("c1")).unwrap();
    assert!(!qdiscs().contains("clsact"), "{}", qdiscs());
    // One that was there before stays, without our filters.
    assert_eq!(host.sh("tc qdisc add dev lower clsact"), 0);
    add(&engine, &host, "c1", &g, "private", "10.9.0.1");
    let filters = || host.out("tc filter show dev lower ingress; tc filter show dev lower egress");
    assert!(filters().contains("mvl_"), "{}", filters());
    engine.del(&g.spec("c1")).unwrap();
    assert!(qdiscs().contains("clsact"), "{}", qdiscs());
    assert!(!filters().contains("mvl_"), "{}", filters());
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn a_broadcast_no_queue_takes_is_counted_on_the_port() {
    let (host, sw) = topology();
    let g = Ns::new();
    let engine = Engine::new(Options::default()).unwrap();
    engine
        .add(&AddRequest {
            name: "c1".into(),
            link: host.spec("lower"),
            netns: Some(g.path.clone()),
            macvlan: MacvlanChange {
                mode: Some(Mode::Bridge),
                bc_queue_len: Some(0),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
    engine
        .set(&SetRequest {
            dev: g.spec("c1"),
            up: Some(true),
            ..Default::default()
        })
        .unwrap();
    let refused = || {
        engine
            .lower_stats()
            .iter()
            .find(|(name, _)| name == "lower")
            .and_then(|(_, s)| s.drops.get("bc_queue_zero").copied())
            .unwrap_or(0)
    };
    assert_eq!(refused(), 0);
    // A broadcast from the wire: every queue is 0 long, so no child gets it
    // (the kernel counts it on the lower's rx_dropped; the port counts it).
    sw.sh("ping -b -c 1 -W 1 10.9.0.255 >/dev/null 2>&1");
    assert!(refused() >= 1, "{:?}", engine.lower_stats());
    engine.shutdown();
}

#[test]
#[ignore = "needs root"]
fn bclim_is_saved_with_every_child_of_the_port() {
    let (host, _sw) = topology();
    let (g1, g2) = (Ns::new(), Ns::new());
    let dir = std::env::temp_dir().join(format!("mvl-bclim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Engine::new(Options {
        state_dir: Some(dir.clone()),
        ..Default::default()
    })
    .unwrap();
    add(&engine, &host, "c1", &g1, "bridge", "10.9.0.1");
    add(&engine, &host, "c2", &g2, "bridge", "10.9.0.2");
    for (dev, bclim) in [(g2.spec("c2"), 7), (g1.spec("c1"), 5)] {
        engine
            .set(&SetRequest {
                dev,
                macvlan: Some(MacvlanChange {
                    bc_cutoff: Some(bclim),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .unwrap();
    }
    // The port has one bclim, the last set: every child's file says so.
    let files: Vec<String> = std::fs::read_dir(dir.join("children"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f.contains("\"bclim\": 5")), "{files:?}");
    engine.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
