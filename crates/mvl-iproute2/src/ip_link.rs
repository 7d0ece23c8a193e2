//! `ip link` (`iplink.c`): add, set, del, show, with `iplink_parse`'s
//! free word order.

use mvl_core::MacAddr;

use crate::cmd::{Command, LinkAdd, LinkSet, LinkShow, NewKind, ShowForm};
use crate::cursor::Cursor;
use crate::error::Error;
use crate::matches;

/// What `ip link` arguments (`iplink_parse`) collect.
#[derive(Default)]
pub(crate) struct LinkArgs {
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

impl<'a> Cursor<'a> {
    /// `iplink_parse`: the keywords of `ip link add|set`, in iproute2's order.
    pub(crate) fn link_args(&mut self) -> Result<LinkArgs, Error> {
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
                    return Err(self.duparg2("dev", d));
                }
                a.dev = Some(self.ifname(d)?);
            }
        }
        Ok(a)
    }

    pub(crate) fn ip_link(&mut self, details: bool, stats: bool, form: ShowForm) -> Result<Command, Error> {
        let Some(sub) = self.next() else {
            return Ok(Command::LinkShow(LinkShow {
                details,
                stats,
                form,
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
                form,
                ..Default::default()
            };
            while let Some(w) = self.next() {
                if w == "type" {
                    s.kind = Some(self.value(w)?.to_string());
                } else if w == "master" {
                    s.master = Some(self.ifname_value(w)?);
                } else if w == "up" {
                    s.up = true;
                } else {
                    s.dev = Some(self.show_dev(w, &s.dev)?);
                }
            }
            return Ok(Command::LinkShow(s));
        }
        Err(self.err(Some(sub), "unsupported ip link command (add, set, del, show)"))
    }

    pub(crate) fn link_add(&self, a: LinkArgs) -> Result<Command, Error> {
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
        let mut warnings = Vec::new();
        let kind = match kind.as_str() {
            "veth" => {
                let mut c = Cursor {
                    words: &a.kind_args,
                    pos: 0,
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
            "macvlan" => {
                let opts;
                (opts, warnings) = self.macvlan_opts(&a.kind_args)?;
                NewKind::Macvlan {
                    link: a.link.clone(),
                    opts,
                }
            }
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
            warnings,
        }))
    }

    pub(crate) fn link_set(&self, a: LinkArgs) -> Result<Command, Error> {
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
            Some("macvlan") => {
                let (opts, warnings) = self.macvlan_opts(&a.kind_args)?;
                (s.macvlan, s.warnings) = (Some(opts), warnings);
            }
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
            Some(k) => {
                return Err(self.err(
                    Some(k),
                    "ip link set type: only macvlan and bridge options are supported",
                ))
            }
        }
        Ok(Command::LinkSet(s))
    }
}
