//! `mvl`: run macvlan labs on the emulator, the real kernel or the
//! userspace datapath; create and manage macvlans.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mvl_lab::{report, Backend, KernelBackend, LabError, RunOptions, SimBackend, UserBackend};

mod daemon;
mod link;

#[derive(Parser)]
#[command(
    name = "mvl",
    version,
    about = "NIC virtualization with the semantics of Linux macvlan"
)]
struct Cli {
    /// `link`: the network namespace (a name under /run/netns, a path, or a PID).
    #[arg(short = 'n', long = "netns", value_name = "NS")]
    netns: Option<String>,
    /// JSON output: `link show` as `ip -j`; `lab` commands as their own `-j`.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// `link show`: details, as `ip -d`.
    #[arg(short = 'd', long = "details")]
    details: bool,
    /// `link show`: statistics, as `ip -s` (per-child counters and drops with the user backend).
    #[arg(short = 's', long = "stats")]
    stats: bool,
    /// `link`: kernel macvlans (rtnetlink), or the userspace datapath (`mvl daemon`).
    #[arg(long, value_enum, default_value = "kernel")]
    backend: LinkBackend,
    /// `link --backend user`: the daemon's control socket.
    #[arg(long, default_value = "/run/mvl/mvl.sock")]
    socket: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum LinkBackend {
    /// The kernel's macvlan driver.
    Kernel,
    /// The userspace datapath served by `mvl daemon`.
    User,
}

#[derive(Subcommand)]
enum Cmd {
    /// Labs: scripts of ip/bridge/ping/tcpdump commands, run anywhere.
    Lab {
        #[command(subcommand)]
        cmd: LabCmd,
    },
    /// The userspace datapath as a service: TAP children on AF_PACKET lowers.
    Daemon(daemon::DaemonArgs),
    /// Macvlans with iproute2's words: add NAME link PARENT type macvlan ..., set, del, show.
    Link {
        /// The words of `ip link` after `link`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
}

#[derive(Subcommand)]
enum LabCmd {
    /// Run a lab and judge every line against its `# expect:`.
    Run(LabRun),
    /// Run labs on the real kernel and on the emulator (or the userspace datapath)
    /// and compare every line (needs root).
    Diff(LabDiff),
    /// Print the random lab of a seed (the ones `mvl lab diff --seeds` runs).
    Random {
        /// The seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output format: the lab's text, or a JSON object with the seed and the text.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Same as --format json.
        #[arg(short = 'j', long = "json")]
        json: bool,
    },
}

#[derive(clap::Args)]
struct LabDiff {
    /// Lab files to compare.
    files: Vec<PathBuf>,
    /// Also compare this many random labs.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seeds: u64,
    /// First seed of the random labs.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Labs run at once (kernel labs mostly wait on pings).
    #[arg(long, default_value_t = 6)]
    jobs: usize,
    /// For a lab that differs, also print the smallest lab that still differs.
    #[arg(long)]
    minimize: bool,
    /// What the kernel is compared with: the emulator, or the userspace datapath.
    #[arg(long, value_enum, default_value = "sim")]
    against: Against,
    /// Output format: text, or one JSON object per lab and a summary object.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Same as --format json.
    #[arg(short = 'j', long = "json")]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Against {
    /// The emulator.
    Sim,
    /// The userspace datapath.
    User,
}

impl Against {
    fn name(self) -> &'static str {
        match self {
            Against::Sim => "sim",
            Against::User => "user",
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum BackendKind {
    /// The emulator: no root needed, milliseconds.
    Sim,
    /// The real kernel, iproute2 and ping, in a private sandbox (needs root).
    Kernel,
    /// As kernel, with every macvlan served by the userspace datapath (needs root).
    User,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
struct LabRun {
    /// The lab file.
    file: PathBuf,
    /// Where the lab runs.
    #[arg(long, value_enum, default_value = "sim")]
    backend: BackendKind,
    /// Output format: a transcript, or one JSON object per line.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Same as --format json.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// Show the path of every frame of each ping, and why a failed one was dropped.
    #[arg(long)]
    explain: bool,
    /// Write every device's frames as pcap files into this directory.
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,
    /// Seed of the emulator's random MAC addresses.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn lab_run(a: LabRun) -> Result<i32, LabError> {
    let lab = mvl_lab::load(&a.file)?;
    let base = a.file.parent().map(PathBuf::from).unwrap_or_default();
    if a.pcap.is_some() && a.backend != BackendKind::Sim {
        return Err(LabError::Backend {
            backend: if a.backend == BackendKind::Kernel {
                "kernel"
            } else {
                "user"
            }
            .into(),
            why: "--pcap needs the sim backend; use tcpdump -w FILE lines instead".into(),
        });
    }
    let mut backend: Box<dyn Backend> = match a.backend {
        BackendKind::Sim => Box::new(SimBackend::new(a.seed, base, a.pcap.clone())),
        BackendKind::Kernel => Box::new(KernelBackend::new(base)?),
        BackendKind::User => Box::new(UserBackend::new(base)?),
    };
    let json = a.json || a.format == Format::Json;
    let path = a.file.display().to_string();
    if !json {
        emit(&report::text_header(&path, backend.name()));
    }
    let opts = RunOptions { explain: a.explain };
    let rep = mvl_lab::run(&lab, backend.as_mut(), opts, |l| {
        if !json {
            emit(&report::text_line(l));
        }
    })?;
    if json {
        emit(&report::json_lines(&rep));
    } else {
        for l in rep.lines.iter().filter(|l| {
            l.message
                .as_deref()
                .is_some_and(|m| m.contains("packets captured"))
        }) {
            let mut text = format!("\ncapture of line {} ({}):\n", l.line, l.command);
            for c in l.output.lines() {
                text.push_str(&format!("  {c}\n"));
            }
            emit(&text);
        }
        emit(&report::text_summary(&rep));
    }
    Ok(rep.exit_code())
}

fn mismatches(text: &str, against: Against) -> Result<Vec<mvl_lab::diff::Mismatch>, LabError> {
    let lab = mvl_lab::parse(text)?;
    let mut other: Box<dyn Backend> = match against {
        Against::Sim => Box::new(SimBackend::new(1, std::env::temp_dir(), None)),
        Against::User => Box::new(UserBackend::new(std::env::temp_dir())?),
    };
    let mut kernel = KernelBackend::new(std::env::temp_dir())?;
    mvl_lab::diff::compare(&lab, other.as_mut(), &mut kernel)
}

fn lab_diff(a: LabDiff) -> Result<i32, LabError> {
    let json = a.json || a.format == Format::Json;
    let mut jobs: Vec<(String, String)> = Vec::new();
    for f in &a.files {
        let text = std::fs::read_to_string(f).map_err(|e| LabError::Read {
            path: f.display().to_string(),
            source: e,
        })?;
        jobs.push((f.display().to_string(), text));
    }
    for seed in a.from..a.from + a.seeds {
        jobs.push((format!("random lab {seed}"), mvl_lab::gen::random_lab(seed)));
    }
    let total = jobs.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let differing = std::sync::atomic::AtomicUsize::new(0);
    let first_error = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..a.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((name, text)) = jobs.get(i) else { break };
                let res = mismatches(text, a.against);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                match res {
                    Ok(m) => {
                        if !m.is_empty() {
                            differing.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        let smallest = (a.minimize && !m.is_empty()).then(|| {
                            mvl_lab::diff::minimize(text, |t| {
                                mismatches(t, a.against).is_ok_and(|m| !m.is_empty())
                            })
                        });
                        let out = if json {
                            diff_json(name, a.against, &m, smallest.as_deref())
                        } else {
                            diff_text(name, a.against, &m, smallest.as_deref())
                        };
                        eprintln!(
                            "[{n}/{total}] {name}: {}",
                            if m.is_empty() {
                                "the same on both"
                            } else {
                                "differs"
                            }
                        );
                        emit(&out);
                    }
                    Err(e) => {
                        first_error.lock().expect("no panics hold it").get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("no panics hold it") {
        return Err(e);
    }
    let d = differing.into_inner();
    if json {
        emit(&format!(
            "{}\n",
            serde_json::json!({"kind": "summary", "labs": total, "differ": d})
        ));
    } else {
        emit(&format!("{total} labs compared, {d} differ\n"));
    }
    Ok(i32::from(d > 0))
}

/// A lab that differs, for people: its lines side by side, and the smallest lab.
fn diff_text(name: &str, against: Against, m: &[mvl_lab::diff::Mismatch], smallest: Option<&str>) -> String {
    if m.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{name}: {} line(s) differ ({} vs kernel)\n",
        m.len(),
        against.name()
    );
    for x in m {
        out.push_str(&format!("  {x}\n"));
    }
    if let Some(small) = smallest {
        out.push_str(&format!("smallest lab that differs:\n{small}"));
    }
    out
}

/// One JSON line per lab compared, the same or not.
fn diff_json(name: &str, against: Against, m: &[mvl_lab::diff::Mismatch], smallest: Option<&str>) -> String {
    let side = |r: &(mvl_lab::Res, Option<String>)| serde_json::json!({"result": r.0, "message": r.1});
    let lines: Vec<serde_json::Value> = m
        .iter()
        .map(|x| {
            serde_json::json!({
                "line": x.line,
                "command": x.command,
                against.name(): side(&x.a),
                "kernel": side(&x.b),
            })
        })
        .collect();
    let v = serde_json::json!({
        "kind": "lab",
        "lab": name,
        "against": against.name(),
        "same": m.is_empty(),
        "mismatches": lines,
        "smallest": smallest,
    });
    format!("{v}\n")
}

/// Writes to stdout. A reader that went away (`| head`) ends the program
/// quietly, as it ends `ip`, rather than in a panic.
pub(crate) fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("mvl: writing the output: {e}");
        std::process::exit(1);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let link_opts = link::Options {
        netns: cli.netns,
        json: cli.json,
        details: cli.details,
        stats: cli.stats,
        user_socket: (cli.backend == LinkBackend::User).then_some(cli.socket),
    };
    let code = match cli.cmd {
        Cmd::Link { words } => link::main(&link_opts, &words),
        Cmd::Daemon(a) => {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let logs = tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(filter);
            if a.json || cli.json || a.format == Format::Json {
                logs.json().init();
            } else {
                // Colours only for a person at a terminal, not in a log file or journal.
                logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .init();
            }
            match daemon::run(a) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("mvl daemon: {e:#}");
                    1
                }
            }
        }
        Cmd::Lab {
            cmd: LabCmd::Random { seed, format, json },
        } => {
            let text = mvl_lab::gen::random_lab(seed);
            if json || cli.json || format == Format::Json {
                emit(&format!("{}\n", serde_json::json!({"seed": seed, "lab": text})));
            } else {
                emit(&text);
            }
            0
        }
        Cmd::Lab {
            cmd: LabCmd::Diff(mut a),
        } => match lab_diff({
            a.json |= cli.json;
            a
        }) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mvl: {e}");
                2
            }
        },
        Cmd::Lab {
            cmd: LabCmd::Run(mut a),
        } => match lab_run({
            a.json |= cli.json;
            a
        }) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mvl: {e}");
                2
            }
        },
    };
    ExitCode::from(code as u8)
}
