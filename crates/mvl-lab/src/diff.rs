//! Differential runs: the same lab on two backends, line by line, and the
//! smallest lab that still shows a difference.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use crate::ast::{Command, Lab};
use crate::error::LabError;
use crate::run::{run, Backend, Res, RunOptions};
use crate::{KernelBackend, SimBackend, UserBackend};

/// A line whose result differs between two backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Line number.
    pub line: usize,
    /// The command.
    pub command: String,
    /// Result and message on the first backend.
    pub a: (Res, Option<String>),
    /// Result and message on the second backend.
    pub b: (Res, Option<String>),
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: {}: {} ({}) vs {} ({})",
            self.line,
            self.command,
            self.a.0.as_str(),
            self.a.1.as_deref().unwrap_or("-"),
            self.b.0.as_str(),
            self.b.1.as_deref().unwrap_or("-")
        )
    }
}

/// Runs `lab` on both backends and lists the lines that differ: in their
/// result, in the counters an `ip -s link` line shows, in the neighbours
/// `ip neigh show` lists, in the routes `ip route` lists, or in which frames a capture saw (timestamps, ICMP ids and the MAC addresses themselves aside:
/// the kernel draws its MACs at random).
pub fn compare(lab: &Lab, a: &mut dyn Backend, b: &mut dyn Backend) -> Result<Vec<Mismatch>, LabError> {
    // A user-backend child is a TAP: the kernel keeps its counters by TAP
    // rules (no multicast count, no macvlan byte quirks), so only packets
    // and TX drops are compared there. RX drops are not: the kernel's
    // macvlan counts a broadcast its queue refuses on the lower's
    // rx_dropped, which a userspace port cannot add to.
    let taps = a.name() == "user" || b.name() == "user";
    let ra = run(lab, a, RunOptions::default(), |_| {})?;
    let rb = run(lab, b, RunOptions::default(), |_| {})?;
    let mut out = Vec::new();
    for ((x, y), line) in ra.lines.iter().zip(&rb.lines).zip(&lab.lines) {
        let what = if x.result != y.result {
            Some((x.message.clone(), y.message.clone()))
        } else if x.result == Res::Error && refusal(&x.message) != refusal(&y.message) {
            // Both refused, for different reasons (another errno, or
            // another of iproute2's checks).
            Some((x.message.clone(), y.message.clone()))
        } else {
            match &line.command {
                Command::LinkShow(s) if s.stats && x.result == Res::Ok => {
                    let packets = |o: &str| {
                        let mut c = counters(o);
                        if taps {
                            // RX and TX packets, TX dropped, of the 12 numbers.
                            for (_, v) in &mut c {
                                *v = [1, 7, 9].iter().filter_map(|&i| v.get(i).copied()).collect();
                            }
                        }
                        c
                    };
                    let (cx, cy) = (packets(&x.output), packets(&y.output));
                    (cx != cy).then(|| (Some(format!("counters {cx:?}")), Some(format!("counters {cy:?}"))))
                }
                // A routing table holds nothing random: compared as printed.
                Command::RouteShow(_) if x.result == Res::Ok => {
                    (x.output != y.output).then(|| (Some(x.output.clone()), Some(y.output.clone())))
                }
                Command::NeighShow(_) if x.result == Res::Ok => {
                    let (nx, ny) = (neighbours(&x.output), neighbours(&y.output));
                    (nx != ny).then(|| {
                        (
                            Some(format!("neighbours {nx:?}")),
                            Some(format!("neighbours {ny:?}")),
                        )
                    })
                }
                Command::Tcpdump { .. } => {
                    // The same frames; how often ARP repeats a request near
                    // the end of a ping depends on the kernel's timers.
                    let set = |o: &str| capture(o).into_iter().collect::<std::collections::BTreeSet<_>>();
                    let (cx, cy) = (set(&x.output), set(&y.output));
                    (cx != cy).then(|| (Some(format!("captured {cx:?}")), Some(format!("captured {cy:?}"))))
                }
                _ => None,
            }
        };
        if let Some((ma, mb)) = what {
            out.push(Mismatch {
                line: x.line,
                command: x.command.clone(),
                a: (x.result, ma),
                b: (y.result, mb),
            });
        }
    }
    Ok(out)
}

