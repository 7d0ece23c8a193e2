//! From a bare errno to a cause that names the devices involved.
//!
//! The kernel answers a refused macvlan request with one errno (EINVAL
//! alone covers a dozen rules). After a refusal the lower's port is rebuilt
//! from dumps (`port`) and the request replayed on it: the core's refusal,
//! when it has the kernel's errno, is the cause, in the words the emulator
//! uses for the same rule. What a port does not hold is found here: a
//! missing device, a name taken, options for a device that is no macvlan,
//! and the checks the kernel's core makes of any device. When nothing fits,
//! the errno and the kernel's own text stand alone.

use mvl_core::{MacAddr, MacvlanChange, NewMacvlan, Port};

use crate::error::{Cause, Error, KernelError};
use crate::link::{Link, LinkChange, LinkRef};
use crate::macvlan::NewMacvlanLink;
use crate::socket::{Fail, Netlink};

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
    /// The macvlan options the request carries.
    pub macvlan: Option<MacvlanChange>,
    pub address: Option<MacAddr>,
    pub mtu: Option<u32>,
    /// It brings the device up.
    pub up: bool,
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

    pub fn for_create(op: String, r: &NewMacvlanLink) -> Ctx {
        Ctx {
            op,
            dev: None,
            new_name: Some(r.name.clone()),
            lower: Some(r.lower.clone()),
            macvlan: Some(r.macvlan.clone()),
            address: r.address,
            mtu: r.mtu,
            up: false,
            netns: r.netns.as_ref().map(|n| n.label().to_string()),
        }
    }

    pub fn for_change(op: String, dev: &LinkRef, c: &LinkChange) -> Ctx {
        Ctx {
            op,
            dev: Some(dev.clone()),
            new_name: c.name.clone(),
            lower: None,
            macvlan: c.macvlan.clone(),
            address: c.address,
            mtu: c.mtu,
            up: c.up == Some(true),
            netns: c.netns.as_ref().map(|n| n.label().to_string()),
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
            libc::EOPNOTSUPP => self.not_macvlan(ctx),
            _ => {
                let replayed = match &ctx.lower {
                    Some(lower) => self.replay_create(ctx, &lower.clone()),
                    None => self.replay_change(ctx),
                };
                match replayed {
                    Some(Err(e)) if e.errno().code() == errno => Some(Cause::Rule(e)),
                    Some(_) if errno == libc::EADDRINUSE => self.held_out_of_sight(ctx),
                    _ => None,
                }
            }
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

    /// The create, replayed on the lower's port as the kernel holds it.
    fn replay_create(&mut self, ctx: &Ctx, lower: &LinkRef) -> Option<Result<(), mvl_core::Error>> {
        let lower = self.lookup(lower, None)?;
        let mut port = match self.port_of(&lower, None) {
            Ok(p) => p.port,
            Err(e) => return Some(Err(e)),
        };
        let req = NewMacvlan {
            name: ctx.new_name.clone().unwrap_or_default(),
            // Creation checks an address only for validity, so a stand-in
            // serves when the kernel was to pick one.
            mac: ctx.address.unwrap_or(MacAddr([2, 0, 0, 0, 0, 1])),
            mtu: ctx.mtu,
            macvlan: ctx.macvlan.clone().unwrap_or_default(),
        };
        Some(port.create(req).map(drop))
    }

    /// The change, replayed in the kernel's order: the addresses validated,
    /// the macvlan options (`changelink`), then the MAC, the MTU and up.
    /// A device that is no macvlan meets only the core's checks.
    fn replay_change(&mut self, ctx: &Ctx) -> Option<Result<(), mvl_core::Error>> {
        let target = self.lookup(ctx.dev.as_ref()?, None)?;
        if let Some(mac) = ctx.address {
            if let Err(e) = Port::check_mac(&target.name, mac) {
                return Some(Err(e));
            }
        }
        if !target.is_macvlan() {
            let mtu = ctx.mtu?;
            let min = target.min_mtu.unwrap_or(mvl_core::MIN_MTU);
            let max = target.max_mtu.filter(|&m| m > 0).unwrap_or(mvl_core::MAX_MTU);
            return Some(mvl_core::check_mtu_range(&target.name, mtu, min, max));
        }
        let nsid = target.link_netnsid;
        let lower = self.lookup(&LinkRef::Index(target.link?), nsid)?;
        let rebuilt = self.port_of(&lower, nsid).ok()?;
        let id = rebuilt.id_of(target.index)?;
        let mut port = rebuilt.port;
        Some((|| {
            if let Some(c) = &ctx.macvlan {
                port.change(id, c)?;
            }
            if let Some(mac) = ctx.address {
                port.set_mac(id, mac)?;
            }
            if let Some(mtu) = ctx.mtu {
                port.set_mtu(id, mtu)?;
            }
            if ctx.up {
                port.open(id)?;
            }
            Ok(())
        })())
    }

    /// EADDRINUSE the replay did not meet: the MAC is held by a macvlan
    /// this socket cannot see, in a third namespace.
    fn held_out_of_sight(&mut self, ctx: &Ctx) -> Option<Cause> {
        let target = self.lookup(ctx.dev.as_ref()?, None).filter(Link::is_macvlan)?;
        let mac = ctx.address.or(target.address)?;
        let lower = self.lookup(&LinkRef::Index(target.link?), target.link_netnsid)?;
        Some(Cause::Rule(mvl_core::Error::AddrInUse {
            dev: target.name,
            mac,
            holder: format!("an up macvlan of {} in another network namespace", lower.name),
            lower: lower.name,
        }))
    }

    /// `type macvlan` options on a device of another kind.
    fn not_macvlan(&mut self, ctx: &Ctx) -> Option<Cause> {
        ctx.macvlan.as_ref()?;
        let target = self.lookup(ctx.dev.as_ref()?, None)?;
        (!target.is_macvlan()).then_some(Cause::NotMacvlan {
            name: target.name,
            kind: target.kind,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
