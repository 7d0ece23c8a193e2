//! The emulator's state after lab lines, kept while `mvl_lab::run` drives
//! the emulator backend.

use mvl_lab::{Backend, LabError, Line, Outcome, Res, SimBackend};

use crate::model::Topology;
use crate::path::PingPaths;
use crate::DrawError;

/// What the emulator held after one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The lab line (0: before the first line).
    pub line: usize,
    /// Its command as written.
    pub command: String,
    /// Whether it is a ping.
    pub ping: bool,
    /// The topology after it.
    pub topology: Topology,
    /// A ping's trace, as `--explain` prints it.
    pub trace: Vec<String>,
    /// The command succeeded (a ping got a reply).
    pub ok: bool,
    /// Its error, or a ping's statistics.
    pub message: Option<String>,
}

/// A lab backend that runs every line on the emulator, with every ping
/// explained, and keeps the state after each line (or after one).
pub struct Recorder {
    sim: SimBackend,
    /// `None`: keep every state; `Some(n)`: only the state after line `n`.
    keep: Option<usize>,
    lines: Vec<(usize, String, bool)>,
    states: Vec<State>,
    /// The last line's outcome: trace, success, message.
    last: (Vec<String>, bool, Option<String>),
}

impl Recorder {
    /// Keeps the state after every line (for the HTML report).
    pub fn new(seed: u64) -> Recorder {
        let mut r = Recorder::with(seed, None);
        r.keep_now();
        r
    }

    /// Keeps only the state after line `at` (any line of the file: a comment
    /// keeps the state after the last command before it; `usize::MAX` the
    /// state at the end). One picture of a big lab needs one state, not
    /// thousands.
    pub fn keeping(seed: u64, at: usize) -> Recorder {
        Recorder::with(seed, Some(at))
    }

    fn with(seed: u64, keep: Option<usize>) -> Recorder {
        // Captures are not written: this run only draws (a real run of the
        // same lab writes them), so the capture folder does not matter.
        Recorder {
            sim: SimBackend::new(seed, std::env::temp_dir(), None),
            keep,
            lines: Vec::new(),
            states: Vec::new(),
            last: (Vec::new(), true, None),
        }
    }

    fn keep_now(&mut self) {
        let (line, command, ping) = self.lines.last().cloned().unwrap_or_default();
        let (trace, ok, message) = std::mem::replace(&mut self.last, (Vec::new(), true, None));
        self.states.push(State {
            line,
            command,
            ping,
            topology: Topology::from_sim(self.sim.sim()),
            trace,
            ok,
            message,
        });
    }

    /// Keeps the wanted state if the next line (or the end) is past it.
    fn keep_before(&mut self, next: Option<usize>) {
        if let Some(at) = self.keep {
            let kept = self.states.last().is_some_and(|s| s.line <= at);
            if !kept && next.is_none_or(|n| n > at) {
                self.keep_now();
            }
        }
    }

    /// The states kept, and every line run.
    pub fn finish_recording(self) -> Recording {
        Recording {
            lines: self.lines,
            states: self.states,
        }
    }
}

impl Backend for Recorder {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn run(&mut self, line: &Line, _explain: bool) -> Outcome {
        self.keep_before(Some(line.number));
        let o = self.sim.run(line, true);
        self.lines
            .push((line.number, line.text.clone(), line.command.is_ping()));
        self.last = (o.explain.clone(), o.result == Res::Ok, o.message.clone());
        if self.keep.is_none() {
            self.keep_now();
        }
        o
    }

    fn finish(&mut self) -> Result<Vec<(usize, Vec<String>)>, LabError> {
        self.keep_before(None);
        // Captures stay unwritten (see `with`); the report of the real
        // run shows what they saw.
        Ok(Vec::new())
    }
}

/// The states of a lab run, and its lines.
#[derive(Debug, Clone)]
pub struct Recording {
    lines: Vec<(usize, String, bool)>,
    states: Vec<State>,
}

impl Recording {
    /// Every state kept, in line order.
    pub fn states(&self) -> &[State] {
        &self.states
    }

