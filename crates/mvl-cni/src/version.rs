//! CNI specification versions: which ones this plugin speaks and what
//! each allows.

use std::fmt;

/// A CNI specification version this plugin supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// 0.1.0: the first; `ip4`/`ip6` results.
    V0_1_0,
    /// 0.2.0: adds VERSION.
    V0_2_0,
    /// 0.3.0: `interfaces`/`ips` results, chaining.
    V0_3_0,
    /// 0.3.1: same result shape as 0.3.0.
    V0_3_1,
    /// 0.4.0: CHECK, `prevResult` on DEL.
    V0_4_0,
    /// 1.0.0: no `version` in IPs.
    V1_0_0,
    /// 1.1.0: STATUS, GC, interface `mtu`, route `mtu`/`advmss`/`priority`/`table`/`scope`.
    V1_1_0,
}

impl Version {
    /// Every supported version, oldest first (what VERSION reports).
    pub const ALL: [Version; 7] = [
        Version::V0_1_0,
        Version::V0_2_0,
        Version::V0_3_0,
        Version::V0_3_1,
        Version::V0_4_0,
        Version::V1_0_0,
        Version::V1_1_0,
    ];

    /// The newest supported version.
    pub const LATEST: Version = Version::V1_1_0;

    /// The version for a `cniVersion` string; `None` if not supported.
    /// An empty string means 0.1.0, as libcni reads it.
    pub fn parse(s: &str) -> Option<Version> {
        if s.is_empty() {
            return Some(Version::V0_1_0);
        }
        Version::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The `cniVersion` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V0_1_0 => "0.1.0",
            Version::V0_2_0 => "0.2.0",
            Version::V0_3_0 => "0.3.0",
            Version::V0_3_1 => "0.3.1",
            Version::V0_4_0 => "0.4.0",
            Version::V1_0_0 => "1.0.0",
            Version::V1_1_0 => "1.1.0",
        }
    }

    /// The supported versions as strings.
    pub fn all_strings() -> Vec<&'static str> {
        Version::ALL.iter().map(|v| v.as_str()).collect()
    }

    /// Whether results use `interfaces`/`ips` (0.3.0 on) rather than `ip4`/`ip6`.
    pub fn has_interfaces(self) -> bool {
        self >= Version::V0_3_0
    }

    /// Whether IP entries carry `"version": "4"|"6"` (0.3.x and 0.4.0).
    pub fn ip_has_version(self) -> bool {
        (Version::V0_3_0..=Version::V0_4_0).contains(&self)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_order() {
        assert_eq!(Version::parse(""), Some(Version::V0_1_0));
        assert_eq!(Version::parse("0.4.0"), Some(Version::V0_4_0));
        assert_eq!(Version::parse("1.2.0"), None);
        assert!(Version::V0_4_0 < Version::V1_0_0);
        assert!(Version::V0_3_1.ip_has_version());
        assert!(!Version::V1_0_0.ip_has_version());
        assert!(!Version::V0_2_0.has_interfaces());
        assert_eq!(Version::all_strings().len(), 7);
        for v in Version::ALL {
            assert_eq!(Version::parse(v.as_str()), Some(v));
        }
    }
}
