//! A private corner of the real kernel for a lab: one dedicated thread that
//! unshares a mount and a network namespace, makes every mount private,
//! and puts a tmpfs on `/run/netns` (on `/run` when `/run/netns` does not
//! exist, so nothing is created on the host). Commands are spawned from that
//! thread and inherit its namespaces; closures can run on it too (threads
//! they start inherit them as well). The lab's own namespaces are bind
//! mounts inside the private tmpfs. When the sandbox is dropped the thread
//! exits, its children are killed, and everything the lab made vanishes
//! with its namespaces.
//!
//! Every command also runs in a PID namespace of its own, where it is PID 1:
//! a line that names a process (`netns 1`, `netns PID`) can reach only the
//! command itself, never the host's init or another program. (The thread
//! cannot take a PID namespace itself: a thread whose children would be in
//! another PID namespace may not start threads.)

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::mount::{mount, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

/// Longest a single command may run before it is killed.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest a background capture may take to start listening.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(20);

/// Settings every namespace of a lab gets, so the kernel's behaviour does
/// not depend on the host's configuration: IPv6 off (no ND/MLD noise), no
/// IGMP reports for 224.0.0.x groups (a bridge joins 224.0.0.106 when it
/// comes up and reports it at a random moment), no reverse-path filtering,
/// default ARP behaviour, no forwarding.
const SYSCTLS: &[(&str, &str)] = &[
    ("net/ipv4/igmp_link_local_mcast_reports", "0"),
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

/// Settings that exist only where their module is loaded: off where they
/// exist. With `br_netfilter` a bridge hands IPv4 to the firewall hooks,
/// which may reassemble fragments and cut them again at the next MTU: a
/// firewall's doing, not a switch's.
const OPTIONAL_SYSCTLS: &[(&str, &str)] = &[
    ("net/bridge/bridge-nf-call-iptables", "0"),
    ("net/bridge/bridge-nf-call-ip6tables", "0"),
    ("net/bridge/bridge-nf-call-arptables", "0"),
];

fn apply_sysctls() -> std::io::Result<()> {
    for (k, v) in SYSCTLS {
        std::fs::write(Path::new("/proc/sys").join(k), v)?;
    }
    for (k, v) in OPTIONAL_SYSCTLS {
        match std::fs::write(Path::new("/proc/sys").join(k), v) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            r => r?,
        }
    }
    Ok(())
}

fn enter() -> Result<OwnedFd, String> {
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

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// Exit status (`None`: killed by a signal).
    pub code: Option<i32>,
    /// What it printed.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
    /// It ran longer than [`LINE_TIMEOUT`] and was killed.
    pub timed_out: bool,
}

type Call = Box<dyn FnOnce() + Send>;

enum Req {
    Run(Vec<String>, PathBuf, mpsc::Sender<Done>),
    Spawn(Vec<String>, PathBuf, mpsc::Sender<Result<u32, String>>),
    Stop(u32, mpsc::Sender<String>),
    Ended(u32, mpsc::Sender<Option<String>>),
    Sysctls(String, mpsc::Sender<Result<(), String>>),
    Call(Call),
}

/// A command of the lab: run from `dir`, in a PID namespace of its own and
/// in a process group of its own (so that a stop reaches the command and not
/// only the process that waits for it there), with its output piped.
fn command(argv: &[String], dir: &Path) -> Proc {
    let mut c = Proc::new(&argv[0]);
    c.args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: `own_pid_namespace` runs between fork and exec in a process
    // with other threads, so it makes only async-signal-safe calls and
    // allocates nothing.
    unsafe { c.pre_exec(own_pid_namespace) };
    c
}

/// In the forked child, before exec: a new PID namespace, then one more
/// fork. The grandchild, PID 1 there, goes on to exec the command; the child
/// stays outside, waits for it and exits as it did, so the pid the sandbox
/// holds is a stand-in for the command (stopped through the group).
fn own_pid_namespace() -> std::io::Result<()> {
    use nix::libc;
    // SAFETY: plain system calls on no memory of ours but `status`; all are
    // async-signal-safe (see `command`).
    unsafe {
        if libc::unshare(libc::CLONE_NEWPID) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let pid = libc::fork();
        if pid < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if pid == 0 {
            // The command dies with its stand-in (killed after a timeout).
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            return Ok(());
        }
        // The stand-in: a stop (SIGINT to the group) is for the command;
        // other descriptors (the one that tells the spawner exec happened)
        // must close now, not when the command ends.
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
        libc::close_range(3, libc::c_uint::MAX, 0);
        let mut status = 0;
        while libc::waitpid(pid, &mut status, 0) < 0 {
            if *libc::__errno_location() != libc::EINTR {
                libc::_exit(127);
            }
        }
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            libc::signal(sig, libc::SIG_DFL);
            libc::kill(libc::getpid(), sig);
            libc::_exit(128 + sig);
        }
        libc::_exit(libc::WEXITSTATUS(status))
    }
}

