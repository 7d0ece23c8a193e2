//! `ip route` (`iproute.c`): add, del, replace, change and show, in the
//! main table, IPv4.

use std::net::Ipv4Addr;

use crate::cmd::{Command, Ipv4Net, RouteOp, RouteSet, RouteShow, ShowForm};
use crate::cursor::Cursor;
use crate::error::Error;
use crate::matches;

/// The first line of iproute2's usage text, which it prints (and exits
/// with 255) for a route without a destination.
const USAGE: &str = "Usage: ip route { list | flush } SELECTOR";

/// Route types (`rtnl_rtntype_a2n`) and options iproute2 reads that the
/// emulator does not model: named as unsupported, never misread.
const UNSUPPORTED: &[&str] = &[
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
    "tos",
    "dsfield",
    "table",
    "vrf",
    "proto",
    "protocol",
    "scope",
    "onlink",
    "pervasive",
    "nexthop",
    "nhid",
    "mtu",
    "advmss",
    "hoplimit",
    "realm",
    "realms",
    "expires",
    "encap",
    "weight",
    "as",
    "from",
    "pref",
    "ttl-propagate",
    "initcwnd",
    "initrwnd",
    "window",
    "cwnd",
    "ssthresh",
    "rtt",
    "rttvar",
    "rto_min",
    "reordering",
    "features",
    "quickack",
    "congctl",
    "fastopen_no_cookie",
    "root",
    "match",
    "exact",
    "type",
    "cache",
];

impl<'a> Cursor<'a> {
    pub(crate) fn ip_route(&mut self, form: ShowForm) -> Result<Command, Error> {
        let Some(sub) = self.next() else {
            return Ok(Command::RouteShow(RouteShow {
                form,
                ..RouteShow::default()
            }));
        };
        // iproute2's order of `matches()`: an abbreviation is the first.
        let op = if matches(sub, "add") {
            Some(RouteOp::Add)
        } else if matches(sub, "change") || sub == "chg" {
            Some(RouteOp::Change)
        } else if matches(sub, "replace") {
            Some(RouteOp::Replace)
        } else if ["prepend", "append", "test"].iter().any(|k| matches(sub, k)) {
            return Err(self.err(
                Some(sub),
                "not supported (ip route add, del, replace, change, show)",
            ));
        } else if matches(sub, "delete") {
            Some(RouteOp::Del)
        } else {
            None
        };
        if let Some(op) = op {
            return self.route_set(sub, op);
        }
        if ["list", "show", "lst"].iter().any(|k| matches(sub, k)) {
            return self.route_show(form);
        }
        Err(self.err(
            Some(sub),
            "unsupported ip route command (add, del, replace, change, show)",
        ))
    }

    fn unsupported_route_word(&self, w: &str) -> Option<Error> {
        UNSUPPORTED
            .contains(&w)
            .then(|| self.err(Some(w), "not supported by the emulator's ip route"))
    }

    fn route_prefix(&self, w: &str) -> Result<Ipv4Net, Error> {
        if w == "default" || w == "all" || w == "any" {
            return Ok(Ipv4Net::default());
        }
        self.ipv4_prefix(w, "routes")
    }

    fn inet_addr(&mut self, keyword: &str) -> Result<Ipv4Addr, Error> {
        let v = self.value(keyword)?;
        if v.contains(':') {
            return Err(self.err(Some(v), "IPv6 addresses are not supported"));
        }
        v.parse().map_err(|_| {
            self.refusal(
                Some(v),
                format!("Error: inet address is expected rather than \"{v}\"."),
            )
        })
    }

    fn route_set(&mut self, sub: &str, op: RouteOp) -> Result<Command, Error> {
        let mut dst = None;
        let (mut via, mut dev, mut metric, mut src) = (None, None, None, None);
        while let Some(w) = self.next() {
            match w {
                "via" => via = Some(self.inet_addr(w)?),
                "dev" | "oif" => dev = Some(self.ifname_value(w)?),
                "src" => src = Some(self.inet_addr(w)?),
                "metric" | "priority" | "preference" => {
                    let v = self.value(w)?;
                    metric = Some(crate::cursor::parse_int::<u32>(v).ok_or_else(|| {
                        self.refusal(
                            Some(v),
                            format!("Error: argument \"{v}\" is wrong: \"metric\" value is invalid\n"),
                        )
                    })?);
                }
                w => {
                    if let Some(e) = self.unsupported_route_word(w) {
                        return Err(e);
                    }
                    let w = if w == "to" { self.value(w)? } else { w };
                    if dst.is_some() {
                        return Err(self.duparg2("to", w));
                    }
                    dst = Some(self.route_prefix(w)?);
                }
            }
        }
        let dst = dst.ok_or_else(|| self.refusal(Some(sub), USAGE))?;
        Ok(Command::RouteSet(RouteSet {
            op,
            dst,
            via,
            dev,
            metric,
            src,
        }))
    }

    fn route_show(&mut self, form: ShowForm) -> Result<Command, Error> {
        let mut show = RouteShow {
            form,
            ..RouteShow::default()
        };
        while let Some(w) = self.next() {
            if w == "dev" || w == "oif" {
                show.dev = Some(self.ifname_value(w)?);
                continue;
            }
            if let Some(e) = self.unsupported_route_word(w) {
                return Err(e);
            }
            let w = if w == "to" { self.value(w)? } else { w };
            // `all` and `any` mean every destination, as no selector does.
            if w == "all" || w == "any" {
                continue;
            }
            show.dst = Some(self.route_prefix(w)?);
        }
        Ok(Command::RouteShow(show))
    }
}
