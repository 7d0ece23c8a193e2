//! Creates and deletes N macvlans (default 1000) on a veth lower in a
//! private network namespace, three ways, and prints the times:
//!
//! - `mvl-netlink`: one socket, one `RTM_NEWLINK` (lower given by name, so
//!   one `RTM_GETLINK` too) and one `RTM_DELLINK` per macvlan;
//! - `ip loop`: one `ip link add` and one `ip link del` process per macvlan,
//!   what a shell script or a plugin shelling out does;
//! - `ip -batch`: the same commands through one `ip` process;
//! - `mvl group`: mvl-netlink again, the macvlans in one device group that
//!   one `RTM_DELLINK` deletes (one batch, one RCU grace period).
//!
//! Needs root. Run it with `scripts/bench-netlink.sh` (or
//! `cargo run --release -p mvl-netlink --example bench-netlink -- N ROUNDS`).

use std::io::Write;
use std::num::NonZeroU32;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mvl_core::Mode;
use mvl_netlink::{NetNs, Netlink, NewMacvlanLink};

const IP: &str = "/usr/sbin/ip";

/// Time to create, then time to delete.
type Times = (Duration, Duration);

fn with_mvl_netlink(nl: &mut Netlink, n: usize) -> Times {
    let t = Instant::now();
    for i in 0..n {
        nl.create_macvlan(&NewMacvlanLink::new(format!("mv{i}"), "veth0").mode(Mode::Bridge))
            .expect("create");
    }
    let created = t.elapsed();
    let t = Instant::now();
    for i in 0..n {
        nl.delete_link(format!("mv{i}")).expect("delete");
    }
    (created, t.elapsed())
}

/// The same, the macvlans made in one device group and deleted with one
/// request (one batch in the kernel).
fn with_mvl_netlink_group(nl: &mut Netlink, n: usize) -> Times {
    let g = NonZeroU32::new(77).unwrap();
    let t = Instant::now();
    for i in 0..n {
        nl.create_macvlan(
            &NewMacvlanLink::new(format!("mv{i}"), "veth0")
                .mode(Mode::Bridge)
                .group(g),
        )
        .expect("create");
    }
    let created = t.elapsed();
    let t = Instant::now();
    nl.delete_group(g).expect("delete group");
    (created, t.elapsed())
}

fn run_ip(args: &[&str]) {
    let st = Command::new(IP).args(args).status().expect("run ip");
    assert!(st.success(), "ip {args:?} failed");
}

fn with_ip_loop(ns: &NetNs, n: usize) -> Times {
    ns.run(move || {
        let t = Instant::now();
        for i in 0..n {
            let name = format!("mv{i}");
            run_ip(&[
                "link", "add", &name, "link", "veth0", "type", "macvlan", "mode", "bridge",
            ]);
        }
        let created = t.elapsed();
        let t = Instant::now();
        for i in 0..n {
            run_ip(&["link", "del", &format!("mv{i}")]);
        }
        (created, t.elapsed())
    })
    .expect("enter the namespace")
}

fn ip_batch(ns: &NetNs, script: String) -> Duration {
    ns.run(move || {
        let t = Instant::now();
        let mut c = Command::new(IP)
            .args(["-batch", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("run ip -batch");
        c.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        assert!(c.wait().unwrap().success(), "ip -batch failed");
        t.elapsed()
    })
    .expect("enter the namespace")
}

fn with_ip_batch(ns: &NetNs, n: usize) -> Times {
    let add: String = (0..n)
        .map(|i| format!("link add mv{i} link veth0 type macvlan mode bridge\n"))
        .collect();
    let del: String = (0..n).map(|i| format!("link del mv{i}\n")).collect();
    (ip_batch(ns, add), ip_batch(ns, del))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|s| s.parse().expect("N")).unwrap_or(1000);
    let rounds: usize = args.next().map(|s| s.parse().expect("ROUNDS")).unwrap_or(3);
    if !nix::unistd::geteuid().is_root() {
        eprintln!("bench-netlink needs root (it makes a private network namespace)");
        std::process::exit(2);
    }
    let ns = NetNs::new_private().expect("private namespace");
    let mut nl = Netlink::open_in(&ns).expect("netlink socket");
    nl.add_veth("veth0", "veth1").expect("veth pair");

    let methods = ["mvl-netlink", "ip loop", "ip -batch", "mvl group"];
    let mut runs: Vec<Vec<Times>> = vec![Vec::new(); 4];
    for _ in 0..rounds {
        runs[0].push(with_mvl_netlink(&mut nl, n));
        runs[1].push(with_ip_loop(&ns, n));
        runs[2].push(with_ip_batch(&ns, n));
        runs[3].push(with_mvl_netlink_group(&mut nl, n));
        assert_eq!(nl.macvlans().expect("dump").len(), 0, "everything deleted");
    }
    let med: Vec<(Duration, Duration)> = runs
        .into_iter()
        .map(|r| {
            (
                median(r.iter().map(|t| t.0).collect()),
                median(r.iter().map(|t| t.1).collect()),
            )
        })
        .collect();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!("{n} macvlans created, then deleted; median of {rounds} rounds");
    println!(
        "{:<12} {:>11} {:>11} {:>13} {:>13}",
        "method", "create", "delete", "per create", "per delete"
    );
    for (name, (c, d)) in methods.iter().zip(&med) {
        println!(
            "{name:<12} {:>8.1} ms {:>8.1} ms {:>10.1} µs {:>10.1} µs",
            ms(*c),
            ms(*d),
            us(*c),
            us(*d)
        );
    }
    // How many times longer a method took than mvl-netlink.
    let ratio = |i: usize, f: fn(&(Duration, Duration)) -> Duration| {
        f(&med[i]).as_secs_f64() / f(&med[0]).as_secs_f64()
    };
    println!("time of each method / time of mvl-netlink:");
    println!(
        "  create:          ip loop {:.2}, ip -batch {:.2}",
        ratio(1, |t| t.0),
        ratio(2, |t| t.0)
    );
    println!(
        "  delete:          ip loop {:.2}, ip -batch {:.2} (the kernel waits for an RCU grace period per device)",
        ratio(1, |t| t.1),
        ratio(2, |t| t.1)
    );
    println!(
        "  create + delete: ip loop {:.2}, ip -batch {:.2}",
        ratio(1, |t| t.0 + t.1),
        ratio(2, |t| t.0 + t.1)
    );
    let total = |i: usize| (med[i].0 + med[i].1).as_secs_f64();
    println!(
        "mvl group (one RTM_DELLINK deletes the whole group): create + delete {:.1}x faster than the ip loop",
        total(1) / total(3)
    );
}
