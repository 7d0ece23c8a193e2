//! The plugin binary against the real kernel, hermetically: private
//! namespaces, a veth master, a scriptable fake IPAM plugin. Needs root: the
//! tests are ignored ("needs root") unless run with `--include-ignored`,
//! as `scripts/test.sh` does as root.

#[macro_use]
mod common;

use std::path::Path;

use common::{conf, with_prev, Container, Lab};
use mvl_core::{Flags, MacAddr, Mode};
use serde_json::{json, Value};

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

#[test]
#[ignore = "needs root"]
fn every_version_add_check_del_del() {
    let lab = Lab::new();
    for v in mvl_cni::Version::ALL {
        let v = v.as_str();
        let c = Container::new();
        let cf = conf(v, json!({}));
        lab.clear_ipam_log();
        let r = lab.cni("ADD", &cf, &c, "eth0");
        let res = r.expect_ok().clone();
        assert_eq!(res["cniVersion"], v);
        // The link: a bridge-mode macvlan on veth0, up, addressed, routed.
        let l = c.link("eth0").expect("eth0 in the container");
        assert!(l.is_macvlan() && l.is_up(), "{v}: {l:?}");
        assert_eq!(l.macvlan.as_ref().unwrap().mode, Some(Mode::Bridge));
        assert_eq!(c.addresses("eth0"), vec!["10.1.0.10/24"], "{v}");
        assert!(
            c.routes("eth0").contains(&"0.0.0.0/0 via 10.1.0.1".to_string()),
            "{v}"
        );
        assert_eq!(c.links().len(), 1, "{v}: only eth0");
        let sysctl = mvl_cni::net::read_sysctl(&c.ns, "net/ipv4/conf/eth0/arp_notify");
        assert_eq!(sysctl.as_deref(), Some("1"), "{v}: arp_notify");
        // The result's shape for the version.
        match v {
            "0.1.0" | "0.2.0" => {
                assert_eq!(res["ip4"]["ip"], "10.1.0.10/24");
                assert_eq!(res["ip4"]["gateway"], "10.1.0.1");
                assert!(res.get("interfaces").is_none());
            }
            _ => {
                assert_eq!(res["interfaces"][0]["name"], "eth0");
                assert_eq!(res["interfaces"][0]["sandbox"], c.path.as_str());
                assert_eq!(
                    res["interfaces"][0]["mac"].as_str().unwrap(),
                    l.address.unwrap().to_string()
                );
                assert_eq!(res["ips"][0]["interface"], 0);
                assert_eq!(res["ips"][0]["address"], "10.1.0.10/24");
                assert_eq!(res["routes"][0]["dst"], "0.0.0.0/0");
                let has_version = res["ips"][0].get("version").is_some();
                assert_eq!(has_version, v.starts_with("0."), "{v}: ips[].version");
                assert_eq!(res["interfaces"][0].get("mtu").is_some(), v == "1.1.0", "{v}");
            }
        }
        assert_eq!(res["dns"]["nameservers"][0], "10.1.0.1", "{v}: IPAM dns kept");
        // CHECK exists from 0.4.0 on.
        let ck = lab.cni("CHECK", &with_prev(&cf, &res), &c, "eth0");
        if v < "0.4.0" {
            ck.expect_code(1);
        } else {
            ck.expect_ok();
        }
        // STATUS and GC exist from 1.1.0 on.
        for cmd in ["STATUS", "GC"] {
            let o = lab.exec(Path::new(common::BIN), cmd, &cf, &[]);
            if v == "1.1.0" {
                o.expect_ok();
            } else {
                o.expect_code(1);
            }
        }
        let del = with_prev(&cf, &res);
        lab.cni("DEL", &del, &c, "eth0").expect_ok();
        assert!(c.link("eth0").is_none(), "{v}: eth0 gone at once");
        lab.cni("DEL", &del, &c, "eth0").expect_ok();
        c.assert_clean(&[]);
        let mut want = vec!["ADD"];
        if v >= "0.4.0" {
            want.push("CHECK");
        }
        if v == "1.1.0" {
            want.extend(["STATUS", "GC"]);
        }
        want.extend(["DEL", "DEL"]);
        assert_eq!(lab.ipam_log(), want, "{v}: IPAM calls");
        // The IPAM plugin gets the very configuration we got.
        let fwd: Value =
            serde_json::from_str(&std::fs::read_to_string(lab.dir.0.join("ipam-stdin-DEL")).unwrap())
                .unwrap();
        assert_eq!(fwd, del, "{v}");
    }
}

