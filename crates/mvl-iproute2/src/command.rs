//! The first word: which tool (`ip`, `bridge`, `ping`, `tcpdump`, `sysctl`, `sleep`).

use crate::cmd::Command;
use crate::cursor::Cursor;
use crate::error::Error;

impl<'a> Cursor<'a> {
    /// A whole command; `netns` is the namespace an enclosing `ip netns exec` chose.
    pub(crate) fn command(&mut self, netns: Option<String>) -> Result<(Option<String>, Command), Error> {
        let Some(w) = self.next() else {
            return Err(self.err(None, "empty command"));
        };
        match w {
            "ip" => self.ip(netns),
            "bridge" => self.bridge(netns),
            "ping" => Ok((netns, self.ping()?)),
            "tcpdump" => Ok((netns, self.tcpdump()?)),
            "sysctl" => Ok((netns, self.sysctl()?)),
            "sleep" => {
                let v = self.value("sleep")?;
                let s: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| self.err(Some(v), "sleep takes a number of seconds"))?;
                self.end()?;
                Ok((netns, Command::Sleep(s)))
            }
            w => Err(self.err(
                Some(w),
                "unsupported command (supported: ip, bridge, ping, tcpdump, sysctl, sleep)",
            )),
        }
    }
}
