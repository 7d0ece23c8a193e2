//! Running a lab on a backend and judging each line against its expectation.

use serde::Serialize;

pub use crate::ast::Res;
use crate::ast::{Lab, Line};
use crate::error::LabError;

/// What a backend reports for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The result.
    pub result: Res,
    /// What the command printed (the runner applies any `| grep`).
    pub output: String,
    /// The error, or a ping's statistics line.
    pub message: Option<String>,
    /// The path of every frame of a ping (`--explain`).
    pub explain: Vec<String>,
}

impl Outcome {
    /// Success with some output.
    pub fn ok(output: String) -> Outcome {
        Outcome {
            result: Res::Ok,
            output,
            message: None,
            explain: Vec::new(),
        }
    }

    /// The same outcome after the warnings the tool printed on stderr
    /// while reading the command: before the refusal, or as the message
    /// of a command that went on to succeed.
    pub fn after_warnings(mut self, warnings: &[String]) -> Outcome {
        if !warnings.is_empty() {
            let w = warnings.join("\n");
            self.message = Some(match self.message.take() {
                Some(m) => format!("{w}\n{m}"),
                None => w,
            });
        }
        self
    }

    /// A refused command.
    pub fn error(message: impl Into<String>) -> Outcome {
        Outcome {
            result: Res::Error,
            output: String::new(),
            message: Some(message.into()),
            explain: Vec::new(),
        }
    }
}

/// Something that can run lab lines: the emulator, the real kernel, the
/// userspace datapath.
pub trait Backend {
    /// Its name (`sim`, `kernel`, `user`).
    fn name(&self) -> &'static str;
    /// Runs one line's command (its `| grep` is the runner's).
    fn run(&mut self, line: &Line, explain: bool) -> Outcome;
    /// Ends the run: background captures stop. Returns what each capture
    /// printed, by the line that started it.
    fn finish(&mut self) -> Result<Vec<(usize, Vec<String>)>, LabError>;
}

/// One executed line, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineReport {
    /// Line number.
    pub line: usize,
    /// The command as written.
    pub command: String,
    /// `ping` or `cmd`.
    pub kind: &'static str,
    /// The result.
    pub result: Res,
    /// The expectation.
    pub expect: Option<Res>,
    /// The error, a ping's statistics, or what a capture saw.
    pub message: Option<String>,
    /// What the command printed (a show command's output, a capture's lines).
    pub output: String,
    /// Explanation of a ping.
    #[serde(skip)]
    pub explain: Vec<String>,
}

impl LineReport {
    /// The expectation holds; without one, the line must not fail.
    pub fn holds(&self) -> bool {
        match self.expect {
            Some(e) => self.result == e,
            None => self.result == Res::Ok,
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The backend's name.
    pub backend: &'static str,
    /// Every line, in order.
    pub lines: Vec<LineReport>,
}

impl Report {
    /// 0 when every line holds, 1 when one does not.
    pub fn exit_code(&self) -> i32 {
        if self.lines.iter().all(LineReport::holds) {
            0
        } else {
            1
        }
    }

    /// The per-line results, for comparing backends.
    pub fn results(&self) -> Vec<(usize, Res)> {
        self.lines.iter().map(|l| (l.line, l.result)).collect()
    }
}

/// Options of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Explain every ping.
    pub explain: bool,
}

/// Runs every line of `lab` on `backend`; a failing line does not stop
/// the run. `progress` sees each line as soon as it is judged.
pub fn run(
    lab: &Lab,
    backend: &mut dyn Backend,
    opts: RunOptions,
    mut progress: impl FnMut(&LineReport),
) -> Result<Report, LabError> {
    let mut lines = Vec::with_capacity(lab.lines.len());
    for line in &lab.lines {
        let mut o = backend.run(line, opts.explain);
        if let Some(g) = &line.grep {
            // The shell reports grep's status: no matching line is a failure.
            let text = if o.result == Res::Ok {
                g.apply(&o.output)
            } else {
                String::new()
            };
            if o.result == Res::Ok && text.is_empty() {
                o = Outcome::error(format!("grep: no line matches \"{}\"", g.pattern));
            } else {
                o.output = text;
            }
        }
        let r = LineReport {
            line: line.number,
            command: line.text.clone(),
            kind: if line.command.is_ping() { "ping" } else { "cmd" },
            result: o.result,
            expect: line.expect,
            message: o.message,
            output: o.output,
            explain: o.explain,
        };
        progress(&r);
        lines.push(r);
    }
    for (n, captured) in backend.finish()? {
        if let Some(r) = lines.iter_mut().find(|r| r.line == n) {
            let head = format!("{} packets captured", captured.len());
            r.output = captured.iter().map(|l| format!("{l}\n")).collect();
            r.message = Some(
                std::iter::once(head)
                    .chain(captured)
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
    }
    Ok(Report {
        backend: backend.name(),
        lines,
    })
}
