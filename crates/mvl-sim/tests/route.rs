//! Routing and forwarding, rule by rule: the main table's order, the
//! kernel's checks on `ip route`, routes leaving with their device or
//! address, and a router's forwarding and ICMP errors as ping prints them.

mod common;

use common::{ok, refused, routed, run};
use mvl_sim::Sim;

#[test]
fn the_table_lists_in_the_kernels_order() {
    let mut sim = routed();
    ok(
        &mut sim,
        "ip -n a route add 10.9.0.0/16 dev va
         ip -n a route add 10.8.0.0/16 via 10.0.1.1 src 10.0.1.2
         ip -n a route add 10.5.0.1 via 10.0.1.1
         ip -n a route add default via 10.0.1.3 metric 5
         ip -n a route add default via 10.0.1.1",
    );
    // Captured from Linux 6.18 (iproute2 6.1) for the same commands.
    assert_eq!(
        run(&mut sim, "ip -n a route").unwrap(),
        "default via 10.0.1.1 dev va \n\
         default via 10.0.1.3 dev va metric 5 \n\
         10.0.1.0/24 dev va proto kernel scope link src 10.0.1.2 \n\
         10.5.0.1 via 10.0.1.1 dev va \n\
         10.8.0.0/16 via 10.0.1.1 dev va src 10.0.1.2 \n\
         10.9.0.0/16 dev va scope link \n"
    );
    assert_eq!(
        run(&mut sim, "ip -n a route show default")
            .unwrap()
            .lines()
            .count(),
        2
    );
}

#[test]
fn the_kernels_checks_in_its_order() {
    let mut sim = routed();
    ok(&mut sim, "ip -n a link add vc type veth peer name vd");
    for (line, says) in [
        (
            "ip -n a route add 10.9.0.0/16 via 10.5.0.1",
            "Error: Nexthop has invalid gateway.",
        ),
        (
            "ip -n a route add 10.5.0.0/8 via 10.0.1.1",
            "Error: Invalid prefix for given prefix length.",
        ),
        (
            "ip -n a route add 10.9.0.0/16 dev vc",
            "Error: Device for nexthop is not up.",
        ),
        (
            "ip -n a route add 10.9.0.0/16 via 10.0.1.1 dev vc",
            "Error: Nexthop has invalid gateway.",
        ),
        (
            "ip -n a route add 10.7.0.0/16 via 10.0.1.1 src 10.0.1.9",
            "Error: Invalid prefsrc address.",
        ),
        (
            "ip -n a route add 10.1.0.0/16",
            "RTNETLINK answers: No such device",
        ),
        (
            "ip -n a route add 10.0.1.0/24 dev va",
            "RTNETLINK answers: File exists",
        ),
        (
            "ip -n a route del 10.9.0.0/16",
            "RTNETLINK answers: No such process",
        ),
        (
            "ip -n a route change 10.4.0.0/16 via 10.0.1.5",
            "RTNETLINK answers: No such file or directory",
        ),
        (
            "ip -n a route add 10.1.0.0/16 dev nope",
            "Cannot find device \"nope\"",
        ),
    ] {
        assert_eq!(refused(&mut sim, line), says, "{line}");
    }
    // A refused request changed nothing.
    assert_eq!(
        run(&mut sim, "ip -n a route").unwrap(),
        "10.0.1.0/24 dev va proto kernel scope link src 10.0.1.2 \n"
    );
}

#[test]
fn replace_and_delete_pick_by_destination_and_metric() {
    let mut sim = routed();
    ok(
        &mut sim,
        "ip -n a route add default via 10.0.1.1
         ip -n a route replace default via 10.0.1.3 metric 5
         ip -n a route replace default via 10.0.1.4 metric 5
         ip -n a route change default via 10.0.1.5",
    );
    let t = run(&mut sim, "ip -n a route show default").unwrap();
    assert_eq!(
        t,
        "default via 10.0.1.5 dev va \ndefault via 10.0.1.4 dev va metric 5 \n"
    );
    assert_eq!(
        refused(&mut sim, "ip -n a route del default via 10.0.1.1"),
        "RTNETLINK answers: No such process"
    );
    ok(&mut sim, "ip -n a route del default metric 5");
    ok(&mut sim, "ip -n a route del default");
    assert_eq!(run(&mut sim, "ip -n a route show default").unwrap(), "");
}

