//! The invocation: the `CNI_*` environment variables, checked per command
//! as the specification requires them.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// A CNI command (`CNI_COMMAND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Attach the container.
    Add,
    /// Detach it; best effort, idempotent.
    Del,
    /// Verify an attachment against `prevResult`.
    Check,
    /// Whether ADD can be serviced.
    Status,
    /// Drop state of attachments not in the valid list.
    Gc,
    /// Which spec versions are supported.
    Version,
}

impl Command {
    /// The `CNI_COMMAND` word.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Add => "ADD",
            Command::Del => "DEL",
            Command::Check => "CHECK",
            Command::Status => "STATUS",
            Command::Gc => "GC",
            Command::Version => "VERSION",
        }
    }

    fn parse(s: &str) -> Option<Command> {
        Some(match s {
            "ADD" => Command::Add,
            "DEL" => Command::Del,
            "CHECK" => Command::Check,
            "STATUS" => Command::Status,
            "GC" => Command::Gc,
            "VERSION" => Command::Version,
            _ => return None,
        })
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parameters of one invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `CNI_COMMAND`.
    pub command: Command,
    /// `CNI_CONTAINERID` (empty when the command does not need it).
    pub container_id: String,
    /// `CNI_NETNS` (empty when not given).
    pub netns: String,
    /// `CNI_IFNAME` (empty when the command does not need it).
    pub ifname: String,
    /// `CNI_ARGS`, parsed: `K=V` pairs in order.
    pub args: Vec<(String, String)>,
    /// `CNI_PATH`, split on `:`.
    pub path: Vec<PathBuf>,
    /// `CNI_NETNS_OVERRIDE`: allow `CNI_NETNS` to be the plugin's own namespace.
    pub netns_override: bool,
}

impl Invocation {
    /// Reads the invocation through `get` (normally `std::env::var`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Invocation> {
        let var = |k: &str| get(k).unwrap_or_default();
        let cmd = var("CNI_COMMAND");
        if cmd.is_empty() {
            return Err(Error::Env(
                "required environment variable CNI_COMMAND is missing".into(),
            ));
        }
        let command = Command::parse(&cmd).ok_or_else(|| {
            Error::Env(format!(
                "unknown CNI_COMMAND \"{cmd}\" (expected ADD, DEL, CHECK, STATUS, GC or VERSION)"
            ))
        })?;
        let mut inv = Invocation {
            command,
            container_id: var("CNI_CONTAINERID"),
            netns: var("CNI_NETNS"),
            ifname: var("CNI_IFNAME"),
            args: Vec::new(),
            path: var("CNI_PATH")
                .split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect(),
            netns_override: matches!(
                var("CNI_NETNS_OVERRIDE").to_ascii_lowercase().as_str(),
                "1" | "true"
            ),
        };
        let (need_id, need_netns, need_ifname) = match command {
            Command::Add | Command::Check => (true, true, true),
            Command::Del => (true, false, true),
            Command::Status | Command::Gc | Command::Version => (false, false, false),
        };
        let mut missing = Vec::new();
        if need_id && inv.container_id.is_empty() {
            missing.push("CNI_CONTAINERID");
        }
        if need_netns && inv.netns.is_empty() {
            missing.push("CNI_NETNS");
        }
        if need_ifname && inv.ifname.is_empty() {
            missing.push("CNI_IFNAME");
        }
        if command == Command::Gc && inv.path.is_empty() {
            missing.push("CNI_PATH");
        }
        if !missing.is_empty() {
            return Err(Error::Env(format!(
                "required environment variables missing for {command}: {}",
                missing.join(", ")
            )));
        }
        if need_id {
            validate_container_id(&inv.container_id)?;
        }
        if need_ifname {
            validate_ifname(&inv.ifname)?;
        }
        if command != Command::Version {
            inv.args = parse_args(&var("CNI_ARGS"))?;
        }
        Ok(inv)
    }

    /// The value of a `CNI_ARGS` key, the last one if repeated.
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `CNI_CONTAINERID`: an alphanumeric, then alphanumerics, `_`, `.` or `-`.
fn validate_container_id(id: &str) -> Result<()> {
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Env(format!(
            "CNI_CONTAINERID \"{id}\" is invalid: it must start with a letter or digit, followed by letters, digits, '_', '.' or '-'"
        )))
    }
}

