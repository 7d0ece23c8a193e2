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
fn host_and_containers_reach_each_other_only_with_host_access() {
    need_root!();
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
    let routes = mvl_cni::net::routes(&mut hnl, true).unwrap();
    assert!(
        !routes.iter().any(|r| r.dst.to_string() == "10.1.0.31/32"),
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
fn gc_and_rollback_release_the_shim() {
    need_root!();
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
    let routes: Vec<String> = mvl_cni::net::routes(&mut hnl, true)
        .unwrap()
        .into_iter()
        .map(|r| r.dst.to_string())
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
