//! The kernel backend: every line runs for real — the Linux macvlan driver,
//! iproute2, ping, tcpdump — inside a sandbox, so the host is never touched.
//!
//! The sandbox is one dedicated thread that unshares a mount and a network
//! namespace, makes every mount private, and puts a tmpfs on `/run/netns`
//! (on `/run` when `/run/netns` does not exist, so nothing is created on
//! the host). Commands are spawned from that thread and so inherit its
//! namespaces; the lab's own namespaces are bind mounts inside the private
//! tmpfs. When the backend is dropped the thread exits and everything the
//! lab made vanishes with its namespaces.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::mount::{mount, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::ast::{Command, Line};
use crate::error::LabError;
use crate::run::{Backend, Outcome, Res};

/// Longest a single lab line may run before it is killed.
const LINE_TIMEOUT: Duration = Duration::from_secs(120);

/// Settings every namespace of a lab gets, so the kernel's behaviour does
/// not depend on the host's configuration: IPv6 off (no ND/MLD noise), no
/// reverse-path filtering, default ARP behaviour, no forwarding.
const SYSCTLS: &[(&str, &str)] = &[
    ("net/ipv6/conf/all/disable_ipv6", "1"),
    ("net/ipv6/conf/default/disable_ipv6", "1"),
    ("net/ipv4/conf/all/rp_filter", "0"),
    ("net/ipv4/conf/default/rp_filter", "0"),
    ("net/ipv4/conf/all/arp_ignore", "0"),
    ("net/ipv4/conf/default/arp_ignore", "0"),
    ("net/ipv4/conf/all/arp_announce", "0"),
    ("net/ipv4/conf/default/arp_announce", "0"),
    ("net/ipv4/conf/all/arp_filter", "0"),
    ("net/ipv4/conf/default/arp_filter", "0"),
    ("net/ipv4/icmp_echo_ignore_broadcasts", "1"),
    ("net/ipv4/ip_forward", "0"),
];

fn apply_sysctls() -> std::io::Result<()> {
    for (k, v) in SYSCTLS {
        std::fs::write(Path::new("/proc/sys").join(k), v)?;
    }
    Ok(())
}

/// Makes the calling thread's mount and network namespaces private and
/// gives it an empty `/run/netns`.
fn enter_sandbox() -> Result<OwnedFd, String> {
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET).map_err(|e| format!("unshare: {e}"))?;
    // Without this, mounts below would propagate back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("making mounts private: {e}"))?;
    let tmpfs = |at: &str| {
        mount(
            Some("tmpfs"),
            at,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=755"),
        )
        .map_err(|e| format!("mounting a tmpfs on {at}: {e}"))
    };
    if Path::new("/run/netns").is_dir() {
        tmpfs("/run/netns")?;
    } else {
        tmpfs("/run")?;
        std::fs::create_dir("/run/netns").map_err(|e| format!("creating /run/netns: {e}"))?;
    }
    apply_sysctls().map_err(|e| format!("setting sysctls: {e}"))?;
    std::fs::File::open("/proc/thread-self/ns/net")
        .map(OwnedFd::from)
        .map_err(|e| format!("{e}"))
}

/// A request to the sandbox thread.
enum Req {
    Line(Vec<String>, PathBuf),
    Spawn(Vec<String>, PathBuf),
    Sysctls(String),
    Stop(u32),
}

enum Resp {
    Done {
        code: Option<i32>,
        stdout: String,
        stderr: String,
        timed_out: bool,
    },
    Spawned(Result<u32, String>),
    Stopped(String),
    Sysctls(Result<(), String>),
}

fn run_line(argv: &[String], dir: &Path) -> Resp {
    let child = Proc::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Resp::Done {
                code: Some(127),
                stdout: String::new(),
                stderr: format!("{}: {e}", argv[0]),
                timed_out: false,
            }
        }
    };
    let start = Instant::now();
    // Drain the pipes on threads so a chatty command cannot block on a full pipe.
    let mut so = child.stdout.take().expect("piped");
    let mut se = child.stderr.take().expect("piped");
    let t1 = thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t2 = thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() > LINE_TIMEOUT => {
                let _ = child.kill();
                timed_out = true;
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(_) => break None,
        }
    };
    Resp::Done {
        code: status.and_then(|s| s.code()),
        stdout: t1.join().unwrap_or_default(),
        stderr: t2.join().unwrap_or_default(),
        timed_out,
    }
}

