//! `mvl`: run macvlan labs on the emulator, the real kernel or the
//! userspace datapath; create and manage macvlans.

#![forbid(unsafe_code)]

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
    about = "NIC virtualization with the semantics of Linux macvlan",
    long_about = "NIC virtualization with the semantics of Linux macvlan: run macvlan labs on \
an emulator, the real kernel or a userspace datapath (mvl lab); create and manage macvlans \
(mvl link); serve userspace macvlans (mvl daemon).\n\n\
The global options apply where they make sense and are refused where they do not: \
-n, -d, -s, --backend and --socket belong to `link` (`lab run` also takes --backend \
kernel|user, and `daemon` --socket); -j applies everywhere."
)]
struct Cli {
    /// `link`: the network namespace (a name under /run/netns, a path, or a PID).
    #[arg(short = 'n', long = "netns", value_name = "NS")]
    netns: Option<String>,
    /// JSON output: `link show` as `ip -j`; `lab` commands and `daemon` logs as their own `-j`.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// `link show`: details, as `ip -d`.
    #[arg(short = 'd', long = "details")]
    details: bool,
    /// `link show`: statistics, as `ip -s`; twice (`-s -s`) adds the error counters.
    #[arg(short = 's', long = "stats", action = clap::ArgAction::Count)]
    stats: u8,
    /// `link`: kernel macvlans (rtnetlink, the default) or the userspace datapath
    /// (`mvl daemon`); `lab run`: the backend, as its own --backend.
    #[arg(long, value_enum)]
    backend: Option<LinkBackend>,
    /// `link --backend user`: the daemon's control socket [default: /run/mvl/mvl.sock];
    /// `daemon`: the socket to serve, as its own --socket.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

/// The control socket of `mvl daemon` when none is given.
const DEFAULT_SOCKET: &str = "/run/mvl/mvl.sock";

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
    #[command(long_about = link::help::ABOUT, after_long_help = link::help::ALL)]
    Link {
        /// The words of `ip link` after `link` (`mvl link VERB help` explains each verb).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page mvl(1) as roff, or with --dir write a page for every command.
    Man {
        /// Write mvl.1, mvl-lab.1, mvl-lab-run.1, ... into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LabCmd {
    /// Run a lab and judge every line against its `# expect:`.
    Run(LabRun),
    /// Run labs on the real kernel and on the emulator (or the userspace datapath)
    /// and compare every line (needs root).
    Diff(LabDiff),
    /// Draw a lab on the emulator: its topology after a line, or one ping's frames.
    Draw(LabDraw),
    /// Print the random lab of a seed (the ones `mvl lab diff --seeds` runs),
    /// or with --macvlans a lab of any size.
    Random {
        /// The seed.
        #[arg(long, default_value_t = 0, conflicts_with = "macvlans")]
        seed: u64,
        /// Instead, a lab of this size: this many bridge-mode macvlans, each
        /// in a namespace of its own, spread over --lowers servers on one
        /// switch, and --pings pings between them (half within a server,
        /// half across the switch). For measuring the emulator or the kernel.
        #[arg(long, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
        macvlans: Option<u32>,
        /// With --macvlans: the servers (lowers), fewer than the macvlans.
        #[arg(long, default_value_t = 10, requires = "macvlans", value_parser = clap::value_parser!(u32).range(1..))]
        lowers: u32,
        /// With --macvlans: the pings.
        #[arg(long, default_value_t = 100, requires = "macvlans")]
        pings: u32,
        /// Output format: the lab's text, or a JSON object with the seed and the text.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Same as --format json.
        #[arg(short = 'j', long = "json")]
        json: bool,
    },
}

#[derive(clap::Args)]
struct LabDraw {
    /// The lab file, or `-` for standard input.
    file: PathBuf,
    /// Draw the state after this line [default: the end].
    #[arg(long, value_name = "LINE", conflicts_with = "ping")]
    at: Option<usize>,
    /// Draw the ping on this line: every frame's path, and where and why one died.
    #[arg(long, value_name = "LINE")]
    ping: Option<usize>,
    /// Output format: SVG, Graphviz DOT, or the topology as JSON.
    #[arg(long, value_enum, default_value = "svg")]
    format: DrawFormat,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Seed of the emulator's random MAC addresses.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum DrawFormat {
    Svg,
    Dot,
    Json,
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

impl From<Against> for mvl_lab::diff::Against {
    fn from(a: Against) -> Self {
        match a {
            Against::Sim => mvl_lab::diff::Against::Sim,
            Against::User => mvl_lab::diff::Against::User,
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
    /// The lab file, or `-` for standard input.
    file: PathBuf,
    /// Where the lab runs [default: sim].
    #[arg(long, value_enum)]
    backend: Option<BackendKind>,
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
    /// Also write a self-contained HTML report: every line, the topology
    /// after it and each ping's frames, drawn from the emulator.
    #[arg(long, value_name = "REPORT.html")]
    html: Option<PathBuf>,
}

impl BackendKind {
    fn name(self) -> &'static str {
        match self {
            BackendKind::Sim => "sim",
            BackendKind::Kernel => "kernel",
            BackendKind::User => "user",
        }
    }
}

/// The lab of `mvl lab run FILE`: a file, or standard input for `-`. Relative
/// paths in it (captures) are under the file's folder, or the current one.
fn lab_source(file: &std::path::Path) -> Result<(mvl_lab::Lab, PathBuf), LabError> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| LabError::Read {
            path: "standard input".into(),
            source: e,
        })?;
        return Ok((mvl_lab::parse(&text)?, PathBuf::from(".")));
    }
    let base = file.parent().map(PathBuf::from).unwrap_or_default();
    Ok((mvl_lab::load(file)?, base))
}

fn lab_run(a: LabRun) -> Result<i32, LabError> {
    let (lab, base) = lab_source(&a.file)?;
    let kind = a.backend.unwrap_or(BackendKind::Sim);
    if a.pcap.is_some() && kind != BackendKind::Sim {
        return Err(LabError::Backend {
            backend: kind.name().into(),
            why: "--pcap needs the sim backend; use tcpdump -w FILE lines instead".into(),
        });
    }
    let mut backend: Box<dyn Backend> = match kind {
        BackendKind::Sim => Box::new(SimBackend::new(a.seed, base, a.pcap.clone())),
        BackendKind::Kernel => Box::new(KernelBackend::new(base)?),
        BackendKind::User => Box::new(UserBackend::new(base)?),
    };
    let json = a.json || a.format == Format::Json;
    let path = if a.file.as_os_str() == "-" {
        "(standard input)".to_string()
    } else {
        a.file.display().to_string()
    };
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
    if let Some(out) = &a.html {
        html_report(&lab, &rep, &path, a.seed, out)?;
    }
    Ok(rep.exit_code())
}

/// Runs `lab` again on the emulator for its drawings, and writes the page.
fn html_report(
    lab: &mvl_lab::Lab,
    rep: &mvl_lab::Report,
    path: &str,
    seed: u64,
    out: &std::path::Path,
) -> Result<(), LabError> {
    let write = |e: std::io::Error| LabError::Write {
        path: out.display().to_string(),
        source: e,
    };
    let mut rec = mvl_draw::Recorder::new(seed);
    mvl_lab::run(lab, &mut rec, RunOptions { explain: true }, |_| {})?;
    let recording = rec.finish_recording();
    let page = mvl_draw::html_report(&mvl_draw::HtmlInput {
        lab: path,
        report: rep,
        recording: &recording,
    })
    .map_err(|e| write(std::io::Error::other(e)))?;
    std::fs::write(out, page).map_err(write)
}

/// `mvl lab draw`: the lab runs on the emulator, then one picture is drawn.
/// A lab that cannot be read, or a line that cannot be drawn, exits with 2.
fn lab_draw(a: LabDraw) -> i32 {
    let (lab, _) = match lab_source(&a.file) {
        Ok(l) => l,
        Err(e) => return lab_error(&e, false),
    };
    let mut rec = mvl_draw::Recorder::keeping(a.seed, a.ping.or(a.at).unwrap_or(usize::MAX));
    if let Err(e) = mvl_lab::run(&lab, &mut rec, RunOptions { explain: true }, |_| {}) {
        return lab_error(&e, false);
    }
    let recording = rec.finish_recording();
    let picture = match a.ping {
        Some(line) => recording.ping(line).map(|(s, p)| match a.format {
            DrawFormat::Svg => mvl_draw::svg(&s.topology, Some(&p), "mvl"),
            DrawFormat::Dot => mvl_draw::dot(&s.topology, Some(&p)),
            DrawFormat::Json => mvl_draw::json(&s.topology, Some(&p)),
        }),
        None => recording.at(a.at).map(|s| match a.format {
            DrawFormat::Svg => mvl_draw::svg(&s.topology, None, "mvl"),
            DrawFormat::Dot => mvl_draw::dot(&s.topology, None),
            DrawFormat::Json => mvl_draw::json(&s.topology, None),
        }),
    };
    let picture = match picture {
        Ok(p) => p,
        Err(e) => {
            eprintln!("mvl: {e}");
            return 2;
        }
    };
    match &a.output {
        Some(f) => match std::fs::write(f, picture) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("mvl: cannot write {}: {e}", f.display());
                2
            }
        },
        None => {
            emit(&picture);
            0
        }
    }
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
        jobs.push((format!("random lab {seed}"), mvl_lab::generate::random_lab(seed)));
    }
    let total = jobs.len();
    let differing = std::sync::atomic::AtomicUsize::new(0);
    let under_load = std::sync::atomic::AtomicUsize::new(0);
    let against = a.against.into();
    mvl_lab::diff::against_kernel_all(&jobs, against, a.jobs, a.minimize, |n, c| {
        let m = &c.mismatches;
        let counter = if c.under_load { &under_load } else { &differing };
        if !m.is_empty() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        let out = if json {
            diff_json(&c, against)
        } else {
            diff_text(&c, against)
        };
        let verdict = if m.is_empty() {
            "the same on both"
        } else if c.under_load {
            "the same on both when run alone (it differed while other labs ran)"
        } else {
            "differs"
        };
        eprintln!("[{n}/{total}] {}: {verdict}", c.name);
        emit(&out);
    })?;
    let (d, u) = (differing.into_inner(), under_load.into_inner());
    if json {
        emit(&format!(
            "{}\n",
            serde_json::json!({"kind": "summary", "labs": total, "differ": d, "differ_only_under_load": u})
        ));
    } else if u > 0 {
        emit(&format!(
            "{total} labs compared, {d} differ ({u} more differed only while other labs ran, and not alone)\n"
        ));
    } else {
        emit(&format!("{total} labs compared, {d} differ\n"));
    }
    Ok(i32::from(d > 0))
}

