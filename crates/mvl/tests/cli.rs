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
