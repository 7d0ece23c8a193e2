//! `ip neigh` (`ipneigh.c`): add, change, replace, del, flush, show.

use std::net::Ipv4Addr;

use crate::cmd::{Command, NeighNud, NeighOp, NeighSet, ShowForm};
use crate::cursor::Cursor;
use crate::error::Error;
use crate::matches;

impl<'a> Cursor<'a> {
    pub(crate) fn ip_neigh(&mut self, form: ShowForm) -> Result<Command, Error> {
        let Some(sub) = self.next() else {
            return Ok(Command::NeighShow(form));
        };
        if ["show", "list", "lst"].iter().any(|k| matches(sub, k)) {
            self.end()?;
            return Ok(Command::NeighShow(form));
        }
        if matches(sub, "flush") {
            return match self.next() {
                Some("all") => {
                    self.end()?;
                    Ok(Command::NeighFlush(None))
                }
                Some("dev") => {
                    let d = self.ifname_value("dev")?;
                    self.end()?;
                    Ok(Command::NeighFlush(Some(d)))
                }
                Some(w) => Err(self.err(Some(w), "ip neigh flush takes \"all\" or \"dev DEV\"")),
                None => Err(self.err(Some(sub), "Flush requires arguments")),
            };
        }
        let op = if matches(sub, "add") {
            Some(NeighOp::Add)
        } else if matches(sub, "change") || sub == "chg" {
            Some(NeighOp::Change)
        } else if matches(sub, "replace") {
            Some(NeighOp::Replace)
        } else {
            None
        };
        if op.is_some() || matches(sub, "delete") {
            return self.neigh_modify(op);
        }
        Err(self.err(
            Some(sub),
            "unsupported ip neigh command (add, change, replace, delete, show, flush)",
        ))
    }

    /// The words after `ip neigh add|change|replace|delete`; `op` is `None`
    /// for delete, which reads and ignores `lladdr` and `nud` as iproute2 does.
    pub(crate) fn neigh_modify(&mut self, op: Option<NeighOp>) -> Result<Command, Error> {
        let (mut addr, mut lladdr, mut dev, mut nud) = (None, None, None, NeighNud::Permanent);
        while let Some(w) = self.next() {
            if matches(w, "lladdr") {
                if lladdr.is_some() {
                    return Err(self.err(Some(w), "duplicate \"lladdr\""));
                }
                lladdr = Some(self.mac(w)?);
            } else if w == "nud" {
                nud = match self.value(w)? {
                    "permanent" => NeighNud::Permanent,
                    "reachable" => NeighNud::Reachable,
                    "stale" => NeighNud::Stale,
                    v @ ("noarp" | "none" | "incomplete" | "delay" | "probe" | "failed") => {
                        return Err(self.err(
                            Some(v),
                            "not supported (supported: nud permanent, reachable or stale)",
                        ))
                    }
                    v => return Err(self.err(Some(v), "nud state is bad")),
                };
            } else if w == "dev" {
                dev = Some(self.ifname_value(w)?);
            } else if ["proxy", "router", "extern_learn", "protocol"]
                .iter()
                .any(|k| matches(w, k))
            {
                return Err(self.err(Some(w), "not supported"));
            } else {
                let a = if w == "to" { self.value(w)? } else { w };
                if addr.is_some() {
                    return Err(self.duparg2("to", a));
                }
                if a.contains(':') {
                    return Err(self.err(Some(a), "IPv6 addresses are not supported"));
                }
                addr = Some(a.parse::<Ipv4Addr>().map_err(|_| {
                    self.refusal(
                        Some(a),
                        format!("Error: any valid address is expected rather than \"{a}\"."),
                    )
                })?);
            }
        }
        let (Some(addr), Some(dev)) = (addr, dev) else {
            return Err(self.err(None, "Device and destination are required arguments."));
        };
        Ok(match op {
            Some(op) => Command::NeighSet(NeighSet {
                op,
                addr,
                lladdr,
                dev,
                nud,
            }),
            None => Command::NeighDel { addr, dev },
        })
    }
}
