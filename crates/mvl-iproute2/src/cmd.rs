//! Typed requests: what one command asks of a host. The parser produces
//! these; the emulator, the lab runner and `mvl link` carry them out.

use std::net::Ipv4Addr;

use mvl_core::MacAddr;

/// The macvlan options of `ip link add|set ... type macvlan ...`: the
/// core's change request, from parser to port.
pub use mvl_core::MacvlanChange;

/// The kind of a new link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewKind {
    /// A veth pair; the peer's name, and optionally its MAC, MTU and namespace.
    Veth {
        /// Peer name (the kernel picks `vethN` when absent).
        peer: Option<String>,
        /// Peer address.
        peer_address: Option<MacAddr>,
        /// Peer MTU.
        peer_mtu: Option<u32>,
        /// Peer namespace.
        peer_netns: Option<String>,
    },
    /// A Linux bridge.
    Bridge,
    /// A macvlan on `link`.
    Macvlan {
        /// The parent device (the kernel refuses a macvlan without one).
        link: Option<String>,
        /// Its options.
        opts: MacvlanChange,
    },
}

/// `ip link add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkAdd {
    /// Name (the kernel picks one when absent).
    pub name: Option<String>,
    /// MAC address.
    pub address: Option<MacAddr>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Create it directly in this namespace.
    pub netns: Option<String>,
    /// What to create.
    pub kind: NewKind,
    /// What iproute2 printed on stderr while reading the words, going on.
    pub warnings: Vec<String>,
}

/// `ip link set DEV ...`: every change one command may carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkSet {
    /// The device.
    pub dev: String,
    /// `up` / `down`.
    pub up: Option<bool>,
    /// `master B` (Some(Some)), `nomaster` (Some(None)).
    pub master: Option<Option<String>>,
    /// `netns NS`.
    pub netns: Option<String>,
    /// `name N`.
    pub name: Option<String>,
    /// `address M`.
    pub address: Option<MacAddr>,
    /// `mtu N`.
    pub mtu: Option<u32>,
    /// `promisc on|off`.
    pub promisc: Option<bool>,
    /// `allmulticast on|off`.
    pub allmulti: Option<bool>,
    /// `type macvlan ...`.
    pub macvlan: Option<MacvlanChange>,
    /// `type bridge fdb_flush`.
    pub fdb_flush: bool,
    /// What iproute2 printed on stderr while reading the words, going on.
    pub warnings: Vec<String>,
}

/// How `ip` prints what it shows: `-br` (one line per device, brief),
/// `-o` (one line per record), `-j` (JSON). `-br` wins over the others, as
/// in iproute2, and with `-j` is a brief JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShowForm {
    /// `-br`.
    pub brief: bool,
    /// `-o`.
    pub oneline: bool,
    /// `-j`.
    pub json: bool,
    /// `-p`: JSON laid out over lines (nothing without `-j`).
    pub pretty: bool,
}

/// `ip link show` filters and style.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkShow {
    /// Only this device.
    pub dev: Option<String>,
    /// Only devices of this kind (`veth`, `bridge`, `macvlan`).
    pub kind: Option<String>,
    /// Only the ports of this master (`master br0`).
    pub master: Option<String>,
    /// `-d`: details.
    pub details: bool,
    /// `-s`: statistics.
    pub stats: bool,
    /// `up`: only devices that are up.
    pub up: bool,
    /// `-br`, `-o`, `-j`.
    pub form: ShowForm,
}

/// `ip [-4] addr show [dev X] [up]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddrShow {
    /// Only this device.
    pub dev: Option<String>,
    /// `up`: only devices that are up.
    pub up: bool,
    /// `-4`: only devices with an IPv4 address.
    pub ipv4: bool,
    /// `-br`, `-o`, `-j`.
    pub form: ShowForm,
}

/// An IPv4 address with its prefix, as `ip addr add 192.168.0.1/24` gives
/// it (the host bits kept).
pub use ipnet::Ipv4Net;

/// `A.B.C.D[/N]` as iproute2 reads an address: without `/N` the prefix is 32.
pub fn parse_ipv4_net(s: &str) -> Option<Ipv4Net> {
    match s.split_once('/') {
        Some(_) => s.parse().ok(),
        None => s.parse::<Ipv4Addr>().ok().map(Ipv4Net::from),
    }
}

/// The directed broadcast address Linux gives `net`: none for /31 and /32.
pub fn directed_broadcast(net: Ipv4Net) -> Option<Ipv4Addr> {
    (net.prefix_len() < 31).then(|| net.broadcast())
}

/// How `ip neigh` writes an entry: `add` (it must not exist), `replace`
/// (created or overwritten), `change` (it must exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighOp {
    /// `ip neigh add`.
    Add,
    /// `ip neigh replace`.
    Replace,
    /// `ip neigh change`.
    Change,
}

/// The states `ip neigh ... nud STATE` sets that this grammar reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighNud {
    /// Never resolved again, never replaced by ARP (iproute2's default).
    Permanent,
    /// Confirmed now; goes stale after the reachable time.
    Reachable,
    /// Usable, verified on first use.
    Stale,
}

