//! `hostAccess`: with it the host and its containers ping each other,
//! without it they do not; the shim is shared and reference-counted.

#[macro_use]
mod common;

use common::{conf, with_prev, Container, Lab};
use serde_json::json;

fn ipam_for(lab: &Lab, addr: &str) {
    lab.set_ipam_result(&json!({"cniVersion": "1.0.0",
        "ips": [{"address": format!("{addr}/24"), "gateway": "10.1.0.1"}]}));
}

fn have_ping() -> bool {
    let ok = std::process::Command::new("ping")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: ping is not installed (apt-get install iputils-ping)");
    }
    ok
}

#[test]
#[ignore = "needs root"]
fn host_and_containers_reach_each_other_only_with_host_access() {
    if !have_ping() {
        return;
    }
    let lab = Lab::new();
    let shim = format!("mvlshim{}", lab.host_nl().link("veth0").unwrap().index);
    let state = lab.state_dir();

    // Without hostAccess: the macvlan cannot reach its own host.
    let plain = Container::new();
    ipam_for(&lab, "10.1.0.30");
    let cf = conf("1.0.0", json!({}));
    lab.cni("ADD", &cf, &plain, "eth0").expect_ok();
    assert!(
        !Lab::ping(&lab.host, "10.1.0.30"),
        "host -> container without hostAccess"
    );
    assert!(
        !Lab::ping(&plain.ns, "10.1.0.1"),
        "container -> host without hostAccess"
    );

    // With it, both ways.
    let ha = conf("1.0.0", json!({"hostAccess": true}));
    let a = Container::new();
    ipam_for(&lab, "10.1.0.31");
    let ra = lab
        .cni_env("ADD", &ha, &a, "eth0", &[("CNI_CONTAINERID", "a")])
        .expect_ok()
        .clone();
    assert!(lab.host_nl().link(shim.as_str()).is_ok(), "the shim exists");
    assert!(
        Lab::ping(&lab.host, "10.1.0.31"),
        "host -> container with hostAccess"
    );
    assert!(Lab::ping(&a.ns, "10.1.0.1"), "container -> host with hostAccess");
    lab.cni_env(
        "CHECK",
        &with_prev(&ha, &ra),
        &a,
        "eth0",
        &[("CNI_CONTAINERID", "a")],
    )
    .expect_ok();
    // The plain container still cannot reach the host (no route via the shim).
    assert!(!Lab::ping(&lab.host, "10.1.0.30"));

    // A second container shares the shim.
    let b = Container::new();
    ipam_for(&lab, "10.1.0.32");
    lab.cni_env("ADD", &ha, &b, "eth0", &[("CNI_CONTAINERID", "b")])
        .expect_ok();
    assert!(Lab::ping(&lab.host, "10.1.0.32"));
    let shims: Vec<String> = lab
        .host_nl()
        .links()
        .unwrap()
        .into_iter()
        .filter(|l| l.name.starts_with("mvlshim"))
        .map(|l| l.name)
        .collect();
    assert_eq!(shims, vec![shim.clone()]);

    // DEL of a (twice): the shim stays for b, a's host route goes.
    lab.cni_env("DEL", &ha, &a, "eth0", &[("CNI_CONTAINERID", "a")])
        .expect_ok();
    lab.cni_env("DEL", &ha, &a, "eth0", &[("CNI_CONTAINERID", "a")])
        .expect_ok();
    assert!(
        lab.host_nl().link(shim.as_str()).is_ok(),
        "the shim stays while b uses it"
    );
    assert!(Lab::ping(&lab.host, "10.1.0.32"));
    let mut hnl = lab.host_nl();
    let routes = mvl_cni::net::routes(&mut hnl).unwrap();
    assert!(
        !routes.iter().any(|r| r.destination.to_string() == "10.1.0.31/32"),
        "{routes:?}"
    );
    // CHECK of b notices a missing host route.
    let sh = hnl.link(shim.as_str()).unwrap();
    mvl_cni::net::del_host_route(&mut hnl, sh.index, "10.1.0.32".parse().unwrap()).unwrap();
    let rb = json!({"cniVersion": "1.0.0",
        "interfaces": [{"name": "eth0", "sandbox": b.path}],
        "ips": [{"interface": 0, "address": "10.1.0.32/24", "gateway": "10.1.0.1"}]});
    let msg = lab
        .cni_env(
            "CHECK",
            &with_prev(&ha, &rb),
            &b,
            "eth0",
            &[("CNI_CONTAINERID", "b")],
        )
        .expect_code(105);
    assert!(msg.contains("10.1.0.32/32"), "{msg}");

    // The last one takes the shim and the state file with it.
    lab.cni_env("DEL", &ha, &b, "eth0", &[("CNI_CONTAINERID", "b")])
        .expect_ok();
    assert_gone(&lab, &shim);
    let files: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("shim-"))
        .collect();
    assert!(files.is_empty(), "{files:?}");
    lab.cni("DEL", &cf, &plain, "eth0").expect_ok();
}

