//! A link as `ip link show` and `ip addr show` print it (`print_linkinfo`
//! of iproute2 6.1): whoever holds the link — a kernel dump, the emulator,
//! the daemon — fills a [`LinkView`] with what it knows, and the text is
//! written here, once. What a source does not know is `None` and is left
//! out, as iproute2 leaves out an attribute the kernel did not send.

use mvl_core::MacAddr;

use crate::cmd::ShowForm;

use super::stats::Stats;
use super::{flag_words, MacvlanView};

/// `ARPHRD_ETHER`.
pub const ARPHRD_ETHER: u16 = 1;
/// `ARPHRD_LOOPBACK`.
pub const ARPHRD_LOOPBACK: u16 = 772;
/// `ARPHRD_NONE`.
pub const ARPHRD_NONE: u16 = 65534;

/// What to show besides the link itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct How {
    /// Details (`-d`).
    pub details: bool,
    /// Statistics: 0 none, 1 `-s`, 2 and more `-s -s`.
    pub stats: u8,
}

/// The link's lower (`IFLA_LINK`) as iproute2 names it after `@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lower {
    /// `IFLA_LINK` 0: `@NONE`.
    None,
    /// In the link's namespace, by name: `@veth0`.
    Here(String),
    /// In another namespace, by its index there: `@if5`.
    Elsewhere(u32),
}

/// The namespace of a lower that lives elsewhere (`IFLA_LINK_NETNSID`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkNetns {
    /// The id the link's namespace gives it; negative when it has none
    /// (`link-netnsid unknown`).
    pub id: Option<i32>,
    /// Its name under `/run/netns`, when it has one (`link-netns NAME`).
    pub name: Option<String>,
}

/// A bridge's options (`bridge_print_opt`), as far as a source knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeView {
    /// `forward_delay`, in hundredths of a second.
    pub forward_delay: u32,
    /// `hello_time`, in hundredths of a second.
    pub hello_time: u32,
    /// `max_age`, in hundredths of a second.
    pub max_age: u32,
    /// `ageing_time`, in hundredths of a second.
    pub ageing_time: u32,
    /// `stp_state`.
    pub stp_state: u32,
    /// `priority`.
    pub priority: u16,
    /// `vlan_filtering`.
    pub vlan_filtering: u8,
}

/// A bridge port's options (`bridge_slave_print_opt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgePortView {
    /// The STP state's word (`forwarding`, `disabled`, ...).
    pub state: &'static str,
    /// `priority`.
    pub priority: u16,
    /// `cost`.
    pub cost: u32,
    /// `hairpin`.
    pub hairpin: bool,
    /// `learning`.
    pub learning: bool,
    /// `flood`.
    pub flood: bool,
}

/// What a link's kind adds (`IFLA_INFO_DATA`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindData {
    /// A macvlan's options.
    Macvlan(MacvlanView),
    /// A bridge's options.
    Bridge(BridgeView),
}

/// What `-d` shows of a link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// `promiscuity`.
    pub promiscuity: Option<u32>,
    /// `allmulti`.
    pub allmulti: Option<u32>,
    /// `minmtu`.
    pub min_mtu: Option<u32>,
    /// `maxmtu`.
    pub max_mtu: Option<u32>,
    /// The kind (`veth`, `macvlan`, ...).
    pub kind: Option<String>,
    /// What the kind adds.
    pub kind_data: Option<KindData>,
    /// The kind of the master's port (`bridge` for `bridge_slave`).
    pub slave_kind: Option<String>,
    /// What the master's port adds.
    pub slave_data: Option<BridgePortView>,
    /// `addrgenmode`.
    pub addr_gen_mode: Option<String>,
    /// `numtxqueues`.
    pub num_tx_queues: Option<u32>,
    /// `numrxqueues`.
    pub num_rx_queues: Option<u32>,
    /// `gso_max_size`.
    pub gso_max_size: Option<u32>,
    /// `gso_max_segs`.
    pub gso_max_segs: Option<u32>,
    /// `tso_max_size`.
    pub tso_max_size: Option<u32>,
    /// `tso_max_segs`.
    pub tso_max_segs: Option<u32>,
    /// `gro_max_size`.
    pub gro_max_size: Option<u32>,
}

