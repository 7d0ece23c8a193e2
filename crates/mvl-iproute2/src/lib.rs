//! # mvl-iproute2: iproute2's grammar as typed requests
//!
//! The commands people type to set up macvlans — `ip link|addr|neigh|netns`,
//! `bridge link|fdb`, `ping`, `tcpdump`, `sleep` — read with iproute2's own
//! grammar and turned into typed requests ([`cmd`]) that every edge of the
//! project carries out: the emulator (`mvl-sim`), the lab runner
//! (`mvl-lab`) on every backend, and `mvl link`. This crate depends on
//! `mvl-core` alone: the macvlan options are the core's
//! [`MacvlanChange`](mvl_core::MacvlanChange), from the words to the port.

#![forbid(unsafe_code)]

pub mod cmd;
mod ifname;

pub use cmd::{Command, Filter};
pub use ifname::invalid_ifname;
