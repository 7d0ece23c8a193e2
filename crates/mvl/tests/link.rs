//! `mvl link` as a user runs it, against the real kernel and iproute2.
//!
//! Each test makes a private network namespace (a thread unshares
//! CLONE_NEWNET) and runs the built `mvl` and `ip` from a thread inside it,
//! so both see that namespace and nothing of the host. Without root the
//! tests say so and return.

use std::os::fd::AsRawFd;
use std::process::Command;

use mvl_netlink::NetNs;
use serde_json::Value;

const IP: &str = "/usr/sbin/ip";

/// A private namespace with a veth pair `veth0` — `veth1`.
struct Ns {
    ns: NetNs,
}

/// What a command printed and how it ended.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ns {
    fn new() -> Ns {
        let ns = Ns {
            ns: NetNs::new_private().expect("unshare a network namespace"),
        };
        ns.ip(&["link", "add", "veth0", "type", "veth", "peer", "veth1"]);
        ns
    }

    fn run(&self, prog: &str, args: &[&str]) -> Out {
        let prog = prog.to_string();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        self.ns
            .run(move || {
                let o = Command::new(prog).args(&args).output().expect("spawn");
                Out {
                    code: o.status.code().unwrap_or(-1),
                    stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                }
            })
            .unwrap()
    }

    fn mvl(&self, args: &[&str]) -> Out {
        self.run(env!("CARGO_BIN_EXE_mvl"), args)
    }

    /// `mvl ARGS` that must succeed.
    fn mvl_ok(&self, args: &[&str]) -> String {
        let o = self.mvl(args);
        assert_eq!(o.code, 0, "mvl {args:?}: {}", o.stderr);
        assert!(o.stderr.is_empty(), "{}", o.stderr);
        o.stdout
    }

    /// `mvl ARGS` that must be refused with exit code 1 and `mvl: ...`,
    /// changing nothing; returns the message.
    fn mvl_refused(&self, args: &[&str]) -> String {
        let before = self.ip(&["-d", "link", "show"]);
        let o = self.mvl(args);
        assert_eq!(o.code, 1, "mvl {args:?} should fail: {o:?}");
        assert!(o.stderr.starts_with("mvl: "), "{}", o.stderr);
        assert_eq!(
            self.ip(&["-d", "link", "show"]),
            before,
            "mvl {args:?} changed something"
        );
        o.stderr
    }

    fn ip(&self, args: &[&str]) -> String {
        let o = self.run(IP, args);
        assert_eq!(o.code, 0, "ip {args:?}: {}", o.stderr);
        o.stdout
    }

    fn ip_json(&self, args: &[&str]) -> Value {
        let mut a = vec!["-j"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ip(&a)).unwrap()
    }

    fn mvl_json(&self, args: &[&str]) -> Value {
        let mut a = vec!["-j"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.mvl_ok(&a)).unwrap()
    }
}

/// iproute2 6.1 does not print `bclim`: take it out of ours to compare.
fn without_bclim(mut v: Value) -> Value {
    for l in v.as_array_mut().unwrap() {
        if let Some(d) = l.pointer_mut("/linkinfo/info_data") {
            d.as_object_mut().unwrap().remove("bclim");
        }
    }
    v
}