#[test]
fn routes_leave_with_their_device_and_their_last_address() {
    let mut sim = routed();
    ok(
        &mut sim,
        "ip -n a addr add 10.0.1.3/24 dev va
         ip -n a route add 10.8.0.0/16 via 10.0.1.1 src 10.0.1.3
         ip -n a route add default via 10.0.1.1",
    );
    // The source address goes: so does the route that named it.
    ok(&mut sim, "ip -n a addr del 10.0.1.3/24 dev va");
    let t = run(&mut sim, "ip -n a route").unwrap();
    assert!(
        t.starts_with("default via 10.0.1.1") && !t.contains("10.8.0.0"),
        "{t}"
    );
    // Down and up again: only the connected route comes back.
    ok(&mut sim, "ip -n a link set va down\nip -n a link set va up");
    assert_eq!(
        run(&mut sim, "ip -n a route").unwrap(),
        "10.0.1.0/24 dev va proto kernel scope link src 10.0.1.2 \n"
    );
    // The last address goes: every route of the device with it.
    ok(
        &mut sim,
        "ip -n a route add default via 10.0.1.1\nip -n a addr del 10.0.1.2/24 dev va",
    );
    assert_eq!(run(&mut sim, "ip -n a route").unwrap(), "");
}

#[test]
fn a_route_without_carrier_is_listed_linkdown() {
    let mut sim = routed();
    ok(&mut sim, "ip -n b route add default via 10.0.2.1 metric 7");
    ok(&mut sim, "ip -n r link set rb down");
    // Captured from Linux 6.18: still in use, flagged after the metric.
    assert_eq!(
        run(&mut sim, "ip -n b route").unwrap(),
        "default via 10.0.2.1 dev vb metric 7 linkdown \n\
         10.0.2.0/24 dev vb proto kernel scope link src 10.0.2.2 linkdown \n"
    );
}

#[test]
fn a_router_forwards_and_says_why_it_cannot() {
    let mut sim = routed();
    ok(
        &mut sim,
        "ip -n a route add default via 10.0.1.1
         ip -n b route add 10.0.1.0/24 via 10.0.2.1",
    );
    // Forwarding off: the request dies at the router without a word.
    let out = run(&mut sim, "ip netns exec a ping -c 1 -W 1 10.0.2.2").unwrap();
    assert!(
        out.contains("1 packets transmitted, 0 received, 100% packet loss"),
        "{out}"
    );
    assert_eq!(
        run(&mut sim, "ip netns exec r sysctl -w net.ipv4.ip_forward=1").unwrap(),
        "net.ipv4.ip_forward = 1\n"
    );
    // The reply crossed one router: its time to live is 63.
    let out = run(&mut sim, "ip netns exec a ping -c 1 -W 1 10.0.2.2").unwrap();
    assert!(
        out.contains("64 bytes from 10.0.2.2: icmp_seq=1 ttl=63 "),
        "{out}"
    );
    // iputils' lines for the router's ICMP errors (Linux 6.18's transcripts).
    for (line, says) in [
        (
            "ip netns exec a ping -c 1 -W 1 10.0.3.2",
            "From 10.0.1.1 icmp_seq=1 Destination Net Unreachable",
        ),
        (
            "ip netns exec a ping -c 1 -W 1 -t 1 10.0.2.2",
            "From 10.0.1.1 icmp_seq=1 Time to live exceeded",
        ),
        (
            "ip netns exec a ping -c 1 -W 5 10.0.2.9",
            "From 10.0.1.1 icmp_seq=1 Destination Host Unreachable",
        ),
    ] {
        let out = run(&mut sim, line).unwrap();
        assert!(
            out.contains(&format!("PING {}", line.rsplit(' ').next().unwrap())),
            "{out}"
        );
        assert!(out.contains(&format!("\n{says}\n")), "{line}: {out}");
        assert!(
            out.contains("1 packets transmitted, 0 received, +1 errors, 100% packet loss"),
            "{out}"
        );
    }
    // Both names are one switch.
    ok(
        &mut sim,
        "ip netns exec r sysctl -q -w net.ipv4.conf.all.forwarding=0",
    );
    assert_eq!(
        run(&mut sim, "ip netns exec r sysctl net.ipv4.ip_forward").unwrap(),
        "net.ipv4.ip_forward = 0\n"
    );
}

#[test]
fn forwarding_back_out_of_the_same_device_is_named_as_not_modelled() {
    // Router on a stick: both subnets on one device, so Linux would send an
    // ICMP redirect; the emulator says so instead of guessing.
    let mut sim = Sim::new(7);
    ok(
        &mut sim,
        "ip netns add a
         ip netns add r
         ip link add va netns a type veth peer name ra netns r
         ip -n a link set va up
         ip -n r link set ra up
         ip -n a addr add 10.0.1.2/24 dev va
         ip -n r addr add 10.0.1.1/24 dev ra
         ip -n a addr add 10.0.2.2/24 dev va
         ip -n r addr add 10.0.2.1/24 dev ra
         ip -n a route add 10.0.3.0/24 via 10.0.1.1
         ip -n r route add 10.0.3.0/24 via 10.0.2.2
         ip netns exec r sysctl -w net.ipv4.ip_forward=1",
    );
    let e = run(&mut sim, "ip netns exec a ping -c 1 -W 1 10.0.3.9")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not supported by the emulator") && e.contains("ICMP redirect"),
        "{e}"
    );
}
