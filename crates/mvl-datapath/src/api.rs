//! The requests and answers of the engine, as plain data: the daemon's
//! control protocol carries them as JSON, the CLI and the lab backend build
//! them from iproute2-style words.

use serde::{Deserialize, Serialize};

use mvl_core::{Flags, MacAddr, MacaddrOp, MacvlanChange, Mode};

use crate::counters::CounterSnapshot;
use crate::error::{Error, Result};

/// A device by namespace and name. `netns` is what `ip -n` takes: a name
/// under `/run/netns`, a path, or `None` for the engine's own namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevSpec {
    /// The namespace.
    #[serde(default)]
    pub netns: Option<String>,
    /// The device's name there.
    pub name: String,
}

impl DevSpec {
    /// `name` in `netns`.
    pub fn new(netns: Option<&str>, name: &str) -> DevSpec {
        DevSpec {
            netns: netns.map(str::to_string),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for DevSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.netns {
            Some(n) => write!(f, "{n}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A source-list operation: `add`/`del` one address, `set` a list, `flush`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacaddrSpec {
    /// `add`, `del`, `set` or `flush`.
    pub op: String,
    /// The addresses (one for add/del, any number for set).
    #[serde(default)]
    pub addrs: Vec<String>,
}

/// The options of `type macvlan ...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacvlanSpec {
    /// `private`, `vepa`, `bridge`, `passthru` or `source`.
    #[serde(default)]
    pub mode: Option<String>,
    /// The flags as the kernel's number (1 nopromisc, 2 nodst), when given.
    #[serde(default)]
    pub flags: Option<u16>,
    /// A source-list operation.
    #[serde(default)]
    pub macaddr: Option<MacaddrSpec>,
    /// `bcqueuelen`.
    #[serde(default)]
    pub bcqueuelen: Option<u32>,
    /// `bclim`.
    #[serde(default)]
    pub bclim: Option<i32>,
}

pub(crate) fn parse_mac(s: &str) -> Result<MacAddr> {
    s.parse()
        .map_err(|e: mvl_core::ParseMacError| Error::Invalid(e.to_string()))
}

impl MacvlanSpec {
    /// From the core's typed options.
    pub fn from_change(c: &MacvlanChange) -> MacvlanSpec {
        MacvlanSpec {
            mode: c.mode.map(|m| m.as_str().to_string()),
            flags: c.flags.map(Flags::bits),
            macaddr: c.macaddr.as_ref().map(|op| MacaddrSpec {
                op: match op {
                    MacaddrOp::Add(_) => "add",
                    MacaddrOp::Del(_) => "del",
                    MacaddrOp::Flush => "flush",
                    MacaddrOp::Set(_) => "set",
                }
                .to_string(),
                addrs: op.addrs().iter().map(MacAddr::to_string).collect(),
            }),
            bcqueuelen: c.bc_queue_len,
            bclim: c.bc_cutoff,
        }
    }

    /// The core's typed options; a bad word is an error naming it.
    pub fn to_change(&self) -> Result<MacvlanChange> {
        let mode = match &self.mode {
            Some(m) => Some(m.parse::<Mode>().map_err(|e| Error::Invalid(e.to_string()))?),
            None => None,
        };
        let flags = match self.flags {
            Some(v) => Some(Flags::from_bits(v).ok_or_else(|| {
                Error::Invalid(format!("flags {v:#x}: only nopromisc (1) and nodst (2) exist"))
            })?),
            None => None,
        };
        let macaddr = match &self.macaddr {
            None => None,
            Some(s) => {
                let addrs = s.addrs.iter().map(|a| parse_mac(a)).collect::<Result<Vec<_>>>()?;
                let one = || {
                    addrs
                        .first()
                        .copied()
                        .filter(|_| addrs.len() == 1)
                        .ok_or_else(|| Error::Invalid(format!("macaddr {} takes exactly one address", s.op)))
                };
                Some(match s.op.as_str() {
                    "add" => MacaddrOp::Add(one()?),
                    "del" => MacaddrOp::Del(one()?),
                    "flush" => MacaddrOp::Flush,
                    "set" => MacaddrOp::Set(addrs.clone()),
                    o => {
                        return Err(Error::Invalid(format!(
                            "macaddr operation {o:?}: add, del, set or flush"
                        )))
                    }
                })
            }
        };
        Ok(MacvlanChange {
            mode,
            flags,
            macaddr,
            bc_queue_len: self.bcqueuelen,
            bc_cutoff: self.bclim,
        })
    }
}

/// Create a child: `link add NAME link PARENT [netns NS] [address M] [mtu N] type macvlan ...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddRequest {
    /// The child's name.
    pub name: String,
    /// The parent: a device, or one of the engine's children (stacking).
    pub link: DevSpec,
    /// Where the child lives (default: the parent's namespace).
    #[serde(default)]
    pub netns: Option<String>,
    /// Its MAC (default: random, locally administered).
    #[serde(default)]
    pub address: Option<String>,
    /// Its MTU (default: the lower's).
    #[serde(default)]
    pub mtu: Option<u32>,
    /// Macvlan options.
    #[serde(default)]
    pub macvlan: MacvlanSpec,
    /// Drop frames the child sends with a source MAC not its own.
    #[serde(default)]
    pub spoofchk: bool,
}

/// Change a child: `link set DEV ...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRequest {
    /// The child.
    pub dev: DevSpec,
    /// Up or down.
    #[serde(default)]
    pub up: Option<bool>,
    /// New MAC.
    #[serde(default)]
    pub address: Option<String>,
    /// New MTU.
    #[serde(default)]
    pub mtu: Option<u32>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// Move to this namespace.
    #[serde(default)]
    pub netns: Option<String>,
    /// Macvlan options.
    #[serde(default)]
    pub macvlan: Option<MacvlanSpec>,
    /// Anti-spoofing on or off.
    #[serde(default)]
    pub spoofchk: Option<bool>,
}

/// A child as `link show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildStatus {
    /// Current name.
    pub name: String,
    /// Its namespace (as last given or found).
    pub netns: Option<String>,
    /// Interface index in its namespace.
    pub ifindex: u32,
    /// Its lower.
    pub lower: DevSpec,
    /// The lower's interface index (in the lower's namespace).
    pub lower_ifindex: u32,
    /// The lower lives in the child's namespace.
    pub lower_same_netns: bool,
    /// The lower is administratively up.
    pub lower_up: bool,
    /// MAC address.
    pub address: String,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Carrier (the lower's).
    pub carrier: bool,
    /// What the kernel's macvlan would have refused but the TAP holds (a
    /// MAC in use, an MTU above the lower's): the child forwards nothing
    /// while it lasts.
    #[serde(default)]
    pub conflict: Option<String>,
    /// Saved, but its lower is not there: served when it appears.
    #[serde(default)]
    pub pending: bool,
    /// Mode.
    pub mode: String,
    /// `nopromisc` set.
    pub nopromisc: bool,
    /// `nodst` set.
    pub nodst: bool,
    /// Source allow-list, in the kernel's dump order.
    pub macaddr_data: Vec<String>,
    /// Its `bcqueuelen` request.
    pub bcqueuelen: u32,
    /// The port's queue length.
    pub usedbcqueuelen: u32,
    /// The port's `bclim`.
    pub bclim: i32,
    /// Anti-spoofing.
    pub spoofchk: bool,
    /// The macvlan part of `ip -d link show`.
    pub details: String,
    /// Counters.
    pub stats: CounterSnapshot,
}

impl ChildStatus {
    fn flags(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.up && !self.carrier {
            f.push("NO-CARRIER");
        }
        f.extend(["BROADCAST", "MULTICAST"]);
        if self.up {
            f.push("UP");
        }
        if self.up && self.carrier {
            f.push("LOWER_UP");
        }
        if self.lower_same_netns && !self.lower_up {
            f.push("M-DOWN");
        }
        f
    }

