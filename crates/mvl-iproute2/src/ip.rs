//! `ip` (iproute2's `ip.c`): its options and its objects.

use crate::cmd::{Command, ShowForm};
use crate::cursor::Cursor;
use crate::error::Error;
use crate::matches;

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
    pub(crate) fn ip(&mut self, netns: Option<String>) -> Result<(Option<String>, Command), Error> {
        let mut netns = netns;
        let mut details = false;
        let mut stats = false;
        let mut ipv4 = false;
        let mut form = ShowForm::default();
        while let Some(w) = self.peek().filter(|w| w.starts_with('-')) {
            self.pos += 1;
            match w {
                "-n" | "-netns" => netns = Some(self.value(w)?.to_string()),
                "-d" | "-details" => details = true,
                "-s" | "-stats" | "-statistics" => stats = true,
                "-4" => ipv4 = true,
                "-br" | "-brief" => form.brief = true,
                "-o" | "-oneline" => form.oneline = true,
                "-j" | "-json" => form.json = true,
                "-p" | "-pretty" => form.pretty = true,
                _ => {
                    return Err(self.err(
                        Some(w),
                        "unsupported ip option (supported: -n, -d, -s, -4, -br, -o, -j, -p)",
                    ))
                }
            }
        }
        let obj = self
            .next()
            .ok_or_else(|| self.err(Some("ip"), "ip needs an object (link, addr, neigh, route, netns)"))?;
        let object = IP_OBJECTS.iter().find(|k| matches(obj, k)).copied();
        match object {
            Some("link") => Ok((netns, self.ip_link(details, stats, form)?)),
            Some("address") => Ok((netns, self.ip_addr(ipv4, form)?)),
            Some("neighbor" | "neighbour") => Ok((netns, self.ip_neigh(form)?)),
            Some("route") => Ok((netns, self.ip_route(form)?)),
            Some("netns") => self.ip_netns(netns),
            _ => Err(self.err(
                Some(obj),
                "unsupported ip object (supported: link, addr, neigh, route, netns)",
            )),
        }
    }
}