#[test]
#[ignore = "needs root"]
fn l2_only() {
    let lab = Lab::new();
    for v in ["0.3.1", "0.4.0", "1.0.0", "1.1.0"] {
        let c = Container::new();
        let cf = conf(v, json!({"ipam": {}}));
        let res = lab.cni("ADD", &cf, &c, "net1").expect_ok().clone();
        assert!(res.get("ips").is_none(), "{v}: {res}");
        let l = c.link("net1").unwrap();
        assert!(l.is_up());
        assert!(c.addresses("net1").is_empty());
        lab.cni("CHECK", &with_prev(&cf, &res), &c, "net1");
        lab.cni("DEL", &cf, &c, "net1").expect_ok();
        lab.cni("DEL", &cf, &c, "net1").expect_ok();
        c.assert_clean(&[]);
    }
    // Before 0.3.0 a result cannot describe it: refused before anything is made.
    let c = Container::new();
    lab.cni("ADD", &conf("0.2.0", json!({"ipam": {}})), &c, "eth0")
        .expect_code(1);
    assert!(c.links().is_empty());
    assert!(lab.ipam_log().is_empty());
}

#[test]
#[ignore = "needs root"]
fn refusals_leave_nothing() {
    let lab = Lab::new();
    let c = Container::new();
    let cases: Vec<(Value, u64, &[&str])> = vec![
        (conf("1.0.0", json!({"mode": "passthrough"})), 7, &["passthrough"]),
        (conf("1.0.0", json!({"mtu": 9000})), 7, &["9000", "1500", "veth0"]),
        (conf("1.0.0", json!({"mtu": -3})), 7, &["-3"]),
        (
            conf("1.0.0", json!({"mac": "01:00:5e:00:00:01"})),
            7,
            &["01:00:5e:00:00:01", "multicast"],
        ),
        (
            conf("1.0.0", json!({"mac": "00:00:00:00:00:00"})),
            7,
            &["00:00:00:00:00:00"],
        ),
        (conf("1.0.0", json!({"mac": "not-a-mac"})), 7, &["not-a-mac"]),
        (conf("1.0.0", json!({"nodst": true})), 7, &["nodst"]),
        (conf("1.0.0", json!({"mtu": "1500"})), 7, &["mtu"]),
        (conf("9.9.9", json!({})), 1, &["9.9.9"]),
        (conf("1.0.0", json!({"name": null})), 7, &["name"]),
        (conf("1.0.0", json!({"master": "nosuchdev"})), 100, &["nosuchdev"]),
        (
            conf(
                "1.0.0",
                json!({"master": null, "masterMatch": "02:12:34:56:78:9a"}),
            ),
            100,
            &["02:12:34:56:78:9a"],
        ),
        (
            conf("1.0.0", json!({"ipam": {"type": "no-such-ipam"}})),
            104,
            &["no-such-ipam", "CNI_PATH"],
        ),
    ];
    for (cf, code, words) in cases {
        let msg = lab.cni("ADD", &cf, &c, "eth0").expect_code(code);
        for w in words {
            assert!(msg.contains(w), "{cf}: message {msg:?} should name {w}");
        }
        assert!(c.links().is_empty(), "{cf}: left {:?}", c.links());
    }
    assert!(
        lab.ipam_log().is_empty(),
        "IPAM was not called for refused configs"
    );
    let cf = conf("1.0.0", json!({}));
    // Not JSON.
    let o = lab.exec(
        Path::new(common::BIN),
        "ADD",
        &Value::String("{".into()),
        &[
            ("CNI_CONTAINERID", "x"),
            ("CNI_NETNS", &c.path),
            ("CNI_IFNAME", "eth0"),
        ],
    );
    o.expect_code(6);
    // Missing and bad environment variables name themselves.
    let o = lab.exec(
        Path::new(common::BIN),
        "ADD",
        &cf,
        &[("CNI_NETNS", &c.path), ("CNI_IFNAME", "eth0")],
    );
    assert!(o.expect_code(4).contains("CNI_CONTAINERID"));
    let o = lab.cni_env("ADD", &cf, &c, "eth0", &[("CNI_IFNAME", "this-name-is-too-long")]);
    assert!(o.expect_code(4).contains("CNI_IFNAME"));
    let o = lab.cni_env("ADD", &cf, &c, "eth0", &[("CNI_ARGS", "MAC")]);
    assert!(o.expect_code(4).contains("CNI_ARGS"));
    let o = lab.exec(Path::new(common::BIN), "FROB", &cf, &[]);
    assert!(o.expect_code(4).contains("FROB"));
    // CNI_NETNS that is not a namespace.
    let o = lab.cni_env("ADD", &cf, &c, "eth0", &[("CNI_NETNS", "/proc/self/status")]);
    o.expect_code(101);
    let o = lab.cni_env("ADD", &cf, &c, "eth0", &[("CNI_NETNS", "/nonexistent/ns")]);
    o.expect_code(101);
    // The plugin's own namespace.
    let own = format!(
        "/proc/{}/fd/{}",
        std::process::id(),
        std::os::fd::AsRawFd::as_raw_fd(&lab.host)
    );
    lab.cni_env("ADD", &cf, &c, "eth0", &[("CNI_NETNS", &own)])
        .expect_code(4);
    assert!(lab.host_nl().link("eth0").is_err());
    // The name is taken in the container.
    c.nl().add_veth("eth0", "peer0").unwrap();
    let msg = lab.cni("ADD", &cf, &c, "eth0").expect_code(102);
    assert!(msg.contains("eth0"), "{msg}");
    let names: Vec<String> = c.links().into_iter().map(|l| l.name).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // DEL leaves a device that is not a macvlan alone.
    lab.cni("DEL", &cf, &c, "eth0").expect_ok();
    assert!(c.link("eth0").is_some());
    assert!(lab.ipam_log().iter().all(|c| c == "DEL"));
    // The MAC of the master itself (not passthru).
    let master_mac = lab.host_nl().link("veth0").unwrap().address.unwrap().to_string();
    let c2 = Container::new();
    let msg = lab
        .cni("ADD", &conf("1.0.0", json!({"mac": master_mac})), &c2, "eth0")
        .expect_code(7);
    assert!(msg.contains(&master_mac), "{msg}");
    assert!(c2.links().is_empty());
}

