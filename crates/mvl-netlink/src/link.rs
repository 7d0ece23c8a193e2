//! Links: what a dump says about one (decoded into [`Link`]), and the
//! generic operations — look up, dump, change, move, rename, delete.

use std::fmt;
use std::num::NonZeroU32;
use std::os::fd::AsRawFd;

use mvl_core::MacAddr;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, InfoData, InfoKind, InfoVeth, LinkAttribute, LinkExtentMask, LinkFlags,
    LinkInfo, LinkMessage, Prop, Stats64,
};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Cause, Error, KernelError, Result};
use crate::explain::Ctx;
use crate::macvlan::{macvlan_link_info, MacvlanAttrs};
use crate::netns::NetNs;
use crate::socket::{Fail, Netlink};

// The kernel's flag bits and link types, from libc rather than re-typed.
/// `IFF_UP`.
pub const IFF_UP: u32 = libc::IFF_UP as u32;
/// `IFF_LOOPBACK`.
pub const IFF_LOOPBACK: u32 = libc::IFF_LOOPBACK as u32;
/// `IFF_RUNNING`: carrier, as `ip` shows it (`NO-CARRIER` when up without it).
pub const IFF_RUNNING: u32 = libc::IFF_RUNNING as u32;
/// `IFF_PROMISC`.
pub const IFF_PROMISC: u32 = libc::IFF_PROMISC as u32;
/// `IFF_ALLMULTI`.
pub const IFF_ALLMULTI: u32 = libc::IFF_ALLMULTI as u32;
/// `IFF_LOWER_UP`.
pub const IFF_LOWER_UP: u32 = libc::IFF_LOWER_UP as u32;
/// `ARPHRD_ETHER`.
pub const ARPHRD_ETHER: u16 = libc::ARPHRD_ETHER;
/// `ARPHRD_LOOPBACK`.
pub const ARPHRD_LOOPBACK: u16 = libc::ARPHRD_LOOPBACK;

/// A device, by index or by name (names are looked up in the socket's
/// namespace).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkRef {
    /// By interface index.
    Index(u32),
    /// By name.
    Name(String),
}

impl fmt::Display for LinkRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkRef::Index(i) => write!(f, "index {i}"),
            LinkRef::Name(n) => f.write_str(n),
        }
    }
}

impl From<u32> for LinkRef {
    fn from(i: u32) -> LinkRef {
        LinkRef::Index(i)
    }
}

impl From<&str> for LinkRef {
    fn from(n: &str) -> LinkRef {
        LinkRef::Name(n.to_string())
    }
}

impl From<String> for LinkRef {
    fn from(n: String) -> LinkRef {
        LinkRef::Name(n)
    }
}

impl From<&String> for LinkRef {
    fn from(n: &String) -> LinkRef {
        LinkRef::Name(n.clone())
    }
}

impl From<&LinkRef> for LinkRef {
    fn from(r: &LinkRef) -> LinkRef {
        r.clone()
    }
}

/// RFC 2863 operational state (`IFLA_OPERSTATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OperState {
    /// `UNKNOWN` (also loopback and devices without carrier reporting).
    #[default]
    Unknown,
    /// `NOTPRESENT`.
    NotPresent,
    /// `DOWN`.
    Down,
    /// `LOWERLAYERDOWN`: a stacked device whose lower has no carrier.
    LowerLayerDown,
    /// `TESTING`.
    Testing,
    /// `DORMANT`.
    Dormant,
    /// `UP`.
    Up,
    /// A value this crate does not know.
    Other(u8),
}

impl OperState {
    /// From the kernel's value.
    pub fn from_kernel(v: u8) -> OperState {
        match v {
            0 => OperState::Unknown,
            1 => OperState::NotPresent,
            2 => OperState::Down,
            3 => OperState::LowerLayerDown,
            4 => OperState::Testing,
            5 => OperState::Dormant,
            6 => OperState::Up,
            v => OperState::Other(v),
        }
    }

