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
    /// `macvlan_parse_opt` from iproute2's `ip/iplink_macvlan.c`, with
    /// the warnings it printed on the way.
    pub(crate) fn macvlan_opts(&self, words: &[String]) -> Result<(MacvlanChange, Vec<String>), Error> {
        let mut c = Cursor { words, pos: 0 };
        let mut o = MacvlanChange::default();
        let mut warnings: Vec<String> = Vec::new();
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
                        // iproute2 reads addresses until a word is not a
                        // six-byte one, and reads that word again as an
                        // option; `ll_addr_a2n` says so first when the word
                        // is no link-layer address at all.
                        if let Some(w) = c.peek().filter(|w| !is_lladdr(w)) {
                            warnings.push(format!("\"{w}\" is invalid lladdr."));
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
                warnings.push(format!("macvlan: unknown option \"{w}\"?\n{MACVLAN_USAGE}"));
                return Err(c.refusal(Some(w), warnings.join("\n")));
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
        Ok((o, warnings))
    }
}

/// Whether iproute2's `ll_addr_a2n` reads `w` as a link-layer address of
/// any length: a dotted IPv4 address, or up to 32 `:`-separated parts, each
/// starting with a hexadecimal number (as `sscanf("%x")` reads it) of at
/// most 255. So `bc` of `bcqueuelen` reads, `nodst` does not.
fn is_lladdr(w: &str) -> bool {
    if w.contains('.') {
        return w.parse::<std::net::Ipv4Addr>().is_ok();
    }
    w.split(':').take(32).all(|part| {
        let p = part.trim_start();
        let (negative, p) = match p.as_bytes().first() {
            Some(b'-') => (true, &p[1..]),
            Some(b'+') => (false, &p[1..]),
            _ => (false, p),
        };
        let p = p
            .strip_prefix("0x")
            .or_else(|| p.strip_prefix("0X"))
            .filter(|rest| rest.starts_with(|c: char| c.is_ascii_hexdigit()))
            .unwrap_or(p);
        let digits = p.bytes().take_while(u8::is_ascii_hexdigit).count();
        // Too many digits saturate, as `strtoul` does.
        let value = u64::from_str_radix(&p[..digits], 16).unwrap_or(u64::MAX);
        digits > 0 && if negative { value == 0 } else { value <= 255 }
    })
}

#[cfg(test)]
mod tests {
    use super::is_lladdr;

    #[test]
    fn words_ll_addr_a2n_reads() {
        for w in [
            "02:00:00:00:00:01",
            "bcqueuelen",
            "bclim",
            "ab",
            "0",
            "ff",
            "flag",
            "0x10",
            "1.2.3.4",
            "02:ff:00",
        ] {
            assert!(is_lladdr(w), "{w}");
        }
        for w in [
            "nodst",
            "mode",
            "nopromisc",
            "null",
            "macaddr",
            "123",
            "02::01",
            "zz",
            "-1",
            "1.2.3",
        ] {
            assert!(!is_lladdr(w), "{w}");
        }
    }
}