#[test]
#[ignore = "needs root"]
fn mac_precedence_mtu_and_broadcast_knobs() {
    let lab = Lab::new();
    let c = Container::new();
    let cf = conf(
        "1.0.0",
        json!({"mac": "02:00:00:00:00:01", "mtu": 1400, "bcqueuelen": 2000, "bclim": -1, "ipam": {}}),
    );
    lab.cni("ADD", &cf, &c, "eth0").expect_ok();
    let l = c.link("eth0").unwrap();
    assert_eq!(l.address, Some(mac("02:00:00:00:00:01")));
    assert_eq!(l.mtu, Some(1400));
    let mv = l.macvlan.unwrap();
    assert_eq!(mv.bc_queue_len, Some(2000));
    assert_eq!(mv.bc_cutoff, Some(-1));
    lab.cni("DEL", &cf, &c, "eth0").expect_ok();
    // CNI_ARGS MAC beats the configuration's.
    let args = [("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=p;MAC=02:00:00:00:00:02")];
    let res = lab.cni_env("ADD", &cf, &c, "eth1", &args).expect_ok().clone();
    assert_eq!(res["interfaces"][0]["mac"], "02:00:00:00:00:02");
    assert_eq!(c.link("eth1").unwrap().address, Some(mac("02:00:00:00:00:02")));
    lab.cni_env("CHECK", &with_prev(&cf, &res), &c, "eth1", &args)
        .expect_ok();
    lab.cni("DEL", &cf, &c, "eth1").expect_ok();
    // runtimeConfig.mac beats both.
    let mut rc = cf.clone();
    rc["runtimeConfig"] = json!({"mac": "02:00:00:00:00:03"});
    lab.cni_env("ADD", &rc, &c, "eth2", &args).expect_ok();
    assert_eq!(c.link("eth2").unwrap().address, Some(mac("02:00:00:00:00:03")));
    // A second attachment with a MAC that is in use on the master: a
    // conflict that lasts (107), not "try again later" (11). The message
    // names the MAC, where it came from, the attachment and the master, once.
    let c2 = Container::new();
    let msg = lab
        .cni_env("ADD", &rc, &c2, "eth0", &[("CNI_CONTAINERID", "second")])
        .expect_code(107);
    assert_eq!(
        msg,
        "cannot bring up eth0 of container second: its MAC 02:00:00:00:00:03 (from runtimeConfig.mac) \
         is already used by another macvlan on master veth0, and the macvlans of a master need distinct MACs"
    );
    c2.assert_clean(&[]);
    lab.cni("DEL", &rc, &c, "eth2").expect_ok();
    c.assert_clean(&[]);
}

