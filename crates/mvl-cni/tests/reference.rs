//! Side by side with the reference macvlan plugin (Debian's
//! `containernetworking-plugins`: /usr/lib/cni/macvlan, static,
//! host-local): the same configurations give the same link state and the
//! same result shape; where the reference is wrong, ours is asserted right
//! and what the reference does is printed. The tests install nothing: when
//! the reference is absent they say they skip.

#[macro_use]
mod common;

use std::path::Path;

use common::{with_prev, Container, Lab, REF_DIR};
use mvl_core::Mode;
use serde_json::{json, Value};

macro_rules! need_reference {
    () => {
        if !common::have_reference() {
            eprintln!("skipped: the reference plugins are not installed in {REF_DIR} (apt-get install containernetworking-plugins)");
            return;
        }
    };
}

fn reference() -> &'static Path {
    Path::new("/usr/lib/cni/macvlan")
}

fn ours() -> &'static Path {
    Path::new(common::BIN)
}

/// What both plugins must agree on about the link.
#[derive(Debug, PartialEq)]
struct State {
    kind: Option<String>,
    mode: Option<Mode>,
    mtu: Option<u32>,
    up: bool,
    lower: Option<u32>,
    addresses: Vec<String>,
    routes: Vec<String>,
    others: usize,
}

fn state(c: &Container, ifname: &str) -> State {
    let l = c.link(ifname).unwrap_or_else(|| panic!("{ifname} missing"));
    State {
        kind: l.kind.clone(),
        mode: l.macvlan.as_ref().and_then(|m| m.mode),
        mtu: l.mtu,
        up: l.is_up(),
        lower: l.link,
        addresses: c.addresses(ifname),
        routes: c.routes(ifname),
        others: c.links().len() - 1,
    }
}

/// The result with values that differ between attachments blanked, and
/// an empty `dns` (which the reference prints as `{}`) dropped.
fn shape(v: &Value) -> Value {
    let mut v = v.clone();
    if v.get("dns")
        .is_some_and(|d| d.as_object().is_some_and(|o| o.is_empty()))
    {
        v.as_object_mut().unwrap().remove("dns");
    }
    if let Some(ifs) = v.get_mut("interfaces").and_then(Value::as_array_mut) {
        for i in ifs {
            i["mac"] = json!("MAC");
            i["sandbox"] = json!("SANDBOX");
        }
    }
    v
}

