//! From a bare errno to a cause that names the devices involved.
//!
//! The kernel answers a refused macvlan request with one errno (EINVAL
//! alone covers a dozen rules). After a refusal we look at the devices the
//! request named — the lower, its macvlans, their modes, MACs and MTUs —
//! and find which rule applies, in the order the driver checks them. The
//! answer is an `mvl_core::Error`, the same words the emulator uses. When
//! nothing fits, the errno and the kernel's own text stand alone.

use mvl_core::{BadMac, MacAddr, MacaddrOp, Mode};

use crate::error::{Cause, Error, KernelError};
use crate::link::{Link, LinkChange, LinkRef, ARPHRD_ETHER, ARPHRD_LOOPBACK, IFF_LOOPBACK};
use crate::macvlan::NewMacvlan;
use crate::socket::{Fail, Netlink};

/// The smallest MTU the kernel gives an Ethernet device (`ETH_MIN_MTU`).
const ETH_MIN_MTU: u32 = 68;
/// The largest (`ETH_MAX_MTU`).
const ETH_MAX_MTU: u32 = 65535;

/// What a request was about, for explaining its refusal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ctx {
    pub op: String,
    /// The existing device the request changes.
    pub dev: Option<LinkRef>,
    /// The name it creates (or renames to).
    pub new_name: Option<String>,
    /// The lower of a macvlan being created.
    pub lower: Option<LinkRef>,
    pub mode: Option<Mode>,
    pub macaddr: Option<MacaddrOp>,
    pub address: Option<MacAddr>,
    pub mtu: Option<u32>,
    /// Whether the request carries macvlan options.
    pub macvlan: bool,
    /// The label of the namespace the device goes to.
    pub netns: Option<String>,
}

impl Ctx {
    pub fn new(op: String) -> Ctx {
        Ctx {
            op,
            ..Default::default()
        }
    }

    pub fn dev(mut self, dev: LinkRef) -> Ctx {
        self.dev = Some(dev);
        self
    }

    pub fn new_name(mut self, name: &str) -> Ctx {
        self.new_name = Some(name.to_string());
        self
    }

    pub fn for_create(op: String, r: &NewMacvlan) -> Ctx {
        Ctx {
            op,
            dev: None,
            new_name: Some(r.name.clone()),
            lower: Some(r.lower.clone()),
            mode: r.macvlan.mode,
            macaddr: r.macvlan.macaddr.clone(),
            address: r.address,
            mtu: r.mtu,
            macvlan: true,
            netns: r.netns.as_ref().map(|n| n.label().to_string()),
        }
    }

    pub fn for_change(op: String, dev: &LinkRef, c: &LinkChange) -> Ctx {
        Ctx {
            op,
            dev: Some(dev.clone()),
            new_name: c.name.clone(),
            lower: None,
            mode: c.macvlan.as_ref().and_then(|m| m.mode),
            macaddr: c.macvlan.as_ref().and_then(|m| m.macaddr.clone()),
            address: c.address,
            mtu: c.mtu,
            macvlan: c.macvlan.is_some(),
            netns: c.netns.as_ref().map(|n| n.label().to_string()),
        }
    }

    /// The name messages use for the device the request is about.
    fn name(&self) -> String {
        match (&self.new_name, &self.dev) {
            (_, Some(LinkRef::Name(n))) => n.clone(),
            (Some(n), _) => n.clone(),
            (None, Some(d)) => d.to_string(),
            (None, None) => "the device".into(),
        }
    }
}

impl Netlink {
    /// The error for a failed request: the kernel's refusal with the cause
    /// we find by looking at the devices, or any other failure as it is.
    pub(crate) fn explain(&mut self, ctx: &Ctx, fail: Fail) -> Error {
        let r = match fail {
            Fail::Refused(r) => r,
            Fail::Other(e) => return e,
        };
        let cause = self.find_cause(ctx, r.errno).unwrap_or(Cause::Unexplained);
        Error::Kernel(Box::new(KernelError {
            op: ctx.op.clone(),
            errno: r.errno,
            extack: r.extack,
            cause,
        }))
    }