fn run_command(argv: &[String], dir: &Path) -> Done {
    let child = command(argv, dir).spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Done {
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
                signal_group(child.id(), nix::sys::signal::SIGKILL);
                timed_out = true;
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(_) => break None,
        }
    };
    Done {
        code: status.and_then(|s| s.code()),
        stdout: t1.join().unwrap_or_default(),
        stderr: t2.join().unwrap_or_default(),
        timed_out,
    }
}

/// Sends `sig` to the process group of the command whose stand-in is `pid`.
fn signal_group(pid: u32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid as i32), sig);
}

/// Applies the lab's sysctls inside the named namespace `ns`, then returns
/// the (dedicated) sandbox thread to the sandbox's own namespace.
fn sysctls_in(ns: &str, root: &OwnedFd) -> Result<(), String> {
    let f = std::fs::File::open(Path::new("/run/netns").join(ns)).map_err(|e| format!("{ns}: {e}"))?;
    setns(f.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| format!("entering {ns}: {e}"))?;
    let r = apply_sysctls().map_err(|e| format!("sysctls in {ns}: {e}"));
    setns(root.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| format!("leaving {ns}: {e}"))?;
    r
}

fn serve(ready: mpsc::Sender<Result<(), String>>, rx: mpsc::Receiver<Req>) {
    let root = match enter() {
        Ok(fd) => {
            let _ = ready.send(Ok(()));
            fd
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    // Background commands, with threads draining their output and errors.
    let mut children: Vec<(Child, thread::JoinHandle<String>, thread::JoinHandle<String>)> = Vec::new();
    for req in rx {
        match req {
            Req::Run(argv, dir, reply) => {
                let _ = reply.send(run_command(&argv, &dir));
            }
            Req::Spawn(argv, dir, reply) => {
                let r = command(&argv, &dir)
                    .spawn()
                    .map(|mut c| {
                        let id = c.id();
                        let mut so = c.stdout.take().expect("piped");
                        let out = thread::spawn(move || {
                            let mut s = String::new();
                            let _ = so.read_to_string(&mut s);
                            s
                        });
                        // A capture is open once tcpdump says "listening on";
                        // a fixed pause would miss frames on a busy machine.
                        let (ready_tx, ready_rx) = mpsc::channel();
                        let se = std::io::BufReader::new(c.stderr.take().expect("piped"));
                        let err = thread::spawn(move || {
                            let mut all = String::new();
                            for l in std::io::BufRead::lines(se).map_while(Result::ok) {
                                // "listening on ...", or with -w "tcpdump: listening on ...".
                                if l.contains("listening on") {
                                    let _ = ready_tx.send(());
                                }
                                all.push_str(&l);
                                all.push('\n');
                            }
                            all
                        });
                        // Ended without listening: its stderr, and so the
                        // channel, closed; reap it, so that `ended` knows.
                        if let Err(mpsc::RecvTimeoutError::Disconnected) =
                            ready_rx.recv_timeout(LISTEN_TIMEOUT)
                        {
                            let _ = c.wait();
                        }
                        children.push((c, out, err));
                        id
                    })
                    .map_err(|e| format!("{}: {e}", argv[0]));
                let _ = reply.send(r);
            }
            Req::Stop(pid, reply) => {
                let mut out = String::new();
                if let Some(pos) = children.iter().position(|(c, _, _)| c.id() == pid) {
                    let (mut c, reader, errors) = children.remove(pos);
                    signal_group(pid, nix::sys::signal::SIGINT);
                    let _ = c.wait();
                    out = reader.join().unwrap_or_default();
                    let _ = errors.join();
                }
                let _ = reply.send(out);
            }
            Req::Ended(pid, reply) => {
                // Its stderr closed: it is exiting, if not yet reaped.
                let pos = children.iter_mut().position(|(c, _, errors)| {
                    c.id() == pid && (errors.is_finished() || matches!(c.try_wait(), Ok(Some(_))))
                });
                let ended = pos.map(|p| {
                    let (mut c, reader, errors) = children.remove(p);
                    let _ = c.wait();
                    let _ = reader.join();
                    errors.join().unwrap_or_default()
                });
                let _ = reply.send(ended);
            }
            Req::Sysctls(ns, reply) => {
                let _ = reply.send(sysctls_in(&ns, &root));
            }
            Req::Call(f) => f(),
        }
    }
    for (mut c, reader, errors) in children {
        signal_group(c.id(), nix::sys::signal::SIGKILL);
        let _ = c.wait();
        let _ = reader.join();
        let _ = errors.join();
    }
}

/// A private mount + network namespace on a dedicated thread.
pub struct Sandbox {
    tx: Option<mpsc::Sender<Req>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Creates the sandbox. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
    pub fn new() -> Result<Sandbox, String> {
        if !nix::unistd::geteuid().is_root() {
            return Err("it needs root: the lab's namespaces and devices are real".into());
        }
        let (ready_tx, ready_rx) = mpsc::channel();
        let (tx, rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("mvl-lab-sandbox".into())
            .spawn(move || serve(ready_tx, rx))
            .map_err(|e| format!("starting the sandbox thread: {e}"))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Sandbox {
                tx: Some(tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(format!("creating the sandbox: {e}")),
            Err(_) => Err("the sandbox thread died".into()),
        }
    }

    fn send(&self, r: Req) {
        self.tx
            .as_ref()
            .expect("live until drop")
            .send(r)
            .expect("sandbox thread alive");
    }

    /// Runs a command to completion inside the sandbox.
    pub fn run(&self, argv: Vec<String>, dir: PathBuf) -> Done {
        let (t, r) = mpsc::channel();
        self.send(Req::Run(argv, dir, t));
        r.recv().expect("sandbox thread replies")
    }

    /// Starts a background command; returns its pid.
    pub fn spawn(&self, argv: Vec<String>, dir: PathBuf) -> Result<u32, String> {
        let (t, r) = mpsc::channel();
        self.send(Req::Spawn(argv, dir, t));
        r.recv().expect("sandbox thread replies")
    }

    /// Interrupts a background command and returns what it printed.
    pub fn stop(&self, pid: u32) -> String {
        let (t, r) = mpsc::channel();
        self.send(Req::Stop(pid, t));
        r.recv().expect("sandbox thread replies")
    }

    /// If the background command `pid` has already ended, what it said on
    /// stderr (it is then forgotten); `None` while it runs.
    pub fn ended(&self, pid: u32) -> Option<String> {
        let (t, r) = mpsc::channel();
        self.send(Req::Ended(pid, t));
        r.recv().expect("sandbox thread replies")
    }

    /// Gives a new lab namespace the lab's sysctls.
    pub fn sysctls(&self, ns: &str) -> Result<(), String> {
        let (t, r) = mpsc::channel();
        self.send(Req::Sysctls(ns.to_string(), t));
        r.recv().expect("sandbox thread replies")
    }

    /// Runs `f` on the sandbox thread: it sees the sandbox's `/run/netns`
    /// and namespaces, and so do the threads it starts.
    pub fn call<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (t, r) = mpsc::channel();
        self.send(Req::Call(Box::new(move || {
            let _ = t.send(f());
        })));
        r.recv().expect("sandbox thread replies")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
