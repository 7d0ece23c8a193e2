//! What a refused command says: the text iproute2 would print, plus, where
//! the emulator knows it, which rule refused it.

use mvl_core::Errno;

/// A refused command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No device of that name in the namespace.
    #[error("Cannot find device \"{0}\"")]
    NoDevice(String),
    /// A show command names a device that does not exist.
    #[error("Device \"{0}\" does not exist.")]
    NoDeviceShown(String),
    /// No namespace of that name.
    #[error("Cannot open network namespace \"{0}\": No such file or directory")]
    NoNetns(String),
    /// `ip netns del` of a namespace that does not exist.
    #[error("Cannot remove namespace file \"/run/netns/{0}\": No such file or directory")]
    NoNetnsToDelete(String),
    /// iproute2 refuses a word's value before asking the kernel
    /// (`Error: argument "X" is wrong: ...`).
    #[error("Error: argument \"{word}\" is wrong: {why}")]
    BadArgument {
        /// The word.
        word: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The namespace exists already.
    #[error("Cannot create namespace file \"/run/netns/{0}\": File exists")]
    NetnsExists(String),
    /// The kernel refused the request with `errno`; `detail` says which rule.
    #[error("{}{}", kernel_text(*.errno, .extack), detail_text(.detail))]
    Kernel {
        /// The errno.
        errno: Errno,
        /// The kernel's extended-ack message, which iproute2 prints as "Error: ...".
        extack: Option<&'static str>,
        /// Our explanation (the device and the rule).
        detail: String,
    },
    /// A program's own refusal, in its words.
    #[error("{0}")]
    Tool(String),
    /// A request the emulator does not model.
    #[error("not supported by the emulator: {0}")]
    Unsupported(String),
}

fn kernel_text(errno: Errno, extack: &Option<&'static str>) -> String {
    match extack {
        Some(m) => format!("Error: {m}."),
        None => format!("RTNETLINK answers: {}", errno.message()),
    }
}

fn detail_text(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(" ({d})")
    }
}

impl SimError {
    /// A kernel refusal with an explanation.
    pub fn kernel(errno: Errno, detail: impl Into<String>) -> SimError {
        SimError::Kernel {
            errno,
            extack: None,
            detail: detail.into(),
        }
    }

    /// A kernel refusal that comes with the kernel's own text (extack),
    /// which iproute2 prints as `Error: TEXT.`.
    pub fn kernel_says(errno: Errno, extack: &'static str, detail: impl Into<String>) -> SimError {
        SimError::Kernel {
            errno,
            extack: Some(extack),
            detail: detail.into(),
        }
    }

    /// What the tool itself prints, without the emulator's explanation.
    pub fn tool_text(&self) -> String {
        match self {
            SimError::Kernel { errno, extack, .. } => kernel_text(*errno, extack),
            e => e.to_string(),
        }
    }

    /// The errno, for a kernel refusal.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            SimError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

impl From<mvl_core::Error> for SimError {
    fn from(e: mvl_core::Error) -> Self {
        let extack = match &e {
            mvl_core::Error::MtuOutOfRange { mtu, min, .. } if mtu < min => {
                Some("mtu less than device minimum")
            }
            mvl_core::Error::MtuOutOfRange { .. } => Some("mtu greater than device maximum"),
            _ => None,
        };
        SimError::Kernel {
            errno: e.errno(),
            extack,
            detail: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_iproute2() {
        assert_eq!(
            SimError::NoDevice("eth9".into()).to_string(),
            "Cannot find device \"eth9\""
        );
        let e = SimError::kernel(Errno::EEXIST, "");
        assert_eq!(e.to_string(), "RTNETLINK answers: File exists");
        let e = SimError::kernel(Errno::EBUSY, "veth12 carries macvlans");
        assert_eq!(
            e.to_string(),
            "RTNETLINK answers: Device or resource busy (veth12 carries macvlans)"
        );
        assert_eq!(e.tool_text(), "RTNETLINK answers: Device or resource busy");
        let core = mvl_core::Error::MtuOutOfRange {
            dev: "mv".into(),
            mtu: 60,
            min: 68,
            max: 65535,
        };
        let e = SimError::from(core);
        assert!(
            e.to_string()
                .starts_with("Error: mtu less than device minimum. (mv: "),
            "{e}"
        );
        assert_eq!(e.tool_text(), "Error: mtu less than device minimum.");
    }
}