#[test]
#[ignore = "needs root"]
fn add_set_show_del_agree_with_ip() {
    let ns = Ns::new();
    ns.mvl_ok(&[
        "link",
        "add",
        "mv0",
        "link",
        "veth0",
        "address",
        "02:00:00:00:00:01",
        "mtu",
        "1400",
        "type",
        "macvlan",
        "mode",
        "source",
        "nodst",
        "macaddr",
        "set",
        "02:00:00:00:00:0a",
        "02:00:00:00:00:0b",
        "bcqueuelen",
        "50",
    ]);
    ns.mvl_ok(&[
        "link", "add", "mv1", "link", "veth0", "type", "macvlan", "mode", "bridge",
    ]);
    ns.mvl_ok(&[
        "link",
        "add",
        "pt",
        "link",
        "veth1",
        "type",
        "macvlan",
        "mode",
        "passthru",
        "nopromisc",
    ]);
    // JSON, with and without details, one device and all: the same as ip's.
    for dev in ["mv0", "mv1", "pt", "veth0"] {
        assert_eq!(
            ns.mvl_json(&["-d", "link", "show", dev]),
            ns.ip_json(&["-d", "link", "show", "dev", dev]),
            "{dev}"
        );
        assert_eq!(
            ns.mvl_json(&["link", "show", dev]),
            ns.ip_json(&["link", "show", "dev", dev])
        );
    }
    assert_eq!(
        ns.mvl_json(&["-d", "link", "show"]),
        ns.ip_json(&["-d", "link", "show"])
    );
    // Text: the same as ip's, with and without -d.
    assert_eq!(ns.mvl_ok(&["-d", "link", "show"]), ns.ip(&["-d", "link", "show"]));
    assert_eq!(ns.mvl_ok(&["link"]), ns.ip(&["link"]));
    assert_eq!(
        ns.mvl_ok(&["link", "show", "type", "macvlan"]),
        ns.ip(&["link", "show", "type", "macvlan"])
    );

    // set: generic and macvlan options, iproute2's abbreviations.
    ns.ip(&["link", "set", "veth1", "up"]);
    ns.mvl_ok(&["link", "set", "veth0", "up"]);
    ns.mvl_ok(&[
        "link",
        "set",
        "mv1",
        "up",
        "address",
        "02:00:00:00:00:11",
        "mtu",
        "1300",
    ]);
    ns.mvl_ok(&[
        "link",
        "set",
        "mv0",
        "type",
        "macvlan",
        "macaddr",
        "add",
        "02:00:00:00:00:0c",
        "bclim",
        "-1",
    ]);
    ns.mvl_ok(&[
        "link",
        "set",
        "mv0",
        "type",
        "macvlan",
        "macaddr",
        "del",
        "02:00:00:00:00:0a",
    ]);
    ns.mvl_ok(&[
        "link",
        "set",
        "dev",
        "mv1",
        "type",
        "macvlan",
        "mode",
        "vepa",
        "bcqueuelen",
        "2000",
    ]);
    ns.mvl_ok(&[
        "link", "set", "pt", "type", "macvlan", "mode", "passthru", "flag", "null",
    ]);
    let mv0 = ns.mvl_json(&["-d", "link", "show", "mv0"]);
    let d = &mv0[0]["linkinfo"]["info_data"];
    assert_eq!(d["bclim"], -1, "bclim shows in our output");
    assert_eq!(d["macaddr_count"], 2);
    let mv1 = ns.mvl_json(&["-d", "link", "show", "mv1"]);
    assert_eq!(mv1[0]["address"], "02:00:00:00:00:11");
    assert_eq!(mv1[0]["mtu"], 1300);
    assert_eq!(mv1[0]["operstate"], "UP");
    assert_eq!(mv1[0]["linkinfo"]["info_data"]["mode"], "vepa");
    assert_eq!(mv1[0]["linkinfo"]["info_data"]["usedbcqueuelen"], 2000);
    assert!(
        ns.mvl_json(&["-d", "link", "show", "pt"])[0]["linkinfo"]["info_data"]
            .get("nopromisc")
            .is_none()
    );
    assert_eq!(
        without_bclim(ns.mvl_json(&["-d", "link", "show"])),
        ns.ip_json(&["-d", "link", "show"])
    );
    let text = ns.mvl_ok(&["-d", "link", "show", "mv0"]);
    assert!(text.contains(" bclim -1 "), "{text}");
    assert_eq!(
        text.replace("bclim -1 ", ""),
        ns.ip(&["-d", "link", "show", "mv0"])
    );
    // Rename.
    ns.mvl_ok(&["link", "set", "mv1", "down", "name", "mvx"]);
    assert_eq!(
        ns.mvl_json(&["link", "show", "mvx"])[0]["flags"],
        ns.ip_json(&["link", "show", "mvx"])[0]["flags"]
    );
    // del, then show of a missing device.
    ns.mvl_ok(&["link", "del", "mvx"]);
    ns.mvl_ok(&["link", "delete", "dev", "mv0"]);
    let o = ns.mvl(&["link", "show", "mv0"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with("mvl: ") && o.stderr.contains("no device mv0"),
        "{}",
        o.stderr
    );
    assert_eq!(ns.mvl_ok(&["link"]), ns.ip(&["link"]));
}

#[test]
#[ignore = "needs root"]
fn refusals_change_nothing() {
    let ns = Ns::new();
    ns.mvl_ok(&[
        "link",
        "add",
        "mv0",
        "link",
        "veth0",
        "address",
        "02:00:00:00:00:01",
        "type",
        "macvlan",
        "mode",
        "bridge",
    ]);
    ns.mvl_ok(&[
        "link", "add", "pt", "link", "veth1", "type", "macvlan", "mode", "passthru",
    ]);
    // Refused by the kernel, explained by the core's rules.
    let e = ns.mvl_refused(&[
        "link",
        "add",
        "mv1",
        "link",
        "veth0",
        "address",
        "01:00:5e:00:00:01",
        "type",
        "macvlan",
    ]);
    assert!(e.contains("multicast"), "{e}");
    let e = ns.mvl_refused(&[
        "link",
        "add",
        "mv1",
        "link",
        "veth0",
        "address",
        "00:00:00:00:00:00",
        "type",
        "macvlan",
    ]);
    assert!(e.contains("all-zero"), "{e}");
    let e = ns.mvl_refused(&[
        "link", "add", "mv1", "link", "veth0", "type", "macvlan", "mode", "bridged",
    ]);
    assert!(e.contains("argument of \"mode\" must be"), "{e}");
    let e = ns.mvl_refused(&[
        "link", "add", "mv1", "link", "veth0", "mtu", "9000", "type", "macvlan",
    ]);
    assert!(
        e.contains("MTU 9000") && e.contains("MTU 1500 of its lower veth0"),
        "{e}"
    );
    let e = ns.mvl_refused(&[
        "link",
        "add",
        "mv1",
        "link",
        "veth0",
        "type",
        "macvlan",
        "mode",
        "bridge",
        "nopromisc",
    ]);
    assert!(e.contains("nopromisc flag only valid in passthru mode"), "{e}");
    let e = ns.mvl_refused(&[
        "link",
        "add",
        "mv1",
        "link",
        "veth0",
        "type",
        "macvlan",
        "macaddr",
        "add",
        "02:00:00:00:00:09",
    ]);
    assert!(e.contains("macaddr lists belong to mode source"), "{e}");
    let e = ns.mvl_refused(&[
        "link",
        "add",
        "mv1",
        "link",
        "veth0",
        "type",
        "macvlan",
        "mode",
        "source",
        "macaddr",
        "set",
        "02:00:00:00:00:09",
        "33:33:00:00:00:01",
    ]);
    assert!(e.contains("33:33:00:00:00:01") && e.contains("multicast"), "{e}");
    let e = ns.mvl_refused(&["link", "set", "mv0", "mtu", "1501"]);
    assert!(e.contains("MTU 1501") && e.contains("1500"), "{e}");
    let e = ns.mvl_refused(&["link", "set", "mv0", "address", "ff:ff:ff:ff:ff:ff"]);
    assert!(e.contains("multicast"), "{e}");
    let e = ns.mvl_refused(&["link", "set", "pt", "type", "macvlan", "mode", "bridge"]);
    assert!(e.contains("nothing changes into or out of passthru"), "{e}");
    let e = ns.mvl_refused(&["link", "set", "veth0", "type", "macvlan", "mode", "bridge"]);
    assert!(e.contains("not a macvlan"), "{e}");
    let e = ns.mvl_refused(&["link", "add", "v9", "type", "veth"]);
    assert!(e.contains("macvlans only"), "{e}");
    let e = ns.mvl_refused(&[
        "link", "add", "pt2", "link", "veth0", "type", "macvlan", "mode", "passthru",
    ]);
    assert!(
        e.contains("veth0 already carries mv0") && e.contains("EINVAL"),
        "{e}"
    );
    let e = ns.mvl_refused(&["link", "add", "mv2", "link", "veth1", "type", "macvlan"]);
    assert!(e.contains("passthru macvlan pt"), "{e}");
    let e = ns.mvl_refused(&["link", "add", "mv2", "link", "nosuch", "type", "macvlan"]);
    assert!(e.contains("no device nosuch"), "{e}");
    let e = ns.mvl_refused(&["link", "add", "mv0", "link", "veth0", "type", "macvlan"]);
    assert!(e.contains("already exists") && e.contains("EEXIST"), "{e}");
    ns.mvl_ok(&["link", "set", "mv0", "up"]);
    ns.mvl_ok(&[
        "link",
        "add",
        "mv3",
        "link",
        "veth0",
        "address",
        "02:00:00:00:00:01",
        "type",
        "macvlan",
    ]);
    let e = ns.mvl_refused(&["link", "set", "mv3", "up"]);
    assert!(
        e.contains("already used by mv0") && e.contains("EADDRINUSE"),
        "{e}"
    );
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "add", "vb0", "type", "veth", "peer", "vb1"]);
    ns.ip(&["link", "set", "vb0", "master", "br0"]);
    let e = ns.mvl_refused(&["link", "add", "mv4", "link", "vb0", "type", "macvlan"]);
    assert!(
        e.contains("is a port of bridge br0") && e.contains("EBUSY"),
        "{e}"
    );
}

