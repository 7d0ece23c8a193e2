//! iproute2's grammar, command by command: the tutorial's forms, the
//! abbreviations and word order iproute2 accepts, and what is refused.

use std::net::Ipv4Addr;

use mvl_core::{Flags, MacaddrOp, Mode};
use mvl_iproute2::cmd::{
    AddrShow, LinkAdd, LinkSet, LinkShow, MacvlanChange, NeighNud, NeighOp, NeighSet, NewKind, ShowForm,
};
use mvl_iproute2::{Command, Error, Filter};

fn words(src: &str) -> Vec<String> {
    src.split_whitespace().map(str::to_string).collect()
}

/// The namespace and the command `src` asks for.
struct Parsed {
    netns: Option<String>,
    command: Command,
}

fn one(src: &str) -> Parsed {
    let (netns, command) = mvl_iproute2::parse_command(&words(src)).unwrap_or_else(|e| panic!("{src}: {e}"));
    Parsed { netns, command }
}

fn err(src: &str) -> Error {
    let e = mvl_iproute2::parse_command(&words(src)).expect_err(src);
    assert!(!e.refused, "{src}: {e}");
    e
}

/// What the tool itself says when it refuses `src`.
fn refused(src: &str) -> String {
    let e = mvl_iproute2::parse_command(&words(src)).expect_err(src);
    assert!(e.refused, "{src}: {e}");
    e.message
}

#[test]
fn tutorial_forms() {
    let l = one("ip link add name veth11 type veth  peer veth12");
    assert_eq!(
        l.command,
        Command::LinkAdd(LinkAdd {
            name: Some("veth11".into()),
            address: None,
            mtu: None,
            netns: None,
            kind: NewKind::Veth {
                peer: Some("veth12".into()),
                peer_address: None,
                peer_mtu: None,
                peer_netns: None
            },
            warnings: Vec::new(),
        })
    );
    let l = one("ip link add veth12.1 link veth12 type macvlan mode bridge");
    match l.command {
        Command::LinkAdd(a) => {
            assert_eq!(a.name.as_deref(), Some("veth12.1"));
            assert_eq!(
                a.kind,
                NewKind::Macvlan {
                    link: Some("veth12".into()),
                    opts: MacvlanChange {
                        mode: Some(Mode::Bridge),
                        ..Default::default()
                    }
                }
            );
        }
        c => panic!("{c:?}"),
    }
    let l = one("ip link set netns ns1 veth12.1");
    assert_eq!(
        l.command,
        Command::LinkSet(LinkSet {
            dev: "veth12.1".into(),
            netns: Some("ns1".into()),
            ..Default::default()
        })
    );
    let l = one("ip netns exec ns1 ip link set veth12.1 name eth0");
    assert_eq!(l.netns.as_deref(), Some("ns1"));
    assert_eq!(
        l.command,
        Command::LinkSet(LinkSet {
            dev: "veth12.1".into(),
            name: Some("eth0".into()),
            ..Default::default()
        })
    );
    let l = one("ip netns exec ns1 ip addr add  192.168.0.11/24 dev eth0");
    assert_eq!(
        l.command,
        Command::AddrAdd("192.168.0.11/24".parse().unwrap(), "eth0".into())
    );
    let l = one("ip netns exec ns1 ping -c 1 192.168.0.1");
    assert!(l.command.is_ping());
    assert_eq!(l.netns.as_deref(), Some("ns1"));
    assert!(matches!(
        one("ip netns exec ns1 ip link").command,
        Command::LinkShow(_)
    ));
    assert_eq!(one("bridge fdb").command, Command::BridgeFdbShow);
    assert_eq!(
        one("tcpdump -i veth11 icmp").command,
        Command::Tcpdump {
            dev: "veth11".into(),
            filter: Filter::Icmp,
            count: None,
            write: None,
            link: false
        }
    );
    let l = one("ip netns exec ns3 ip link add eth0.11 link eth0 type macvlan mode source  macaddr add  36:50:43:11:71:c0");
    match l.command {
        Command::LinkAdd(a) => assert_eq!(
            a.kind,
            NewKind::Macvlan {
                link: Some("eth0".into()),
                opts: MacvlanChange {
                    mode: Some(Mode::Source),
                    macaddr: Some(MacaddrOp::Add("36:50:43:11:71:c0".parse().unwrap())),
                    ..Default::default()
                },
            }
        ),
        c => panic!("{c:?}"),
    }
    assert_eq!(
        one("ip netns exec ns1 ip link set eth0 type macvlan mode vepa").command,
        Command::LinkSet(LinkSet {
            dev: "eth0".into(),
            macvlan: Some(MacvlanChange {
                mode: Some(Mode::Vepa),
                ..Default::default()
            }),
            ..Default::default()
        })
    );
}

