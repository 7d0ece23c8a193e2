//! What the emulator's rule tests share: running command lines as a lab
//! would, and the routed topology.

#![allow(dead_code)] // each test file uses its own part

use mvl_iproute2::Command;
use mvl_sim::{NsId, PingOutcome, Sim, SimError};

/// Runs one command line on the emulator (the commands these tests use).
pub fn run(sim: &mut Sim, line: &str) -> Result<String, SimError> {
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let (netns, cmd) = mvl_iproute2::parse_command(&words).unwrap_or_else(|e| panic!("{line}: {e}"));
    let ns: NsId = sim.netns(netns.as_deref())?;
    let none = |r: Result<(), SimError>| r.map(|()| String::new());
    match &cmd {
        Command::NetnsAdd(n) => none(sim.netns_add(n)),
        Command::LinkAdd(a) => none(sim.link_add(ns, a)),
        Command::LinkSet(s) => none(sim.link_set(ns, s)),
        Command::LinkShow(s) => sim.link_show(ns, s),
        Command::LinkDel(d) => none(sim.link_del(ns, d)),
        Command::AddrAdd(c, d) => none(sim.addr_add(ns, *c, d)),
        Command::AddrDel(c, d) => none(sim.addr_del(ns, *c, d)),
        Command::NeighSet(n) => none(sim.neigh_set_cmd(ns, n)),
        Command::RouteSet(r) => none(sim.route_set(ns, r)),
        Command::RouteShow(r) => sim.route_show(ns, r),
        Command::Sysctl(c) => Ok(sim.sysctl(ns, c)),
        Command::Ping { .. } => {
            let o = ping(sim, line);
            match o.exit_code {
                0 | 1 => Ok(o.output),
                _ => Err(SimError::Tool(o.output)),
            }
        }
        c => panic!("not used here: {c:?}"),
    }
}

/// Runs a ping line, with what ping did.
pub fn ping(sim: &mut Sim, line: &str) -> PingOutcome {
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let (netns, cmd) = mvl_iproute2::parse_command(&words).unwrap_or_else(|e| panic!("{line}: {e}"));
    let ns = sim.netns(netns.as_deref()).unwrap();
    match cmd {
        Command::Ping { ping, .. } => sim.ping(ns, &ping, false),
        c => panic!("not a ping: {c:?}"),
    }
}

/// Runs lines that must all succeed.
pub fn ok(sim: &mut Sim, lines: &str) {
    for l in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
        run(sim, l).unwrap_or_else(|e| panic!("{l}: {e}"));
    }
}

/// The first words of a refusal (the emulator's explanation aside).
pub fn refused(sim: &mut Sim, line: &str) -> String {
    let e = run(sim, line).expect_err(line);
    e.to_string().split(" (").next().unwrap().to_string()
}

/// Host a (10.0.1.2) – router r (10.0.1.1 | 10.0.2.1) – host b (10.0.2.2),
/// each link a veth pair; nothing routed yet, forwarding off.
pub fn routed() -> Sim {
    let mut sim = Sim::new(7);
    ok(
        &mut sim,
        "ip netns add a
         ip netns add r
         ip netns add b
         ip link add va netns a type veth peer name ra netns r
         ip link add vb netns b type veth peer name rb netns r
         ip -n a link set va up
         ip -n r link set ra up
         ip -n r link set rb up
         ip -n b link set vb up
         ip -n a addr add 10.0.1.2/24 dev va
         ip -n r addr add 10.0.1.1/24 dev ra
         ip -n r addr add 10.0.2.1/24 dev rb
         ip -n b addr add 10.0.2.2/24 dev vb",
    );
    sim
}