#[test]
#[ignore = "needs root"]
fn namespaces_by_path() {
    let ns = Ns::new();
    let other = NetNs::new_private().unwrap();
    // The test process holds the other namespace open; a path to that
    // descriptor names it for the child.
    let path = format!("/proc/{}/fd/{}", std::process::id(), other.as_raw_fd());
    ns.mvl_ok(&[
        "link", "add", "mv0", "link", "veth0", "type", "macvlan", "mode", "bridge",
    ]);
    ns.mvl_ok(&["link", "set", "mv0", "netns", &path, "name", "eth0"]);
    assert!(ns.mvl(&["link", "show", "mv0"]).code == 1);
    let there = ns.mvl_json(&["-n", &path, "-d", "link", "show", "eth0"]);
    assert_eq!(there[0]["linkinfo"]["info_data"]["mode"], "bridge");
    assert!(there[0]["link_netnsid"].is_i64(), "{there}");
    assert!(there[0]["link_index"].is_u64(), "{there}");
    // ip, run inside the other namespace, says the same.
    let theirs = other
        .run(|| {
            Command::new(IP)
                .args(["-j", "-d", "link", "show", "eth0"])
                .output()
                .unwrap()
        })
        .unwrap();
    let theirs: Value = serde_json::from_slice(&theirs.stdout).unwrap();
    assert_eq!(there, theirs);
    // Created directly there, on a lower here.
    ns.mvl_ok(&[
        "link", "add", "mv1", "link", "veth0", "netns", &path, "type", "macvlan",
    ]);
    let text = ns.mvl_ok(&["-n", &path, "link", "show", "mv1"]);
    assert!(text.contains("mv1@if"), "{text}");
    assert!(text.contains("link-netnsid"), "{text}");
    // -n with a name that does not exist.
    let o = ns.mvl(&["-n", "no-such-ns-mvl-test", "link"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no-such-ns-mvl-test"), "{}", o.stderr);
}

/// `-s`, `-s -s`, `-s -j` and `-s -s -j` print what `ip` prints for the same
/// device after known traffic: a ping over the macvlan, then nothing moves.
#[test]
#[ignore = "needs root"]
fn statistics_equal_ip_after_traffic() {
    let ns = Ns::new();
    let peer = NetNs::new_private().unwrap();
    // IPv6 would send frames of its own (router solicitations, MLD reports)
    // at moments of its choosing, between mvl's look and ip's.
    for n in [&ns.ns, &peer] {
        n.run(|| {
            for k in ["all", "default"] {
                std::fs::write(format!("/proc/sys/net/ipv6/conf/{k}/disable_ipv6"), "1").unwrap();
            }
        })
        .unwrap();
    }
    let path = format!("/proc/{}/fd/{}", std::process::id(), peer.as_raw_fd());
    ns.ip(&["link", "set", "veth1", "netns", &path]);
    peer.run(|| {
        for args in [
            &["addr", "add", "10.9.0.2/24", "dev", "veth1"][..],
            &["link", "set", "veth1", "up"],
        ] {
            assert!(Command::new(IP).args(args).status().unwrap().success());
        }
    })
    .unwrap();
    ns.mvl_ok(&[
        "link", "add", "mv0", "link", "veth0", "type", "macvlan", "mode", "bridge",
    ]);
    ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "mv0"]);
    ns.ip(&["link", "set", "veth0", "up"]);
    ns.ip(&["link", "set", "mv0", "up"]);
    let o = ns.run("ping", &["-c", "3", "-i", "0.2", "-W", "2", "10.9.0.2"]);
    assert_eq!(o.code, 0, "{o:?}");
    for s in [&["-s"][..], &["-s", "-s"]] {
        for dev in ["mv0", "veth0"] {
            let mut ip_args: Vec<&str> = s.to_vec();
            ip_args.extend(["link", "show", dev]);
            let mut mvl_args = ip_args.clone();
            assert_eq!(ns.mvl_ok(&mvl_args), ns.ip(&ip_args), "{ip_args:?}");
            mvl_args.insert(0, "-j");
            assert_eq!(
                ns.mvl_json(&mvl_args[1..]),
                ns.ip_json(&ip_args),
                "-j {ip_args:?}"
            );
        }
    }
    let j = ns.mvl_json(&["-s", "link", "show", "mv0"]);
    let tx = j[0]["stats64"]["tx"]["packets"].as_u64().unwrap();
    assert!(tx >= 3, "three echo requests went out: {j}");
    // The whole list too.
    assert_eq!(ns.mvl_ok(&["-s", "link"]), ns.ip(&["-s", "link"]));
}

