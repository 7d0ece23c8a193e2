//! Random labs for differential testing: one switch (a bridge), 1–3
//! servers whose NIC is a veth to the switch, 1–6 macvlans on those NICs
//! each in a namespace of its own — random modes, flags, source lists,
//! hairpin, devices down, MAC collisions, live mode changes, changes a
//! person makes with `ip` to a macvlan (down and up again, MTU, MAC), static
//! neighbour entries — and the shapes people build next: macvlans on the
//! bridge itself and on such a macvlan, a bridge without ports, carrier
//! flaps, renames, iproute2's own refusals, captures inside namespaces;
//! then a ping (in the forms people type) between every pair of hosts in
//! both directions, the counters after the first of them, the neighbours
//! a host keeps, and a carrier flap after the traffic; and last, a router:
//! a namespace with a macvlan on a server's NIC and a link to a far subnet,
//! routes to it, and pings through it that arrive, run out of time to live
//! or find no route; and after it, packet sizes: smaller MTUs on the way
//! and big pings with each fragmentation hint.

use std::fmt::Write;

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `pct`%.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

/// A host that pings and is pinged: where it lives, its device, the MAC it
/// was given and its address.
struct Host {
    netns: Option<String>,
    dev: String,
    mac: String,
    ip: String,
}

fn in_ns(netns: &Option<String>) -> String {
    match netns {
        Some(n) => format!("ip netns exec {n} "),
        None => String::new(),
    }
}

