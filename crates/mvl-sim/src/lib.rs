//! # mvl-sim: the parts of a Linux host that macvlan labs use, emulated
//!
//! A [`Sim`] is one Linux host in virtual time: a root network namespace
//! and named ones, each with a loopback device; veth pairs (the "cables");
//! Linux bridges (the "switch": FDB learning and ageing, flooding, per-port
//! hairpin); and macvlan devices, whose every forwarding and configuration
//! decision is made by `mvl-core` (this crate holds no macvlan rule). Each
//! namespace runs a small IPv4 host with Linux's visible behaviour:
//! a routing table (connected routes and `ip route`'s), ARP with neighbour
//! states and retries, weak-host ARP replies, ICMP echo without replies to
//! broadcast pings, forwarding with the ICMP errors of a router when
//! `net.ipv4.ip_forward` is on, packet sizes (the path MTU, learned from
//! "fragmentation needed"; fragments out and reassembly in), and `ping`
//! with iputils' options, output and retries.
//!
//! Frames are byte buffers. Transmitting on a device runs its driver's
//! rule (veth hands the frame to its peer after a short wire delay, or
//! refuses one too big for the peer there and then; a bridge looks up its
//! FDB; a macvlan asks its port); receiving runs the
//! device's receive handler (bridge port, macvlan port) or the namespace's
//! host. Every step can be traced ([`PingOutcome::trace`]) and every drop
//! has a reason a person can read. Nothing reads a real clock: the event
//! queue advances virtual time, and random MAC addresses come from a seed,
//! so a lab gives the same result, the same output and the same captures
//! every time.
//!
//! Configuration goes through typed requests ([`mvl_iproute2::cmd`]) with the kernel's
//! checks, errnos and side effects: moving a device to another namespace
//! takes it down and drops its addresses; deleting a lower deletes its
//! macvlans; deleting a namespace deletes its devices and their veth peers.
//! `show` methods print what iproute2 prints.

#![forbid(unsafe_code)]

pub mod capture;
mod config;
mod device;
mod engine;
mod error;
mod forward;
mod frag;
mod host;
mod neigh;
pub mod packet;
mod ping;
mod route;
mod show;
mod sim;
pub mod time;
mod trace;
mod view;

pub use capture::{tcpdump_lines, write_pcap, CaptureId, Captured};
pub use device::{DevId, NsId, Stats};
pub use error::SimError;
pub use ping::PingOutcome;
pub use sim::Sim;
pub use trace::{Hop, Trace};
pub use view::{DeviceView, ViewKind};
