//! `ip link ... type macvlan` options (`iplink_macvlan.c`).

use mvl_core::{Flags, MacAddr, MacaddrOp, Mode};

use crate::cmd::MacvlanChange;
use crate::cursor::Cursor;
use crate::error::Error;
use crate::matches;

/// `iplink_macvlan.c`'s usage, printed when its options cannot be read.
const MACVLAN_USAGE: &str =
    "Usage: ... macvlan mode MODE [flag MODE_FLAG] MODE_OPTS [bcqueuelen BC_QUEUE_LEN]

MODE: private | vepa | bridge | passthru | source
MODE_FLAG: null | nopromisc | nodst
MODE_OPTS: for mode \"source\":
\tmacaddr { { add | del } <macaddr> | set [ <macaddr> [ <macaddr>  ... ] ] | flush }
BC_QUEUE_LEN: Length of the rx queue for broadcast/multicast: [0-4294967295]";

impl<'a> Cursor<'a> {
    /// `macvlan_parse_opt` from iproute2's `ip/iplink_macvlan.c`.
    pub(crate) fn macvlan_opts(&self, words: &[String]) -> Result<MacvlanChange, Error> {
        let mut c = Cursor { words, pos: 0 };
        let mut o = MacvlanChange::default();
        let mut flags = Flags::NONE;
        let mut has_flags = false;
        while let Some(w) = c.next() {
            if matches(w, "mode") {
                let v = c.value(w)?;
                o.mode = Some(
                    v.parse::<Mode>()
                        .map_err(|e| c.refusal(Some(v), format!("Error: {e}")))?,
                );
            } else if matches(w, "flag") {
                match c.value(w)? {
                    "nopromisc" => flags = flags.union(Flags::NOPROMISC),
                    "nodst" => flags = flags.union(Flags::NODST),
                    "null" => flags = Flags::NONE,
                    v => {
                        return Err(c.refusal(
                            Some(v),
                            format!("Error: argument of \"flag\" must be \"nopromisc\", \"nodst\" or \"null\", not \"{v}\""),
                        ))
                    }
                }
                has_flags = true;
            } else if matches(w, "macaddr") {
                let op = c.value(w)?;
                o.macaddr = Some(match op {
                    "add" => MacaddrOp::Add(c.mac("add")?),
                    "del" => MacaddrOp::Del(c.mac("del")?),
                    "flush" => MacaddrOp::Flush,
                    "set" => {
                        let mut v = Vec::new();
                        while let Some(m) = c.peek().and_then(|w| w.parse::<MacAddr>().ok()) {
                            v.push(m);
                            c.pos += 1;
                        }
                        MacaddrOp::Set(v)
                    }
                    other => return Err(c.refusal(Some(other), MACVLAN_USAGE)),
                });
            } else if matches(w, "nopromisc") {
                flags = flags.union(Flags::NOPROMISC);
                has_flags = true;
            } else if matches(w, "nodst") {
                flags = flags.union(Flags::NODST);
                has_flags = true;
            } else if matches(w, "bcqueuelen") {
                o.bc_queue_len = Some(c.number(w)?);
            } else if w == "bclim" {
                o.bc_cutoff = Some(c.number(w)?);
            } else {
                return Err(c.refusal(
                    Some(w),
                    format!("macvlan: unknown option \"{w}\"?\n{MACVLAN_USAGE}"),
                ));
            }
        }
        if has_flags {
            if flags.contains(Flags::NOPROMISC) && o.mode != Some(Mode::Passthru) {
                return Err(c.refusal(
                    Some("nopromisc"),
                    format!("macvlan: nopromisc flag only valid in passthru mode\n{MACVLAN_USAGE}"),
                ));
            }
            o.flags = Some(flags);
        }
        Ok(o)
    }
}
