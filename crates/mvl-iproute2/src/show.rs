//! iproute2's output, from any source: a whole link ([`LinkView`], as text
//! and as JSON), its flag words (`print_link_flags`), the macvlan part of
//! `ip -d link show` (`macvlan_print_opt`) and the counters of `-s`. The
//! emulator, `mvl link` and the daemon each turn what they hold into a
//! [`LinkView`], so the words are written once.

mod addr;
mod json;
mod link;
mod route;
mod stats;

pub use addr::{addr_text, AddrView};
pub use json::{addrs_brief_json, addrs_json, links_brief_json, links_json};
pub use link::{
    BridgePortView, BridgeView, Details, How, KindData, LinkNetns, LinkView, Lower, ARPHRD_ETHER,
    ARPHRD_LOOPBACK, ARPHRD_NONE,
};
pub use route::{neighs_text, routes_text, NeighView, RouteView};
pub use stats::Stats;

use mvl_core::{Flags, MacAddr, MacvlanInfo, Mode, DEFAULT_BC_CUTOFF};

/// `IFF_UP`.
pub const IFF_UP: u32 = 1;
/// `IFF_BROADCAST`.
pub const IFF_BROADCAST: u32 = 1 << 1;
/// `IFF_LOOPBACK`.
pub const IFF_LOOPBACK: u32 = 1 << 3;
/// `IFF_RUNNING`.
pub const IFF_RUNNING: u32 = 1 << 6;
/// `IFF_PROMISC`.
pub const IFF_PROMISC: u32 = 1 << 8;
/// `IFF_ALLMULTI`.
pub const IFF_ALLMULTI: u32 = 1 << 9;
/// `IFF_MULTICAST`.
pub const IFF_MULTICAST: u32 = 1 << 12;
/// `IFF_LOWER_UP`.
pub const IFF_LOWER_UP: u32 = 1 << 16;

/// `print_link_flags`: `NO-CARRIER` first when up without carrier
/// (`IFF_RUNNING` clear), the flags in iproute2's order, unknown bits in
/// hex, `M-DOWN` (a lower in the same namespace is down) last.
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

/// The flags of an Ethernet device (or the loopback) that is `up`, with
/// `carrier` counting only while up, as the kernel reports them.
pub fn device_flags(loopback: bool, up: bool, carrier: bool, promisc: bool, allmulti: bool) -> u32 {
    let mut f = if loopback {
        IFF_LOOPBACK
    } else {
        IFF_BROADCAST | IFF_MULTICAST
    };
    for (on, bit) in [
        (up, IFF_UP),
        (up && carrier, IFF_RUNNING | IFF_LOWER_UP),
        (promisc, IFF_PROMISC),
        (allmulti, IFF_ALLMULTI),
    ] {
        if on {
            f |= bit;
        }
    }
    f
}

/// What `macvlan_print_opt` prints of one macvlan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacvlanView {
    /// The mode's word (`unknown` for a value iproute2 does not know).
    pub mode: &'static str,
    /// `nopromisc`.
    pub nopromisc: bool,
    /// `nodst`.
    pub nodst: bool,
    /// `bcqueuelen`, when known.
    pub bc_queue_len: Option<u32>,
    /// `usedbcqueuelen`, when known.
    pub bc_queue_len_used: Option<u32>,
    /// `bclim`, shown only when not the default.
    pub bc_cutoff: Option<i32>,
    /// Mode source: the list's size and the list, in the kernel's order.
    pub sources: Option<(u32, Vec<MacAddr>)>,
}

impl MacvlanView {
    /// The text form: every item followed by one space
    /// (`mode bridge bcqueuelen 1000 usedbcqueuelen 1000 `).
    pub fn text(&self) -> String {
        let mut s = format!("mode {} ", self.mode);
        if self.nopromisc {
            s.push_str("nopromisc ");
        }
        if self.nodst {
            s.push_str("nodst ");
        }
        if let Some(n) = self.bc_queue_len {
            s.push_str(&format!("bcqueuelen {n} "));
        }
        if let Some(n) = self.bc_queue_len_used {
            s.push_str(&format!("usedbcqueuelen {n} "));
        }
        if let Some(n) = self.bc_cutoff {
            s.push_str(&format!("bclim {n} "));
        }
        if let Some((count, list)) = &self.sources {
            s.push_str(&format!("remotes ({count}) "));
            for m in list {
                s.push_str(&format!("{m} "));
            }
        }
        s
    }
}

