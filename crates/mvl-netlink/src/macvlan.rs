//! Macvlan links: create with every `IFLA_MACVLAN_*` attribute in one
//! `RTM_NEWLINK`, show them decoded back.

use std::num::NonZeroU32;
use std::os::fd::AsRawFd;

use mvl_core::{Flags, MacAddr, MacaddrOp, MacvlanChange, Mode};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, LinkAttribute, LinkInfo, LinkMessage, MacVlanFlags,
    MacVlanMacAddressMode, MacVlanMode,
};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Cause, Error, KernelError, Result};
use crate::explain::Ctx;
use crate::link::{Link, LinkRef};
use crate::netns::NetNs;
use crate::socket::Netlink;

/// The kernel's default `bclim` (`IFLA_MACVLAN_BC_CUTOFF`); dumps leave the
/// attribute out while the port has this value.
pub use mvl_core::DEFAULT_BC_CUTOFF;

/// A macvlan link to create over rtnetlink: the core's options
/// ([`MacvlanChange`]) with what only the kernel's request carries — the
/// lower, a target namespace, a device group, and an address the kernel may
/// pick. Options left `None` are not sent, so the kernel's defaults apply
/// (mode vepa, no flags, bcqueuelen 1000, the lower's MTU, a random MAC).
#[derive(Debug, Clone)]
pub struct NewMacvlanLink {
    /// Its name.
    pub name: String,
    /// The lower ("parent") device; a name is looked up in the socket's
    /// namespace.
    pub lower: LinkRef,
    /// The macvlan options (`IFLA_MACVLAN_*`): mode, flags, source list,
    /// `bcqueuelen` and `bclim` (for the whole port).
    pub macvlan: MacvlanChange,
    /// `IFLA_ADDRESS`.
    pub address: Option<MacAddr>,
    /// `IFLA_MTU`.
    pub mtu: Option<u32>,
    /// `IFLA_NET_NS_FD`: create it directly in this namespace (the lower is
    /// still found in the socket's).
    pub netns: Option<NetNs>,
    /// `IFLA_GROUP`: a device group, so that [`Netlink::delete_group`] can
    /// delete all of them at once.
    pub group: Option<NonZeroU32>,
}

impl NewMacvlanLink {
    /// `name` on `lower`, every option at the kernel's default.
    pub fn new(name: impl Into<String>, lower: impl Into<LinkRef>) -> NewMacvlanLink {
        NewMacvlanLink {
            name: name.into(),
            lower: lower.into(),
            macvlan: MacvlanChange::default(),
            address: None,
            mtu: None,
            netns: None,
            group: None,
        }
    }

    /// With `mode`.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.macvlan.mode = Some(mode);
        self
    }

    /// With `flags`.
    pub fn flags(mut self, flags: Flags) -> Self {
        self.macvlan.flags = Some(flags);
        self
    }

    /// With a source-list operation.
    pub fn macaddr(mut self, op: MacaddrOp) -> Self {
        self.macvlan.macaddr = Some(op);
        self
    }

    /// With `bcqueuelen`.
    pub fn bc_queue_len(mut self, n: u32) -> Self {
        self.macvlan.bc_queue_len = Some(n);
        self
    }

    /// With `bclim`.
    pub fn bc_cutoff(mut self, n: i32) -> Self {
        self.macvlan.bc_cutoff = Some(n);
        self
    }

    /// With a MAC address.
    pub fn address(mut self, mac: MacAddr) -> Self {
        self.address = Some(mac);
        self
    }

    /// With an MTU.
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Created directly in `ns`.
    pub fn netns(mut self, ns: NetNs) -> Self {
        self.netns = Some(ns);
        self
    }

    /// In device group `group`.
    pub fn group(mut self, group: NonZeroU32) -> Self {
        self.group = Some(group);
        self
    }

    /// The request as `ip link add` words.
    pub fn words(&self) -> String {
        let mut w = vec![format!("{} link {}", self.name, self.lower)];
        if let Some(a) = self.address {
            w.push(format!("address {a}"));
        }
        if let Some(m) = self.mtu {
            w.push(format!("mtu {m}"));
        }
        if let Some(ns) = &self.netns {
            w.push(format!("netns {}", ns.label()));
        }
        if let Some(g) = self.group {
            w.push(format!("group {g}"));
        }
        w.push("type macvlan".into());
        w.extend(opts_words(&self.macvlan));
        w.join(" ")
    }
}

