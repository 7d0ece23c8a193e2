//! The requests and answers of the engine, as plain data: the daemon's
//! control protocol carries them as JSON, the CLI and the lab backend build
//! them from iproute2-style words.

use serde::{Deserialize, Serialize};

#[cfg(test)]
use mvl_core::{Flags, MacaddrOp, Mode};
use mvl_core::{MacAddr, MacvlanChange};
use mvl_iproute2::show::{device_flags, flag_words};

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

pub(crate) fn parse_mac(s: &str) -> Result<MacAddr> {
    s.parse()
        .map_err(|e: mvl_core::ParseMacError| Error::Invalid(e.to_string()))
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
    pub macvlan: MacvlanChange,
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
    pub macvlan: Option<MacvlanChange>,
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
    fn flags(&self) -> Vec<String> {
        let flags = device_flags(false, self.up, self.carrier, false, false);
        flag_words(flags, self.lower_same_netns && !self.lower_up)
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
    fn requests_carry_the_core_options_in_iproute2_words() {
        let add = AddRequest {
            name: "c1".into(),
            link: DevSpec::new(None, "eth0"),
            macvlan: MacvlanChange {
                mode: Some(Mode::Source),
                flags: Some(Flags::NODST),
                macaddr: Some(MacaddrOp::Set(vec![MacAddr([2, 0, 0, 0, 0, 1])])),
                bc_queue_len: Some(0),
                bc_cutoff: Some(-1),
            },
            ..Default::default()
        };
        let json = serde_json::to_value(&add).unwrap();
        assert_eq!(json["macvlan"]["mode"], "source");
        assert_eq!(json["macvlan"]["macaddr"]["addrs"][0], "02:00:00:00:00:01");
        assert_eq!(serde_json::from_value::<AddRequest>(json).unwrap(), add);
        // A bad word is refused with the request, naming itself.
        let e =
            serde_json::from_str::<SetRequest>(r#"{"dev": {"name": "c1"}, "macvlan": {"mode": "bridg"}}"#)
                .unwrap_err();
        assert!(e.to_string().contains("\"bridg\""), "{e}");
    }
}
