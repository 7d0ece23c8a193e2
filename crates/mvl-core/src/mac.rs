//! Ethernet MAC addresses.

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// `00:00:00:00:00:00`.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The address as bytes.
    pub fn octets(self) -> [u8; 6] {
        self.0
    }

    /// Group bit set (multicast, broadcast included).
    pub fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// `ff:ff:ff:ff:ff:ff`.
    pub fn is_broadcast(self) -> bool {
        self == Self::BROADCAST
    }

    /// All zero.
    pub fn is_zero(self) -> bool {
        self == Self::ZERO
    }

    /// What the kernel calls `is_valid_ether_addr`: neither multicast nor zero.
    pub fn is_valid_unicast(self) -> bool {
        !self.is_multicast() && !self.is_zero()
    }

    /// Locally administered bit set.
    pub fn is_local(self) -> bool {
        self.0[0] & 2 == 2
    }

    /// A locally administered unicast address made from 48 random bits, as
    /// `eth_random_addr` does (clear the group bit, set the local bit).
    pub fn random_local(bits: u64) -> MacAddr {
        let b = bits.to_le_bytes();
        MacAddr([(b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5]])
    }

    /// The bucket (0..=255) the kernel's `macvlan_eth_hash` puts this address
    /// in on a 64-bit little-endian machine. Flood order and the order of a
    /// source list in a dump follow these buckets.
    pub fn kernel_bucket(self) -> u8 {
        let mut v: u64 = 0;
        for (i, b) in self.0.iter().enumerate() {
            v |= u64::from(*b) << (16 + 8 * i);
        }
        (v.wrapping_mul(0x61C8_8646_80B5_83EB) >> 56) as u8
    }

    /// The address packed into the low 48 bits of a `u64` (for hashing).
    pub fn to_u64(self) -> u64 {
        let b = self.0;
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], 0, 0])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a string is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a MAC address (expected six hex bytes such as 02:00:00:00:00:01)")]
pub struct ParseMacError(pub String);

impl FromStr for MacAddr {
    type Err = ParseMacError;

    /// Parses `aa:bb:cc:dd:ee:ff` (also with `-` separators and one-digit
    /// bytes, as iproute2's `ll_addr_a2n` accepts).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseMacError(s.to_string());
        let mut out = [0u8; 6];
        let mut n = 0;
        for part in s.split([':', '-']) {
            if n == 6 || part.is_empty() || part.len() > 2 {
                return Err(err());
            }
            out[n] = u8::from_str_radix(part, 16).map_err(|_| err())?;
            n += 1;
        }
        if n != 6 {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(b: [u8; 6]) -> Self {
        MacAddr(b)
    }
}

/// A `Hasher` for MAC-keyed maps: one multiply instead of SipHash, since
/// the keys are not attacker-chosen in a way that matters (a lower has at
/// most a few thousand children) and lookups are on the per-frame path.
#[derive(Default, Clone, Copy)]
pub struct MacHasher(u64);

impl std::hash::Hasher for MacHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(26)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b) ^ (self.0 >> 56);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
}

impl std::hash::Hash for MacKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

/// A MAC address as a map key that hashes with one `write_u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MacKey(pub(crate) u64);

impl From<MacAddr> for MacKey {
    fn from(m: MacAddr) -> Self {
        MacKey(m.to_u64())
    }
}

/// A map keyed by MAC address with the fast hasher.
pub(crate) type MacMap<V> = std::collections::HashMap<MacKey, V, std::hash::BuildHasherDefault<MacHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let m: MacAddr = "36:50:43:11:71:c0".parse().unwrap();
        assert_eq!(m.to_string(), "36:50:43:11:71:c0");
        assert_eq!("2:0:0:0:0:1".parse::<MacAddr>().unwrap().0, [2, 0, 0, 0, 0, 1]);
        assert_eq!(
            "02-00-00-00-00-01".parse::<MacAddr>().unwrap().0,
            [2, 0, 0, 0, 0, 1]
        );
        for bad in [
            "",
            "1:2:3:4:5",
            "1:2:3:4:5:6:7",
            "zz:00:00:00:00:00",
            "100:0:0:0:0:0",
            "1::2:3:4:5",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn classes() {
        assert!(MacAddr::BROADCAST.is_multicast() && MacAddr::BROADCAST.is_broadcast());
        assert!(MacAddr([1, 0, 0x5e, 0, 0, 1]).is_multicast());
        assert!(!MacAddr::ZERO.is_valid_unicast());
        assert!(MacAddr([2, 0, 0, 0, 0, 1]).is_valid_unicast());
        let r = MacAddr::random_local(u64::MAX);
        assert!(r.is_valid_unicast() && r.is_local());
    }

    #[test]
    fn kernel_bucket_matches_hash_64() {
        // hash_64(v << 16 as LE, 8) computed by hand for 00:00:00:00:00:01:
        // v = 1 << 56; v * GOLDEN_RATIO_64 mod 2^64 = 0xEB << 56; top 8 bits = 0xEB.
        assert_eq!(MacAddr([0, 0, 0, 0, 0, 1]).kernel_bucket(), 0xEB);
        assert_eq!(MacAddr::ZERO.kernel_bucket(), 0);
    }
}
