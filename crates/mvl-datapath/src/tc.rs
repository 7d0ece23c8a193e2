//! Small eBPF programs for the lower's tc hooks, written as instructions
//! here (no compiler, no object files) and loaded with `BPF_PROG_LOAD`;
//! `mvl-netlink` attaches them (`Netlink::attach_bpf_filter`).
//!
//! Two programs use them: `isolation` (ingress, after the packet taps:
//! hides from the lower's stack what a kernel macvlan would consume) and
//! `loopback` (egress, before the packet taps: turns a copy sent by the
//! datapath into a frame the lower receives, so its taps see unicast
//! between bridge siblings as the kernel's `dev_forward_skb(lowerdev)`
//! shows it).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

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
