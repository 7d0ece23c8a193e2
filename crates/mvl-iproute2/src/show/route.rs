//! A route and a neighbour as `ip route` and `ip neigh` print them: text,
//! `ip -br neigh`'s columns, and JSON (`-j`, `-p`) with iproute2 6.1's
//! field names.

use std::fmt::Write;
use std::net::Ipv4Addr;

use mvl_core::MacAddr;
use serde::Serialize;

use super::json::json_text;
use crate::cmd::{Ipv4Net, ShowForm};

/// A route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    /// The destination (`/0` is `default`).
    pub dst: Ipv4Net,
    /// `via`.
    pub gateway: Option<Ipv4Addr>,
    /// `dev`.
    pub dev: String,
    /// Added by the kernel for an address (`proto kernel`).
    pub kernel: bool,
    /// `src`.
    pub prefsrc: Option<Ipv4Addr>,
    /// `metric` (0 is not shown).
    pub metric: u32,
    /// The device has no carrier.
    pub linkdown: bool,
}

#[derive(Serialize)]
struct JsonRoute<'a> {
    dst: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<String>,
    dev: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefsrc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric: Option<u32>,
    flags: Vec<&'static str>,
}

impl RouteView {
    fn dst_text(&self) -> String {
        match self.dst.prefix_len() {
            0 => "default".to_string(),
            32 => self.dst.addr().to_string(),
            _ => self.dst.to_string(),
        }
    }

    /// A route without a gateway reaches its destination on the link.
    fn scope(&self) -> Option<&'static str> {
        self.gateway.is_none().then_some("link")
    }

    /// Its line of `ip route`.
    pub fn text(&self) -> String {
        let mut out = self.dst_text();
        if let Some(g) = self.gateway {
            let _ = write!(out, " via {g}");
        }
        let _ = write!(out, " dev {}", self.dev);
        if self.kernel {
            out.push_str(" proto kernel");
        }
        if let Some(s) = self.scope() {
            let _ = write!(out, " scope {s}");
        }
        if let Some(s) = self.prefsrc {
            let _ = write!(out, " src {s}");
        }
        if self.metric != 0 {
            let _ = write!(out, " metric {}", self.metric);
        }
        if self.linkdown {
            out.push_str(" linkdown");
        }
        out.push_str(" \n");
        out
    }

    fn json(&self) -> JsonRoute<'_> {
        JsonRoute {
            dst: self.dst_text(),
            gateway: self.gateway.map(|g| g.to_string()),
            dev: &self.dev,
            protocol: self.kernel.then_some("kernel"),
            scope: self.scope(),
            prefsrc: self.prefsrc.map(|s| s.to_string()),
            metric: (self.metric != 0).then_some(self.metric),
            flags: if self.linkdown {
                vec!["linkdown"]
            } else {
                Vec::new()
            },
        }
    }
}

/// `ip route` in the form asked for (`-br` and `-o` change nothing).
pub fn routes_text(routes: &[RouteView], form: ShowForm) -> String {
    if form.json {
        let v: Vec<JsonRoute> = routes.iter().map(RouteView::json).collect();
        return json_text(&v, form.pretty);
    }
    routes.iter().map(RouteView::text).collect()
}

/// A neighbour entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighView {
    /// Its address.
    pub dst: Ipv4Addr,
    /// The device.
    pub dev: String,
    /// Its link-layer address, when the entry holds a valid one.
    pub lladdr: Option<MacAddr>,
    /// `REACHABLE`, `STALE`, `FAILED`...
    pub state: &'static str,
}

#[derive(Serialize)]
struct JsonNeigh<'a> {
    dst: String,
    dev: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    lladdr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<[&'static str; 1]>,
}

