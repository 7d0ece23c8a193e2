//! Splitting a lab file into lines of words: shell-style quoting,
//! `#` comments, the trailing `# expect: ...`, a `| grep WORD` pipe and a
//! trailing `&`.

use crate::ast::Res;
use crate::error::ParseError;

/// One non-empty line of a lab, split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// 1-based line number (of the first physical line).
    pub number: usize,
    /// The command as written, without comment and expectation.
    pub text: String,
    /// The words of the command, before any `|`.
    pub words: Vec<String>,
    /// `| grep [-v] [-i] WORD`.
    pub grep: Option<Grep>,
    /// Ends with `&`.
    pub background: bool,
    /// `# expect: ok|fail|error`.
    pub expect: Option<Res>,
}

/// A `grep` filter on a command's output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grep {
    /// The word.
    pub pattern: String,
    /// `-v`: keep lines without it.
    pub invert: bool,
    /// `-i`: ignore case.
    pub ignore_case: bool,
}

impl Grep {
    /// The lines of `text` that pass.
    pub fn apply(&self, text: &str) -> String {
        let pat = if self.ignore_case {
            self.pattern.to_lowercase()
        } else {
            self.pattern.clone()
        };
        text.lines()
            .filter(|l| {
                let hay = if self.ignore_case {
                    l.to_lowercase()
                } else {
                    l.to_string()
                };
                hay.contains(&pat) != self.invert
            })
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// grep's exit status for `text`: matched something or not.
    pub fn matched(&self, text: &str) -> bool {
        !self.apply(text).is_empty()
    }
}

/// Splits `line` into words, honouring quotes; stops at an unquoted `#`
/// at the start of a word. Returns the words and the comment.
fn split(line: &str, number: usize) -> Result<(Vec<String>, Option<String>), ParseError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' if !in_word => return Ok((words, Some(line[i + 1..].trim().to_string()))),
            '\'' | '"' => {
                in_word = true;
                let mut closed = false;
                for (_, d) in chars.by_ref() {
                    if d == c {
                        closed = true;
                        break;
                    }
                    cur.push(d);
                }
                if !closed {
                    return Err(ParseError::new(number, None, format!("unterminated {c}quote")));
                }
            }
            '\\' => {
                in_word = true;
                if let Some((_, d)) = chars.next() {
                    cur.push(d);
                }
            }
            '|' | '&' | ';' | '<' | '>' | '`' | '$' | '(' | ')'
                if !in_word || matches!(c, '|' | '&' | ';') =>
            {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                if c == '|' && chars.peek().is_some_and(|&(_, d)| d == '|') {
                    return Err(ParseError::new(
                        number,
                        Some("||".into()),
                        "shell operators are not part of the lab language",
                    ));
                }
                if c == '&' && chars.peek().is_some_and(|&(_, d)| d == '&') {
                    return Err(ParseError::new(
                        number,
                        Some("&&".into()),
                        "shell operators are not part of the lab language",
                    ));
                }
                words.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok((words, None))
}

fn parse_expect(comment: &str, number: usize) -> Result<Option<Res>, ParseError> {
    // `# Expect: OK` is what a person means too: case does not matter.
    let lower = comment.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("expect:")
        .or_else(|| lower.strip_prefix("expect "))
    else {
        return Ok(None);
    };
    let word = rest.split_whitespace().next().unwrap_or("");
    match word {
        "ok" => Ok(Some(Res::Ok)),
        "fail" => Ok(Some(Res::Fail)),
        "error" => Ok(Some(Res::Error)),
        w => Err(ParseError::new(
            number,
            Some(w.to_string()),
            "an expectation is \"ok\", \"fail\" or \"error\"",
        )),
    }
}

fn parse_grep(words: &[String], number: usize) -> Result<Grep, ParseError> {
    let mut it = words.iter();
    match it.next().map(String::as_str) {
        Some("grep") => {}
        Some(w) => {
            return Err(ParseError::new(
                number,
                Some(w.to_string()),
                "only \"| grep WORD\" may follow a pipe",
            ));
        }
        None => return Err(ParseError::new(number, None, "nothing after \"|\"")),
    }
    let mut g = Grep {
        pattern: String::new(),
        invert: false,
        ignore_case: false,
    };
    for w in it {
        match w.as_str() {
            "-v" => g.invert = true,
            "-i" => g.ignore_case = true,
            "-vi" | "-iv" => {
                g.invert = true;
                g.ignore_case = true;
            }
            w if w.starts_with('-') => {
                return Err(ParseError::new(
                    number,
                    Some(w.to_string()),
                    "grep takes only -v and -i in a lab",
                ));
            }
            w if g.pattern.is_empty() => g.pattern = w.to_string(),
            w => {
                return Err(ParseError::new(
                    number,
                    Some(w.to_string()),
                    "grep takes one word",
                ))
            }
        }
    }
    if g.pattern.is_empty() {
        return Err(ParseError::new(number, Some("grep".into()), "grep needs a word"));
    }
    Ok(g)
}

/// Splits a whole lab file into command lines. A line ending in `\`
/// continues on the next one.
pub fn lines(src: &str) -> Result<Vec<RawLine>, ParseError> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, physical) in src.lines().enumerate() {
        let number = i + 1;
        let (start, mut text) = match pending.take() {
            Some((n, t)) => (n, t + " " + physical),
            None => (number, physical.to_string()),
        };
        if let Some(stripped) = text.strip_suffix('\\') {
            pending = Some((start, stripped.to_string()));
            continue;
        }
        text = text.trim().to_string();
        let (mut words, comment) = split(&text, start)?;
        let expect = match &comment {
            Some(c) => parse_expect(c, start)?,
            None => None,
        };
        if words.is_empty() {
            if expect.is_some() {
                return Err(ParseError::new(
                    start,
                    None,
                    "an expectation needs a command on its line",
                ));
            }
            continue;
        }
        let background = words.last().is_some_and(|w| w == "&");
        if background {
            words.pop();
        }
        if let Some(w) = words
            .iter()
            .find(|w| matches!(w.as_str(), "&" | ";" | "<" | ">" | "`" | "$" | "(" | ")"))
        {
            return Err(ParseError::new(
                start,
                Some(w.clone()),
                "shell syntax is not part of the lab language",
            ));
        }
        let grep = match words.iter().position(|w| w == "|") {
            Some(p) => {
                let g = parse_grep(&words[p + 1..], start)?;
                words.truncate(p);
                Some(g)
            }
            None => None,
        };
        let text = match text.find(" #").or_else(|| text.starts_with('#').then_some(0)) {
            Some(p) if comment.is_some() => text[..p].trim_end().to_string(),
            _ => text,
        };
        out.push(RawLine {
            number: start,
            text,
            words,
            grep,
            background,
            expect,
        });
    }
    if let Some((n, _)) = pending {
        return Err(ParseError::new(n, None, "the last line ends with \"\\\""));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_comments_expectations() {
        let l = lines("# setup\n\nip link add  name br0 type bridge\nping -c 1 10.0.0.1   # expect: fail\n")
            .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].number, 3);
        assert_eq!(
            l[0].words,
            vec!["ip", "link", "add", "name", "br0", "type", "bridge"]
        );
        assert_eq!(l[1].expect, Some(Res::Fail));
        assert_eq!(l[1].text, "ping -c 1 10.0.0.1");
    }

    #[test]
    fn pipes_background_and_quotes() {
        let l = lines("ip netns exec ns1 ip link | grep -v \"ether x\"\ntcpdump -i veth11 icmp &\n").unwrap();
        assert_eq!(
            l[0].grep,
            Some(Grep {
                pattern: "ether x".into(),
                invert: true,
                ignore_case: false
            })
        );
        assert_eq!(l[0].words.len(), 6);
        assert!(l[1].background);
        assert_eq!(l[1].words, vec!["tcpdump", "-i", "veth11", "icmp"]);
        let l = lines("ip link \\\n  show # expect: ok").unwrap();
        assert_eq!(l[0].words, vec!["ip", "link", "show"]);
        assert_eq!(l[0].expect, Some(Res::Ok));
        let l = lines("ping -c 1 10.0.0.1 # Expect: FAIL\nping -c 1 10.0.0.1 #EXPECT: ok\n").unwrap();
        assert_eq!(l[0].expect, Some(Res::Fail));
        assert_eq!(l[1].expect, Some(Res::Ok));
    }

    #[test]
    fn shell_syntax_and_bad_expectations_are_errors() {
        for (src, word) in [
            ("ip link show && ping 1.2.3.4", "&&"),
            ("ip link show; ls", ";"),
            ("ip link | sort", "sort"),
            ("ping 1.1.1.1 # expect: maybe", "maybe"),
            ("echo $HOME", "$"),
        ] {
            let e = lines(src).unwrap_err();
            assert_eq!(e.line, 1, "{src}");
            assert_eq!(e.word.as_deref(), Some(word), "{src}");
        }
        assert!(lines("echo 'open").is_err());
        assert!(lines("# expect: ok").is_err());
    }

    #[test]
    fn grep_filters_lines() {
        let g = Grep {
            pattern: "ether".into(),
            invert: false,
            ignore_case: false,
        };
        assert_eq!(g.apply("a\n link/ether x\nb\n"), " link/ether x\n");
        assert!(!g.matched("nothing"));
        let v = Grep { invert: true, ..g };
        assert_eq!(v.apply("a\n link/ether x\n"), "a\n");
    }
}
