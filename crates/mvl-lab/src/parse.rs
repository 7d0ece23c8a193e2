//! From words to typed commands, with iproute2's grammar: free word order,
//! keywords abbreviated the way iproute2's `matches()` allows (any prefix,
//! first match in iproute2's own order wins), a bare word as the device.

use std::net::Ipv4Addr;

use mvl_core::{Flags, MacAddr, MacaddrOp, Mode};
use mvl_iproute2::cmd::{
    AddrShow, Cidr, LinkAdd, LinkSet, LinkShow, MacvlanChange, NeighNud, NeighOp, NeighSet, NewKind, Ping,
};
use mvl_iproute2::Filter;

use crate::ast::{Command, Lab, Line};
use crate::error::ParseError;
use crate::lex::{self, RawLine};

/// `iplink_macvlan.c`'s usage, printed when its options cannot be read.
const MACVLAN_USAGE: &str =
    "Usage: ... macvlan mode MODE [flag MODE_FLAG] MODE_OPTS [bcqueuelen BC_QUEUE_LEN]

MODE: private | vepa | bridge | passthru | source
MODE_FLAG: null | nopromisc | nodst
MODE_OPTS: for mode \"source\":
\tmacaddr { { add | del } <macaddr> | set [ <macaddr> [ <macaddr>  ... ] ] | flush }
BC_QUEUE_LEN: Length of the rx queue for broadcast/multicast: [0-4294967295]";

/// iproute2's `matches(word, keyword)`: `word` is a non-empty prefix of `keyword`.
pub fn matches(word: &str, keyword: &str) -> bool {
    !word.is_empty() && keyword.starts_with(word)
}

/// Parses a whole lab.
pub fn parse(src: &str) -> Result<Lab, ParseError> {
    let mut lab = Lab::default();
    for raw in lex::lines(src)? {
        lab.lines.push(parse_line(raw)?);
    }
    Ok(lab)
}

/// Parses one line of words.
pub fn parse_line(raw: RawLine) -> Result<Line, ParseError> {
    let mut c = Cursor {
        words: &raw.words,
        pos: 0,
        line: raw.number,
    };
    let (netns, command) = match c.command(None) {
        Ok(v) => v,
        Err(e) if e.refused => (None, Command::Refused(e.message)),
        Err(e) => return Err(e),
    };
    if raw.background && !matches!(command, Command::Tcpdump { .. }) {
        return Err(c.err(Some("&"), "only tcpdump may run in the background"));
    }
    sealed(&c, &command)?;
    if let Command::Tcpdump { .. } = command {
        if !raw.background {
            return Err(c.err(
                Some("tcpdump"),
                "tcpdump runs in the background in a lab (end the line with &): in the foreground it would wait forever",
            ));
        }
    }
    Ok(Line {
        number: raw.number,
        text: raw.text,
        words: raw.words.clone(),
        netns,
        command,
        grep: raw.grep,
        expect: raw.expect,
    })
}

/// A lab never leaves its sandbox: its devices move only into its own
/// namespaces, named (iproute2 would take a number as a process id and a
/// path as any namespace of the host), and captures are written only under
/// the lab's folder (relative paths without `..`).
fn sealed(c: &Cursor, command: &Command) -> Result<(), ParseError> {
    let netns: Vec<&str> = match command {
        Command::LinkSet(s) => s.netns.iter().map(String::as_str).collect(),
        Command::LinkAdd(a) => {
            let peer = match &a.kind {
                NewKind::Veth { peer_netns, .. } => peer_netns.as_deref(),
                _ => None,
            };
            a.netns.as_deref().into_iter().chain(peer).collect()
        }
        _ => Vec::new(),
    };
    for ns in netns {
        if ns.bytes().all(|b| b.is_ascii_digit()) || ns.contains('/') {
            return Err(c.err(
                Some(ns),
                "a lab moves devices only into its own namespaces, by name (a number would be a process's namespace, a path any namespace)",
            ));
        }
    }
    if let Command::Tcpdump { write: Some(w), .. } = command {
        let p = std::path::Path::new(w);
        let escapes = p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if escapes || w.is_empty() {
            return Err(c.err(
                Some(w),
                "a capture is written only under the lab's folder: a relative path without \"..\"",
            ));
        }
    }
    Ok(())
}

/// Parses one command given as words (`["ip", "link", "add", ...]`), as
/// if it were line `line` of a lab; returns the namespace it runs in
/// (from `ip -n NS` or `ip netns exec NS`) and the command. Tools that take
/// iproute2's syntax on their own command line use this.
pub fn parse_command(words: &[String], line: usize) -> Result<(Option<String>, Command), ParseError> {
    let mut c = Cursor { words, pos: 0, line };
    c.command(None)
}

