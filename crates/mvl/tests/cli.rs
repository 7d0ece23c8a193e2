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
    let (last, lines) = out
        .trim_end()
        .lines()
        .collect::<Vec<_>>()
        .split_last()
        .map(|(l, r)| (*l, r.to_vec()))
        .unwrap();
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 7, "{l}");
        for k in ["line", "command", "kind", "result", "expect", "message", "output"] {
            assert!(keys.contains(&k), "{k} in {l}");
        }
    }
    // Show lines carry what they printed.
    let shown: serde_json::Value = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["command"].as_str().unwrap().ends_with("ip link | grep ether"))
        .unwrap();
    assert!(
        shown["output"].as_str().unwrap().contains("link/ether"),
        "{shown}"
    );
    let summary: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["lines"], lines.len());
    assert_eq!(summary["exit_code"], 0);
    assert_eq!(summary["not_as_expected"], serde_json::json!([]));
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
    assert!(out.contains("2 lines did not go as expected: 3, 4"), "{out}");
    let (code, out, _) = mvl(&["lab", "run", "--format", "json", wrong.to_str().unwrap()]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary = &lines[lines.len() - 1];
    assert_eq!(summary["not_as_expected"], serde_json::json!([3, 4]));
    assert_eq!(summary["exit_code"], 1);
    let last = &lines[lines.len() - 2];
    assert_eq!(last["result"], "error");
    assert_eq!(last["message"], "Cannot find device \"nosuch\"");
    assert_eq!(last["expect"], serde_json::Value::Null);

    let bad = temp_lab("bad", "ip netns add a\nip rule add from 10.0.0.1 table 5\n");
    let (code, out, err) = mvl(&["lab", "run", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("line 2") && err.contains("\"rule\""), "{err}");
    // With -j, the refusal is JSON on stdout, with the line and the word.
    let (code, out, err) = mvl(&["lab", "run", "-j", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.is_empty(), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&v["kind"], &v["line"], &v["word"]),
        (&"error".into(), &2.into(), &"rule".into()),
        "{v}"
    );

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
fn labs_of_any_size() {
    let args = [
        "lab",
        "random",
        "--macvlans",
        "30",
        "--lowers",
        "3",
        "--pings",
        "6",
    ];
    let (code, text, err) = mvl(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(text.matches("ip netns add ").count(), 30);
    assert_eq!(text.matches("type macvlan mode bridge").count(), 30);
    assert_eq!(text.matches(" ping ").count(), 6);
    // It runs, and every ping gets its reply.
    let (code, out, err) = mvl_stdin(&["lab", "run", "-"], &text);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("6 pings (6 ok, 0 failed) — every expectation holds"),
        "{out}"
    );
    let (code, j, _) = mvl(&[&["-j"][..], &args].concat());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(
        (v["macvlans"].as_u64(), v["lowers"].as_u64()),
        (Some(30), Some(3))
    );
    assert_eq!(v["lab"], text.as_str());
    for (args, want) in [
        (
            &["lab", "random", "--macvlans", "3", "--lowers", "3"][..],
            "fewer servers",
        ),
        (&["lab", "random", "--macvlans", "1"], "--macvlans"),
        (
            &["lab", "random", "--seed", "2", "--macvlans", "5"],
            "cannot be used with",
        ),
        (&["lab", "random", "--pings", "5"], "--macvlans"),
    ] {
        let (code, out, err) = mvl(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty() && err.contains(want), "{args:?}: {err}");
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
#[ignore = "needs root"]
fn lab_diff_as_json() {
    let (code, out, err) = mvl(&["lab", "diff", "-j", "labs/errors.sh"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["kind"], "lab");
    assert_eq!(lines[0]["lab"], "labs/errors.sh");
    assert_eq!(lines[0]["against"], "sim");
    assert_eq!(lines[0]["same"], true);
    assert_eq!(lines[0]["under_load"], false);
    assert_eq!(lines[0]["mismatches"], serde_json::json!([]));
    assert_eq!(
        lines[1],
        serde_json::json!({"kind": "summary", "labs": 1, "differ": 0, "differ_only_under_load": 0})
    );
    assert!(err.contains("[1/1] labs/errors.sh: the same on both"), "{err}");
}

#[test]
fn summary_counts_in_the_singular_too() {
    let one = temp_lab("one", "ip netns add a\n");
    let (code, out, _) = mvl(&["lab", "run", one.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("\n1 line: 1 command (0 refused), 0 pings (0 ok, 0 failed) — every expectation holds"),
        "{out}"
    );
}

/// `mvl ARGS` with `input` on standard input.
fn mvl_stdin(args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mvl"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_lab_from_standard_input() {
    let tutorial = std::fs::read_to_string(root().join("labs/tutorial.sh")).unwrap();
    let (code, out, err) = mvl_stdin(&["lab", "run", "-"], &tutorial);
    assert_eq!(code, 0, "{err}");
    let (_, from_file, _) = mvl(&["lab", "run", "labs/tutorial.sh"]);
    assert_eq!(
        out.replacen("lab (standard input)", "lab labs/tutorial.sh", 1),
        from_file
    );
    let (code, _, err) = mvl_stdin(&["lab", "run", "-"], "ip netns add a\nip bogus\n");
    assert_eq!(code, 2);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn global_options_are_honoured_or_refused() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["-n", "ns1", "lab", "run", "labs/tutorial.sh"],
            "-n does not apply to lab run",
        ),
        (
            &["-d", "-s", "lab", "run", "labs/tutorial.sh"],
            "-d, -s do not apply to lab run",
        ),
        (
            &["--socket", "/tmp/x", "lab", "random"],
            "--socket does not apply to lab random",
        ),
        (
            &["--backend", "user", "lab", "diff", "labs/tutorial.sh"],
            "--against sim|user",
        ),
        (&["-n", "ns1", "daemon"], "-n does not apply to daemon"),
        (
            &["--socket", "/tmp/x", "link", "show"],
            "--socket is the daemon's socket: it goes with --backend user",
        ),
        (
            &[
                "--backend",
                "kernel",
                "lab",
                "run",
                "--backend",
                "user",
                "labs/tutorial.sh",
            ],
            "two backends given",
        ),
    ];
    for (args, why) in cases {
        let (code, out, err) = mvl(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.starts_with("mvl: ") && err.contains(why), "{args:?}: {err}");
    }
}

/// Help inside the word grammar is help, for each verb, and shows the grammar.
#[test]
fn link_help_for_each_verb() {
    let mut all = String::new();
    for verb in ["add", "set", "del", "show"] {
        for ask in ["--help", "-h", "help"] {
            let (code, out, err) = mvl(&["link", verb, ask]);
            assert_eq!(code, 0, "{verb} {ask}: {err}");
            assert!(out.starts_with("Usage: mvl "), "{verb} {ask}: {out}");
            assert!(out.contains(&format!("link {verb}")), "{verb} {ask}: {out}");
        }
        let (_, out, _) = mvl(&["link", verb, "mv0", "--help"]);
        all.push_str(&format!("$ mvl link {verb} mv0 --help\n{out}\n"));
    }
    let (code, out, _) = mvl(&["link", "--help"]);
    assert_eq!(code, 0);
    for w in [
        "MACVLAN-OPTIONS",
        "mvl link add NAME link PARENT",
        "mvl link VERB help",
    ] {
        assert!(out.contains(w), "{w}: {out}");
    }
    insta::assert_snapshot!("link_help", all);
}

/// Refusals of `mvl link` words name the verb and the word, never a lab.
#[test]
fn link_refusals_speak_of_mvl_link() {
    let mut t = String::new();
    for args in [
        &["link", "add", "x", "link", "eth0", "type", "vlan"][..],
        &[
            "link",
            "add",
            "x",
            "link",
            "eth0",
            "txqueuelen",
            "5",
            "type",
            "macvlan",
        ],
        &[
            "link", "add", "x", "link", "eth0", "type", "macvlan", "mode", "bridg",
        ],
        &["link", "set", "x", "type", "macvlan", "nopromisc"],
        &["link", "add", "x", "link", "eth0"],
        &["link", "frob"],
    ] {
        let (code, out, err) = mvl(args);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(!err.contains("lab"), "{args:?}: {err}");
        t.push_str(&format!("$ mvl {}\n{err}", args.join(" ")));
    }
    insta::assert_snapshot!("link_refusals", t);
}

#[test]
fn completions_and_manual() {
    for (shell, word) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef mvl"),
        ("fish", "complete -c mvl"),
    ] {
        let (code, out, err) = mvl(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(word), "{shell}: {}", &out[..out.len().min(300)]);
        assert!(out.contains("lab") && out.contains("link"), "{shell}");
    }
    let (code, out, _) = mvl(&["man"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(".ie") || out.contains(".TH mvl 1"),
        "{}",
        &out[..200]
    );
    assert!(out.contains("completions") && out.contains("daemon"));
    let dir = std::env::temp_dir().join(format!("mvl-cli-{}-man", std::process::id()));
    let (code, _, err) = mvl(&["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for page in [
        "mvl.1",
        "mvl-lab.1",
        "mvl-lab-run.1",
        "mvl-link.1",
        "mvl-daemon.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    let run = std::fs::read_to_string(dir.join("mvl-lab-run.1")).unwrap();
    assert!(run.contains("standard input"), "the options are documented");
}
