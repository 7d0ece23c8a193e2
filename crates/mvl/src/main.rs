//! `mvl`: run macvlan labs on the emulator, the real kernel or the
//! userspace datapath; create and manage macvlans.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mvl_lab::{report, Backend, KernelBackend, LabError, RunOptions, SimBackend};

#[derive(Parser)]
#[command(
    name = "mvl",
    version,
    about = "NIC virtualization with the semantics of Linux macvlan"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Labs: scripts of ip/bridge/ping/tcpdump commands, run anywhere.
    Lab {
        #[command(subcommand)]
        cmd: LabCmd,
    },
}

#[derive(Subcommand)]
enum LabCmd {
    /// Run a lab and judge every line against its `# expect:`.
    Run(LabRun),
    /// Run labs on the emulator and on the real kernel and compare every line (needs root).
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
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum BackendKind {
    /// The emulator: no root needed, milliseconds.
    Sim,
    /// The real kernel, iproute2 and ping, in a private sandbox (needs root).
    Kernel,
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

fn mismatches(text: &str) -> Result<Vec<mvl_lab::diff::Mismatch>, LabError> {
    let lab = mvl_lab::parse(text)?;
    let mut sim = SimBackend::new(1, std::env::temp_dir(), None);
    let mut kernel = KernelBackend::new(std::env::temp_dir())?;
    mvl_lab::diff::compare(&lab, &mut sim, &mut kernel)
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
                let res = mismatches(text);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                match res {
                    Ok(m) if m.is_empty() => eprintln!("[{n}/{total}] {name}: same on sim and kernel"),
                    Ok(m) => {
                        differing.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let mut out = format!(
                            "[{n}/{total}] {name}: {} line(s) differ (sim vs kernel)\n",
                            m.len()
                        );
                        for x in &m {
                            out.push_str(&format!("  {x}\n"));
                        }
                        if a.minimize {
                            let small =
                                mvl_lab::diff::minimize(text, |t| mismatches(t).is_ok_and(|m| !m.is_empty()));
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
    let code = match cli.cmd {
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
