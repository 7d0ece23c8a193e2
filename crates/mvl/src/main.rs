//! `mvl`: run macvlan labs on the emulator, the real kernel or the
//! userspace datapath; create and manage macvlans.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mvl_lab::{report, Backend, LabError, RunOptions, SimBackend};

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
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum BackendKind {
    /// The emulator: no root needed, milliseconds.
    Sim,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.cmd {
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