/// `ip neigh` in the form asked for: lines, `-br`'s columns (no state),
/// or JSON (`-j`, with `-br` without the state).
pub fn neighs_text(entries: &[NeighView], form: ShowForm) -> String {
    if form.json {
        let v: Vec<JsonNeigh> = entries
            .iter()
            .map(|e| JsonNeigh {
                dst: e.dst.to_string(),
                dev: &e.dev,
                lladdr: e.lladdr.map(|m| m.to_string()),
                state: (!form.brief).then_some([e.state]),
            })
            .collect();
        return json_text(&v, form.pretty);
    }
    let mut out = String::new();
    for e in entries {
        if form.brief {
            let _ = write!(out, "{:<39} {:<16} ", e.dst, e.dev);
            match e.lladdr {
                Some(m) => {
                    let _ = writeln!(out, "{m}");
                }
                None => out.push('\n'),
            }
        } else {
            let ll = e.lladdr.map(|m| format!(" lladdr {m}")).unwrap_or_default();
            let _ = writeln!(out, "{} dev {}{ll} {} ", e.dst, e.dev, e.state);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<NeighView> {
        vec![
            NeighView {
                dst: Ipv4Addr::new(10, 0, 0, 7),
                dev: "va".into(),
                lladdr: Some(MacAddr([2, 0, 0, 0, 0, 7])),
                state: "PERMANENT",
            },
            NeighView {
                dst: Ipv4Addr::new(10, 0, 0, 9),
                dev: "va".into(),
                lladdr: None,
                state: "FAILED",
            },
        ]
    }

    #[test]
    fn neighbours_print_as_iproute2_does() {
        // Captured from iproute2 6.1 on Linux 6.18 for the same entries.
        let text = ShowForm::default();
        assert_eq!(
            neighs_text(&entries(), text),
            "10.0.0.7 dev va lladdr 02:00:00:00:00:07 PERMANENT \n10.0.0.9 dev va FAILED \n"
        );
        let brief = ShowForm { brief: true, ..text };
        assert_eq!(
            neighs_text(&entries(), brief),
            format!(
                "10.0.0.7{}va{}02:00:00:00:00:07\n10.0.0.9{}va{}\n",
                " ".repeat(32),
                " ".repeat(15),
                " ".repeat(32),
                " ".repeat(15)
            )
        );
        let json = ShowForm { json: true, ..text };
        assert_eq!(
            neighs_text(&entries(), json),
            "[{\"dst\":\"10.0.0.7\",\"dev\":\"va\",\"lladdr\":\"02:00:00:00:00:07\",\"state\":[\"PERMANENT\"]},{\"dst\":\"10.0.0.9\",\"dev\":\"va\",\"state\":[\"FAILED\"]}]\n"
        );
        assert_eq!(
            neighs_text(&entries(), ShowForm { brief: true, ..json }),
            "[{\"dst\":\"10.0.0.7\",\"dev\":\"va\",\"lladdr\":\"02:00:00:00:00:07\"},{\"dst\":\"10.0.0.9\",\"dev\":\"va\"}]\n"
        );
    }

    #[test]
    fn routes_print_as_iproute2_does() {
        let r = |dst: &str, gw: Option<[u8; 4]>, kernel, src: Option<[u8; 4]>, metric| RouteView {
            dst: dst.parse().unwrap(),
            gateway: gw.map(Ipv4Addr::from),
            dev: "va".into(),
            kernel,
            prefsrc: src.map(Ipv4Addr::from),
            metric,
            linkdown: false,
        };
        let table = [
            r("0.0.0.0/0", Some([10, 0, 0, 9]), false, None, 5),
            r("10.0.0.0/24", None, true, Some([10, 0, 0, 1]), 0),
            r("10.5.0.0/16", None, false, Some([10, 0, 0, 1]), 0),
        ];
        // Captured from iproute2 6.1 on Linux 6.18 for the same table.
        assert_eq!(
            routes_text(&table, ShowForm::default()),
            "default via 10.0.0.9 dev va metric 5 \n10.0.0.0/24 dev va proto kernel scope link src 10.0.0.1 \n10.5.0.0/16 dev va scope link src 10.0.0.1 \n"
        );
        let json = ShowForm {
            json: true,
            ..ShowForm::default()
        };
        assert_eq!(
            routes_text(&table, json),
            "[{\"dst\":\"default\",\"gateway\":\"10.0.0.9\",\"dev\":\"va\",\"metric\":5,\"flags\":[]},{\"dst\":\"10.0.0.0/24\",\"dev\":\"va\",\"protocol\":\"kernel\",\"scope\":\"link\",\"prefsrc\":\"10.0.0.1\",\"flags\":[]},{\"dst\":\"10.5.0.0/16\",\"dev\":\"va\",\"scope\":\"link\",\"prefsrc\":\"10.0.0.1\",\"flags\":[]}]\n"
        );
    }
}