/// The random lab for `seed`, as lab text.
pub fn random_lab(seed: u64) -> String {
    let mut r = Rng(seed.wrapping_mul(0xA076_1D64_78BD_642F) ^ 0x5eed);
    let mut s = String::new();
    let _ = writeln!(s, "# random lab, seed {seed}");
    let br_mac = "02:ff:00:00:00:fe";
    let _ = writeln!(s, "ip link add name br0 address {br_mac} type bridge");
    let _ = writeln!(s, "ip addr add 10.0.0.254/24 dev br0");
    let _ = writeln!(s, "ip link set br0 up");
    let mut hosts = vec![Host {
        netns: None,
        dev: "br0".into(),
        mac: br_mac.into(),
        ip: "10.0.0.254".into(),
    }];
    let mut known = vec![br_mac.to_string()];

    let lowers = r.range(1, 3);
    for i in 1..=lowers {
        let (sw, nic) = (format!("02:ff:00:00:0{i}:01"), format!("02:ff:00:00:0{i}:02"));
        known.push(sw.clone());
        known.push(nic.clone());
        let _ = writeln!(s, "ip netns add srv{i}");
        let _ = writeln!(
            s,
            "ip link add name sw{i} address {sw} type veth peer nic{i} address {nic}"
        );
        let _ = writeln!(s, "ip link set sw{i} master br0");
        if r.chance(50) {
            let _ = writeln!(s, "bridge link set dev sw{i} hairpin on");
        }
        let _ = writeln!(s, "ip link set sw{i} up");
        let _ = writeln!(s, "ip link set nic{i} netns srv{i}");
        let _ = writeln!(s, "ip -n srv{i} addr add 10.0.0.{}/24 dev nic{i}", 200 + i);
        let _ = writeln!(s, "ip -n srv{i} link set nic{i} up");
        hosts.push(Host {
            netns: Some(format!("srv{i}")),
            dev: format!("nic{i}"),
            mac: nic,
            ip: format!("10.0.0.{}", 200 + i),
        });
    }

    let children = r.range(1, 6);
    let mut child_macs: Vec<(u64, String)> = Vec::new();
    let mut child_modes: Vec<(u64, &str)> = Vec::new();
    for c in 1..=children {
        let i = r.range(1, lowers);
        let mut mac = format!("02:00:00:00:0{i}:{c:02x}");
        if r.chance(10) {
            if let Some((_, m)) = child_macs.iter().find(|(l, _)| *l == i) {
                mac = m.clone(); // a collision with a sibling
            }
        } else if r.chance(5) {
            mac = format!("02:ff:00:00:0{i}:02"); // the lower's own MAC
        }
        child_macs.push((i, mac.clone()));
        known.push(mac.clone());
        let mode = if r.chance(10) {
            "passthru"
        } else {
            *r.pick(&["private", "vepa", "bridge", "source"])
        };
        child_modes.push((c, mode));
        let mut opts = format!("mode {mode}");
        if mode == "source" {
            let n = r.range(0, 3);
            let list: Vec<String> = (0..n).map(|_| r.pick(&known).clone()).collect();
            let _ = write!(opts, " macaddr set {}", list.join(" "));
            if r.chance(30) {
                opts.push_str(" nodst");
            }
        }
        if mode == "passthru" && r.chance(30) {
            opts.push_str(" nopromisc");
        }
        if r.chance(10) {
            opts.push_str(" bcqueuelen 0");
        }
        let _ = writeln!(s, "ip netns add h{c}");
        let _ = writeln!(
            s,
            "ip -n srv{i} link add m{c} link nic{i} address {mac} type macvlan {opts}"
        );
        let _ = writeln!(s, "ip -n srv{i} link set m{c} netns h{c}");
        let _ = writeln!(s, "ip -n h{c} addr add 10.0.0.{c}/24 dev m{c}");
        if !r.chance(10) {
            let _ = writeln!(s, "ip -n h{c} link set m{c} up");
        }
        hosts.push(Host {
            netns: Some(format!("h{c}")),
            dev: format!("m{c}"),
            mac,
            ip: format!("10.0.0.{c}"),
        });
    }

    // Where people go next: macvlans on the bridge itself (libvirt's vmbr0),
    // a macvlan on such a macvlan, and a bridge without ports.
    if r.chance(35) {
        for b in 1..=r.range(1, 2) {
            let mode = *r.pick(&["private", "vepa", "bridge", "bridge"]);
            let (ns, dev) = (format!("vm{b}"), format!("mb{b}"));
            let mac = format!("02:00:00:00:0b:{b:02x}");
            known.push(mac.clone());
            let _ = writeln!(s, "ip netns add {ns}");
            let _ = writeln!(
                s,
                "ip link add {dev} link br0 address {mac} type macvlan mode {mode}"
            );
            let top = if b == 2 && r.chance(50) {
                // On top of the first: one more macvlan on br0's port.
                let _ = writeln!(s, "ip link set {dev} up");
                let m = format!("02:00:00:00:0c:{b:02x}");
                known.push(m.clone());
                let _ = writeln!(
                    s,
                    "ip link add {dev}s link {dev} address {m} type macvlan mode bridge"
                );
                (format!("{dev}s"), m)
            } else {
                (dev.clone(), mac)
            };
            let _ = writeln!(s, "ip link set {} netns {ns}", top.0);
            let _ = writeln!(s, "ip -n {ns} addr add 10.0.0.{}/24 dev {}", 100 + b, top.0);
            let _ = writeln!(s, "ip -n {ns} link set {} up", top.0);
            hosts.push(Host {
                netns: Some(ns),
                dev: top.0,
                mac: top.1,
                ip: format!("10.0.0.{}", 100 + b),
            });
        }
    }
    let mut portless = Vec::new();
    if r.chance(15) {
        let _ = writeln!(s, "ip link add name br9 type bridge");
        if r.chance(50) {
            let _ = writeln!(s, "ip addr add 10.9.0.254/24 dev br9");
            portless.push(Host {
                netns: None,
                dev: "br9".into(),
                mac: String::new(),
                ip: "10.9.0.254".into(),
            });
        }
        let _ = writeln!(s, "ip link set br9 up");
        for k in 1..=2 {
            let _ = writeln!(s, "ip netns add pl{k}");
            let _ = writeln!(
                s,
                "ip link add pm{k} link br9 netns pl{k} type macvlan mode bridge"
            );
            let _ = writeln!(s, "ip -n pl{k} addr add 10.9.0.{k}/24 dev pm{k}");
            let _ = writeln!(s, "ip -n pl{k} link set pm{k} up");
            portless.push(Host {
                netns: Some(format!("pl{k}")),
                dev: format!("pm{k}"),
                mac: String::new(),
                ip: format!("10.9.0.{k}"),
            });
        }
    }

    // Live changes after everything is up.
    if r.chance(30) {
        let (c, _) = *r.pick(&child_modes);
        let mode = r.pick(&["private", "vepa", "bridge", "source"]);
        let _ = writeln!(s, "ip -n h{c} link set m{c} type macvlan mode {mode}");
    }
    // What a person does to a macvlan with `ip`: down (and up again), an
    // MTU (one the lower allows, or one it refuses), a MAC (a new one, a
    // sibling's or the lower's).
    for c in 1..=children {
        let i = child_macs[c as usize - 1].0;
        if r.chance(12) {
            let _ = writeln!(s, "ip -n h{c} link set m{c} down");
            if r.chance(50) {
                let _ = writeln!(s, "ip -n h{c} link set m{c} up");
            }
        }
        if r.chance(10) {
            let mtu = r.pick(&[1280, 1400, 1500, 9000]);
            let _ = writeln!(s, "ip -n h{c} link set m{c} mtu {mtu}");
        }
        if r.chance(10) {
            let mac = match r.range(0, 2) {
                0 => format!("02:00:00:01:0{i}:{c:02x}"),
                1 => r.pick(&child_macs).1.clone(),
                _ => format!("02:ff:00:00:0{i}:02"),
            };
            let _ = writeln!(s, "ip -n h{c} link set m{c} address {mac}");
        }
    }
    if r.chance(15) {
        let i = r.range(1, lowers);
        let _ = writeln!(s, "ip link set sw{i} down");
    }
    if r.chance(20) {
        let i = r.range(1, lowers);
        let _ = writeln!(
            s,
            "bridge link set dev sw{i} hairpin {}",
            if r.chance(50) { "on" } else { "off" }
        );
    }
    // An address written in by hand (the host's own or another known MAC):
    // it outlives the flushes before each ping, and ARP cannot change it.
    if r.chance(25) {
        let a = &hosts[r.range(0, hosts.len() as u64 - 1) as usize];
        let b = &hosts[r.range(0, hosts.len() as u64 - 1) as usize];
        let mac = if r.chance(70) { &b.mac } else { r.pick(&known) };
        if a.ip != b.ip {
            let _ = writeln!(
                s,
                "{}ip neigh replace {} lladdr {mac} dev {}",
                in_ns(&a.netns),
                b.ip,
                a.dev
            );
        }
    }
    // A carrier flap of a bridge port; Linux passes a lower's new carrier
    // on to its macvlans within a second.
    if r.chance(15) {
        let i = r.range(1, lowers);
        let _ = writeln!(s, "ip link set sw{i} down");
        let _ = writeln!(s, "ip link set sw{i} up");
        let _ = writeln!(s, "sleep 1");
    }
    // A renamed macvlan (down for the rename, as the kernel requires).
    if r.chance(15) {
        let k = r.range(1, hosts.len() as u64 - 1) as usize;
        if hosts[k].dev.starts_with('m') {
            let ns = in_ns(&hosts[k].netns);
            let (old, new) = (hosts[k].dev.clone(), format!("e{}", hosts[k].dev));
            let _ = writeln!(s, "{ns}ip link set {old} down");
            let _ = writeln!(s, "{ns}ip link set {old} name {new}");
            let _ = writeln!(s, "{ns}ip link set {new} up");
            hosts[k].dev = new;
        }
    }
    // Words iproute2 itself refuses, mixed into a valid lab: each is a line
    // that fails, and the lab goes on.
    if r.chance(20) {
        let i = r.range(1, lowers);
        let bad = *r.pick(&[
            "type macvlan mode nosuchmode",
            "type macvlan nopromisc",
            "mtu abc type macvlan",
            "address zz:00:00:00:00:01 type macvlan",
            "type macvlan flag bogus",
        ]);
        let _ = writeln!(s, "ip -n srv{i} link add bad{i} link nic{i} {bad}");
    }
    // A create with several faults at once: the kernel answers with the
    // first in its order of checks (addresses, MTU range, then the driver).
    // Should every part be fine, one more macvlan stays down on the lower.
    if r.chance(25) {
        let i = r.range(1, lowers);
        let mut words = String::new();
        if r.chance(60) {
            let mac = r.pick(&["01:00:5e:00:00:01", "00:00:00:00:00:00", "02:00:00:00:0d:01"]);
            let _ = write!(words, " address {mac}");
        }
        if r.chance(60) {
            let _ = write!(words, " mtu {}", r.pick(&[50, 70000, 9000, 1400]));
        }
        let _ = write!(
            words,
            " type macvlan mode {}",
            r.pick(&["source", "bridge", "passthru"])
        );
        if r.chance(60) {
            let op = r.pick(&[
                "add 01:00:5e:00:00:02",
                "set 33:33:00:00:00:01 02:00:00:00:0d:09",
                "add 02:00:00:00:0d:08",
            ]);
            let _ = write!(words, " macaddr {op}");
        }
        let _ = writeln!(s, "ip -n srv{i} link add x{i} link nic{i}{words}");
    }
    // Captures, in the namespaces that hold the devices, and on a port.
    let mut captured = 0;
    for h in &hosts {
        if captured < 2 && h.netns.is_some() && r.chance(15) {
            let filter = r.pick(&["", " icmp", " arp", " -e"]);
            let _ = writeln!(s, "{}tcpdump -i {}{filter} &", in_ns(&h.netns), h.dev);
            captured += 1;
        }
    }
    if r.chance(15) {
        let _ = writeln!(s, "tcpdump -i sw{} -e &", r.range(1, lowers));
    }
    let _ = writeln!(s, "sleep 0.5");

    // Where the counters go, if they do: right after the first ping, while
    // no neighbour timer of the kernel's (real time) can have run yet.
    let mut first_ping: Option<(usize, usize, String)> = None;
    for group in [&hosts, &portless] {
        for a in group.iter() {
            for b in group.iter() {
                if a.ip == b.ip {
                    continue;
                }
                let pair_at = s.len();
                let _ = writeln!(s, "{}ip neigh flush all", in_ns(&a.netns));
                let _ = writeln!(s, "{}ip neigh flush all", in_ns(&b.netns));
                // The forms of ping people type.
                let form = match r.range(0, 9) {
                    0 => format!("-I {} ", a.dev),
                    1 => format!("-I {} ", a.ip),
                    2 => "-c 2 -i 0.2 ".to_string(),
                    _ => String::new(),
                };
                let count = if form.starts_with("-c") { "" } else { "-c 1 " };
                let _ = writeln!(s, "{}ping {count}{form}-W 0.2 {}", in_ns(&a.netns), b.ip);
                if first_ping.is_none() {
                    let pinger = format!("{}ip -s link show {}", in_ns(&a.netns), a.dev);
                    first_ping = Some((pair_at, s.len(), pinger));
                }
            }
        }
    }
    // A ping in a namespace that is not there is an error, not a failed ping.
    if r.chance(10) {
        let _ = writeln!(s, "ip netns exec nosuchns ping -c 1 -W 0.2 10.0.0.254");
    }
    // Neighbours after the traffic.
    if r.chance(25) {
        let h = &hosts[r.range(0, hosts.len() as u64 - 1) as usize];
        let _ = writeln!(s, "{}ip neigh show", in_ns(&h.netns));
    }
    // A port's carrier flaps after the traffic: the server behind it (and
    // its macvlans) lost carrier, and with it their neighbours.
    if r.chance(20) {
        let i = r.range(1, lowers);
        let _ = writeln!(s, "ip link set sw{i} down");
        let _ = writeln!(s, "ip link set sw{i} up");
        let _ = writeln!(s, "sleep 1");
        let _ = writeln!(s, "ip netns exec srv{i} ip neigh show");
    }
    // Counters after the first ping: the switch's, the first server's and
    // the pinger's. Later in a random lab the kernel's neighbour timers,
    // running in real time, add ARP probes that virtual time does not
    // reach; and a second before the ping lets the kernel's link watch
    // (which applies a carrier loss within a second) settle, as the
    // emulator's has. Drawn last, so that the rest of each seed's lab
    // stays as it was.
    if let (true, Some((pair_at, at, pinger))) = (r.chance(30), first_ping) {
        let lines = format!("ip -s link show\nip netns exec srv1 ip -s link show\n{pinger}\n");
        s.insert_str(at, &lines);
        s.insert_str(pair_at, "sleep 1\n");
    }
    let routed = r.chance(30);
    if routed {
        router(&mut r, &mut s, lowers, &hosts);
    }
    if r.chance(30) {
        sizes(&mut r, &mut s, lowers, &hosts, routed);
    }
    s
}

