//! # mvl-iproute2: iproute2's grammar as typed requests
//!
//! The commands people type to set up macvlans — `ip link|addr|neigh|route|netns`,
//! `bridge link|fdb`, `ping`, `tcpdump`, `sysctl`, `sleep` — read with iproute2's own
//! grammar and turned into typed requests ([`cmd`]) that every edge of the
//! project carries out: the emulator (`mvl-sim`), the lab runner
//! (`mvl-lab`) on every backend, and `mvl link`. This crate depends on
//! `mvl-core` alone: the macvlan options are the core's
//! [`MacvlanChange`](mvl_core::MacvlanChange), from the words to the port.
//!
//! [`parse_command`] reads one command given as words, with iproute2's
//! grammar: free word order, keywords abbreviated as iproute2's `matches()`
//! allows (any prefix, the first match in iproute2's own order wins), a
//! bare word as the device. What the tool itself refuses (a bad value, a
//! missing argument) is an [`Error`] marked `refused`, with the tool's own
//! words; what this crate does not read is an [`Error`] naming the word.
//! There is one module per tool or iproute2 source file.
//!
//! [`show`] holds the other direction, the words iproute2 prints (link
//! flags, a macvlan's details), for every edge that shows a device.

#![forbid(unsafe_code)]

mod bridge;
pub mod cmd;
mod command;
mod cursor;
mod error;
mod ifname;
mod ip;
mod ip_addr;
mod ip_link;
mod ip_link_macvlan;
mod ip_neigh;
mod ip_netns;
mod ip_route;
mod ping;
pub mod show;
mod sysctl;
mod tcpdump;

pub use cmd::{Command, Filter};
pub use error::Error;
pub use ifname::invalid_ifname;

/// iproute2's `matches(word, keyword)`: `word` is a non-empty prefix of `keyword`.
pub fn matches(word: &str, keyword: &str) -> bool {
    !word.is_empty() && keyword.starts_with(word)
}

/// Parses one command given as words (`["ip", "link", "add", ...]`);
/// returns the namespace it runs in (from `ip -n NS` or `ip netns exec
/// NS`) and the command.
pub fn parse_command(words: &[String]) -> Result<(Option<String>, Command), Error> {
    let mut c = cursor::Cursor { words, pos: 0 };
    c.command(None)
}