#[test]
fn iproute2_abbreviations_and_word_order() {
    assert!(matches!(one("ip l").command, Command::LinkShow(_)));
    assert!(matches!(
        one("ip a").command,
        Command::AddrShow(AddrShow { dev: None, .. })
    ));
    assert_eq!(
        one("ip -4 addr show up").command,
        Command::AddrShow(AddrShow {
            dev: None,
            up: true,
            ipv4: true,
            form: ShowForm::default(),
        })
    );
    assert!(matches!(
        one("ip link show up").command,
        Command::LinkShow(LinkShow {
            up: true,
            dev: None,
            ..
        })
    ));
    assert_eq!(one("ip n").command, Command::NeighShow(Default::default()));
    assert!(matches!(
        one("ip -d l sh dev eth0").command,
        Command::LinkShow(LinkShow { details: true, .. })
    ));
    let l = one("ip l s dev eth0 up mtu 1400 address 02:00:00:00:00:01 master br0");
    assert_eq!(
        l.command,
        Command::LinkSet(LinkSet {
            dev: "eth0".into(),
            up: Some(true),
            mtu: Some(1400),
            address: Some("02:00:00:00:00:01".parse().unwrap()),
            master: Some(Some("br0".into())),
            ..Default::default()
        })
    );
    // "a" means "address" to iproute2, as on the real command line.
    assert_eq!(refused("ip link add a type veth"), "\"type\" is invalid lladdr.");
    assert_eq!(one("ip -n ns1 link del dev eth0").netns.as_deref(), Some("ns1"));
    let l = one("ip link add link eth0 mv0 type macvlan mode source nodst macaddr set 02:00:00:00:00:01 02:00:00:00:00:02 bcqueuelen 0x10 bclim -1");
    match l.command {
        Command::LinkAdd(a) => assert_eq!(
            a.kind,
            NewKind::Macvlan {
                link: Some("eth0".into()),
                opts: MacvlanChange {
                    mode: Some(Mode::Source),
                    flags: Some(Flags::NODST),
                    macaddr: Some(MacaddrOp::Set(vec![
                        "02:00:00:00:00:01".parse().unwrap(),
                        "02:00:00:00:00:02".parse().unwrap()
                    ])),
                    bc_queue_len: Some(16),
                    bc_cutoff: Some(-1),
                },
            }
        ),
        c => panic!("{c:?}"),
    }
    assert_eq!(
        one("bridge -n sw link set dev veth11 hairpin on").command,
        Command::BridgeHairpin {
            dev: "veth11".into(),
            on: true
        }
    );
    assert_eq!(one("ip neigh flush all").command, Command::NeighFlush(None));
    let set = |op, lladdr: Option<&str>, nud| {
        Command::NeighSet(NeighSet {
            op,
            addr: Ipv4Addr::new(10, 0, 0, 2),
            lladdr: lladdr.map(|m| m.parse().unwrap()),
            dev: "eth0".into(),
            nud,
        })
    };
    let ll = Some("02:00:00:00:00:02");
    assert_eq!(
        one("ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0").command,
        set(NeighOp::Add, ll, NeighNud::Permanent)
    );
    assert_eq!(
        one("ip n a dev eth0 to 10.0.0.2 nud reachable l 02:00:00:00:00:02").command,
        set(NeighOp::Add, ll, NeighNud::Reachable)
    );
    assert_eq!(
        one("ip neigh chg 10.0.0.2 dev eth0 nud stale").command,
        set(NeighOp::Change, None, NeighNud::Stale)
    );
    assert_eq!(
        one("ip neigh repl 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0").command,
        set(NeighOp::Replace, ll, NeighNud::Permanent)
    );
    assert_eq!(
        one("ip neigh d 10.0.0.2 dev eth0").command,
        Command::NeighDel {
            addr: Ipv4Addr::new(10, 0, 0, 2),
            dev: "eth0".into()
        }
    );
    let l = one("ping -c3 -W 0.5 -I eth0 -nq 10.0.0.1");
    match l.command {
        Command::Ping { ping, quiet } => {
            assert_eq!(
                (ping.count, ping.wait, ping.iface.as_deref(), quiet),
                (Some(3), Some(0.5), Some("eth0"), true)
            );
        }
        c => panic!("{c:?}"),
    }
    assert_eq!(one("sleep 1.5").command, Command::Sleep(1.5));
    assert_eq!(one("ip netns").command, Command::NetnsList);
    assert_eq!(
        one("ip link set br0 type bridge fdb_flush").command,
        Command::LinkSet(LinkSet {
            dev: "br0".into(),
            fdb_flush: true,
            ..Default::default()
        })
    );
}