/// The macvlan options as iproute2 words.
pub(crate) fn opts_words(c: &MacvlanChange) -> Vec<String> {
    let mut w = Vec::new();
    if let Some(m) = c.mode {
        w.push(format!("mode {m}"));
    }
    if let Some(f) = c.flags {
        if f == Flags::NONE {
            w.push("flag null".into());
        }
        if f.contains(Flags::NOPROMISC) {
            w.push("nopromisc".into());
        }
        if f.contains(Flags::NODST) {
            w.push("nodst".into());
        }
    }
    match &c.macaddr {
        Some(MacaddrOp::Add(m)) => w.push(format!("macaddr add {m}")),
        Some(MacaddrOp::Del(m)) => w.push(format!("macaddr del {m}")),
        Some(MacaddrOp::Flush) => w.push("macaddr flush".into()),
        Some(MacaddrOp::Set(v)) => {
            let mut s = "macaddr set".to_string();
            for m in v {
                s.push_str(&format!(" {m}"));
            }
            w.push(s);
        }
        None => {}
    }
    if let Some(n) = c.bc_queue_len {
        w.push(format!("bcqueuelen {n}"));
    }
    if let Some(n) = c.bc_cutoff {
        w.push(format!("bclim {n}"));
    }
    w
}

/// `IFLA_INFO_DATA` for the given options: ADD/DEL carry one `MACADDR`,
/// SET a `MACADDR_DATA` nest (as iproute2 sends it), FLUSH nothing more.
pub(crate) fn macvlan_info_data(c: &MacvlanChange) -> Vec<InfoMacVlan> {
    let mut d = Vec::new();
    if let Some(m) = c.mode {
        d.push(InfoMacVlan::Mode(MacVlanMode::from(m.to_kernel())));
    }
    if let Some(f) = c.flags {
        d.push(InfoMacVlan::Flags(MacVlanFlags::from_bits_retain(f.bits())));
    }
    if let Some(op) = &c.macaddr {
        d.push(InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::from(
            op.kernel_mode(),
        )));
        match op {
            MacaddrOp::Add(m) | MacaddrOp::Del(m) => d.push(InfoMacVlan::MacAddr(m.0)),
            MacaddrOp::Set(v) => d.push(InfoMacVlan::MacAddrData(
                v.iter().map(|m| InfoMacVlan::MacAddr(m.0)).collect(),
            )),
            MacaddrOp::Flush => {}
        }
    }
    if let Some(n) = c.bc_queue_len {
        d.push(InfoMacVlan::BcQueueLen(n));
    }
    if let Some(n) = c.bc_cutoff {
        d.push(InfoMacVlan::BcCutoff(n));
    }
    d
}

/// `IFLA_LINKINFO` of kind macvlan with [`macvlan_info_data`], for a
/// request that creates or changes one.
pub(crate) fn macvlan_link_info(c: &MacvlanChange) -> LinkAttribute {
    LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::MacVlan),
        LinkInfo::Data(InfoData::MacVlan(macvlan_info_data(c))),
    ])
}

/// The macvlan attributes of a dump, decoded as the kernel sent them (a
/// port's own view of a macvlan is `mvl_core::MacvlanInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MacvlanAttrs {
    /// The mode; `None` if the kernel reported a value this crate does not know.
    pub mode: Option<Mode>,
    /// `IFLA_MACVLAN_MODE` as the kernel sent it.
    pub raw_mode: u32,
    /// The known flag bits.
    pub flags: Flags,
    /// `IFLA_MACVLAN_FLAGS` as the kernel sent it.
    pub raw_flags: u16,
    /// `IFLA_MACVLAN_MACADDR_COUNT`: the size of the source list.
    pub macaddr_count: u32,
    /// `IFLA_MACVLAN_MACADDR_DATA`: the source list, in the kernel's order.
    pub macaddrs: Vec<MacAddr>,
    /// `IFLA_MACVLAN_BC_QUEUE_LEN`: this macvlan's request.
    pub bc_queue_len: Option<u32>,
    /// `IFLA_MACVLAN_BC_QUEUE_LEN_USED`: the port's queue length.
    pub bc_queue_len_used: Option<u32>,
    /// `IFLA_MACVLAN_BC_CUTOFF`: the port's `bclim`; absent while it is the
    /// default 1.
    pub bc_cutoff: Option<i32>,
}