/// A lower in a namespace that has a name is shown by that name, as `ip`
/// does (`link-netns NAME`), inside a private mount namespace with its own
/// /run so that no name of the host's is touched.
#[test]
#[ignore = "needs root"]
fn link_netns_by_name() {
    let ns = Ns::new();
    let script = format!(
        "set -e
mount -t tmpfs mvl-test /run
ip netns add lowns
ip -n lowns link add veth0 type veth peer name veth1
ip -n lowns link add mv0 link veth0 type macvlan
ip -n lowns link set mv0 netns $$
a=$({mvl} link show mv0); b=$({ip} link show mv0)
test \"$a\" = \"$b\" || {{ echo \"mvl: $a\"; echo \"ip: $b\"; exit 1; }}
echo \"$a\"
a=$({mvl} -j link show mv0); b=$({ip} -j link show mv0)
test \"$a\" = \"$b\" || {{ echo \"mvl: $a\"; echo \"ip: $b\"; exit 1; }}
ip netns del lowns",
        mvl = env!("CARGO_BIN_EXE_mvl"),
        ip = IP
    );
    let o = ns.run(
        "unshare",
        &["--mount", "--propagation", "private", "sh", "-c", &script],
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains(" link-netns lowns"), "{}", o.stdout);
}

/// A move that would fail after it happened (the name is taken there, the
/// MAC is an up sibling's) is refused before anything changes: the device
/// stays where it was, with its MTU and name.
#[test]
#[ignore = "needs root"]
fn a_refused_move_changes_nothing() {
    let ns = Ns::new();
    let other = NetNs::new_private().unwrap();
    let path = format!("/proc/{}/fd/{}", std::process::id(), other.as_raw_fd());
    other
        .run(|| {
            let ok = Command::new(IP)
                .args(["link", "add", "taken", "type", "veth", "peer", "name", "taken2"])
                .status()
                .unwrap();
            assert!(ok.success());
        })
        .unwrap();
    ns.mvl_ok(&[
        "link", "add", "mv0", "link", "veth0", "type", "macvlan", "mode", "bridge",
    ]);
    ns.mvl_ok(&[
        "link",
        "add",
        "mv1",
        "link",
        "veth0",
        "address",
        "02:00:00:00:0a:01",
        "type",
        "macvlan",
        "mode",
        "bridge",
    ]);
    ns.ip(&["link", "set", "veth0", "up"]);
    ns.ip(&["link", "set", "mv1", "up"]);
    let e = ns.mvl_refused(&[
        "link", "set", "mv0", "mtu", "1400", "netns", &path, "name", "taken",
    ]);
    assert!(e.contains("taken") && e.contains("already exists"), "{e}");
    let e = ns.mvl_refused(&[
        "link",
        "set",
        "mv0",
        "mtu",
        "1400",
        "netns",
        &path,
        "address",
        "02:00:00:00:0a:01",
        "up",
    ]);
    assert!(e.contains("02:00:00:00:0a:01") && e.contains("mv1"), "{e}");
    let here = ns.ip_json(&["link", "show", "mv0"]);
    assert_eq!(here[0]["mtu"], 1500, "{here}");
    // And the same move without a clash goes through, MTU and name included.
    ns.mvl_ok(&[
        "link", "set", "mv0", "mtu", "1400", "netns", &path, "name", "eth0", "up",
    ]);
    let there = ns.mvl_json(&["-n", &path, "link", "show", "eth0"]);
    assert_eq!(there[0]["mtu"], 1400, "{there}");
    assert!(
        there[0]["flags"].as_array().unwrap().contains(&"UP".into()),
        "{there}"
    );
}