#[test]
fn errors_name_the_word() {
    for (src, word) in [
        ("ip rule add from 10.0.0.1 table 5", "rule"),
        ("ip link add x type vxlan", "vxlan"),
        ("ping -c 1 example.org", "example.org"),
        ("tcpdump -i eth0 tcp port 80", "tcp"),
        ("ls -l", "ls"),
        (
            "ip link add thisnameiswaytoolong type bridge",
            "thisnameiswaytoolong",
        ),
        ("sleep -1", "-1"),
        (
            "ip neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud noarp",
            "noarp",
        ),
        (
            "ip neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud bogus",
            "bogus",
        ),
        ("ip neigh add fe80::1 dev eth0", "fe80::1"),
        ("ip neigh add proxy 10.0.0.1 dev eth0", "proxy"),
        ("ip neigh get 10.0.0.1 dev eth0", "get"),
    ] {
        assert_eq!(err(src).word.as_deref(), Some(word), "{src}");
    }
    assert!(err("ip neigh add 10.0.0.1 lladdr 02:00:00:00:00:01")
        .message
        .contains("Device and destination are required"));
}

#[test]
fn the_tools_own_refusals_in_their_words() {
    for (src, says) in [
        (
            "ip link add mv0 link eth0 type macvlan mode bridg",
            "Error: argument of \"mode\" must be \"private\", \"vepa\", \"bridge\", \"passthru\" or \"source\", not \"bridg\"",
        ),
        (
            "ip link add mv0 link eth0 type macvlan nopromisc",
            "macvlan: nopromisc flag only valid in passthru mode\nUsage: ...",
        ),
        ("ip link add mv0 link eth0 type macvlan frobnicate", "macvlan: unknown option \"frobnicate\"?\n"),
        (
            "ip addr add 10.0.0.1/33 dev eth0",
            "Error: any valid prefix is expected rather than \"10.0.0.1/33\".",
        ),
        ("ip link set eth0 mtu lots", "Error: argument \"lots\" is wrong: Invalid \"mtu\" value"),
        ("ip link show eth0 eth1", "Error: either \"dev\" is duplicate, or \"eth1\" is a garbage."),
        ("ip neigh add 10.0.0.1 lladdr zz dev eth0", "\"zz\" is invalid lladdr."),
        ("ip link add br0", "Not enough information: \"type\" argument is required"),
        (
            "ip neigh add 10.0.0.1 10.0.0.2 dev eth0",
            "Error: either \"to\" is duplicate, or \"10.0.0.2\" is a garbage.",
        ),
    ] {
        assert!(refused(src).starts_with(says), "{src}");
    }
    assert_eq!(
        refused("ip link set mtu 1400"),
        "Not enough information: \"dev\" argument is required."
    );
}

