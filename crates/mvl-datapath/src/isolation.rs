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

use std::os::fd::AsFd;

use mvl_core::{Flags, MacAddr, Mode, Port};
use mvl_netlink::{Netlink, TcHook};

use crate::error::{Error, Result};
use crate::tc::{self, insn, Insn};
use crate::tc::{
    AND64_K, EXIT, JA, JEQ_K, JNE32_K, LD_ABS_B, LD_ABS_H, LD_ABS_W, MOV64_K, MOV64_X, TC_ACT_OK, TC_ACT_SHOT,
};

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

/// The filter of one lower.
#[derive(Debug, Default)]
pub(crate) struct Isolation {
    rules: Rules,
    installed: bool,
}

impl Isolation {
    /// Whether the filter implements `rules` already (nothing to do: most
    /// changes to a port leave the rules as they were).
    pub(crate) fn implements(&self, rules: &Rules) -> bool {
        *rules == self.rules && self.installed != rules.is_empty()
    }

    /// Makes the lower's filter implement `rules` (installing, replacing or
    /// removing it). `nl` is a socket in the lower's namespace.
    pub(crate) fn apply(&mut self, nl: &mut Netlink, ifindex: u32, lower: &str, rules: Rules) -> Result<()> {
        if self.implements(&rules) {
            return Ok(());
        }
        if rules.is_empty() {
            if self.installed {
                nl.detach_bpf_filter(ifindex, TcHook::Ingress);
                self.installed = false;
            }
            self.rules = rules;
            return Ok(());
        }
        let prog = tc::load(&program(&rules), "mvl_isolation")
            .map_err(Error::io(format!("{lower}: loading the isolation filter")))?;
        nl.attach_bpf_filter(ifindex, TcHook::Ingress, prog.as_fd(), "mvl_isolation")?;
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
