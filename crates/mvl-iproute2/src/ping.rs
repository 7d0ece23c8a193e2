//! `ping` (iputils): its options, bundled as iputils reads them (`-c3`,
//! `-nq`).

use std::net::Ipv4Addr;

use crate::cmd::{Command, Ping};
use crate::cursor::{parse_int, Cursor};
use crate::error::Error;

impl<'a> Cursor<'a> {
    pub(crate) fn ping(&mut self) -> Result<Command, Error> {
        let mut p = Ping {
            addr: Ipv4Addr::UNSPECIFIED,
            count: None,
            wait: None,
            interval: 1.0,
            iface: None,
            source: None,
            broadcast: false,
            ttl: None,
        };
        let mut quiet = false;
        let mut addr = None;
        while let Some(w) = self.next() {
            let Some(opts) = w.strip_prefix('-') else {
                if addr.is_some() {
                    return Err(self.err(Some(w), "ping takes one destination"));
                }
                addr = Some(
                    w.parse::<Ipv4Addr>()
                        .map_err(|_| self.err(Some(w), "ping needs an IPv4 address"))?,
                );
                continue;
            };
            for (i, o) in opts.char_indices() {
                let rest = &opts[i + o.len_utf8()..];
                let arg = |c: &mut Self| -> Result<&'a str, Error> {
                    if rest.is_empty() {
                        c.value(&format!("-{o}"))
                    } else {
                        Ok(&w[w.len() - rest.len()..])
                    }
                };
                match o {
                    'n' | 'q' | 'b' => {
                        quiet |= o == 'q';
                        p.broadcast |= o == 'b';
                        continue;
                    }
                    'c' => {
                        let v = arg(self)?;
                        p.count = Some(
                            parse_int(v)
                                .filter(|&n: &u32| n > 0)
                                .ok_or_else(|| self.err(Some(v), "bad -c count"))?,
                        );
                    }
                    'W' | 'i' => {
                        let v = arg(self)?;
                        let s: f64 = v
                            .parse()
                            .ok()
                            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                            .ok_or_else(|| self.err(Some(v), format!("bad -{o} seconds")))?;
                        if o == 'W' {
                            p.wait = Some(s);
                        } else {
                            p.interval = s.max(0.002);
                        }
                    }
                    't' => {
                        let v = arg(self)?;
                        // (iputils reads 0 too, then fails to set it.)
                        p.ttl = Some(
                            parse_int::<u8>(v)
                                .filter(|&t| t > 0)
                                .ok_or_else(|| self.err(Some(v), "bad -t time to live (1 to 255)"))?,
                        );
                    }
                    'I' => {
                        let v = arg(self)?;
                        match v.parse::<Ipv4Addr>() {
                            Ok(a) => p.source = Some(a),
                            Err(_) => p.iface = Some(self.ifname(v)?),
                        }
                    }
                    _ => {
                        return Err(self.err(
                            Some(w),
                            format!("unsupported ping option -{o} (supported: -c -W -i -I -t -n -q -b)"),
                        ))
                    }
                }
                break;
            }
        }
        p.addr = addr.ok_or_else(|| self.err(Some("ping"), "ping needs a destination"))?;
        Ok(Command::Ping { ping: p, quiet })
    }
}