    fn operstate(&self) -> &'static str {
        match (self.up, self.carrier) {
            (false, _) => "DOWN",
            (true, true) => "UP",
            (true, false) if self.lower_same_netns => "LOWERLAYERDOWN",
            (true, false) => "DOWN",
        }
    }

    fn link_name(&self) -> String {
        if self.lower_same_netns {
            self.lower.name.clone()
        } else {
            format!("if{}", self.lower_ifindex)
        }
    }

    /// The child as `ip [-d] [-s] link show` prints a kernel macvlan; with
    /// `stats`, the drops by reason follow the counters.
    pub fn to_text(&self, details: bool, stats: bool) -> String {
        if self.pending {
            return format!(
                "{}: pending: its lower {} is not there; served when it appears\n",
                self.name, self.lower
            );
        }
        let link_ns = match (&self.lower.netns, self.lower_same_netns) {
            (Some(n), false) => format!(" link-netns {n}"),
            _ => String::new(),
        };
        let mut out = format!(
            "{}: {}@{}: <{}> mtu {} qdisc noqueue state {} mode DEFAULT group default qlen 1000\n    link/ether {} brd ff:ff:ff:ff:ff:ff{link_ns}",
            self.ifindex,
            self.name,
            self.link_name(),
            self.flags().join(","),
            self.mtu,
            self.operstate(),
            self.address
        );
        if details {
            out.push_str(&format!(
                " promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n    {}",
                self.details
            ));
            if self.spoofchk {
                out.push_str("spoofchk on ");
            }
        }
        if let Some(c) = &self.conflict {
            out.push_str(&format!("\n    forwards nothing: {c}"));
        }
        if stats {
            let st = &self.stats;
            let dropped: u64 = st.drops.values().sum();
            out.push_str(&format!(
                "\n    RX:  bytes packets errors dropped  missed   mcast           \n{:>14}{:>8}{:>7}{:>8}{:>8}{:>8} \n    TX:  bytes packets errors dropped carrier collsns           \n{:>14}{:>8}{:>7}{:>8}{:>8}{:>8} ",
                st.rx_bytes, st.rx_packets, 0, 0, 0, 0, st.tx_bytes, st.tx_packets, st.errors, dropped, 0, 0
            ));
            for (reason, n) in &st.drops {
                out.push_str(&format!("\n    dropped {n} {reason}"));
            }
        }
        out.push('\n');
        out
    }