    fn find_cause(&mut self, ctx: &Ctx, errno: i32) -> Option<Cause> {
        match errno {
            libc::ENODEV => self.missing(ctx),
            libc::EEXIST => name_taken(ctx, self.namespace()),
            libc::EADDRNOTAVAIL => bad_mac(ctx),
            libc::EADDRINUSE => self.addr_in_use(ctx),
            libc::EBUSY => self.lower_busy(ctx),
            libc::EINVAL => match &ctx.lower {
                Some(lower) => self.invalid_create(ctx, &lower.clone()),
                None => self.invalid_change(ctx),
            },
            libc::EOPNOTSUPP => self.not_macvlan(ctx),
            _ => None,
        }
    }

    fn lookup(&mut self, r: &LinkRef, nsid: Option<i32>) -> Option<Link> {
        self.get_link_raw(r, nsid).ok()
    }

    /// The first device the request names that does not exist.
    fn missing(&mut self, ctx: &Ctx) -> Option<Cause> {
        for r in [&ctx.lower, &ctx.dev].into_iter().flatten() {
            if let Err(Fail::Refused(x)) = self.get_link_raw(r, None) {
                if x.errno == libc::ENODEV {
                    return Some(Cause::NoDevice {
                        name: r.to_string(),
                        ns: self.namespace().to_string(),
                    });
                }
            }
        }
        None
    }

    /// Who holds the MAC: the lower itself or an up sibling.
    fn addr_in_use(&mut self, ctx: &Ctx) -> Option<Cause> {
        let me = match (&ctx.dev, &ctx.new_name) {
            (Some(d), _) => d.clone(),
            (None, Some(n)) => LinkRef::Name(n.clone()),
            _ => return None,
        };
        let target = self.lookup(&me, None)?;
        let mac = ctx.address.or(target.address)?;
        let nsid = target.link_netnsid;
        let lower = self.lookup(&LinkRef::Index(target.link?), nsid)?;
        let holder = if lower.address == Some(mac) {
            format!("the lower {}", lower.name)
        } else {
            let mut found = None;
            if let Ok(links) = self.links_raw(nsid) {
                found = links
                    .into_iter()
                    .find(|l| {
                        l.link == Some(lower.index)
                            && l.link_netnsid.is_none()
                            && (nsid.is_some() || l.index != target.index)
                            && l.is_up()
                            && l.address == Some(mac)
                    })
                    .map(|l| l.name);
            }
            if found.is_none() && nsid.is_some() {
                if let Ok(links) = self.links_raw(None) {
                    found = links
                        .into_iter()
                        .find(|l| {
                            l.link == Some(lower.index)
                                && l.link_netnsid == nsid
                                && l.index != target.index
                                && l.is_up()
                                && l.address == Some(mac)
                        })
                        .map(|l| l.name);
                }
            }
            found.unwrap_or_else(|| format!("an up macvlan of {} in another network namespace", lower.name))
        };
        Some(Cause::Rule(mvl_core::Error::AddrInUse {
            dev: target.name,
            mac,
            holder,
            lower: lower.name,
        }))
    }

    /// What already holds the lower's frames: a master, or another driver
    /// stacked on it.
    fn lower_busy(&mut self, ctx: &Ctx) -> Option<Cause> {
        let lower = self.lookup(ctx.lower.as_ref()?, None)?;
        let holder = if let Some(mi) = lower.master {
            match self.lookup(&LinkRef::Index(mi), None) {
                Some(m) => match m.kind.as_deref() {
                    Some("bridge") => format!("is a port of bridge {}", m.name),
                    Some("bond") => format!("is a slave of bond {}", m.name),
                    Some("team") => format!("is a port of team {}", m.name),
                    Some(k) => format!("is enslaved to {k} {}", m.name),
                    None => format!("is enslaved to {}", m.name),
                },
                None => format!("is enslaved to the device with index {mi}"),
            }
        } else {
            let stacked = self.links_raw(None).ok().and_then(|links| {
                links.into_iter().find(|l| {
                    l.link == Some(lower.index)
                        && l.link_netnsid.is_none()
                        && matches!(l.kind.as_deref(), Some("ipvlan" | "ipvtap" | "macsec"))
                })
            });
            match (stacked, &lower.slave_kind) {
                (Some(s), _) => format!("carries {} {}", s.kind.unwrap_or_default(), s.name),
                (None, Some(k)) => format!("is a {k} port"),
                (None, None) => "already has another receive handler".into(),
            }
        };
        Some(Cause::Rule(mvl_core::Error::LowerBusy {
            lower: lower.name,
            holder,
        }))
    }

