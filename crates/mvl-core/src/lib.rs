//! # mvl-core: the rules of a Linux macvlan port
//!
//! A **port** is one lower ("real") Ethernet device and the macvlan
//! devices stacked on it, each with its own MAC address and one of five
//! modes. This crate holds every rule of the Linux driver
//! (`drivers/net/macvlan.c`, Linux 6.18) that decides **who gets a frame**
//! and **which configuration is allowed**, and nothing else: no I/O, no
//! clock, no namespaces, no `unsafe`. The emulator (`mvl-sim`) and the
//! userspace datapath (`mvl-datapath`) both call it, so they cannot
//! disagree with each other.
//!
//! ```text
//!            wire ──► lower ──rx_from_lower──► Decision { copies to macvlans,
//!                       ▲                                to_lower_stack, drop }
//!   macvlan ──tx_from_child──► Decision { local copies, to_wire, via_lower_rx }
//! ```
//!
//! - [`Port`] owns the state: the lower as the port sees it ([`LowerInfo`]),
//!   the macvlans in creation order, the *up* macvlans by MAC (a down
//!   macvlan is invisible to every lookup, as in the kernel's hash), the
//!   source-mode allow-lists, the broadcast queue length and cutoff.
//! - Lifecycle methods ([`Port::create`], [`Port::open`], [`Port::change`],
//!   [`Port::set_mac`], ...) apply the kernel's checks in the kernel's order
//!   and return [`Error`]s carrying the errno the kernel gives
//!   ([`Error::errno`]) and a message naming the devices and the rule.
//! - [`Port::rx_from_lower`] and [`Port::tx_from_child`] fill a reusable
//!   [`Decision`]: each receiving macvlan with its [`PktType`], whether the
//!   lower's own stack gets the frame, whether it goes to the wire, and a
//!   [`Reason`] when it reaches no one. A decision made with
//!   [`Decision::explaining`] also says why each candidate was skipped.
//!   Unicast decisions allocate nothing once the decision is warm.
//! - [`Ports`] keys ports by the caller's lower handle: ports come and go
//!   with their macvlans, stacking resolves to the real lower, deleting a
//!   lower deletes its macvlans.
//!
//! Differences from the kernel, all unobservable through ping and ARP:
//! multicast filters are exact (the kernel's per-device filters are
//! 256-bit hashes salted with a pointer, so it occasionally over-delivers);
//! the broadcast queue delivers at once (its only modelled effect is
//! `bcqueuelen 0`, which drops queued floods); IPv4 fragments in multicast
//! frames are not reassembled before the fan-out.

#![forbid(unsafe_code)]

mod decision;
mod error;
mod forward;
mod mac;
mod mode;
mod port;
mod registry;
#[cfg(feature = "serde")]
mod serde_impls;
pub mod wire;

pub use decision::{Decision, Delivery, Reason, Via};
pub use error::{BadMac, Errno, Error};
pub use mac::{MacAddr, MacHasher, ParseMacError};
pub use mode::{Flags, MacaddrOp, Mode, ModeMask, ParseModeError, PktType};
pub use port::{
    check_mtu_range, ChildId, Deleted, LowerInfo, LowerKind, MacChange, MacvlanChange, MacvlanInfo,
    NewMacvlan, Port, DEFAULT_BC_CUTOFF, DEFAULT_BC_QUEUE_LEN, MAX_MTU, MIN_MTU,
};
pub use registry::{MacvlanRef, Parent, Ports};
