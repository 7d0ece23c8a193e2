//! The requests and answers of the engine, as plain data: the daemon's
//! control protocol carries them as JSON, the CLI and the lab backend build
//! them from iproute2-style words.

use serde::{Deserialize, Serialize};

#[cfg(test)]
use mvl_core::{Flags, MacaddrOp, DEFAULT_BC_CUTOFF};
use mvl_core::{MacAddr, MacvlanChange, Mode};
use mvl_iproute2::show::{
    device_flags, Details, How, KindData, LinkNetns, LinkView, Lower, MacvlanView, PortMacvlan, Stats,
    ARPHRD_ETHER,
};

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
    /// The id the child's namespace gives the lower's, when they differ.
    #[serde(default)]
    pub link_netnsid: Option<i32>,
    /// It has been up (a kernel macvlan's qdisc is `noop` until then).
    #[serde(default)]
    pub ever_up: bool,
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
    pub mode: Mode,
    /// `nopromisc` set.
    pub nopromisc: bool,
    /// `nodst` set.
    pub nodst: bool,
    /// Source allow-list, in the kernel's dump order.
    pub macaddr_data: Vec<MacAddr>,
    /// Its `bcqueuelen` request.
    pub bcqueuelen: u32,
    /// The port's queue length.
    pub usedbcqueuelen: u32,
    /// The port's `bclim`.
    pub bclim: i32,
    /// Anti-spoofing.
    pub spoofchk: bool,
    /// Counters.
    pub stats: CounterSnapshot,
}

impl ChildStatus {
    /// The child as `ip link show` shows a kernel macvlan.
    pub fn view(&self) -> LinkView {
        let elsewhere = !self.lower_same_netns;
        let operstate = match (self.up, self.carrier) {
            (false, _) => "DOWN",
            (true, true) => "UP",
            (true, false) if self.lower_same_netns => "LOWERLAYERDOWN",
            (true, false) => "DOWN",
        };
        let macvlan = MacvlanView::from(PortMacvlan {
            mode: self.mode,
            nopromisc: self.nopromisc,
            nodst: self.nodst,
            bc_queue_len: self.bcqueuelen,
            bc_queue_len_used: self.usedbcqueuelen,
            bc_cutoff: self.bclim,
            sources: &self.macaddr_data,
        });
        LinkView {
            index: self.ifindex,
            name: self.name.clone(),
            lower: Some(if elsewhere {
                Lower::Elsewhere(self.lower_ifindex)
            } else {
                Lower::Here(self.lower.name.clone())
            }),
            flags: device_flags(false, self.up, self.carrier, false, false),
            lower_down: self.lower_same_netns && !self.lower_up,
            mtu: Some(self.mtu),
            qdisc: Some(if self.ever_up { "noqueue" } else { "noop" }.into()),
            master: None,
            operstate,
            link_mode: Some(0),
            group: Some(0),
            txqlen: Some(1000),
            link_type: ARPHRD_ETHER,
            address: self.address.parse().ok(),
            broadcast: Some(MacAddr::BROADCAST),
            link_netns: (elsewhere && (self.lower.netns.is_some() || self.link_netnsid.is_some())).then(
                || LinkNetns {
                    id: self.link_netnsid,
                    name: self.lower.netns.clone(),
                },
            ),
            details: Details {
                promiscuity: Some(0),
                allmulti: Some(0),
                min_mtu: Some(68),
                max_mtu: Some(65535),
                kind: Some("macvlan".into()),
                kind_data: Some(KindData::Macvlan(macvlan)),
                ..Details::default()
            },
            stats: Some(Stats {
                rx_packets: self.stats.rx_packets,
                rx_bytes: self.stats.rx_bytes,
                tx_packets: self.stats.tx_packets,
                tx_bytes: self.stats.tx_bytes,
                tx_errors: self.stats.errors,
                tx_dropped: self.stats.drops.values().sum(),
                ..Stats::default()
            }),
            carrier_changes: None,
        }
    }

    /// The child as `ip [-d] [-s] link show` prints a kernel macvlan, with
    /// what the datapath adds: `spoofchk` in the details, why it forwards
    /// nothing when it does not, and with `stats` the drops by reason.
    pub fn to_text(&self, details: bool, stats: bool) -> String {
        if self.pending {
            return format!(
                "{}: pending: its lower {} is not there; served when it appears\n",
                self.name, self.lower
            );
        }
        let how = How {
            details,
            stats: u8::from(stats),
        };
        let view = self.view();
        let mut out = view.head(how, true);
        if details && self.spoofchk {
            out.push_str("spoofchk on ");
        }
        if let Some(c) = &self.conflict {
            out.push_str(&format!("\n    forwards nothing: {c}"));
        }
        out.push('\n');
        out.push_str(&view.stats_text(how));
        if stats {
            for (reason, n) in &self.stats.drops {
                out.push_str(&format!("    dropped {n} {reason}\n"));
            }
        }
        out
    }

