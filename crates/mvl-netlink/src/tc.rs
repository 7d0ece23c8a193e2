//! A device's tc hooks over rtnetlink: the `clsact` qdisc and one eBPF
//! filter per hook (direct action), for a program the caller loaded.

use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::tc::{TcAttribute, TcBpfFlags, TcFilterBpfOption, TcHandle, TcMessage, TcOption};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::Result;
use crate::socket::Netlink;

/// Which of a device's two tc hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcHook {
    /// Frames the device receives, after the packet taps, before the stack.
    Ingress,
    /// Frames sent out of the device, before the packet taps and the qdisc.
    Egress,
}

impl TcHook {
    /// The filter's parent: `TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS or
    /// _EGRESS)`. The ingress one also names the hook of an `ingress` qdisc.
    fn parent(self) -> u32 {
        match self {
            TcHook::Ingress => 0xFFFF_FFF2,
            TcHook::Egress => 0xFFFF_FFF3,
        }
    }
}

const TC_H_CLSACT: u32 = 0xFFFF_FFF1;
const CLSACT_HANDLE: u32 = 0xFFFF_0000;
const FILTER_PRIO: u32 = 0xC001;
const FILTER_HANDLE: u32 = 1;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;

fn filter_message(ifindex: u32, hook: TcHook) -> TcMessage {
    let mut m = TcMessage::with_index(ifindex as i32);
    m.header.parent = TcHandle::from(hook.parent());
    m.header.handle = TcHandle::from(FILTER_HANDLE);
    // tcm_info: priority in the high half, protocol (ETH_P_ALL, network order) in the low.
    m.header.info = (FILTER_PRIO << 16) | u32::from((libc::ETH_P_ALL as u16).to_be());
    m
}

/// The device's `clsact` qdisc, as a message (to create or delete it).
fn clsact_message(ifindex: u32) -> TcMessage {
    let mut q = TcMessage::with_index(ifindex as i32);
    q.header.parent = TcHandle::from(TC_H_CLSACT);
    q.header.handle = TcHandle::from(CLSACT_HANDLE);
    q.attributes.push(TcAttribute::Kind("clsact".into()));
    q
}

impl Netlink {
    /// Installs (or replaces) the loaded eBPF classifier `prog`, named
    /// `name`, as device `ifindex`'s filter on `hook` in direct-action mode,
    /// creating a `clsact` qdisc if the device has none.
    pub fn attach_bpf_filter(
        &mut self,
        ifindex: u32,
        hook: TcHook,
        prog: BorrowedFd<'_>,
        name: &str,
    ) -> Result<()> {
        if let Err(e) = self.request(
            RouteNetlinkMessage::NewQueueDiscipline(clsact_message(ifindex)),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            // One is there already: ours, or an `ingress` qdisc (which then
            // has no egress hook, and an egress filter is refused below).
            if e.errno() != Some(libc::EEXIST) {
                return Err(e);
            }
        }
        let mut f = filter_message(ifindex, hook);
        f.attributes.push(TcAttribute::Kind("bpf".into()));
        f.attributes.push(TcAttribute::Options(vec![
            TcOption::Bpf(TcFilterBpfOption::ProgFd(prog.as_raw_fd() as u32)),
            TcOption::Bpf(TcFilterBpfOption::ProgName(name.into())),
            TcOption::Bpf(TcFilterBpfOption::Flags(TcBpfFlags::from_bits_retain(
                TCA_BPF_FLAG_ACT_DIRECT,
            ))),
        ]));
        self.request(
            RouteNetlinkMessage::NewTrafficFilter(f),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// Removes device `ifindex`'s filter on `hook`, if it has one.
    pub fn detach_bpf_filter(&mut self, ifindex: u32, hook: TcHook) {
        let _ = self.request(
            RouteNetlinkMessage::DelTrafficFilter(filter_message(ifindex, hook)),
            0,
        );
    }

    /// Whether device `ifindex` has a `clsact` qdisc now (anyone's); true
    /// when that cannot be read, so that a caller never takes someone
    /// else's for its own.
    pub fn has_clsact(&mut self, ifindex: u32) -> bool {
        let Ok(all) = self.dump(RouteNetlinkMessage::GetQueueDiscipline(TcMessage::with_index(
            ifindex as i32,
        ))) else {
            return true;
        };
        all.iter().any(|m| {
            matches!(m, RouteNetlinkMessage::NewQueueDiscipline(q)
                if q.header.index == ifindex as i32
                    && q.attributes.iter().any(|a| matches!(a, TcAttribute::Kind(k) if k == "clsact")))
        })
    }

    /// Deletes device `ifindex`'s `clsact` qdisc if no filter is left on
    /// either hook: a filter someone else added keeps it.
    pub fn remove_clsact_if_unused(&mut self, ifindex: u32) {
        let unused = [TcHook::Ingress, TcHook::Egress].into_iter().all(|hook| {
            let mut m = TcMessage::with_index(ifindex as i32);
            m.header.parent = TcHandle::from(hook.parent());
            self.dump(RouteNetlinkMessage::GetTrafficFilter(m)).is_ok_and(|v| {
                !v.iter().any(
                    |f| matches!(f, RouteNetlinkMessage::NewTrafficFilter(f) if f.header.index == ifindex as i32),
                )
            })
        });
        if unused {
            let _ = self.request(
                RouteNetlinkMessage::DelQueueDiscipline(clsact_message(ifindex)),
                0,
            );
        }
    }
}
