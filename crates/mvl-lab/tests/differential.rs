//! The emulator and the userspace datapath against the real kernel: every
//! lab in `labs/` and 50 random labs must give the same result on every
//! line. Needs root (CI is root); elsewhere the test says it skips.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use mvl_lab::diff::{compare, minimize, Mismatch};
use mvl_lab::{Backend, KernelBackend, SimBackend, UserBackend};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[derive(Clone, Copy, Debug)]
enum Other {
    Sim,
    User,
}

fn mismatches(text: &str, other: Other) -> Vec<Mismatch> {
    let lab = mvl_lab::parse(text).expect("labs parse");
    let mut b: Box<dyn Backend> = match other {
        Other::Sim => Box::new(SimBackend::new(1, std::env::temp_dir(), None)),
        Other::User => Box::new(UserBackend::new(std::env::temp_dir()).expect("user backend")),
    };
    let mut kernel = KernelBackend::new(std::env::temp_dir()).expect("kernel backend");
    compare(&lab, b.as_mut(), &mut kernel).expect("both run")
}

/// Runs `jobs` in parallel (kernel labs mostly wait on pings) and returns
/// the failures as text.
fn check_all(jobs: Vec<(String, String)>, other: Other) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((name, text)) = jobs.get(i) else { break };
                let m = mismatches(text, other);
                if !m.is_empty() {
                    let small = minimize(text, |t| !mismatches(t, other).is_empty());
                    let mut msg = format!("{name}: {} line(s) differ ({other:?} vs kernel):\n", m.len());
                    for x in &m {
                        msg.push_str(&format!("  {x}\n"));
                    }
                    msg.push_str(&format!("smallest lab that shows it:\n{small}"));
                    failures.lock().unwrap().push(msg);
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

#[test]
fn the_emulator_and_the_user_datapath_agree_with_the_kernel() {
    if !is_root() {
        eprintln!("skipped: comparing with the kernel needs root (CI runs it as root)");
        return;
    }
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
        jobs.push((format!("random lab seed {seed}"), mvl_lab::gen::random_lab(seed)));
    }
    let mut failures = check_all(jobs.clone(), Other::Sim);
    failures.extend(check_all(jobs, Other::User));
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