/// Packet sizes: a device somewhere takes less (a host's own device, a
/// switch port, the router's far side), then big pings between hosts in
/// the forms people type — fragmented by default, `-M do`, `-M dont` — and
/// sometimes one under a deadline.
fn sizes(r: &mut Rng, s: &mut String, lowers: u64, hosts: &[Host], routed: bool) {
    for _ in 0..r.range(1, 2) {
        let mtu = r.pick(&[1280, 1400, 1450]);
        if r.chance(60) {
            let h = &hosts[r.range(0, hosts.len() as u64 - 1) as usize];
            let _ = writeln!(s, "{}ip link set {} mtu {mtu}", in_ns(&h.netns), h.dev);
        } else {
            let _ = writeln!(s, "ip link set sw{} mtu {mtu}", r.range(1, lowers));
        }
    }
    if routed && r.chance(50) {
        let _ = writeln!(s, "ip -n rt link set rv mtu 1400");
        let _ = writeln!(s, "ip -n far link set fv mtu 1400");
    }
    for _ in 0..r.range(2, 4) {
        let a = &hosts[r.range(0, hosts.len() as u64 - 1) as usize];
        let dst = if routed && r.chance(30) {
            "10.7.0.2".to_string()
        } else {
            hosts[r.range(0, hosts.len() as u64 - 1) as usize].ip.clone()
        };
        if dst == a.ip {
            continue;
        }
        let size = r.pick(&[1200, 1372, 1422, 1450, 1472, 2000, 3000]);
        let hint = r.pick(&["", "", "-M do ", "-M dont ", "-M want "]);
        let _ = writeln!(s, "{}ping -c 1 -W 0.5 {hint}-s {size} {dst}", in_ns(&a.netns));
    }
    if r.chance(15) {
        let a = &hosts[r.range(0, hosts.len() as u64 - 1) as usize];
        let b = &hosts[r.range(0, hosts.len() as u64 - 1) as usize];
        if a.ip != b.ip {
            let _ = writeln!(s, "{}ping -c 2 -w 2 -s 1000 {}", in_ns(&a.netns), b.ip);
        }
    }
}

