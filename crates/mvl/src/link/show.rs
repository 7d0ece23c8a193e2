//! `mvl link show` output: a kernel dump's links as iproute2 shows them
//! (`ip [-d] [-s [-s]] link show` and `ip -j ...`, iproute2 6.1; `bclim` as
//! newer iproute2 prints it). The words are `mvl_iproute2::show`'s; this
//! module turns a [`Link`] into its [`LinkView`].

use std::collections::BTreeMap;

use mvl_iproute2::show::{
    links_json, Details, How, KindData, LinkNetns, LinkView, Lower, MacvlanView, Stats,
};
use mvl_netlink::{Link, MacvlanAttrs, Stats64};

/// Every link of the namespace by index: the names of lowers and masters,
/// and whether a lower is down (`M-DOWN`); the names of the namespaces
/// other links' lowers live in.
pub struct Ns<'a> {
    by_index: BTreeMap<u32, &'a Link>,
    netns_names: &'a BTreeMap<i32, String>,
}

impl<'a> Ns<'a> {
    /// The view of `all`, the namespace's links, with the names of the
    /// namespaces by the ids this one gave them.
    pub fn new(all: &'a [Link], netns_names: &'a BTreeMap<i32, String>) -> Ns<'a> {
        Ns {
            by_index: all.iter().map(|l| (l.index, l)).collect(),
            netns_names,
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

    /// `l` as iproute2 shows it.
    pub fn view(&self, l: &Link) -> LinkView {
        LinkView {
            index: l.index,
            name: l.name.clone(),
            lower: match (l.link, l.link_netnsid) {
                (Some(0), _) => Some(Lower::None),
                (Some(i), Some(_)) => Some(Lower::Elsewhere(i)),
                (Some(i), None) => Some(Lower::Here(self.name(i))),
                (None, _) => None,
            },
            flags: l.flags,
            lower_down: self.lower_down(l),
            mtu: l.mtu,
            qdisc: l.qdisc.clone(),
            master: l.master.map(|m| self.name(m)),
            operstate: l.operstate.as_str(),
            link_mode: l.link_mode,
            group: l.group,
            txqlen: l.txqlen,
            link_type: l.link_type,
            address: l.address,
            broadcast: l.broadcast,
            link_netns: l.link_netnsid.map(|id| LinkNetns {
                id: Some(id),
                name: self.netns_names.get(&id).cloned(),
            }),
            details: Details {
                promiscuity: l.promiscuity,
                allmulti: l.allmulti,
                min_mtu: l.min_mtu,
                max_mtu: l.max_mtu,
                kind: l.kind.clone(),
                kind_data: l.macvlan.as_ref().map(|mv| KindData::Macvlan(macvlan_view(mv))),
                slave_kind: l.slave_kind.clone(),
                slave_data: None,
                addr_gen_mode: l.addr_gen_mode.clone(),
                num_tx_queues: l.num_tx_queues,
                num_rx_queues: l.num_rx_queues,
                gso_max_size: l.gso_max_size,
                gso_max_segs: l.gso_max_segs,
                tso_max_size: l.tso_max_size,
                tso_max_segs: l.tso_max_segs,
                gro_max_size: l.gro_max_size,
            },
            stats: l.stats.as_ref().map(stats_view),
            carrier_changes: l.carrier_changes,
        }
    }
}

/// `macvlan_print_opt`'s view of a kernel dump.
fn macvlan_view(mv: &MacvlanAttrs) -> MacvlanView {
    MacvlanView {
        mode: mv.mode.map(|m| m.as_str()).unwrap_or("unknown"),
        nopromisc: mv.raw_flags & 1 != 0,
        nodst: mv.raw_flags & 2 != 0,
        bc_queue_len: mv.bc_queue_len,
        bc_queue_len_used: mv.bc_queue_len_used,
        bc_cutoff: mv.bc_cutoff,
        sources: (mv.mode == Some(mvl_core::Mode::Source)).then(|| (mv.macaddr_count, mv.macaddrs.clone())),
    }
}

/// The kernel's `rtnl_link_stats64` as iproute2 reads it.
fn stats_view(st: &Stats64) -> Stats {
    Stats {
        rx_packets: st.rx_packets,
        tx_packets: st.tx_packets,
        rx_bytes: st.rx_bytes,
        tx_bytes: st.tx_bytes,
        rx_errors: st.rx_errors,
        tx_errors: st.tx_errors,
        rx_dropped: st.rx_dropped,
        tx_dropped: st.tx_dropped,
        multicast: st.multicast,
        collisions: st.collisions,
        rx_length_errors: st.rx_length_errors,
        rx_over_errors: st.rx_over_errors,
        rx_crc_errors: st.rx_crc_errors,
        rx_frame_errors: st.rx_frame_errors,
        rx_fifo_errors: st.rx_fifo_errors,
        rx_missed_errors: st.rx_missed_errors,
        tx_aborted_errors: st.tx_aborted_errors,
        tx_carrier_errors: st.tx_carrier_errors,
        tx_fifo_errors: st.tx_fifo_errors,
        tx_heartbeat_errors: st.tx_heartbeat_errors,
        tx_window_errors: st.tx_window_errors,
        rx_compressed: st.rx_compressed,
        tx_compressed: st.tx_compressed,
        rx_nohandler: st.rx_nohandler,
    }
}

/// The text of `ip [-d] [-s [-s]] link show` for one link.
pub fn text(l: &Link, ns: &Ns, how: How) -> String {
    ns.view(l).text(how)
}

/// The JSON of `ip -j [-d] [-s [-s]] link show` for these links (an array, one line).
pub fn json(links: &[&Link], ns: &Ns, how: How) -> String {
    let views: Vec<LinkView> = links.iter().map(|l| ns.view(l)).collect();
    links_json(&views, how, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mvl_core::{Flags, MacAddr, Mode};
    use mvl_netlink::OperState;

    static NO_NAMES: BTreeMap<i32, String> = BTreeMap::new();
    const DETAILS: How = How {
        details: true,
        stats: 0,
    };

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
        l.macvlan = Some(MacvlanAttrs {
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
        let ns = Ns::new(&all, &NO_NAMES);
        assert_eq!(text(&all[2], &ns, DETAILS), IP_D);
        assert_eq!(
            text(&all[2], &ns, How::default()),
            IP_D.lines()
                .take(2)
                .map(|l| l.trim_end().split(" promiscuity").next().unwrap())
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        );
        assert_eq!(json(&[&all[2]], &ns, How::default()).trim_end(), IP_J);
        assert_eq!(json(&[&all[2]], &ns, DETAILS).trim_end(), IP_JD);
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
        let ns = Ns::new(&all, &NO_NAMES);
        let t = text(&all[0], &ns, DETAILS);
        assert!(t.starts_with("4: mv0@if5: <BROADCAST,MULTICAST> "), "{t}");
        assert!(t.contains(" link-netnsid 0 promiscuity 0 "), "{t}");
        assert!(
            t.contains(
                "macvlan mode passthru nopromisc bcqueuelen 1000 usedbcqueuelen 1000 bclim -1 addrgenmode"
            ),
            "{t}"
        );
        let j: serde_json::Value = serde_json::from_str(&json(&[&all[0]], &ns, DETAILS)).unwrap();
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

    // Captured from iproute2 6.1 on Linux 6.18: a veth after one frame
    // sent and two received, `ip -s` and `ip -s -s` (text and JSON).
    const IP_S: &str = "3: va@vb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether de:46:c1:3c:dd:c4 brd ff:ff:ff:ff:ff:ff
    RX:  bytes packets errors dropped  missed   mcast           
           176       2      0       0       0       0 
    TX:  bytes packets errors dropped carrier collsns           
            90       1      0       0       0       0 
";
    const IP_SS_TAIL: &str = "    RX:  bytes packets errors dropped  missed   mcast           
           176       2      0       0       0       0 
    RX errors:  length    crc   frame    fifo overrun
                     0      0       0       0       0 
    TX:  bytes packets errors dropped carrier collsns           
            90       1      0       0       0       0 
    TX errors: aborted   fifo  window heartbt transns
                     0      0       0       0       2 
";
    const IP_SJ_STATS: &str = r#""stats64":{"rx":{"bytes":176,"packets":2,"errors":0,"dropped":0,"over_errors":0,"multicast":0},"tx":{"bytes":90,"packets":1,"errors":0,"dropped":0,"carrier_errors":0,"collisions":0}}}]"#;
    const IP_SSJ_STATS: &str = r#""stats64":{"rx":{"bytes":176,"packets":2,"errors":0,"dropped":0,"over_errors":0,"multicast":0,"length_errors":0,"crc_errors":0,"frame_errors":0,"fifo_errors":0,"missed_errors":0},"tx":{"bytes":90,"packets":1,"errors":0,"dropped":0,"carrier_errors":0,"collisions":0,"aborted_errors":0,"fifo_errors":0,"window_errors":0,"heartbeat_errors":0,"carrier_changes":2}}}]"#;

    fn counted_veth() -> Vec<Link> {
        let mut va = veth(3, "va", 4, true);
        va.flags |= 0x10040;
        va.operstate = OperState::Up;
        va.qdisc = Some("noqueue".into());
        va.address = Some("de:46:c1:3c:dd:c4".parse().unwrap());
        let mut st = Stats64::default();
        st.rx_bytes = 176;
        st.rx_packets = 2;
        st.tx_bytes = 90;
        st.tx_packets = 1;
        va.stats = Some(st);
        va.carrier_changes = Some(2);
        vec![va, veth(4, "vb", 3, true)]
    }

    #[test]
    fn statistics_as_iproute2_prints_them() {
        let all = counted_veth();
        let ns = Ns::new(&all, &NO_NAMES);
        let s1 = How {
            details: false,
            stats: 1,
        };
        let s2 = How { stats: 2, ..s1 };
        assert_eq!(text(&all[0], &ns, s1), IP_S);
        let t = text(&all[0], &ns, s2);
        assert!(t.ends_with(IP_SS_TAIL), "{t}");
        assert!(json(&[&all[0]], &ns, s1).trim_end().ends_with(IP_SJ_STATS));
        assert!(json(&[&all[0]], &ns, s2).trim_end().ends_with(IP_SSJ_STATS));
        // Without -s the counters stay out, even when they were fetched.
        assert!(!text(&all[0], &ns, How::default()).contains("RX:"));
        assert!(!json(&[&all[0]], &ns, How::default()).contains("stats64"));
    }

    #[test]
    fn wide_counters_widen_their_columns() {
        let mut all = counted_veth();
        let st = all[0].stats.as_mut().unwrap();
        st.rx_bytes = 123_456_789_012;
        st.tx_carrier_errors = 12_345_678;
        let ns = Ns::new(&all, &NO_NAMES);
        let t = text(
            &all[0],
            &ns,
            How {
                details: false,
                stats: 1,
            },
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[2],
            "    RX:    bytes packets errors dropped   missed   mcast           "
        );
        assert_eq!(
            lines[3],
            "    123456789012       2      0       0        0       0 "
        );
        assert_eq!(
            lines[5],
            "              90       1      0       0 12345678       0 "
        );
    }

    #[test]
    fn a_lower_in_a_named_namespace_is_named() {
        let mut all = vec![source_macvlan()];
        all[0].link_netnsid = Some(3);
        let names = BTreeMap::from([(3, "ns1".to_string())]);
        let t = text(&all[0], &Ns::new(&all, &names), How::default());
        assert!(t.contains(" link-netns ns1"), "{t}");
        let t = text(&all[0], &Ns::new(&all, &NO_NAMES), How::default());
        assert!(t.contains(" link-netnsid 3"), "{t}");
        let j = json(&[&all[0]], &Ns::new(&all, &names), How::default());
        assert!(j.contains(r#""link_netnsid":3"#), "{j}");
    }
}
