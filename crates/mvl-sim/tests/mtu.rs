//! Sizes, rule by rule: big pings in fragments and back whole, `-M do`
//! refused at the sender, a veth refusing a frame too big for its peer at
//! once (and ping trying again as iputils does), a router's "fragmentation
//! needed" and the path MTU its sender learns, and `-w` deadlines. Every
//! expected text was printed by iputils 20221126 on Linux 6.18 for the same
//! commands (round-trip times aside).

mod common;

use common::{ok, ping, routed, run};
use mvl_sim::Sim;

/// Hosts a (10.0.0.1, va) and b (10.0.0.2, vb) on one veth pair.
fn pair() -> Sim {
    let mut sim = Sim::new(3);
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
    sim
}

/// The counters line under `RX:` or `TX:` of `ip -s link show`.
fn counters(sim: &mut Sim, line: &str, which: &str) -> Vec<u64> {
    let out = run(sim, line).unwrap();
    let mut lines = out.lines();
    lines.find(|l| l.trim_start().starts_with(which)).expect(which);
    let nums = lines.next().unwrap();
    nums.split_whitespace().map(|n| n.parse().unwrap()).collect()
}

#[test]
fn a_big_ping_goes_in_pieces_and_comes_back_whole() {
    let mut sim = pair();
    let o = ping(&mut sim, "ip netns exec a ping -c 1 -W 1 -s 2000 10.0.0.2");
    assert_eq!(o.exit_code, 0, "{}", o.output);
    assert!(o
        .output
        .starts_with("PING 10.0.0.2 (10.0.0.2) 2000(2028) bytes of data.\n"));
    assert!(o
        .output
        .contains("\n2008 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time="));
    // Two pieces each way (1500 + 548 bytes of IP), after one ARP exchange.
    assert_eq!(
        counters(&mut sim, "ip -n a -s link show va", "TX:")[..2],
        [42 + 1514 + 562, 3]
    );
    assert_eq!(
        counters(&mut sim, "ip -n a -s link show va", "RX:")[..2],
        [42 + 1514 + 562, 3]
    );

    let o = ping(&mut sim, "ip netns exec a ping -c 2 -W 1 -M do -s 2000 10.0.0.2");
    assert_eq!(o.exit_code, 1);
    assert_eq!(
        o.output
            .lines()
            .filter(|l| *l == "ping: local error: message too long, mtu=1500")
            .count(),
        2,
        "{}",
        o.output
    );
    assert!(o
        .output
        .contains("2 packets transmitted, 0 received, +2 errors, 100% packet loss"));

    // Too little data for a timestamp: no times.
    let o = ping(&mut sim, "ip netns exec a ping -c 1 -W 1 -s 8 10.0.0.2");
    assert!(
        o.output.contains("\n16 bytes from 10.0.0.2: icmp_seq=1 ttl=64\n"),
        "{}",
        o.output
    );
    assert!(!o.output.contains("rtt"), "{}", o.output);
    assert!(o
        .output
        .starts_with("PING 10.0.0.2 (10.0.0.2) 8(36) bytes of data.\n"));
}

#[test]
fn a_veth_refuses_a_frame_too_big_for_its_peer_at_once() {
    let mut sim = pair();
    ok(&mut sim, "ip -n b link set vb mtu 1400");
    // A request queued for ARP leaves later, when nobody hears back: the
    // refusal reaches ping once the address is known.
    let o = ping(&mut sim, "ip netns exec a ping -c 1 -W 1 -s 1450 10.0.0.2");
    assert!(!o.output.contains("sendmsg"), "{}", o.output);
    assert_eq!(counters(&mut sim, "ip -n a -s link show va", "TX:")[3], 1);
    let o = ping(&mut sim, "ip netns exec a ping -c 2 -W 1 -s 1450 10.0.0.2");
    assert_eq!(o.exit_code, 1);
    assert_eq!(
        o.output
            .lines()
            .filter(|l| *l == "ping: sendmsg: No buffer space available")
            .count(),
        2,
        "{}",
        o.output
    );
    // Not errors: "+N errors" counts what came back.
    assert!(
        o.output
            .contains("\n2 packets transmitted, 0 received, 100% packet loss, time 2000ms\n"),
        "{}",
        o.output
    );
    // The first request is tried twice (until -W would run out), the
    // second once: three drops, on both ends of the pair.
    assert_eq!(counters(&mut sim, "ip -n a -s link show va", "TX:")[3], 1 + 3);
    assert_eq!(counters(&mut sim, "ip -n b -s link show vb", "RX:")[3], 1 + 3);
    // From b, whose own MTU is the smaller one, -M do is refused at once.
    let o = ping(&mut sim, "ip netns exec b ping -c 1 -W 1 -s 1450 -M do 10.0.0.1");
    assert!(
        o.output
            .contains("\nping: local error: message too long, mtu=1400\n"),
        "{}",
        o.output
    );
}

