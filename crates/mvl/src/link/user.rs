//! `mvl --backend user link ...`: the same words, served by `mvl daemon`.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use mvl_datapath::control::{Client, Request};
use mvl_datapath::{AddRequest, ChildStatus, DevSpec, SetRequest};
use mvl_iproute2::cmd::NewKind;
use mvl_iproute2::Command;

use super::Options;

fn words_to_request(opts: &Options, cmd: Command) -> Result<Request> {
    let ns = opts.netns.clone();
    let dev = |name: String| DevSpec {
        netns: ns.clone(),
        name,
    };
    Ok(match cmd {
        Command::LinkAdd(a) => {
            let NewKind::Macvlan { link, opts: m } = a.kind else {
                bail!("link add makes macvlans: type macvlan");
            };
            let name = a
                .name
                .ok_or_else(|| anyhow!("link add needs the new device's name"))?;
            let link = link.ok_or_else(|| anyhow!("{name}: a macvlan needs its parent: link PARENT"))?;
            Request::Add(AddRequest {
                name,
                link: dev(link),
                netns: a.netns.or_else(|| opts.netns.clone()),
                address: a.address.map(|m| m.to_string()),
                mtu: a.mtu,
                macvlan: m,
                spoofchk: false,
            })
        }
        Command::LinkSet(s) => {
            if s.master.is_some() || s.promisc.is_some() || s.allmulti.is_some() || s.fdb_flush {
                bail!("the user backend changes up/down, address, mtu, name, netns and macvlan options");
            }
            Request::Set(SetRequest {
                dev: dev(s.dev),
                up: s.up,
                address: s.address.map(|m| m.to_string()),
                mtu: s.mtu,
                name: s.name,
                netns: s.netns,
                macvlan: s.macvlan,
                spoofchk: None,
            })
        }
        Command::LinkDel(d) => Request::Del { dev: dev(d) },
        Command::LinkShow(s) => Request::Show {
            netns: ns.clone().filter(|_| s.dev.is_none()),
            dev: s.dev.map(dev),
        },
        _ => bail!("link takes add, set, del or show"),
    })
}

/// `spoofchk on|off` is the user backend's own word: split it off first.
fn spoofchk(words: &[String]) -> (Vec<String>, Option<bool>) {
    let mut out = Vec::new();
    let mut on = None;
    let mut it = words.iter();
    while let Some(w) = it.next() {
        match (w.as_str(), it.clone().next().map(String::as_str)) {
            ("spoofchk", Some("on")) => {
                on = Some(true);
                it.next();
            }
            ("spoofchk", Some("off")) => {
                on = Some(false);
                it.next();
            }
            _ => out.push(w.clone()),
        }
    }
    (out, on)
}

/// Runs the words against the daemon at `socket`.
pub fn run_words(opts: &Options, socket: &Path, words: &[String]) -> Result<String> {
    let (words, spoof) = spoofchk(words);
    let cmd = super::parse(&words)?;
    let mut req = words_to_request(opts, cmd)?;
    match (&mut req, spoof) {
        (_, None) => {}
        (Request::Set(s), on) => s.spoofchk = on,
        (Request::Add(a), Some(on)) => a.spoofchk = on,
        _ => bail!("spoofchk goes with link add or link set"),
    }
    call(opts, socket, req)
}

fn call(opts: &Options, socket: &Path, req: Request) -> Result<String> {
    let show = matches!(req, Request::Show { .. });
    let mut client = Client::connect(socket).map_err(|e| match e.errno() {
        Some(nix::libc::ECONNREFUSED | nix::libc::ENOENT) => anyhow!(
            "no mvl daemon is listening on {} (start one with `mvl daemon`, or name its socket with --socket)",
            socket.display()
        ),
        _ => e.into(),
    })?;
    let v = client.call(&req)?;
    if !show {
        return Ok(String::new());
    }
    let list: Vec<ChildStatus> = serde_json::from_value(v)?;
    if opts.json {
        let arr: Vec<serde_json::Value> = list.iter().map(|c| c.to_ip_json(opts.stats > 0)).collect();
        return Ok(serde_json::to_string(&arr)? + "\n");
    }
    Ok(list
        .iter()
        .map(|c| c.to_text(opts.details, opts.stats > 0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn spoofchk_is_split_off() {
        let (w, on) = spoofchk(&words("set c1 spoofchk on up"));
        assert_eq!((w, on), (words("set c1 up"), Some(true)));
        assert_eq!(spoofchk(&words("show")).1, None);
    }

    #[test]
    fn words_become_requests() {
        let o = Options {
            netns: Some("ns1".into()),
            ..Default::default()
        };
        let cmd = super::super::parse(&words("add c1 link eth0 type macvlan mode bridge")).unwrap();
        match words_to_request(&o, cmd).unwrap() {
            Request::Add(a) => {
                assert_eq!(
                    (a.name.as_str(), a.link.name.as_str(), a.netns.as_deref()),
                    ("c1", "eth0", Some("ns1"))
                );
                assert_eq!(a.macvlan.mode, Some(mvl_core::Mode::Bridge));
            }
            r => panic!("{r:?}"),
        }
        let cmd = super::super::parse(&words("set c1 master br0")).unwrap();
        assert!(words_to_request(&o, cmd).is_err());
    }
}
