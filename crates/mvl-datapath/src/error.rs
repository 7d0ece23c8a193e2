//! The errors of the userspace datapath.

use mvl_core::Errno;

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A macvlan rule refused it (the kernel's errno and the rule).
    #[error("{0}")]
    Rule(#[from] mvl_core::Error),
    /// A netlink request failed.
    #[error("{0}")]
    Netlink(#[from] mvl_netlink::Error),
    /// A device or namespace does not exist.
    #[error("Cannot find device \"{0}\"")]
    NoDevice(String),
    /// A device of that name exists already.
    #[error("a device named {name} exists in {netns}")]
    Exists {
        /// The name.
        name: String,
        /// Its namespace.
        netns: String,
    },
    /// A request that cannot mean anything (bad MAC, unknown mode...).
    #[error("{0}")]
    Invalid(String),
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, naming the device.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The daemon refused a request.
    #[error("{message}")]
    Remote {
        /// The errno it reported.
        errno: Option<i32>,
        /// Its message.
        message: String,
    },
    /// The saved state could not be read or written.
    #[error("state {path}: {why}")]
    State {
        /// The file.
        path: String,
        /// What went wrong.
        why: String,
    },
}

impl Error {
    /// The errno the kernel gives for the same request, when there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Rule(e) => Some(e.errno().code()),
            Error::Netlink(e) => e.errno(),
            Error::NoDevice(_) => Some(Errno::ENODEV.code()),
            Error::Exists { .. } => Some(Errno::EEXIST.code()),
            Error::Invalid(_) => Some(Errno::EINVAL.code()),
            Error::Io { source, .. } => source.raw_os_error(),
            Error::Remote { errno, .. } => *errno,
            Error::State { .. } => None,
        }
    }

    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
