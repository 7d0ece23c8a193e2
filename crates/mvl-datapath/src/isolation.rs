//! Keeping the lower's own stack blind to what a kernel macvlan consumes.
//!
//! An AF_PACKET socket sees a frame, but cannot take it away from the
//! lower's IP stack. The kernel's macvlan does take some away: frames from a
//! source listed by a `nodst` child; broadcast and multicast sent by an up
//! private, passthru or source child (they return only to their sender);
//! and, on a passthru lower, all unicast. The same frames are dropped here
//! by a small eBPF program in the lower's tc ingress hook, which runs after
//! the packet taps (our socket still gets every frame) and before the stack.
//! The program is regenerated from the port whenever those rules change,
//! and removed when none apply.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use mvl_core::{Flags, MacAddr, Mode, Port};
use mvl_netlink::Netlink;
use netlink_packet_route::tc::{TcAttribute, TcFilterBpfOption, TcHandle, TcMessage, TcOption};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Result};

/// What the filter drops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rules {
    /// All unicast (a passthru lower).
    pub passthru: bool,
    /// Every frame from these sources (nodst source lists).
    pub from: Vec<MacAddr>,
    /// Group frames from these sources (up private, passthru, source children).
    pub groups_from: Vec<MacAddr>,
}

impl Rules {
    /// The rules a port implies.
    pub(crate) fn of(port: &Port) -> Rules {
        let mut r = Rules {
            passthru: port.is_passthru(),
            ..Rules::default()
        };
        for &id in port.children() {
            let Ok(i) = port.info(id) else { continue };
            if i.mode == Mode::Source && i.flags.contains(Flags::NODST) {
                r.from.extend(i.sources.iter().copied());
            }
            if i.up && matches!(i.mode, Mode::Private | Mode::Passthru | Mode::Source) {
                r.groups_from.push(i.mac);
            }
        }
        r.from.sort();
        r.from.dedup();
        r.groups_from.sort();
        r.groups_from.dedup();
        r
    }

    fn is_empty(&self) -> bool {
        !self.passthru && self.from.is_empty() && self.groups_from.is_empty()
    }
}

/// One eBPF instruction.
#[repr(C)]
#[derive(Clone, Copy)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

const MOV64_X: u8 = 0xbf;
const MOV64_K: u8 = 0xb7;
const AND64_K: u8 = 0x57;
const LD_ABS_B: u8 = 0x30;
const LD_ABS_H: u8 = 0x28;
const LD_ABS_W: u8 = 0x20;
const JEQ_K: u8 = 0x15;
const JNE32_K: u8 = 0x56;
const JA: u8 = 0x05;
const EXIT: u8 = 0x95;
const TC_ACT_OK: i32 = 0;
const TC_ACT_SHOT: i32 = 2;

/// The high four and low two bytes of a MAC, as LD_ABS loads them.
fn halves(m: MacAddr) -> (i32, i32) {
    let b = m.0;
    (
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i32,
        i32::from(u16::from_be_bytes([b[4], b[5]])),
    )
}

/// The program for `rules`. Jumps to the drop label are fixed up at the end.
fn program(rules: &Rules) -> Vec<Insn> {
    let mut p = vec![
        insn(MOV64_X, 6, 1, 0, 0), // r6 = skb, as LD_ABS requires
        insn(LD_ABS_B, 0, 0, 0, 0),
        insn(MOV64_X, 7, 0, 0, 0),
        insn(AND64_K, 7, 0, 0, 1), // r7 = group bit of the destination
        insn(LD_ABS_W, 0, 0, 0, 6),
        insn(MOV64_X, 8, 0, 0, 0), // r8 = source bytes 0..4
        insn(LD_ABS_H, 0, 0, 0, 10),
        insn(MOV64_X, 9, 0, 0, 0), // r9 = source bytes 4..6
    ];
    let mut to_drop = Vec::new();
    let match_source = |p: &mut Vec<Insn>, to_drop: &mut Vec<usize>, m: MacAddr| {
        let (hi, lo) = halves(m);
        p.push(insn(JNE32_K, 8, 0, 2, hi));
        p.push(insn(JNE32_K, 9, 0, 1, lo));
        to_drop.push(p.len());
        p.push(insn(JA, 0, 0, 0, 0));
    };
    for &m in &rules.from {
        match_source(&mut p, &mut to_drop, m);
    }
    if !rules.groups_from.is_empty() {
        let skip_at = p.len();
        p.push(insn(JEQ_K, 7, 0, 0, 0)); // unicast: skip the group rules
        for &m in &rules.groups_from {
            match_source(&mut p, &mut to_drop, m);
        }
        p[skip_at].off = (p.len() - skip_at - 1) as i16;
    }
    if rules.passthru {
        to_drop.push(p.len());
        p.push(insn(JEQ_K, 7, 0, 0, 0)); // unicast on a passthru lower: drop
    }
    p.push(insn(MOV64_K, 0, 0, 0, TC_ACT_OK));
    p.push(insn(EXIT, 0, 0, 0, 0));
    let drop_at = p.len();
    p.push(insn(MOV64_K, 0, 0, 0, TC_ACT_SHOT));
    p.push(insn(EXIT, 0, 0, 0, 0));
    for at in to_drop {
        p[at].off = (drop_at - at - 1) as i16;
    }
    p
}

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