#[test]
#[ignore = "needs root"]
fn every_mode_and_flag() {
    let lab = Lab::new();
    let c = Container::new();
    let cases = [
        (json!({"mode": "private"}), Mode::Private, Flags::NONE),
        (json!({"mode": "vepa"}), Mode::Vepa, Flags::NONE),
        (json!({"mode": "bridge"}), Mode::Bridge, Flags::NONE),
        (
            json!({"mode": "passthru", "nopromisc": true}),
            Mode::Passthru,
            Flags::NOPROMISC,
        ),
        (
            json!({"mode": "source", "nodst": true, "sourceMacs": ["02:00:00:00:00:0a", "02:00:00:00:00:0b"]}),
            Mode::Source,
            Flags::NODST,
        ),
    ];
    for (extra, mode, flags) in cases {
        let cf = conf("1.1.0", extra.clone());
        let res = lab.cni("ADD", &cf, &c, "eth0").expect_ok().clone();
        let mv = c.link("eth0").unwrap().macvlan.unwrap();
        assert_eq!((mv.mode, mv.flags), (Some(mode), flags), "{extra}");
        if mode == Mode::Source {
            let mut got = mv.macaddrs.clone();
            got.sort();
            assert_eq!(got, vec![mac("02:00:00:00:00:0a"), mac("02:00:00:00:00:0b")]);
        }
        lab.cni("CHECK", &with_prev(&cf, &res), &c, "eth0").expect_ok();
        // CHECK with another mode in the configuration fails.
        let other = conf(
            "1.1.0",
            json!({"mode": if mode == Mode::Vepa { "bridge" } else { "vepa" }}),
        );
        let msg = lab
            .cni("CHECK", &with_prev(&other, &res), &c, "eth0")
            .expect_code(105);
        assert!(msg.contains("mode"), "{msg}");
        lab.cni("DEL", &cf, &c, "eth0").expect_ok();
        c.assert_clean(&[]);
    }
}

#[test]
#[ignore = "needs root"]
fn rollback_leaves_nothing_and_releases_the_lease() {
    let lab = Lab::new();
    let c = Container::new();
    let cf = conf("1.0.0", json!({}));
    // IPAM ADD fails: its code comes through, the link goes, IPAM DEL is called.
    lab.ipam_fail("ADD", 11);
    let msg = lab.cni("ADD", &cf, &c, "eth0").expect_code(11);
    assert!(msg.contains("fake IPAM refuses"), "{msg}");
    c.assert_clean(&[]);
    assert_eq!(lab.ipam_log(), ["ADD", "DEL"]);
    lab.ipam_ok();
    // Configuring fails after IPAM: a route whose gateway is not on the link.
    lab.clear_ipam_log();
    lab.set_ipam_result(&json!({"cniVersion": "1.0.0",
        "ips": [{"address": "10.1.0.11/24"}], "routes": [{"dst": "10.9.0.0/16", "gw": "192.0.2.1"}]}));
    let msg = lab.cni("ADD", &cf, &c, "eth0").expect_code(103);
    assert!(msg.contains("10.9.0.0/16") && msg.contains("192.0.2.1"), "{msg}");
    c.assert_clean(&[]);
    assert_eq!(lab.ipam_log(), ["ADD", "DEL"]);
    // IPAM returns no address.
    lab.clear_ipam_log();
    lab.set_ipam_result(&json!({"cniVersion": "1.0.0"}));
    lab.cni("ADD", &cf, &c, "eth0").expect_code(104);
    c.assert_clean(&[]);
    assert_eq!(lab.ipam_log(), ["ADD", "DEL"]);
    // IPAM prints garbage.
    lab.clear_ipam_log();
    std::fs::write(lab.dir.0.join("ipam-result.json"), "not json").unwrap();
    lab.cni("ADD", &cf, &c, "eth0").expect_code(104);
    c.assert_clean(&[]);
    assert_eq!(lab.ipam_log(), ["ADD", "DEL"]);
}

#[test]
#[ignore = "needs root"]
fn del_succeeds_when_things_are_gone() {
    let lab = Lab::new();
    let cf = conf("1.0.0", json!({}));
    // The link is gone (deleted by someone else).
    let c = Container::new();
    lab.cni("ADD", &cf, &c, "eth0").expect_ok();
    c.nl().delete_link("eth0").unwrap();
    lab.cni("DEL", &cf, &c, "eth0").expect_ok();
    // The master is gone (and its macvlans with it).
    lab.cni("ADD", &cf, &c, "eth0").expect_ok();
    lab.host_nl().delete_link("veth0").unwrap();
    lab.cni("DEL", &cf, &c, "eth0").expect_ok();
    c.assert_clean(&[]);
    // The namespace is gone: its path no longer exists, or is a plain file
    // (a bind mount that was unmounted).
    let gone = lab.dir.0.join("no-such-netns").display().to_string();
    let plain = lab.dir.0.join("unmounted-netns");
    std::fs::write(&plain, "").unwrap();
    for path in [gone, plain.display().to_string()] {
        lab.cni_env("DEL", &cf, &c, "eth0", &[("CNI_NETNS", &path)])
            .expect_ok();
    }
    // No CNI_NETNS at all: only IPAM is released.
    lab.clear_ipam_log();
    let o = lab.exec(
        Path::new(common::BIN),
        "DEL",
        &cf,
        &[("CNI_CONTAINERID", "x"), ("CNI_IFNAME", "eth0")],
    );
    o.expect_ok();
    assert_eq!(lab.ipam_log(), ["DEL"]);
    // A failing IPAM DEL is reported, and the link is still removed.
    let c3 = Container::new();
    let lab2 = Lab::new();
    lab2.cni("ADD", &cf, &c3, "eth0").expect_ok();
    lab2.ipam_fail("DEL", 5);
    lab2.cni("DEL", &cf, &c3, "eth0").expect_code(5);
    assert!(c3.link("eth0").is_none());
    c3.assert_clean(&[]);
}