/// One link, as its holder knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkView {
    /// The interface index.
    pub index: u32,
    /// The name.
    pub name: String,
    /// The lower, when the link has one.
    pub lower: Option<Lower>,
    /// The `IFF_*` flags.
    pub flags: u32,
    /// The lower is in the same namespace and down (`M-DOWN`).
    pub lower_down: bool,
    /// The MTU.
    pub mtu: Option<u32>,
    /// The root qdisc's kind.
    pub qdisc: Option<String>,
    /// The master's name.
    pub master: Option<String>,
    /// The operational state's word (`UP`, `DOWN`, `LOWERLAYERDOWN`, ...).
    pub operstate: &'static str,
    /// `IFLA_LINKMODE`: 0 default, 1 dormant.
    pub link_mode: Option<u8>,
    /// The group (0 is `default`).
    pub group: Option<u32>,
    /// `qlen`.
    pub txqlen: Option<u32>,
    /// `ARPHRD_*`.
    pub link_type: u16,
    /// The hardware address.
    pub address: Option<MacAddr>,
    /// The broadcast address.
    pub broadcast: Option<MacAddr>,
    /// Where the lower lives, when not in the link's namespace.
    pub link_netns: Option<LinkNetns>,
    /// What `-d` shows.
    pub details: Details,
    /// The counters, when known.
    pub stats: Option<Stats>,
    /// `IFLA_CARRIER_CHANGES` (`transns` of `-s -s`).
    pub carrier_changes: Option<u32>,
}

impl LinkView {
    /// The flag words (`print_link_flags`).
    pub fn flag_words(&self) -> Vec<String> {
        flag_words(self.flags, self.lower_down)
    }

    pub(super) fn link_type_word(&self) -> String {
        match self.link_type {
            ARPHRD_ETHER => "ether".into(),
            ARPHRD_LOOPBACK => "loopback".into(),
            ARPHRD_NONE => "none".into(),
            t => format!("[{t}]"),
        }
    }

    pub(super) fn link_mode_word(&self) -> &'static str {
        match self.link_mode {
            Some(1) => "DORMANT",
            Some(0) | None => "DEFAULT",
            Some(_) => "UNKNOWN",
        }
    }

    pub(super) fn group_word(&self) -> String {
        match self.group {
            None | Some(0) => "default".into(),
            Some(g) => g.to_string(),
        }
    }

    /// `name@lower`, as the header and `-br` name the link.
    pub fn name_at(&self) -> String {
        match &self.lower {
            Some(Lower::None) => format!("{}@NONE", self.name),
            Some(Lower::Elsewhere(i)) => format!("{}@if{i}", self.name),
            Some(Lower::Here(n)) => format!("{}@{n}", self.name),
            None => self.name.clone(),
        }
    }

    /// The line of `ip -br link show`.
    pub fn brief(&self) -> String {
        let mac = self.address.map(|a| a.to_string()).unwrap_or_default();
        format!(
            "{:<16} {:<14} {mac} <{}> \n",
            self.name_at(),
            self.operstate,
            self.flag_words().join(",")
        )
    }

    /// This link as `ip link show` prints it in the form asked for (text,
    /// `-o`, `-br`; JSON is a whole array: [`links_json`](super::links_json)).
    pub fn render(&self, how: How, form: ShowForm) -> String {
        if form.brief {
            return self.brief();
        }
        let t = self.text(how);
        if form.oneline {
            return oneline(&t);
        }
        t
    }

    /// The text of `ip [-d] [-s [-s]] link show` for this link.
    pub fn text(&self, how: How) -> String {
        let mut s = self.head(how, true);
        s.push('\n');
        s.push_str(&self.stats_text(how));
        s
    }

    /// The header and address lines as `ip addr show` prints them (no
    /// link mode), without the final newline.
    pub fn addr_head(&self) -> String {
        self.head(How::default(), false)
    }

    /// The header, the address line and (with `-d`) the details, without
    /// the final newline; `do_link` is iproute2's flag for `ip link`, which
    /// shows the link mode.
    pub fn head(&self, how: How, do_link: bool) -> String {
        let mut s = format!("{}: {}", self.index, self.name_at());
        s.push_str(&format!(": <{}> ", self.flag_words().join(",")));
        if let Some(m) = self.mtu {
            s.push_str(&format!("mtu {m} "));
        }
        if let Some(q) = &self.qdisc {
            s.push_str(&format!("qdisc {q} "));
        }
        if let Some(m) = &self.master {
            s.push_str(&format!("master {m} "));
        }
        s.push_str(&format!("state {} ", self.operstate));
        if do_link {
            s.push_str(&format!("mode {} ", self.link_mode_word()));
        }
        s.push_str(&format!("group {} ", self.group_word()));
        if let Some(q) = self.txqlen {
            s.push_str(&format!("qlen {q}"));
        }
        s.push_str(&format!("\n    link/{} ", self.link_type_word()));
        if let Some(a) = self.address {
            s.push_str(&a.to_string());
        }
        if let Some(b) = self.broadcast {
            s.push_str(&format!(" brd {b}"));
        }
        match &self.link_netns {
            Some(LinkNetns { name: Some(n), .. }) => s.push_str(&format!(" link-netns {n}")),
            Some(LinkNetns { id: Some(id), .. }) if *id >= 0 => s.push_str(&format!(" link-netnsid {id}")),
            Some(LinkNetns { id: Some(_), .. }) => s.push_str(" link-netnsid unknown"),
            _ => {}
        }
        if how.details {
            s.push_str(&self.details.text());
        }
        s
    }

    /// The statistics lines `-s` (or `-s -s`) adds, each ending in a newline.
    pub fn stats_text(&self, how: How) -> String {
        match (&self.stats, how.stats) {
            (Some(st), n) if n > 0 => st.text(self.carrier_changes, n > 1),
            _ => String::new(),
        }
    }
}