impl MacvlanAttrs {
    pub(crate) fn from_attributes(attrs: Vec<InfoMacVlan>) -> MacvlanAttrs {
        let mut i = MacvlanAttrs::default();
        for a in attrs {
            match a {
                InfoMacVlan::Mode(m) => {
                    i.raw_mode = m.into();
                    i.mode = Mode::from_kernel(i.raw_mode);
                }
                InfoMacVlan::Flags(f) => {
                    i.raw_flags = f.bits();
                    i.flags = Flags::from_bits(i.raw_flags & 3).unwrap_or_default();
                }
                InfoMacVlan::MacAddrCount(n) => i.macaddr_count = n,
                InfoMacVlan::MacAddrData(v) => {
                    i.macaddrs = v
                        .into_iter()
                        .filter_map(|e| match e {
                            InfoMacVlan::MacAddr(m) => Some(MacAddr(m)),
                            _ => None,
                        })
                        .collect()
                }
                InfoMacVlan::BcQueueLen(n) => i.bc_queue_len = Some(n),
                InfoMacVlan::BcQueueLenUsed(n) => i.bc_queue_len_used = Some(n),
                InfoMacVlan::BcCutoff(n) => i.bc_cutoff = Some(n),
                _ => {}
            }
        }
        i
    }

    /// The port's `bclim`, the default when the dump left it out.
    pub fn bc_cutoff_or_default(&self) -> i32 {
        self.bc_cutoff.unwrap_or(DEFAULT_BC_CUTOFF)
    }
}

