//! `mvl daemon` and `mvl --backend user link` as a user runs them: a child
//! created through the daemon forwards like a kernel macvlan, survives
//! `kill -9` and a restart with its address, stops cleanly on SIGTERM, and
//! the control socket answers garbage with errors without dying. Needs root
//! (CI is root); elsewhere each test is ignored ("needs root"). Everything runs in
//! private network namespaces.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mvl_netlink::{NetNs, Netlink};

struct Ns {
    ns: NetNs,
    path: String,
}

impl Ns {
    fn new() -> Ns {
        let ns = NetNs::new_private().unwrap();
        let path = format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            std::os::fd::AsRawFd::as_raw_fd(&ns)
        );
        Ns { ns, path }
    }

    fn sh(&self, cmd: &str) -> (i32, String) {
        self.ns
            .run(|| {
                let o = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
                (
                    o.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
                )
            })
            .unwrap()
    }
}

/// A temporary directory for one test's socket and state.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mvl-daemon-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The daemon's log, kept across restarts.
fn log(dir: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("daemon.log"))
        .unwrap()
}

/// A running daemon, killed when dropped (a failed test leaves none behind).
struct Daemon(Child);

impl std::ops::Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(host: &Ns, dir: &Path) -> Daemon {
    let sock = dir.join("mvl.sock");
    let child = host
        .ns
        .run(|| {
            Command::new(env!("CARGO_BIN_EXE_mvl"))
                .args(["daemon", "--socket"])
                .arg(&sock)
                .arg("--state-dir")
                .arg(dir.join("state"))
                .stdout(Stdio::null())
                .stderr(log(dir))
                .spawn()
                .unwrap()
        })
        .unwrap();
    let t = Instant::now();
    while UnixStream::connect(&sock).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "the daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Daemon(child)
}

fn mvl(host: &Ns, dir: &Path, args: &str) -> (i32, String) {
    let sock = dir.join("mvl.sock");
    host.sh(&format!(
        "{} --backend user --socket {} {args}",
        env!("CARGO_BIN_EXE_mvl"),
        sock.display()
    ))
}

/// `mvl link add NAME link lower netns GUEST type macvlan mode bridge`
/// through the daemon; it must succeed.
fn add_child(host: &Ns, dir: &Path, name: &str, guest: &Ns) {
    let add = format!(
        "link add {name} link lower netns {} type macvlan mode bridge",
        guest.path
    );
    let (code, out) = mvl(host, dir, &add);
    assert_eq!(code, 0, "{out}");
}

/// The host namespace with `lower`, cabled to `wire` (10.7.0.254) in a switch namespace.
fn topology() -> (Ns, Ns) {
    let host = Ns::new();
    let sw = Ns::new();
    let mut nl = Netlink::open_in(&host.ns).unwrap();
    nl.add_veth("lower", "wire").unwrap();
    nl.set_netns("wire", &sw.ns).unwrap();
    nl.set_up("lower", true).unwrap();
    assert_eq!(
        sw.sh("ip addr add 10.7.0.254/24 dev wire && ip link set wire up")
            .0,
        0
    );
    (host, sw)
}

fn wait_ping(from: &Ns, to: &str) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        if from.sh(&format!("ping -c 1 -W 1 {to}")).0 == 0 {
            return true;
        }
    }
    false
}

