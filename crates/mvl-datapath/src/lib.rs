//! # mvl-datapath: userspace macvlan
//!
//! A child is a TAP device (any name, MAC and MTU, in any network
//! namespace); the lower is an AF_PACKET socket bound to the parent device
//! in its namespace. Every forwarding decision and every configuration rule
//! comes from `mvl-core`, so a child behaves, to the programs using it, like
//! a kernel macvlan — and can be watched (per-child counters and drop
//! reasons) and extended (anti-spoofing).
//!
//! ```text
//!              ┌──────────── Engine (control plane, mvl-core Port per lower) ───────────┐
//!   TAP c1 q0 ─┤                                                                         │
//!   TAP c2 q0 ─┼─ worker q0 ── AF_PACKET (fanout member 0) ─┐                            │
//!   TAP c1 q1 ─┼─ worker q1 ── AF_PACKET (fanout member 1) ─┼── lower device ── the wire │
//!              └────────────────────────────────────────────┘                            │
//! ```
//!
//! - [`Engine`] owns the state: one `mvl_core::Port` per lower, shared with
//!   that lower's forwarding threads behind a read-write lock. Requests
//!   ([`AddRequest`], [`SetRequest`]) go through the port first, then to the
//!   devices over netlink (`mvl-netlink`).
//! - Each lower has `queues` forwarding threads (`worker`), each with one
//!   AF_PACKET socket (a fanout member: the kernel spreads flows by hash) and
//!   queue *q* of every child's multi-queue TAP, driven by mio. Frames keep
//!   their virtio-net header end to end (`IFF_VNET_HDR`, `PACKET_VNET_HDR`),
//!   so GSO super-frames and checksum offload pass through unsegmented.
//!   Buffers are allocated once per thread; nothing is allocated per frame.
//! - Isolation as with the kernel's macvlan: the lower's socket ignores the
//!   lower's own outgoing frames (`PACKET_IGNORE_OUTGOING`); each up child's
//!   MAC is added to the lower's unicast filter (`PACKET_MR_UNICAST`), and
//!   only a passthru child makes it promiscuous. Two small eBPF programs on
//!   the lower's tc hooks (`tc`): one hides from the lower's stack what a
//!   kernel macvlan consumes (`isolation`), one turns unicast between
//!   bridge-mode children into a frame the lower receives, so its packet
//!   taps see it as with `dev_forward_skb(lowerdev)` (`loopback`).
//! - A [`Monitor`] watches the lowers over rtnetlink: carrier and admin
//!   state, MTU, MAC and name follow; a deleted lower takes its children;
//!   a lower moved to another namespace is followed there.
//! - The device is the truth: a child's admin state, MTU, MAC, name and
//!   namespace are what its TAP has, set by any tool; the engine follows
//!   them through the port's rules (link events in the children's
//!   namespaces, and a frame from a child the port holds down). What the
//!   kernel would refuse but a TAP cannot is a [`counters::Conflict`]: the
//!   child forwards nothing while it lasts.
//! - With a state directory, children are saved after every change and their
//!   persistent TAPs re-attached at the next start, addresses and routes
//!   intact.

pub mod api;
pub mod control;
pub mod counters;
mod engine;
mod error;
mod isolation;
mod loopback;
mod monitor;
pub mod packet;
mod state;
mod sys;
pub mod tap;
mod tc;
mod worker;

pub use api::{AddRequest, ChildStatus, DevSpec, SetRequest};
pub use counters::CounterSnapshot;
pub use engine::{Engine, Options};
pub use error::{Error, Result};
pub use monitor::Monitor;
pub use state::{SavedChild, Store};
