//! The lower's tc hooks: a `clsact` qdisc and small eBPF programs on its
//! ingress and egress, written as instructions here (no compiler, no
//! object files) and loaded with `BPF_PROG_LOAD`.
//!
//! Two programs use them: `isolation` (ingress, after the packet taps:
//! hides from the lower's stack what a kernel macvlan would consume) and
//! `loopback` (egress, before the packet taps: turns a copy sent by the
//! datapath into a frame the lower receives, so its taps see unicast
//! between bridge siblings as the kernel's `dev_forward_skb(lowerdev)`
//! shows it).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use mvl_netlink::Netlink;
use netlink_packet_route::tc::{TcAttribute, TcFilterBpfOption, TcHandle, TcMessage, TcOption};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::Result;

/// One eBPF instruction.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Insn {
    pub code: u8,
    regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// `dst = op(src, off, imm)` in eBPF's encoding.
pub(crate) fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

pub(crate) const MOV64_X: u8 = 0xbf;
pub(crate) const MOV64_K: u8 = 0xb7;
pub(crate) const AND64_K: u8 = 0x57;
pub(crate) const LD_ABS_B: u8 = 0x30;
pub(crate) const LD_ABS_H: u8 = 0x28;
pub(crate) const LD_ABS_W: u8 = 0x20;
/// `dst = *(u32 *)(src + off)`.
pub(crate) const LDX_MEM_W: u8 = 0x61;
pub(crate) const JEQ_K: u8 = 0x15;
pub(crate) const JNE_K: u8 = 0x55;
pub(crate) const JNE32_K: u8 = 0x56;
pub(crate) const JA: u8 = 0x05;
pub(crate) const CALL: u8 = 0x85;
pub(crate) const EXIT: u8 = 0x95;
pub(crate) const TC_ACT_OK: i32 = 0;
pub(crate) const TC_ACT_SHOT: i32 = 2;

/// `union bpf_attr` for BPF_PROG_LOAD, up to the program name; the rest zero.
#[repr(C)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    rest: [u8; 64],
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_TYPE_SCHED_CLS: u32 = 3;

/// Loads a tc classifier program named `name` (at most 15 bytes); the
/// verifier's log is in the error when it refuses.
pub(crate) fn load(insns: &[Insn], name: &str) -> io::Result<OwnedFd> {
    let license = b"GPL\0";
    let mut log = vec![0u8; 1 << 16];
    let mut prog_name = [0u8; 16];
    let n = name.len().min(15);
    prog_name[..n].copy_from_slice(&name.as_bytes()[..n]);
    let mut attr = ProgLoad {
        prog_type: BPF_PROG_TYPE_SCHED_CLS,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        kern_version: 0,
        prog_flags: 0,
        prog_name,
        rest: [0; 64],
    };
    // SAFETY: `attr` is a valid BPF_PROG_LOAD attribute whose pointers
    // (instructions, license, log) point to live buffers of the stated sizes
    // for the whole call; the kernel reads them and writes only into `log`.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_LOAD,
            &mut attr as *mut ProgLoad,
            std::mem::size_of::<ProgLoad>(),
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        let text =
            String::from_utf8_lossy(&log[..log.iter().position(|&b| b == 0).unwrap_or(0)]).into_owned();
        return Err(io::Error::new(e.kind(), format!("{e}: {}", text.trim())));
    }
    // SAFETY: BPF_PROG_LOAD returned a new descriptor that we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Which of the lower's two hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    /// Frames the lower receives, after the packet taps, before the stack.
    Ingress,
    /// Frames sent out of the lower, before the packet taps and the qdisc.
    Egress,
}

impl Hook {
    /// The filter's parent: `TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS or
    /// _EGRESS)`. The ingress one also names the hook of an `ingress`
    /// qdisc, which older versions of the daemon made.
    fn parent(self) -> u32 {
        match self {
            Hook::Ingress => 0xFFFF_FFF2,
            Hook::Egress => 0xFFFF_FFF3,
        }
    }
}

const TC_H_CLSACT: u32 = 0xFFFF_FFF1;
const CLSACT_HANDLE: u32 = 0xFFFF_0000;
const FILTER_PRIO: u32 = 0xC001;
const FILTER_HANDLE: u32 = 1;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_REPLACE: u16 = 0x100;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;