#[test]
#[ignore = "needs root"]
fn children_through_the_daemon_survive_kill_and_sigterm() {
    let (host, sw) = topology();
    let guest = Ns::new();
    let dir = tmp("life");
    let mut d = start(&host, &dir);
    add_child(&host, &dir, "c1", &guest);
    assert_eq!(guest.sh("ip addr add 10.7.0.1/24 dev c1").0, 0);
    let (code, out) = mvl(&host, &dir, &format!("-n {} link set c1 up", guest.path));
    assert_eq!(code, 0, "{out}");
    assert!(wait_ping(&guest, "10.7.0.254"), "the child reaches the wire");
    let (code, out) = mvl(&host, &dir, &format!("-n {} -s link show c1", guest.path));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("c1@if") && out.contains("RX:") && out.contains("TX:"),
        "{out}"
    );
    let (code, out) = mvl(&host, &dir, &format!("-n {} -j -d link show c1", guest.path));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(v[0]["linkinfo"]["info_data"]["mode"], "bridge");
    // iproute2's names for a lower in another namespace; counters only with -s.
    assert!(v[0]["link_index"].is_u64() && v[0].get("link").is_none(), "{v}");
    // (`link_netnsid` only where the child's namespace has given the
    // lower's an id; a TAP does not make the kernel give one.)
    assert!(v[0].get("link_netnsid").is_none_or(|id| id.is_i64()), "{v}");
    assert!(v[0].get("stats64").is_none(), "{v}");
    let (code, out) = mvl(&host, &dir, &format!("-n {} -j -s link show c1", guest.path));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v[0]["stats64"]["tx"]["packets"].as_u64().unwrap() > 0);

    // kill -9: the TAP and its address stay; a restart forwards again.
    d.kill().unwrap();
    d.wait().unwrap();
    assert!(guest.sh("ip addr show c1").1.contains("10.7.0.1/24"));
    let mut d = start(&host, &dir);
    assert!(wait_ping(&guest, "10.7.0.254"), "forwarding resumes");

    // SIGTERM: stops, removes its socket, leaves the child.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(d.id() as i32),
        nix::sys::signal::SIGTERM,
    )
    .unwrap();
    let st = d.wait().unwrap();
    assert!(st.success(), "{st:?}");
    assert!(!dir.join("mvl.sock").exists());
    assert!(guest.sh("ip link show c1").0 == 0, "the child stays");

    let mut d = start(&host, &dir);
    let (code, out) = mvl(&host, &dir, &format!("-n {} link del c1", guest.path));
    assert_eq!(code, 0, "{out}");
    assert_ne!(guest.sh("ip link show c1").0, 0, "deleted");
    let _ = sw;
    d.kill().unwrap();
    let _ = d.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs root"]
