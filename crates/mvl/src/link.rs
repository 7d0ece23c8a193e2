//! `mvl link`: kernel macvlans with iproute2's words.
//!
//! `mvl [-n NS] [-j] [-d] link add|set|del|show ...` takes the words of
//! `ip link` (parsed by `mvl_iproute2::parse_command`, so the grammar and the
//! abbreviations are iproute2's) and runs the request with `mvl-netlink`.
//! The kernel judges it; a refusal is explained by replaying the request on
//! the core's rules, and prints `mvl: ...` naming the rule and the devices,
//! exits 1 and leaves nothing behind. With
//! `--backend user` the same words go to `mvl daemon` (the userspace
//! datapath) instead.

pub mod help;
mod show;
mod user;

use anyhow::{anyhow, bail, Context, Result};
use mvl_iproute2::cmd::{LinkAdd, LinkSet, LinkShow, NewKind};
use mvl_iproute2::Command;
use mvl_netlink::{Link, LinkChange, LinkRef, NetNs, Netlink, NewMacvlanLink};

/// The global options `mvl` takes before `link`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-n NS`: the namespace (a name under /run/netns, a path, or a PID).
    pub netns: Option<String>,
    /// `-j`: JSON output.
    pub json: bool,
    /// `-d`: details.
    pub details: bool,
    /// `-s`: statistics as `ip -s` (1), with the error counters (2, `-s -s`);
    /// per-child counters and drops with the user backend.
    pub stats: u8,
    /// `--backend user`: the request goes to `mvl daemon` at this socket.
    pub user_socket: Option<std::path::PathBuf>,
}

/// Runs `mvl link WORDS...`; prints the output or `mvl: ERROR` and
/// returns the exit code.
pub fn main(opts: &Options, words: &[String]) -> i32 {
    if let Some(text) = help::asked(words) {
        crate::emit(text);
        return 0;
    }
    match run(opts, words) {
        Ok(out) => {
            crate::emit(&out);
            0
        }
        Err(e) => {
            eprintln!("mvl: {}", crate::error_chain(&e));
            1
        }
    }
}

/// The command's output, or why it failed.
pub fn run(opts: &Options, words: &[String]) -> Result<String> {
    if let Some(socket) = &opts.user_socket {
        return user::run_words(opts, socket, words);
    }
    let cmd = parse(words)?;
    let mut nl = match &opts.netns {
        Some(ns) => Netlink::open_in(&NetNs::from_arg(ns)?)?,
        None => Netlink::open()?,
    };
    match cmd {
        Command::LinkAdd(a) => add(&mut nl, a).map(|()| String::new()),
        Command::LinkSet(s) => set(&mut nl, s).map(|()| String::new()),
        Command::LinkDel(dev) => nl.delete_link(dev).map(|()| String::new()).map_err(Into::into),
        Command::LinkShow(s) => show(&mut nl, &s, opts),
        _ => bail!("link takes add, set, del or show (see mvl link help)"),
    }
}

/// The refusal of a kind of device that `mvl link` does not make.
fn only_macvlans(verb: &str, kind: &str) -> anyhow::Error {
    anyhow!("link {verb}: type {kind}: mvl link handles macvlans only (type macvlan); use ip link for {kind} devices")
}

/// The words after `link`, with iproute2's grammar. A refusal names the
/// verb, the word and where to read the grammar.
fn parse(words: &[String]) -> Result<Command> {
    let verb = words.first().map(String::as_str).unwrap_or_default();
    // `type` takes a kind: mvl link makes and changes only macvlans.
    if let Some(kind) = words
        .iter()
        .position(|w| w == "type")
        .and_then(|i| words.get(i + 1))
    {
        let changes = !verb.is_empty() && ["add", "set", "change"].iter().any(|v| v.starts_with(verb));
        let set_bridge = kind == "bridge" && !"add".starts_with(verb);
        if changes && kind != "macvlan" && !set_bridge {
            return Err(only_macvlans(verb, kind));
        }
    }
    let mut w = vec!["ip".to_string(), "link".to_string()];
    w.extend(words.iter().cloned());
    match mvl_iproute2::parse_command(&w) {
        Ok((_, cmd)) => Ok(cmd),
        Err(e) => {
            let what = match e.word {
                // iproute2's own words already name the word; its usage text is
                // what `help` shows.
                _ if e.refused => {
                    let first = e.message.lines().next().unwrap_or_default();
                    first.trim_start_matches("Error: ").to_string()
                }
                Some(w) if e.message == "not supported" => format!("\"{w}\" is not supported"),
                Some(w) => format!("{} (at \"{w}\")", e.message),
                None => e.message,
            };
            let topic = match help::of_verb(verb) {
                Some(_) => format!("mvl link {verb} help"),
                None => "mvl link help".to_string(),
            };
            Err(anyhow!("link {verb}: {what}; see {topic}"))
        }
    }
}

