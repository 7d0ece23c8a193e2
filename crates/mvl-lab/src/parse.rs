//! From a lab's lines to typed commands: each line's words are read with
//! iproute2's grammar (`mvl-iproute2`), then held to what a lab allows —
//! it never leaves its sandbox, and nothing in it runs forever.

use mvl_iproute2::cmd::NewKind;
use mvl_iproute2::Command;

use crate::ast::{Lab, Line};
use crate::error::ParseError;
use crate::lex::{self, RawLine};

/// Parses a whole lab.
pub fn parse(src: &str) -> Result<Lab, ParseError> {
    let mut lab = Lab::default();
    for raw in lex::lines(src)? {
        lab.lines.push(parse_line(raw)?);
    }
    Ok(lab)
}

/// Parses one line of words.
pub fn parse_line(raw: RawLine) -> Result<Line, ParseError> {
    let err = |word: &str, msg: &str| ParseError::new(raw.number, Some(word.to_string()), msg);
    let (netns, command) = match mvl_iproute2::parse_command(&raw.words) {
        Ok(v) => v,
        Err(e) if e.refused => (None, Command::Refused(e.message)),
        Err(e) => return Err(ParseError::at(raw.number, e)),
    };
    if let Command::Ping { ping, .. } = &command {
        if ping.count.is_none() && ping.deadline.is_none() {
            return Err(err(
                "ping",
                "ping needs -c N or -w S in a lab: without either, ping never ends",
            ));
        }
    }
    if raw.background && !matches!(command, Command::Tcpdump { .. }) {
        return Err(err("&", "only tcpdump may run in the background"));
    }
    sealed(&command).map_err(|(word, msg)| err(word, msg))?;
    if matches!(command, Command::Tcpdump { .. }) && !raw.background {
        return Err(err(
            "tcpdump",
            "tcpdump runs in the background in a lab (end the line with &): in the foreground it would wait forever",
        ));
    }
    Ok(Line {
        number: raw.number,
        text: raw.text,
        words: raw.words.clone(),
        netns,
        command,
        grep: raw.grep,
        expect: raw.expect,
    })
}

/// A lab never leaves its sandbox: its devices move only into its own
/// namespaces, named (iproute2 would take a number as a process id and a
/// path as any namespace of the host), and captures are written only under
/// the lab's folder (relative paths without `..`). A refusal names the word.
fn sealed(command: &Command) -> Result<(), (&str, &'static str)> {
    let netns: Vec<&str> = match command {
        Command::LinkSet(s) => s.netns.iter().map(String::as_str).collect(),
        Command::LinkAdd(a) => {
            let peer = match &a.kind {
                NewKind::Veth { peer_netns, .. } => peer_netns.as_deref(),
                _ => None,
            };
            a.netns.as_deref().into_iter().chain(peer).collect()
        }
        _ => Vec::new(),
    };
    for ns in netns {
        if ns.bytes().all(|b| b.is_ascii_digit()) || ns.contains('/') {
            return Err((
                ns,
                "a lab moves devices only into its own namespaces, by name (a number would be a process's namespace, a path any namespace)",
            ));
        }
    }
    if let Command::Tcpdump { write: Some(w), .. } = command {
        let p = std::path::Path::new(w);
        let escapes = p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if escapes || w.is_empty() {
            return Err((
                w,
                "a capture is written only under the lab's folder: a relative path without \"..\"",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Res;

    fn one(src: &str) -> Line {
        let lab = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(lab.lines.len(), 1);
        lab.lines.into_iter().next().unwrap()
    }

    fn err(src: &str) -> ParseError {
        parse(src).expect_err(src)
    }

    /// The tool's own refusal of a line that the lab still runs.
    fn refused(src: &str) -> String {
        match one(src).command {
            Command::Refused(m) => m,
            c => panic!("{src}: {c:?}"),
        }
    }

    #[test]
    fn lab_lines_carry_expectations_and_greps() {
        let l = one("ip netns exec ns1 ping -c 1 192.168.0.1 # expect: ok");
        assert!(l.command.is_ping());
        assert_eq!(l.expect, Some(Res::Ok));
        let l = one("ip netns exec ns1 ip link | grep ether");
        assert!(matches!(l.command, Command::LinkShow(_)));
        assert!(l.grep.is_some());
        assert!(matches!(
            one("tcpdump -i veth11 icmp &").command,
            Command::Tcpdump { .. }
        ));
    }

    #[test]
    fn errors_name_the_line_and_the_word() {
        let cases = [
            ("ip rule add from 10.0.0.1 table 5", "rule"),
            ("ip link add x type vxlan", "vxlan"),
            ("ping 10.0.0.1", "ping"),
            ("ping 10.0.0.1 &", "ping"),
            ("ping -c 1 example.org", "example.org"),
            ("tcpdump -i eth0", "tcpdump"),
            ("tcpdump -i eth0 tcp port 80 &", "tcp"),
            ("ls -l", "ls"),
            (
                "ip link add thisnameiswaytoolong type bridge",
                "thisnameiswaytoolong",
            ),
            ("sleep -1", "-1"),
        ];
        for (src, word) in cases {
            let e = err(&format!("# comment\n{src}"));
            assert_eq!(e.line, 2, "{src}");
            assert_eq!(e.word.as_deref(), Some(word), "{src}: {e}");
        }
        // What ip itself refuses is a line that fails with ip's words (the
        // grammar's tests hold the words; here, that the lab runs the line).
        for (src, says) in [
            (
                "ip link set eth0 mtu lots",
                "Error: argument \"lots\" is wrong: Invalid \"mtu\" value",
            ),
            (
                "ip link add br0",
                "Not enough information: \"type\" argument is required",
            ),
        ] {
            assert!(refused(&format!("# comment\n{src}")).starts_with(says), "{src}");
        }
        // A lab never leaves its sandbox.
        for (src, word) in [
            ("ip link set v0 netns 1", "1"),
            ("ip link set v0 netns /proc/1/ns/net", "/proc/1/ns/net"),
            ("ip link add v0 netns 42 type veth peer v1", "42"),
            (
                "ip link add v0 type veth peer v1 netns /run/netns/x",
                "/run/netns/x",
            ),
            ("tcpdump -i v0 -w /etc/x.pcap &", "/etc/x.pcap"),
            ("tcpdump -i v0 -w ../x.pcap &", "../x.pcap"),
            ("tcpdump -i v0 -w a/../../x.pcap &", "a/../../x.pcap"),
        ] {
            assert_eq!(err(src).word.as_deref(), Some(word), "{src}");
        }
        assert!(matches!(
            one("tcpdump -i v0 -w caps/x.pcap &").command,
            Command::Tcpdump { .. }
        ));
    }
}
