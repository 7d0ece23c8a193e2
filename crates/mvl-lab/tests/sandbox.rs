//! A lab never leaves its sandbox: a device cannot be moved into another
//! process's namespace by its PID or a path, and a capture is written only
//! under the lab's folder. The namespace that must stay untouched is a
//! throwaway one held by a process of this test (never PID 1's). Needs root
//! for the kernel backend; elsewhere the tests are ignored
//! ("needs root").

use std::path::PathBuf;
use std::process::{Command, Stdio};

use mvl_lab::{run, Backend, KernelBackend, RunOptions, SimBackend};

/// The devices of the network namespace of process `pid`.
fn devices_of(pid: u32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
        .expect("the throwaway process lives")
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(|n| n.trim().to_string()))
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mvl-sandbox-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A process in a network namespace of its own, killed on drop.
struct Throwaway(std::process::Child);

impl Throwaway {
    /// Started, and in its own namespace (its `lo` only) when this returns.
    fn new() -> Throwaway {
        let t = Throwaway(
            Command::new("unshare")
                .args(["--net", "sleep", "600"])
                .stdin(Stdio::null())
                .spawn()
                .expect("unshare"),
        );
        while devices_of(t.0.id()) != ["lo"] {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        t
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs root"]
fn devices_stay_in_the_lab_and_captures_under_its_folder() {
    let holder = Throwaway::new();
    let pid = holder.0.id();
    let outside = temp_dir("outside");
    let escapes = [
        format!("ip link set v0 netns {pid}"),
        format!("ip link set v0 netns /proc/{pid}/ns/net"),
        format!("ip link add v2 netns {pid} type veth peer v3"),
        format!("tcpdump -i v0 -w {}/x.pcap &", outside.display()),
        "tcpdump -i v0 -w ../x.pcap &".to_string(),
    ];
    for line in &escapes {
        let text = format!("ip link add v0 type veth peer v1\n{line}\nip link set v0 up\n");
        let e = mvl_lab::parse(&text).expect_err(line);
        assert_eq!(e.line, 2, "{line}: {e}");
        assert!(
            e.message.contains("own namespaces") || e.message.contains("lab's folder"),
            "{line}: {e}"
        );
    }
    assert_eq!(devices_of(pid), ["lo"], "the throwaway namespace is untouched");
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "nothing written outside"
    );

    // A relative path is fine, on every backend, and lands under the lab's folder.
    let text = "ip link add v0 type veth peer v1\nip link set v1 up\nip link set v0 up\ntcpdump -i v0 -w caps/v0.pcap &\nsleep 0.2\n";
    let lab = mvl_lab::parse(text).unwrap();
    let backends: Vec<(Box<dyn Backend>, PathBuf)> = {
        let (k, s) = (temp_dir("kernel"), temp_dir("sim"));
        vec![
            (Box::new(KernelBackend::new(k.clone()).unwrap()), k),
            (Box::new(SimBackend::new(1, s.clone(), None)), s),
        ]
    };
    for (mut b, dir) in backends {
        std::fs::create_dir_all(dir.join("caps")).unwrap();
        let rep = run(&lab, b.as_mut(), RunOptions::default(), |_| {}).unwrap();
        assert_eq!(rep.exit_code(), 0, "{}: {:?}", b.name(), rep.lines);
        drop(b);
        let pcap = std::fs::read(dir.join("caps/v0.pcap")).unwrap_or_default();
        assert!(pcap.len() >= 24, "a pcap file under the lab's folder");
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&outside);
}

/// Beneath the parser's refusals: whatever the sandbox runs is PID 1 of a
/// PID namespace of its own, so even a `netns PID` that got through would
/// find no other process.
#[test]
#[ignore = "needs root"]
fn commands_see_no_process_but_themselves() {
    let holder = Throwaway::new();
    let pid = holder.0.id();
    let sandbox = mvl_lab::sandbox::Sandbox::new().unwrap();
    let dir = temp_dir("pid");
    let run = |words: &[&str]| sandbox.run(words.iter().map(|w| w.to_string()).collect(), dir.clone());

    let me = run(&["sh", "-c", "echo $$"]);
    assert_eq!((me.code, me.stdout.trim()), (Some(0), "1"), "{me:?}");
    assert_eq!(
        run(&["ip", "link", "add", "v0", "type", "veth", "peer", "v1"]).code,
        Some(0)
    );
    let moved = run(&["ip", "link", "set", "v0", "netns", &pid.to_string()]);
    assert_ne!(moved.code, Some(0), "{moved:?}");
    assert!(moved.stderr.contains("No such process"), "{moved:?}");
    assert_eq!(devices_of(pid), ["lo"], "the throwaway namespace is untouched");
    assert_eq!(
        run(&["ip", "link", "show", "v0"]).code,
        Some(0),
        "v0 is still in the lab"
    );
    // Exit codes come through the process that waits for the command.
    assert_eq!(run(&["sh", "-c", "exit 3"]).code, Some(3));
    // A background command is stopped by SIGINT and says what it printed.
    let id = sandbox
        .spawn(
            [
                "sh",
                "-c",
                "trap 'echo stopped; exit 0' INT; echo listening on x >&2; while :; do sleep 0.05; done",
            ]
            .iter()
            .map(|w| w.to_string())
            .collect(),
            dir.clone(),
        )
        .unwrap();
    assert_eq!(sandbox.ended(id), None, "it runs");
    assert_eq!(sandbox.stop(id).trim(), "stopped");
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&dir);
}
