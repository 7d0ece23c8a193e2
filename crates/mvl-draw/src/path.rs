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
    /// A reply came.
    pub replied: bool,
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
            replied: true,
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
        // The emulator says why only when no reply came.
        p.replied = p.why.is_none();
        Ok(p)
    }
}

/// The bridge `dev` is a port of.
fn master(t: &Topology, dev: &str) -> Option<String> {
    t.namespaces
        .iter()
        .flat_map(|n| &n.devices)
        .find(|d| d.id == dev)
        .and_then(|d| d.master.clone())
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
        // A bridge sending out of a port: the trace names only the port.
        if h.text.ends_with("(veth)") {
            let bridge = master(t, first).filter(|br| {
                let at = |d: &str| seen.iter().rposition(|s| s == d);
                at(br).is_some_and(|b| at(first).is_none_or(|p| p < b))
            });
            if let Some(br) = bridge {
                add(&mut seen, &mut f.edges, &br, first);
            }
        }
        let moves = h.text.ends_with("(veth)") || h.text.contains(": to the wire through the lower ");
        if let (true, Some(to)) = (moves, second) {
            add(&mut seen, &mut f.edges, first, to);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recorder;

    fn ping(text: &str, line: usize) -> PingPaths {
        let lab = mvl_lab::parse(text).expect("the lab parses");
        let mut r = Recorder::new(1);
        mvl_lab::run(&lab, &mut r, mvl_lab::RunOptions::default(), |_| {}).expect("runs");
        r.finish_recording().ping(line).expect("a ping").1
    }

    const TUTORIAL: &str = include_str!("../../../labs/tutorial.sh");

    #[test]
    fn bridge_mode_siblings_meet_in_the_port() {
        // Line 45: ns1 pings ns2, both bridge-mode macvlans on ns3/eth0.
        let p = ping(TUTORIAL, 45);
        assert_eq!(p.why, None);
        let kinds: Vec<FrameKind> = p.frames.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FrameKind::Arp,
                FrameKind::Arp,
                FrameKind::Request,
                FrameKind::Reply
            ]
        );
        let req = &p.frames[2];
        assert_eq!(req.sender.as_deref(), Some("ns1/eth0"));
        assert_eq!(
            req.edges,
            [
                ("ns1/eth0".to_string(), "ns3/eth0".to_string()),
                ("ns3/eth0".to_string(), "ns2/eth0".to_string())
            ]
        );
        assert_eq!(req.reached, ["ns2/eth0"]);
        assert!(req.drops.is_empty());
        // The broadcast ARP request also leaves through the cable, and does
        // not come back to its sender.
        let arp = &p.frames[0];
        assert!(arp.edges.contains(&("ns3/eth0".into(), "root/veth11".into())));
        assert!(!arp.edges.iter().any(|(_, b)| b == "ns1/eth0"));
    }

    #[test]
    fn vepa_dies_at_the_bridge_without_hairpin() {
        // Line 66: vepa sends ns1's request to the switch, which will not
        // send it back out of the port it came in on.
        let p = ping(TUTORIAL, 66);
        assert!(p.why.as_deref().is_some_and(|w| w.contains("hairpin off")));
        let req = &p.frames[0];
        assert_eq!(req.kind, FrameKind::Request);
        assert_eq!(
            req.edges,
            [
                ("ns1/eth0".to_string(), "ns3/eth0".to_string()),
                ("ns3/eth0".to_string(), "root/veth11".to_string()),
                ("root/veth11".to_string(), "root/br0".to_string())
            ]
        );
        assert_eq!(req.drops.len(), 1);
        assert_eq!(req.drops[0].0, "root/br0");
        assert!(req.drops[0].1.contains("hairpin off"));
    }

    #[test]
    fn hairpin_reflection_comes_back_the_same_way() {
        let lab = "ip link add br0 type bridge\nip link add v1 type veth peer v2\nip link set v1 master br0\nbridge link set dev v1 hairpin on\nip link set br0 up\nip link set v1 up\nip link set v2 up\nip link add m1 link v2 type macvlan mode vepa\nip link add m2 link v2 type macvlan mode vepa\nip netns add a\nip netns add b\nip link set m1 netns a\nip link set m2 netns b\nip netns exec a ip addr add 10.0.0.1/24 dev m1\nip netns exec b ip addr add 10.0.0.2/24 dev m2\nip netns exec a ip link set m1 up\nip netns exec b ip link set m2 up\nip netns exec a ping -c 1 -W 1 10.0.0.2\n";
        let p = ping(lab, 18);
        assert_eq!(p.why, None, "{p:?}");
        let req = p
            .frames
            .iter()
            .find(|f| f.kind == FrameKind::Request)
            .expect("an echo request");
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        for want in [
            e("a/m1", "root/v2"),
            e("root/v2", "root/v1"),
            e("root/v1", "root/br0"),
            e("root/v1", "root/v2"),
            e("root/v2", "b/m2"),
        ] {
            assert!(req.edges.contains(&want), "{want:?} in {:?}", req.edges);
        }
        assert_eq!(req.reached, ["b/m2"]);
    }

    #[test]
    fn a_trace_line_out_of_form_is_an_error() {
        let t = Topology::default();
        let bad = PingPaths::parse(3, "ping", &["frame x: y".to_string()], &t);
        assert!(matches!(bad, Err(DrawError::Trace { line: 3, .. })));
        let orphan = PingPaths::parse(3, "ping", &["  → hop before any frame".to_string()], &t);
        assert!(matches!(orphan, Err(DrawError::Trace { .. })));
    }

    #[test]
    fn reads_what_the_emulator_renders() {
        let mut tr = mvl_sim::Trace::default();
        tr.frames.push("root/a sends ARP".into());
        tr.hops.push(mvl_sim::Hop {
            frame: 1,
            text: "root/a: cannot send, the device is down".into(),
            dropped: true,
        });
        let p = PingPaths::parse(1, "ping", &tr.render(), &Topology::default()).expect("parses");
        assert_eq!(p.frames.len(), 1);
        assert_eq!(p.frames[0].desc, "root/a sends ARP");
        assert!(p.frames[0].hops[0].dropped);
    }
}