/// A port's macvlan as the kernel dumps it (`macvlan_fill_info`): every
/// field, `bclim` left out while it is the default, the source list in
/// mode source only.
#[derive(Debug, Clone, Copy)]
pub struct PortMacvlan<'a> {
    /// The mode.
    pub mode: Mode,
    /// `nopromisc`.
    pub nopromisc: bool,
    /// `nodst`.
    pub nodst: bool,
    /// Its `bcqueuelen` request.
    pub bc_queue_len: u32,
    /// The port's queue length.
    pub bc_queue_len_used: u32,
    /// The port's `bclim`.
    pub bc_cutoff: i32,
    /// The source list, in the kernel's order.
    pub sources: &'a [MacAddr],
}

impl From<PortMacvlan<'_>> for MacvlanView {
    fn from(m: PortMacvlan<'_>) -> MacvlanView {
        MacvlanView {
            mode: m.mode.as_str(),
            nopromisc: m.nopromisc,
            nodst: m.nodst,
            bc_queue_len: Some(m.bc_queue_len),
            bc_queue_len_used: Some(m.bc_queue_len_used),
            bc_cutoff: (m.bc_cutoff != DEFAULT_BC_CUTOFF).then_some(m.bc_cutoff),
            sources: (m.mode == Mode::Source).then(|| (m.sources.len() as u32, m.sources.to_vec())),
        }
    }
}

impl From<&MacvlanInfo> for MacvlanView {
    /// A port's macvlan, as a kernel dump shows it.
    fn from(i: &MacvlanInfo) -> MacvlanView {
        MacvlanView::from(PortMacvlan {
            mode: i.mode,
            nopromisc: i.flags.contains(Flags::NOPROMISC),
            nodst: i.flags.contains(Flags::NODST),
            bc_queue_len: i.bc_queue_len,
            bc_queue_len_used: i.bc_queue_len_used,
            bc_cutoff: i.bc_cutoff,
            sources: &i.sources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_numbers() {
        // Written out so that this crate stays free of libc; checked here.
        let iff = [
            (IFF_UP, libc::IFF_UP),
            (IFF_BROADCAST, libc::IFF_BROADCAST),
            (IFF_LOOPBACK, libc::IFF_LOOPBACK),
            (IFF_RUNNING, libc::IFF_RUNNING),
            (IFF_PROMISC, libc::IFF_PROMISC),
            (IFF_ALLMULTI, libc::IFF_ALLMULTI),
            (IFF_MULTICAST, libc::IFF_MULTICAST),
            (IFF_LOWER_UP, libc::IFF_LOWER_UP),
        ];
        for (ours, kernel) in iff {
            assert_eq!(ours, kernel as u32);
        }
        assert_eq!(
            (ARPHRD_ETHER, ARPHRD_LOOPBACK, ARPHRD_NONE),
            (libc::ARPHRD_ETHER, libc::ARPHRD_LOOPBACK, libc::ARPHRD_NONE)
        );
    }

    #[test]
    fn flags_in_iproute2s_order() {
        assert_eq!(
            flag_words(0x1003, false),
            ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]
        );
        assert_eq!(
            flag_words(0x11043, false),
            ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"]
        );
        assert_eq!(
            flag_words(device_flags(false, true, false, false, false), false),
            ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]
        );
        assert_eq!(
            flag_words(device_flags(false, true, true, true, false), false),
            ["BROADCAST", "MULTICAST", "PROMISC", "UP", "LOWER_UP"]
        );
        assert_eq!(
            flag_words(device_flags(true, true, true, false, false), false),
            ["LOOPBACK", "UP", "LOWER_UP"]
        );
        assert_eq!(flag_words(0x8, true), ["LOOPBACK", "M-DOWN"]);
        assert_eq!(flag_words(1 << 20 | 1 << 6, false), ["100000"]);
    }

    #[test]
    fn macvlan_details_as_iproute2_prints_them() {
        let list = vec!["02:00:00:00:00:05".parse().unwrap()];
        let v = MacvlanView {
            mode: "source",
            nopromisc: false,
            nodst: true,
            bc_queue_len: Some(1000),
            bc_queue_len_used: Some(1000),
            bc_cutoff: Some(-1),
            sources: Some((1, list)),
        };
        assert_eq!(
            v.text(),
            "mode source nodst bcqueuelen 1000 usedbcqueuelen 1000 bclim -1 remotes (1) 02:00:00:00:00:05 "
        );
    }
}
