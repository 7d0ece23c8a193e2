//! A parsed lab: typed commands, each with its line and expectation.

use mvl_sim::cmd::{AddrShow, Cidr, LinkAdd, LinkSet, LinkShow, NeighSet, Ping};
use mvl_sim::packet::Filter;

use crate::lex::Grep;

/// The result of a line, and what a line expects (`# expect: ok|fail|error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Res {
    /// The command succeeded, or the ping got a reply.
    Ok,
    /// The ping got no reply.
    Fail,
    /// The command was refused (or the ping could not start).
    Error,
}

impl Res {
    /// The word used in labs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Res::Ok => "ok",
            Res::Fail => "fail",
            Res::Error => "error",
        }
    }
}

/// One command of the lab language.
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
    AddrAdd(Cidr, String),
    /// `ip addr del CIDR dev DEV`.
    AddrDel(Cidr, String),
    /// `ip [-4] addr show [dev DEV] [up]`.
    AddrShow(AddrShow),
    /// `ip neigh flush all|dev DEV`.
    NeighFlush(Option<String>),
    /// `ip neigh show`.
    NeighShow,
    /// `ip neigh add|change|replace ADDR lladdr MAC dev DEV [nud STATE]`.
    NeighSet(NeighSet),
    /// `ip neigh del ADDR dev DEV`.
    NeighDel {
        /// The neighbour's address.
        addr: std::net::Ipv4Addr,
        /// The device.
        dev: String,
    },
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
    /// ... mode nosuchmode`): the line runs and fails with the tool's message,
    /// as the real command does, and the lab goes on.
    Refused(String),
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
                | Command::NeighShow
                | Command::BridgeLinkShow
                | Command::BridgeFdbShow
        )
    }
}

/// A command in a namespace, as one line of a lab.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The text of the command.
    pub text: String,
    /// Its words, as a shell would split them (before any `| grep`).
    pub words: Vec<String>,
    /// The namespace it runs in (`ip netns exec NS`, `ip -n NS`); `None`: the root.
    pub netns: Option<String>,
    /// The command.
    pub command: Command,
    /// `| grep WORD`.
    pub grep: Option<Grep>,
    /// The expectation, if any.
    pub expect: Option<Res>,
}

/// A whole lab.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lab {
    /// Its lines, in order.
    pub lines: Vec<Line>,
}