#[test]
#[ignore = "needs root"]
fn del_is_done_when_it_returns() {
    let lab = Lab::new();
    let c = Container::new();
    // `syncDelete` (from versions whose DEL finished in the background) is
    // accepted and changes nothing.
    for extra in [
        json!({}),
        json!({"mac": "02:00:00:00:02:01"}),
        json!({"syncDelete": false}),
        json!({"mode": "passthru"}),
    ] {
        let cf = conf("1.0.0", extra);
        for _ in 0..2 {
            lab.cni("ADD", &cf, &c, "eth0").expect_ok();
            lab.cni("DEL", &cf, &c, "eth0").expect_ok();
            // No waiting: nothing of the link is left, under any name.
            assert!(c.links().is_empty(), "{cf}: {:?}", c.links());
        }
    }
}

#[test]
#[ignore = "needs root"]
fn default_master_in_host_and_container() {
    let lab = Lab::new();
    let c = Container::new();
    let cf = conf("1.0.0", json!({"master": null, "ipam": {}}));
    let msg = lab.cni("ADD", &cf, &c, "eth0").expect_code(100);
    assert!(msg.contains("default route"), "{msg}");
    let mut hnl = lab.host_nl();
    let veth0 = hnl.link("veth0").unwrap();
    hnl.add_route(&mvl_netlink::Route::default_via("10.1.0.254".parse().unwrap()).dev(veth0.index))
        .unwrap();
    lab.cni("ADD", &cf, &c, "eth0").expect_ok();
    assert_eq!(c.link("eth0").unwrap().link, Some(veth0.index));
    lab.cni("DEL", &cf, &c, "eth0").expect_ok();
    // linkInContainer: the master is a device inside the container, found
    // by the container's default route.
    let c2 = Container::new();
    let mut cnl = c2.nl();
    cnl.add_veth("uplink", "uplink-peer").unwrap();
    cnl.set_up("uplink", true).unwrap();
    cnl.set_up("uplink-peer", true).unwrap();
    cnl.add_address("uplink", "10.2.0.5/24".parse().unwrap()).unwrap();
    let up = cnl.link("uplink").unwrap();
    cnl.add_route(&mvl_netlink::Route::default_via("10.2.0.1".parse().unwrap()).dev(up.index))
        .unwrap();
    let cf2 = conf(
        "1.1.0",
        json!({"master": null, "linkInContainer": true, "ipam": {}}),
    );
    let res = lab.cni("ADD", &cf2, &c2, "net1").expect_ok().clone();
    assert_eq!(c2.link("net1").unwrap().link, Some(up.index));
    lab.cni("CHECK", &with_prev(&cf2, &res), &c2, "net1").expect_ok();
    lab.cni("DEL", &cf2, &c2, "net1").expect_ok();
    c2.assert_clean(&["uplink", "uplink-peer"]);
    // linkInContainer with a named master.
    let cf3 = conf(
        "1.1.0",
        json!({"master": "uplink", "linkInContainer": true, "ipam": {}}),
    );
    lab.cni("ADD", &cf3, &c2, "net1").expect_ok();
    lab.cni("DEL", &cf3, &c2, "net1").expect_ok();
    c2.assert_clean(&["uplink", "uplink-peer"]);
}