fn sandbox_thread(ready: mpsc::Sender<Result<(), String>>, rx: mpsc::Receiver<(Req, mpsc::Sender<Resp>)>) {
    let root = match enter_sandbox() {
        Ok(fd) => {
            let _ = ready.send(Ok(()));
            fd
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    // Background commands with the thread draining their output.
    let mut children: Vec<(Child, thread::JoinHandle<String>)> = Vec::new();
    for (req, reply) in rx {
        let resp = match req {
            Req::Line(argv, dir) => run_line(&argv, &dir),
            Req::Spawn(argv, dir) => Resp::Spawned(
                Proc::new(&argv[0])
                    .args(&argv[1..])
                    .current_dir(&dir)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .map(|mut c| {
                        let id = c.id();
                        let mut so = c.stdout.take().expect("piped");
                        let reader = thread::spawn(move || {
                            let mut s = String::new();
                            let _ = so.read_to_string(&mut s);
                            s
                        });
                        children.push((c, reader));
                        id
                    })
                    .map_err(|e| format!("{}: {e}", argv[0])),
            ),
            Req::Stop(pid) => {
                let mut out = String::new();
                if let Some(pos) = children.iter().position(|(c, _)| c.id() == pid) {
                    let (mut c, reader) = children.remove(pos);
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::SIGINT,
                    );
                    let _ = c.wait();
                    out = reader.join().unwrap_or_default();
                }
                Resp::Stopped(out)
            }
            Req::Sysctls(ns) => Resp::Sysctls(in_netns(&ns, &root)),
        };
        let _ = reply.send(resp);
    }
    for (mut c, reader) in children {
        let _ = c.kill();
        let _ = c.wait();
        let _ = reader.join();
    }
}

/// Applies the lab's sysctls inside the named namespace `ns`, then returns
/// the (dedicated) sandbox thread to the sandbox's own namespace.
fn in_netns(ns: &str, root: &OwnedFd) -> Result<(), String> {
    let f = std::fs::File::open(Path::new("/run/netns").join(ns)).map_err(|e| format!("{ns}: {e}"))?;
    setns(f.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| format!("entering {ns}: {e}"))?;
    let r = apply_sysctls().map_err(|e| format!("sysctls in {ns}: {e}"));
    setns(root.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| format!("leaving {ns}: {e}"))?;
    r
}

struct BgCapture {
    line: usize,
    pid: u32,
}

/// Runs lab lines on the real kernel inside a private sandbox.
pub struct KernelBackend {
    tx: Option<mpsc::Sender<(Req, mpsc::Sender<Resp>)>>,
    thread: Option<thread::JoinHandle<()>>,
    base: PathBuf,
    captures: Vec<BgCapture>,
}

impl KernelBackend {
    /// Creates the sandbox. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
    pub fn new(base: PathBuf) -> Result<KernelBackend, LabError> {
        let backend_err = |why: String| LabError::Backend {
            backend: "kernel".into(),
            why,
        };
        if !nix::unistd::geteuid().is_root() {
            return Err(backend_err(
                "it needs root: the lab's namespaces and devices are real".into(),
            ));
        }
        let (ready_tx, ready_rx) = mpsc::channel();
        let (tx, rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("mvl-lab-sandbox".into())
            .spawn(move || sandbox_thread(ready_tx, rx))
            .map_err(|e| backend_err(format!("starting the sandbox thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(backend_err(format!("creating the sandbox: {e}"))),
            Err(_) => return Err(backend_err("the sandbox thread died".into())),
        }
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        Ok(KernelBackend {
            tx: Some(tx),
            thread: Some(thread),
            base,
            captures: Vec::new(),
        })
    }

    fn ask(&self, req: Req) -> Resp {
        let (rtx, rrx) = mpsc::channel();
        self.tx
            .as_ref()
            .expect("live until drop")
            .send((req, rtx))
            .expect("sandbox thread alive");
        rrx.recv().expect("sandbox thread replies")
    }
}

impl Backend for KernelBackend {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn run(&mut self, line: &Line, _explain: bool) -> Outcome {
        let words = line.words.clone();
        if words.is_empty() {
            return Outcome::error("empty command");
        }
        if let Command::Sleep(s) = line.command {
            thread::sleep(Duration::from_secs_f64(s));
            return Outcome::ok(String::new());
        }
        if let Command::Tcpdump { .. } = &line.command {
            // Line-buffered, numeric, like the emulator's transcript.
            let mut argv = vec!["tcpdump".to_string(), "-l".into(), "-n".into()];
            argv.extend(words[1..].iter().cloned());
            return match self.ask(Req::Spawn(argv, self.base.clone())) {
                Resp::Spawned(Ok(pid)) => {
                    self.captures.push(BgCapture {
                        line: line.number,
                        pid,
                    });
                    // Give tcpdump time to open its socket before the next line.
                    thread::sleep(Duration::from_millis(300));
                    let dev = match &line.command {
                        Command::Tcpdump { dev, .. } => dev.clone(),
                        _ => unreachable!("matched above"),
                    };
                    Outcome {
                        result: Res::Ok,
                        output: String::new(),
                        message: Some(format!("listening on {dev}, link-type EN10MB (Ethernet)")),
                        explain: Vec::new(),
                    }
                }
                Resp::Spawned(Err(e)) => Outcome::error(e),
                _ => Outcome::error("the sandbox answered something else"),
            };
        }
        let Resp::Done {
            code,
            stdout,
            stderr,
            timed_out,
        } = self.ask(Req::Line(words, self.base.clone()))
        else {
            return Outcome::error("the sandbox answered something else");
        };
        if timed_out {
            return Outcome::error(format!("timed out after {} s", LINE_TIMEOUT.as_secs()));
        }
        let mut o = if line.command.is_ping() {
            let stats = stdout
                .lines()
                .find(|l| l.contains("packets transmitted"))
                .map(str::to_string);
            match code {
                Some(0) => Outcome {
                    result: Res::Ok,
                    output: stdout,
                    message: stats,
                    explain: Vec::new(),
                },
                Some(1) => Outcome {
                    result: Res::Fail,
                    output: stdout,
                    message: stats,
                    explain: Vec::new(),
                },
                _ => Outcome::error(format!("{}{}", stdout.trim(), stderr.trim())),
            }
        } else if code == Some(0) {
            Outcome::ok(stdout)
        } else {
            Outcome::error(stderr.trim().to_string())
        };
        if o.result == Res::Ok {
            if let Command::NetnsAdd(ns) = &line.command {
                if let Resp::Sysctls(Err(e)) = self.ask(Req::Sysctls(ns.clone())) {
                    return Outcome::error(e);
                }
            }
        }
        if let Some(g) = &line.grep {
            let text = if o.result == Res::Ok {
                g.apply(&o.output)
            } else {
                String::new()
            };
            if o.result == Res::Ok && text.is_empty() {
                o = Outcome::error(format!("grep: no line matches \"{}\"", g.pattern));
            } else {
                o.output = text;
            }
        }
        o
    }

    fn finish(&mut self) -> Result<Vec<(usize, Vec<String>)>, LabError> {
        // Let frames in flight reach the captures before they stop.
        if !self.captures.is_empty() {
            thread::sleep(Duration::from_millis(300));
        }
        let mut out = Vec::new();
        for c in std::mem::take(&mut self.captures) {
            if let Resp::Stopped(text) = self.ask(Req::Stop(c.pid)) {
                out.push((
                    c.line,
                    text.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(str::to_string)
                        .collect(),
                ));
            }
        }
        Ok(out)
    }
}

impl Drop for KernelBackend {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
