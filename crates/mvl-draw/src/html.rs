//! The report of a run as one self-contained HTML page: nothing is fetched,
//! every drawing is inline SVG, and the page reads without JavaScript
//! (each ping's picture sits under its line); the script only adds the
//! interaction (a click on a line shows the drawing of the state after it,
//! or of the ping's frames, beside the lines).

use std::fmt::Write;

use mvl_lab::{report, Report, Res};

use crate::record::Recording;
use crate::svg::{esc, svg};
use crate::DrawError;

/// What the page is made of.
pub struct HtmlInput<'a> {
    /// The lab, as the user named it.
    pub lab: &'a str,
    /// The run whose lines and results the page lists.
    pub report: &'a Report,
    /// The emulator's states for the same lab, for the drawings.
    pub recording: &'a Recording,
}

const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 0; color: #212529; background: #fff; }
header { padding: 12px 20px; border-bottom: 1px solid #dee2e6; }
h1 { font-size: 20px; margin: 0 0 6px 0; }
.note { color: #495057; margin: 4px 0; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.2fr); gap: 16px; padding: 0 20px 20px 20px; }
#view { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; }
#view h2 { font-size: 15px; margin: 12px 0 6px 0; }
svg.mvl-drawing { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; border-bottom: 2px solid #adb5bd; padding: 4px; position: sticky; top: 0; background: #fff; }
td { vertical-align: top; padding: 3px 4px; border-bottom: 1px solid #f1f3f5; }
tr.line { cursor: pointer; }
tr.line:hover, tr.line:focus { background: #f8f9fa; outline: none; }
tr.line.selected { background: #e7f5ff; }
td.n { color: #868e96; text-align: right; }
.r-ok { color: #2f9e44; font-weight: bold; }
.r-fail { color: #e8590c; font-weight: bold; }
.r-error { color: #c92a2a; font-weight: bold; }
.held { color: #2f9e44; }
.broken { color: #e03131; font-weight: bold; }
tr.bad { background: #fff5f5; }
code { font-family: "DejaVu Sans Mono", monospace; }
pre { margin: 2px 0; font-size: 12px; white-space: pre-wrap; color: #495057; }
pre.msg { color: #343a40; }
.differs { color: #e03131; margin: 2px 0; }
details summary { color: #1971c2; cursor: pointer; }
"#;

const SCRIPT: &str = r#"
(function () {
  var view = document.getElementById('drawing');
  var title = document.getElementById('view-title');
  function show(tr) {
    var old = document.querySelectorAll('tr.line.selected');
    for (var i = 0; i < old.length; i++) old[i].classList.remove('selected');
    tr.classList.add('selected');
    var n = tr.getAttribute('data-line');
    var ping = document.getElementById('ping-' + n);
    if (ping) {
      // The copy gets its own ids: markers must not point into the hidden original.
      view.innerHTML = ping.innerHTML.split('mvl-p' + n + '-').join('mvl-v' + n + '-');
      title.textContent = 'Line ' + n + ': the frames of this ping';
    } else {
      var t = document.getElementById('state-' + tr.getAttribute('data-state'));
      view.innerHTML = '';
      view.appendChild(t.content.cloneNode(true));
      title.textContent = 'The state after line ' + n;
    }
  }
  var rows = document.querySelectorAll('tr.line');
  for (var i = 0; i < rows.length; i++) {
    rows[i].addEventListener('click', function () { show(this); });
    rows[i].addEventListener('keydown', function (e) { if (e.key === 'Enter') show(this); });
  }
})();
"#;

/// The page.
pub fn html_report(input: &HtmlInput) -> Result<String, DrawError> {
    let rep = input.report;
    let states = input.recording.states();
    // One drawing per distinct state, shared by the lines that leave it so.
    let mut state_of_line: Vec<(usize, usize)> = Vec::new();
    let mut distinct: Vec<usize> = Vec::new();
    for (i, s) in states.iter().enumerate() {
        if distinct.last().is_none_or(|&k| states[k].topology != s.topology) {
            distinct.push(i);
        }
        state_of_line.push((s.line, distinct.len() - 1));
    }
    let state_for = |line: usize| {
        state_of_line
            .iter()
            .rev()
            .find(|(l, _)| *l <= line)
            .map_or(0, |(_, k)| *k)
    };
    let last = states.last().expect("the first state is always there");
    let mut o = String::with_capacity(256 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>mvl lab: {lab}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{lab}</h1>\n<p class=\"note summary\">{summary}</p>\n",
        lab = esc(input.lab),
        summary = esc(report::text_summary(rep).trim())
    );
    let _ = write!(o, "<p class=\"note\">Backend: <b>{}</b>. ", esc(rep.backend));
    if rep.backend == "sim" {
        o.push_str("The drawings show the emulator's state after each line and the path of every frame of each ping, as <code>--explain</code> tells them.");
    } else {
        o.push_str("The lines and their results are the real run's; the drawings are the emulator's view of the same lab (run again on the emulator, which the project holds to the kernel's results): its state after each line and the path of every frame of each ping.");
    }
    o.push_str(" Click a line to see its drawing.</p>\n</header>\n<main>\n<section id=\"lines\">\n<table>\n<thead><tr><th>line</th><th>result</th><th>expect</th><th></th><th>command</th></tr></thead>\n<tbody>\n");
    for l in &rep.lines {
        let holds = l.holds();
        let _ = write!(
            o,
            "<tr class=\"line{}{}\" id=\"line-{n}\" data-line=\"{n}\" data-state=\"{}\" tabindex=\"0\"><td class=\"n\">{n}</td><td class=\"r-{r}\">{r}</td><td>{}</td><td class=\"{}\">{}</td><td><code>{}</code>",
            if l.kind == "ping" { " ping" } else { "" },
            if holds { "" } else { " bad" },
            state_for(l.line),
            l.expect.map_or("", |e| e.as_str()),
            if holds { "held" } else { "broken" },
            if holds { "✓" } else { "✗" },
            esc(&l.command),
            n = l.line,
            r = l.result.as_str(),
        );
        // The drawings are the emulator's: say so where it disagreed.
        let sim_ok = states.iter().find(|s| s.line == l.line).map(|s| s.ok);
        if sim_ok.is_some_and(|ok| ok != (l.result == Res::Ok)) {
            let _ = write!(
                o,
                "<p class=\"differs\">On the emulator this line {}: its drawing is the emulator's.</p>",
                if sim_ok == Some(true) {
                    "succeeded"
                } else {
                    "failed"
                }
            );
        }
        if l.kind == "ping" {
            if let Some(m) = &l.message {
                let _ = write!(o, "<pre class=\"msg\">{}</pre>", esc(m));
            }
            let (s, paths) = input.recording.ping(l.line)?;
            let _ = write!(
                o,
                "<details><summary>frame path</summary><div class=\"ping-drawing\" id=\"ping-{n}\">{}</div><pre>{}</pre></details>",
                svg(&s.topology, Some(&paths), &format!("mvl-p{}", l.line)),
                esc(&s.trace.join("\n")),
                n = l.line
            );
        } else {
            let out = l.output.trim_end();
            if !out.is_empty() {
                let _ = write!(o, "<pre>{}</pre>", esc(out));
            } else if let Some(m) = &l.message {
                let _ = write!(o, "<pre class=\"msg\">{}</pre>", esc(m));
            }
        }
        o.push_str("</td></tr>\n");
    }
    let _ = write!(
        o,
        "</tbody>\n</table>\n</section>\n<aside id=\"view\">\n<h2 id=\"view-title\">The state after the last line ({})</h2>\n<div id=\"drawing\">{}</div>\n</aside>\n</main>\n",
        last.line,
        svg(&last.topology, None, "mvl-final")
    );
    for (k, &i) in distinct.iter().enumerate() {
        let _ = writeln!(
            o,
            "<template id=\"state-{k}\">{}</template>",
            svg(&states[i].topology, None, &format!("mvl-s{k}"))
        );
    }
    let _ = write!(o, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recorder;

    #[test]
    fn a_line_the_emulator_judged_otherwise_says_so() {
        let text = "ip netns add a\nip netns add b\n";
        let lab = mvl_lab::parse(text).expect("parses");
        let mut r = Recorder::new(1);
        let mut rep = mvl_lab::run(&lab, &mut r, mvl_lab::RunOptions::default(), |_| {}).expect("runs");
        let recording = r.finish_recording();
        // As if the real kernel had refused line 2.
        rep.backend = "kernel";
        rep.lines[1].result = Res::Error;
        let page = html_report(&HtmlInput {
            lab: "lab.sh",
            report: &rep,
            recording: &recording,
        })
        .expect("page");
        assert_eq!(page.matches("class=\"differs\"").count(), 1);
        assert!(page.contains("On the emulator this line succeeded"));
        assert!(page.contains("the drawings are the emulator's view of the same lab"));
    }
}