fn refusals_name_the_rule_and_bad_requests_get_error_replies() {
    let (host, _sw) = topology();
    let dir = tmp("bad");
    let mut d = start(&host, &dir);
    let (code, out) = mvl(
        &host,
        &dir,
        "link add c1 link lower address 02:00:00:00:00:01 type macvlan",
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = mvl(
        &host,
        &dir,
        "link add c2 link lower address 02:00:00:00:00:01 type macvlan",
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(mvl(&host, &dir, "link set c1 up").0, 0);
    let (code, out) = mvl(&host, &dir, "link set c2 up");
    assert_eq!(code, 1);
    assert!(out.contains("already used by c1"), "{out}");
    let (code, out) = mvl(&host, &dir, "link add c3 link lower mtu 9000 type macvlan");
    assert_eq!(code, 1);
    assert!(out.contains("9000") && out.contains("1500"), "{out}");
    assert_ne!(host.sh("ip link show c3").0, 0, "nothing created");
    let (code, out) = mvl(&host, &dir, "link add c4 link nosuch type macvlan");
    assert_eq!(code, 1);
    assert!(out.contains("nosuch"), "{out}");
    let (code, out) = mvl(&host, &dir, "link set c1 spoofchk on");
    assert_eq!(code, 0, "{out}");
    assert!(mvl(&host, &dir, "-d link show c1").1.contains("spoofchk on"));

    // Raw protocol abuse: every bad line gets an error reply; the daemon keeps serving.
    let s = UnixStream::connect(dir.join("mvl.sock")).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let huge = "x".repeat(2 << 20);
    for bad in [
        "not json",
        "{\"op\":\"explode\"}",
        "{\"op\":\"del\"}",
        "[]",
        huge.as_str(),
    ] {
        w.write_all(bad.as_bytes()).unwrap();
        w.write_all(b"\n").unwrap();
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ok"], false, "{bad:.40}");
        assert!(v["error"]["message"].as_str().unwrap().len() > 3);
    }
    assert_eq!(mvl(&host, &dir, "link show c1").0, 0, "still serving");
    assert!(
        std::fs::metadata(dir.join("mvl.sock"))
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .unwrap()
            == 0o600
    );
    for c in ["c1", "c2"] {
        assert_eq!(mvl(&host, &dir, &format!("link del {c}")).0, 0);
    }
    d.kill().unwrap();
    let _ = d.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs root"]
fn logs_as_json_lines_with_dash_j() {
    let host = Ns::new();
    let dir = tmp("json");
    let sock = dir.join("mvl.sock");
    let mut d = host
        .ns
        .run(|| {
            Command::new(env!("CARGO_BIN_EXE_mvl"))
                .args(["daemon", "-j", "--socket"])
                .arg(&sock)
                .arg("--state-dir")
                .arg(dir.join("state"))
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .unwrap();
    let mut lines = BufReader::new(d.stderr.take().unwrap()).lines();
    let mut next = || -> serde_json::Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    let first = next();
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["fields"]["message"], "mvl daemon serving");
    assert_eq!(first["fields"]["socket"], sock.display().to_string());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(d.id() as i32),
        nix::sys::signal::SIGTERM,
    )
    .unwrap();
    let last = next();
    assert!(
        last["fields"]["message"].as_str().unwrap().starts_with("SIGTERM"),
        "{last}"
    );
    assert!(d.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `mvl -n NS [-s] link show NAME` through the daemon.
fn show(host: &Ns, dir: &Path, ns: &Ns, args: &str) -> String {
    let (code, out) = mvl(host, dir, &format!("-n {} {args}", ns.path));
    assert_eq!(code, 0, "{out}");
    out
}

/// Retries `f` a bounded number of times: the daemon follows a device
/// change when its link event arrives.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    (0..100).any(|_| {
        let ok = f();
        if !ok {
            std::thread::sleep(Duration::from_millis(50));
        }
        ok
    })
}

#[test]
#[ignore = "needs root"]
fn children_driven_only_with_ip_are_followed() {
    let (host, _sw) = topology();
    let (g1, g2) = (Ns::new(), Ns::new());
    let dir = tmp("ip");
    let mut d = start(&host, &dir);
    for (c, g) in [("c1", &g1), ("c2", &g2)] {
        add_child(&host, &dir, c, g);
    }
    // Up with `ip`, as the tutorial does it: the first frames are forwarded.
    assert_eq!(g1.sh("ip addr add 10.7.0.1/24 dev c1 && ip link set c1 up").0, 0);
    assert_eq!(g2.sh("ip addr add 10.7.0.2/24 dev c2 && ip link set c2 up").0, 0);
    assert!(wait_ping(&g1, "10.7.0.254"), "to the wire");
    assert!(wait_ping(&g1, "10.7.0.2"), "to a sibling");
    let out = show(&host, &dir, &g1, "-s link show c1");
    assert!(out.contains(",UP,LOWER_UP>"), "{out}");
    assert!(
        !out.contains("sender_down"),
        "no frame sent after `ip link set up` was lost: {out}"
    );

    // Down with `ip`: shown DOWN, and nothing reaches it.
    assert_eq!(g1.sh("ip link set c1 down").0, 0);
    assert!(eventually(
        || show(&host, &dir, &g1, "link show c1").contains("state DOWN")
    ));
    assert_ne!(g2.sh("ping -c 1 -W 1 10.7.0.1").0, 0, "a down child gets nothing");
    assert_eq!(g1.sh("ip link set c1 up").0, 0);
    assert!(wait_ping(&g2, "10.7.0.1"), "up again");

    // MTU: above the lower's, the kernel would refuse; the TAP keeps it, so
    // the child forwards nothing, says why, and counts the drops.
    assert_eq!(g1.sh("ip link set c1 mtu 9000").0, 0);
    assert!(eventually(
        || show(&host, &dir, &g1, "link show c1").contains("forwards nothing")
    ));
    assert_ne!(g1.sh("ping -c 1 -W 1 10.7.0.254").0, 0);
    let out = show(&host, &dir, &g1, "-s link show c1");
    assert!(
        out.contains("mtu 9000") && out.contains("mtu_above_lower"),
        "{out}"
    );
    assert_eq!(g1.sh("ip link set c1 mtu 1400").0, 0);
    assert!(
        wait_ping(&g1, "10.7.0.254"),
        "an MTU the lower allows forwards again"
    );
    let out = show(&host, &dir, &g1, "-j link show c1");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["mtu"], 1400);
    assert_eq!(v[0]["mvl"]["conflict"], serde_json::Value::Null);

    // MAC with `ip`: followed; the same MAC on an up sibling is a conflict.
    assert_eq!(g1.sh("ip link set c1 address 02:00:00:00:00:aa").0, 0);
    assert!(wait_ping(&g1, "10.7.0.254"), "with its new MAC");
    assert!(show(&host, &dir, &g1, "link show c1").contains("02:00:00:00:00:aa"));
    assert_eq!(g2.sh("ip link set c2 address 02:00:00:00:00:aa").0, 0);
    assert!(eventually(
        || show(&host, &dir, &g2, "link show c2").contains("forwards nothing")
    ));
    let out = show(&host, &dir, &g2, "link show c2");
    assert!(out.contains("c1") && out.contains("mac_conflict"), "{out}");
    assert_ne!(
        g2.sh("ping -c 1 -W 1 10.7.0.254").0,
        0,
        "the second holder forwards nothing"
    );
    assert!(wait_ping(&g1, "10.7.0.254"), "the first keeps forwarding");
    assert_eq!(g2.sh("ip link set c2 address 02:00:00:00:00:bb").0, 0);
    assert!(wait_ping(&g2, "10.7.0.254"), "conflict gone");

    // kill -9 and a restart: a child brought up with `ip` forwards again.
    d.kill().unwrap();
    d.wait().unwrap();
    let mut d = start(&host, &dir);
    assert!(wait_ping(&g1, "10.7.0.254"), "forwarding resumes after a restart");
    let out = show(&host, &dir, &g1, "link show c1");
    assert!(
        out.contains("mtu 1400") && out.contains("02:00:00:00:00:aa"),
        "{out}"
    );
    for (c, g) in [("c1", &g1), ("c2", &g2)] {
        assert_eq!(mvl(&host, &dir, &format!("-n {} link del {c}", g.path)).0, 0);
    }
    d.kill().unwrap();
    let _ = d.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs root"]
fn state_is_never_lost() {
    let (host, _sw) = topology();
    let (g1, g2) = (Ns::new(), Ns::new());
    let dir = tmp("state");
    let mut d = start(&host, &dir);
    for (c, g, ip) in [("c1", &g1, "10.7.0.1"), ("c2", &g2, "10.7.0.2")] {
        add_child(&host, &dir, c, g);
        assert_eq!(
            g.sh(&format!("ip addr add {ip}/24 dev {c} && ip link set {c} up"))
                .0,
            0
        );
    }
    assert!(wait_ping(&g1, "10.7.0.254"));

    // `-n NS` lists that namespace's children only.
    let out = show(&host, &dir, &g1, "link show");
    assert!(out.contains("c1@") && !out.contains("c2@"), "{out}");
    let out = show(&host, &dir, &g2, "link show c2");
    assert!(out.contains("c2@"), "{out}");

    // A second daemon on the same state directory (another socket) is
    // refused and changes nothing.
    // One file per child; what they hold, by file name.
    let state = || -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = std::fs::read_dir(dir.join("state/children"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                (e.file_name().to_string_lossy().into_owned(), text)
            })
            .collect();
        v.sort();
        v
    };
    // The daemon follows `ip link set up` from link events and saves after
    // each: wait until both children are saved up.
    for _ in 0..400 {
        let saved = state();
        if saved.iter().filter(|(_, t)| t.contains("\"up\": true")).count() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let before = state();
    assert_eq!(before.len(), 2, "{before:?}");
    let other = dir.join("other.sock");
    let (code, out) = host.sh(&format!(
        "{} daemon --socket {} --state-dir {}",
        env!("CARGO_BIN_EXE_mvl"),
        other.display(),
        dir.join("state").display()
    ));
    assert_ne!(code, 0);
    assert!(
        out.contains("another mvl daemon uses this state directory"),
        "{out}"
    );
    assert!(!other.exists(), "no second socket");
    assert_eq!(state(), before, "the state is untouched");
    assert!(wait_ping(&g1, "10.7.0.254"), "the first daemon still serves");

    // A lower missing at start-up: its children are kept as pending, and
    // served as soon as a lower of that name appears.
    d.kill().unwrap();
    d.wait().unwrap();
    assert_eq!(
        host.sh("ip link set lower down && ip link set lower name eth9").0,
        0
    );
    let mut d = start(&host, &dir);
    let out = show(&host, &dir, &g1, "link show c1");
    assert!(out.contains("pending") && out.contains("lower"), "{out}");
    let (code, out) = mvl(&host, &dir, "link show");
    assert!(
        code == 0 && out.contains("c1: pending") && out.contains("c2: pending"),
        "{out}"
    );
    let saved: String = state().into_iter().map(|(_, text)| text).collect();
    assert!(
        saved.contains("\"c1\"") && saved.contains("\"c2\""),
        "still saved: {saved}"
    );
    assert_eq!(
        host.sh("ip link set eth9 name lower && ip link set lower up").0,
        0
    );
    assert!(
        eventually(|| !show(&host, &dir, &g1, "link show c1").contains("pending")),
        "served when the lower appears"
    );
    assert!(wait_ping(&g1, "10.7.0.254"), "forwarding again");

    // A child deleted because its lower went is named in the log.
    assert_eq!(host.sh("ip link del lower").0, 0);
    let logged = || std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
    assert!(
        eventually(|| logged().contains("c1: its lower lower is gone: deleting the child")),
        "{}",
        logged()
    );
    assert!(
        eventually(|| logged().contains("c2: its lower lower is gone")),
        "{}",
        logged()
    );
    assert_ne!(g1.sh("ip link show c1").0, 0, "the child went with its lower");
    assert!(eventually(|| state().is_empty()), "and its file: {:?}", state());
    d.kill().unwrap();
    let _ = d.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