impl Netlink {
    /// Creates a macvlan: every option in one `RTM_NEWLINK` with
    /// `NLM_F_CREATE | NLM_F_EXCL`.
    pub fn create_macvlan(&mut self, req: &NewMacvlanLink) -> Result<()> {
        let op = format!("create macvlan {} on {}", req.name, req.lower);
        let mut ctx = Ctx::for_create(op, req);
        let lower = match &req.lower {
            LinkRef::Index(i) => *i,
            r => match self.get_link_raw(r, None) {
                Ok(l) => l.index,
                Err(f) => return Err(self.explain(&ctx, f)),
            },
        };
        ctx.lower = Some(LinkRef::Index(lower));
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(req.name.clone()));
        m.attributes.push(LinkAttribute::Link(lower));
        if let Some(a) = req.address {
            m.attributes.push(LinkAttribute::Address(a.0.to_vec()));
        }
        if let Some(mtu) = req.mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(ns) = &req.netns {
            m.attributes.push(LinkAttribute::NetNsFd(ns.as_raw_fd()));
        }
        if let Some(g) = req.group {
            m.attributes.push(LinkAttribute::Group(g.get()));
        }
        m.attributes.push(macvlan_link_info(&req.macvlan));
        match self.exchange(&RouteNetlinkMessage::NewLink(m), NLM_F_CREATE | NLM_F_EXCL) {
            Ok(_) => Ok(()),
            Err(f) => Err(self.explain(&ctx, f)),
        }
    }

    /// One macvlan, decoded; a device of another kind is an error.
    pub fn macvlan(&mut self, dev: impl Into<LinkRef>) -> Result<Link> {
        let l = self.link(dev)?;
        if l.is_macvlan() {
            Ok(l)
        } else {
            Err(Error::Kernel(Box::new(KernelError {
                op: format!("show macvlan {}", l.name),
                errno: libc::EOPNOTSUPP,
                extack: None,
                cause: Cause::NotMacvlan {
                    name: l.name.clone(),
                    kind: l.kind.clone(),
                },
            })))
        }
    }

    /// Every macvlan of the namespace, in index order.
    pub fn macvlans(&mut self) -> Result<Vec<Link>> {
        Ok(self.links()?.into_iter().filter(Link::is_macvlan).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{Emitable, NlaBuffer, Parseable};

    fn m(b: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, b])
    }

    #[test]
    fn every_option_is_encoded_once() {
        let d = macvlan_info_data(&MacvlanChange {
            mode: Some(Mode::Source),
            flags: Some(Flags::NODST),
            macaddr: Some(MacaddrOp::Set(vec![m(1), m(2)])),
            bc_queue_len: Some(5000),
            bc_cutoff: Some(-1),
        });
        assert_eq!(
            d,
            vec![
                InfoMacVlan::Mode(MacVlanMode::Source),
                InfoMacVlan::Flags(MacVlanFlags::NoDst),
                InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::Set),
                InfoMacVlan::MacAddrData(vec![InfoMacVlan::MacAddr(m(1).0), InfoMacVlan::MacAddr(m(2).0)]),
                InfoMacVlan::BcQueueLen(5000),
                InfoMacVlan::BcCutoff(-1),
            ]
        );
        let d = macvlan_info_data(&MacvlanChange {
            macaddr: Some(MacaddrOp::Add(m(3))),
            ..Default::default()
        });
        assert_eq!(
            d,
            vec![
                InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::Add),
                InfoMacVlan::MacAddr(m(3).0)
            ]
        );
        let d = macvlan_info_data(&MacvlanChange {
            macaddr: Some(MacaddrOp::Flush),
            ..Default::default()
        });
        assert_eq!(d, vec![InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::Flush)]);
        assert!(macvlan_info_data(&MacvlanChange::default()).is_empty());
    }

    #[test]
    fn kernel_numbers_on_the_wire() {
        // MODE=bridge (4), BC_CUTOFF=-1: checked byte for byte.
        let d = macvlan_info_data(&MacvlanChange {
            mode: Some(Mode::Bridge),
            bc_cutoff: Some(-1),
            ..Default::default()
        });
        let mut buf = vec![0u8; d.as_slice().buffer_len()];
        d.as_slice().emit(&mut buf);
        assert_eq!(&buf[..8], &[8, 0, 1, 0, 4, 0, 0, 0]);
        assert_eq!(&buf[8..], &[8, 0, 9, 0, 0xff, 0xff, 0xff, 0xff]);
        let back = InfoMacVlan::parse(&NlaBuffer::new(&buf[8..])).unwrap();
        assert_eq!(back, InfoMacVlan::BcCutoff(-1));
    }

    #[test]
    fn decode_a_dump() {
        let i = MacvlanAttrs::from_attributes(vec![
            InfoMacVlan::Mode(MacVlanMode::Source),
            InfoMacVlan::Flags(MacVlanFlags::from_bits_retain(2 | 8)),
            InfoMacVlan::MacAddrCount(2),
            InfoMacVlan::MacAddrData(vec![InfoMacVlan::MacAddr(m(2).0), InfoMacVlan::MacAddr(m(1).0)]),
            InfoMacVlan::BcQueueLen(10),
            InfoMacVlan::BcQueueLenUsed(1000),
        ]);
        assert_eq!(i.mode, Some(Mode::Source));
        assert_eq!(i.flags, Flags::NODST);
        assert_eq!(i.raw_flags, 10);
        assert_eq!(i.macaddrs, vec![m(2), m(1)]);
        assert_eq!((i.bc_queue_len, i.bc_queue_len_used), (Some(10), Some(1000)));
        assert_eq!(i.bc_cutoff_or_default(), 1);
        let u = MacvlanAttrs::from_attributes(vec![InfoMacVlan::Mode(MacVlanMode::Other(3))]);
        assert_eq!((u.mode, u.raw_mode), (None, 3));
    }

    #[test]
    fn words_read_like_ip() {
        let r = NewMacvlanLink::new("mv0", "eth0")
            .mode(Mode::Source)
            .flags(Flags::NODST)
            .macaddr(MacaddrOp::Set(vec![m(1)]))
            .bc_queue_len(7)
            .bc_cutoff(2)
            .mtu(1400)
            .group(NonZeroU32::new(3).unwrap())
            .address(m(9));
        assert_eq!(
            r.words(),
            "mv0 link eth0 address 02:00:00:00:00:09 mtu 1400 group 3 type macvlan mode source nodst macaddr set 02:00:00:00:00:01 bcqueuelen 7 bclim 2"
        );
    }
}