/// `ip neigh add|replace|change ADDR lladdr MAC dev DEV [nud STATE]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighSet {
    /// Add, replace or change.
    pub op: NeighOp,
    /// The neighbour's IPv4 address.
    pub addr: Ipv4Addr,
    /// Its link-layer address; without one, the entry must already have a
    /// valid address, which it keeps.
    pub lladdr: Option<MacAddr>,
    /// The device.
    pub dev: String,
    /// The state.
    pub nud: NeighNud,
}

/// `ping [-c N] [-W S] [-i S] [-I IF|ADDR] [-t TTL] [-s SIZE] [-M HINT] [-w DEADLINE] [-b] ADDR`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ping {
    /// The destination.
    pub addr: Ipv4Addr,
    /// `-c`: how many echo requests (`None`: until interrupted, ping's default).
    pub count: Option<u32>,
    /// `-W`: seconds to wait for a reply when none came.
    pub wait: Option<f64>,
    /// `-i`: seconds between requests (default 1).
    pub interval: f64,
    /// `-I DEV`: interface to send from.
    pub iface: Option<String>,
    /// `-I ADDR`: source address (iputils takes an address as well as a device).
    pub source: Option<Ipv4Addr>,
    /// `-b`: allow a broadcast destination.
    pub broadcast: bool,
    /// `-t`: the time to live of the requests (Linux's default 64).
    pub ttl: Option<u8>,
    /// `-s`: bytes of data after the ICMP header (56 by default).
    pub size: usize,
    /// `-M`: path MTU discovery (`IP_MTU_DISCOVER`).
    pub pmtudisc: Pmtudisc,
    /// `-w`: seconds after which ping exits whatever it got; it then sends
    /// until the deadline instead of stopping at `count` (which counts
    /// replies). `-w 0` is no deadline.
    pub deadline: Option<u32>,
}

impl Ping {
    /// A ping to `addr` with iputils' defaults.
    pub fn to(addr: Ipv4Addr) -> Ping {
        Ping {
            addr,
            count: None,
            wait: None,
            interval: 1.0,
            iface: None,
            source: None,
            broadcast: false,
            ttl: None,
            size: DEFAULT_PING_SIZE,
            pmtudisc: Pmtudisc::Want,
            deadline: None,
        }
    }
}

/// Bytes of data in a default ping (56: 64 bytes of ICMP, 84 of IP).
pub const DEFAULT_PING_SIZE: usize = 56;

/// The largest `-s` an IPv4 packet can carry (65535 - 20 - 8).
pub const MAX_PING_SIZE: usize = 65507;

/// ping's `-M`: whether the requests may be fragmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pmtudisc {
    /// `want` (the default): Don't Fragment on what fits the path MTU,
    /// fragmented locally when larger.
    #[default]
    Want,
    /// `do`: Don't Fragment always; a request larger than the path MTU is
    /// a local error.
    Do,
    /// `dont`: never Don't Fragment.
    Dont,
}

/// What `ip route add|del|replace|change` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteOp {
    /// `add`: a new route (`NLM_F_CREATE | NLM_F_EXCL`).
    Add,
    /// `del`.
    Del,
    /// `replace`: the route with this destination and metric, or a new one.
    Replace,
    /// `change`: the route with this destination and metric, which must exist.
    Change,
}

/// `ip route add|del|replace|change PREFIX|default [via GW] [dev DEV]
/// [metric N] [src ADDR]`, in the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSet {
    /// What to do.
    pub op: RouteOp,
    /// The destination as given (host bits kept: the kernel refuses them).
    pub dst: Ipv4Net,
    /// `via`: the gateway.
    pub via: Option<Ipv4Addr>,
    /// `dev`: the device.
    pub dev: Option<String>,
    /// `metric` (`priority`, `preference`).
    pub metric: Option<u32>,
    /// `src`: the preferred source address.
    pub src: Option<Ipv4Addr>,
}

/// `ip [-4] route [show] [PREFIX|default] [dev DEV]`: the main table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteShow {
    /// Only the route with exactly this destination.
    pub dst: Option<Ipv4Net>,
    /// Only routes through this device.
    pub dev: Option<String>,
    /// `-j`, `-p` (`-br` and `-o` change nothing for routes).
    pub form: ShowForm,
}

/// The kernel settings a lab may change with `sysctl`: forwarding, the
/// switch that makes a namespace a router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysctlKey {
    /// `net.ipv4.ip_forward`.
    IpForward,
    /// `net.ipv4.conf.all.forwarding` (the same switch, by another name).
    AllForwarding,
}

impl SysctlKey {
    /// Its name, as sysctl prints it.
    pub fn name(self) -> &'static str {
        match self {
            SysctlKey::IpForward => "net.ipv4.ip_forward",
            SysctlKey::AllForwarding => "net.ipv4.conf.all.forwarding",
        }
    }
}