fn add(nl: &mut Netlink, a: LinkAdd) -> Result<()> {
    let (link, opts) = match a.kind {
        NewKind::Macvlan { link, opts } => (link, opts),
        NewKind::Veth { .. } => return Err(only_macvlans("add", "veth")),
        NewKind::Bridge => return Err(only_macvlans("add", "bridge")),
    };
    let name = a
        .name
        .ok_or_else(|| anyhow!("link add needs the new device's name"))?;
    let lower = link.ok_or_else(|| anyhow!("{name}: a macvlan needs its parent: link PARENT"))?;
    let netns = a.netns.as_deref().map(NetNs::from_arg).transpose()?;
    let req = NewMacvlanLink {
        name,
        lower: LinkRef::Name(lower),
        macvlan: opts,
        address: a.address,
        mtu: a.mtu,
        netns,
        group: None,
    };
    nl.create_macvlan(&req)?;
    Ok(())
}

fn set(nl: &mut Netlink, s: LinkSet) -> Result<()> {
    if s.master.is_some() {
        bail!("link set does not enslave devices (master/nomaster): use ip");
    }
    if s.fdb_flush {
        bail!("link set does not flush bridge FDBs: use ip");
    }
    let dev = s.dev.clone();
    let change = LinkChange {
        up: s.up,
        promisc: s.promisc,
        allmulti: s.allmulti,
        address: s.address,
        mtu: s.mtu,
        name: s.name.clone(),
        netns: s
            .netns
            .as_deref()
            .map(NetNs::from_arg)
            .transpose()
            .context("netns")?,
        macvlan: s.macvlan.clone(),
    };
    if change.is_empty() {
        bail!("link set {dev}: nothing to change (see mvl link set help)");
    }
    nl.set_link(dev.as_str(), &change)?;
    Ok(())
}

fn show(nl: &mut Netlink, s: &LinkShow, opts: &Options) -> Result<String> {
    let details = opts.details || s.details;
    let stats = opts.stats.max(u8::from(s.stats));
    let target = match (&s.dev, stats > 0) {
        (Some(d), false) => Some(nl.link(d.as_str())?),
        (Some(d), true) => Some(nl.link_with_stats(d.as_str())?),
        (None, _) => None,
    };
    let all = if stats > 0 && target.is_none() {
        nl.links_with_stats()?
    } else {
        nl.links()?
    };
    let names = nl.netns_names()?;
    let ns = show::Ns::new(&all, &names);
    // `master M`: its ports (iproute2 looks the master up first).
    let master = match &s.master {
        Some(m) => Some(
            all.iter()
                .find(|l| &l.name == m)
                .map(|l| l.index)
                .ok_or_else(|| anyhow!("Error: argument \"{m}\" is wrong: Device does not exist"))?,
        ),
        None => None,
    };
    let picked: Vec<&Link> = match &target {
        Some(t) => vec![t],
        None => all
            .iter()
            .filter(|l| s.kind.as_ref().is_none_or(|k| l.kind.as_ref() == Some(k)))
            .filter(|l| master.is_none_or(|m| l.master == Some(m)))
            .collect(),
    };
    let how = mvl_iproute2::show::How { details, stats };
    if opts.json {
        return Ok(show::json(&picked, &ns, how));
    }
    Ok(picked.iter().map(|l| show::text(l, &ns, how)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mvl_core::Mode;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn words_parse_with_iproute2_grammar() {
        let Command::LinkAdd(a) = parse(&words(
            "add mv0 link eth0 address 02:00:00:00:00:01 mtu 1400 type macvlan mode source nodst macaddr set 02:00:00:00:00:02 bcqueuelen 5 bclim -1",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.name.as_deref(), Some("mv0"));
        assert_eq!(a.mtu, Some(1400));
        let NewKind::Macvlan { link, opts } = a.kind else {
            panic!()
        };
        assert_eq!(link.as_deref(), Some("eth0"));
        assert_eq!(opts.mode, Some(Mode::Source));
        assert_eq!(opts.bc_cutoff, Some(-1));
        assert!(matches!(parse(&words("sh mv0")).unwrap(), Command::LinkShow(_)));
        assert!(matches!(parse(&words("del mv0")).unwrap(), Command::LinkDel(d) if d == "mv0"));
    }

    #[test]
    fn refusals_of_iproute2_itself() {
        let e = parse(&words("add mv0 link eth0 type macvlan mode bridg")).unwrap_err();
        assert!(e.to_string().contains("argument of \"mode\" must be"), "{e}");
        let e = parse(&words("add mv0 link eth0 type macvlan nopromisc")).unwrap_err();
        assert!(
            e.to_string()
                .contains("nopromisc flag only valid in passthru mode"),
            "{e}"
        );
    }
}