struct Cursor<'a> {
    words: &'a [String],
    pos: usize,
    line: usize,
}

/// What `ip link` arguments (`iplink_parse`) collect.
#[derive(Default)]
struct LinkArgs {
    dev: Option<String>,
    name: Option<String>,
    link: Option<String>,
    address: Option<MacAddr>,
    mtu: Option<u32>,
    netns: Option<String>,
    master: Option<Option<String>>,
    up: Option<bool>,
    promisc: Option<bool>,
    allmulti: Option<bool>,
    kind: Option<String>,
    kind_args: Vec<String>,
}

/// `ip` objects in iproute2's table order (abbreviations resolve to the first).
const IP_OBJECTS: &[&str] = &[
    "address",
    "addrlabel",
    "maddress",
    "route",
    "rule",
    "neighbor",
    "neighbour",
    "ntable",
    "link",
    "l2tp",
    "fou",
    "ila",
    "macsec",
    "tunnel",
    "tuntap",
    "tap",
    "token",
    "tcpmetrics",
    "monitor",
    "xfrm",
    "mroute",
    "mrule",
    "netns",
    "netconf",
    "vrf",
    "sr",
    "nexthop",
    "mptcp",
    "ioam",
    "help",
    "stats",
];

impl<'a> Cursor<'a> {
    fn err(&self, word: Option<&str>, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.line, word.map(str::to_string), msg)
    }

    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.pos).map(String::as_str)
    }

    fn next(&mut self) -> Option<&'a str> {
        let w = self.peek();
        if w.is_some() {
            self.pos += 1;
        }
        w
    }

    fn value(&mut self, keyword: &str) -> Result<&'a str, ParseError> {
        self.next()
            .ok_or_else(|| self.err(Some(keyword), format!("\"{keyword}\" needs a value")))
    }

    fn end(&self) -> Result<(), ParseError> {
        match self.peek() {
            Some(w) => Err(self.err(Some(w), "unexpected word")),
            None => Ok(()),
        }
    }

    /// What the tool itself says and refuses (iproute2 6.1's words).
    fn refusal(&self, word: Option<&str>, msg: impl Into<String>) -> ParseError {
        self.err(word, msg).by_the_tool()
    }

    fn number<T: std::str::FromStr>(&mut self, keyword: &str) -> Result<T, ParseError> {
        let v = self.value(keyword)?;
        parse_int::<T>(v).ok_or_else(|| {
            let why = match keyword {
                "bcqueuelen" => format!(
                    "Error: argument of \"bcqueuelen\" must be a positive integer [0-4294967295], not \"{v}\""
                ),
                k => format!("Error: argument \"{v}\" is wrong: Invalid \"{k}\" value"),
            };
            self.refusal(Some(v), why)
        })
    }

    fn on_off(&mut self, keyword: &str) -> Result<bool, ParseError> {
        match self.value(keyword)? {
            "on" => Ok(true),
            "off" => Ok(false),
            w => Err(self.refusal(
                Some(w),
                format!("Error: argument of \"{keyword}\" must be \"on\" or \"off\", not \"{w}\""),
            )),
        }
    }

    fn mac(&mut self, keyword: &str) -> Result<MacAddr, ParseError> {
        let v = self.value(keyword)?;
        v.parse().map_err(|_| {
            // `ll_addr_a2n` names the first part that is not a hex byte.
            let bad = v
                .split(':')
                .find(|b| b.is_empty() || b.len() > 2 || u8::from_str_radix(b, 16).is_err())
                .unwrap_or(v);
            self.refusal(Some(v), format!("\"{bad}\" is invalid lladdr."))
        })
    }

    fn ifname_value(&mut self, keyword: &str) -> Result<String, ParseError> {
        let v = self.value(keyword)?;
        self.ifname(v)
    }

    fn ifname(&self, w: &str) -> Result<String, ParseError> {
        match mvl_iproute2::invalid_ifname(w) {
            Some(why) => Err(self.err(Some(w), format!("not a valid device name: {why}"))),
            None => Ok(w.to_string()),
        }
    }

    /// A whole command; `netns` is the namespace an enclosing `ip netns exec` chose.
    fn command(&mut self, netns: Option<String>) -> Result<(Option<String>, Command), ParseError> {
        let Some(w) = self.next() else {
            return Err(self.err(None, "empty command"));
        };
        match w {
            "ip" => self.ip(netns),
            "bridge" => self.bridge(netns),
            "ping" => Ok((netns, self.ping()?)),
            "tcpdump" => Ok((netns, self.tcpdump()?)),
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
                "unsupported command: a lab line is ip, bridge, ping, tcpdump or sleep",
            )),
        }
    }

    fn ip(&mut self, netns: Option<String>) -> Result<(Option<String>, Command), ParseError> {
        let mut netns = netns;
        let mut details = false;
        let mut stats = false;
        let mut ipv4 = false;
        while let Some(w) = self.peek().filter(|w| w.starts_with('-')) {
            self.pos += 1;
            match w {
                "-n" | "-netns" => netns = Some(self.value(w)?.to_string()),
                "-d" | "-details" => details = true,
                "-s" | "-stats" | "-statistics" => stats = true,
                "-4" => ipv4 = true,
                _ => return Err(self.err(Some(w), "unsupported ip option (supported: -n, -d, -s)")),
            }
        }
        let obj = self
            .next()
            .ok_or_else(|| self.err(Some("ip"), "ip needs an object (link, addr, neigh, netns)"))?;
        let object = IP_OBJECTS.iter().find(|k| matches(obj, k)).copied();
        match object {
            Some("link") => Ok((netns, self.ip_link(details, stats)?)),
            Some("address") => Ok((netns, self.ip_addr(ipv4)?)),
            Some("neighbor" | "neighbour") => Ok((netns, self.ip_neigh()?)),
            Some("netns") => self.ip_netns(netns),
            _ => Err(self.err(
                Some(obj),
                "unsupported ip object (supported: link, addr, neigh, netns)",
            )),
        }
    }

    fn ip_netns(&mut self, netns: Option<String>) -> Result<(Option<String>, Command), ParseError> {
        let Some(sub) = self.next() else {
            return Ok((netns, Command::NetnsList));
        };
        if ["list", "show", "lst"].iter().any(|k| matches(sub, k)) {
            self.end()?;
            return Ok((netns, Command::NetnsList));
        }
        if matches(sub, "add") {
            let n = self.value("add")?.to_string();
            self.end()?;
            return Ok((netns, Command::NetnsAdd(n)));
        }
        if matches(sub, "delete") {
            let n = self.value("delete")?.to_string();
            self.end()?;
            return Ok((netns, Command::NetnsDel(n)));
        }
        if matches(sub, "exec") {
            let n = self.value("exec")?.to_string();
            return self.command(Some(n));
        }
        Err(self.err(Some(sub), "unsupported ip netns command (add, del, list, exec)"))
    }

    /// `iplink_parse`: the keywords of `ip link add|set`, in iproute2's order.
    fn link_args(&mut self) -> Result<LinkArgs, ParseError> {
        let mut a = LinkArgs::default();
        while let Some(w) = self.next() {
            if w == "up" {
                a.up = Some(true);
            } else if w == "down" {
                a.up = Some(false);
            } else if w == "name" {
                a.name = Some(self.ifname_value(w)?);
            } else if w == "index" {
                return Err(self.err(Some(w), "\"index\" is not supported"));
            } else if matches(w, "link") {
                a.link = Some(self.value(w)?.to_string());
            } else if matches(w, "address") {
                a.address = Some(self.mac(w)?);
            } else if matches(w, "broadcast")
                || w == "brd"
                || matches(w, "txqueuelen")
                || w == "qlen"
                || matches(w, "txqlen")
            {
                return Err(self.err(Some(w), "not supported"));
            } else if w == "mtu" {
                a.mtu = Some(self.number(w)?);
            } else if w == "netns" {
                a.netns = Some(self.value(w)?.to_string());
            } else if w == "allmulticast" {
                a.allmulti = Some(self.on_off(w)?);
            } else if w == "promisc" {
                a.promisc = Some(self.on_off(w)?);
            } else if ["multicast", "trailers", "arp", "carrier", "vf", "vrf"].contains(&w) {
                return Err(self.err(Some(w), "not supported"));
            } else if matches(w, "master") {
                a.master = Some(Some(self.value(w)?.to_string()));
            } else if matches(w, "nomaster") {
                a.master = Some(None);
            } else if matches(w, "dynamic") {
                return Err(self.err(Some(w), "not supported"));
            } else if matches(w, "type") {
                a.kind = Some(self.value(w)?.to_string());
                a.kind_args = self.words[self.pos..].to_vec();
                self.pos = self.words.len();
            } else if matches(w, "alias") || ["group", "mode", "state", "protodown"].contains(&w) {
                return Err(self.err(Some(w), "not supported"));
            } else {
                let d = if w == "dev" { self.value(w)? } else { w };
                if a.dev.is_some() {
                    return Err(self.refusal(
                        Some(d),
                        format!("Error: either \"dev\" is duplicate, or \"{d}\" is a garbage."),
                    ));
                }
                a.dev = Some(self.ifname(d)?);
            }
        }
        Ok(a)
    }

    fn ip_link(&mut self, details: bool, stats: bool) -> Result<Command, ParseError> {
        let Some(sub) = self.next() else {
            return Ok(Command::LinkShow(LinkShow {
                details,
                stats,
                ..Default::default()
            }));
        };
        if matches(sub, "add") {
            let a = self.link_args()?;
            return self.link_add(a);
        }
        if matches(sub, "set") || matches(sub, "change") {
            let a = self.link_args()?;
            return self.link_set(a);
        }
        if matches(sub, "delete") {
            let a = self.link_args()?;
            let dev = a.dev.or(a.name).ok_or_else(|| {
                self.refusal(Some(sub), "Not enough information: \"dev\" argument is required.")
            })?;
            return Ok(Command::LinkDel(dev));
        }
        if ["show", "lst", "list"].iter().any(|k| matches(sub, k)) {
            let mut s = LinkShow {
                details,
                stats,
                ..Default::default()
            };
            while let Some(w) = self.next() {
                if w == "type" {
                    s.kind = Some(self.value(w)?.to_string());
                } else if w == "up" {
                    s.up = true;
                } else {
                    let d = if w == "dev" { self.value(w)? } else { w };
                    if s.dev.is_some() {
                        return Err(self.refusal(
                            Some(d),
                            format!("Error: either \"dev\" is duplicate, or \"{d}\" is a garbage."),
                        ));
                    }
                    s.dev = Some(self.ifname(d)?);
                }
            }
            return Ok(Command::LinkShow(s));
        }
        Err(self.err(Some(sub), "unsupported ip link command (add, set, del, show)"))
    }

    fn link_add(&self, a: LinkArgs) -> Result<Command, ParseError> {
        let kind = a
            .kind
            .clone()
            .ok_or_else(|| self.refusal(None, "Not enough information: \"type\" argument is required"))?;
        if a.master.is_some() || a.up.is_some() || a.promisc.is_some() || a.allmulti.is_some() {
            return Err(self.err(
                None,
                "ip link add with master/up/promisc is not supported: use ip link set",
            ));
        }
        let name = a.name.clone().or(a.dev.clone());
        let kind = match kind.as_str() {
            "veth" => {
                let mut c = Cursor {
                    words: &a.kind_args,
                    pos: 0,
                    line: self.line,
                };
                match c.next() {
                    None => NewKind::Veth {
                        peer: None,
                        peer_address: None,
                        peer_mtu: None,
                        peer_netns: None,
                    },
                    Some("peer") => {
                        let p = c.link_args()?;
                        if p.kind.is_some() || p.link.is_some() || p.master.is_some() || p.up.is_some() {
                            return Err(
                                self.err(Some("peer"), "a veth peer takes name, address, mtu and netns")
                            );
                        }
                        NewKind::Veth {
                            peer: p.name.or(p.dev),
                            peer_address: p.address,
                            peer_mtu: p.mtu,
                            peer_netns: p.netns,
                        }
                    }
                    Some(w) => return Err(self.err(Some(w), "veth takes \"peer [name] NAME\"")),
                }
            }
            "bridge" => {
                if let Some(w) = a.kind_args.first() {
                    return Err(self.err(Some(w), "bridge options are not supported when adding"));
                }
                NewKind::Bridge
            }
            "macvlan" => NewKind::Macvlan {
                link: a.link.clone(),
                opts: self.macvlan_opts(&a.kind_args)?,
            },
            k => {
                return Err(self.err(
                    Some(k),
                    "unsupported link type (supported: veth, bridge, macvlan)",
                ))
            }
        };
        if a.link.is_some() && !matches!(kind, NewKind::Macvlan { .. }) {
            return Err(self.err(Some("link"), "only a macvlan takes \"link\""));
        }
        Ok(Command::LinkAdd(LinkAdd {
            name,
            address: a.address,
            mtu: a.mtu,
            netns: a.netns,
            kind,
        }))
    }

    fn link_set(&self, a: LinkArgs) -> Result<Command, ParseError> {
        let dev = a
            .dev
            .clone()
            .ok_or_else(|| self.refusal(None, "Not enough information: \"dev\" argument is required."))?;
        if a.link.is_some() {
            return Err(self.err(Some("link"), "\"link\" cannot be changed"));
        }
        let mut s = LinkSet {
            dev,
            up: a.up,
            master: a.master.clone(),
            netns: a.netns.clone(),
            name: a.name.clone(),
            address: a.address,
            mtu: a.mtu,
            promisc: a.promisc,
            allmulti: a.allmulti,
            ..Default::default()
        };
        match a.kind.as_deref() {
            None => {}
            Some("macvlan") => s.macvlan = Some(self.macvlan_opts(&a.kind_args)?),
            Some("bridge") => match a.kind_args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["fdb_flush"] => s.fdb_flush = true,
                [] => {}
                [w, ..] => {
                    return Err(self.err(
                        Some(w),
                        "of the bridge options only \"type bridge fdb_flush\" is supported",
                    ))
                }
            },
            Some(k) => return Err(self.err(Some(k), "ip link set type takes macvlan or bridge in a lab")),
        }
        Ok(Command::LinkSet(s))
    }

    /// `macvlan_parse_opt` from iproute2's `ip/iplink_macvlan.c`.
    fn macvlan_opts(&self, words: &[String]) -> Result<MacvlanChange, ParseError> {
        let mut c = Cursor {
            words,
            pos: 0,
            line: self.line,
        };
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

    fn ip_addr(&mut self, ipv4: bool) -> Result<Command, ParseError> {
        let Some(sub) = self.next() else {
            return Ok(Command::AddrShow(AddrShow {
                ipv4,
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
                    if w.contains(':') {
                        return Err(self.err(Some(w), "IPv6 addresses are not supported"));
                    }
                    cidr = Some(w.parse::<Cidr>().map_err(|_| {
                        self.refusal(
                            Some(w),
                            format!("Error: any valid prefix is expected rather than \"{w}\"."),
                        )
                    })?);
                } else {
                    return Err(self.refusal(
                        Some(w),
                        format!("Error: either \"local\" is duplicate, or \"{w}\" is a garbage."),
                    ));
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
                ..Default::default()
            };
            while let Some(w) = self.next() {
                if w == "up" {
                    a.up = true;
                    continue;
                }
                let d = if w == "dev" { self.value(w)? } else { w };
                if a.dev.is_some() {
                    return Err(self.refusal(
                        Some(d),
                        format!("Error: either \"dev\" is duplicate, or \"{d}\" is a garbage."),
                    ));
                }
                a.dev = Some(self.ifname(d)?);
            }
            return Ok(Command::AddrShow(a));
        }
        Err(self.err(Some(sub), "unsupported ip addr command (add, del, show)"))
    }

    fn ip_neigh(&mut self) -> Result<Command, ParseError> {
        let Some(sub) = self.next() else {
            return Ok(Command::NeighShow);
        };
        if ["show", "list", "lst"].iter().any(|k| matches(sub, k)) {
            self.end()?;
            return Ok(Command::NeighShow);
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
    fn neigh_modify(&mut self, op: Option<NeighOp>) -> Result<Command, ParseError> {
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
                    return Err(self.refusal(
                        Some(a),
                        format!("Error: either \"to\" is duplicate, or \"{a}\" is a garbage."),
                    ));
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

    fn bridge(&mut self, netns: Option<String>) -> Result<(Option<String>, Command), ParseError> {
        let mut netns = netns;
        while let Some(w) = self.peek().filter(|w| w.starts_with('-')) {
            self.pos += 1;
            match w {
                "-n" | "-netns" => netns = Some(self.value(w)?.to_string()),
                "-d" | "-details" => {}
                _ => return Err(self.err(Some(w), "unsupported bridge option (supported: -n)")),
            }
        }
        let obj = self
            .next()
            .ok_or_else(|| self.err(Some("bridge"), "bridge needs an object (link, fdb)"))?;
        if matches(obj, "link") {
            let sub = self.next();
            match sub {
                None => return Ok((netns, Command::BridgeLinkShow)),
                Some(s) if ["show", "list", "lst"].iter().any(|k| matches(s, k)) => {
                    self.end()?;
                    return Ok((netns, Command::BridgeLinkShow));
                }
                Some(s) if matches(s, "set") || matches(s, "change") => {
                    let mut dev = None;
                    let mut hairpin = None;
                    while let Some(w) = self.next() {
                        match w {
                            "dev" => dev = Some(self.ifname_value(w)?),
                            "hairpin" => hairpin = Some(self.on_off(w)?),
                            _ => {
                                return Err(
                                    self.err(Some(w), "bridge link set takes dev and hairpin in a lab")
                                )
                            }
                        }
                    }
                    let dev = dev.ok_or_else(|| self.err(Some(s), "\"dev\" argument is required"))?;
                    let on =
                        hairpin.ok_or_else(|| self.err(Some(s), "nothing to set: add \"hairpin on|off\""))?;
                    return Ok((netns, Command::BridgeHairpin { dev, on }));
                }
                Some(s) => return Err(self.err(Some(s), "unsupported bridge link command (set, show)")),
            }
        }
        if matches(obj, "fdb") {
            match self.next() {
                None => return Ok((netns, Command::BridgeFdbShow)),
                Some(s) if ["show", "list", "lst"].iter().any(|k| matches(s, k)) => {
                    self.end()?;
                    return Ok((netns, Command::BridgeFdbShow));
                }
                Some(s) => return Err(self.err(Some(s), "unsupported bridge fdb command (show)")),
            }
        }
        Err(self.err(Some(obj), "unsupported bridge object (link, fdb)"))
    }

    fn ping(&mut self) -> Result<Command, ParseError> {
        let mut p = Ping {
            addr: Ipv4Addr::UNSPECIFIED,
            count: 0,
            wait: None,
            interval: 1.0,
            iface: None,
            source: None,
            broadcast: false,
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
                let arg = |c: &mut Self| -> Result<&'a str, ParseError> {
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
                        p.count = parse_int(v)
                            .filter(|&n: &u32| n > 0)
                            .ok_or_else(|| self.err(Some(v), "bad -c count"))?;
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
                            format!("unsupported ping option -{o} (supported: -c -W -i -I -n -q -b)"),
                        ))
                    }
                }
                break;
            }
        }
        p.addr = addr.ok_or_else(|| self.err(Some("ping"), "ping needs a destination"))?;
        if p.count == 0 {
            return Err(self.err(
                Some("ping"),
                "ping needs -c N in a lab: without it, ping never ends",
            ));
        }
        Ok(Command::Ping { ping: p, quiet })
    }

    fn tcpdump(&mut self) -> Result<Command, ParseError> {
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

/// An integer as iproute2's `get_u32`/`get_s32` read it: decimal, `0x` hex, `0` octal.
fn parse_int<T: std::str::FromStr>(v: &str) -> Option<T> {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let n: i128 = if let Some(h) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    let n = if neg { -n } else { n };
    n.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Res;

    fn one(src: &str) -> Line {
        let lab = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(lab.lines.len(), 1);
        lab.lines.into_iter().next().unwrap()
    }

    fn err(src: &str) -> ParseError {
        parse(src).expect_err(src)
    }

    /// The tool's own refusal of a line that the lab still runs.
    fn refused(src: &str) -> String {
        match one(src).command {
            Command::Refused(m) => m,
            c => panic!("{src}: {c:?}"),
        }
    }

    #[test]
    fn tutorial_forms() {
        let l = one("ip link add name veth11 type veth  peer veth12");
        assert_eq!(
            l.command,
            Command::LinkAdd(LinkAdd {
                name: Some("veth11".into()),
                address: None,
                mtu: None,
                netns: None,
                kind: NewKind::Veth {
                    peer: Some("veth12".into()),
                    peer_address: None,
                    peer_mtu: None,
                    peer_netns: None
                },
            })
        );
        let l = one("ip link add veth12.1 link veth12 type macvlan mode bridge");
        match l.command {
            Command::LinkAdd(a) => {
                assert_eq!(a.name.as_deref(), Some("veth12.1"));
                assert_eq!(
                    a.kind,
                    NewKind::Macvlan {
                        link: Some("veth12".into()),
                        opts: MacvlanChange {
                            mode: Some(Mode::Bridge),
                            ..Default::default()
                        }
                    }
                );
            }
            c => panic!("{c:?}"),
        }
        let l = one("ip link set netns ns1 veth12.1");
        assert_eq!(
            l.command,
            Command::LinkSet(LinkSet {
                dev: "veth12.1".into(),
                netns: Some("ns1".into()),
                ..Default::default()
            })
        );
        let l = one("ip netns exec ns1 ip link set veth12.1 name eth0");
        assert_eq!(l.netns.as_deref(), Some("ns1"));
        assert_eq!(
            l.command,
            Command::LinkSet(LinkSet {
                dev: "veth12.1".into(),
                name: Some("eth0".into()),
                ..Default::default()
            })
        );
        let l = one("ip netns exec ns1 ip addr add  192.168.0.11/24 dev eth0");
        assert_eq!(
            l.command,
            Command::AddrAdd("192.168.0.11/24".parse().unwrap(), "eth0".into())
        );
        let l = one("ip netns exec ns1 ping -c 1 192.168.0.1 # expect: ok");
        assert!(l.command.is_ping());
        assert_eq!(l.expect, Some(Res::Ok));
        let l = one("ip netns exec ns1 ip link | grep ether");
        assert!(matches!(l.command, Command::LinkShow(_)));
        assert!(l.grep.is_some());
        assert_eq!(one("bridge fdb").command, Command::BridgeFdbShow);
        assert_eq!(
            one("tcpdump -i veth11 icmp &").command,
            Command::Tcpdump {
                dev: "veth11".into(),
                filter: Filter::Icmp,
                count: None,
                write: None,
                link: false
            }
        );
        let l = one("ip netns exec ns3 ip link add eth0.11 link eth0 type macvlan mode source  macaddr add  36:50:43:11:71:c0");
        match l.command {
            Command::LinkAdd(a) => assert_eq!(
                a.kind,
                NewKind::Macvlan {
                    link: Some("eth0".into()),
                    opts: MacvlanChange {
                        mode: Some(Mode::Source),
                        macaddr: Some(MacaddrOp::Add("36:50:43:11:71:c0".parse().unwrap())),
                        ..Default::default()
                    },
                }
            ),
            c => panic!("{c:?}"),
        }
        assert_eq!(
            one("ip netns exec ns1 ip link set eth0 type macvlan mode vepa").command,
            Command::LinkSet(LinkSet {
                dev: "eth0".into(),
                macvlan: Some(MacvlanChange {
                    mode: Some(Mode::Vepa),
                    ..Default::default()
                }),
                ..Default::default()
            })
        );
    }

    #[test]
    fn iproute2_abbreviations_and_word_order() {
        assert!(matches!(one("ip l").command, Command::LinkShow(_)));
        assert!(matches!(
            one("ip a").command,
            Command::AddrShow(AddrShow { dev: None, .. })
        ));
        assert_eq!(
            one("ip -4 addr show up").command,
            Command::AddrShow(AddrShow {
                dev: None,
                up: true,
                ipv4: true
            })
        );
        assert!(matches!(
            one("ip link show up").command,
            Command::LinkShow(LinkShow {
                up: true,
                dev: None,
                ..
            })
        ));
        assert_eq!(one("ip n").command, Command::NeighShow);
        assert!(matches!(
            one("ip -d l sh dev eth0").command,
            Command::LinkShow(LinkShow { details: true, .. })
        ));
        let l = one("ip l s dev eth0 up mtu 1400 address 02:00:00:00:00:01 master br0");
        assert_eq!(
            l.command,
            Command::LinkSet(LinkSet {
                dev: "eth0".into(),
                up: Some(true),
                mtu: Some(1400),
                address: Some("02:00:00:00:00:01".parse().unwrap()),
                master: Some(Some("br0".into())),
                ..Default::default()
            })
        );
        // "a" means "address" to iproute2, as on the real command line.
        assert_eq!(refused("ip link add a type veth"), "\"type\" is invalid lladdr.");
        assert_eq!(one("ip -n ns1 link del dev eth0").netns.as_deref(), Some("ns1"));
        let l = one("ip link add link eth0 mv0 type macvlan mode source nodst macaddr set 02:00:00:00:00:01 02:00:00:00:00:02 bcqueuelen 0x10 bclim -1");
        match l.command {
            Command::LinkAdd(a) => assert_eq!(
                a.kind,
                NewKind::Macvlan {
                    link: Some("eth0".into()),
                    opts: MacvlanChange {
                        mode: Some(Mode::Source),
                        flags: Some(Flags::NODST),
                        macaddr: Some(MacaddrOp::Set(vec![
                            "02:00:00:00:00:01".parse().unwrap(),
                            "02:00:00:00:00:02".parse().unwrap()
                        ])),
                        bc_queue_len: Some(16),
                        bc_cutoff: Some(-1),
                    },
                }
            ),
            c => panic!("{c:?}"),
        }
        assert_eq!(
            one("bridge -n sw link set dev veth11 hairpin on").command,
            Command::BridgeHairpin {
                dev: "veth11".into(),
                on: true
            }
        );
        assert_eq!(one("ip neigh flush all").command, Command::NeighFlush(None));
        let set = |op, lladdr: Option<&str>, nud| {
            Command::NeighSet(NeighSet {
                op,
                addr: Ipv4Addr::new(10, 0, 0, 2),
                lladdr: lladdr.map(|m| m.parse().unwrap()),
                dev: "eth0".into(),
                nud,
            })
        };
        let ll = Some("02:00:00:00:00:02");
        assert_eq!(
            one("ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0").command,
            set(NeighOp::Add, ll, NeighNud::Permanent)
        );
        assert_eq!(
            one("ip n a dev eth0 to 10.0.0.2 nud reachable l 02:00:00:00:00:02").command,
            set(NeighOp::Add, ll, NeighNud::Reachable)
        );
        assert_eq!(
            one("ip neigh chg 10.0.0.2 dev eth0 nud stale").command,
            set(NeighOp::Change, None, NeighNud::Stale)
        );
        assert_eq!(
            one("ip neigh repl 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0").command,
            set(NeighOp::Replace, ll, NeighNud::Permanent)
        );
        assert_eq!(
            one("ip neigh d 10.0.0.2 dev eth0").command,
            Command::NeighDel {
                addr: Ipv4Addr::new(10, 0, 0, 2),
                dev: "eth0".into()
            }
        );
        let l = one("ping -c3 -W 0.5 -I eth0 -nq 10.0.0.1");
        match l.command {
            Command::Ping { ping, quiet } => {
                assert_eq!(
                    (ping.count, ping.wait, ping.iface.as_deref(), quiet),
                    (3, Some(0.5), Some("eth0"), true)
                );
            }
            c => panic!("{c:?}"),
        }
        assert_eq!(one("sleep 1.5").command, Command::Sleep(1.5));
        assert_eq!(one("ip netns").command, Command::NetnsList);
        assert_eq!(
            one("ip link set br0 type bridge fdb_flush").command,
            Command::LinkSet(LinkSet {
                dev: "br0".into(),
                fdb_flush: true,
                ..Default::default()
            })
        );
    }

    #[test]
    fn errors_name_the_line_and_the_word() {
        let cases = [
            ("ip route add default via 1.1.1.1", "route"),
            ("ip link add x type vxlan", "vxlan"),
            ("ping 10.0.0.1", "ping"),
            ("ping -c 1 example.org", "example.org"),
            ("tcpdump -i eth0", "tcpdump"),
            ("tcpdump -i eth0 tcp port 80 &", "tcp"),
            ("ls -l", "ls"),
            (
                "ip link add thisnameiswaytoolong type bridge",
                "thisnameiswaytoolong",
            ),
            ("sleep -1", "-1"),
        ];
        for (src, word) in cases {
            let e = err(&format!("# comment\n{src}"));
            assert_eq!(e.line, 2, "{src}");
            assert_eq!(e.word.as_deref(), Some(word), "{src}: {e}");
        }
        // What ip itself refuses is a line that fails with ip's words.
        for (src, says) in [
            (
                "ip link add mv0 link eth0 type macvlan mode bridg",
                "Error: argument of \"mode\" must be \"private\", \"vepa\", \"bridge\", \"passthru\" or \"source\", not \"bridg\"",
            ),
            (
                "ip link add mv0 link eth0 type macvlan nopromisc",
                "macvlan: nopromisc flag only valid in passthru mode\nUsage: ...",
            ),
            ("ip link add mv0 link eth0 type macvlan frobnicate", "macvlan: unknown option \"frobnicate\"?\n"),
            (
                "ip addr add 10.0.0.1/33 dev eth0",
                "Error: any valid prefix is expected rather than \"10.0.0.1/33\".",
            ),
            ("ip link set eth0 mtu lots", "Error: argument \"lots\" is wrong: Invalid \"mtu\" value"),
            ("ip link show eth0 eth1", "Error: either \"dev\" is duplicate, or \"eth1\" is a garbage."),
            ("ip neigh add 10.0.0.1 lladdr zz dev eth0", "\"zz\" is invalid lladdr."),
            ("ip link add br0", "Not enough information: \"type\" argument is required"),
            (
                "ip neigh add 10.0.0.1 10.0.0.2 dev eth0",
                "Error: either \"to\" is duplicate, or \"10.0.0.2\" is a garbage.",
            ),
        ] {
            assert!(refused(&format!("# comment\n{src}")).starts_with(says), "{src}");
        }
        for (src, word) in [
            (
                "ip neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud noarp",
                "noarp",
            ),
            (
                "ip neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud bogus",
                "bogus",
            ),
            ("ip neigh add fe80::1 dev eth0", "fe80::1"),
            ("ip neigh add proxy 10.0.0.1 dev eth0", "proxy"),
            ("ip neigh get 10.0.0.1 dev eth0", "get"),
        ] {
            assert_eq!(err(src).word.as_deref(), Some(word), "{src}");
        }
        assert!(err("ip neigh add 10.0.0.1 lladdr 02:00:00:00:00:01")
            .message
            .contains("Device and destination are required"));
        assert_eq!(
            refused("ip link set mtu 1400"),
            "Not enough information: \"dev\" argument is required."
        );
        // A lab never leaves its sandbox.
        for (src, word) in [
            ("ip link set v0 netns 1", "1"),
            ("ip link set v0 netns /proc/1/ns/net", "/proc/1/ns/net"),
            ("ip link add v0 netns 42 type veth peer v1", "42"),
            (
                "ip link add v0 type veth peer v1 netns /run/netns/x",
                "/run/netns/x",
            ),
            ("tcpdump -i v0 -w /etc/x.pcap &", "/etc/x.pcap"),
            ("tcpdump -i v0 -w ../x.pcap &", "../x.pcap"),
            ("tcpdump -i v0 -w a/../../x.pcap &", "a/../../x.pcap"),
        ] {
            assert_eq!(err(src).word.as_deref(), Some(word), "{src}");
        }
        assert!(matches!(
            one("tcpdump -i v0 -w caps/x.pcap &").command,
            Command::Tcpdump { .. }
        ));
    }

    #[test]
    fn integers_as_iproute2_reads_them() {
        assert_eq!(parse_int::<u32>("0x10"), Some(16));
        assert_eq!(parse_int::<u32>("010"), Some(8));
        assert_eq!(parse_int::<i32>("-1"), Some(-1));
        assert_eq!(parse_int::<u32>("-1"), None);
        assert_eq!(parse_int::<u32>("4294967296"), None);
    }
}
