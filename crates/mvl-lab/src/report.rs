//! Rendering a run: a readable transcript, or JSON lines.

use std::fmt::Write;

use crate::run::{LineReport, Report, Res};

/// The header of a text transcript.
pub fn text_header(path: &str, backend: &str) -> String {
    format!("lab {path} on backend {backend}\n\n  line  result  expect      command\n")
}

/// One line of a text transcript, with its output and explanation indented.
pub fn text_line(r: &LineReport) -> String {
    let verdict = match (r.expect, r.holds()) {
        (Some(e), true) => format!("{:<5} ✓", e.as_str()),
        (Some(e), false) => format!("{:<5} ✗", e.as_str()),
        (None, true) => String::new(),
        (None, false) => "-     ✗".to_string(),
    };
    let mut s = format!(
        "{:>6}  {:<6}  {:<10}  {}\n",
        r.line,
        r.result.as_str(),
        verdict,
        r.command
    );
    let pad = " ".repeat(28);
    let body: Vec<&str> = if r.result == Res::Error || r.kind == "ping" {
        r.message.iter().flat_map(|m| m.lines()).collect()
    } else if r.output.is_empty() {
        r.message.iter().flat_map(|m| m.lines()).collect()
    } else {
        r.output.lines().collect()
    };
    for l in body {
        let _ = writeln!(s, "{pad}│ {l}");
    }
    for l in &r.explain {
        let _ = writeln!(s, "{pad}  {l}");
    }
    s
}

/// What a run came to: the counts of the closing summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Lines run.
    pub lines: usize,
    /// Lines that are not pings.
    pub commands: usize,
    /// Commands that ended in an error.
    pub refused: usize,
    /// Pings run.
    pub pings: usize,
    /// Pings that got a reply.
    pub pings_ok: usize,
    /// Pings that got none.
    pub pings_failed: usize,
    /// The lines whose expectation did not hold (or that failed without one).
    pub not_as_expected: Vec<usize>,
    /// The exit code of `mvl lab run`.
    pub exit_code: i32,
}

impl Summary {
    /// The summary of `rep`.
    pub fn of(rep: &Report) -> Summary {
        let pings = rep.lines.iter().filter(|l| l.kind == "ping").count();
        let pings_ok = rep
            .lines
            .iter()
            .filter(|l| l.kind == "ping" && l.result == Res::Ok)
            .count();
        Summary {
            lines: rep.lines.len(),
            commands: rep.lines.len() - pings,
            refused: rep
                .lines
                .iter()
                .filter(|l| l.kind == "cmd" && l.result == Res::Error)
                .count(),
            pings,
            pings_ok,
            pings_failed: pings - pings_ok,
            not_as_expected: rep.lines.iter().filter(|l| !l.holds()).map(|l| l.line).collect(),
            exit_code: rep.exit_code(),
        }
    }
}

/// `n` and the noun, singular or plural (`1 line`, `2 lines`).
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The closing summary of a text transcript.
pub fn text_summary(rep: &Report) -> String {
    let s = Summary::of(rep);
    let verdict = if s.not_as_expected.is_empty() {
        "every expectation holds".to_string()
    } else {
        let bad: Vec<String> = s.not_as_expected.iter().map(usize::to_string).collect();
        format!(
            "{} did not go as expected: {}",
            count(bad.len(), "line", "lines"),
            bad.join(", ")
        )
    };
    format!(
        "\n{}: {} ({} refused), {} ({} ok, {} failed) — {verdict}\n",
        count(s.lines, "line", "lines"),
        count(s.commands, "command", "commands"),
        s.refused,
        count(s.pings, "ping", "pings"),
        s.pings_ok,
        s.pings_failed
    )
}

/// The whole transcript as text, with captures under the lines that started them.
pub fn text(rep: &Report, path: &str) -> String {
    let mut s = text_header(path, rep.backend);
    for l in &rep.lines {
        s.push_str(&text_line(l));
    }
    s.push_str(&text_summary(rep));
    s
}

/// One JSON object per line, exactly
/// `{"line","command","kind","result","expect","message","output"}`
/// (`output`: what the command printed, captures included).
pub fn json_line(l: &LineReport) -> String {
    serde_json::to_string(l).expect("plain data serializes") + "\n"
}

/// Every line as [`json_line`], then the summary as
/// `{"kind":"summary", ...}` ([`Summary`]'s fields).
pub fn json_lines(rep: &Report) -> String {
    #[derive(serde::Serialize)]
    struct Tagged {
        kind: &'static str,
        #[serde(flatten)]
        summary: Summary,
    }
    let mut s: String = rep.lines.iter().map(json_line).collect();
    let sum = Tagged {
        kind: "summary",
        summary: Summary::of(rep),
    };
    s.push_str(&serde_json::to_string(&sum).expect("plain data serializes"));
    s.push('\n');
    s
}
