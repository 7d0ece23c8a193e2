//! `mvl link show` output, in iproute2's conventions: the text of
//! `ip [-d] link show` and the JSON of `ip -j [-d] link show`, with the same
//! words, field names and order (iproute2 6.1; `bclim` as newer iproute2
//! prints it).

use std::collections::BTreeMap;

use mvl_netlink::{Link, MacvlanInfo, IFF_RUNNING, IFF_UP};
use serde::Serialize;

/// Every link of the namespace by index: the names of lowers and masters,
/// and whether a lower is down (`M-DOWN`).
pub struct Ns<'a> {
    by_index: BTreeMap<u32, &'a Link>,
}

impl<'a> Ns<'a> {
    /// The view of `all`, the namespace's links.
    pub fn new(all: &'a [Link]) -> Ns<'a> {
        Ns {
            by_index: all.iter().map(|l| (l.index, l)).collect(),
        }
    }

    /// `ll_index_to_name`: the name, or `ifN` when it is not here.
    fn name(&self, index: u32) -> String {
        self.by_index
            .get(&index)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| format!("if{index}"))
    }

    /// Whether `l` sits on a lower of this namespace that is down.
    fn lower_down(&self, l: &Link) -> bool {
        match (l.link, l.link_netnsid) {
            (Some(i), None) if i != 0 => self.by_index.get(&i).is_some_and(|lower| !lower.is_up()),
            _ => false,
        }
    }
}

/// `print_link_flags`: `NO-CARRIER` first when up without carrier, the
/// flags in iproute2's order, unknown bits in hex, `M-DOWN` last.
pub fn flag_words(flags: u32, mdown: bool) -> Vec<String> {
    const NAMES: [(u32, &str); 18] = [
        (1 << 3, "LOOPBACK"),
        (1 << 1, "BROADCAST"),
        (1 << 4, "POINTOPOINT"),
        (1 << 12, "MULTICAST"),
        (1 << 7, "NOARP"),
        (1 << 9, "ALLMULTI"),
        (1 << 8, "PROMISC"),
        (1 << 5, "NOTRAILERS"),
        (1 << 2, "DEBUG"),
        (1 << 15, "DYNAMIC"),
        (1 << 14, "AUTOMEDIA"),
        (1 << 13, "PORTSEL"),
        (1 << 10, "MASTER"),
        (1 << 11, "SLAVE"),
        (1 << 0, "UP"),
        (1 << 16, "LOWER_UP"),
        (1 << 17, "DORMANT"),
        (1 << 18, "ECHO"),
    ];
    let mut out = Vec::new();
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        out.push("NO-CARRIER".to_string());
    }
    let mut left = flags & !IFF_RUNNING;
    for (bit, name) in NAMES {
        if left & bit != 0 {
            left &= !bit;
            out.push(name.to_string());
        }
    }
    if left != 0 {
        out.push(format!("{left:x}"));
    }
    if mdown {
        out.push("M-DOWN".to_string());
    }
    out
}

fn link_type(t: u16) -> String {
    match t {
        mvl_netlink::ARPHRD_ETHER => "ether".into(),
        mvl_netlink::ARPHRD_LOOPBACK => "loopback".into(),
        65534 => "none".into(),
        t => format!("[{t}]"),
    }
}

fn link_mode(m: Option<u8>) -> &'static str {
    match m {
        Some(1) => "DORMANT",
        Some(0) | None => "DEFAULT",
        Some(_) => "UNKNOWN",
    }
}

fn group(g: Option<u32>) -> String {
    match g {
        None | Some(0) => "default".into(),
        Some(g) => g.to_string(),
    }
}