/// `CNI_IFNAME`: what the kernel takes as a device name.
pub(crate) fn validate_ifname(name: &str) -> Result<()> {
    let why = if name.len() > 15 {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("\".\" and \"..\" are not device names")
    } else if name.contains(['/', ':']) || name.chars().any(char::is_whitespace) {
        Some("a device name cannot contain '/', ':' or whitespace")
    } else {
        None
    };
    match why {
        Some(w) => Err(Error::Env(format!("CNI_IFNAME \"{name}\" is invalid: {w}"))),
        None => Ok(()),
    }
}

/// `CNI_ARGS`: `K=V` pairs separated by `;`. Unknown keys are kept and
/// ignored (the reference refuses them unless `IgnoreUnknown=1`).
pub(crate) fn parse_args(s: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for pair in s.split(';').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.contains('=') => out.push((k.to_string(), v.to_string())),
            _ => {
                return Err(Error::Env(format!(
                    "CNI_ARGS: \"{pair}\" is not a KEY=VALUE pair (pairs are separated by ';')"
                )))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn inv(vars: &[(&str, &str)]) -> Result<Invocation> {
        let m: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Invocation::from_env(|k| m.get(k).cloned())
    }

    #[test]
    fn required_per_command() {
        let e = inv(&[("CNI_COMMAND", "ADD")]).unwrap_err();
        assert_eq!(e.code(), 4);
        assert!(
            e.to_string().contains("CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME"),
            "{e}"
        );
        let d = inv(&[
            ("CNI_COMMAND", "DEL"),
            ("CNI_CONTAINERID", "c1"),
            ("CNI_IFNAME", "eth0"),
        ])
        .unwrap();
        assert!(d.netns.is_empty());
        assert!(inv(&[("CNI_COMMAND", "VERSION")]).is_ok());
        assert!(inv(&[("CNI_COMMAND", "STATUS")]).is_ok());
        assert_eq!(inv(&[("CNI_COMMAND", "GC")]).unwrap_err().code(), 4);
        assert_eq!(inv(&[("CNI_COMMAND", "FOO")]).unwrap_err().code(), 4);
        assert_eq!(inv(&[]).unwrap_err().code(), 4);
    }

    #[test]
    fn values_are_checked() {
        let base = [
            ("CNI_COMMAND", "ADD"),
            ("CNI_NETNS", "/x"),
            ("CNI_CONTAINERID", "c1"),
        ];
        let with = |k: &'static str, v: &'static str| {
            let mut b = base.to_vec();
            b.push(("CNI_IFNAME", "eth0"));
            b.retain(|(kk, _)| *kk != k);
            b.push((k, v));
            inv(&b)
        };
        assert!(with("CNI_IFNAME", "averyveryverylongname").is_err());
        assert!(with("CNI_IFNAME", "a/b").is_err());
        assert!(with("CNI_IFNAME", "..").is_err());
        assert!(with("CNI_CONTAINERID", "-x").is_err());
        assert!(with("CNI_CONTAINERID", "abc_1.2-3").is_ok());
        let i = with(
            "CNI_ARGS",
            "IgnoreUnknown=1;MAC=02:00:00:00:00:01;K8S_POD_NAME=p;",
        )
        .unwrap();
        assert_eq!(i.arg("MAC"), Some("02:00:00:00:00:01"));
        assert_eq!(i.arg("FOO"), None);
        let e = with("CNI_ARGS", "MAC").unwrap_err();
        assert!(e.to_string().contains("CNI_ARGS"), "{e}");
        assert_eq!(e.code(), 4);
    }

    #[test]
    fn path_and_override() {
        let i = inv(&[
            ("CNI_COMMAND", "GC"),
            ("CNI_PATH", "/a::/b"),
            ("CNI_NETNS_OVERRIDE", "TRUE"),
        ])
        .unwrap();
        assert_eq!(i.path, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
        assert!(i.netns_override);
    }
}