#[test]
#[ignore = "needs root"]
fn master_match_by_mac_and_altname() {
    let lab = Lab::new();
    let c = Container::new();
    let mut hnl = lab.host_nl();
    let veth0 = hnl.link("veth0").unwrap();
    let by_mac = conf(
        "1.0.0",
        json!({"master": null, "masterMatch": veth0.address.unwrap().to_string(), "ipam": {}}),
    );
    lab.cni("ADD", &by_mac, &c, "eth0").expect_ok();
    assert_eq!(c.link("eth0").unwrap().link, Some(veth0.index));
    lab.cni("DEL", &by_mac, &c, "eth0").expect_ok();
    // An alternative name, longer than an interface name can be.
    use mvl_netlink::packet::link::{LinkAttribute, LinkMessage, Prop};
    use mvl_netlink::packet::RouteNetlinkMessage;
    let mut m = LinkMessage::default();
    m.header.index = veth0.index;
    m.attributes.push(LinkAttribute::PropList(vec![Prop::AltIfName(
        "uplink-of-this-node-everywhere".into(),
    )]));
    hnl.request(
        RouteNetlinkMessage::NewLinkProp(m),
        libc::NLM_F_CREATE as u16 | libc::NLM_F_APPEND as u16,
    )
    .unwrap();
    let by_alt = conf(
        "1.0.0",
        json!({"master": null, "masterMatch": "uplink-of-this-node-everywhere", "ipam": {}}),
    );
    let res = lab.cni("ADD", &by_alt, &c, "eth0").expect_ok().clone();
    assert_eq!(c.link("eth0").unwrap().link, Some(veth0.index));
    lab.cni("CHECK", &with_prev(&by_alt, &res), &c, "eth0")
        .expect_ok();
    lab.cni("DEL", &by_alt, &c, "eth0").expect_ok();
    let none = conf(
        "1.0.0",
        json!({"master": null, "masterMatch": "no-such-altname", "ipam": {}}),
    );
    lab.cni("ADD", &none, &c, "eth0").expect_code(100);
    c.assert_clean(&[]);
}

