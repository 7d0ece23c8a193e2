//! The `mvl lab run` command as a user sees it: transcripts, JSON, exit codes.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mvl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mvl"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn temp_lab(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mvl-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("lab.sh");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn tutorial_transcript() {
    let (code, out, err) = mvl(&["lab", "run", "labs/tutorial.sh"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("tutorial_text", out);
}

#[test]
fn tutorial_json() {
    let (code, out, _) = mvl(&["lab", "run", "labs/tutorial.sh", "--format", "json"]);
    assert_eq!(code, 0);
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6, "{l}");
        for k in ["line", "command", "kind", "result", "expect", "message"] {
            assert!(keys.contains(&k), "{k} in {l}");
        }
    }
    insta::assert_snapshot!("tutorial_json", out);
    let (_, short, _) = mvl(&["lab", "run", "-j", "labs/tutorial.sh"]);
    assert_eq!(short, out, "-j is --format json");
}

#[test]
fn explain_says_why_a_ping_failed() {
    let (code, out, _) = mvl(&["lab", "run", "labs/tutorial.sh", "--explain"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("why no reply: no ARP reply for 192.168.0.254 reached ns1/eth0"),
        "{out}"
    );
    assert!(out.contains("hairpin off"));
}

#[test]
fn exit_codes() {
    let wrong = temp_lab("wrong", "ip netns add a\nip netns exec a ip link set lo up\nip netns exec a ping -c 1 -W 1 127.0.0.1 # expect: fail\nip link set nosuch up\n");
    let (code, out, _) = mvl(&["lab", "run", wrong.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("2 line(s) did not go as expected: 3, 4"), "{out}");
    let (code, out, _) = mvl(&["lab", "run", "--format", "json", wrong.to_str().unwrap()]);
    assert_eq!(code, 1);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["result"], "error");
    assert_eq!(last["message"], "Cannot find device \"nosuch\"");
    assert_eq!(last["expect"], serde_json::Value::Null);

    let bad = temp_lab("bad", "ip netns add a\nip route add default via 10.0.0.1\n");
    let (code, out, err) = mvl(&["lab", "run", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("line 2") && err.contains("\"route\""), "{err}");

    let (code, _, err) = mvl(&["lab", "run", "/nonexistent/lab.sh"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent/lab.sh"), "{err}");

    let binary = temp_lab("binary", "");
    std::fs::write(&binary, [0x69, 0x70, 0x0a, 0xff, 0xfe, 0x00]).unwrap();
    let (code, _, err) = mvl(&["lab", "run", binary.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("line 2") && err.contains("UTF-8"), "{err}");
}

#[test]
fn pcap_dir_gets_every_device() {
    let dir = std::env::temp_dir().join(format!("mvl-cli-{}-pcap", std::process::id()));
    let (code, _, err) = mvl(&["lab", "run", "labs/tutorial.sh", "--pcap", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let veth11 = std::fs::read(dir.join("root-veth11.pcap")).unwrap();
    assert_eq!(&veth11[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    assert!(veth11.len() > 24 + 16 + 42, "frames were captured");
}

#[test]
fn random_labs_as_json() {
    let (code, text, _) = mvl(&["lab", "random", "--seed", "7"]);
    assert_eq!(code, 0);
    assert!(text.starts_with("# random lab, seed 7\n"), "{text}");
    for args in [
        &["lab", "random", "--seed", "7", "-j"][..],
        &["lab", "random", "--seed", "7", "--format", "json"],
        &["-j", "lab", "random", "--seed", "7"],
    ] {
        let (code, out, _) = mvl(args);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["seed"], 7, "{args:?}");
        assert_eq!(v["lab"], text.as_str(), "{args:?}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    // As `mvl ... | head` with head gone: every write fails with EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for args in [
        &["lab", "run", "labs/tutorial.sh"][..],
        &["lab", "run", "-j", "labs/tutorial.sh"],
        &["lab", "random", "--seed", "1"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mvl"))
            .args(args)
            .current_dir(root())
            .stdout(writer.try_clone().unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn lab_diff_as_json() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: mvl lab diff needs root (CI runs it as root)");
        return;
    }
    let (code, out, err) = mvl(&["lab", "diff", "-j", "labs/errors.sh"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["kind"], "lab");
    assert_eq!(lines[0]["lab"], "labs/errors.sh");
    assert_eq!(lines[0]["against"], "sim");
    assert_eq!(lines[0]["same"], true);
    assert_eq!(lines[0]["mismatches"], serde_json::json!([]));
    assert_eq!(
        lines[1],
        serde_json::json!({"kind": "summary", "labs": 1, "differ": 0})
    );
    assert!(err.contains("[1/1] labs/errors.sh: the same on both"), "{err}");
}
