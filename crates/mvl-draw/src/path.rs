//! A ping's frames on the topology, read from the trace `--explain` prints.
//!
//! The trace names devices as `namespace/name`; each hop is tied to the
//! devices it names. A frame's edges follow the topology: a device the frame
//! reached is joined to the latest device before it that it is linked to
//! (its veth peer, its bridge, its lower), so a flood fans out from the
//! bridge rather than running from one port to the next.

use serde::Serialize;

use crate::model::Topology;
use crate::DrawError;

/// What a frame carries, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameKind {
    /// ARP request or reply.
    Arp,
    /// ICMP echo request.
    Request,
    /// ICMP echo reply.
    Reply,
    /// Anything else (e.g. a neighbour entry that failed).
    Other,
}

impl FrameKind {
    fn of(desc: &str) -> FrameKind {
        if desc.contains("ARP") {
            FrameKind::Arp
        } else if desc.contains("echo request") {
            FrameKind::Request
        } else if desc.contains("echo reply") {
            FrameKind::Reply
        } else {
            FrameKind::Other
        }
    }

    /// The word used in legends and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FrameKind::Arp => "arp",
            FrameKind::Request => "request",
            FrameKind::Reply => "reply",
            FrameKind::Other => "other",
        }
    }
}

/// One hop of a frame, as the trace tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The trace's text.
    pub text: String,
    /// This copy ended here.
    pub dropped: bool,
    /// The devices it names, in order.
    pub devices: Vec<String>,
}

/// One frame a host sent, and where its copies went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// 1-based, in the order hosts sent them.
    pub number: u32,
    /// What it is, e.g. `ns1/eth0 sends ARP, Request who-has ...`.
    pub desc: String,
    /// Its kind.
    pub kind: FrameKind,
    /// The device that sent it.
    pub sender: Option<String>,
    /// Every hop.
    pub hops: Vec<Hop>,
    /// Device to device steps, in order.
    pub edges: Vec<(String, String)>,
    /// Where a copy died, and why.
    pub drops: Vec<(String, String)>,
    /// Devices where a copy ended without being dropped (it was taken in).
    pub reached: Vec<String>,
}

/// Every frame of one ping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PingPaths {
    /// The lab line of the ping.
    pub line: usize,
    /// Its command.
    pub command: String,
    /// Why no reply came, for a failed ping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The frames.
    pub frames: Vec<Frame>,
}

impl PingPaths {
    /// Reads the trace of the ping on `line` against the topology it ran on.
    pub fn parse(line: usize, command: &str, trace: &[String], t: &Topology) -> Result<PingPaths, DrawError> {
        let index = t.index();
        let names = |text: &str| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for word in text.split_whitespace() {
                let w = word.trim_start_matches('(').trim_end_matches([':', ',', ')']);
                if w.contains('/') && index.contains_key(w) && out.last().is_none_or(|l| l != w) {
                    out.push(w.to_string());
                }
            }
            out
        };
        let bad = |text: &str| DrawError::Trace {
            line,
            text: text.to_string(),
        };
        let mut p = PingPaths {
            line,
            command: command.to_string(),
            why: None,
            frames: Vec::new(),
        };
        for l in trace {
            if let Some(why) = l.strip_prefix("why no reply: ") {
                p.why = Some(why.to_string());
            } else if let Some(rest) = l.strip_prefix("frame ") {
                let (n, desc) = rest.split_once(": ").ok_or_else(|| bad(l))?;
                let number: u32 = n.parse().map_err(|_| bad(l))?;
                let sender = desc
                    .split_once(" sends ")
                    .map(|(s, _)| s)
                    .filter(|s| index.contains_key(s))
                    .map(str::to_string);
                p.frames.push(Frame {
                    number,
                    desc: desc.to_string(),
                    kind: FrameKind::of(desc),
                    sender,
                    hops: Vec::new(),
                    edges: Vec::new(),
                    drops: Vec::new(),
                    reached: Vec::new(),
                });
            } else {
                let (dropped, text) = if let Some(t) = l.strip_prefix("  → ") {
                    (false, t)
                } else if let Some(t) = l.strip_prefix("  ✗ ") {
                    (true, t)
                } else {
                    return Err(bad(l));
                };
                let f = p.frames.last_mut().ok_or_else(|| bad(l))?;
                f.hops.push(Hop {
                    text: text.to_string(),
                    dropped,
                    devices: names(text),
                });
            }
        }
        for f in &mut p.frames {
            walk(f, t);
        }
        Ok(p)
    }
}

/// Fills a frame's edges, drops and ends from its hops. Three kinds of
/// hop move a frame between devices: a veth crossing (`A → B (veth)`), a
/// macvlan handing it to its lower (`X: to the wire through the lower L`)
/// and a port handing a copy to a macvlan (`X receives it`). Any other hop
/// happens at the first device it names; a device the frame has not been at
/// before is entered from the latest device it was at that is linked to it
/// (a bridge from its port).
fn walk(f: &mut Frame, t: &Topology) {
    let mut seen: Vec<String> = f.sender.iter().cloned().collect();
    let add = |seen: &mut Vec<String>, edges: &mut Vec<(String, String)>, a: &str, b: &str| {
        let e = (a.to_string(), b.to_string());
        if !edges.contains(&e) {
            edges.push(e);
        }
        seen.push(b.to_string());
    };
    for h in &f.hops {
        // "not to X: why" names a copy that was never made: X is not on the path.
        if let Some(rest) = h.text.strip_prefix("not to ") {
            if let (Some(dev), Some((_, why))) = (h.devices.first(), rest.split_once(": ")) {
                f.drops.push((dev.clone(), format!("not delivered: {why}")));
            }
            continue;
        }
        let Some(first) = h.devices.first() else {
            continue;
        };
        let second = h.devices.get(1);
        if h.text.ends_with("(veth)") && second.is_some() {
            add(&mut seen, &mut f.edges, first, second.expect("checked"));
        } else if h.text.contains(": to the wire through the lower ") && second.is_some() {
            add(&mut seen, &mut f.edges, first, second.expect("checked"));
        } else if h.text.contains(" receives it") {
            let lower = t
                .links
                .iter()
                .find(|l| l.kind == crate::model::LinkKind::Macvlan && &l.from == first)
                .map(|l| l.to.clone());
            match lower {
                Some(l) => add(&mut seen, &mut f.edges, &l, first),
                None => seen.push(first.clone()),
            }
        } else if !seen.contains(first) {
            match seen.iter().rev().find(|p| t.linked(p, first)).cloned() {
                Some(from) => add(&mut seen, &mut f.edges, &from, first),
                None => seen.push(first.clone()),
            }
        }
        if h.dropped {
            f.drops.push((first.clone(), h.text.clone()));
        }
    }
    let mut reached: Vec<String> = Vec::new();
    for d in &seen {
        let left = f.edges.iter().any(|(a, _)| a == d);
        let dropped_here = f
            .drops
            .iter()
            .any(|(x, w)| x == d && !w.starts_with("not delivered"));
        if !left && !dropped_here && Some(d) != f.sender.as_ref() && !reached.contains(d) {
            reached.push(d.clone());
        }
    }
    f.reached = reached;
}