#[test]
#[ignore = "needs root"]
fn status_gc_and_ipam_versions() {
    let lab = Lab::new();
    let bin = Path::new(common::BIN);
    let cf = conf("1.1.0", json!({}));
    lab.exec(bin, "STATUS", &cf, &[]).expect_ok();
    let msg = lab
        .exec(bin, "STATUS", &conf("1.1.0", json!({"master": "gone0"})), &[])
        .expect_code(50);
    assert!(msg.contains("gone0"), "{msg}");
    lab.ipam_fail("STATUS", 50);
    lab.exec(bin, "STATUS", &cf, &[]).expect_code(50);
    lab.ipam_ok();
    // GC needs CNI_PATH, is forwarded with the valid attachments.
    let mut gc = cf.clone();
    gc["cni.dev/valid-attachments"] = json!([{"containerID": "a", "ifname": "eth0"}]);
    lab.exec(bin, "GC", &gc, &[("CNI_PATH", "")]).expect_code(4);
    lab.clear_ipam_log();
    lab.exec(bin, "GC", &gc, &[]).expect_ok();
    assert_eq!(lab.ipam_log(), ["GC"]);
    let fwd: Value =
        serde_json::from_str(&std::fs::read_to_string(lab.dir.0.join("ipam-stdin-GC")).unwrap()).unwrap();
    assert_eq!(fwd["cni.dev/valid-attachments"][0]["containerID"], "a");
    // VERSION.
    let v = lab.exec(bin, "VERSION", &json!({"cniVersion": "1.0.0"}), &[]);
    assert_eq!(v.expect_ok()["cniVersion"], "1.0.0");
    let all: Vec<&str> = v.json["supportedVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(
        all,
        ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    );
    // An IPAM plugin that stops at 1.0.0: ADD falls back, GC is skipped.
    std::fs::write(
        lab.dir.0.join("ipam-versions"),
        r#"{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}"#,
    )
    .unwrap();
    let old_only = lab.bin.join("old-ipam");
    std::fs::write(
        &old_only,
        format!(
            "#!/bin/sh\nin=$(cat)\ncase \"$in\" in *'\"1.1.0\"'*) [ \"$CNI_COMMAND\" != VERSION ] && {{ echo '{{\"code\":1,\"msg\":\"incompatible CNI versions\"}}'; exit 1; }};; esac\nprintf '%s' \"$in\" | CNI_COMMAND=$CNI_COMMAND {}/fake-ipam\n",
            lab.bin.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&old_only)
        .status()
        .unwrap();
    let c = Container::new();
    let oc = conf("1.1.0", json!({"ipam": {"type": "old-ipam"}}));
    lab.clear_ipam_log();
    let res = lab.cni("ADD", &oc, &c, "eth0").expect_ok().clone();
    assert_eq!(res["cniVersion"], "1.1.0");
    assert_eq!(res["ips"][0]["address"], "10.1.0.10/24");
    let fwd: Value =
        serde_json::from_str(&std::fs::read_to_string(lab.dir.0.join("ipam-stdin-ADD")).unwrap()).unwrap();
    assert_eq!(fwd["cniVersion"], "1.0.0", "IPAM got the version it speaks");
    lab.exec(bin, "GC", &oc, &[]).expect_ok();
    lab.cni("DEL", &oc, &c, "eth0").expect_ok();
    let calls: Vec<String> = lab.ipam_log().into_iter().filter(|c| c != "VERSION").collect();
    assert_eq!(calls, ["ADD", "DEL"]);
    c.assert_clean(&[]);
}

#[test]
#[ignore = "needs root"]
fn chained_prev_result_and_check_drift() {
    let lab = Lab::new();
    let c = Container::new();
    let prev = json!({"cniVersion": "1.0.0",
        "interfaces": [{"name": "other0", "sandbox": "/elsewhere"}],
        "ips": [{"interface": 0, "address": "192.168.5.5/24"}]});
    let cf = with_prev(
        &conf("1.0.0", json!({"dns": {"nameservers": ["9.9.9.9"]}})),
        &prev,
    );
    let res = lab.cni("ADD", &cf, &c, "eth0").expect_ok().clone();
    assert_eq!(res["interfaces"].as_array().unwrap().len(), 2);
    assert_eq!(res["interfaces"][1]["name"], "eth0");
    assert_eq!(res["ips"][1]["interface"], 1);
    assert_eq!(
        res["dns"]["nameservers"][0], "9.9.9.9",
        "the configuration's dns wins"
    );
    let ck = with_prev(&conf("1.0.0", json!({})), &res);
    lab.cni("CHECK", &ck, &c, "eth0").expect_ok();
    // prevResult required.
    lab.cni("CHECK", &conf("1.0.0", json!({})), &c, "eth0")
        .expect_code(7);
    // An address removed behind our back.
    let mut nl = c.nl();
    let l = nl.link("eth0").unwrap();
    nl.del_address(l.index, "10.1.0.10/24".parse().unwrap()).unwrap();
    let msg = lab.cni("CHECK", &ck, &c, "eth0").expect_code(105);
    assert!(msg.contains("10.1.0.10/24"), "{msg}");
    // Down.
    nl.add_address(l.index, "10.1.0.10/24".parse().unwrap()).unwrap();
    nl.set_up(l.index, false).unwrap();
    assert!(lab
        .cni("CHECK", &ck, &c, "eth0")
        .expect_code(105)
        .contains("down"));
    nl.set_up(l.index, true).unwrap();
    // Another MAC than prevResult says.
    let mut wrong = res.clone();
    wrong["interfaces"][1]["mac"] = json!("02:00:00:00:00:99");
    let msg = lab
        .cni("CHECK", &with_prev(&conf("1.0.0", json!({})), &wrong), &c, "eth0")
        .expect_code(105);
    assert!(msg.contains("02:00:00:00:00:99"), "{msg}");
    // A configured MTU that differs.
    let msg = lab
        .cni(
            "CHECK",
            &with_prev(&conf("1.0.0", json!({"mtu": 1400})), &res),
            &c,
            "eth0",
        )
        .expect_code(105);
    assert!(
        msg.contains("MTU is 1500, the configuration says 1400") && !msg.contains("Some("),
        "{msg}"
    );
    lab.cni("DEL", &ck, &c, "eth0").expect_ok();
    let msg = lab.cni("CHECK", &ck, &c, "eth0").expect_code(105);
    assert!(msg.contains("missing"), "{msg}");
    c.assert_clean(&[]);
}

#[test]
#[ignore = "needs root"]
fn ipv6_addresses_and_routes() {
    let lab = Lab::new();
    let c = Container::new();
    lab.set_ipam_result(&json!({"cniVersion": "1.0.0",
        "ips": [{"address": "10.1.0.12/24", "gateway": "10.1.0.1"}, {"address": "fd00:1::12/64"}],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "fd00:2::/64", "priority": 50}]}));
    let cf = conf("1.1.0", json!({}));
    let res = lab.cni("ADD", &cf, &c, "eth0").expect_ok().clone();
    assert_eq!(c.addresses("eth0"), vec!["10.1.0.12/24", "fd00:1::12/64"]);
    let mut nl = c.nl();
    let routes = mvl_cni::net::routes(&mut nl).unwrap();
    assert!(
        routes.iter().any(|r| r.destination.to_string() == "fd00:2::/64"),
        "{routes:?}"
    );
    assert_eq!(res["routes"][1]["priority"], 50);
    lab.cni("CHECK", &with_prev(&cf, &res), &c, "eth0").expect_ok();
    lab.cni("DEL", &cf, &c, "eth0").expect_ok();
    c.assert_clean(&[]);
}

