//! Unicast between bridge-mode siblings, seen by the lower's packet taps.
//!
//! The kernel's macvlan hands such a frame to `dev_forward_skb(lowerdev)`:
//! it re-enters the lower's receive path, where the lower's packet taps see
//! it (a `tcpdump -i <lower>` shows it, as received) and the macvlan's
//! receive handler delivers it to the sibling. The datapath delivers it to
//! the sibling's TAP itself, as it always did (so replies race the wire's
//! as they do in the kernel), and first shows the taps a copy: it sends the
//! copy on a socket whose frames carry [`MARK`], and a small program on the
//! lower's tc egress hook (which runs before the taps and the wire)
//! redirects each marked frame to the lower's ingress
//! (`bpf_redirect(ifindex, BPF_F_INGRESS)`). There the taps see it; the
//! lower's own socket ignores marked frames (a socket filter), and the
//! lower's stack drops it (it is addressed to a child's MAC), as it never
//! sees it with the kernel's macvlan.
//!
//! Where the hook cannot be had (no eBPF, another tool's `ingress` qdisc on
//! the lower), no copy is sent: only a capture on the lower misses the frame.

use std::os::fd::AsFd;

use mvl_netlink::{Netlink, TcHook};

use crate::error::{Error, Result};
use crate::tc::{self, insn, Insn};
use crate::tc::{CALL, EXIT, JNE_K, LDX_MEM_W, MOV64_K, TC_ACT_OK};

/// The `skb->mark` (`SO_MARK`) of the copies the datapath sends for the
/// lower's taps: "mvl\x01".
pub(crate) const MARK: u32 = 0x6d76_6c01;

/// `offsetof(struct __sk_buff, mark)` and `ifindex`.
const SKB_MARK: i16 = 8;
const SKB_IFINDEX: i16 = 40;
const BPF_FUNC_REDIRECT: i32 = 23;
const BPF_F_INGRESS: i32 = 1;

/// The egress program: a marked frame goes to the lower's ingress (mark
/// kept, for the lower's socket to ignore it); every other frame goes on
/// (`TC_ACT_OK`).
fn program() -> Vec<Insn> {
    vec![
        insn(LDX_MEM_W, 2, 1, SKB_MARK, 0),    // r2 = skb->mark
        insn(JNE_K, 2, 0, 4, MARK as i32),     // not ours: to "ok"
        insn(LDX_MEM_W, 1, 1, SKB_IFINDEX, 0), // r1 = skb->ifindex (the lower)
        insn(MOV64_K, 2, 0, 0, BPF_F_INGRESS),
        insn(CALL, 0, 0, 0, BPF_FUNC_REDIRECT), // r0 = TC_ACT_REDIRECT
        insn(EXIT, 0, 0, 0, 0),
        insn(MOV64_K, 0, 0, 0, TC_ACT_OK), // ok:
        insn(EXIT, 0, 0, 0, 0),
    ]
}

/// Installs the egress program on the lower. `nl` is a socket in the
/// lower's namespace.
pub(crate) fn install(nl: &mut Netlink, ifindex: u32, lower: &str) -> Result<()> {
    let prog = tc::load(&program(), "mvl_loopback")
        .map_err(Error::io(format!("{lower}: loading the loopback filter")))?;
    Ok(nl.attach_bpf_filter(ifindex, TcHook::Egress, prog.as_fd(), "mvl_loopback")?)
}

/// Removes it.
pub(crate) fn remove(nl: &mut Netlink, ifindex: u32) {
    nl.detach_bpf_filter(ifindex, TcHook::Egress);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_test_jumps_to_ok() {
        let p = program();
        let at = p.iter().position(|i| i.code == JNE_K).unwrap();
        let ok = at + 1 + p[at].off as usize;
        assert_eq!((p[ok].code, p[ok].imm), (MOV64_K, TC_ACT_OK));
        assert_eq!(p[ok + 1].code, EXIT);
        assert_eq!(MARK.to_be_bytes(), *b"mvl\x01");
    }
}