/// The text of `ip [-d] link show` for one link.
pub fn text(l: &Link, ns: &Ns, details: bool) -> String {
    let mut s = format!("{}: {}", l.index, l.name);
    match (l.link, l.link_netnsid) {
        (Some(0), _) => s.push_str("@NONE"),
        (Some(i), Some(_)) => s.push_str(&format!("@if{i}")),
        (Some(i), None) => s.push_str(&format!("@{}", ns.name(i))),
        (None, _) => {}
    }
    s.push_str(&format!(
        ": <{}> ",
        flag_words(l.flags, ns.lower_down(l)).join(",")
    ));
    if let Some(m) = l.mtu {
        s.push_str(&format!("mtu {m} "));
    }
    if let Some(q) = &l.qdisc {
        s.push_str(&format!("qdisc {q} "));
    }
    if let Some(m) = l.master {
        s.push_str(&format!("master {} ", ns.name(m)));
    }
    s.push_str(&format!("state {} ", l.operstate));
    s.push_str(&format!("mode {} ", link_mode(l.link_mode)));
    s.push_str(&format!("group {} ", group(l.group)));
    if let Some(q) = l.txqlen {
        s.push_str(&format!("qlen {q}"));
    }
    s.push_str("\n    ");
    s.push_str(&format!("link/{} ", link_type(l.link_type)));
    if let Some(a) = l.address {
        s.push_str(&a.to_string());
    }
    if let Some(b) = l.broadcast {
        s.push_str(&format!(" brd {b}"));
    }
    if let Some(id) = l.link_netnsid {
        s.push_str(&format!(" link-netnsid {id}"));
    }
    if details {
        if let Some(p) = l.promiscuity {
            s.push_str(&format!(" promiscuity {p} "));
        }
        if let Some(a) = l.allmulti {
            s.push_str(&format!(" allmulti {a} "));
        }
        if let Some(m) = l.min_mtu {
            s.push_str(&format!("minmtu {m} "));
        }
        if let Some(m) = l.max_mtu {
            s.push_str(&format!("maxmtu {m} "));
        }
        if let Some(k) = &l.kind {
            s.push_str(&format!("\n    {k} "));
            if let Some(mv) = &l.macvlan {
                s.push_str(&macvlan_text(mv));
            }
        }
        if let Some(k) = &l.slave_kind {
            s.push_str(&format!("\n    {k}_slave "));
        }
        let rest = [
            ("addrgenmode", l.addr_gen_mode.clone()),
            ("numtxqueues", l.num_tx_queues.map(|v| v.to_string())),
            ("numrxqueues", l.num_rx_queues.map(|v| v.to_string())),
            ("gso_max_size", l.gso_max_size.map(|v| v.to_string())),
            ("gso_max_segs", l.gso_max_segs.map(|v| v.to_string())),
            ("tso_max_size", l.tso_max_size.map(|v| v.to_string())),
            ("tso_max_segs", l.tso_max_segs.map(|v| v.to_string())),
            ("gro_max_size", l.gro_max_size.map(|v| v.to_string())),
        ];
        for (k, v) in rest {
            if let Some(v) = v {
                s.push_str(&format!("{k} {v} "));
            }
        }
    }
    s.push('\n');
    s
}

/// `macvlan_print_opt`, text form: every item followed by one space.
fn macvlan_text(mv: &MacvlanInfo) -> String {
    let mut s = format!("mode {} ", mode_word(mv));
    if mv.raw_flags & 1 != 0 {
        s.push_str("nopromisc ");
    }
    if mv.raw_flags & 2 != 0 {
        s.push_str("nodst ");
    }
    if let Some(n) = mv.bc_queue_len {
        s.push_str(&format!("bcqueuelen {n} "));
    }
    if let Some(n) = mv.bc_queue_len_used {
        s.push_str(&format!("usedbcqueuelen {n} "));
    }
    if let Some(n) = mv.bc_cutoff {
        s.push_str(&format!("bclim {n} "));
    }
    if mv.mode == Some(mvl_core::Mode::Source) {
        s.push_str(&format!("remotes ({}) ", mv.macaddr_count));
        for m in &mv.macaddrs {
            s.push_str(&format!("{m} "));
        }
    }
    s
}

fn mode_word(mv: &MacvlanInfo) -> &'static str {
    mv.mode.map(|m| m.as_str()).unwrap_or("unknown")
}

/// One link of `ip -j [-d] link show`, fields in iproute2's order.
#[derive(Serialize)]
struct JsonLink {
    ifindex: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link_index: Option<u32>,
    ifname: String,
    flags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qdisc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    master: Option<String>,
    operstate: &'static str,
    linkmode: &'static str,
    group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    txqlen: Option<u32>,
    link_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    broadcast: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link_netnsid: Option<i32>,
    #[serde(flatten)]
    details: Option<JsonDetails>,
}

#[derive(Serialize)]
struct JsonDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    promiscuity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allmulti: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linkinfo: Option<JsonLinkInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inet6_addr_gen_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_tx_queues: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_rx_queues: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gso_max_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gso_max_segs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tso_max_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tso_max_segs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gro_max_size: Option<u32>,
}

#[derive(Serialize)]
struct JsonLinkInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    info_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    info_data: Option<JsonMacvlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    info_slave_kind: Option<String>,
}