/// A router between the switch's subnet and a far one: namespace `rt` with
/// a macvlan on a server's NIC (10.0.0.250) and a veth to namespace `far`
/// (10.7.0.0/24); forwarding on or not, routes on both sides or not, then
/// pings from a host of the switch through it — to the far host, with a
/// time to live of 1, and to a subnet nobody routes.
fn router(r: &mut Rng, s: &mut String, lowers: u64, hosts: &[Host]) {
    let i = r.range(1, lowers);
    let mode = *r.pick(&["bridge", "vepa", "private", "bridge"]);
    let _ = writeln!(s, "ip netns add rt");
    let _ = writeln!(s, "ip netns add far");
    let _ = writeln!(
        s,
        "ip -n srv{i} link add r1 link nic{i} address 02:00:00:00:0e:01 type macvlan mode {mode}"
    );
    let _ = writeln!(s, "ip -n srv{i} link set r1 netns rt");
    let _ = writeln!(s, "ip link add rv netns rt type veth peer name fv netns far");
    let _ = writeln!(s, "ip -n rt addr add 10.0.0.250/24 dev r1");
    let _ = writeln!(s, "ip -n rt addr add 10.7.0.1/24 dev rv");
    let _ = writeln!(s, "ip -n far addr add 10.7.0.2/24 dev fv");
    for (ns, dev) in [("rt", "r1"), ("rt", "rv"), ("far", "fv")] {
        let _ = writeln!(s, "ip -n {ns} link set {dev} up");
    }
    if r.chance(80) {
        let _ = writeln!(s, "ip netns exec rt sysctl -w net.ipv4.ip_forward=1");
    }
    match r.range(0, 4) {
        0 => {}
        1 => {
            let _ = writeln!(s, "ip -n far route add 10.0.0.0/24 via 10.7.0.1");
        }
        _ => {
            let _ = writeln!(s, "ip -n far route add default via 10.7.0.1");
        }
    }
    let a = &hosts[r.range(0, hosts.len() as u64 - 1) as usize];
    let ns = in_ns(&a.netns);
    let (dst, metric) = if r.chance(50) {
        ("default", String::new())
    } else {
        ("10.7.0.0/24", format!(" metric {}", r.range(0, 2) * 10))
    };
    let _ = writeln!(s, "{ns}ip route add {dst} via 10.0.0.250{metric}");
    if r.chance(30) {
        // A second route to the same place: refused, or kept beside it.
        let _ = writeln!(s, "{ns}ip route add {dst} via 10.0.0.249 metric 20");
    }
    if r.chance(40) {
        let _ = writeln!(s, "{ns}ip route");
    }
    let _ = writeln!(s, "{ns}ip neigh flush all");
    let _ = writeln!(s, "ip -n rt neigh flush all");
    let _ = writeln!(s, "{ns}ping -c 1 -W 0.5 10.7.0.2");
    if r.chance(40) {
        let _ = writeln!(s, "{ns}ping -c 1 -W 0.5 -t 1 10.7.0.2");
    }
    if r.chance(40) {
        let _ = writeln!(s, "{ns}ping -c 1 -W 0.5 10.8.0.1");
    }
    if r.chance(30) {
        // The route goes with its device, which comes back without it.
        // (A second for far's carrier, which Linux applies within one.)
        let _ = writeln!(s, "ip -n rt link set rv down");
        let _ = writeln!(s, "ip -n rt link set rv up");
        let _ = writeln!(s, "sleep 1");
        let _ = writeln!(s, "ip -n far route");
        let _ = writeln!(s, "{ns}ping -c 1 -W 0.5 10.7.0.2");
    }
    if r.chance(30) {
        let _ = writeln!(s, "{ns}ip route del {dst} via 10.0.0.250");
        let _ = writeln!(s, "{ns}ping -c 1 -W 0.5 10.7.0.2");
    }
}