#[test]
fn no_error_speaks_of_labs() {
    // `mvl link` shows these to people who never wrote a lab.
    for src in [
        "ip rule add from 10.0.0.1 table 5",
        "ip route add 10.0.0.0/8 dev eth0 table 5",
        "ls -l",
        "ip link set eth0 type vxlan id 1",
        "bridge link set dev eth0 guard on",
        "ping 10.0.0.1",
        "ping -c 1 example.org",
        "ip link add x type vxlan",
        "ip -6 link",
    ] {
        match mvl_iproute2::parse_command(&words(src)) {
            Err(e) => assert!(!e.to_string().contains("lab"), "{src}: {e}"),
            Ok(_) => assert_eq!(src, "ping 10.0.0.1", "only a ping without -c parses"),
        }
    }
    match one("ping 10.0.0.1").command {
        Command::Ping { ping, .. } => assert_eq!(ping.count, None, "ping's default: until interrupted"),
        c => panic!("{c:?}"),
    }
}

/// `macaddr set` reads addresses until a word is none: iproute2 says so on
/// stderr and reads that word again as an option, or refuses it as one.
#[test]
fn a_macaddr_list_ends_at_a_word_that_is_no_address() {
    let src = "ip link add m1 link eth0 type macvlan mode source macaddr set 02:ff:00:00:01:02 nodst";
    let Command::LinkAdd(a) = one(src).command else {
        panic!("{src}")
    };
    assert_eq!(a.warnings, ["\"nodst\" is invalid lladdr."]);
    let NewKind::Macvlan { opts, .. } = a.kind else {
        panic!("{src}")
    };
    assert_eq!(
        opts.macaddr,
        Some(MacaddrOp::Set(vec!["02:ff:00:00:01:02".parse().unwrap()]))
    );
    assert_eq!(opts.flags, Some(Flags::NODST));
    let set = one("ip link set m1 type macvlan macaddr set mode source").command;
    assert_eq!(set.warnings(), ["\"mode\" is invalid lladdr."]);
    // `bc` reads as one hex byte: a link-layer address, if not a MAC, so
    // the list ends there without a word.
    let quiet = one("ip link set m1 type macvlan macaddr set 02:ff:00:00:01:02 bcqueuelen 5").command;
    assert!(quiet.warnings().is_empty());
    let said = refused("ip link add m2 link eth0 type macvlan mode source macaddr set zz");
    assert!(
        said.starts_with("\"zz\" is invalid lladdr.\nmacvlan: unknown option \"zz\"?\nUsage:"),
        "{said}"
    );
    // A list that runs to the end of the line warns of nothing.
    let end = one("ip link set m1 type macvlan macaddr set 02:ff:00:00:01:02").command;
    assert!(end.warnings().is_empty());
}