/// `info_data` of a macvlan.
#[derive(Serialize)]
struct JsonMacvlan {
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nopromisc: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodst: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bcqueuelen: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usedbcqueuelen: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bclim: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    macaddr_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    macaddr_data: Option<Vec<String>>,
}

fn json_link(l: &Link, ns: &Ns, details: bool) -> JsonLink {
    let (link, link_index) = match (l.link, l.link_netnsid) {
        (Some(0), _) => (Some(None), None),
        (Some(i), Some(_)) => (None, Some(i)),
        (Some(i), None) => (Some(Some(ns.name(i))), None),
        (None, _) => (None, None),
    };
    JsonLink {
        ifindex: l.index,
        link,
        link_index,
        ifname: l.name.clone(),
        flags: flag_words(l.flags, ns.lower_down(l)),
        mtu: l.mtu,
        qdisc: l.qdisc.clone(),
        master: l.master.map(|m| ns.name(m)),
        operstate: l.operstate.as_str(),
        linkmode: link_mode(l.link_mode),
        group: group(l.group),
        txqlen: l.txqlen,
        link_type: link_type(l.link_type),
        address: l.address.map(|a| a.to_string()),
        broadcast: l.broadcast.map(|a| a.to_string()),
        link_netnsid: l.link_netnsid,
        details: details.then(|| JsonDetails {
            promiscuity: l.promiscuity,
            allmulti: l.allmulti,
            min_mtu: l.min_mtu,
            max_mtu: l.max_mtu,
            linkinfo: (l.kind.is_some() || l.slave_kind.is_some()).then(|| JsonLinkInfo {
                info_kind: l.kind.clone(),
                info_data: l.macvlan.as_ref().map(json_macvlan),
                info_slave_kind: l.slave_kind.clone(),
            }),
            inet6_addr_gen_mode: l.addr_gen_mode.clone(),
            num_tx_queues: l.num_tx_queues,
            num_rx_queues: l.num_rx_queues,
            gso_max_size: l.gso_max_size,
            gso_max_segs: l.gso_max_segs,
            tso_max_size: l.tso_max_size,
            tso_max_segs: l.tso_max_segs,
            gro_max_size: l.gro_max_size,
        }),
    }
}

fn json_macvlan(mv: &MacvlanInfo) -> JsonMacvlan {
    let source = mv.mode == Some(mvl_core::Mode::Source);
    JsonMacvlan {
        mode: mode_word(mv),
        nopromisc: (mv.raw_flags & 1 != 0).then_some(true),
        nodst: (mv.raw_flags & 2 != 0).then_some(true),
        bcqueuelen: mv.bc_queue_len,
        usedbcqueuelen: mv.bc_queue_len_used,
        bclim: mv.bc_cutoff,
        macaddr_count: source.then_some(mv.macaddr_count),
        macaddr_data: (source && !mv.macaddrs.is_empty())
            .then(|| mv.macaddrs.iter().map(|m| m.to_string()).collect()),
    }
}

