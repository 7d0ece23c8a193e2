//! Virtual time: nanoseconds since the start of the emulation. Nothing in
//! the emulator reads a real clock.

use std::fmt;
use std::ops::{Add, Sub};

/// A point in virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub u64);

/// A span of virtual time in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub u64);

impl Duration {
    /// `n` microseconds.
    pub const fn micros(n: u64) -> Duration {
        Duration(n * 1_000)
    }
    /// `n` milliseconds.
    pub const fn millis(n: u64) -> Duration {
        Duration(n * 1_000_000)
    }
    /// `n` seconds.
    pub const fn secs(n: u64) -> Duration {
        Duration(n * 1_000_000_000)
    }
    /// Seconds, possibly fractional.
    pub fn from_secs_f64(s: f64) -> Duration {
        Duration((s.max(0.0) * 1e9) as u64)
    }
    /// As milliseconds, fractional.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, o: Instant) -> Duration {
        Duration(self.0.saturating_sub(o.0))
    }
}

impl fmt::Display for Instant {
    /// `HH:MM:SS.micros`, as tcpdump prints time of day.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0 / 1_000;
        let s = us / 1_000_000;
        write!(
            f,
            "{:02}:{:02}:{:02}.{:06}",
            s / 3600 % 24,
            s / 60 % 60,
            s % 60,
            us % 1_000_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_display() {
        let t = Instant::default() + Duration::secs(3661) + Duration::micros(42);
        assert_eq!(t.to_string(), "01:01:01.000042");
        assert_eq!(t - Instant(0), Duration(3_661_000_042_000));
        assert_eq!(Instant(5) - Instant(9), Duration(0));
        assert_eq!(Duration::from_secs_f64(0.5), Duration::millis(500));
    }
}
