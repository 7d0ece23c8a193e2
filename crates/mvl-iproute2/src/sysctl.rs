//! `sysctl` (procps): the forwarding switches a router lab sets, read or
//! written.

use crate::cmd::{Command, Sysctl, SysctlKey};
use crate::cursor::Cursor;
use crate::error::Error;

impl<'a> Cursor<'a> {
    pub(crate) fn sysctl(&mut self) -> Result<Command, Error> {
        let mut quiet = false;
        let mut setting = None;
        while let Some(w) = self.next() {
            match w {
                "--write" => {}
                "--quiet" => quiet = true,
                // Short options, bundled as getopt allows (`-qw`).
                w if w.starts_with('-') && w.len() > 1 && w[1..].chars().all(|c| c == 'w' || c == 'q') => {
                    quiet |= w.contains('q');
                }
                w if w.starts_with('-') => {
                    return Err(self.err(Some(w), "unsupported sysctl option (supported: -w, -q)"))
                }
                w if setting.is_none() => setting = Some(w),
                w => return Err(self.err(Some(w), "one setting per sysctl line")),
            }
        }
        let setting = setting.ok_or_else(|| self.err(Some("sysctl"), "sysctl needs a setting"))?;
        let (name, value) = match setting.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (setting, None),
        };
        let key = [SysctlKey::IpForward, SysctlKey::AllForwarding]
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                self.err(
                    Some(name),
                    "unsupported setting (supported: net.ipv4.ip_forward, net.ipv4.conf.all.forwarding)",
                )
            })?;
        let value = match value {
            None => None,
            Some("0") => Some(false),
            Some("1") => Some(true),
            Some(v) => return Err(self.err(Some(v), "the emulator's forwarding switch takes 0 or 1")),
        };
        Ok(Command::Sysctl(Sysctl { key, value, quiet }))
    }
}
