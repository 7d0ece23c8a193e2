//! `ip addr` (`ipaddress.c`): add, del, show, flush.

use crate::cmd::{AddrShow, Command, ShowForm};
use crate::cursor::Cursor;
use crate::error::Error;
use crate::matches;

impl<'a> Cursor<'a> {
    pub(crate) fn ip_addr(&mut self, ipv4: bool, form: ShowForm) -> Result<Command, Error> {
        let Some(sub) = self.next() else {
            return Ok(Command::AddrShow(AddrShow {
                ipv4,
                form,
                ..Default::default()
            }));
        };
        let add = matches(sub, "add");
        let del = !add && matches(sub, "delete");
        if add || del {
            let mut cidr = None;
            let mut dev = None;
            while let Some(w) = self.next() {
                if w == "dev" {
                    dev = Some(self.ifname_value(w)?);
                } else if [
                    "peer",
                    "broadcast",
                    "brd",
                    "anycast",
                    "scope",
                    "label",
                    "valid_lft",
                    "preferred_lft",
                ]
                .iter()
                .any(|k| w == *k || (k.len() > 3 && matches(w, k)))
                {
                    return Err(self.err(Some(w), "not supported"));
                } else if cidr.is_none() {
                    cidr = Some(self.ipv4_prefix(w, "addresses")?);
                } else {
                    return Err(self.duparg2("local", w));
                }
            }
            let cidr = cidr.ok_or_else(|| self.err(Some(sub), "an address is required"))?;
            let dev = dev.ok_or_else(|| self.err(Some(sub), "\"dev\" argument is required"))?;
            return Ok(if add {
                Command::AddrAdd(cidr, dev)
            } else {
                Command::AddrDel(cidr, dev)
            });
        }
        if ["list", "show", "lst"].iter().any(|k| matches(sub, k)) {
            let mut a = AddrShow {
                ipv4,
                form,
                ..Default::default()
            };
            while let Some(w) = self.next() {
                if w == "up" {
                    a.up = true;
                    continue;
                }
                a.dev = Some(self.show_dev(w, &a.dev)?);
            }
            return Ok(Command::AddrShow(a));
        }
        if matches(sub, "flush") {
            let mut dev = None;
            while let Some(w) = self.next() {
                dev = Some(self.show_dev(w, &dev)?);
            }
            let dev = dev.ok_or_else(|| self.refusal(Some(sub), "Flush requires arguments."))?;
            return Ok(Command::AddrFlush(dev));
        }
        Err(self.err(Some(sub), "unsupported ip addr command (add, del, show, flush)"))
    }
}
