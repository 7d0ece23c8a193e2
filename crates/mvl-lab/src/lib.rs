//! # mvl-lab: the lab language and its runner
//!
//! A lab is a text file of the commands a person types to learn or test
//! macvlan — the commands of the tutorial this project grew from: `ip netns`,
//! `ip link add|set|del|show`, `ip addr`, `ip neigh`, `ip route`,
//! `bridge link|fdb`, `ping`, `tcpdump ... &`, `sysctl` (forwarding),
//! `sleep` — one per line, `#` comments, and an optional trailing
//! `# expect: ok|fail|error`.
//!
//! [`parse`] turns the text into typed [`Line`]s — each line's words read
//! with iproute2's grammar by `mvl-iproute2`, then held to what a lab
//! allows (it never leaves its sandbox; nothing in it runs forever) — or a
//! [`ParseError`] naming the line and the word. [`run()`] executes the
//! lines in order on a [`Backend`] — [`SimBackend`] (the emulator, the
//! default) or a real-kernel backend — and judges every line: a ping is ok
//! or fail, any other command ok or error; a line without expectation
//! must not fail. [`report`] renders the result as a transcript or JSON.

pub mod ast;
pub mod diff;
mod error;
pub mod generate;
pub mod lex;
mod parse;
mod real;
pub mod report;
mod run;
pub mod sandbox;
mod sim_backend;
mod user_backend;

pub use ast::{Command, Lab, Line};
pub use error::{LabError, ParseError};
pub use parse::{parse, parse_line};
pub use real::KernelBackend;
pub use run::{run, Backend, LineReport, Outcome, Report, Res, RunOptions};
pub use sim_backend::SimBackend;
pub use user_backend::UserBackend;

/// Reads and parses the lab at `path`.
pub fn load(path: &std::path::Path) -> Result<Lab, LabError> {
    let bytes = std::fs::read(path).map_err(|e| LabError::Read {
        path: path.display().to_string(),
        source: e,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        LabError::Parse(ParseError::new(line, None, "the file is not UTF-8 text"))
    })?;
    Ok(parse(&text)?)
}
