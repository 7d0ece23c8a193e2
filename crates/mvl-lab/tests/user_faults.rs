//! Faults around the userspace datapath, in a lab sandbox (private mount
//! and network namespaces, so named namespaces can be made and deleted):
//! the engine converges to what exists and keeps forwarding. Needs root (CI
//! is root); elsewhere each test is ignored ("needs root").

use std::sync::Arc;
use std::time::{Duration, Instant};

use mvl_core::{MacvlanChange, Mode};
use mvl_datapath::{AddRequest, DevSpec, Engine, Options, SetRequest};
use mvl_lab::sandbox::Sandbox;

struct Lab {
    sb: Sandbox,
    engine: Arc<Engine>,
}

impl Lab {
    /// The switch namespace `sw` (10.5.0.254 on `wire`), the lower `lower`
    /// in namespace `srv`, and an engine.
    fn new() -> Lab {
        let sb = Sandbox::new().unwrap();
        let engine = sb.call(|| Arc::new(Engine::new(Options::default()).unwrap()));
        let lab = Lab { sb, engine };
        lab.sh(
            "ip netns add sw && ip netns add srv && ip link add lower netns srv type veth peer wire netns sw",
        );
        lab.sh("ip -n sw addr add 10.5.0.254/24 dev wire && ip -n sw link set wire up && ip -n srv link set lower up");
        lab
    }

    fn sh(&self, cmd: &str) -> (i32, String) {
        let d = self
            .sb
            .run(vec!["sh".into(), "-c".into(), cmd.into()], ".".into());
        (d.code.unwrap_or(-1), d.stdout + &d.stderr)
    }

    fn engine<T: Send + 'static>(&self, f: impl FnOnce(&Engine) -> T + Send + 'static) -> T {
        let e = self.engine.clone();
        self.sb.call(move || f(&e))
    }

    /// A bridge-mode child `name` in namespace `ns` (made here) with `ip`, up.
    fn child(&self, name: &str, ns: &str, ip: &str) {
        self.sh(&format!("ip netns add {ns}"));
        let (name2, ns2) = (name.to_string(), ns.to_string());
        self.engine(move |e| {
            e.add(&AddRequest {
                name: name2.clone(),
                link: DevSpec::new(Some("srv"), "lower"),
                netns: Some(ns2.clone()),
                macvlan: MacvlanChange {
                    mode: Some(Mode::Bridge),
                    ..Default::default()
                },
                ..Default::default()
            })
            .unwrap();
        });
        assert_eq!(self.sh(&format!("ip -n {ns} addr add {ip}/24 dev {name}")).0, 0);
        let (name2, ns2) = (name.to_string(), ns.to_string());
        self.engine(move |e| {
            e.set(&SetRequest {
                dev: DevSpec::new(Some(&ns2), &name2),
                up: Some(true),
                ..Default::default()
            })
        })
        .unwrap();
    }

    /// A reply within three tries: under load (tests run in parallel on two
    /// cores) an ARP resolution may outlast one second.
    fn ping(&self, ns: &str, to: &str) -> bool {
        (0..3).any(|_| self.sh(&format!("ip netns exec {ns} ping -c 1 -W 1 {to}")).0 == 0)
    }

    fn children(&self) -> usize {
        self.engine(|e| e.show(None).unwrap().len())
    }

    fn reconcile(&self) {
        self.engine(|e| e.reconcile()).unwrap();
    }
}

#[test]
#[ignore = "needs root"]
fn a_tap_deleted_by_someone_else_is_forgotten() {
    let lab = Lab::new();
    lab.child("c1", "g1", "10.5.0.1");
    lab.child("c2", "g2", "10.5.0.2");
    assert!(lab.ping("g1", "10.5.0.254"));
    assert_eq!(lab.sh("ip -n g1 link del c1").0, 0);
    lab.reconcile();
    assert_eq!(lab.children(), 1);
    assert!(lab.ping("g2", "10.5.0.254"), "the other child keeps forwarding");
}

