//! The words each `mvl link` verb takes, as `ip link help` lists them:
//! printed by `mvl link --help`, `mvl link help` and `mvl link VERB help`
//! (also `-h`/`--help` anywhere among the words).

/// `mvl link --help`: the paragraph above the option list.
pub const ABOUT: &str = "Macvlans with iproute2's words. `mvl link` speaks rtnetlink itself (no `ip` \
underneath) to the kernel's macvlan driver, or with --backend user to `mvl daemon`. \
Errors name the device and the rule, and a failed command changes nothing.";

/// `mvl link add help`.
pub const ADD: &str = "\
Usage: mvl link add [name] NAME link PARENT [address LLADDR] [mtu MTU] [netns NS]
                    type macvlan [MACVLAN-OPTIONS] [spoofchk { on | off }]

MACVLAN-OPTIONS := [mode MODE] [nopromisc] [nodst] [flag { nopromisc | nodst | null }]
                   [macaddr { add LLADDR | del LLADDR | set [LLADDR ...] | flush }]
                   [bcqueuelen N] [bclim N]
MODE := { private | vepa | bridge | passthru | source }   (default: vepa)

  nopromisc      passthru only: do not put the lower in promiscuous mode
  nodst          source only: frames from a listed MAC go only to this macvlan
  macaddr        source only: the list of source MACs this macvlan receives from
  bcqueuelen N   length of the broadcast/multicast queue
  bclim N        multicast frames with more than N listeners are queued (-1: always)
  netns NS       create it in namespace NS (a name under /run/netns, a path, or a PID)
  spoofchk       --backend user only: drop frames a child sends with another source MAC
";

/// `mvl link set help`.
pub const SET: &str = "\
Usage: mvl link set [dev] DEV [up | down] [address LLADDR] [mtu MTU] [name NAME]
                    [netns NS] [promisc { on | off }] [allmulticast { on | off }]
                    [type macvlan MACVLAN-OPTIONS] [spoofchk { on | off }]

MACVLAN-OPTIONS as for `mvl link add help`; passthru can neither be entered nor left.
Everything is checked before anything changes: a refused change leaves DEV as it was,
in its namespace, with its name, MTU and address.
--backend user takes up, down, address, mtu, name, netns, macvlan options and spoofchk.
";

/// `mvl link del help`.
pub const DEL: &str = "\
Usage: mvl link del [dev] DEV

Deletes the macvlan DEV (with -n NS, in that namespace).
";

/// `mvl link show help`.
pub const SHOW: &str = "\
Usage: mvl [-j] [-d] [-s [-s]] [-n NS] link show [[dev] DEV] [type KIND]

The output of `ip link show`: -d adds details (the macvlan's mode, flags and
source list), -s statistics (-s -s with the error counters), -j JSON as `ip -j`.
";

/// `mvl link help` and `mvl link --help`: every verb.
pub const ALL: &str = "\
Verbs (each explains itself with `mvl link VERB help`):

  mvl link add NAME link PARENT [address LLADDR] [mtu MTU] [netns NS] type macvlan [MACVLAN-OPTIONS]
  mvl link set DEV [up|down] [address LLADDR] [mtu MTU] [name NAME] [netns NS] [type macvlan MACVLAN-OPTIONS]
  mvl link del DEV
  mvl link show [DEV] [type KIND]

MACVLAN-OPTIONS := [mode { private | vepa | bridge | passthru [nopromisc] | source [nodst] }]
                   [macaddr { add | del | set | flush } [LLADDR ...]] [bcqueuelen N] [bclim N]

Verbs and keywords may be shortened as iproute2 allows (`sh`, `del`, `addr`).
Global options go before `link`: mvl [-n NS] [-j] [-d] [-s [-s]] [--backend user [--socket PATH]] link ...
";

/// The help the words ask for, if they ask: `help`, `-h` or `--help`
/// anywhere. The verb (abbreviated as iproute2 allows) picks the text.
pub fn asked(words: &[String]) -> Option<&'static str> {
    if !words
        .iter()
        .any(|w| matches!(w.as_str(), "help" | "-h" | "--help"))
    {
        return None;
    }
    Some(of_verb(words.first().map(String::as_str).unwrap_or("")).unwrap_or(ALL))
}

/// The help of `verb` (abbreviated as iproute2 allows), if it is one.
pub fn of_verb(verb: &str) -> Option<&'static str> {
    let is = |full: &str| !verb.is_empty() && full.starts_with(verb);
    if is("add") {
        Some(ADD)
    } else if is("set") || is("change") {
        Some(SET)
    } else if is("delete") {
        Some(DEL)
    } else if is("show") || is("list") || verb == "lst" {
        Some(SHOW)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn each_verb_has_its_help() {
        assert_eq!(asked(&words("del --help")), Some(DEL));
        assert_eq!(asked(&words("del mv0 help")), Some(DEL));
        assert_eq!(asked(&words("add -h")), Some(ADD));
        assert_eq!(asked(&words("set mv0 --help")), Some(SET));
        assert_eq!(asked(&words("sh help")), Some(SHOW));
        assert_eq!(asked(&words("help")), Some(ALL));
        assert_eq!(asked(&words("show mv0")), None);
    }
}