/// A lab that differs, for people: its lines side by side, and the smallest lab.
fn diff_text(c: &mvl_lab::diff::Compared<'_>, against: mvl_lab::diff::Against) -> String {
    let (name, m, smallest) = (c.name, &c.mismatches, c.smallest.as_deref());
    if m.is_empty() {
        return String::new();
    }
    let how = if c.under_load {
        "differed while other labs ran, the same when run alone"
    } else {
        "differ"
    };
    let mut out = format!(
        "{name}: {} line(s) {how} ({} vs kernel)\n",
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
fn diff_json(c: &mvl_lab::diff::Compared<'_>, against: mvl_lab::diff::Against) -> String {
    let (name, m, smallest) = (c.name, &c.mismatches, c.smallest.as_deref());
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
        "same": m.is_empty() || c.under_load,
        "under_load": c.under_load,
        "mismatches": lines,
        "smallest": smallest,
    });
    format!("{v}\n")
}

/// An error and its causes, `a: b: c`, each cause once: a message that
/// already tells its cause (`connecting ...: Connection refused`) is not
/// followed by it again.
pub(crate) fn error_chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if text.contains(&c) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&c);
    }
    text
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

/// The global options given on the command line, by name, for refusals.
fn globals_given(cli: &Cli) -> Vec<&'static str> {
    let mut g = Vec::new();
    if cli.netns.is_some() {
        g.push("-n");
    }
    if cli.details {
        g.push("-d");
    }
    if cli.stats > 0 {
        g.push("-s");
    }
    if cli.backend.is_some() {
        g.push("--backend");
    }
    if cli.socket.is_some() {
        g.push("--socket");
    }
    g
}

