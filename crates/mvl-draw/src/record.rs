//! The emulator's state after every lab line, kept while `mvl_lab::run`
//! drives the emulator backend.

use mvl_lab::{Backend, LabError, Line, Outcome, SimBackend};

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
}

/// A lab backend that runs every line on the emulator, with every ping
/// explained, and keeps the state after each line.
pub struct Recorder {
    sim: SimBackend,
    states: Vec<State>,
}

impl Recorder {
    /// A fresh emulated host (`seed` as `mvl lab run --seed`).
    pub fn new(seed: u64) -> Recorder {
        // Captures are not written: this run only draws (a real run of the
        // same lab writes them), so its files go nowhere.
        let sim = SimBackend::new(seed, std::env::temp_dir(), None);
        let first = State {
            line: 0,
            command: String::new(),
            ping: false,
            topology: Topology::from_sim(sim.sim()),
            trace: Vec::new(),
        };
        Recorder {
            sim,
            states: vec![first],
        }
    }

    /// The states recorded so far.
    pub fn finish_recording(self) -> Recording {
        Recording { states: self.states }
    }
}

impl Backend for Recorder {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn run(&mut self, line: &Line, _explain: bool) -> Outcome {
        let o = self.sim.run(line, true);
        self.states.push(State {
            line: line.number,
            command: line.text.clone(),
            ping: line.command.is_ping(),
            topology: Topology::from_sim(self.sim.sim()),
            trace: o.explain.clone(),
        });
        o
    }

    fn finish(&mut self) -> Result<Vec<(usize, Vec<String>)>, LabError> {
        // Captures stay unwritten (see `new`); the report of the real run
        // shows what they saw.
        Ok(Vec::new())
    }
}

/// The states of a whole lab.
#[derive(Debug, Clone)]
pub struct Recording {
    states: Vec<State>,
}

impl Recording {
    /// Every state, the one before the first line first.
    pub fn states(&self) -> &[State] {
        &self.states
    }

    /// The state after line `at` (the last command at or before it), or
    /// after the last line.
    pub fn at(&self, at: Option<usize>) -> Result<&State, DrawError> {
        let last = self.states.last().expect("the first state is always there");
        let Some(at) = at else { return Ok(last) };
        if at > last.line {
            return Err(DrawError::PastEnd {
                option: "--at",
                line: at,
                last: last.line,
            });
        }
        Ok(self
            .states
            .iter()
            .rev()
            .find(|s| s.line <= at)
            .expect("line 0 is always there"))
    }

    /// The ping on `line`, its frames read from its trace.
    pub fn ping(&self, line: usize) -> Result<(&State, PingPaths), DrawError> {
        let last = self.states.last().expect("the first state is always there").line;
        if line > last {
            return Err(DrawError::PastEnd {
                option: "--ping",
                line,
                last,
            });
        }
        let s = self
            .states
            .iter()
            .find(|s| s.line == line && line > 0)
            .ok_or(DrawError::NoCommand { line })?;
        if !s.ping {
            return Err(DrawError::NotAPing {
                line,
                command: s.command.clone(),
            });
        }
        Ok((s, PingPaths::parse(line, &s.command, &s.trace, &s.topology)?))
    }
}