/// `sysctl [-w] [-q] KEY[=VALUE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sysctl {
    /// The setting.
    pub key: SysctlKey,
    /// The value to write (`0` or `1`); `None` reads it.
    pub value: Option<bool>,
    /// `-q`: print nothing after writing.
    pub quiet: bool,
}

/// One command: what a line of `ip`, `bridge`, `ping`, `tcpdump` or
/// `sleep` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `ip netns add NAME`.
    NetnsAdd(String),
    /// `ip netns del NAME`.
    NetnsDel(String),
    /// `ip netns list`.
    NetnsList,
    /// `ip link add ...`.
    LinkAdd(LinkAdd),
    /// `ip link set ...`.
    LinkSet(LinkSet),
    /// `ip link del DEV`.
    LinkDel(String),
    /// `ip link show ...`.
    LinkShow(LinkShow),
    /// `ip addr add CIDR dev DEV`.
    AddrAdd(Ipv4Net, String),
    /// `ip addr del CIDR dev DEV`.
    AddrDel(Ipv4Net, String),
    /// `ip [-4] addr show [dev DEV] [up]`.
    AddrShow(AddrShow),
    /// `ip [-4] addr flush dev DEV`: every IPv4 address of the device.
    AddrFlush(String),
    /// `ip neigh flush all|dev DEV`.
    NeighFlush(Option<String>),
    /// `ip neigh show`.
    NeighShow(ShowForm),
    /// `ip neigh add|change|replace ADDR lladdr MAC dev DEV [nud STATE]`.
    NeighSet(NeighSet),
    /// `ip neigh del ADDR dev DEV`.
    NeighDel {
        /// The neighbour's address.
        addr: std::net::Ipv4Addr,
        /// The device.
        dev: String,
    },
    /// `ip route add|del|replace|change ...`.
    RouteSet(RouteSet),
    /// `ip [-4] route [show] ...`.
    RouteShow(RouteShow),
    /// `sysctl [-w] [-q] KEY[=VALUE]`.
    Sysctl(Sysctl),
    /// `bridge link set dev DEV hairpin on|off`.
    BridgeHairpin {
        /// The port.
        dev: String,
        /// On or off.
        on: bool,
    },
    /// `bridge link show`.
    BridgeLinkShow,
    /// `bridge fdb show`.
    BridgeFdbShow,
    /// `ping ...`.
    Ping {
        /// The request.
        ping: Ping,
        /// `-q`.
        quiet: bool,
    },
    /// `tcpdump -i DEV ... &`.
    Tcpdump {
        /// The device.
        dev: String,
        /// `icmp`, `arp` or everything.
        filter: Filter,
        /// `-c N`.
        count: Option<u32>,
        /// `-w FILE`.
        write: Option<String>,
        /// `-e`.
        link: bool,
    },
    /// `sleep N`.
    Sleep(f64),
    /// A command its own tool refuses before doing anything (`ip link add
    /// ... mode nosuchmode`): carried out, it fails with the tool's message,
    /// as the real command does.
    Refused(String),
}

impl Command {
    /// What iproute2 printed on stderr while reading the command and went
    /// on (an unreadable address ending a `macaddr set` list).
    pub fn warnings(&self) -> &[String] {
        match self {
            Command::LinkAdd(a) => &a.warnings,
            Command::LinkSet(s) => &s.warnings,
            _ => &[],
        }
    }
}

impl Command {
    /// Whether this is a ping (its result is ok/fail rather than ok/error).
    pub fn is_ping(&self) -> bool {
        matches!(self, Command::Ping { .. })
    }

    /// Whether this command changes nothing (a `show`).
    pub fn is_show(&self) -> bool {
        matches!(
            self,
            Command::NetnsList
                | Command::LinkShow(_)
                | Command::AddrShow(_)
                | Command::NeighShow(_)
                | Command::RouteShow(_)
                | Command::BridgeLinkShow
                | Command::BridgeFdbShow
        )
    }
}

/// What a tcpdump filter expression selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    /// Every frame.
    #[default]
    All,
    /// ICMP only.
    Icmp,
    /// ARP only.
    Arp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_iproute2_reads_them() {
        let c = parse_ipv4_net("192.168.0.11/24").unwrap();
        assert_eq!(c.addr(), Ipv4Addr::new(192, 168, 0, 11));
        assert_eq!(c.network(), Ipv4Addr::new(192, 168, 0, 0));
        assert_eq!(directed_broadcast(c), Some(Ipv4Addr::new(192, 168, 0, 255)));
        assert_eq!(directed_broadcast(parse_ipv4_net("10.0.0.0/31").unwrap()), None);
        assert!(c.contains(&Ipv4Addr::new(192, 168, 0, 254)));
        assert!(!c.contains(&Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(parse_ipv4_net("10.0.0.1").unwrap().prefix_len(), 32);
        assert!(parse_ipv4_net("10.0.0.1/33").is_none());
        assert!(parse_ipv4_net("10.0.0/24").is_none());
        assert_eq!(
            parse_ipv4_net("0.0.0.0/0").unwrap().netmask(),
            Ipv4Addr::UNSPECIFIED
        );
    }
}
