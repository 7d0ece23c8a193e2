//! The path of each frame, for `--explain`: every hop and every drop with
//! its reason, grouped by the frame a host first sent.

/// Which traced frame a copy belongs to (0: not traced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tag(pub(crate) u32);

/// One step of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The frame (1-based, in the order hosts sent them).
    pub frame: u32,
    /// What happened, e.g. "br0: flood to veth11".
    pub text: String,
    /// The frame (this copy) ended here without reaching a host.
    pub dropped: bool,
}

/// The frames of one traced period.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Description of each frame, by number - 1.
    pub frames: Vec<String>,
    /// Every hop in order.
    pub hops: Vec<Hop>,
}

impl Trace {
    pub(crate) fn new_frame(&mut self, desc: String) -> Tag {
        self.frames.push(desc);
        Tag(self.frames.len() as u32)
    }

    pub(crate) fn hop(&mut self, tag: Tag, text: String, dropped: bool) {
        if tag.0 != 0 {
            self.hops.push(Hop {
                frame: tag.0,
                text,
                dropped,
            });
        }
    }

    /// The trace as indented text: each frame, then its hops.
    pub fn render(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, desc) in self.frames.iter().enumerate() {
            let n = i as u32 + 1;
            out.push(format!("frame {n}: {desc}"));
            for h in self.hops.iter().filter(|h| h.frame == n) {
                out.push(format!("  {} {}", if h.dropped { "✗" } else { "→" }, h.text));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_frames_with_their_hops() {
        let mut t = Trace::default();
        let a = t.new_frame("ARP who-has".into());
        let b = t.new_frame("ICMP".into());
        t.hop(a, "veth11 -> br0".into(), false);
        t.hop(b, "eth0: no carrier".into(), true);
        t.hop(Tag(0), "untraced".into(), false);
        assert_eq!(
            t.render(),
            vec![
                "frame 1: ARP who-has",
                "  → veth11 -> br0",
                "frame 2: ICMP",
                "  ✗ eth0: no carrier"
            ]
        );
    }
}