impl Details {
    fn text(&self) -> String {
        let mut s = String::new();
        if let Some(p) = self.promiscuity {
            s.push_str(&format!(" promiscuity {p} "));
        }
        if let Some(a) = self.allmulti {
            s.push_str(&format!(" allmulti {a} "));
        }
        if let Some(m) = self.min_mtu {
            s.push_str(&format!("minmtu {m} "));
        }
        if let Some(m) = self.max_mtu {
            s.push_str(&format!("maxmtu {m} "));
        }
        if let Some(k) = &self.kind {
            s.push_str(&format!("\n    {k} "));
            match &self.kind_data {
                Some(KindData::Macvlan(mv)) => s.push_str(&mv.text()),
                Some(KindData::Bridge(b)) => s.push_str(&b.text()),
                None => {}
            }
        }
        if let Some(k) = &self.slave_kind {
            s.push_str(&format!("\n    {k}_slave "));
            if let Some(p) = &self.slave_data {
                s.push_str(&p.text());
            }
        }
        let rest = [
            ("addrgenmode", self.addr_gen_mode.clone()),
            ("numtxqueues", self.num_tx_queues.map(|v| v.to_string())),
            ("numrxqueues", self.num_rx_queues.map(|v| v.to_string())),
            ("gso_max_size", self.gso_max_size.map(|v| v.to_string())),
            ("gso_max_segs", self.gso_max_segs.map(|v| v.to_string())),
            ("tso_max_size", self.tso_max_size.map(|v| v.to_string())),
            ("tso_max_segs", self.tso_max_segs.map(|v| v.to_string())),
            ("gro_max_size", self.gro_max_size.map(|v| v.to_string())),
        ];
        for (k, v) in rest {
            if let Some(v) = v {
                s.push_str(&format!("{k} {v} "));
            }
        }
        s
    }
}

/// `-o`: a record's lines joined with `\\` (iproute2's `_SL_`).
pub(super) fn oneline(text: &str) -> String {
    let body = text.strip_suffix('\n').unwrap_or(text);
    format!("{}\n", body.replace('\n', "\\"))
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

impl BridgeView {
    fn text(&self) -> String {
        format!(
            "forward_delay {} hello_time {} max_age {} ageing_time {} stp_state {} priority {} vlan_filtering {} ",
            self.forward_delay,
            self.hello_time,
            self.max_age,
            self.ageing_time,
            self.stp_state,
            self.priority,
            self.vlan_filtering
        )
    }
}

impl BridgePortView {
    fn text(&self) -> String {
        format!(
            "state {} priority {} cost {} hairpin {} learning {} flood {} ",
            self.state,
            self.priority,
            self.cost,
            on_off(self.hairpin),
            on_off(self.learning),
            on_off(self.flood)
        )
    }
}