fn filter_message(ifindex: u32, hook: Hook) -> TcMessage {
    let mut m = TcMessage::with_index(ifindex as i32);
    m.header.parent = TcHandle::from(hook.parent());
    m.header.handle = TcHandle::from(FILTER_HANDLE);
    // tcm_info: priority in the high half, protocol (ETH_P_ALL, network order) in the low.
    m.header.info = (FILTER_PRIO << 16) | u32::from((libc::ETH_P_ALL as u16).to_be());
    m
}

/// Installs (or replaces) `prog` as the lower's filter on `hook`, in
/// direct-action mode, creating the `clsact` qdisc if the lower has none.
/// `nl` is a socket in the lower's namespace.
pub(crate) fn install(nl: &mut Netlink, ifindex: u32, hook: Hook, prog: &OwnedFd, name: &str) -> Result<()> {
    if let Err(e) = nl.request(
        RouteNetlinkMessage::NewQueueDiscipline(clsact_message(ifindex)),
        NLM_F_CREATE | NLM_F_EXCL,
    ) {
        // One is there already: ours, or an `ingress` qdisc (which then
        // has no egress hook, and the egress filter below is refused).
        if e.errno() != Some(libc::EEXIST) {
            return Err(e.into());
        }
    }
    let mut f = filter_message(ifindex, hook);
    f.attributes.push(TcAttribute::Kind("bpf".into()));
    f.attributes.push(TcAttribute::Options(vec![
        TcOption::Bpf(TcFilterBpfOption::ProgFd(prog.as_raw_fd() as u32)),
        TcOption::Bpf(TcFilterBpfOption::ProgName(name.into())),
        TcOption::Bpf(TcFilterBpfOption::Flags(
            netlink_packet_route::tc::TcBpfFlags::from_bits_retain(TCA_BPF_FLAG_ACT_DIRECT),
        )),
    ]));
    nl.request(
        RouteNetlinkMessage::NewTrafficFilter(f),
        NLM_F_CREATE | NLM_F_REPLACE,
    )?;
    Ok(())
}

/// The lower's `clsact` qdisc, as a message (to create or delete it).
fn clsact_message(ifindex: u32) -> TcMessage {
    let mut q = TcMessage::with_index(ifindex as i32);
    q.header.parent = TcHandle::from(TC_H_CLSACT);
    q.header.handle = TcHandle::from(CLSACT_HANDLE);
    q.attributes.push(TcAttribute::Kind("clsact".into()));
    q
}

/// Whether the lower has a `clsact` qdisc now (anyone's); true when that
/// cannot be read, so that a caller never takes someone else's for its own.
pub(crate) fn has_clsact(nl: &mut Netlink, ifindex: u32) -> bool {
    let Ok(all) = nl.dump(RouteNetlinkMessage::GetQueueDiscipline(TcMessage::with_index(
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

/// Deletes the lower's `clsact` qdisc (one we made) if no filter is left
/// on either hook: a filter someone else added since keeps it.
pub(crate) fn remove_clsact_if_unused(nl: &mut Netlink, ifindex: u32) {
    let unused = [Hook::Ingress, Hook::Egress].into_iter().all(|hook| {
        let mut m = TcMessage::with_index(ifindex as i32);
        m.header.parent = TcHandle::from(hook.parent());
        nl.dump(RouteNetlinkMessage::GetTrafficFilter(m)).is_ok_and(|v| {
            !v.iter().any(
                |f| matches!(f, RouteNetlinkMessage::NewTrafficFilter(f) if f.header.index == ifindex as i32),
            )
        })
    });
    if unused {
        let _ = nl.request(
            RouteNetlinkMessage::DelQueueDiscipline(clsact_message(ifindex)),
            0,
        );
    }
}

/// Removes the lower's filter on `hook`, if there is one.
pub(crate) fn remove(nl: &mut Netlink, ifindex: u32, hook: Hook) {
    let _ = nl.request(
        RouteNetlinkMessage::DelTrafficFilter(filter_message(ifindex, hook)),
        0,
    );
}
