//! The routing table of each namespace, as Linux's main table behaves:
//! a connected route for each primary address of an up device (derived,
//! as the kernel adds and removes them with the address and the device),
//! routes added with `ip route` (kept until deleted, or until their device
//! goes down, leaves or loses its last address), and the lookup that picks
//! the longest prefix, then the lowest metric, then the oldest route.

use std::cmp::Reverse;
use std::net::Ipv4Addr;

use mvl_core::Errno;
use mvl_iproute2::cmd::{Ipv4Net, RouteOp, RouteSet, RouteShow, Sysctl};
use mvl_iproute2::show::{routes_text, RouteView};

use crate::device::{DevId, Kind, NsId};
use crate::error::SimError;
use crate::sim::Sim;

/// A route added with `ip route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StaticRoute {
    pub dst: Ipv4Net,
    pub gateway: Option<Ipv4Addr>,
    pub dev: DevId,
    pub metric: u32,
    pub src: Option<Ipv4Addr>,
    /// When it went in (the emulator's order stamp): of equal routes, the
    /// oldest wins and lists first.
    pub since: u64,
}

/// A route for a packet this host sends or forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    pub dev: DevId,
    pub src: Ipv4Addr,
    /// The next hop when it is not the destination itself.
    pub gateway: Option<Ipv4Addr>,
    /// The destination is one of the host's own addresses (via `lo`).
    pub local: bool,
}

impl Route {
    /// Where the packet goes next: the gateway, or the destination on link.
    pub(crate) fn next_hop(&self, dst: Ipv4Addr) -> Ipv4Addr {
        self.gateway.unwrap_or(dst)
    }
}

/// One entry of the main table, connected or static, as a lookup and a
/// listing see it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    dst: Ipv4Net,
    gateway: Option<Ipv4Addr>,
    dev: DevId,
    metric: u32,
    /// `src` as listed: the address of a connected route, or the one given.
    src: Option<Ipv4Addr>,
    connected: bool,
    since: u64,
}