    /// `ip`'s word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            OperState::Unknown | OperState::Other(_) => "UNKNOWN",
            OperState::NotPresent => "NOTPRESENT",
            OperState::Down => "DOWN",
            OperState::LowerLayerDown => "LOWERLAYERDOWN",
            OperState::Testing => "TESTING",
            OperState::Dormant => "DORMANT",
            OperState::Up => "UP",
        }
    }
}

impl fmt::Display for OperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One device as the kernel reports it (`RTM_NEWLINK`): the fields that
/// `ip -d link show` prints, and the macvlan attributes when it is one.
/// Attributes the kernel did not send are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// `IFF_*` flags.
    pub flags: u32,
    /// `ARPHRD_*` type.
    pub link_type: u16,
    /// MTU.
    pub mtu: Option<u32>,
    /// Smallest MTU the device takes.
    pub min_mtu: Option<u32>,
    /// Largest MTU the device takes.
    pub max_mtu: Option<u32>,
    /// Hardware address, when it is six bytes.
    pub address: Option<MacAddr>,
    /// Broadcast address, when it is six bytes.
    pub broadcast: Option<MacAddr>,
    /// Permanent hardware address.
    pub perm_address: Option<MacAddr>,
    /// Operational state.
    pub operstate: OperState,
    /// Link mode (0 default, 1 dormant).
    pub link_mode: Option<u8>,
    /// `IFLA_LINK`: the lower device's index (for a macvlan, its parent),
    /// in the namespace `link_netnsid` names, or in this one.
    pub link: Option<u32>,
    /// `IFLA_LINK_NETNSID`: set when `link` lives in another namespace.
    pub link_netnsid: Option<i32>,
    /// The master device (bridge, bond, ...) index.
    pub master: Option<u32>,
    /// `IFLA_INFO_KIND`: `macvlan`, `veth`, `bridge`, ...
    pub kind: Option<String>,
    /// `IFLA_INFO_SLAVE_KIND`: the master's kind when enslaved.
    pub slave_kind: Option<String>,
    /// The macvlan attributes, when `kind` is `macvlan`.
    pub macvlan: Option<MacvlanAttrs>,
    /// Queueing discipline.
    pub qdisc: Option<String>,
    /// Transmit queue length.
    pub txqlen: Option<u32>,
    /// Device group.
    pub group: Option<u32>,
    /// Alternative names (`ip link property add altname`).
    pub alt_names: Vec<String>,
    /// Promiscuity counter.
    pub promiscuity: Option<u32>,
    /// All-multicast counter.
    pub allmulti: Option<u32>,
    /// Carrier.
    pub carrier: Option<bool>,
    /// Number of transmit queues.
    pub num_tx_queues: Option<u32>,
    /// Number of receive queues.
    pub num_rx_queues: Option<u32>,
    /// GSO maximum size.
    pub gso_max_size: Option<u32>,
    /// GSO maximum segments.
    pub gso_max_segs: Option<u32>,
    /// TSO maximum size.
    pub tso_max_size: Option<u32>,
    /// TSO maximum segments.
    pub tso_max_segs: Option<u32>,
    /// GRO maximum size.
    pub gro_max_size: Option<u32>,
    /// IPv6 address generation mode (`eui64`, `none`, ...).
    pub addr_gen_mode: Option<String>,
    /// The counters (`IFLA_STATS64`), when asked for
    /// ([`Netlink::link_with_stats`], [`Netlink::links_with_stats`]).
    pub stats: Option<Stats64>,
    /// How often the carrier went up or down (`IFLA_CARRIER_CHANGES`).
    pub carrier_changes: Option<u32>,
}