#[test]
fn a_router_teaches_the_path_mtu() {
    let mut sim = routed();
    ok(
        &mut sim,
        "ip -n a route add default via 10.0.1.1
         ip -n b route add default via 10.0.2.1
         ip netns exec r sysctl -w net.ipv4.ip_forward=1
         ip -n r link set rb mtu 1400
         ip -n b link set vb mtu 1400",
    );
    let o = ping(&mut sim, "ip netns exec a ping -c 3 -W 1 -s 1450 10.0.2.2");
    assert_eq!(o.exit_code, 0);
    let lines: Vec<&str> = o.output.lines().collect();
    assert_eq!(
        lines[1],
        "From 10.0.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)"
    );
    assert!(lines[2].starts_with("1458 bytes from 10.0.2.2: icmp_seq=2 ttl=63 time="));
    assert!(lines[3].starts_with("1458 bytes from 10.0.2.2: icmp_seq=3 ttl=63 time="));
    assert!(
        o.output
            .contains("\n3 packets transmitted, 2 received, +1 errors, 33.3333% packet loss, time 2000ms\n"),
        "{}",
        o.output
    );
    // What a learned is what -M do is now held to.
    let o = ping(&mut sim, "ip netns exec a ping -c 1 -W 1 -s 1450 -M do 10.0.2.2");
    assert!(
        o.output
            .contains("\nping: local error: message too long, mtu=1400\n"),
        "{}",
        o.output
    );
    assert_eq!(
        ping(&mut sim, "ip netns exec a ping -c 1 -W 1 -s 1372 -M do 10.0.2.2").exit_code,
        0
    );
    // b's requests leave b in pieces already.
    assert_eq!(
        ping(&mut sim, "ip netns exec b ping -c 1 -W 1 -s 3000 10.0.1.2").exit_code,
        0
    );
}

#[test]
fn a_router_cuts_what_may_be_cut() {
    let mut sim = routed();
    ok(
        &mut sim,
        "ip -n a route add default via 10.0.1.1
         ip -n b route add default via 10.0.2.1
         ip netns exec r sysctl -w net.ipv4.ip_forward=1
         ip -n r link set rb mtu 1400
         ip -n b link set vb mtu 1400",
    );
    let r = sim.netns(Some("r")).unwrap();
    let cap = sim
        .tcpdump_start(r, "rb", mvl_iproute2::Filter::Icmp, None)
        .unwrap();
    // Without Don't Fragment a sends 1480 + 1480 + 48 bytes of payload; r
    // cuts each piece bigger than its 1400 again, at its place.
    let o = ping(
        &mut sim,
        "ip netns exec a ping -c 1 -W 1 -M dont -s 3000 10.0.2.2",
    );
    assert_eq!(o.exit_code, 0, "{}", o.output);
    let lens: Vec<usize> = sim
        .captured(cap)
        .iter()
        .filter_map(|(_, f)| mvl_sim::packet::Ipv4::parse(&f[14..]))
        .filter(|ip| ip.src.octets() == [10, 0, 1, 2])
        .map(|ip| ip.frag_offset)
        .collect();
    assert_eq!(
        lens,
        [0, 1376, 1480, 2856, 2960],
        "offsets of the pieces r sent on"
    );
}

#[test]
fn deadlines_send_until_they_end() {
    let mut sim = pair();
    ok(
        &mut sim,
        "ip -n a neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev va",
    );
    // (line, transmitted, received, exit code), as iputils ended each.
    for (line, sent, received, code) in [
        // -c counts replies under a deadline: with none, it sends until the end.
        ("ping -c 1 -w 3 10.0.0.7", 3, 0, 1),
        ("ping -c 2 -w 3 -i 0.4 10.0.0.7", 8, 0, 1),
        ("ping -w 1 -W 5 10.0.0.7", 1, 0, 1),
        // Fewer replies than -c by the deadline is a failure, even with some.
        ("ping -c 3 -w 2 10.0.0.2", 2, 2, 1),
        ("ping -c 2 -w 3 10.0.0.2", 2, 2, 0),
        ("ping -w 2 10.0.0.2", 2, 2, 0),
        // An error ends a ping under a deadline.
        ("ping -w 5 -M do -s 2000 10.0.0.2", 1, 0, 1),
    ] {
        let o = ping(&mut sim, &format!("ip netns exec a {line}"));
        assert_eq!(
            (o.transmitted, o.received, o.exit_code),
            (sent, received, code),
            "{line}"
        );
    }
}

#[test]
fn a_bridge_follows_its_smallest_port_until_its_mtu_is_set() {
    let mut sim = Sim::new(5);
    ok(
        &mut sim,
        "ip link add br0 type bridge
         ip link add br1 type bridge
         ip link add p1 type veth peer name q1
         ip link add p2 type veth peer name q2
         ip link add link br0 name mv type macvlan mode bridge
         ip link set mv master br1
         ip link set p1 master br0
         ip link set p2 master br0",
    );
    let mtu = |sim: &mut Sim, dev: &str| -> u32 {
        let out = run(sim, &format!("ip link show {dev}")).unwrap();
        let at = out.find(" mtu ").unwrap() + 5;
        out[at..].split_whitespace().next().unwrap().parse().unwrap()
    };
    // Each step as Linux 6.18 took it: (command, br0's MTU, mv's MTU);
    // br1, whose only port is mv, follows mv.
    for (line, br, mv) in [
        // The same MTU again is no change: br0 still follows its ports.
        ("ip link set br0 mtu 1500", 1500, 1500),
        ("ip link set p1 mtu 1400", 1400, 1400),
        // The bridge comes back up; its macvlan, dragged down, does not.
        ("ip link set p1 mtu 1500", 1500, 1400),
        ("ip link set p2 mtu 1300", 1300, 1300),
        ("ip link set p2 nomaster", 1500, 1300),
        ("ip link set br0 mtu 1450", 1450, 1300),
        ("ip link set p1 mtu 1280", 1450, 1300),
        ("ip link set p2 master br0", 1450, 1300),
        ("ip link del p1", 1450, 1300),
    ] {
        ok(&mut sim, line);
        assert_eq!(
            (mtu(&mut sim, "br0"), mtu(&mut sim, "mv"), mtu(&mut sim, "br1")),
            (br, mv, mv),
            "after {line}"
        );
    }
}
