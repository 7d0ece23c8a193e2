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

/// The closing summary of a text transcript.
pub fn text_summary(rep: &Report) -> String {
    let pings: Vec<&LineReport> = rep.lines.iter().filter(|l| l.kind == "ping").collect();
    let ok_pings = pings.iter().filter(|l| l.result == Res::Ok).count();
    let cmds = rep.lines.len() - pings.len();
    let errors = rep
        .lines
        .iter()
        .filter(|l| l.kind == "cmd" && l.result == Res::Error)
        .count();
    let bad: Vec<String> = rep
        .lines
        .iter()
        .filter(|l| !l.holds())
        .map(|l| l.line.to_string())
        .collect();
    let verdict = if bad.is_empty() {
        "every expectation holds".to_string()
    } else {
        format!("{} line(s) did not go as expected: {}", bad.len(), bad.join(", "))
    };
    format!(
        "\n{} lines: {cmds} commands ({errors} refused), {} pings ({ok_pings} ok, {} failed) — {verdict}\n",
        rep.lines.len(),
        pings.len(),
        pings.len() - ok_pings
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
/// `{"line","command","kind","result","expect","message"}`.
pub fn json_lines(rep: &Report) -> String {
    rep.lines
        .iter()
        .map(|l| serde_json::to_string(l).expect("plain data serializes") + "\n")
        .collect()
}
