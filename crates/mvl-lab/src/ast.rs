//! A parsed lab: typed commands, each with its line and expectation.

pub use mvl_iproute2::Command;

use crate::lex::Grep;

/// The result of a line, and what a line expects (`# expect: ok|fail|error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Res {
    /// The command succeeded, or the ping got a reply.
    Ok,
    /// The ping got no reply.
    Fail,
    /// The command was refused (or the ping could not start).
    Error,
}

impl Res {
    /// The word used in labs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Res::Ok => "ok",
            Res::Fail => "fail",
            Res::Error => "error",
        }
    }
}

/// A command in a namespace, as one line of a lab.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The text of the command.
    pub text: String,
    /// Its words, as a shell would split them (before any `| grep`).
    pub words: Vec<String>,
    /// The namespace it runs in (`ip netns exec NS`, `ip -n NS`); `None`: the root.
    pub netns: Option<String>,
    /// The command.
    pub command: Command,
    /// `| grep WORD`.
    pub grep: Option<Grep>,
    /// The expectation, if any.
    pub expect: Option<Res>,
}

/// A whole lab.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lab {
    /// Its lines, in order.
    pub lines: Vec<Line>,
}