/// A lab at scale: `lowers` servers on one switch, `macvlans` bridge-mode
/// macvlans spread over them, each in a namespace of its own with an
/// address, then `pings` pings between macvlans chosen round-robin (half on
/// the same server, half across the switch). Used by the benchmarks.
pub fn scale_lab(lowers: u32, macvlans: u32, pings: u32) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {macvlans} macvlans on {lowers} lowers, {pings} pings");
    let _ = writeln!(s, "ip link add name br0 type bridge");
    let _ = writeln!(s, "ip link set br0 up");
    for i in 0..lowers {
        let _ = writeln!(s, "ip link add name sw{i} type veth peer nic{i}");
        let _ = writeln!(s, "ip link set sw{i} master br0");
        let _ = writeln!(s, "ip link set sw{i} up");
        let _ = writeln!(s, "ip link set nic{i} up");
    }
    // Hosts 10.100.0.1, 10.100.0.2, ... (a /8 leaves room for any count).
    let ip = |m: u32| {
        let n = m + 1;
        format!("10.{}.{}.{}", 100 + n / 65536, (n / 256) % 256, n % 256)
    };
    for m in 0..macvlans {
        let i = m % lowers;
        let _ = writeln!(s, "ip netns add g{m}");
        let _ = writeln!(
            s,
            "ip link add m{m} link nic{i} netns g{m} type macvlan mode bridge"
        );
        let _ = writeln!(s, "ip -n g{m} addr add {}/8 dev m{m}", ip(m));
        let _ = writeln!(s, "ip -n g{m} link set m{m} up");
    }
    for p in 0..pings {
        let a = (p * 7919) % macvlans;
        // Every other ping stays on one lower (bridge mode, local); the rest cross the switch.
        let b = if p % 2 == 0 {
            (a + lowers) % macvlans
        } else {
            (a + 1) % macvlans
        };
        let _ = writeln!(s, "ip netns exec g{a} ping -c 1 -W 1 {}   # expect: ok", ip(b));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_labs_parse_and_are_deterministic() {
        for seed in 0..200 {
            let text = random_lab(seed);
            assert_eq!(text, random_lab(seed));
            let lab = crate::parse(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
            assert!(lab.lines.iter().any(|l| l.command.is_ping()), "seed {seed}");
        }
        assert_ne!(random_lab(1), random_lab(2));
    }

    #[test]
    fn scale_lab_holds_on_the_emulator() {
        let lab = crate::parse(&scale_lab(3, 30, 20)).unwrap();
        let mut b = crate::SimBackend::new(1, std::env::temp_dir(), None);
        let rep = crate::run(&lab, &mut b, crate::RunOptions::default(), |_| {}).unwrap();
        assert_eq!(
            rep.exit_code(),
            0,
            "{:?}",
            rep.lines.iter().filter(|l| !l.holds()).collect::<Vec<_>>()
        );
    }
}
