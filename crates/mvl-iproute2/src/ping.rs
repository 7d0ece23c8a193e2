//! `ping` (iputils): its options, bundled as iputils reads them (`-c3`,
//! `-nq`).

use std::net::Ipv4Addr;

use crate::cmd::{Command, Ping, Pmtudisc, MAX_PING_SIZE};
use crate::cursor::{parse_int, Cursor};
use crate::error::Error;

impl<'a> Cursor<'a> {
    pub(crate) fn ping(&mut self) -> Result<Command, Error> {
        let mut p = Ping::to(Ipv4Addr::UNSPECIFIED);
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
                    's' => {
                        let v = arg(self)?;
                        // Decimal, as iputils reads it.
                        p.size = v
                            .parse::<usize>()
                            .map_err(|_| self.err(Some(v), "bad -s packet size"))?;
                        if p.size > MAX_PING_SIZE {
                            return Err(self.err(
                                Some(v),
                                format!(
                                    "-s over {MAX_PING_SIZE} is not supported (no IPv4 packet carries it)"
                                ),
                            ));
                        }
                    }
                    'M' => {
                        let v = arg(self)?;
                        p.pmtudisc = match v {
                            "do" => Pmtudisc::Do,
                            "dont" => Pmtudisc::Dont,
                            "want" => Pmtudisc::Want,
                            // iputils' own refusal (`probe` is no longer read either).
                            _ => return Err(self.refusal(Some(v), format!("ping: invalid -M argument: {v}"))),
                        };
                    }
                    'w' => {
                        let v = arg(self)?;
                        // Whole seconds, as iputils reads them.
                        let s = v
                            .parse::<u32>()
                            .map_err(|_| self.err(Some(v), "bad -w deadline (whole seconds)"))?;
                        p.deadline = (s > 0).then_some(s);
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
                            format!(
                                "unsupported ping option -{o} (supported: -c -W -i -I -t -s -M -w -n -q -b)"
                            ),
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