    /// The child as `ip -j -d -s link show` prints a kernel macvlan, with the
    /// datapath's own fields (`spoofchk`, drops by reason) under `mvl`.
    /// The child as `ip -j [-d] [-s] link show` prints a kernel macvlan
    /// (iproute2's field names: `link` for a lower beside it, else
    /// `link_index` and, when the caller knows it, `link_netnsid`; `stats64`
    /// only with `stats`), with our own details under `mvl`.
    pub fn to_ip_json(&self, stats: bool, link_netnsid: Option<i32>) -> serde_json::Value {
        let mut data = serde_json::json!({
            "mode": self.mode,
            "bcqueuelen": self.bcqueuelen,
            "usedbcqueuelen": self.usedbcqueuelen,
        });
        if self.nopromisc {
            data["nopromisc"] = true.into();
        }
        if self.nodst {
            data["nodst"] = true.into();
        }
        if self.bclim != 1 {
            data["bclim"] = self.bclim.into();
        }
        if self.mode == "source" {
            data["macaddr_count"] = self.macaddr_data.len().into();
            data["macaddr_data"] = self.macaddr_data.clone().into();
        }
        let mut v = serde_json::json!({
            "ifindex": self.ifindex,
            "ifname": self.name,
            "flags": self.flags(),
            "mtu": self.mtu,
            "qdisc": "noqueue",
            "operstate": self.operstate(),
            "linkmode": "DEFAULT",
            "group": "default",
            "txqlen": 1000,
            "link_type": "ether",
            "address": self.address,
            "broadcast": "ff:ff:ff:ff:ff:ff",
            "linkinfo": { "info_kind": "macvlan", "info_data": data },
            "mvl": { "spoofchk": self.spoofchk, "drops": self.stats.drops, "conflict": self.conflict,
                     "pending": self.pending, "lower_netns": self.lower.netns },
        });
        let o = v.as_object_mut().expect("built as an object");
        if self.lower_same_netns {
            o.insert("link".into(), self.lower.name.clone().into());
        } else {
            o.insert("link_index".into(), self.lower_ifindex.into());
            if let Some(id) = link_netnsid {
                o.insert("link_netnsid".into(), id.into());
            }
        }
        if stats {
            o.insert(
                "stats64".into(),
                serde_json::json!({
                    "rx": { "bytes": self.stats.rx_bytes, "packets": self.stats.rx_packets, "errors": 0, "dropped": 0 },
                    "tx": { "bytes": self.stats.tx_bytes, "packets": self.stats.tx_packets, "errors": self.stats.errors,
                            "dropped": self.stats.drops.values().sum::<u64>() },
                }),
            );
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macvlan_spec_round_trips_through_the_core_types() {
        let c = MacvlanChange {
            mode: Some(Mode::Source),
            flags: Some(Flags::NODST),
            macaddr: Some(MacaddrOp::Set(vec![MacAddr([2, 0, 0, 0, 0, 1])])),
            bc_queue_len: Some(0),
            bc_cutoff: Some(-1),
        };
        let s = MacvlanSpec::from_change(&c);
        assert_eq!(s.to_change().unwrap(), c);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<MacvlanSpec>(&json).unwrap(), s);
    }

    #[test]
    fn bad_words_are_errors_naming_them() {
        let s = MacvlanSpec {
            mode: Some("bridg".into()),
            ..Default::default()
        };
        assert!(s.to_change().unwrap_err().to_string().contains("bridg"));
        let s = MacvlanSpec {
            flags: Some(4),
            ..Default::default()
        };
        assert!(s.to_change().is_err());
        let s = MacvlanSpec {
            macaddr: Some(MacaddrSpec {
                op: "add".into(),
                addrs: vec![],
            }),
            ..Default::default()
        };
        assert!(s.to_change().unwrap_err().to_string().contains("exactly one"));
        let s = MacvlanSpec {
            macaddr: Some(MacaddrSpec {
                op: "set".into(),
                addrs: vec!["zz".into()],
            }),
            ..Default::default()
        };
        assert!(s.to_change().is_err());
    }
}
