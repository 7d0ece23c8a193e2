//! `tcpdump`: the device, the count, `-w`, `-e` and the `icmp`/`arp` filters.

use crate::cmd::{Command, Filter};
use crate::cursor::{parse_int, Cursor};
use crate::error::Error;

impl<'a> Cursor<'a> {
    pub(crate) fn tcpdump(&mut self) -> Result<Command, Error> {
        let mut dev = None;
        let mut count = None;
        let mut write = None;
        let mut link = false;
        let mut expr: Vec<&str> = Vec::new();
        while let Some(w) = self.next() {
            match w {
                "-i" => dev = Some(self.ifname_value(w)?),
                "-c" => {
                    let v = self.value(w)?;
                    let n = parse_int::<u32>(v).filter(|&n| n > 0);
                    count = Some(n.ok_or_else(|| {
                        self.refusal(Some(v), format!("tcpdump: invalid packet count {v}"))
                    })?);
                }
                "-w" => write = Some(self.value(w)?.to_string()),
                "-e" => link = true,
                "-n" | "-nn" | "-l" | "-q" | "-v" | "-p" | "-U" => {}
                w if w.starts_with('-') => {
                    return Err(self.err(Some(w), "unsupported tcpdump option (supported: -i -c -w -e -n)"));
                }
                w => expr.push(w),
            }
        }
        let filter = match expr[..] {
            [] => Filter::All,
            ["icmp"] => Filter::Icmp,
            ["arp"] => Filter::Arp,
            [w, ..] => {
                return Err(self.err(
                    Some(w),
                    "unsupported tcpdump filter (supported: \"icmp\" and \"arp\")",
                ))
            }
        };
        let dev = dev.ok_or_else(|| self.err(Some("tcpdump"), "tcpdump needs -i DEV"))?;
        Ok(Command::Tcpdump {
            dev,
            filter,
            count,
            write,
            link,
        })
    }
}
