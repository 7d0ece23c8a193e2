//! Every lab in `labs/` runs on the emulator with every expectation holding.

use std::path::PathBuf;

use mvl_lab::{run, RunOptions, SimBackend};

fn labs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../labs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sh"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_lab_holds_on_the_emulator() {
    let all = labs();
    assert!(
        all.iter().any(|p| p.ends_with("tutorial.sh")),
        "labs/tutorial.sh exists"
    );
    let mut failures = Vec::new();
    for path in all {
        let lab = mvl_lab::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            lab.lines
                .iter()
                .filter(|l| l.command.is_ping())
                .all(|l| l.expect.is_some()),
            "{}: every ping states its expectation",
            path.display()
        );
        let mut b = SimBackend::new(1, std::env::temp_dir(), None);
        let rep = run(&lab, &mut b, RunOptions::default(), |_| {}).unwrap();
        for l in rep.lines.iter().filter(|l| !l.holds()) {
            failures.push(format!(
                "{}:{}: {} -> {} ({:?})",
                path.display(),
                l.line,
                l.command,
                l.result.as_str(),
                l.message
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "lines that did not go as expected:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_lab_is_deterministic() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../labs/tutorial.sh");
    let lab = mvl_lab::load(&path).unwrap();
    let once = || {
        let mut b = SimBackend::new(7, std::env::temp_dir(), None);
        run(&lab, &mut b, RunOptions { explain: true }, |_| {}).unwrap()
    };
    assert_eq!(once(), once());
}