#[test]
#[ignore = "needs root"]
fn add_right_after_del() {
    let lab = Lab::new();
    let c = Container::new();
    // The same MAC, address and routes each time, no pause in between: DEL
    // leaves nothing in the way of the next ADD.
    for cf in [
        conf("1.0.0", json!({"mac": "02:00:00:00:01:01"})),
        conf("1.0.0", json!({})),
    ] {
        for _ in 0..5 {
            let res = lab.cni("ADD", &cf, &c, "eth0").expect_ok().clone();
            lab.cni("DEL", &with_prev(&cf, &res), &c, "eth0").expect_ok();
            assert!(c.links().is_empty(), "{:?}", c.links());
        }
    }
    c.assert_clean(&[]);
}

#[test]
fn run_by_hand_it_says_what_it_is() {
    // No CNI_COMMAND (empty counts as unset), stdin left open: it must not wait for it.
    for env in [vec![], vec![("CNI_COMMAND", "")]] {
        let mut c = std::process::Command::new(common::BIN);
        c.env_clear().envs(env);
        let mut child = c
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let open_stdin = child.stdin.take();
        // Bounded: a plugin that reads stdin would wait forever on it.
        let mut exited = false;
        for _ in 0..1000 {
            if child.try_wait().unwrap().is_some() {
                exited = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        if !exited {
            let _ = child.kill();
        }
        drop(open_stdin);
        let o = child.wait_with_output().unwrap();
        assert!(exited, "it waited for stdin: {o:?}");
        assert!(o.status.success(), "{o:?}");
        assert!(o.stdout.is_empty(), "{o:?}");
        let text = String::from_utf8(o.stderr).unwrap();
        assert!(text.starts_with("CNI macvlan plugin mvl-cni version "), "{text}");
        assert!(
            text.contains(
                "CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n"
            ),
            "{text}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn passthru_conflicts_name_the_master_and_the_rule() {
    let lab = Lab::new();
    let pt = conf("1.0.0", json!({"mode": "passthru"}));
    let br = conf("1.0.0", json!({"mode": "bridge"}));
    let env = |id: &'static str| [("CNI_CONTAINERID", id)];
    // The other macvlan is in another container: only the kernel sees it.
    for (first, second, rule) in [
        (
            &pt,
            &br,
            "the master has a passthru macvlan (in another network namespace)",
        ),
        (
            &br,
            &pt,
            "the master already has a macvlan (in another network namespace)",
        ),
    ] {
        let (a, b) = (Container::new(), Container::new());
        lab.cni_env("ADD", first, &a, "eth0", &env("a")).expect_ok();
        lab.clear_ipam_log();
        let msg = lab.cni_env("ADD", second, &b, "eth0", &env("b")).expect_code(107);
        assert!(msg.starts_with("cannot add eth0 of container b"), "{msg}");
        assert!(msg.contains("on master veth0: "), "{msg}");
        assert!(msg.contains(rule), "{msg}");
        assert!(
            msg.ends_with("a passthru macvlan must be the only macvlan on its master"),
            "{msg}"
        );
        assert!(
            !msg.contains("veth0 on index") && !msg.contains("Invalid argument"),
            "{msg}"
        );
        b.assert_clean(&[]);
        assert_eq!(lab.ipam_log(), ["ADD", "DEL"], "the lease is given back");
        lab.cni_env("DEL", first, &a, "eth0", &env("a")).expect_ok();
    }
    // A passthru macvlan in the master's own namespace is named.
    let mut hnl = lab.host_nl();
    hnl.create_macvlan(&mvl_netlink::NewMacvlanLink::new("mvp", "veth0").mode(Mode::Passthru))
        .unwrap();
    let c = Container::new();
    let msg = lab.cni_env("ADD", &br, &c, "eth0", &env("c")).expect_code(107);
    assert_eq!(
        msg,
        "cannot add eth0 of container c on master veth0: the master has the passthru macvlan mvp, \
         and a passthru macvlan must be the only macvlan on its master"
    );
    c.assert_clean(&[]);
    hnl.delete_link("mvp").unwrap();
    // A macvlan in the master's own namespace is seen before anything is made.
    lab.host_nl()
        .create_macvlan(&mvl_netlink::NewMacvlanLink::new("mv0", "veth0").mode(Mode::Bridge))
        .unwrap();
    let c = Container::new();
    lab.clear_ipam_log();
    let msg = lab.cni_env("ADD", &pt, &c, "eth0", &env("c")).expect_code(107);
    assert_eq!(
        msg,
        "cannot add eth0 of container c in mode passthru on master veth0: the master already has \
         the macvlan(s) mv0, and a passthru macvlan must be the only macvlan on its master"
    );
    assert!(lab.ipam_log().is_empty(), "IPAM was not even asked");
    c.assert_clean(&[]);
}