/// A refusal as the tool prints it: its first line, without the
/// explanation in parentheses the emulator adds.
fn refusal(message: &Option<String>) -> Option<&str> {
    let first = message.as_deref()?.lines().find(|l| !l.trim().is_empty())?;
    Some(first.split(" (").next().unwrap_or(first).trim())
}

/// The entries of `ip neigh show` output (as lines, `-br` columns or
/// `-j` JSON): each address and device, and whether it is resolved (the
/// MAC itself aside, and the state too: the kernel moves REACHABLE, STALE
/// and DELAY by timers in real time; and their order, a hash walk's).
pub fn neighbours(output: &str) -> std::collections::BTreeSet<(String, String, bool)> {
    if let Ok(serde_json::Value::Array(v)) = serde_json::from_str(output) {
        let field = |e: &serde_json::Value, k: &str| e.get(k).and_then(|x| x.as_str()).map(str::to_string);
        return v
            .iter()
            .filter_map(|e| Some((field(e, "dst")?, field(e, "dev")?, e.get("lladdr").is_some())))
            .collect();
    }
    output
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.iter().position(|&x| x == "dev") {
                Some(i) => Some((
                    w.first()?.to_string(),
                    w.get(i + 1)?.to_string(),
                    w.contains(&"lladdr"),
                )),
                // `-br`: address, device, and the MAC when resolved.
                None => Some((w.first()?.to_string(), w.get(1)?.to_string(), w.len() > 2)),
            }
        })
        .collect()
}

/// The counters of `ip -s link` output: each device's name with the
/// numbers of its RX and TX lines.
pub fn counters(output: &str) -> Vec<(String, Vec<u64>)> {
    let mut out: Vec<(String, Vec<u64>)> = Vec::new();
    let mut numbers_next = false;
    for l in output.lines() {
        let t = l.trim_start();
        if !l.starts_with(' ') {
            // `4: veth0@if3: <...>`: the name, without its `@peer`.
            if let Some(name) = l.split(": ").nth(1) {
                out.push((name.split('@').next().unwrap_or(name).to_string(), Vec::new()));
            }
            numbers_next = false;
        } else if t.starts_with("RX:") || t.starts_with("TX:") {
            numbers_next = true;
        } else if numbers_next {
            if let Some((_, v)) = out.last_mut() {
                v.extend(t.split_whitespace().filter_map(|n| n.parse::<u64>().ok()));
            }
            numbers_next = false;
        }
    }
    out
}

/// A capture's lines without what differs between runs: the timestamp,
/// ICMP ids, and MAC addresses (the kernel draws them at random, and frames
/// of the same moment come in either order, so no numbering of them holds).
pub fn capture(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut text: Vec<String> = l
                .split_whitespace()
                .skip(1)
                .map(|w| {
                    let core = w.trim_end_matches([',', ':']);
                    if core.len() == 17 && core.split(':').count() == 6 {
                        format!("MAC{}", &w[core.len()..])
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            for i in 1..text.len() {
                if text[i - 1] == "id" {
                    text[i] = "_,".into();
                }
            }
            text.join(" ")
        })
        .collect()
}

/// What the kernel is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// The emulator.
    Sim,
    /// The userspace datapath.
    User,
}

impl Against {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Against::Sim => "sim",
            Against::User => "user",
        }
    }
}

/// Runs the lab `text` on `against` and on the kernel (each in a sandbox
/// of its own) and lists the lines that differ.
pub fn against_kernel(text: &str, against: Against) -> Result<Vec<Mismatch>, LabError> {
    let lab = crate::parse(text)?;
    let dir = std::env::temp_dir();
    let mut other: Box<dyn Backend> = match against {
        Against::Sim => Box::new(SimBackend::new(1, dir.clone(), None)),
        Against::User => Box::new(UserBackend::new(dir.clone())?),
    };
    let mut kernel = KernelBackend::new(dir)?;
    compare(&lab, other.as_mut(), &mut kernel)
}

/// One lab of [`against_kernel_all`], compared.
#[derive(Debug)]
pub struct Compared<'a> {
    /// The lab's name, as given.
    pub name: &'a str,
    /// The lines that differ.
    pub mismatches: Vec<Mismatch>,
    /// The lab differed while other labs ran, and agreed when it ran again
    /// alone: `mismatches` are of the first run. The real side's timing
    /// under load (an ARP retry, which reply comes first) is not its timing
    /// on a quiet machine, which is what the emulator models.
    pub under_load: bool,
    /// When asked for and the lab differs: the smallest lab that still does.
    pub smallest: Option<String>,
}