/// The JSON of `ip -j [-d] link show` for these links (an array, one line).
pub fn json(links: &[&Link], ns: &Ns, details: bool) -> String {
    let v: Vec<JsonLink> = links.iter().map(|l| json_link(l, ns, details)).collect();
    let mut s = serde_json::to_string(&v).expect("plain data serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use mvl_core::{Flags, MacAddr, Mode};
    use mvl_netlink::OperState;

    fn veth(index: u32, name: &str, peer: u32, up: bool) -> Link {
        Link {
            index,
            name: name.into(),
            flags: 0x1002 | u32::from(up),
            link_type: 1,
            mtu: Some(1500),
            min_mtu: Some(68),
            max_mtu: Some(65535),
            address: Some("ca:b4:55:f8:c4:a3".parse().unwrap()),
            broadcast: Some(MacAddr::BROADCAST),
            operstate: OperState::Down,
            link_mode: Some(0),
            link: Some(peer),
            kind: Some("veth".into()),
            qdisc: Some("noop".into()),
            txqlen: Some(1000),
            group: Some(0),
            promiscuity: Some(0),
            allmulti: Some(0),
            num_tx_queues: Some(2),
            num_rx_queues: Some(2),
            gso_max_size: Some(65536),
            gso_max_segs: Some(65535),
            tso_max_size: Some(524280),
            tso_max_segs: Some(65535),
            gro_max_size: Some(65536),
            addr_gen_mode: Some("eui64".into()),
            ..Default::default()
        }
    }

    fn source_macvlan() -> Link {
        let mut l = veth(4, "mv0", 3, false);
        l.address = Some("76:9b:b3:bc:d3:0f".parse().unwrap());
        l.kind = Some("macvlan".into());
        l.num_tx_queues = Some(1);
        l.num_rx_queues = Some(1);
        l.macvlan = Some(MacvlanInfo {
            mode: Some(Mode::Source),
            raw_mode: 16,
            flags: Flags::NONE,
            raw_flags: 0,
            macaddr_count: 1,
            macaddrs: vec!["02:00:00:00:00:05".parse().unwrap()],
            bc_queue_len: Some(1000),
            bc_queue_len_used: Some(1000),
            bc_cutoff: None,
        });
        l
    }

    // Captured from iproute2 6.1 on Linux 6.18.
    const IP_D: &str = "4: mv0@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/ether 76:9b:b3:bc:d3:0f brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 
    macvlan mode source bcqueuelen 1000 usedbcqueuelen 1000 remotes (1) 02:00:00:00:00:05 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 
";
    const IP_J: &str = r#"[{"ifindex":4,"link":"veth0","ifname":"mv0","flags":["BROADCAST","MULTICAST","M-DOWN"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"76:9b:b3:bc:d3:0f","broadcast":"ff:ff:ff:ff:ff:ff"}]"#;
    const IP_JD: &str = r#"[{"ifindex":4,"link":"veth0","ifname":"mv0","flags":["BROADCAST","MULTICAST","M-DOWN"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"76:9b:b3:bc:d3:0f","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"macvlan","info_data":{"mode":"source","bcqueuelen":1000,"usedbcqueuelen":1000,"macaddr_count":1,"macaddr_data":["02:00:00:00:00:05"]}},"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536}]"#;

    #[test]
    fn text_and_json_match_iproute2() {
        let all = vec![
            veth(2, "veth1", 3, false),
            veth(3, "veth0", 2, false),
            source_macvlan(),
        ];
        let ns = Ns::new(&all);
        assert_eq!(text(&all[2], &ns, true), IP_D);
        assert_eq!(
            text(&all[2], &ns, false),
            IP_D.lines()
                .take(2)
                .map(|l| l.trim_end().split(" promiscuity").next().unwrap())
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        );
        assert_eq!(json(&[&all[2]], &ns, false).trim_end(), IP_J);
        assert_eq!(json(&[&all[2]], &ns, true).trim_end(), IP_JD);
    }

    #[test]
    fn flags_as_ip_prints_them() {
        assert_eq!(
            flag_words(0x1003, false),
            ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]
        );
        assert_eq!(
            flag_words(0x11043, false),
            ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"]
        );
        assert_eq!(flag_words(0x8, true), ["LOOPBACK", "M-DOWN"]);
        assert_eq!(flag_words(1 << 20 | 1 << 6, false), ["100000"]);
    }

    #[test]
    fn lower_elsewhere_and_flags_and_bclim() {
        let mut l = source_macvlan();
        l.link_netnsid = Some(0);
        l.link = Some(5);
        let mv = l.macvlan.as_mut().unwrap();
        mv.mode = Some(Mode::Passthru);
        mv.raw_flags = 1;
        mv.bc_cutoff = Some(-1);
        let all = vec![l];
        let ns = Ns::new(&all);
        let t = text(&all[0], &ns, true);
        assert!(t.starts_with("4: mv0@if5: <BROADCAST,MULTICAST> "), "{t}");
        assert!(t.contains(" link-netnsid 0 promiscuity 0 "), "{t}");
        assert!(
            t.contains(
                "macvlan mode passthru nopromisc bcqueuelen 1000 usedbcqueuelen 1000 bclim -1 addrgenmode"
            ),
            "{t}"
        );
        let j: serde_json::Value = serde_json::from_str(&json(&[&all[0]], &ns, true)).unwrap();
        assert_eq!(j[0]["link_index"], 5);
        assert_eq!(j[0]["link_netnsid"], 0);
        assert!(j[0].get("link").is_none());
        let d = &j[0]["linkinfo"]["info_data"];
        assert_eq!(
            (d["mode"].as_str(), d["nopromisc"].as_bool(), d["bclim"].as_i64()),
            (Some("passthru"), Some(true), Some(-1))
        );
        assert!(d.get("macaddr_count").is_none());
    }
}
