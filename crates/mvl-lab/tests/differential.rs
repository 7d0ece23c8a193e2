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

/// The output of every line of `labs/show-forms.sh` (where every MAC is
/// set) is the kernel's, byte for byte, on the emulator; on the userspace
/// datapath, that of every `ip link show` of its macvlans (the rest lists
/// the TAPs, which are TAPs).
#[test]
#[ignore = "needs root"]
fn show_forms_print_as_on_the_kernel() {
    use mvl_lab::{run, Backend, KernelBackend, RunOptions, SimBackend, UserBackend};
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../labs/show-forms.sh");
    let lab = mvl_lab::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let dir = std::env::temp_dir();
    let outputs = |b: &mut dyn Backend| -> Vec<(String, String)> {
        let r = run(&lab, b, RunOptions::default(), |_| {}).expect("the lab runs");
        r.lines
            .iter()
            .zip(&lab.lines)
            .map(|(x, l)| {
                (
                    l.text.clone(),
                    format!(
                        "{:?} {}{}",
                        x.result,
                        x.output,
                        x.message.clone().unwrap_or_default()
                    ),
                )
            })
            .collect()
    };
    let kernel = outputs(&mut KernelBackend::new(dir.clone()).unwrap());
    let sim = outputs(&mut SimBackend::new(1, dir.clone(), None));
    let user = outputs(&mut UserBackend::new(dir).unwrap());
    for (k, o) in kernel.iter().zip(&sim) {
        assert_eq!(o, k, "sim vs kernel");
    }
    let served = |l: &str| {
        l.contains("link show") && (l.contains("mv0") || l.contains("mv1") || l.contains("macvlan"))
    };
    let mut compared = 0;
    for (k, o) in kernel.iter().zip(&user).filter(|(k, _)| served(&k.0)) {
        assert_eq!(o, k, "user vs kernel");
        compared += 1;
    }
    assert_eq!(
        compared, 4,
        "the lab shows the user backend's macvlans four times"
    );
}