/// Refuses the global options `cmd` has no use for, saying why, instead of
/// ignoring them.
fn refuse_globals(cli: &Cli, cmd: &str, allowed: &[&str], why: &str) -> Result<(), String> {
    let bad: Vec<&str> = globals_given(cli)
        .into_iter()
        .filter(|g| !allowed.contains(g))
        .collect();
    match bad.as_slice() {
        [] => Ok(()),
        [one] => Err(format!("{one} does not apply to {cmd}: {why}")),
        many => Err(format!("{} do not apply to {cmd}: {why}", many.join(", "))),
    }
}

/// A refusal of the command line itself: clap's exit code, 2.
fn usage_error(msg: &str) -> i32 {
    eprintln!("mvl: {msg}");
    2
}

/// A lab that cannot run: its error on stderr, or with -j as a JSON object
/// on stdout (`{"kind":"error","line","word","message"}`); exit code 2.
fn lab_error(e: &LabError, json: bool) -> i32 {
    if json {
        let (line, word, message) = match e {
            LabError::Parse(p) => (Some(p.line), p.word.clone(), p.message.clone()),
            e => (None, None, e.to_string()),
        };
        emit(&format!(
            "{}\n",
            serde_json::json!({"kind": "error", "line": line, "word": word, "message": message})
        ));
    } else {
        eprintln!("mvl: {e}");
    }
    2
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(c) => c,
        Err(msg) => usage_error(&msg),
    };
    ExitCode::from(code as u8)
}