    fn last_line(&self) -> usize {
        self.lines.last().map_or(0, |l| l.0)
    }

    fn state(&self, line: usize) -> Result<&State, DrawError> {
        self.states
            .iter()
            .find(|s| s.line == line)
            .ok_or(DrawError::NotKept { line })
    }

    /// The state after line `at` (the last command at or before it), or
    /// after the last line.
    pub fn at(&self, at: Option<usize>) -> Result<&State, DrawError> {
        let last = self.last_line();
        let line = match at {
            None => last,
            Some(at) if at > last => {
                return Err(DrawError::PastEnd {
                    option: "--at",
                    line: at,
                    last,
                })
            }
            Some(at) => self.lines.iter().rev().find(|l| l.0 <= at).map_or(0, |l| l.0),
        };
        self.state(line)
    }

    /// The ping on `line`, its frames read from its trace.
    pub fn ping(&self, line: usize) -> Result<(&State, PingPaths), DrawError> {
        let last = self.last_line();
        if line > last {
            return Err(DrawError::PastEnd {
                option: "--ping",
                line,
                last,
            });
        }
        let (_, command, ping) = self
            .lines
            .iter()
            .find(|l| l.0 == line)
            .ok_or(DrawError::NoCommand { line })?;
        if !ping {
            return Err(DrawError::NotAPing {
                line,
                command: command.clone(),
            });
        }
        let s = self.state(line)?;
        let mut p = PingPaths::parse(line, &s.command, &s.trace, &s.topology)?;
        p.replied = s.ok;
        if !s.ok && p.why.is_none() {
            // A ping that could not start has no trace: its error says why.
            p.why.clone_from(&s.message);
        }
        Ok((s, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = "ip netns add a\n# a comment\nip link add v1 type veth peer v2\nip netns exec a ping -c 1 10.0.0.1\nip link set v1 up\n";

    fn run(mut r: Recorder) -> Recording {
        let lab = mvl_lab::parse(LAB).expect("parses");
        mvl_lab::run(&lab, &mut r, mvl_lab::RunOptions::default(), |_| {}).expect("runs");
        r.finish_recording()
    }

    fn devices(s: &State) -> usize {
        s.topology.device_count()
    }

    #[test]
    fn keeping_one_state_gives_the_same_picture_as_keeping_all() {
        let all = run(Recorder::new(1));
        assert_eq!(all.states().len(), 5, "before the first line, then each of four");
        for at in [0, 1, 2, 3, 4, 5] {
            let one = run(Recorder::keeping(1, at));
            assert_eq!(one.states().len(), 1);
            assert_eq!(one.at(Some(at)).expect("kept"), all.at(Some(at)).expect("kept"));
        }
        // Line 2 is a comment: the state after line 1 (lo, in root and a).
        assert_eq!(devices(all.at(Some(2)).expect("kept")), 2);
        assert_eq!(devices(all.at(None).expect("kept")), 4);
        let end = run(Recorder::keeping(1, usize::MAX));
        assert_eq!(end.at(None).expect("kept"), all.at(None).expect("kept"));
        assert!(matches!(end.at(Some(1)), Err(DrawError::NotKept { line: 1 })));
    }

    #[test]
    fn lines_that_cannot_be_drawn() {
        let all = run(Recorder::new(1));
        assert!(matches!(
            all.at(Some(6)),
            Err(DrawError::PastEnd { line: 6, last: 5, .. })
        ));
        assert!(matches!(all.ping(2), Err(DrawError::NoCommand { line: 2 })));
        assert!(matches!(all.ping(3), Err(DrawError::NotAPing { line: 3, .. })));
        let (s, p) = all.ping(4).expect("a ping");
        assert_eq!(s.line, 4);
        assert_eq!(p.line, 4);
        // No route: ping cannot start, and says so.
        assert!(!p.replied);
        assert_eq!(p.why.as_deref(), Some("ping: connect: Network is unreachable"));
        let one = run(Recorder::keeping(1, 4));
        assert_eq!(one.ping(4).expect("a ping").1, p);
    }
}
