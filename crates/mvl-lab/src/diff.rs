//! Differential runs: the same lab on two backends, line by line, and the
//! smallest lab that still shows a difference.

use crate::ast::Lab;
use crate::error::LabError;
use crate::run::{run, Backend, Res, RunOptions};

/// A line whose result differs between two backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Line number.
    pub line: usize,
    /// The command.
    pub command: String,
    /// Result and message on the first backend.
    pub a: (Res, Option<String>),
    /// Result and message on the second backend.
    pub b: (Res, Option<String>),
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: {}: {} ({}) vs {} ({})",
            self.line,
            self.command,
            self.a.0.as_str(),
            self.a.1.as_deref().unwrap_or("-"),
            self.b.0.as_str(),
            self.b.1.as_deref().unwrap_or("-")
        )
    }
}

/// Runs `lab` on both backends and lists the lines whose results differ.
pub fn compare(lab: &Lab, a: &mut dyn Backend, b: &mut dyn Backend) -> Result<Vec<Mismatch>, LabError> {
    let ra = run(lab, a, RunOptions::default(), |_| {})?;
    let rb = run(lab, b, RunOptions::default(), |_| {})?;
    Ok(ra
        .lines
        .iter()
        .zip(&rb.lines)
        .filter(|(x, y)| x.result != y.result)
        .map(|(x, y)| Mismatch {
            line: x.line,
            command: x.command.clone(),
            a: (x.result, x.message.clone()),
            b: (y.result, y.message.clone()),
        })
        .collect())
}

/// The smallest lab (by greedy removal of ever smaller chunks of lines)
/// for which `differs` still holds. `differs(text)` must hold for `text`.
pub fn minimize(text: &str, mut differs: impl FnMut(&str) -> bool) -> String {
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    let join = |v: &[&str]| v.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut chunk = lines.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < lines.len() {
            let end = (i + chunk).min(lines.len());
            let candidate: Vec<&str> = lines[..i].iter().chain(&lines[end..]).copied().collect();
            if !candidate.is_empty() && differs(&join(&candidate)) {
                lines = candidate;
            } else {
                i = end;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    join(&lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimize_keeps_only_what_matters() {
        let text = "a\nb\nc\nneedle1\nd\ne\nneedle2\nf\n";
        let mut calls = 0;
        let out = minimize(text, |t| {
            calls += 1;
            t.contains("needle1") && t.contains("needle2")
        });
        assert_eq!(out, "needle1\nneedle2\n");
        assert!(calls < 30, "{calls} calls");
    }
}
