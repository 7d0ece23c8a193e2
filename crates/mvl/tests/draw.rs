//! `mvl lab draw` and `mvl lab run --html` as a user sees them, and the
//! HTML report in a real browser (headless Chromium).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

/// A folder of this test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("mvl-draw-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn draws_the_topology_in_three_formats() {
    let (code, svg, err) = mvl(&["lab", "draw", "labs/tutorial.sh"]);
    assert_eq!(code, 0, "{err}");
    assert!(svg.starts_with("<svg"));
    for dev in ["root/br0", "root/veth11", "ns3/eth0", "ns1/eth0"] {
        assert!(svg.contains(&format!("data-dev=\"{dev}\"")), "{dev}");
    }
    let (code, json, _) = mvl(&[
        "lab",
        "draw",
        "labs/tutorial.sh",
        "--at",
        "45",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = v["topology"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["root", "ns1", "ns2", "ns3"]);
    let modes: Vec<&str> = v["topology"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["mode"].as_str())
        .collect();
    assert_eq!(modes, ["bridge", "bridge"]);
    // -j is --format json.
    let (code, j, _) = mvl(&["-j", "lab", "draw", "labs/tutorial.sh", "--at", "45"]);
    assert_eq!((code, j.as_str()), (0, json.as_str()));
    let (code, dot, _) = mvl(&["lab", "draw", "labs/tutorial.sh", "--format", "dot"]);
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph macvlan {"));
    // --at draws the state after that line: at line 29 both macvlans are
    // still in the root namespace, on veth12.
    let (_, early, _) = mvl(&[
        "lab",
        "draw",
        "labs/tutorial.sh",
        "--at",
        "29",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&early).unwrap();
    assert_eq!(v["topology"]["namespaces"].as_array().unwrap().len(), 4);
    assert!(early.contains("\"root/veth12.1\""));
}

#[test]
fn draws_one_ping_into_a_file() {
    let dir = TempDir::new("ping");
    let out = dir.0.join("vepa.svg");
    let (code, stdout, err) = mvl(&[
        "lab",
        "draw",
        "labs/tutorial.sh",
        "--ping",
        "66",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty());
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains("class=\"drop\""));
    assert!(svg.contains("hairpin off"));
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = TempDir::new("bad");
    let lab = dir.0.join("lab.sh");
    std::fs::write(&lab, "ip netns add a\nip link frobnicate x\n").unwrap();
    let (code, out, err) = mvl(&["lab", "draw", lab.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("line 2"), "{err}");
    let cases = [
        (
            vec!["--at", "500"],
            "--at 500: past the end of the lab, whose last command is on line 110",
        ),
        (vec!["--ping", "500"], "--ping 500: past the end"),
        (
            vec!["--ping", "46"],
            "line 46 is `ip netns exec ns1 ip link | grep ether`, not a ping",
        ),
        (vec!["--ping", "1"], "line 1 has no command"),
    ];
    for (args, want) in cases {
        let mut a = vec!["lab", "draw", "labs/tutorial.sh"];
        a.extend(args.iter());
        let (code, out, err) = mvl(&a);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let (code, _, err) = mvl(&["lab", "draw", "labs/tutorial.sh", "--at", "3", "--ping", "43"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) = mvl(&["-n", "x", "lab", "draw", "labs/tutorial.sh"]);
    assert_eq!(code, 2);
    assert!(err.contains("-n does not apply to lab draw"), "{err}");
}

/// Writes the tutorial's report with `mvl lab run --html`.
fn tutorial_report(dir: &Path, backend: &str) -> (PathBuf, String) {
    let page = dir.join("tutorial.html");
    let (code, out, err) = mvl(&[
        "lab",
        "run",
        "--backend",
        backend,
        "--html",
        page.to_str().unwrap(),
        "labs/tutorial.sh",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    (page, html)
}

fn lab_lines() -> Vec<usize> {
    mvl_lab::load(&root().join("labs/tutorial.sh"))
        .unwrap()
        .lines
        .iter()
        .map(|l| l.number)
        .collect()
}

#[test]
fn html_report_is_one_offline_page() {
    let dir = TempDir::new("html");
    let (_, html) = tutorial_report(&dir.0, "sim");
    for n in lab_lines() {
        assert!(html.contains(&format!("id=\"line-{n}\"")), "line {n}");
    }
    // Every ping's picture is there as SVG, without script.
    assert_eq!(html.matches("class=\"ping-drawing\"").count(), 16);
    assert_eq!(
        html.matches("<svg").count() - html.matches("<template").count(),
        17
    );
    // Nothing is fetched.
    for remote in ["http://", "https://", "src=", "<link", "@import"] {
        let found = html.replace("http://www.w3.org/2000/svg", "");
        assert!(!found.contains(remote), "{remote}");
    }
    assert!(html.contains("every expectation holds"));
    assert!(
        !html.contains("class=\"differs\""),
        "the emulator agrees with itself"
    );
}

#[test]
#[ignore = "needs root"]
fn html_report_of_the_kernel_says_whose_drawing_it_is() {
    let dir = TempDir::new("html-kernel");
    let (_, html) = tutorial_report(&dir.0, "kernel");
    assert!(html.contains("Backend: <b>kernel</b>"));
    assert!(html.contains("the drawings are the emulator's view of the same lab"));
    assert_eq!(html.matches("class=\"ping-drawing\"").count(), 16);
    // The emulator is held to the kernel's results: no line differs.
    assert!(!html.contains("class=\"differs\""));
}

/// Chromium's command, when installed.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Runs headless Chromium on `page` with `extra` arguments; its stdout.
fn headless(browser: &str, profile: &Path, extra: &[&str], page: &Path) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{browser} {extra:?}: {status}");
    out
}

#[test]
fn html_report_in_a_real_browser() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium is missing: scripts/test.sh installs it");
        }
        eprintln!("skipped: chromium is not installed (scripts/test.sh installs it as root)");
        return;
    };
    let dir = TempDir::new("browser");
    let (page, _) = tutorial_report(&dir.0, "sim");
    let profile = dir.0.join("profile");
    let dom = headless(browser, &profile, &["--dump-dom"], &page);
    // The browser built the page: the drawing beside the lines, and every line.
    assert!(
        dom.contains("<div id=\"drawing\"><svg"),
        "the drawing is in the DOM"
    );
    assert!(dom.contains("data-dev=\"ns1/eth0\""));
    for n in lab_lines() {
        assert!(dom.contains(&format!("id=\"line-{n}\"")), "line {n} in the DOM");
    }
    // The script's part: a click on a ping's line shows its frames beside the
    // lines; a click on another line shows the state after it.
    let html = std::fs::read_to_string(&page).unwrap();
    let click = |line: usize| {
        let p = dir.0.join(format!("click-{line}.html"));
        let extra = format!("<script>document.getElementById('line-{line}').click();</script>\n</body>");
        std::fs::write(&p, html.replace("</body>", &extra)).unwrap();
        let dom = headless(browser, &profile, &["--dump-dom"], &p);
        let start = dom.find("<aside id=\"view\">").expect("the view");
        dom[start..].to_string()
    };
    let view = click(66);
    assert!(
        view.contains("Line 66: the frames of this ping"),
        "{}",
        &view[..200]
    );
    assert!(view.contains("class=\"drop\""));
    assert!(
        view.contains("url(#mvl-v66-arrow-request)"),
        "the copy has its own marker ids"
    );
    let view = click(51);
    assert!(view.contains("The state after line 51"));
    assert!(
        view.contains("NO-CARRIER"),
        "veth11 down: the cable's far end has no carrier"
    );
    let shot = dir.0.join("shot.png");
    headless(
        browser,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
        ],
        &page,
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bpp = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(bpp).collect();
    let colours: std::collections::BTreeSet<&[u8]> = pixels.iter().copied().collect();
    let white = pixels.iter().filter(|p| p[..3] == [255, 255, 255]).count();
    // Text, boxes and mode colours: many colours, and far from all white.
    assert!(colours.len() > 100, "{} colours", colours.len());
    assert!(
        white * 10 < pixels.len() * 9,
        "{white} of {} pixels white",
        pixels.len()
    );
}

#[test]
fn the_readme_pictures_are_up_to_date() {
    let dir = TempDir::new("pictures");
    let out = Command::new(root().join("scripts/tutorial-pictures.sh"))
        .arg(&dir.0)
        .env("MVL", env!("CARGO_BIN_EXE_mvl"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["topology", "bridge", "vepa", "private", "passthru", "source"] {
        let fresh = std::fs::read_to_string(dir.0.join(format!("{name}.svg"))).unwrap();
        let committed = std::fs::read_to_string(root().join(format!("docs/pictures/{name}.svg"))).unwrap();
        assert!(
            fresh == committed,
            "docs/pictures/{name}.svg is not what the tutorial draws now: run scripts/tutorial-pictures.sh"
        );
    }
}