#[track_caller]
fn assert_gone(lab: &Lab, name: &str) {
    assert!(lab.host_nl().link(name).is_err(), "{name} is still there");
}

#[test]
#[ignore = "needs root"]
fn gc_and_rollback_release_the_shim() {
    let lab = Lab::new();
    let shim = format!("mvlshim{}", lab.host_nl().link("veth0").unwrap().index);
    let ha = conf("1.1.0", json!({"hostAccess": true}));
    let a = Container::new();
    ipam_for(&lab, "10.1.0.41");
    lab.cni_env("ADD", &ha, &a, "eth0", &[("CNI_CONTAINERID", "a")])
        .expect_ok();
    let b = Container::new();
    ipam_for(&lab, "10.1.0.42");
    lab.cni_env("ADD", &ha, &b, "eth0", &[("CNI_CONTAINERID", "b")])
        .expect_ok();
    // GC keeping only b forgets a (its host route), keeps the shim.
    let mut gc = ha.clone();
    gc["cni.dev/valid-attachments"] = json!([{"containerID": "b", "ifname": "eth0"}]);
    lab.exec(std::path::Path::new(common::BIN), "GC", &gc, &[])
        .expect_ok();
    let mut hnl = lab.host_nl();
    let routes: Vec<String> = mvl_cni::net::routes(&mut hnl)
        .unwrap()
        .into_iter()
        .map(|r| r.destination.to_string())
        .collect();
    assert!(!routes.contains(&"10.1.0.41/32".to_string()), "{routes:?}");
    assert!(routes.contains(&"10.1.0.42/32".to_string()), "{routes:?}");
    // GC keeping nothing removes the shim.
    gc["cni.dev/valid-attachments"] = json!([]);
    lab.exec(std::path::Path::new(common::BIN), "GC", &gc, &[])
        .expect_ok();
    assert_gone(&lab, &shim);
    for (c, id) in [(&a, "a"), (&b, "b")] {
        lab.cni_env("DEL", &ha, c, "eth0", &[("CNI_CONTAINERID", id)])
            .expect_ok();
        c.assert_clean(&[]);
    }
    // A failed ADD undoes the hostAccess attachment with everything else.
    let c = Container::new();
    lab.set_ipam_result(&json!({"cniVersion": "1.0.0",
        "ips": [{"address": "10.1.0.43/24"}], "routes": [{"dst": "10.9.0.0/16", "gw": "192.0.2.1"}]}));
    lab.cni("ADD", &ha, &c, "eth0").expect_code(103);
    c.assert_clean(&[]);
    assert!(lab.host_nl().link(shim.as_str()).is_err());
    // STATUS checks the state directory.
    lab.exec(std::path::Path::new(common::BIN), "STATUS", &ha, &[])
        .expect_ok();
    let bad = conf(
        "1.1.0",
        json!({"hostAccess": true, "stateDir": "/proc/version/nope"}),
    );
    lab.exec(std::path::Path::new(common::BIN), "STATUS", &bad, &[])
        .expect_code(50);
}

/// `ping` from `ns`, a few tries: a fresh IPv6 address finishes duplicate
/// address detection first (about a second), and until then ping fails at
/// once.
fn ping_soon(ns: &mvl_netlink::NetNs, addr: &str) -> bool {
    (0..20).any(|_| {
        Lab::ping(ns, addr) || {
            std::thread::sleep(std::time::Duration::from_millis(250));
            false
        }
    })
}