#[test]
fn ip_route_as_iproute2_reads_it() {
    use mvl_iproute2::cmd::{RouteOp, RouteSet, RouteShow};
    let net = |s: &str| mvl_iproute2::cmd::parse_ipv4_net(s).unwrap();
    let set = |src: &str| match one(src).command {
        Command::RouteSet(r) => r,
        c => panic!("{src}: {c:?}"),
    };
    assert_eq!(
        set("ip route add default via 10.0.1.1"),
        RouteSet {
            op: RouteOp::Add,
            dst: net("0.0.0.0/0"),
            via: Some(Ipv4Addr::new(10, 0, 1, 1)),
            dev: None,
            metric: None,
            src: None,
        }
    );
    // Abbreviations in iproute2's order, any word order, `to`, metric's
    // other names and number forms, a bare address as a /32.
    let r = set("ip r a to 10.7.0.0/16 priority 0x10 dev mv0 src 10.0.1.2 via 10.0.1.1");
    assert_eq!(
        (r.dst, r.metric, r.dev.as_deref()),
        (net("10.7.0.0/16"), Some(16), Some("mv0"))
    );
    assert_eq!(r.src, Some(Ipv4Addr::new(10, 0, 1, 2)));
    assert_eq!(set("ip route d 10.5.0.1 via 10.0.1.1").dst, net("10.5.0.1/32"));
    assert_eq!(set("ip route d 10.5.0.1").op, RouteOp::Del);
    assert_eq!(set("ip route chg default dev mv0").op, RouteOp::Change);
    assert_eq!(set("ip route rep default dev mv0").op, RouteOp::Replace);
    // Host bits are the kernel's to refuse.
    assert_eq!(set("ip route add 10.5.0.0/8 dev mv0").dst.prefix_len(), 8);
    let show = |src: &str| match one(src).command {
        Command::RouteShow(r) => r,
        c => panic!("{src}: {c:?}"),
    };
    assert_eq!(show("ip route"), RouteShow::default());
    assert_eq!(show("ip -4 r s all"), RouteShow::default());
    assert_eq!(show("ip route list default").dst, Some(net("0.0.0.0/0")));
    assert_eq!(
        show("ip route show dev mv0 10.0.1.0/24").dev.as_deref(),
        Some("mv0")
    );
}

#[test]
fn ip_route_refusals_in_iproute2s_words() {
    assert_eq!(
        refused("ip route add 10.0.0.300/24 dev lo"),
        "Error: any valid prefix is expected rather than \"10.0.0.300/24\"."
    );
    assert_eq!(
        refused("ip route add 10.0.0.0/24 via 10.0.0.x"),
        "Error: inet address is expected rather than \"10.0.0.x\"."
    );
    assert_eq!(
        refused("ip route add 10.0.0.0/24 metric x dev lo"),
        "Error: argument \"x\" is wrong: \"metric\" value is invalid\n"
    );
    assert_eq!(
        refused("ip route add 10.0.0.0/24 10.1.0.0/24 dev lo"),
        "Error: either \"to\" is duplicate, or \"10.1.0.0/24\" is a garbage."
    );
    assert!(refused("ip route add via 10.0.0.1").starts_with("Usage: ip route"));
    // What the emulator does not model is named, never misread.
    for (src, word) in [
        ("ip route add 10.0.0.0/24 dev lo table 5", "table"),
        ("ip route append 10.0.0.0/24 dev lo", "append"),
        ("ip route add blackhole 10.0.0.0/24", "blackhole"),
        ("ip route add 10.0.0.0/24 via 10.0.0.1 onlink", "onlink"),
        ("ip route get 10.0.0.1", "get"),
        ("ip route add fd00::/64 dev lo", "fd00::/64"),
    ] {
        assert_eq!(err(src).word.as_deref(), Some(word), "{src}");
    }
}

#[test]
fn sysctl_reads_the_forwarding_switch() {
    use mvl_iproute2::cmd::{Sysctl, SysctlKey};
    let get = |src: &str| match one(src).command {
        Command::Sysctl(c) => c,
        c => panic!("{src}: {c:?}"),
    };
    let p = one("ip netns exec r sysctl -w net.ipv4.ip_forward=1");
    assert_eq!(p.netns.as_deref(), Some("r"));
    assert_eq!(
        get("sysctl -w net.ipv4.ip_forward=1"),
        Sysctl {
            key: SysctlKey::IpForward,
            value: Some(true),
            quiet: false
        }
    );
    assert_eq!(
        get("sysctl -qw net.ipv4.conf.all.forwarding=0"),
        Sysctl {
            key: SysctlKey::AllForwarding,
            value: Some(false),
            quiet: true
        }
    );
    assert_eq!(get("sysctl net.ipv4.ip_forward").value, None);
    assert_eq!(
        err("sysctl -w net.ipv4.conf.all.rp_filter=1").word.as_deref(),
        Some("net.ipv4.conf.all.rp_filter")
    );
    assert_eq!(err("sysctl -w net.ipv4.ip_forward=2").word.as_deref(), Some("2"));
    assert_eq!(err("sysctl -a").word.as_deref(), Some("-a"));
}

