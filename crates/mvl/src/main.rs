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
    /// `link show`: JSON output, as `ip -j`.
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
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Against {
    /// The emulator.
    Sim,
    /// The userspace datapath.
    User,
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
enum Format {
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
    let mut backend: Box<dyn Backend> = match a.backend {
        BackendKind::Sim => Box::new(SimBackend::new(a.seed, base, a.pcap.clone())),
        BackendKind::Kernel => {
            if a.pcap.is_some() {
                return Err(LabError::Backend {
                    backend: "kernel".into(),
                    why: "--pcap needs the sim backend; use tcpdump -w FILE lines instead".into(),
                });
            }
            Box::new(KernelBackend::new(base)?)
        }
        BackendKind::User => {
            if a.pcap.is_some() {
                return Err(LabError::Backend {
                    backend: "user".into(),
                    why: "--pcap needs the sim backend; use tcpdump -w FILE lines instead".into(),
                });
            }
            Box::new(UserBackend::new(base)?)
        }
    };
    let json = a.json || a.format == Format::Json;
    let path = a.file.display().to_string();
    let mut out = std::io::stdout().lock();
    if !json {
        let _ = out.write_all(report::text_header(&path, backend.name()).as_bytes());
    }
    let opts = RunOptions { explain: a.explain };
    let rep = mvl_lab::run(&lab, backend.as_mut(), opts, |l| {
        if !json {
            let _ = out.write_all(report::text_line(l).as_bytes());
            let _ = out.flush();
        }
    })?;
    if json {
        let _ = out.write_all(report::json_lines(&rep).as_bytes());
    } else {
        for l in rep.lines.iter().filter(|l| {
            l.message
                .as_deref()
                .is_some_and(|m| m.contains("packets captured"))
        }) {
            let _ = writeln!(out, "\ncapture of line {} ({}):", l.line, l.command);
            for c in l.output.lines() {
                let _ = writeln!(out, "  {c}");
            }
        }
        let _ = out.write_all(report::text_summary(&rep).as_bytes());
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
                    Ok(m) if m.is_empty() => eprintln!("[{n}/{total}] {name}: the same on both"),
                    Ok(m) => {
                        differing.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let side = if a.against == Against::Sim { "sim" } else { "user" };
                        let mut out = format!(
                            "[{n}/{total}] {name}: {} line(s) differ ({side} vs kernel)\n",
                            m.len()
                        );
                        for x in &m {
                            out.push_str(&format!("  {x}\n"));
                        }
                        if a.minimize {
                            let small = mvl_lab::diff::minimize(text, |t| {
                                mismatches(t, a.against).is_ok_and(|m| !m.is_empty())
                            });
                            out.push_str(&format!("smallest lab that differs:\n{small}"));
                        }
                        print!("{out}");
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
    println!("{total} labs compared, {d} differ");
    Ok(i32::from(d > 0))
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
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                // Colours only for a person at a terminal, not in a log file or journal.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .init();
            match daemon::run(a) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("mvl daemon: {e:#}");
                    1
                }
            }
        }
        Cmd::Lab {
            cmd: LabCmd::Random { seed },
        } => {
            print!("{}", mvl_lab::gen::random_lab(seed));
            0
        }
        Cmd::Lab { cmd: LabCmd::Diff(a) } => match lab_diff(a) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mvl: {e}");
                2
            }
        },
        Cmd::Lab { cmd: LabCmd::Run(a) } => match lab_run(a) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mvl: {e}");
                2
            }
        },
    };
    ExitCode::from(code as u8)
}
