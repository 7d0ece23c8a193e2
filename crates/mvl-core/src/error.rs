//! The errors of port operations: each carries the errno the kernel returns
//! for the same request and a message naming the devices and the rule.

use crate::mac::MacAddr;
use crate::mode::Mode;

/// The Linux errno values the macvlan rules produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errno {
    /// 22, "Invalid argument".
    EINVAL,
    /// 19, "No such device".
    ENODEV,
    /// 16, "Device or resource busy".
    EBUSY,
    /// 98, "Address already in use".
    EADDRINUSE,
    /// 99, "Cannot assign requested address".
    EADDRNOTAVAIL,
    /// 95, "Operation not supported".
    EOPNOTSUPP,
    /// 17, "File exists".
    EEXIST,
    /// 2, "No such file or directory" (a neighbour entry or route to change is missing).
    ENOENT,
    /// 3, "No such process" (a route to delete is missing).
    ESRCH,
    /// 100, "Network is down" (a route's device is down).
    ENETDOWN,
}

impl Errno {
    /// The numeric value on Linux.
    pub fn code(self) -> i32 {
        match self {
            Errno::EINVAL => 22,
            Errno::ENODEV => 19,
            Errno::EBUSY => 16,
            Errno::EADDRINUSE => 98,
            Errno::EADDRNOTAVAIL => 99,
            Errno::EOPNOTSUPP => 95,
            Errno::EEXIST => 17,
            Errno::ENOENT => 2,
            Errno::ESRCH => 3,
            Errno::ENETDOWN => 100,
        }
    }

    /// The errno for a Linux value, if it is one of ours.
    pub fn from_code(code: i32) -> Option<Errno> {
        [
            Errno::EINVAL,
            Errno::ENODEV,
            Errno::EBUSY,
            Errno::EADDRINUSE,
            Errno::EADDRNOTAVAIL,
            Errno::EOPNOTSUPP,
            Errno::EEXIST,
            Errno::ENOENT,
            Errno::ESRCH,
            Errno::ENETDOWN,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }

    /// glibc's `strerror` text, which iproute2 prints after "RTNETLINK answers: ".
    pub fn message(self) -> &'static str {
        match self {
            Errno::EINVAL => "Invalid argument",
            Errno::ENODEV => "No such device",
            Errno::EBUSY => "Device or resource busy",
            Errno::EADDRINUSE => "Address already in use",
            Errno::EADDRNOTAVAIL => "Cannot assign requested address",
            Errno::EOPNOTSUPP => "Operation not supported",
            Errno::EEXIST => "File exists",
            Errno::ENOENT => "No such file or directory",
            Errno::ESRCH => "No such process",
            Errno::ENETDOWN => "Network is down",
        }
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self)
    }
}

/// Why an address is not a valid unicast station address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadMac {
    /// The group bit is set.
    Multicast,
    /// All zero.
    Zero,
}

impl BadMac {
    /// Classifies `mac`; `None` if it is a valid unicast address.
    pub fn of(mac: MacAddr) -> Option<BadMac> {
        if mac.is_multicast() {
            Some(BadMac::Multicast)
        } else if mac.is_zero() {
            Some(BadMac::Zero)
        } else {
            None
        }
    }
}

impl std::fmt::Display for BadMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadMac::Multicast => "a multicast address (group bit set) cannot identify one station",
            BadMac::Zero => "the all-zero address is not a station address",
        })
    }
}