/// Compares many `(name, text)` labs with the kernel, `jobs` at once (a
/// kernel lab mostly waits on pings). `each` sees every lab as it ends,
/// with how many have ended; the first lab that cannot run is the error.
/// A lab that differs while others run is run again alone, and minimized
/// alone (see [`Compared::under_load`]).
pub fn against_kernel_all(
    labs: &[(String, String)],
    against: Against,
    jobs: usize,
    minimize_differing: bool,
    each: impl Fn(usize, Compared<'_>) + Sync,
) -> Result<(), LabError> {
    compare_all(
        labs,
        jobs,
        minimize_differing,
        |text| against_kernel(text, against),
        each,
    )
}

/// The pool behind [`against_kernel_all`], over any comparison. A lab that
/// differs while others run runs again alone (no other lab starts until it
/// ends), and is minimized alone.
fn compare_all(
    labs: &[(String, String)],
    jobs: usize,
    minimize_differing: bool,
    compare: impl Fn(&str) -> Result<Vec<Mismatch>, LabError> + Sync,
    each: impl Fn(usize, Compared<'_>) + Sync,
) -> Result<(), LabError> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let first_error = Mutex::new(None);
    // Labs run holding it shared; a lab that runs alone holds it alone.
    let alone = RwLock::new(());
    let fail = |e: LabError| {
        let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert(e);
    };
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                while let Some((name, text)) = labs.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let first = {
                        let _with_others = alone.read().unwrap_or_else(|p| p.into_inner());
                        compare(text)
                    };
                    let mismatches = match first {
                        Ok(m) => m,
                        Err(e) => {
                            fail(e);
                            continue;
                        }
                    };
                    let (mut under_load, mut smallest) = (false, None);
                    if !mismatches.is_empty() {
                        let _only = alone.write().unwrap_or_else(|p| p.into_inner());
                        if jobs > 1 {
                            match compare(text) {
                                Ok(again) => under_load = again.is_empty(),
                                Err(e) => {
                                    fail(e);
                                    continue;
                                }
                            }
                        }
                        if minimize_differing && !under_load {
                            smallest = Some(minimize(text, |t| compare(t).is_ok_and(|m| !m.is_empty())));
                        }
                    }
                    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                    each(
                        n,
                        Compared {
                            name,
                            mismatches,
                            under_load,
                            smallest,
                        },
                    );
                }
            });
        }
    });
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The smallest lab (by greedy removal of ever smaller chunks of lines)
/// for which `differs` still holds. `differs(text)` must hold for `text`.
pub fn minimize(text: &str, mut differs: impl FnMut(&str) -> bool) -> String {
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    let join = |v: &[&str]| v.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut chunk = lines.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < lines.len() {
            let end = (i + chunk).min(lines.len());
            let candidate: Vec<&str> = lines[..i].iter().chain(&lines[end..]).copied().collect();
            if !candidate.is_empty() && differs(&join(&candidate)) {
                lines = candidate;
            } else {
                i = end;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    join(&lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_captures_as_compared() {
        let show = "4: veth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500
    link/ether e6:c5:57:77:6e:81 brd ff:ff:ff:ff:ff:ff link-netns h1
    RX:  bytes packets errors dropped  missed   mcast           
           238       3      0       0       0       1 
    TX:  bytes packets errors dropped carrier collsns           
           292       4      0       0       0       0 
";
        assert_eq!(
            counters(show),
            vec![("veth0".to_string(), vec![238, 3, 0, 0, 0, 1, 292, 4, 0, 0, 0, 0])]
        );
        let a = capture("12:20:29.281005 aa:9f:9d:44:c6:6d > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.6.0.2 tell 10.6.0.10, length 28
12:20:29.281032 aa:9f:9d:44:c6:6d > 4a:a1:9d:d3:f8:36, ethertype IPv4 (0x0800), length 98: 10.6.0.10 > 10.6.0.2: ICMP echo request, id 29693, seq 1, length 64
");
        let b = capture("00:00:00.017000 ae:69:80:57:2e:47 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.6.0.2 tell 10.6.0.10, length 28
00:00:00.017040 ae:69:80:57:2e:47 > ea:81:72:b2:4c:f8, ethertype IPv4 (0x0800), length 98: 10.6.0.10 > 10.6.0.2: ICMP echo request, id 19798, seq 1, length 64
");
        assert_eq!(a, b);
        assert_eq!(a[1], "MAC > MAC, ethertype IPv4 (0x0800), length 98: 10.6.0.10 > 10.6.0.2: ICMP echo request, id _, seq 1, length 64");
        let c = capture("00:00:00.017000 ae:69:80:57:2e:47 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60: Request who-has 10.6.0.2 tell 10.6.0.10, length 28\n");
        assert_ne!(a[..1], c[..]);
        // Neighbours: address, device, resolved; the MAC and state aside.
        let kernel = "10.0.0.2 dev m1 lladdr 02:00:00:00:00:02 DELAY \n10.0.0.9 dev m1 FAILED \n";
        let sim = "10.0.0.9 dev m1  INCOMPLETE\n10.0.0.2 dev m1 lladdr 0a:00:00:00:00:02 REACHABLE\n";
        assert_eq!(neighbours(kernel), neighbours(sim));
        assert!(neighbours(kernel).contains(&("10.0.0.2".into(), "m1".into(), true)));
        assert_ne!(neighbours(kernel), neighbours("10.0.0.9 dev m1 FAILED\n"));
        // The same entries in every form ip prints them.
        let text = "10.0.0.7 dev va lladdr 02:00:00:00:00:07 PERMANENT \n10.0.0.9 dev va FAILED \n";
        let brief = format!(
            "10.0.0.9{0}va{1}\n10.0.0.7{0}va{1}02:00:00:00:00:07\n",
            " ".repeat(32),
            " ".repeat(15)
        );
        let json = r#"[{"dst":"10.0.0.9","dev":"va","state":["FAILED"]},{"dst":"10.0.0.7","dev":"va","lladdr":"02:00:00:00:00:07"}]"#;
        assert_eq!(neighbours(text), neighbours(&brief));
        assert_eq!(neighbours(text), neighbours(json));
        assert_eq!(neighbours(text).len(), 2);
    }

    #[test]
    fn minimize_keeps_only_what_matters() {
        let text = "a\nb\nc\nneedle1\nd\ne\nneedle2\nf\n";
        let mut calls = 0;
        let out = minimize(text, |t| {
            calls += 1;
            t.contains("needle1") && t.contains("needle2")
        });
        assert_eq!(out, "needle1\nneedle2\n");
        assert!(calls < 30, "{calls} calls");
    }

    #[test]
    fn a_lab_that_differs_only_among_others_is_told_apart() {
        let labs: Vec<(String, String)> = ["fine", "flaky", "real"]
            .iter()
            .map(|n| (n.to_string(), format!("{n}\nline\n")))
            .collect();
        let calls = Mutex::new(std::collections::HashMap::<String, usize>::new());
        let mismatch = || Mismatch {
            line: 1,
            command: "ping".into(),
            a: (Res::Ok, None),
            b: (Res::Fail, None),
        };
        let compare = |text: &str| -> Result<Vec<Mismatch>, LabError> {
            let name = text.lines().next().unwrap_or_default().to_string();
            let mut c = calls.lock().unwrap();
            let n = c.entry(name.clone()).or_default();
            *n += 1;
            // "flaky" differs the first time only; "real" always (but not
            // once minimized to a lab without its name).
            Ok(match name.as_str() {
                "flaky" if *n == 1 => vec![mismatch()],
                "real" => vec![mismatch()],
                _ => Vec::new(),
            })
        };
        let seen = Mutex::new(Vec::new());
        compare_all(&labs, 2, true, compare, |_, c| {
            seen.lock().unwrap().push((
                c.name.to_string(),
                c.mismatches.len(),
                c.under_load,
                c.smallest.is_some(),
            ));
        })
        .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(
            seen,
            [
                ("fine".to_string(), 0, false, false),
                ("flaky".to_string(), 1, true, false),
                ("real".to_string(), 1, false, true),
            ]
        );
        // With one job, a lab already ran alone: it is not run again.
        calls.lock().unwrap().clear();
        compare_all(&labs[1..2], 1, false, compare, |_, c| assert!(!c.under_load)).unwrap();
        assert_eq!(calls.lock().unwrap()["flaky"], 1);
    }
}