    /// The macvlans on `lower` (those in this namespace).
    fn children_of(&mut self, lower: &Link) -> Vec<Link> {
        self.links_raw(None)
            .map(|v| {
                v.into_iter()
                    .filter(|l| l.is_macvlan() && l.link == Some(lower.index) && l.link_netnsid.is_none())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// EINVAL on create, in the driver's order: the lower's type, the MTU,
    /// passthru exclusivity, a source list outside source mode.
    fn invalid_create(&mut self, ctx: &Ctx, lower: &LinkRef) -> Option<Cause> {
        let lower = self.lookup(lower, None)?;
        let dev = ctx.name();
        if lower.flags & IFF_LOOPBACK != 0 || lower.link_type == ARPHRD_LOOPBACK {
            return rule(mvl_core::Error::LowerIsLoopback { lower: lower.name });
        }
        if lower.link_type != ARPHRD_ETHER {
            return rule(mvl_core::Error::LowerNotEthernet { lower: lower.name });
        }
        if let Some(mtu) = ctx.mtu {
            let max = lower.max_mtu.unwrap_or(ETH_MAX_MTU);
            if !(ETH_MIN_MTU..=max).contains(&mtu) {
                return rule(mvl_core::Error::MtuOutOfRange {
                    dev,
                    mtu,
                    min: ETH_MIN_MTU,
                    max,
                });
            }
            if let Some(lower_mtu) = lower.mtu.filter(|&l| mtu > l) {
                return rule(mvl_core::Error::MtuAboveLower {
                    dev,
                    mtu,
                    lower: lower.name,
                    lower_mtu,
                });
            }
        }
        let children = self.children_of(&lower);
        if let Some(p) = children
            .iter()
            .find(|c| c.macvlan.as_ref().and_then(|m| m.mode) == Some(Mode::Passthru))
        {
            return rule(mvl_core::Error::PassthruPortFull {
                lower: lower.name,
                child: p.name.clone(),
            });
        }
        if ctx.mode == Some(Mode::Passthru) && !children.is_empty() {
            let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
            return rule(mvl_core::Error::PassthruNeedsEmptyLower {
                lower: lower.name,
                children: names.join(", "),
            });
        }
        if ctx.macaddr.is_some() && ctx.mode != Some(Mode::Source) {
            return rule(mvl_core::Error::MacaddrNotSource {
                dev,
                mode: ctx.mode.unwrap_or(Mode::Vepa),
            });
        }
        None
    }

    /// EINVAL on change: a mode change into or out of passthru, the MTU, a
    /// source list outside source mode.
    fn invalid_change(&mut self, ctx: &Ctx) -> Option<Cause> {
        let target = self.lookup(ctx.dev.as_ref()?, None)?;
        let cur = target.macvlan.as_ref().and_then(|m| m.mode);
        if let (Some(to), Some(from)) = (ctx.mode, cur) {
            if (to == Mode::Passthru) != (from == Mode::Passthru) {
                return rule(mvl_core::Error::PassthruModeChange {
                    dev: target.name,
                    from,
                    to,
                });
            }
        }
        if let Some(mtu) = ctx.mtu {
            let min = target.min_mtu.unwrap_or(ETH_MIN_MTU);
            let max = target.max_mtu.unwrap_or(ETH_MAX_MTU);
            if !(min..=max).contains(&mtu) {
                return rule(mvl_core::Error::MtuOutOfRange {
                    dev: target.name,
                    mtu,
                    min,
                    max,
                });
            }
            if target.is_macvlan() {
                if let Some(lower) = target
                    .link
                    .and_then(|i| self.lookup(&LinkRef::Index(i), target.link_netnsid))
                {
                    if let Some(lower_mtu) = lower.mtu.filter(|&l| mtu > l) {
                        return rule(mvl_core::Error::MtuAboveLower {
                            dev: target.name,
                            mtu,
                            lower: lower.name,
                            lower_mtu,
                        });
                    }
                }
            }
        }
        if ctx.macaddr.is_some() && target.is_macvlan() {
            let mode = ctx.mode.or(cur);
            if mode != Some(Mode::Source) {
                return rule(mvl_core::Error::MacaddrNotSource {
                    dev: target.name,
                    mode: mode.unwrap_or(Mode::Vepa),
                });
            }
        }
        None
    }

    /// `type macvlan` options on a device of another kind.
    fn not_macvlan(&mut self, ctx: &Ctx) -> Option<Cause> {
        if !ctx.macvlan {
            return None;
        }
        let target = self.lookup(ctx.dev.as_ref()?, None)?;
        (!target.is_macvlan()).then_some(Cause::NotMacvlan {
            name: target.name,
            kind: target.kind,
        })
    }
}

fn rule(e: mvl_core::Error) -> Option<Cause> {
    Some(Cause::Rule(e))
}

/// EEXIST: the name is taken, in the target namespace for a move.
fn name_taken(ctx: &Ctx, here: &str) -> Option<Cause> {
    let name = ctx.new_name.clone().or_else(|| match &ctx.dev {
        Some(LinkRef::Name(n)) => Some(n.clone()),
        _ => None,
    })?;
    Some(Cause::NameTaken {
        name,
        ns: ctx.netns.clone().unwrap_or_else(|| here.to_string()),
    })
}

/// EADDRNOTAVAIL: the first address that is multicast or zero.
fn bad_mac(ctx: &Ctx) -> Option<Cause> {
    let dev = ctx.name();
    let list = ctx.macaddr.iter().flat_map(|o| o.addrs().iter().copied());
    ctx.address.into_iter().chain(list).find_map(|mac| {
        BadMac::of(mac).map(|why| {
            Cause::Rule(mvl_core::Error::InvalidMac {
                dev: dev.clone(),
                mac,
                why,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_mac_names_the_first_refused_address() {
        let mut c = Ctx::new("create macvlan mv0".into()).new_name("mv0");
        c.macaddr = Some(MacaddrOp::Set(vec![
            MacAddr([2, 0, 0, 0, 0, 1]),
            MacAddr([1, 0, 0x5e, 0, 0, 1]),
        ]));
        let Some(Cause::Rule(mvl_core::Error::InvalidMac { dev, mac, why })) = bad_mac(&c) else {
            panic!("no cause")
        };
        assert_eq!(
            (dev.as_str(), mac, why),
            ("mv0", MacAddr([1, 0, 0x5e, 0, 0, 1]), BadMac::Multicast)
        );
        c.address = Some(MacAddr::ZERO);
        assert!(matches!(
            bad_mac(&c),
            Some(Cause::Rule(mvl_core::Error::InvalidMac {
                why: BadMac::Zero,
                ..
            }))
        ));
    }

    #[test]
    fn name_taken_says_where() {
        let c = Ctx::new("x".into()).new_name("mv0");
        assert_eq!(
            name_taken(&c, "ns1"),
            Some(Cause::NameTaken {
                name: "mv0".into(),
                ns: "ns1".into()
            })
        );
        let mut c = Ctx::new("x".into()).dev(LinkRef::Name("mv0".into()));
        c.netns = Some("ns2".into());
        assert_eq!(
            name_taken(&c, "ns1"),
            Some(Cause::NameTaken {
                name: "mv0".into(),
                ns: "ns2".into()
            })
        );
    }
}