#[test]
#[ignore = "needs root"]
fn deleting_a_namespace_deletes_what_lives_there() {
    let lab = Lab::new();
    lab.child("c1", "g1", "10.5.0.1");
    lab.child("c2", "g2", "10.5.0.2");
    // The child's namespace.
    assert_eq!(lab.sh("ip netns del g1").0, 0);
    lab.reconcile();
    assert_eq!(lab.children(), 1);
    assert!(lab.ping("g2", "10.5.0.254"));
    // The lower's namespace: the lower goes, and every child with it; the
    // kernel then deletes the lower's veth peer too, as with a kernel macvlan.
    assert_eq!(lab.sh("ip netns del srv").0, 0);
    lab.reconcile();
    assert_eq!(lab.children(), 0);
    assert_ne!(lab.sh("ip -n g2 link show c2").0, 0, "the child's TAP is gone");
    let t = Instant::now();
    while lab.sh("ip -n sw link show wire").0 == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the lower's namespace was not released"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[ignore = "needs root"]
fn a_lower_moved_and_renamed_keeps_forwarding() {
    let lab = Lab::new();
    lab.child("c1", "g1", "10.5.0.1");
    assert!(lab.ping("g1", "10.5.0.254"));
    assert_eq!(lab.sh("ip netns add srv2 && ip -n srv link set lower netns srv2 && ip -n srv2 link set lower name eth0 && ip -n srv2 link set eth0 up").0, 0);
    lab.reconcile();
    let st = lab.engine(|e| e.show(None).unwrap());
    assert_eq!(
        (st[0].lower.netns.as_deref(), st[0].lower.name.as_str()),
        (Some("srv2"), "eth0")
    );
    assert!(lab.ping("g1", "10.5.0.254"), "forwarding goes on");
}

#[test]
#[ignore = "needs root"]
fn carrier_flapping_under_traffic() {
    let lab = Lab::new();
    lab.child("c1", "g1", "10.5.0.1");
    let flood = lab.sb.spawn(
        vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            "g1".into(),
            "ping".into(),
            "-i".into(),
            "0.005".into(),
            "-c".into(),
            "600".into(),
            "10.5.0.254".into(),
        ],
        ".".into(),
    );
    for _ in 0..10 {
        lab.sh("ip -n sw link set wire down");
        lab.reconcile();
        assert!(lab.sh("ip -n g1 link show c1").1.contains("NO-CARRIER"));
        lab.sh("ip -n sw link set wire up");
        lab.reconcile();
    }
    let out = lab.sb.stop(flood.unwrap());
    assert!(out.contains("packets transmitted"), "{out}");
    assert!(lab.ping("g1", "10.5.0.254"), "forwarding after the flaps");
    assert_eq!(lab.children(), 1);
}

/// A lab driving userspace children with `ip` only, as a person does: the
/// user backend runs the real commands on the TAPs and gives the kernel's
/// results, refusals printed as the kernel prints them.
#[test]
#[ignore = "needs root"]
fn a_lab_drives_userspace_children_with_ip_as_on_the_kernel() {
    let text = "\
ip netns add sw
ip netns add h1
ip netns add h2
ip link add lower type veth peer wire netns sw
ip -n sw addr add 10.6.0.254/24 dev wire
ip -n sw link set wire up
ip link set lower up
ip link add m1 link lower address 02:00:00:00:06:01 type macvlan mode bridge
ip link add m2 link lower address 02:00:00:00:06:02 type macvlan mode bridge
ip link set m1 netns h1
ip link set m2 netns h2
ip -n h1 addr add 10.6.0.1/24 dev m1
ip -n h2 addr add 10.6.0.2/24 dev m2
ip -n h1 link set m1 up
ip netns exec h1 ping -c 1 -W 1 10.6.0.254 # expect: ok
ip -n h2 link set m2 up
ip netns exec h1 ping -c 1 -W 1 10.6.0.2 # expect: ok
ip -n h2 link set m2 down
ip netns exec h1 ping -c 1 -W 1 10.6.0.2 # expect: fail
ip -n h2 link set m2 address 02:00:00:00:06:01 # expect: error
ip -n h2 link set m2 up
ip -n h2 link set m2 address 02:00:00:00:06:22
ip -n h1 link set m1 mtu 9000 # expect: error
ip -n h1 link set m1 mtu 1400
ip -n h1 link set m1 name eth0
ip -n h1 neigh flush all
ip netns exec h1 ping -c 1 -W 1 10.6.0.2 # expect: ok
ip -n h1 link set eth0 down
ip -n h1 link set eth0 up
ip netns exec h2 ping -c 1 -W 1 10.6.0.1 # expect: ok
";
    let lab = mvl_lab::parse(text).unwrap();
    let mut user = mvl_lab::UserBackend::new(".".into()).unwrap();
    let rep = mvl_lab::run(&lab, &mut user, mvl_lab::RunOptions::default(), |_| {}).unwrap();
    let bad: Vec<_> = rep.lines.iter().filter(|l| !l.holds()).collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let refused: Vec<_> = rep
        .lines
        .iter()
        .filter_map(|l| l.message.as_deref().filter(|m| m.starts_with("RTNETLINK")))
        .collect();
    assert_eq!(
        refused,
        [
            "RTNETLINK answers: Address already in use",
            "RTNETLINK answers: Invalid argument"
        ],
        "the kernel's lines"
    );
    let mut kernel = mvl_lab::KernelBackend::new(".".into()).unwrap();
    let rep = mvl_lab::run(&lab, &mut kernel, mvl_lab::RunOptions::default(), |_| {}).unwrap();
    let on_kernel: Vec<_> = rep
        .lines
        .iter()
        .filter_map(|l| l.message.as_deref().filter(|m| m.starts_with("RTNETLINK")))
        .collect();
    assert_eq!(on_kernel, refused, "as the kernel prints them");
}
