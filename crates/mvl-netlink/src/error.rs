//! The crate's error: a socket or namespace failure, a reply we cannot
//! decode, or the kernel refusing a request — then with the errno, the
//! kernel's own extended-ack text and, when we could find it, the cause in
//! the words the emulator uses for the same rule.

use std::fmt;
use std::io;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call on the netlink socket failed.
    #[error("netlink socket: {op}: {source}")]
    Socket {
        /// What we were doing (`open`, `send`, `recv`, ...).
        op: &'static str,
        /// The system error.
        source: io::Error,
    },
    /// A network namespace could not be opened or entered.
    #[error("network namespace {ns}: {why}")]
    Netns {
        /// The name or path of the namespace.
        ns: String,
        /// What went wrong.
        why: String,
    },
    /// The kernel sent something we cannot decode.
    #[error("unexpected netlink reply: {0}")]
    Decode(String),
    /// A dump was interrupted by concurrent changes too many times in a row.
    #[error("{op}: the kernel interrupted the dump {tries} times in a row (the tables kept changing)")]
    DumpInterrupted {
        /// The dump.
        op: String,
        /// How many attempts were made.
        tries: u32,
    },
    /// The kernel refused a request.
    #[error("{0}")]
    Kernel(Box<KernelError>),
}

impl Error {
    /// The errno the kernel answered with, if the kernel refused the request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel(k) => Some(k.errno),
            Error::Socket { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// The kernel's extended-ack message, if it sent one.
    pub fn extack(&self) -> Option<&str> {
        match self {
            Error::Kernel(k) => k.extack.as_deref(),
            _ => None,
        }
    }

    /// The kernel's refusal, if this is one.
    pub fn kernel(&self) -> Option<&KernelError> {
        match self {
            Error::Kernel(k) => Some(k),
            _ => None,
        }
    }

    /// The cause we found for the kernel's refusal, if this is one.
    pub fn cause(&self) -> Option<&Cause> {
        self.kernel().map(|k| &k.cause)
    }

    /// The same error, told as part of `op` (`set mv0 ...`) when it is a
    /// refusal met while looking something up for that operation.
    pub fn for_op(self, op: impl Into<String>) -> Error {
        match self {
            Error::Kernel(mut k) => {
                k.op = op.into();
                Error::Kernel(k)
            }
            e => e,
        }
    }

    /// Whether the kernel said the device does not exist (ENODEV).
    pub fn is_no_device(&self) -> bool {
        self.errno() == Some(libc::ENODEV)
    }
}

/// A request the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// The operation, e.g. `create macvlan mv0`.
    pub op: String,
    /// The positive errno (`EINVAL` = 22, ...).
    pub errno: i32,
    /// The kernel's extended-ack message (`NLMSGERR_ATTR_MSG`), when it sent one.
    pub extack: Option<String>,
    /// Why, as far as we could find out by looking at the devices involved.
    pub cause: Cause,
}

impl KernelError {
    /// The errno's symbolic name, e.g. `EADDRINUSE`.
    pub fn errno_name(&self) -> String {
        format!("{:?}", nix::errno::Errno::from_raw(self.errno))
    }

    /// The C library's text for the errno, as iproute2 prints it.
    pub fn strerror(&self) -> &'static str {
        nix::errno::Errno::from_raw(self.errno).desc()
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.op)?;
        match &self.cause {
            Cause::Unexplained => write!(f, "{}", self.strerror())?,
            c => write!(f, "{c}")?,
        }
        write!(f, " ({}", self.errno_name())?;
        if !matches!(self.cause, Cause::Unexplained) {
            write!(f, ", {}", self.strerror())?;
        }
        if let Some(x) = &self.extack {
            write!(f, "; kernel: {x}")?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for KernelError {}

/// Why the kernel refused, found by looking at the devices after the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// A macvlan rule, in the same words (and with the same errno) as the
    /// emulator's `mvl_core::Error` for the same request.
    Rule(mvl_core::Error),
    /// A device that the request names does not exist.
    NoDevice {
        /// Its name, or `index N`.
        name: String,
        /// The namespace it was looked up in.
        ns: String,
    },
    /// The name is already taken.
    NameTaken {
        /// The name.
        name: String,
        /// The namespace where it is taken.
        ns: String,
    },
    /// A macvlan request on a device of another kind.
    NotMacvlan {
        /// The device.
        name: String,
        /// Its kind, if it has one.
        kind: Option<String>,
    },
    /// No cause found: the errno (and extack) is all there is.
    Unexplained,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Rule(e) => write!(f, "{e}"),
            Cause::NoDevice { name, ns } => write!(f, "there is no device {name} in {ns}"),
            Cause::NameTaken { name, ns } => {
                write!(f, "a device named {name} already exists in {ns}")
            }
            Cause::NotMacvlan { name, kind } => match kind {
                Some(k) => write!(f, "{name} is a {k} device, not a macvlan"),
                None => write!(f, "{name} is not a macvlan"),
            },
            Cause::Unexplained => f.write_str("no cause found"),
        }
    }
}

/// A shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use mvl_core::MacAddr;

    #[test]
    fn display_names_cause_errno_and_extack() {
        let e = Error::Kernel(Box::new(KernelError {
            op: "bring up mv1".into(),
            errno: libc::EADDRINUSE,
            extack: None,
            cause: Cause::Rule(mvl_core::Error::AddrInUse {
                dev: "mv1".into(),
                mac: MacAddr([2, 0, 0, 0, 0, 1]),
                holder: "mv0".into(),
                lower: "veth0".into(),
            }),
        }));
        let s = e.to_string();
        assert!(
            s.starts_with("bring up mv1: mv1: MAC 02:00:00:00:00:01 is already used by mv0"),
            "{s}"
        );
        assert!(s.ends_with("(EADDRINUSE, Address already in use)"), "{s}");
        assert_eq!(e.errno(), Some(98));
        let e = Error::Kernel(Box::new(KernelError {
            op: "create macvlan mv0".into(),
            errno: libc::EINVAL,
            extack: Some("mtu greater than device maximum".into()),
            cause: Cause::Unexplained,
        }));
        assert_eq!(
            e.to_string(),
            "create macvlan mv0: Invalid argument (EINVAL; kernel: mtu greater than device maximum)"
        );
        assert_eq!(e.extack(), Some("mtu greater than device maximum"));
    }
}
