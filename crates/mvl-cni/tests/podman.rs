//! mvl-cni under a real container engine: podman 4.3 (CNI backend) runs
//! containers on mvl-cni and on the reference macvlan plugin side by side,
//! in private namespaces (see `tests/podman/e2e.sh`, which this runs).
//! Root only; as root a missing podman, runc, busybox-static or reference
//! plugin fails the test with the reason (scripts/test.sh installs them).

#[macro_use]
mod common;

use std::path::Path;
use std::process::Command;

/// What the end-to-end script needs, and the Debian package of each.
const NEEDS: [(&str, &str); 5] = [
    ("/usr/bin/podman", "podman"),
    ("/usr/sbin/runc", "runc"),
    ("/bin/busybox", "busybox-static"),
    ("/usr/lib/cni/macvlan", "containernetworking-plugins"),
    ("/usr/lib/cni/host-local", "containernetworking-plugins"),
];

fn found(path: &str) -> bool {
    let name = Path::new(path).file_name().unwrap();
    Path::new(path).exists()
        || std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).exists()))
}

#[test]
#[ignore = "needs root"]
fn podman_runs_containers_on_mvl_cni_and_the_reference() {
    let missing: Vec<&str> = NEEDS
        .iter()
        .filter(|(p, _)| !found(p))
        .map(|(_, pkg)| *pkg)
        .collect();
    assert!(
        missing.is_empty(),
        "podman cannot run here: missing {missing:?} (scripts/test.sh installs them: apt-get install podman runc busybox-static containernetworking-plugins)"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/podman/e2e.sh");
    // Bounded: a hung podman fails the test instead of stalling CI.
    let out = Command::new("timeout")
        .args(["--kill-after=10", "600", "bash"])
        .arg(&script)
        .env("MVL_CNI_BIN", common::BIN)
        .output()
        .expect("run tests/podman/e2e.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "podman end to end failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
fn the_readme_shows_the_conflist_the_test_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tested: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tests/podman/lan.conflist")).unwrap())
            .unwrap();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    // The JSON block of "With podman" and the YAML-embedded one of "With Multus".
    for (section, fence) in [
        ("## With podman", "```json\n"),
        ("## With Multus", "  config: |\n"),
    ] {
        let rest = &readme[readme
            .find(section)
            .unwrap_or_else(|| panic!("README lacks {section}"))..];
        let start = rest.find(fence).unwrap() + fence.len();
        let end = start + rest[start..].find("```").unwrap();
        let shown: serde_json::Value = serde_json::from_str(&rest[start..end])
            .unwrap_or_else(|e| panic!("{section}: the conflist is not JSON: {e}"));
        assert_eq!(
            shown, tested,
            "{section} shows another conflist than tests/podman/lan.conflist"
        );
    }
}
