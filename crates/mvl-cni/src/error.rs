//! The plugin's one error type and the CNI error codes it maps to.
//!
//! | code | variant | meaning |
//! |---|---|---|
//! | 1 | [`Error::IncompatibleVersion`] | `cniVersion` not supported, or too old for the command (CHECK < 0.4.0, STATUS/GC < 1.1.0, L2-only < 0.3.0) |
//! | 4 | [`Error::Env`] | a `CNI_*` variable is missing or invalid; the message names it |
//! | 5 | [`Error::Io`] | stdin could not be read |
//! | 6 | [`Error::Decode`] | stdin (or a `prevResult`) is not the JSON object it must be |
//! | 7 | [`Error::InvalidConfig`] | the configuration breaks a rule; the message names the field and the value |
//! | 11 | [`Error::TryAgain`] | a transient conflict: temporary name or random MAC busy, state lock busy, dump interrupted |
//! | 50 | [`Error::NotAvailable`] | STATUS: the plugin cannot service ADD (master missing, state directory unusable) |
//! | 100 | [`Error::Master`] | the master cannot be found (by name, `masterMatch` or default route) |
//! | 101 | [`Error::Netns`] | `CNI_NETNS` cannot be opened or is not a network namespace |
//! | 102 | [`Error::IfNameTaken`] | `CNI_IFNAME` already exists in the container |
//! | 103 | [`Error::Kernel`], [`Error::System`] | the kernel refused a netlink request or a sysctl write |
//! | 104 | [`Error::Ipam`] | the IPAM plugin is missing, crashed, or returned an unusable result |
//! | 105 | [`Error::Check`] | CHECK found the attachment differs from `prevResult` or the configuration |
//! | 106 | [`Error::State`] | the `hostAccess` state directory or file cannot be used |
//! | 107 | [`Error::Conflict`] | the master's other macvlans forbid this one (its MAC is taken, passthru exclusivity): retrying does not help while they exist |
//! | any | [`Error::Delegate`] | the IPAM plugin's own error, passed through with its code |

use serde_json::{json, Value};

/// Everything the plugin can fail with; [`Error::code`] is the CNI code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Code 1: the configuration's `cniVersion` is not supported for this command.
    #[error("{0}")]
    IncompatibleVersion(String),
    /// Code 4: a `CNI_*` environment variable is missing or invalid.
    #[error("{0}")]
    Env(String),
    /// Code 5: reading stdin failed.
    #[error("reading the network configuration from stdin: {0}")]
    Io(#[source] std::io::Error),
    /// Code 6: something that must be JSON of a given shape is not.
    #[error("{0}")]
    Decode(String),
    /// Code 7: the configuration breaks a rule.
    #[error("{0}")]
    InvalidConfig(String),
    /// Code 11: a transient conflict; the runtime should try again.
    #[error("{0}")]
    TryAgain(String),
    /// Code 50: STATUS found the plugin cannot service ADD.
    #[error("{0}")]
    NotAvailable(String),
    /// Code 100: the master interface cannot be found.
    #[error("{0}")]
    Master(String),
    /// Code 101: the container's network namespace cannot be opened.
    #[error("{0}")]
    Netns(String),
    /// Code 102: the interface name is already used in the container.
    #[error("{0}")]
    IfNameTaken(String),
    /// Code 103: the kernel refused a netlink request.
    #[error("{0}")]
    Kernel(#[source] mvl_netlink::Error),
    /// Code 103: a sysctl or `/proc` operation failed.
    #[error("{0}")]
    System(String),
    /// Code 104: the IPAM plugin could not be run or its result is unusable.
    #[error("{0}")]
    Ipam(String),
    /// Code 105: CHECK found a difference.
    #[error("{0}")]
    Check(String),
    /// Code 106: the state directory or a state file cannot be used.
    #[error("{0}")]
    State(String),
    /// Code 107: the master's other macvlans forbid this one, for as long
    /// as they exist (not code 11: retrying soon does not help).
    #[error("{0}")]
    Conflict(String),
    /// The delegated IPAM plugin's own error, with its code.
    #[error("IPAM plugin {plugin}: {msg}")]
    Delegate {
        /// The IPAM plugin's type.
        plugin: String,
        /// Its error code.
        code: u32,
        /// Its message.
        msg: String,
        /// Its details.
        details: String,
    },
    /// Several failures of a best-effort command (DEL, GC); the code is the first one's.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Many(Vec<Error>),
}

impl Error {
    /// The CNI error code.
    pub fn code(&self) -> u32 {
        match self {
            Error::IncompatibleVersion(_) => 1,
            Error::Env(_) => 4,
            Error::Io(_) => 5,
            Error::Decode(_) => 6,
            Error::InvalidConfig(_) => 7,
            Error::TryAgain(_) => 11,
            Error::NotAvailable(_) => 50,
            Error::Master(_) => 100,
            Error::Netns(_) => 101,
            Error::IfNameTaken(_) => 102,
            Error::Kernel(_) | Error::System(_) => 103,
            Error::Ipam(_) => 104,
            Error::Check(_) => 105,
            Error::State(_) => 106,
            Error::Conflict(_) => 107,
            Error::Delegate { code, .. } => *code,
            Error::Many(v) => v.first().map_or(103, Error::code),
        }
    }

    /// A kernel refusal, as code 11 when it is a transient conflict
    /// (`EADDRINUSE`, `EBUSY` on a name, an interrupted dump), else 103.
    pub fn kernel(e: mvl_netlink::Error) -> Error {
        if matches!(e, mvl_netlink::Error::DumpInterrupted { .. }) {
            return Error::TryAgain(e.to_string());
        }
        match e.errno() {
            Some(libc::EADDRINUSE) => Error::TryAgain(e.to_string()),
            _ => Error::Kernel(e),
        }
    }

    /// The error as the CNI error object of `version`.
    pub fn to_json(&self, version: &str) -> Value {
        let (msg, details) = match self {
            Error::Delegate {
                plugin, msg, details, ..
            } => (format!("IPAM plugin {plugin}: {msg}"), details.clone()),
            e => (e.to_string(), String::new()),
        };
        let mut v = json!({ "cniVersion": version, "code": self.code(), "msg": msg });
        if !details.is_empty() {
            v["details"] = Value::String(details);
        }
        v
    }
}

/// Collects the errors of a best-effort sequence.
pub(crate) fn collect(errors: Vec<Error>) -> Result<(), Error> {
    let mut errors = errors;
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Many(errors)),
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_json() {
        let e = Error::InvalidConfig("unknown macvlan mode \"foo\"".into());
        assert_eq!(e.code(), 7);
        let j = e.to_json("1.0.0");
        assert_eq!(j["code"], 7);
        assert_eq!(j["cniVersion"], "1.0.0");
        assert!(j.get("details").is_none());
        let d = Error::Delegate {
            plugin: "host-local".into(),
            code: 11,
            msg: "busy".into(),
            details: "lock".into(),
        };
        assert_eq!(d.code(), 11);
        assert_eq!(d.to_json("1.1.0")["details"], "lock");
        assert_eq!(Error::Conflict("MAC taken".into()).code(), 107);
        let m = Error::Many(vec![Error::Check("a".into()), Error::Ipam("b".into())]);
        assert_eq!(m.code(), 105);
        assert_eq!(m.to_string(), "a; b");
        assert!(collect(vec![]).is_ok());
    }
}