/// An operation on a port refused by one of the driver's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The lower is not an Ethernet device.
    #[error("{lower} is not an Ethernet device: a macvlan needs an Ethernet lower")]
    LowerNotEthernet {
        /// The requested lower.
        lower: String,
    },
    /// The lower is a loopback device.
    #[error("{lower} is a loopback device: a macvlan cannot sit on loopback")]
    LowerIsLoopback {
        /// The requested lower.
        lower: String,
    },
    /// The lower already has another receive handler (bridge port, bond slave, ...).
    #[error("{lower} {holder}: its frames already go to another driver, so it cannot also carry macvlans")]
    LowerBusy {
        /// The requested lower.
        lower: String,
        /// What holds it, e.g. "is a port of bridge br0".
        holder: String,
    },
    /// The lower carries macvlans, so it cannot become a bridge or bond port.
    #[error("{lower} carries macvlans ({children}): it cannot become a port of {master}")]
    LowerHasMacvlans {
        /// The lower.
        lower: String,
        /// Its children, comma-separated.
        children: String,
        /// The bridge or bond it was to join.
        master: String,
    },
    /// The port is in passthru mode: no second macvlan.
    #[error("{lower} already carries the passthru macvlan {child}: a passthru lower takes no other macvlan")]
    PassthruPortFull {
        /// The lower.
        lower: String,
        /// The passthru child.
        child: String,
    },
    /// Passthru on a lower that already has macvlans.
    #[error("passthru needs a lower of its own, but {lower} already carries {children}")]
    PassthruNeedsEmptyLower {
        /// The lower.
        lower: String,
        /// Its children, comma-separated.
        children: String,
    },
    /// A mode change into or out of passthru.
    #[error("{dev}: mode {from} cannot change to {to}: nothing changes into or out of passthru")]
    PassthruModeChange {
        /// The macvlan.
        dev: String,
        /// Its mode.
        from: Mode,
        /// The requested mode.
        to: Mode,
    },
    /// An MTU above the lower's.
    #[error("{dev}: MTU {mtu} is larger than the MTU {lower_mtu} of its lower {lower}")]
    MtuAboveLower {
        /// The macvlan.
        dev: String,
        /// The requested MTU.
        mtu: u32,
        /// The lower.
        lower: String,
        /// The lower's MTU.
        lower_mtu: u32,
    },
    /// An MTU outside the device's range.
    #[error("{dev}: MTU {mtu} is outside the allowed range {min}..={max}")]
    MtuOutOfRange {
        /// The macvlan.
        dev: String,
        /// The requested MTU.
        mtu: u32,
        /// Minimum (68).
        min: u32,
        /// Maximum (the lower's max MTU).
        max: u32,
    },
    /// A MAC that is multicast or zero.
    #[error("{dev}: {mac} is refused: {why}")]
    InvalidMac {
        /// The device or list it was for.
        dev: String,
        /// The address.
        mac: MacAddr,
        /// Why.
        why: BadMac,
    },
    /// The MAC is the lower's or an UP sibling's.
    #[error("{}", addr_in_use(.dev, .mac, .holder, .lower))]
    AddrInUse {
        /// The macvlan.
        dev: String,
        /// The address.
        mac: MacAddr,
        /// The lower, or the UP sibling, that has it.
        holder: String,
        /// The lower.
        lower: String,
    },
    /// A source-list operation on a macvlan that is not in source mode.
    #[error("{dev}: macaddr lists belong to mode source, but {dev} is in mode {mode}")]
    MacaddrNotSource {
        /// The macvlan.
        dev: String,
        /// Its mode (after the request's mode change).
        mode: Mode,
    },
    /// A mode value the kernel does not define.
    #[error("{dev}: {value} is not a macvlan mode (1 private, 2 vepa, 4 bridge, 8 passthru, 16 source)")]
    InvalidModeValue {
        /// The macvlan.
        dev: String,
        /// The value.
        value: u32,
    },
    /// Flag bits the kernel does not define.
    #[error("{dev}: flags {value:#x} set bits other than nopromisc (1) and nodst (2)")]
    InvalidFlags {
        /// The macvlan.
        dev: String,
        /// The value.
        value: u16,
    },
    /// The child id does not name a macvlan of this port.
    #[error("macvlan #{0} does not exist on this lower")]
    NoSuchMacvlan(u32),
    /// Unicast FDB entries are for passthru only.
    #[error("{dev}: unicast FDB entries on a macvlan need passthru mode, not {mode}")]
    FdbNotPassthru {
        /// The macvlan.
        dev: String,
        /// Its mode.
        mode: Mode,
    },
}

/// The text of [`Error::AddrInUse`]: the lower itself is named once.
fn addr_in_use(dev: &str, mac: &MacAddr, holder: &str, lower: &str) -> String {
    if holder == format!("the lower {lower}") {
        format!("{dev}: MAC {mac} is already used by {holder}; a macvlan cannot share its lower's MAC")
    } else {
        format!(
            "{dev}: MAC {mac} is already used by {holder} on lower {lower}; two up devices of one lower cannot share a MAC"
        )
    }
}

impl Error {
    /// The errno the kernel returns for the same request.
    pub fn errno(&self) -> Errno {
        match self {
            Error::LowerNotEthernet { .. }
            | Error::LowerIsLoopback { .. }
            | Error::PassthruPortFull { .. }
            | Error::PassthruNeedsEmptyLower { .. }
            | Error::PassthruModeChange { .. }
            | Error::MtuAboveLower { .. }
            | Error::MtuOutOfRange { .. }
            | Error::MacaddrNotSource { .. }
            | Error::InvalidModeValue { .. }
            | Error::InvalidFlags { .. } => Errno::EINVAL,
            Error::LowerBusy { .. } | Error::LowerHasMacvlans { .. } => Errno::EBUSY,
            Error::InvalidMac { .. } => Errno::EADDRNOTAVAIL,
            Error::AddrInUse { .. } => Errno::EADDRINUSE,
            Error::NoSuchMacvlan(_) => Errno::ENODEV,
            Error::FdbNotPassthru { .. } => Errno::EOPNOTSUPP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_table() {
        for e in [
            Errno::EINVAL,
            Errno::ENODEV,
            Errno::EBUSY,
            Errno::EADDRINUSE,
            Errno::EADDRNOTAVAIL,
            Errno::EOPNOTSUPP,
            Errno::EEXIST,
            Errno::ENOENT,
        ] {
            assert_eq!(Errno::from_code(e.code()), Some(e));
            assert!(!e.message().is_empty());
        }
        assert_eq!(Errno::EADDRINUSE.code(), 98);
        assert_eq!(Errno::EADDRINUSE.message(), "Address already in use");
        assert_eq!(Errno::from_code(1), None);
    }

    #[test]
    fn messages_name_devices_and_rule() {
        let e = Error::AddrInUse {
            dev: "mv2".into(),
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            holder: "mv1".into(),
            lower: "eth0".into(),
        };
        let s = e.to_string();
        assert!(
            s.contains("mv2") && s.contains("mv1") && s.contains("eth0") && s.contains("02:00:00:00:00:01")
        );
        assert_eq!(e.errno(), Errno::EADDRINUSE);
        let e = Error::AddrInUse {
            dev: "mv2".into(),
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            holder: "the lower eth0".into(),
            lower: "eth0".into(),
        };
        assert_eq!(
            e.to_string(),
            "mv2: MAC 02:00:00:00:00:01 is already used by the lower eth0; a macvlan cannot share its lower's MAC"
        );
        let e = Error::MtuAboveLower {
            dev: "mv".into(),
            mtu: 9000,
            lower: "eth0".into(),
            lower_mtu: 1500,
        };
        assert!(e.to_string().contains("9000") && e.to_string().contains("1500"));
        assert_eq!(e.errno(), Errno::EINVAL);
    }
}