const LAB_WHY: &str = "a lab makes its own namespaces in a sandbox; these options belong to `mvl link`";

fn run(cli: Cli) -> Result<i32, String> {
    Ok(match &cli.cmd {
        Cmd::Link { .. } => {
            if cli.socket.is_some() && cli.backend != Some(LinkBackend::User) {
                return Err("--socket is the daemon's socket: it goes with --backend user".into());
            }
            let Cmd::Link { words } = &cli.cmd else {
                unreachable!("matched above")
            };
            let opts = link::Options {
                netns: cli.netns.clone(),
                json: cli.json,
                details: cli.details,
                stats: cli.stats,
                user_socket: (cli.backend == Some(LinkBackend::User)).then(|| {
                    cli.socket
                        .clone()
                        .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET))
                }),
            };
            link::main(&opts, words)
        }
        Cmd::Daemon(_) => {
            refuse_globals(
                &cli,
                "daemon",
                &["--socket"],
                "the daemon serves every namespace and is itself the user backend",
            )?;
            let Cmd::Daemon(mut a) = cli.cmd else {
                unreachable!("matched above")
            };
            if let Some(s) = cli.socket {
                if a.socket != std::path::Path::new(DEFAULT_SOCKET) && a.socket != s {
                    return Err(format!(
                        "two sockets given: --socket {} before daemon and --socket {} after it",
                        s.display(),
                        a.socket.display()
                    ));
                }
                a.socket = s;
            }
            daemon_main(a, cli.json)
        }
        Cmd::Completions { shell } => {
            refuse_globals(&cli, "completions", &[], "it prints a script")?;
            let mut out = Vec::new();
            clap_complete::generate(
                *shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "mvl",
                &mut out,
            );
            emit(&String::from_utf8_lossy(&out));
            0
        }
        Cmd::Man { dir } => {
            refuse_globals(&cli, "man", &[], "it prints the manual")?;
            man(dir.as_deref())?;
            0
        }
        Cmd::Lab {
            cmd:
                LabCmd::Random {
                    seed,
                    macvlans,
                    lowers,
                    pings,
                    format,
                    json,
                },
        } => {
            refuse_globals(&cli, "lab random", &[], "it only prints a lab")?;
            let (text, about) = match *macvlans {
                Some(n) if *lowers >= n => {
                    return Err(format!(
                        "--lowers {lowers}: there must be fewer servers than --macvlans {n}"
                    ))
                }
                Some(n) => (
                    mvl_lab::generate::scale_lab(*lowers, n, *pings),
                    serde_json::json!({"macvlans": n, "lowers": lowers, "pings": pings}),
                ),
                None => (
                    mvl_lab::generate::random_lab(*seed),
                    serde_json::json!({"seed": seed}),
                ),
            };
            if *json || cli.json || *format == Format::Json {
                let mut v = about;
                v["lab"] = text.into();
                emit(&format!("{v}\n"));
            } else {
                emit(&text);
            }
            0
        }
        Cmd::Lab { cmd: LabCmd::Draw(_) } => {
            refuse_globals(&cli, "lab draw", &[], "a drawing is of the lab on the emulator")?;
            let Cmd::Lab {
                cmd: LabCmd::Draw(mut a),
            } = cli.cmd
            else {
                unreachable!("matched above")
            };
            if cli.json {
                a.format = DrawFormat::Json;
            }
            lab_draw(a)
        }
        Cmd::Lab { cmd: LabCmd::Diff(_) } => {
            refuse_globals(
                &cli,
                "lab diff",
                &[],
                "it always runs the kernel in a sandbox; choose the other side with --against sim|user",
            )?;
            let Cmd::Lab {
                cmd: LabCmd::Diff(mut a),
            } = cli.cmd
            else {
                unreachable!("matched above")
            };
            a.json |= cli.json;
            let json = a.json || a.format == Format::Json;
            lab_diff(a).unwrap_or_else(|e| lab_error(&e, json))
        }
        Cmd::Lab { cmd: LabCmd::Run(_) } => {
            refuse_globals(&cli, "lab run", &["--backend"], LAB_WHY)?;
            let Cmd::Lab {
                cmd: LabCmd::Run(mut a),
            } = cli.cmd
            else {
                unreachable!("matched above")
            };
            if let Some(g) = cli.backend {
                let global = match g {
                    LinkBackend::Kernel => BackendKind::Kernel,
                    LinkBackend::User => BackendKind::User,
                };
                if a.backend.is_some_and(|b| b != global) {
                    return Err(format!(
                        "two backends given: --backend {} before lab and --backend {} after run",
                        global.name(),
                        a.backend.map_or("", BackendKind::name)
                    ));
                }
                a.backend = Some(global);
            }
            a.json |= cli.json;
            let json = a.json || a.format == Format::Json;
            lab_run(a).unwrap_or_else(|e| lab_error(&e, json))
        }
    })
}

/// `mvl daemon`: logs on stderr (JSON with -j), then the service.
fn daemon_main(a: daemon::DaemonArgs, json: bool) -> i32 {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if a.json || json || a.format == Format::Json {
        logs.json().init();
    } else {
        // Colours only for a person at a terminal, not in a log file or journal.
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    match daemon::run(a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mvl daemon: {}", error_chain(&e));
            1
        }
    }
}

/// `mvl man`: mvl(1) on stdout, or every command's page into `dir`.
fn man(dir: Option<&std::path::Path>) -> Result<(), String> {
    let cmd = <Cli as clap::CommandFactory>::command();
    match dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
            clap_mangen::generate_to(cmd, d).map_err(|e| format!("cannot write into {}: {e}", d.display()))
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(|e| format!("cannot render the manual: {e}"))?;
            emit(&String::from_utf8_lossy(&out));
            Ok(())
        }
    }
}
