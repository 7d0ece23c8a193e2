//! The emulator and the userspace datapath against the real kernel: every
//! lab in `labs/` and 50 random labs must give the same result on every
//! line. Needs root (CI is root); elsewhere the test is ignored ("needs
//! root").

use std::path::PathBuf;
use std::sync::Mutex;

use mvl_lab::diff::{against_kernel_all, Against};

/// Compares `labs` with the kernel and returns the differences as text.
fn check_all(labs: &[(String, String)], against: Against) -> Vec<String> {
    let failures = Mutex::new(Vec::new());
    against_kernel_all(labs, against, 6, true, |_, c| {
        // A lab that differed only among others agreed when run alone.
        if !c.mismatches.is_empty() && !c.under_load {
            let mut msg = format!(
                "{}: {} line(s) differ ({} vs kernel):\n",
                c.name,
                c.mismatches.len(),
                against.name()
            );
            for x in &c.mismatches {
                msg.push_str(&format!("  {x}\n"));
            }
            msg.push_str(&format!(
                "smallest lab that shows it:\n{}",
                c.smallest.unwrap_or_default()
            ));
            failures.lock().unwrap().push(msg);
        }
    })
    .expect("every lab runs");
    failures.into_inner().unwrap()
}

#[test]
#[ignore = "needs root"]
fn the_emulator_and_the_user_datapath_agree_with_the_kernel() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../labs");
    let mut jobs: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sh"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    let seeds: u64 = std::env::var("MVL_DIFF_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    for seed in 0..seeds {
        jobs.push((
            format!("random lab seed {seed}"),
            mvl_lab::generate::random_lab(seed),
        ));
    }
    let mut failures = check_all(&jobs, Against::Sim);
    failures.extend(check_all(&jobs, Against::User));
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