#[test]
fn ping_time_to_live() {
    let ttl = |src: &str| match one(src).command {
        Command::Ping { ping, .. } => ping.ttl,
        c => panic!("{src}: {c:?}"),
    };
    assert_eq!(ttl("ping -c 1 10.0.0.1"), None);
    assert_eq!(ttl("ping -c 1 -t 1 10.0.0.1"), Some(1));
    assert_eq!(ttl("ping -c1 -t255 10.0.0.1"), Some(255));
    assert_eq!(err("ping -c 1 -t 0 10.0.0.1").word.as_deref(), Some("0"));
    assert_eq!(err("ping -c 1 -t 256 10.0.0.1").word.as_deref(), Some("256"));
}

#[test]
fn the_show_forms_people_type() {
    let link = |src: &str| match one(src).command {
        Command::LinkShow(s) => s,
        c => panic!("{src}: {c:?}"),
    };
    let f = link("ip -br link").form;
    assert!(f.brief && !f.oneline && !f.json);
    assert!(link("ip -o link show mv0").form.oneline);
    let s = link("ip -j -d link show master br0 type veth");
    assert!(s.form.json && s.details);
    assert_eq!(
        (s.master.as_deref(), s.kind.as_deref()),
        (Some("br0"), Some("veth"))
    );
    match one("ip -4 -br -j addr show dev mv0").command {
        Command::AddrShow(a) => assert!(a.ipv4 && a.form.brief && a.form.json),
        c => panic!("{c:?}"),
    }
    assert_eq!(
        one("ip addr flush dev mv0").command,
        Command::AddrFlush("mv0".into())
    );
    assert_eq!(one("ip -4 a f mv0").command, Command::AddrFlush("mv0".into()));
    assert_eq!(refused("ip addr flush"), "Flush requires arguments.");
    assert_eq!(err("ip -6 addr").word.as_deref(), Some("-6"));
    let f = link("ip -p -j link").form;
    assert!(f.pretty && f.json);
    assert!(
        link("ip -pretty link").form.pretty,
        "pretty alone changes no text"
    );
}

#[test]
fn ping_sizes_fragmentation_and_deadlines() {
    use mvl_iproute2::cmd::Pmtudisc;
    let p = |src: &str| match one(src).command {
        Command::Ping { ping, .. } => ping,
        c => panic!("{src}: {c:?}"),
    };
    let d = p("ping -c 1 10.0.0.1");
    assert_eq!((d.size, d.pmtudisc, d.deadline), (56, Pmtudisc::Want, None));
    let b = p("ping -c1 -s 2000 -M do -w 3 10.0.0.1");
    assert_eq!((b.size, b.pmtudisc, b.deadline), (2000, Pmtudisc::Do, Some(3)));
    assert_eq!(p("ping -c 1 -Mdont -s0 10.0.0.1").pmtudisc, Pmtudisc::Dont);
    assert_eq!(
        p("ping -c 1 -M want -s 010 10.0.0.1").size,
        10,
        "decimal, as iputils reads it"
    );
    assert_eq!(p("ping -w 0 -c 1 10.0.0.1").deadline, None, "-w 0 is no deadline");
    assert_eq!(p("ping -w 2 10.0.0.1").count, None, "a deadline alone is enough");
    assert_eq!(p("ping -c 1 -s 65507 10.0.0.1").size, 65507);
    // iputils' own refusal, word for word; the rest name the word.
    assert_eq!(
        refused("ping -c 1 -M probe 10.0.0.1"),
        "ping: invalid -M argument: probe"
    );
    assert_eq!(err("ping -c 1 -s x 10.0.0.1").word.as_deref(), Some("x"));
    assert_eq!(err("ping -c 1 -s -1 10.0.0.1").word.as_deref(), Some("-1"));
    assert!(err("ping -c 1 -s 65508 10.0.0.1")
        .message
        .contains("not supported"));
    assert_eq!(err("ping -c 1 -w 1.5 10.0.0.1").word.as_deref(), Some("1.5"));
}