fn static_conf(version: &str, extra: Value) -> Value {
    let mut v = json!({
        "cniVersion": version, "name": "refnet", "type": "macvlan", "master": "veth0",
        "ipam": {"type": "static",
            "addresses": [{"address": "10.1.0.20/24", "gateway": "10.1.0.1"}],
            "routes": [{"dst": "0.0.0.0/0"}, {"dst": "10.8.0.0/16", "gw": "10.1.0.254"}]}
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// ADD, CHECK, DEL, DEL with `plugin`; the state and result after ADD.
fn cycle(lab: &Lab, plugin: &Path, conf: &Value, id: &str) -> (State, Value) {
    let c = Container::new();
    let env = [("CNI_CONTAINERID", id)];
    let r = lab.plugin_env(plugin, "ADD", conf, &c, "eth0", &env);
    let res = r.expect_ok().clone();
    let st = state(&c, "eth0");
    let v = conf["cniVersion"].as_str().unwrap();
    if v >= "0.4.0" {
        lab.plugin_env(plugin, "CHECK", &with_prev(conf, &res), &c, "eth0", &env)
            .expect_ok();
    }
    lab.plugin_env(plugin, "DEL", &with_prev(conf, &res), &c, "eth0", &env)
        .expect_ok();
    lab.plugin_env(plugin, "DEL", &with_prev(conf, &res), &c, "eth0", &env)
        .expect_ok();
    c.assert_clean(&[]);
    (st, res)
}

#[test]
#[ignore = "needs root"]
fn same_state_and_shape_with_static_ipam() {
    need_reference!();
    let lab = Lab::new();
    for v in ["0.3.0", "0.3.1", "0.4.0", "1.0.0"] {
        for extra in [
            json!({}),
            json!({"mode": "private", "mtu": 1400}),
            json!({"mode": "vepa"}),
        ] {
            let conf = static_conf(v, extra.clone());
            let (rs, rr) = cycle(&lab, reference(), &conf, "ref1");
            let (os, or) = cycle(&lab, ours(), &conf, "ours1");
            assert_eq!(rs, os, "{v} {extra}: link state");
            assert_eq!(shape(&rr), shape(&or), "{v} {extra}: result shape");
        }
    }
}

#[test]
#[ignore = "needs root"]
fn same_state_and_shape_l2_only() {
    need_reference!();
    let lab = Lab::new();
    for v in ["0.3.1", "1.0.0"] {
        let conf =
            json!({"cniVersion": v, "name": "refnet", "type": "macvlan", "master": "veth0", "ipam": {}});
        let (rs, rr) = cycle(&lab, reference(), &conf, "ref1");
        let (os, or) = cycle(&lab, ours(), &conf, "ours1");
        assert_eq!(rs, os, "{v}");
        assert_eq!(shape(&rr), shape(&or), "{v}");
    }
}

#[test]
#[ignore = "needs root"]
fn same_with_host_local_and_leases_released() {
    need_reference!();
    let lab = Lab::new();
    let data = lab.dir.0.join("host-local");
    for v in ["0.4.0", "1.0.0"] {
        let conf = json!({"cniVersion": v, "name": "hlnet", "type": "macvlan", "master": "veth0",
            "ipam": {"type": "host-local", "dataDir": data.display().to_string(),
                "ranges": [[{"subnet": "10.1.0.0/24", "rangeStart": "10.1.0.100", "rangeEnd": "10.1.0.120", "gateway": "10.1.0.1"}]],
                "routes": [{"dst": "0.0.0.0/0"}]}});
        let (mut rs, rr) = cycle(&lab, reference(), &conf, "ref1");
        let (mut os, or) = cycle(&lab, ours(), &conf, "ours1");
        // host-local hands out the next free address: compare all but its value.
        for s in [&mut rs, &mut os] {
            assert_eq!(s.addresses.len(), 1);
            assert!(s.addresses[0].starts_with("10.1.0.1") && s.addresses[0].ends_with("/24"));
            s.addresses.clear();
            s.routes.retain(|r| !r.starts_with("10.1.0.0/24"));
        }
        assert_eq!(rs, os, "{v}");
        let blank = |mut r: Value| {
            r["ips"][0]["address"] = json!("ADDR");
            shape(&r)
        };
        assert_eq!(blank(rr), blank(or), "{v}");
        // Both released their lease: only host-local's bookkeeping is left.
        let left: Vec<String> = std::fs::read_dir(data.join("hlnet"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("10."))
            .collect();
        assert!(left.is_empty(), "{v}: leases left: {left:?}");
    }
}

#[test]
#[ignore = "needs root"]
fn where_the_reference_is_wrong() {
    need_reference!();
    let lab = Lab::new();
    let both = [("reference", reference()), ("mvl-cni", ours())];

    // A bad mode is invalid configuration (7), not an internal error (999).
    let bad = static_conf("1.0.0", json!({"mode": "bridged"}));
    for (who, p) in both {
        let c = Container::new();
        let o = lab.plugin_env(p, "ADD", &bad, &c, "eth0", &[]);
        eprintln!("bad mode: {who} answers code {} ({})", o.code(), o.msg());
        if who == "mvl-cni" {
            o.expect_code(7);
        }
    }

    // An IPAM failure leaves no link in the container.
    let ipam_fails = static_conf(
        "1.0.0",
        json!({"ipam": {"type": "static", "addresses": [{"address": "bogus"}]}}),
    );
    // A failure after IPAM (a gateway that is not on the link) neither.
    let route_fails = static_conf(
        "1.0.0",
        json!({"ipam": {"type": "static", "addresses": [{"address": "10.1.0.21/24"}],
            "routes": [{"dst": "10.9.0.0/16", "gw": "192.0.2.1"}]}}),
    );
    for (case, conf) in [("IPAM failure", &ipam_fails), ("route failure", &route_fails)] {
        for (who, p) in both {
            let c = Container::new();
            let o = lab.plugin_env(p, "ADD", conf, &c, "eth0", &[]);
            assert!(!o.ok, "{who}: {case} must fail");
            if who == "mvl-cni" {
                c.assert_clean(&[]);
            } else {
                std::thread::sleep(std::time::Duration::from_millis(50));
                let left: Vec<String> = c.links().into_iter().map(|l| l.name).collect();
                eprintln!(
                    "{case}: the reference answers code {} and leaves {left:?} in the container",
                    o.code()
                );
            }
        }
    }

    // DEL after the master is gone succeeds.
    let l2 =
        json!({"cniVersion": "1.0.0", "name": "refnet", "type": "macvlan", "master": "veth0", "ipam": {}});
    for (who, p) in both {
        let lab = Lab::new();
        let c = Container::new();
        lab.plugin_env(p, "ADD", &l2, &c, "eth0", &[]).expect_ok();
        lab.host_nl().delete_link("veth0").unwrap();
        let o = lab.plugin_env(p, "DEL", &l2, &c, "eth0", &[]);
        eprintln!("DEL with the master gone: {who} ok={} {}", o.ok, o.msg());
        if who == "mvl-cni" {
            o.expect_ok();
        }
    }

    // At 1.1.0 the Debian reference and its IPAM plugins refuse; ours
    // speaks 1.1.0 and talks to the IPAM plugin at 1.0.0.
    let v110 = static_conf("1.1.0", json!({}));
    let c = Container::new();
    let o = lab.plugin_env(reference(), "ADD", &v110, &c, "eth0", &[]);
    eprintln!("1.1.0: reference ok={} code {}", o.ok, o.code());
    let res = lab
        .plugin_env(ours(), "ADD", &v110, &c, "eth0", &[])
        .expect_ok()
        .clone();
    assert_eq!(res["cniVersion"], "1.1.0");
    assert_eq!(res["ips"][0]["address"], "10.1.0.20/24");
    lab.plugin_env(ours(), "CHECK", &with_prev(&v110, &res), &c, "eth0", &[])
        .expect_ok();
    lab.exec(ours(), "GC", &v110, &[]).expect_ok();
    lab.plugin_env(ours(), "DEL", &v110, &c, "eth0", &[]).expect_ok();
    c.assert_clean(&[]);
}