/// Waits (bounded) until the container's addresses finished duplicate
/// address detection, so that a failing ping fails for the right reason.
fn wait_dad(c: &Container) {
    for _ in 0..100 {
        let mut nl = c.nl();
        let eth0 = nl.link("eth0").unwrap().index;
        if mvl_cni::net::addresses(&mut nl, eth0)
            .unwrap()
            .iter()
            .all(|a| !a.tentative)
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the container's IPv6 addresses stay tentative");
}

/// Runs `ip ARGS` from a thread inside `ns`.
fn ip_in(ns: &mvl_netlink::NetNs, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let st = ns
        .run(move || std::process::Command::new("ip").args(&args).status().unwrap())
        .unwrap();
    assert!(st.success());
}

#[test]
#[ignore = "needs root"]
fn dual_stack_both_ways() {
    if !have_ping() {
        return;
    }
    let lab = Lab::new();
    // The host's IPv6 address on the master, as on a normal host.
    let failed =
        mvl_cni::net::write_sysctls(&lab.host, &[("net/ipv6/conf/veth0/accept_dad".into(), "0")]).unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    let mut hnl = lab.host_nl();
    let veth0 = hnl.link("veth0").unwrap().index;
    mvl_cni::net::add_address(&mut hnl, veth0, "veth0", &"fd00:1::1/64".parse().unwrap()).unwrap();
    let shim = format!("mvlshim{veth0}");
    let dual = |v4: &str, v6: &str| {
        json!({"cniVersion": "1.0.0", "ips": [
            {"address": format!("{v4}/24"), "gateway": "10.1.0.1"},
            {"address": format!("{v6}/64")}]})
    };

    // Without hostAccess neither family reaches the host.
    let plain = Container::new();
    lab.set_ipam_result(&dual("10.1.0.60", "fd00:1::60"));
    let cf = conf("1.0.0", json!({}));
    lab.cni("ADD", &cf, &plain, "eth0").expect_ok();
    wait_dad(&plain);
    assert!(
        !Lab::ping(&plain.ns, "fd00:1::1"),
        "container -> host over IPv6 without hostAccess"
    );

    let ha = conf("1.0.0", json!({"hostAccess": true}));
    let a = Container::new();
    lab.set_ipam_result(&dual("10.1.0.61", "fd00:1::61"));
    let env_a = [("CNI_CONTAINERID", "a")];
    let ra = lab.cni_env("ADD", &ha, &a, "eth0", &env_a).expect_ok().clone();
    for (from, to, what) in [
        (&lab.host, "10.1.0.61", "host -> container, IPv4"),
        (&lab.host, "fd00:1::61", "host -> container, IPv6"),
        (&a.ns, "10.1.0.1", "container -> host, IPv4"),
        (&a.ns, "fd00:1::1", "container -> host, IPv6"),
    ] {
        assert!(ping_soon(from, to), "{what}");
    }
    lab.cni_env("CHECK", &with_prev(&ha, &ra), &a, "eth0", &env_a)
        .expect_ok();

    // The neighbour proxy is what carries IPv6: without it (and with the
    // container's neighbour cache flushed) the container cannot reach the
    // host, and CHECK says what is missing.
    ip_in(
        &lab.host,
        &["-6", "neigh", "del", "proxy", "fd00:1::1", "dev", &shim],
    );
    ip_in(&a.ns, &["-6", "neigh", "flush", "dev", "eth0"]);
    assert!(
        !Lab::ping(&a.ns, "fd00:1::1"),
        "container -> host without the proxy"
    );
    let msg = lab
        .cni_env("CHECK", &with_prev(&ha, &ra), &a, "eth0", &env_a)
        .expect_code(105);
    assert!(msg.contains("fd00:1::1") && msg.contains(&shim), "{msg}");

    // The next attachment puts it back; both reach the host.
    let b = Container::new();
    lab.set_ipam_result(&dual("10.1.0.62", "fd00:1::62"));
    let env_b = [("CNI_CONTAINERID", "b")];
    lab.cni_env("ADD", &ha, &b, "eth0", &env_b).expect_ok();
    assert!(ping_soon(&b.ns, "fd00:1::1"), "container b -> host, IPv6");
    assert!(ping_soon(&a.ns, "fd00:1::1"), "container a -> host, IPv6, again");
    assert!(ping_soon(&lab.host, "fd00:1::62"), "host -> container b, IPv6");
    lab.cni_env("CHECK", &with_prev(&ha, &ra), &a, "eth0", &env_a)
        .expect_ok();
    // The plain container still cannot.
    assert!(!Lab::ping(&plain.ns, "fd00:1::1"));

    for (c, env) in [(&a, env_a), (&b, env_b)] {
        lab.cni_env("DEL", &ha, c, "eth0", &env).expect_ok();
        c.assert_clean(&[]);
    }
    assert_gone(&lab, &shim);
    lab.cni("DEL", &cf, &plain, "eth0").expect_ok();
}
