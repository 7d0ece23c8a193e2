//! Lines run for real, for two backends: [`RealRunner`] runs a line's
//! words — iproute2, ping, tcpdump — inside a [`Sandbox`], so the host is
//! never touched; the kernel backend is that runner over the Linux macvlan
//! driver, and the user backend (`user_backend.rs`) is the same runner with
//! our datapath serving the macvlans. A line's words run as a process (no shell); `| grep` is applied
//! to its output as the emulator does; a ping's result is its exit status.

use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use crate::ast::{Command, Line};
use crate::error::LabError;
use crate::run::{Backend, Outcome, Res};
use crate::sandbox::{Done, Sandbox, LINE_TIMEOUT};

/// Runs lines for real in a sandbox; shared by the kernel and user backends.
pub(crate) struct RealRunner {
    pub sandbox: Sandbox,
    base: PathBuf,
    /// Background captures: (line, pid).
    captures: Vec<(usize, u32)>,
}

impl RealRunner {
    pub(crate) fn new(base: PathBuf, backend: &str) -> Result<RealRunner, LabError> {
        let sandbox = Sandbox::new().map_err(|why| LabError::Backend {
            backend: backend.into(),
            why,
        })?;
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        Ok(RealRunner {
            sandbox,
            base,
            captures: Vec::new(),
        })
    }

    /// Runs `line` as written.
    pub(crate) fn run(&mut self, line: &Line) -> Outcome {
        let words = line.words.clone();
        if words.is_empty() {
            return Outcome::error("empty command");
        }
        if let Command::Sleep(s) = line.command {
            thread::sleep(Duration::from_secs_f64(s));
            return Outcome::ok(String::new());
        }
        if let Command::Tcpdump { dev, .. } = &line.command {
            // Line-buffered and numeric, like the emulator's transcript, in
            // the namespace the line names (`ip netns exec NS tcpdump ...`).
            let at = words.iter().position(|w| w == "tcpdump").unwrap_or(0);
            let mut argv: Vec<String> = match &line.netns {
                Some(ns) => ["ip", "netns", "exec", ns.as_str()].map(String::from).to_vec(),
                None => Vec::new(),
            };
            argv.extend(["tcpdump", "-l", "-n"].map(String::from));
            argv.extend(words[at + 1..].iter().cloned());
            return match self.sandbox.spawn(argv, self.base.clone()) {
                Ok(pid) => {
                    // The sandbox returns once tcpdump listens, or has ended
                    // because it could not (no such device).
                    if let Some(why) = self.sandbox.ended(pid) {
                        return Outcome::error(why.trim().to_string());
                    }
                    self.captures.push((line.number, pid));
                    Outcome {
                        result: Res::Ok,
                        output: String::new(),
                        message: Some(format!("listening on {dev}, link-type EN10MB (Ethernet)")),
                        explain: Vec::new(),
                    }
                }
                Err(e) => Outcome::error(e),
            };
        }
        let Done {
            code,
            stdout,
            stderr,
            timed_out,
        } = self.sandbox.run(words, self.base.clone());
        if timed_out {
            return Outcome::error(format!("timed out after {} s", LINE_TIMEOUT.as_secs()));
        }
        let o = if line.command.is_ping() {
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
            // What the tool said on stderr and went on (a warning).
            let said = stderr.trim();
            Outcome {
                message: (!said.is_empty()).then(|| said.to_string()),
                ..Outcome::ok(stdout)
            }
        } else {
            Outcome::error(stderr.trim().to_string())
        };
        if o.result == Res::Ok {
            if let Command::NetnsAdd(ns) = &line.command {
                if let Err(e) = self.sandbox.sysctls(ns) {
                    return Outcome::error(e);
                }
            }
        }
        o
    }

    /// Stops the background captures and returns what they printed.
    pub(crate) fn finish(&mut self) -> Vec<(usize, Vec<String>)> {
        // Let frames in flight reach the captures before they stop (the
        // emulator runs on as long: `CAPTURE_TAIL`).
        if !self.captures.is_empty() {
            thread::sleep(Duration::from_millis(300));
        }
        std::mem::take(&mut self.captures)
            .into_iter()
            .map(|(line, pid)| {
                let text = self.sandbox.stop(pid);
                (
                    line,
                    text.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(str::to_string)
                        .collect(),
                )
            })
            .collect()
    }
}

/// Runs lab lines on the real kernel inside a private sandbox.
pub struct KernelBackend {
    real: RealRunner,
}

impl KernelBackend {
    /// Creates the sandbox. Needs root. `-w FILE` paths are relative to `base`.
    pub fn new(base: PathBuf) -> Result<KernelBackend, LabError> {
        Ok(KernelBackend {
            real: RealRunner::new(base, "kernel")?,
        })
    }
}

impl Backend for KernelBackend {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn run(&mut self, line: &Line, _explain: bool) -> Outcome {
        self.real.run(line)
    }

    fn finish(&mut self) -> Result<Vec<(usize, Vec<String>)>, LabError> {
        Ok(self.real.finish())
    }
}
