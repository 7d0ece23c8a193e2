//! Replays every checked-in fuzz corpus (`fuzz/corpus/TARGET/`) through the
//! target's body, so `cargo test` exercises what the fuzzers found.

use std::path::PathBuf;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        body(&std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n > 0, "{target}: the corpus is empty");
}

#[test]
fn core_decisions() {
    replay("core_decisions", mvl_fuzz::core_decisions);
}

#[test]
fn lab_parse() {
    replay("lab_parse", mvl_fuzz::lab_parse);
}

#[test]
fn control_line() {
    replay("control_line", mvl_fuzz::control_line);
}

#[test]
fn cni_input() {
    replay("cni_input", mvl_fuzz::cni_input);
}
