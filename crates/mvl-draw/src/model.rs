//! The topology: what the emulator holds after a lab line, as plain data.

use std::collections::BTreeMap;

use mvl_core::Flags;
use mvl_sim::{DevId, Sim, ViewKind};
use serde::Serialize;

/// Namespaces with their devices, and the links between devices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Topology {
    /// Live namespaces: the root first, then by creation.
    pub namespaces: Vec<Namespace>,
    /// Veth cables, bridge ports and macvlan → lower ties.
    pub links: Vec<Link>,
}

/// One network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Namespace {
    /// Its name (`root` for the root namespace).
    pub name: String,
    /// Its devices in `ip link` order.
    pub devices: Vec<Device>,
}

/// One device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// `namespace/name`, as `--explain` names it.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `loopback`, `veth`, `bridge` or `macvlan`.
    pub kind: &'static str,
    /// MAC address.
    pub mac: String,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Has carrier.
    pub carrier: bool,
    /// `ip link`'s operational state (UP, DOWN, LOWERLAYERDOWN, UNKNOWN).
    pub operstate: &'static str,
    /// IPv4 addresses with prefix.
    pub addrs: Vec<String>,
    /// A macvlan's mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    /// A macvlan's flags (`nopromisc`, `nodst`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<&'static str>,
    /// A source-mode macvlan's allowed senders.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// A veth's peer or a macvlan's lower (`namespace/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The bridge it is a port of (`namespace/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// As a bridge port: hairpin mode.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hairpin: bool,
}

impl Device {
    /// `up` and no carrier: `ip link` prints NO-CARRIER.
    pub fn no_carrier(&self) -> bool {
        self.up && !self.carrier
    }
}

/// What ties two devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// The two ends of a veth pair.
    Veth,
    /// A bridge port (from) and its bridge (to).
    Port,
    /// A macvlan (from) and its lower (to).
    Macvlan,
}

/// A tie between two devices, by their `id`s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// What ties them.
    pub kind: LinkKind,
    /// The veth end listed first, the port, or the macvlan.
    pub from: String,
    /// The other veth end, the bridge, or the lower.
    pub to: String,
    /// A macvlan's mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
}

impl Topology {
    /// What the emulator holds now.
    pub fn from_sim(sim: &Sim) -> Topology {
        let views = sim.devices();
        let ids: BTreeMap<DevId, String> = views
            .iter()
            .map(|v| (v.id, format!("{}/{}", v.netns, v.name)))
            .collect();
        let mut t = Topology::default();
        for v in &views {
            let id = ids[&v.id].clone();
            if t.namespaces.last().is_none_or(|n| n.name != v.netns) {
                t.namespaces.push(Namespace {
                    name: v.netns.clone(),
                    devices: Vec::new(),
                });
            }
            let (mode, flags, sources) = match &v.kind {
                ViewKind::Macvlan {
                    lower,
                    mode,
                    flags,
                    sources,
                } => {
                    t.links.push(Link {
                        kind: LinkKind::Macvlan,
                        from: id.clone(),
                        to: ids[lower].clone(),
                        mode: Some(mode.as_str()),
                    });
                    let mut f = Vec::new();
                    if flags.contains(Flags::NOPROMISC) {
                        f.push("nopromisc");
                    }
                    if flags.contains(Flags::NODST) {
                        f.push("nodst");
                    }
                    (
                        Some(mode.as_str()),
                        f,
                        sources.iter().map(|m| m.to_string()).collect(),
                    )
                }
                ViewKind::Veth { peer } => {
                    // One link per pair: from the end created first.
                    if v.id < *peer {
                        t.links.push(Link {
                            kind: LinkKind::Veth,
                            from: id.clone(),
                            to: ids[peer].clone(),
                            mode: None,
                        });
                    }
                    (None, Vec::new(), Vec::new())
                }
                ViewKind::Loopback | ViewKind::Bridge { .. } => (None, Vec::new(), Vec::new()),
            };
            let master = v.master.map(|m| ids[&m].clone());
            if let Some(m) = &master {
                t.links.push(Link {
                    kind: LinkKind::Port,
                    from: id.clone(),
                    to: m.clone(),
                    mode: None,
                });
            }
            let link = match &v.kind {
                ViewKind::Veth { peer } => Some(ids[peer].clone()),
                ViewKind::Macvlan { lower, .. } => Some(ids[lower].clone()),
                ViewKind::Loopback | ViewKind::Bridge { .. } => None,
            };
            let kind = match v.kind {
                ViewKind::Loopback => "loopback",
                ViewKind::Veth { .. } => "veth",
                ViewKind::Bridge { .. } => "bridge",
                ViewKind::Macvlan { .. } => "macvlan",
            };
            t.namespaces
                .last_mut()
                .expect("pushed above")
                .devices
                .push(Device {
                    id,
                    name: v.name.clone(),
                    kind,
                    mac: v.mac.to_string(),
                    mtu: v.mtu,
                    up: v.up,
                    carrier: v.carrier,
                    operstate: v.operstate,
                    addrs: v.addrs.iter().map(|a| a.to_string()).collect(),
                    mode,
                    flags,
                    sources,
                    link,
                    master,
                    hairpin: v.hairpin,
                });
        }
        t
    }

    /// Every device's (namespace, device) position by its `id`.
    pub(crate) fn index(&self) -> BTreeMap<&str, (usize, usize)> {
        let mut m = BTreeMap::new();
        for (i, ns) in self.namespaces.iter().enumerate() {
            for (j, d) in ns.devices.iter().enumerate() {
                m.insert(d.id.as_str(), (i, j));
            }
        }
        m
    }

    /// The number of devices.
    pub fn device_count(&self) -> usize {
        self.namespaces.iter().map(|n| n.devices.len()).sum()
    }

    /// The link between two devices (either way round).
    pub(crate) fn linked(&self, a: &str, b: &str) -> bool {
        self.links
            .iter()
            .any(|l| (l.from == a && l.to == b) || (l.from == b && l.to == a))
    }
}

/// The text lines of a device's box, after its name line.
pub(crate) fn device_lines(d: &Device) -> Vec<String> {
    let mut out = Vec::new();
    if d.kind != "loopback" {
        out.push(d.mac.clone());
    }
    if !d.addrs.is_empty() {
        out.push(d.addrs.join(", "));
    }
    let state = if d.no_carrier() {
        format!("{} NO-CARRIER", d.operstate)
    } else {
        d.operstate.to_string()
    };
    out.push(format!("mtu {} · {state}", d.mtu));
    match (d.kind, &d.link) {
        ("macvlan", Some(l)) => out.push(format!("on {l}")),
        ("veth", Some(l)) => out.push(format!("peer {l}")),
        _ => {}
    }
    if !d.flags.is_empty() {
        out.push(format!("flags {}", d.flags.join(" ")));
    }
    // Long allow-lists are cut so that the box stays small.
    const SHOWN: usize = 3;
    for s in d.sources.iter().take(SHOWN) {
        out.push(format!("allows {s}"));
    }
    if d.sources.len() > SHOWN {
        out.push(format!("… and {} more", d.sources.len() - SHOWN));
    }
    if let Some(m) = &d.master {
        let hp = if d.hairpin { " · hairpin on" } else { "" };
        out.push(format!("port of {}{hp}", short(m)));
    }
    out
}

/// The name part of `namespace/name`.
pub(crate) fn short(id: &str) -> &str {
    id.split_once('/').map_or(id, |(_, n)| n)
}
