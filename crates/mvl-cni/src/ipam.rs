//! Delegation to the IPAM plugin named by `ipam.type`: found in
//! `CNI_PATH`, run with our environment (but its own `CNI_COMMAND`) and
//! the configuration we received on its stdin; its stderr is ours.
//!
//! An IPAM plugin that refuses the configuration's version (code 1, e.g.
//! Debian's `static` and `host-local` at 1.1.0) is asked for its versions
//! and run again at the newest one both sides speak; GC and STATUS, which
//! do not exist before 1.1.0, are then skipped with a note on stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};

use serde_json::Value;

use crate::env::Command;
use crate::error::{Error, Result};
use crate::result::CniResult;
use crate::version::Version;

/// The IPAM plugin of one invocation.
#[derive(Debug, Clone)]
pub struct Ipam {
    /// `ipam.type`.
    pub kind: String,
    /// The executable found in `CNI_PATH`.
    pub binary: PathBuf,
    stdin: Vec<u8>,
    version: Version,
}

/// An IPAM command started and not yet waited for.
#[derive(Debug)]
pub struct Running<'a> {
    ipam: &'a Ipam,
    command: Command,
    child: Child,
}

impl Ipam {
    /// Finds `kind` in `path`; `stdin` is the configuration as received.
    pub fn find(kind: &str, path: &[PathBuf], stdin: &[u8], version: Version) -> Result<Ipam> {
        if path.is_empty() {
            return Err(Error::Env(format!(
                "CNI_PATH is empty: cannot find the IPAM plugin \"{kind}\""
            )));
        }
        let binary = path
            .iter()
            .map(|d| d.join(kind))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                let dirs: Vec<String> = path.iter().map(|p| p.display().to_string()).collect();
                Error::Ipam(format!(
                    "IPAM plugin \"{kind}\" not found in CNI_PATH ({})",
                    dirs.join(":")
                ))
            })?;
        Ok(Ipam {
            kind: kind.to_string(),
            binary,
            stdin: stdin.to_vec(),
            version,
        })
    }

    /// Starts `command`; [`Running::finish`] waits for it.
    pub fn start(&self, command: Command) -> Result<Running<'_>> {
        let child = spawn(&self.binary, command, &self.stdin).map_err(|e| {
            Error::Ipam(format!(
                "cannot run IPAM plugin {} ({}): {e}",
                self.kind,
                self.binary.display()
            ))
        })?;
        Ok(Running {
            ipam: self,
            command,
            child,
        })
    }

    /// Runs `command` to its end: its stdout on success. GC and STATUS
    /// exist from 1.1.0 on: a plugin whose VERSION does not list 1.1.0 is
    /// not asked (older plugins answer them with unrelated errors).
    pub fn run(&self, command: Command) -> Result<Vec<u8>> {
        if matches!(command, Command::Gc | Command::Status) {
            if let Some(theirs) = self.versions() {
                if !theirs.iter().any(|v| v == Version::V1_1_0.as_str()) {
                    eprintln!(
                        "mvl-cni: IPAM plugin {} does not support {command} (it speaks {}); not forwarded",
                        self.kind,
                        theirs.join(", ")
                    );
                    return Ok(Vec::new());
                }
            }
        }
        self.start(command)?.finish()
    }

    /// What the plugin's VERSION lists, if it answers one.
    fn versions(&self) -> Option<Vec<String>> {
        let req = format!("{{\"cniVersion\":\"{}\"}}", self.version);
        let child = spawn(&self.binary, Command::Version, req.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        Some(
            v.get("supportedVersions")?
                .as_array()?
                .iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect(),
        )
    }

    /// ADD: the IPAM result.
    pub fn add(&self) -> Result<CniResult> {
        let out = self.run(Command::Add)?;
        self.parse_result(&out)
    }

    /// The result an IPAM ADD printed.
    pub fn parse_result(&self, out: &[u8]) -> Result<CniResult> {
        let v: Value = serde_json::from_slice(out).map_err(|e| {
            Error::Ipam(format!(
                "IPAM plugin {} printed no JSON result: {e}: {}",
                self.kind,
                String::from_utf8_lossy(out).trim()
            ))
        })?;
        CniResult::from_json(&v).map_err(|e| {
            Error::Ipam(format!(
                "IPAM plugin {} returned an unusable result: {e}",
                self.kind
            ))
        })
    }

    /// The newest version below ours that the plugin says it supports.
    fn older_version(&self) -> Option<Version> {
        let theirs = self.versions()?;
        Version::ALL
            .into_iter()
            .rev()
            .find(|ours| *ours < self.version && theirs.iter().any(|t| t == ours.as_str()))
    }

    /// The same plugin fed the configuration at `version` (with its
    /// `prevResult`, if any, in that version's shape).
    fn at_version(&self, version: Version) -> Option<Ipam> {
        let mut v: Value = serde_json::from_slice(&self.stdin).ok()?;
        let o = v.as_object_mut()?;
        o.insert("cniVersion".into(), Value::String(version.as_str().into()));
        if let Some(prev) = o.get("prevResult").filter(|p| !p.is_null()) {
            let converted = CniResult::from_json(prev).ok()?.to_json(version).ok()?;
            o.insert("prevResult".into(), converted);
        }
        Some(Ipam {
            kind: self.kind.clone(),
            binary: self.binary.clone(),
            stdin: serde_json::to_vec(&v).ok()?,
            version,
        })
    }
}