impl Link {
    /// Administratively up.
    pub fn is_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }

    /// Whether this is a macvlan.
    pub fn is_macvlan(&self) -> bool {
        self.kind.as_deref() == Some("macvlan")
    }

    pub(crate) fn from_message(m: LinkMessage) -> Link {
        let mut l = Link {
            index: m.header.index,
            flags: m.header.flags.bits(),
            link_type: m.header.link_layer_type.into(),
            ..Default::default()
        };
        for a in m.attributes {
            match a {
                LinkAttribute::IfName(n) => l.name = n,
                LinkAttribute::Mtu(v) => l.mtu = Some(v),
                LinkAttribute::MinMtu(v) => l.min_mtu = Some(v),
                LinkAttribute::MaxMtu(v) => l.max_mtu = Some(v),
                LinkAttribute::Address(v) => l.address = mac6(&v),
                LinkAttribute::Broadcast(v) => l.broadcast = mac6(&v),
                LinkAttribute::PermAddress(v) => l.perm_address = mac6(&v),
                LinkAttribute::OperState(s) => l.operstate = OperState::from_kernel(s.into()),
                LinkAttribute::Mode(m) => l.link_mode = Some(m.into()),
                LinkAttribute::Link(i) => l.link = Some(i),
                LinkAttribute::LinkNetNsId(i) => l.link_netnsid = Some(i),
                LinkAttribute::Controller(i) => l.master = Some(i),
                LinkAttribute::Qdisc(q) => l.qdisc = Some(q),
                LinkAttribute::TxQueueLen(v) => l.txqlen = Some(v),
                LinkAttribute::Group(v) => l.group = Some(v),
                LinkAttribute::PropList(props) => {
                    l.alt_names.extend(props.into_iter().filter_map(|p| match p {
                        Prop::AltIfName(n) => Some(n),
                        _ => None,
                    }))
                }
                LinkAttribute::Promiscuity(v) => l.promiscuity = Some(v),
                LinkAttribute::AllMulticast(v) => l.allmulti = Some(v),
                LinkAttribute::Carrier(v) => l.carrier = Some(v != 0),
                LinkAttribute::CarrierChanges(v) => l.carrier_changes = Some(v),
                LinkAttribute::Stats64(v) => l.stats = Some(v),
                LinkAttribute::NumTxQueues(v) => l.num_tx_queues = Some(v),
                LinkAttribute::NumRxQueues(v) => l.num_rx_queues = Some(v),
                LinkAttribute::GsoMaxSize(v) => l.gso_max_size = Some(v),
                LinkAttribute::GsoMaxSegs(v) => l.gso_max_segs = Some(v),
                LinkAttribute::TsoMaxSize(v) => l.tso_max_size = Some(v),
                LinkAttribute::TsoMaxSegs(v) => l.tso_max_segs = Some(v),
                LinkAttribute::GroMaxSize(v) => l.gro_max_size = Some(v),
                LinkAttribute::AfSpecUnspec(specs) => {
                    for s in specs {
                        if let AfSpecUnspec::Inet6(v) = s {
                            for i in v {
                                if let AfSpecInet6::AddrGenMode(g) = i {
                                    l.addr_gen_mode = Some(g.to_string());
                                }
                            }
                        }
                    }
                }
                LinkAttribute::LinkInfo(infos) => {
                    for i in infos {
                        match i {
                            LinkInfo::Kind(k) => l.kind = Some(k.to_string()),
                            LinkInfo::PortKind(k) => l.slave_kind = Some(k.to_string()),
                            LinkInfo::Data(InfoData::MacVlan(d)) => {
                                l.macvlan = Some(MacvlanAttrs::from_attributes(d))
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        l
    }
}

/// At most 80 characters of `s` (a long source list would drown the message).
fn shorten(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn mac6(v: &[u8]) -> Option<MacAddr> {
    <[u8; 6]>::try_from(v).ok().map(MacAddr)
}

/// Changes to an existing device, all sent in one `RTM_NEWLINK`. The kernel
/// applies the macvlan options first, then the namespace move, address,
/// MTU, name and finally the up/down flags.
#[derive(Debug, Clone, Default)]
pub struct LinkChange {
    /// Administratively up or down.
    pub up: Option<bool>,
    /// Promiscuous mode on or off.
    pub promisc: Option<bool>,
    /// All-multicast on or off.
    pub allmulti: Option<bool>,
    /// New MAC address.
    pub address: Option<MacAddr>,
    /// New MTU.
    pub mtu: Option<u32>,
    /// New name.
    pub name: Option<String>,
    /// Move into this namespace.
    pub netns: Option<NetNs>,
    /// Macvlan options (`type macvlan ...`); the device must be a macvlan.
    pub macvlan: Option<mvl_core::MacvlanChange>,
}

impl LinkChange {
    /// How many parts the kernel applies one after another (the flags
    /// count as one).
    pub fn parts(&self) -> usize {
        let flags = self.up.is_some() || self.promisc.is_some() || self.allmulti.is_some();
        [
            flags,
            self.address.is_some(),
            self.mtu.is_some(),
            self.name.is_some(),
            self.netns.is_some(),
            self.macvlan.is_some(),
        ]
        .into_iter()
        .filter(|&p| p)
        .count()
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.up.is_none()
            && self.promisc.is_none()
            && self.allmulti.is_none()
            && self.address.is_none()
            && self.mtu.is_none()
            && self.name.is_none()
            && self.netns.is_none()
            && self.macvlan.is_none()
    }

    /// The change as `ip link set` words (`up address 02:.. mtu 1400`).
    pub fn words(&self) -> String {
        let mut w: Vec<String> = Vec::new();
        if let Some(m) = &self.macvlan {
            w.push("type macvlan".into());
            w.extend(crate::macvlan::opts_words(m));
        }
        if let Some(ns) = &self.netns {
            w.push(format!("netns {}", ns.label()));
        }
        if let Some(a) = self.address {
            w.push(format!("address {a}"));
        }
        if let Some(m) = self.mtu {
            w.push(format!("mtu {m}"));
        }
        if let Some(n) = &self.name {
            w.push(format!("name {n}"));
        }
        if let Some(p) = self.promisc {
            w.push(format!("promisc {}", if p { "on" } else { "off" }));
        }
        if let Some(p) = self.allmulti {
            w.push(format!("allmulticast {}", if p { "on" } else { "off" }));
        }
        if let Some(u) = self.up {
            w.push(if u { "up" } else { "down" }.into());
        }
        w.join(" ")
    }
}

/// A link request addressed by index, or by name when there is no index.
pub(crate) fn addressed(dev: &LinkRef) -> LinkMessage {
    let mut m = LinkMessage::default();
    match dev {
        LinkRef::Index(i) => m.header.index = *i,
        LinkRef::Name(n) => m.attributes.push(LinkAttribute::IfName(n.clone())),
    }
    m
}

/// The `RTM_NEWLINK` that applies `change` to `target`.
fn change_message(target: &LinkRef, change: &LinkChange) -> LinkMessage {
    let mut m = addressed(target);
    if let Some(up) = change.up {
        set_flag(&mut m, IFF_UP, up);
    }
    if let Some(p) = change.promisc {
        set_flag(&mut m, IFF_PROMISC, p);
    }
    if let Some(p) = change.allmulti {
        set_flag(&mut m, IFF_ALLMULTI, p);
    }
    if let Some(ns) = &change.netns {
        m.attributes.push(LinkAttribute::NetNsFd(ns.as_raw_fd()));
    }
    if let Some(a) = change.address {
        m.attributes.push(LinkAttribute::Address(a.0.to_vec()));
    }
    if let Some(mtu) = change.mtu {
        m.attributes.push(LinkAttribute::Mtu(mtu));
    }
    if let Some(n) = &change.name {
        m.attributes.push(LinkAttribute::IfName(n.clone()));
    }
    if let Some(mv) = &change.macvlan {
        m.attributes.push(macvlan_link_info(mv));
    }
    m
}

fn set_flag(m: &mut LinkMessage, bit: u32, on: bool) {
    let b = LinkFlags::from_bits_retain(bit);
    m.header.change_mask |= b;
    if on {
        m.header.flags |= b;
    }
}

impl Netlink {
    /// One device, by index or name.
    pub fn link(&mut self, dev: impl Into<LinkRef>) -> Result<Link> {
        let dev = dev.into();
        let op = format!("show {dev}");
        self.get_link_raw(&dev, None).map_err(|f| {
            let ctx = Ctx::new(op).dev(dev.clone());
            self.explain(&ctx, f)
        })
    }

    /// Every device of the namespace, in index order.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        self.links_raw(None).map_err(|f| f.unexplained("dump links"))
    }

    /// One device with its counters ([`Link::stats`]).
    pub fn link_with_stats(&mut self, dev: impl Into<LinkRef>) -> Result<Link> {
        let dev = dev.into();
        let op = format!("show {dev}");
        self.get_link_with(Some(&dev), None, true)
            .and_then(|mut v| {
                v.pop()
                    .ok_or_else(|| Fail::Other(Error::Decode(format!("no link in the reply about {dev}"))))
            })
            .map_err(|f| {
                let ctx = Ctx::new(op).dev(dev.clone());
                self.explain(&ctx, f)
            })
    }

    /// Every device of the namespace with its counters, in index order.
    pub fn links_with_stats(&mut self) -> Result<Vec<Link>> {
        self.get_link_with(None, None, true)
            .map_err(|f| f.unexplained("dump links"))
    }

    /// The index of a device.
    pub fn index_of(&mut self, dev: impl Into<LinkRef>) -> Result<u32> {
        match dev.into() {
            LinkRef::Index(i) => Ok(i),
            r => self.link(r).map(|l| l.index),
        }
    }

    /// `RTM_GETLINK` for one device; with `nsid`, in the namespace that id
    /// names (`IFLA_TARGET_NETNSID`).
    pub(crate) fn get_link_raw(&mut self, dev: &LinkRef, nsid: Option<i32>) -> Result<Link, Fail> {
        self.get_link_with(Some(dev), nsid, false)?
            .pop()
            .ok_or_else(|| Fail::Other(Error::Decode(format!("no link in the reply about {dev}"))))
    }

    /// Dumps the links of this namespace, or of the one `nsid` names.
    pub(crate) fn links_raw(&mut self, nsid: Option<i32>) -> Result<Vec<Link>, Fail> {
        self.get_link_with(None, nsid, false)
    }

    /// `RTM_GETLINK` for `dev`, or a dump of every link (in index order)
    /// without one; in the namespace `nsid` names, or this one; counters only
    /// when `stats` asks for them.
    fn get_link_with(
        &mut self,
        dev: Option<&LinkRef>,
        nsid: Option<i32>,
        stats: bool,
    ) -> Result<Vec<Link>, Fail> {
        let mut m = match dev {
            Some(d) => addressed(d),
            None => LinkMessage::default(),
        };
        if !stats {
            m.attributes
                .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        }
        if let Some(id) = nsid {
            m.attributes.push(LinkAttribute::IfNetnsId(id));
        }
        let msg = RouteNetlinkMessage::GetLink(m);
        let replies = match dev {
            Some(_) => self.exchange(&msg, 0)?,
            None => self.dump_raw(&msg, "dump links")?,
        };
        let mut out: Vec<Link> = replies
            .into_iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
                _ => None,
            })
            .collect();
        out.sort_by_key(|l| l.index);
        Ok(out)
    }

    /// Applies `change` to `dev` in one `RTM_NEWLINK`, all or nothing.
    ///
    /// The kernel applies a request's parts one after another and keeps the
    /// ones done before a refusal (a device moved, then its rename refused).
    /// So a move is checked first (the device's name must be free in the
    /// target namespace), and after a refusal of a request with several
    /// parts, what was applied is set back. Should that fail too, the error
    /// says where the device is and in what state.
    pub fn set_link(&mut self, dev: impl Into<LinkRef>, change: &LinkChange) -> Result<()> {
        let dev = dev.into();
        let op = format!("set {dev} {}", shorten(&change.words()));
        let ctx = Ctx::for_change(op.clone(), &dev, change);
        // A name in the request either finds the device or renames it, not
        // both: with a rename, or when the device must be restored, find it first.
        let before = if change.name.is_some() || change.parts() > 1 {
            match self.get_link_raw(&dev, None) {
                Ok(l) => Some(l),
                Err(f) => return Err(self.explain(&ctx, f)),
            }
        } else {
            None
        };
        if let (Some(ns), Some(b)) = (&change.netns, &before) {
            self.check_name_free(ns, change.name.as_deref().unwrap_or(&b.name), &op)?;
            // What can be refused here (address, MTU, macvlan options) is
            // done before the move, so that a refusal finds the device where
            // it was; the name goes with the move, and up after it.
            let local = LinkChange {
                netns: None,
                name: None,
                up: None,
                ..change.clone()
            };
            if !local.is_empty() {
                let moving = LinkChange {
                    netns: change.netns.clone(),
                    name: change.name.clone(),
                    up: change.up,
                    ..Default::default()
                };
                let index = LinkRef::Index(b.index);
                self.set_link(index.clone(), &local)
                    .map_err(|e| e.for_op(op.clone()))?;
                return match self.set_link(index, &moving) {
                    Ok(()) => Ok(()),
                    Err(e) => self.restore(b, change, e.for_op(op)),
                };
            }
        }
        let target = match &before {
            Some(b) => LinkRef::Index(b.index),
            None => dev.clone(),
        };
        match self.exchange(&RouteNetlinkMessage::NewLink(change_message(&target, change)), 0) {
            Ok(_) => Ok(()),
            Err(f) => {
                let e = self.explain(&ctx, f);
                match &before {
                    Some(b) if change.parts() > 1 => self.restore(b, change, e),
                    _ => Err(e),
                }
            }
        }
    }

    /// Refuses a move into `ns` that would meet a device called `name` there.
    fn check_name_free(&mut self, ns: &NetNs, name: &str, op: &str) -> Result<()> {
        if ns.same_as(self.netns()) {
            return Ok(());
        }
        let mut there = Netlink::open_in(ns)?;
        match there.get_link_raw(&LinkRef::Name(name.to_string()), None) {
            Ok(_) => Err(Error::Kernel(Box::new(KernelError {
                op: op.to_string(),
                errno: libc::EEXIST,
                extack: None,
                cause: Cause::NameTaken {
                    name: name.to_string(),
                    ns: ns.label().to_string(),
                },
            }))),
            Err(_) => Ok(()),
        }
    }

    /// After `refused`, sets back what the kernel applied of `change` to the
    /// device that was `before`: into its namespace, then its name, address
    /// and MTU. Returns `refused`, told how the device was left if it could
    /// not be set back.
    fn restore(&mut self, before: &Link, change: &LinkChange, refused: Error) -> Result<()> {
        let here = self.netns().clone();
        // Where is it now: still here (by index), or moved (by the name it
        // took there)?
        let moved = match (
            &change.netns,
            self.get_link_raw(&LinkRef::Index(before.index), None),
        ) {
            (_, Ok(l)) if l.name == before.name || change.name.as_deref() == Some(&l.name) => None,
            (Some(ns), _) => Some(ns.clone()),
            (None, _) => None,
        };
        let undo = |nl: &mut Netlink, at: LinkRef| -> Result<()> {
            let now = nl
                .get_link_raw(&at, None)
                .map_err(|f| f.unexplained("look at it again"))?;
            let mode_back = match (&before.macvlan, &now.macvlan) {
                (Some(b), Some(n)) if b.mode != n.mode || b.flags != n.flags => {
                    Some(mvl_core::MacvlanChange {
                        mode: b.mode,
                        flags: Some(b.flags),
                        ..Default::default()
                    })
                }
                _ => None,
            };
            let back = LinkChange {
                macvlan: mode_back,
                netns: moved.as_ref().map(|_| here.clone()),
                name: (now.name != before.name).then(|| before.name.clone()),
                address: before.address.filter(|a| now.address != Some(*a)),
                mtu: before.mtu.filter(|m| now.mtu != Some(*m)),
                up: (now.is_up() != before.is_up()).then_some(before.is_up()),
                ..Default::default()
            };
            if back.is_empty() {
                return Ok(());
            }
            let m = change_message(&LinkRef::Index(now.index), &back);
            nl.exchange(&RouteNetlinkMessage::NewLink(m), 0)
                .map(drop)
                .map_err(|f| f.unexplained(format!("set back {}", back.words())))
        };
        let undone = match &moved {
            Some(ns) => Netlink::open_in(ns).and_then(|mut there| {
                // Renamed with the move, or refused the new name there.
                let renamed = change.name.clone().map(LinkRef::Name);
                let at = match renamed.filter(|n| there.get_link_raw(n, None).is_ok()) {
                    Some(n) => n,
                    None => LinkRef::Name(before.name.clone()),
                };
                undo(&mut there, at)
            }),
            None => undo(self, LinkRef::Index(before.index)),
        };
        match undone {
            Ok(()) => Err(refused),
            Err(e) => Err(Error::Netns {
                ns: moved.map_or_else(|| here.label().to_string(), |ns| ns.label().to_string()),
                why: format!(
                    "{refused}; what the kernel had applied of the change could not be set back ({e}): \
                     look at {} there",
                    change.name.as_deref().unwrap_or(&before.name)
                ),
            }),
        }
    }

    /// Brings a device up or down.
    pub fn set_up(&mut self, dev: impl Into<LinkRef>, up: bool) -> Result<()> {
        self.set_link(
            dev,
            &LinkChange {
                up: Some(up),
                ..Default::default()
            },
        )
    }

    /// Moves a device into `ns` (it arrives down, without addresses).
    pub fn set_netns(&mut self, dev: impl Into<LinkRef>, ns: &NetNs) -> Result<()> {
        self.set_link(
            dev,
            &LinkChange {
                netns: Some(ns.clone()),
                ..Default::default()
            },
        )
    }

    /// Renames a device.
    pub fn rename(&mut self, dev: impl Into<LinkRef>, name: &str) -> Result<()> {
        self.set_link(
            dev,
            &LinkChange {
                name: Some(name.to_string()),
                ..Default::default()
            },
        )
    }

    /// Deletes a device (for a veth, both ends; for a lower, its macvlans too).
    pub fn delete_link(&mut self, dev: impl Into<LinkRef>) -> Result<()> {
        let dev = dev.into();
        let m = addressed(&dev);
        match self.exchange(&RouteNetlinkMessage::DelLink(m), 0) {
            Ok(_) => Ok(()),
            Err(f) => {
                let ctx = Ctx::new(format!("delete {dev}")).dev(dev.clone());
                Err(self.explain(&ctx, f))
            }
        }
    }

    /// Deletes every device of device group `group` in one request. The
    /// kernel then unregisters them as one batch, waiting for one RCU grace
    /// period instead of one per device (milliseconds each): the fast way to
    /// tear down many macvlans made with [`crate::NewMacvlanLink::group`].
    /// Every kind of device in the group goes, not only macvlans.
    pub fn delete_group(&mut self, group: NonZeroU32) -> Result<()> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::Group(group.get()));
        self.exchange(&RouteNetlinkMessage::DelLink(m), 0)
            .map(drop)
            .map_err(|f| f.unexplained(format!("delete group {group}")))
    }

    /// Creates a veth pair `name` — `peer`, both in this namespace.
    pub fn add_veth(&mut self, name: &str, peer: &str) -> Result<()> {
        let mut p = LinkMessage::default();
        p.attributes.push(LinkAttribute::IfName(peer.to_string()));
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
        ]));
        match self.exchange(&RouteNetlinkMessage::NewLink(m), NLM_F_CREATE | NLM_F_EXCL) {
            Ok(_) => Ok(()),
            Err(f) => {
                let ctx = Ctx::new(format!("create veth {name} peer {peer}")).new_name(name);
                Err(self.explain(&ctx, f))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_words_read_like_ip() {
        let c = LinkChange {
            up: Some(true),
            mtu: Some(1400),
            address: Some(MacAddr([2, 0, 0, 0, 0, 1])),
            ..Default::default()
        };
        assert_eq!(c.words(), "address 02:00:00:00:00:01 mtu 1400 up");
        assert!(!c.is_empty());
        assert!(LinkChange::default().is_empty());
    }

    #[test]
    fn operstate_words() {
        assert_eq!(OperState::from_kernel(3).as_str(), "LOWERLAYERDOWN");
        assert_eq!(OperState::from_kernel(6), OperState::Up);
        assert_eq!(OperState::from_kernel(42).as_str(), "UNKNOWN");
    }

    #[test]
    fn addressed_by_name_or_index() {
        let m = addressed(&LinkRef::from("mv0"));
        assert_eq!(m.header.index, 0);
        assert_eq!(m.attributes, vec![LinkAttribute::IfName("mv0".into())]);
        let m = addressed(&LinkRef::from(7));
        assert_eq!(m.header.index, 7);
        assert!(m.attributes.is_empty());
    }
}