impl Sim {
    /// The main table of `ns`: the connected routes of up devices' primary
    /// addresses, then the static routes. (The loopback's own routes and
    /// a /32's, which Linux keeps in the local table, are in the lookup but
    /// not the listing.) An iterator: a lookup allocates nothing.
    fn main_table(&self, ns: NsId, listing: bool) -> impl Iterator<Item = Entry> + '_ {
        let connected = self.devices_in(ns).flat_map(move |d| {
            let dev = self.dev(d);
            let shown = dev.up && !(listing && matches!(dev.kind, Kind::Loopback));
            dev.addrs
                .iter()
                .zip(&dev.addr_since)
                .enumerate()
                .filter(move |_| shown)
                .filter(move |&(i, (a, _))| {
                    let local_only = listing && a.prefix_len() == 32;
                    !(dev.secondary(i) || local_only)
                })
                .map(move |(_, (a, &since))| Entry {
                    dst: a.trunc(),
                    gateway: None,
                    dev: d,
                    metric: 0,
                    src: Some(a.addr()),
                    connected: true,
                    since: since.max(dev.up_since),
                })
        });
        let routes = self.nss[ns.0 as usize].routes.iter().map(|r| Entry {
            dst: r.dst,
            gateway: r.gateway,
            dev: r.dev,
            metric: r.metric,
            src: r.src,
            connected: false,
            since: r.since,
        });
        connected.chain(routes)
    }

    /// The source address Linux picks for a route without one
    /// (`inet_select_addr`): the device's address on the gateway's subnet,
    /// else its first.
    fn select_src(&self, dev: DevId, near: Option<Ipv4Addr>) -> Ipv4Addr {
        let addrs = &self.dev(dev).addrs;
        near.and_then(|g| addrs.iter().find(|a| a.contains(&g)))
            .or_else(|| addrs.first())
            .map_or(Ipv4Addr::UNSPECIFIED, |a| a.addr())
    }

    /// The best route of the main table to `dst` (out of `oif` when
    /// bound), among routes whose scope is at least link when `link_only`.
    fn lookup(&self, ns: NsId, dst: Ipv4Addr, oif: Option<DevId>, link_only: bool) -> Option<Entry> {
        // The first of the best: on a tie, table order (devices, then static).
        self.main_table(ns, false)
            .filter(|e| e.dst.contains(&dst) && oif.is_none_or(|o| o == e.dev))
            .filter(|e| !link_only || e.gateway.is_none())
            .min_by_key(|e| (Reverse(e.dst.prefix_len()), e.metric, e.since))
    }

    /// Route lookup for a packet this host sends (`ip_route_output`) or
    /// forwards (`ip_route_input`, whose answer is the same here).
    pub(crate) fn route_output(&self, ns: NsId, dst: Ipv4Addr, oif: Option<DevId>) -> Option<Route> {
        if self.is_local(ns, dst) {
            return Some(Route {
                dev: self.lo(ns),
                src: dst,
                gateway: None,
                local: true,
            });
        }
        if let Some(e) = self.lookup(ns, dst, oif, false) {
            return Some(Route {
                dev: e.dev,
                src: e.src.unwrap_or_else(|| self.select_src(e.dev, e.gateway)),
                gateway: e.gateway,
                local: false,
            });
        }
        // Bound to a device with no route: Linux assumes the destination is on link.
        let o = oif?;
        self.dev(o).up.then(|| Route {
            dev: o,
            src: self.select_src(o, None),
            gateway: None,
            local: false,
        })
    }

    /// `ip route add|del|replace|change`, with the kernel's checks in its
    /// order: the prefix, the next hop, the source, then the table.
    pub fn route_set(&mut self, ns: NsId, req: &RouteSet) -> Result<(), SimError> {
        let dev = match &req.dev {
            Some(name) => Some(self.find(ns, name)?),
            None => None,
        };
        if req.dst.trunc() != req.dst {
            return Err(SimError::kernel_says(
                Errno::EINVAL,
                "Invalid prefix for given prefix length",
                format!(
                    "{} has host bits set; the network is {}",
                    req.dst,
                    req.dst.trunc()
                ),
            ));
        }
        let metric = req.metric.unwrap_or(0);
        if req.op == RouteOp::Del {
            return self.route_del(ns, req, dev);
        }
        let dev = self.check_nexthop(ns, req, dev)?;
        if let Some(src) = req.src {
            if !self.is_local(ns, src) {
                return Err(SimError::kernel_says(
                    Errno::EINVAL,
                    "Invalid prefsrc address",
                    format!("{src} is not an address of this namespace"),
                ));
            }
        }
        // The route this one would replace: the oldest to the destination
        // with its metric.
        let existing = self
            .main_table(ns, true)
            .filter(|e| e.dst == req.dst && e.metric == metric)
            .min_by_key(|e| e.since);
        let route = StaticRoute {
            dst: req.dst,
            gateway: req.via,
            dev,
            metric,
            src: req.src,
            since: 0,
        };
        match (req.op, existing) {
            (RouteOp::Add, Some(e)) => Err(SimError::kernel(
                Errno::EEXIST,
                format!(
                    "{} has a route to {} with metric {metric}",
                    self.label(e.dev),
                    e.dst
                ),
            )),
            (RouteOp::Change, None) => Err(SimError::kernel(
                Errno::ENOENT,
                format!("no route to {} with metric {metric} to change", req.dst),
            )),
            (RouteOp::Replace | RouteOp::Change, Some(e)) if e.connected => {
                Err(SimError::Unsupported(format!(
                    "replacing the connected route to {} of {}",
                    e.dst,
                    self.label(e.dev)
                )))
            }
            (RouteOp::Replace | RouteOp::Change, Some(e)) => {
                let routes = &mut self.nss[ns.0 as usize].routes;
                let r = routes
                    .iter_mut()
                    .find(|r| r.since == e.since)
                    .expect("a static entry is in the table");
                *r = StaticRoute {
                    since: e.since,
                    ..route
                };
                Ok(())
            }
            _ => {
                let since = self.next_order();
                self.nss[ns.0 as usize]
                    .routes
                    .push(StaticRoute { since, ..route });
                Ok(())
            }
        }
    }

    /// `fib_check_nh`: a gateway must be reachable on link (through a
    /// connected route or a device route, out of `dev` when given); a
    /// route without a gateway needs an up device. Returns the device.
    fn check_nexthop(&self, ns: NsId, req: &RouteSet, dev: Option<DevId>) -> Result<DevId, SimError> {
        match (req.via, dev) {
            (Some(gw), _) => {
                if self.is_local(ns, gw) {
                    return Err(SimError::Unsupported(format!(
                        "a route via {gw}, an address of this namespace"
                    )));
                }
                match self.lookup(ns, gw, dev, true) {
                    Some(e) => Ok(e.dev),
                    None => Err(SimError::kernel_says(
                        Errno::EINVAL,
                        "Nexthop has invalid gateway",
                        match dev {
                            Some(d) => format!("{gw} is not on a subnet of {} that is up", self.label(d)),
                            None => format!("{gw} is not on a subnet of an up device"),
                        },
                    )),
                }
            }
            (None, Some(d)) if !self.dev(d).up => Err(SimError::kernel_says(
                Errno::ENETDOWN,
                "Device for nexthop is not up",
                format!("{} is down", self.label(d)),
            )),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(SimError::kernel(
                Errno::ENODEV,
                format!("a route to {} needs a gateway (via) or a device (dev)", req.dst),
            )),
        }
    }

    /// `fib_table_delete`: the first route to the destination (lowest
    /// metric, then oldest) that matches what was given.
    fn route_del(&mut self, ns: NsId, req: &RouteSet, dev: Option<DevId>) -> Result<(), SimError> {
        let found = self
            .main_table(ns, true)
            .filter(|e| {
                e.dst == req.dst
                    && req.metric.is_none_or(|m| m == e.metric)
                    && req.via.is_none_or(|g| Some(g) == e.gateway)
                    && dev.is_none_or(|d| d == e.dev)
                    && req.src.is_none_or(|s| Some(s) == e.src)
            })
            .min_by_key(|e| (e.metric, e.since));
        match found {
            None => Err(SimError::kernel(
                Errno::ESRCH,
                format!("no route to {} matches", req.dst),
            )),
            Some(e) if e.connected => Err(SimError::Unsupported(format!(
                "deleting the connected route to {} of {}",
                e.dst,
                self.label(e.dev)
            ))),
            Some(e) => {
                self.nss[ns.0 as usize].routes.retain(|r| r.since != e.since);
                Ok(())
            }
        }
    }

    /// The device went down, left or was deleted: its static routes go
    /// (`fib_disable_ip`), with the path MTUs learned through it;
    /// connected ones follow its state by themselves.
    pub(crate) fn forget_routes(&mut self, dev: DevId) {
        for ns in &mut self.nss {
            ns.routes.retain(|r| r.dev != dev);
            ns.pmtu.retain(|_, e| e.dev != dev);
        }
    }

    /// An address of `dev` was deleted: routes that named it as their
    /// source go (`fib_sync_down_addr`), and all of the device's when it
    /// was the last.
    pub(crate) fn address_gone(&mut self, dev: DevId, addr: Ipv4Addr) {
        let last = self.dev(dev).addrs.is_empty();
        let ns = self.dev(dev).ns;
        self.nss[ns.0 as usize]
            .routes
            .retain(|r| r.src != Some(addr) && !(last && r.dev == dev));
    }

    /// `ip route show`: the main table in the kernel's order (by
    /// destination, longer prefixes first, then metric), as iproute2 prints
    /// it (`linkdown` on a route whose device has no carrier).
    pub fn route_show(&self, ns: NsId, req: &RouteShow) -> Result<String, SimError> {
        let dev = match &req.dev {
            Some(name) => Some(
                self.find(ns, name)
                    .map_err(|_| SimError::Tool(format!("Cannot find device \"{name}\"")))?,
            ),
            None => None,
        };
        let mut table: Vec<Entry> = self
            .main_table(ns, true)
            .filter(|e| req.dst.is_none_or(|d| d.trunc() == e.dst) && dev.is_none_or(|d| d == e.dev))
            .collect();
        table.sort_by_key(|e| (e.dst.network(), Reverse(e.dst.prefix_len()), e.metric, e.since));
        let views: Vec<RouteView> = table
            .into_iter()
            .map(|e| RouteView {
                dst: e.dst,
                gateway: e.gateway,
                dev: self.dev(e.dev).name.clone(),
                kernel: e.connected,
                prefsrc: e.src,
                metric: e.metric,
                // The route stays in use (ignore_routes_with_linkdown is 0).
                linkdown: !self.carrier(e.dev),
            })
            .collect();
        Ok(routes_text(&views, req.form))
    }

    /// `sysctl [-w] net.ipv4.ip_forward[=0|1]` in `ns` (both names are one
    /// switch): what sysctl prints.
    pub fn sysctl(&mut self, ns: NsId, req: &Sysctl) -> String {
        let n = &mut self.nss[ns.0 as usize];
        if let Some(on) = req.value {
            n.forwarding = on;
            if req.quiet {
                return String::new();
            }
        }
        format!("{} = {}\n", req.key.name(), u8::from(n.forwarding))
    }
}