impl Running<'_> {
    /// Waits for the command: its stdout on success, its error otherwise
    /// (after the version fallback described in the module doc).
    pub fn finish(self) -> Result<Vec<u8>> {
        let Running { ipam, command, child } = self;
        match collect(ipam, command, child) {
            Err(Error::Delegate { code: 1, .. }) if matches!(command, Command::Status | Command::Gc) => {
                eprintln!(
                    "mvl-cni: IPAM plugin {} does not support {command} at CNI {}; not forwarded",
                    ipam.kind, ipam.version
                );
                Ok(Vec::new())
            }
            Err(e @ Error::Delegate { code: 1, .. }) => {
                let Some(older) = ipam.older_version().and_then(|v| ipam.at_version(v)) else {
                    return Err(e);
                };
                eprintln!(
                    "mvl-cni: IPAM plugin {} refused CNI {}; using {}",
                    ipam.kind, ipam.version, older.version
                );
                let child = spawn(&older.binary, command, &older.stdin)
                    .map_err(|e| Error::Ipam(format!("cannot run IPAM plugin {}: {e}", ipam.kind)))?;
                collect(&older, command, child)
            }
            r => r,
        }
    }
}

fn spawn(binary: &PathBuf, command: Command, stdin: &[u8]) -> std::io::Result<Child> {
    let mut child = Process::new(binary)
        .env("CNI_COMMAND", command.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    if let Some(mut i) = child.stdin.take() {
        // A plugin that exits without reading its stdin closes the pipe:
        // its exit status tells what happened, not the write error.
        let _ = i.write_all(stdin);
    }
    Ok(child)
}

fn collect(ipam: &Ipam, command: Command, child: Child) -> Result<Vec<u8>> {
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Ipam(format!("waiting for IPAM plugin {}: {e}", ipam.kind)))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    if let Ok(v) = serde_json::from_slice::<Value>(&out.stdout) {
        if let Some(code) = v.get("code").and_then(Value::as_u64) {
            let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            return Err(Error::Delegate {
                plugin: ipam.kind.clone(),
                code: u32::try_from(code).unwrap_or(999),
                msg: format!("{command}: {}", s("msg")),
                details: s("details"),
            });
        }
    }
    let status = match out.status.code() {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".to_string(),
    };
    Err(Error::Ipam(format!(
        "IPAM plugin {} failed {command} ({status}): {}",
        ipam.kind,
        String::from_utf8_lossy(&out.stdout).trim()
    )))
}