fn load(insns: &[Insn]) -> io::Result<OwnedFd> {
    let license = b"GPL\0";
    let mut log = vec![0u8; 1 << 16];
    let mut name = [0u8; 16];
    name[..13].copy_from_slice(b"mvl_isolation");
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
        prog_name: name,
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

const TC_H_INGRESS: u32 = 0xFFFF_FFF1;
const INGRESS_HANDLE: u32 = 0xFFFF_0000;
const FILTER_PRIO: u32 = 0xC001;
const FILTER_HANDLE: u32 = 1;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_REPLACE: u16 = 0x100;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;

fn filter_message(ifindex: u32) -> TcMessage {
    let mut m = TcMessage::with_index(ifindex as i32);
    m.header.parent = TcHandle::from(INGRESS_HANDLE);
    m.header.handle = TcHandle::from(FILTER_HANDLE);
    // tcm_info: priority in the high half, protocol (ETH_P_ALL, network order) in the low.
    m.header.info = (FILTER_PRIO << 16) | u32::from((libc::ETH_P_ALL as u16).to_be());
    m
}

/// The filter of one lower.
#[derive(Debug, Default)]
pub(crate) struct Isolation {
    rules: Rules,
    installed: bool,
}

impl Isolation {
    /// Makes the lower's filter implement `rules` (installing, replacing or
    /// removing it). `nl` is a socket in the lower's namespace.
    pub(crate) fn apply(&mut self, nl: &mut Netlink, ifindex: u32, lower: &str, rules: Rules) -> Result<()> {
        if rules == self.rules && self.installed != rules.is_empty() {
            return Ok(());
        }
        if rules.is_empty() {
            if self.installed {
                let _ = nl.request(RouteNetlinkMessage::DelTrafficFilter(filter_message(ifindex)), 0);
                self.installed = false;
            }
            self.rules = rules;
            return Ok(());
        }
        let prog =
            load(&program(&rules)).map_err(Error::io(format!("{lower}: loading the isolation filter")))?;
        let mut q = TcMessage::with_index(ifindex as i32);
        q.header.parent = TcHandle::from(TC_H_INGRESS);
        q.header.handle = TcHandle::from(INGRESS_HANDLE);
        q.attributes.push(TcAttribute::Kind("ingress".into()));
        if let Err(e) = nl.request(
            RouteNetlinkMessage::NewQueueDiscipline(q),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            if e.errno() != Some(libc::EEXIST) {
                return Err(e.into());
            }
        }
        let mut f = filter_message(ifindex);
        f.attributes.push(TcAttribute::Kind("bpf".into()));
        f.attributes.push(TcAttribute::Options(vec![
            TcOption::Bpf(TcFilterBpfOption::ProgFd(prog.as_raw_fd() as u32)),
            TcOption::Bpf(TcFilterBpfOption::ProgName("mvl_isolation".into())),
            TcOption::Bpf(TcFilterBpfOption::Flags(
                netlink_packet_route::tc::TcBpfFlags::from_bits_retain(TCA_BPF_FLAG_ACT_DIRECT),
            )),
        ]));
        nl.request(
            RouteNetlinkMessage::NewTrafficFilter(f),
            NLM_F_CREATE | NLM_F_REPLACE,
        )?;
        self.installed = true;
        self.rules = rules;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_jump_where_they_should() {
        let r = Rules {
            passthru: true,
            from: vec![MacAddr([2, 0, 0, 0, 0, 1])],
            groups_from: vec![MacAddr([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])],
        };
        let p = program(&r);
        let drop_at = p.len() - 2;
        assert_eq!(p[drop_at].imm, TC_ACT_SHOT);
        for (i, x) in p.iter().enumerate() {
            if x.code == JA {
                assert_eq!(i as i16 + 1 + x.off, drop_at as i16, "ja at {i}");
            }
        }
        let (hi, lo) = halves(MacAddr([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]));
        assert_eq!((hi as u32, lo), (0xaabb_ccdd, 0xeeff));
        assert!(Rules::default().is_empty());
    }
}