    /// The child as `ip -j [-d] [-s] link show` prints a kernel macvlan,
    /// with the datapath's own fields (`spoofchk`, drops by reason, a
    /// conflict, the lower's namespace) under `mvl`.
    pub fn to_ip_json(&self, stats: bool) -> serde_json::Value {
        let how = How {
            details: true,
            stats: u8::from(stats),
        };
        let mut v = self.view().json(how);
        v["mvl"] = serde_json::json!({
            "spoofchk": self.spoofchk, "drops": self.stats.drops, "conflict": self.conflict,
            "pending": self.pending, "lower_netns": self.lower.netns,
        });
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

    fn source_child() -> ChildStatus {
        ChildStatus {
            name: "mv0".into(),
            netns: None,
            ifindex: 4,
            lower: DevSpec::new(None, "va"),
            lower_ifindex: 2,
            lower_same_netns: true,
            link_netnsid: None,
            ever_up: true,
            lower_up: true,
            address: "02:00:00:00:00:10".into(),
            mtu: 1500,
            up: true,
            carrier: false,
            conflict: None,
            pending: false,
            mode: Mode::Source,
            nopromisc: false,
            nodst: false,
            macaddr_data: vec![MacAddr([2, 0, 0, 0, 0, 5])],
            bcqueuelen: 1000,
            usedbcqueuelen: 1000,
            bclim: DEFAULT_BC_CUTOFF,
            spoofchk: false,
            stats: CounterSnapshot::default(),
        }
    }

    // Captured from iproute2 6.1 on Linux 6.18: a kernel macvlan in mode
    // source, up, on a lower that is up without carrier.
    const IP_D: &str = "4: mv0@va: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
    link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 
    macvlan mode source bcqueuelen 1000 usedbcqueuelen 1000 remotes (1) 02:00:00:00:00:05 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 
";
    const IP_S: &str = "4: mv0@va: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
    link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
    RX:  bytes packets errors dropped  missed   mcast           
             0       0      0       0       0       0 
    TX:  bytes packets errors dropped carrier collsns           
             0       0      0       0       0       0 
";
    const IP_JD: &str = r#"{"ifindex":4,"link":"va","ifname":"mv0","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],"mtu":1500,"qdisc":"noqueue","operstate":"LOWERLAYERDOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"02:00:00:00:00:10","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"macvlan","info_data":{"mode":"source","bcqueuelen":1000,"usedbcqueuelen":1000,"macaddr_count":1,"macaddr_data":["02:00:00:00:00:05"]}},"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536}"#;

    #[test]
    fn a_child_shows_as_the_kernels_macvlan() {
        let c = source_child();
        // The queue and offload details a TAP does not share with a
        // macvlan are left out.
        let (known, _) = IP_D.split_once("addrgenmode").unwrap();
        assert_eq!(c.to_text(true, false), format!("{known}\n"));
        assert_eq!(c.to_text(false, true), IP_S);
        let mut kernel: serde_json::Value = serde_json::from_str(IP_JD).unwrap();
        let ours = c.to_ip_json(false);
        for k in [
            "inet6_addr_gen_mode",
            "num_tx_queues",
            "num_rx_queues",
            "gso_max_size",
            "gso_max_segs",
            "tso_max_size",
            "tso_max_segs",
            "gro_max_size",
        ] {
            kernel.as_object_mut().unwrap().remove(k);
        }
        kernel["mvl"] = ours["mvl"].clone();
        assert_eq!(ours, kernel);
    }

    #[test]
    fn what_the_datapath_adds_follows_the_kernels_words() {
        let mut c = source_child();
        c.spoofchk = true;
        c.conflict = Some("02:00:00:00:00:10 is mv1's".into());
        c.stats.drops.insert("spoofed-source".into(), 3);
        let t = c.to_text(true, true);
        assert!(
            t.contains(
                "02:00:00:00:00:05 spoofchk on \n    forwards nothing: 02:00:00:00:00:10 is mv1's\n    RX:"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "\n             0       0      0       3       0       0 \n    dropped 3 spoofed-source\n"
            ),
            "{t}"
        );
        let j = c.to_ip_json(true);
        assert_eq!(j["stats64"]["tx"]["dropped"], 3);
        assert_eq!(j["mvl"]["spoofchk"], true);
    }
}
