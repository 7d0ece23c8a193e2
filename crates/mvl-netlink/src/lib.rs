//! # mvl-netlink: kernel macvlan over rtnetlink
//!
//! A small, synchronous rtnetlink layer for the Linux macvlan driver, and the
//! network-namespace handling around it. No `ip` is ever run: every request
//! is one netlink message built with `netlink-packet-route`.
//!
//! ```text
//!   NetNs ──open_in──► Netlink ──create_macvlan / set_link / delete_link──► kernel
//!   (fd of a netns)    (socket bound      ◄──── Link { .., macvlan: MacvlanAttrs } ──
//!                       in that netns)    ◄──── Error::Kernel { errno, extack, cause }
//! ```
//!
//! - [`NetNs`] is an open network namespace (from `/run/netns/NAME`,
//!   `/proc/PID/ns/net`, a CNI netns path, the current one, or a new private
//!   one). [`NetNs::run`] runs a closure on a throwaway thread inside it: the
//!   caller's thread never changes namespace.
//! - [`Netlink`] is a route-netlink socket bound in one namespace
//!   ([`Netlink::open`], [`Netlink::open_in`]). Each request carries
//!   `NLM_F_ACK` and a fresh sequence number and waits for its ack; dumps run
//!   to `NLMSG_DONE` and start over if the kernel marks them interrupted.
//!   Extended acks are on, so the kernel's own error text is kept.
//! - Macvlans: [`Netlink::create_macvlan`] sends every `IFLA_MACVLAN_*`
//!   option of a [`NewMacvlanLink`] (mode, flags, source list, bcqueuelen,
//!   bclim) with its address, MTU and target namespace in one
//!   `RTM_NEWLINK`; [`Netlink::set_link`] does the same for a
//!   [`LinkChange`]; [`Netlink::link`] / [`Netlink::links`] decode a device
//!   into a [`Link`] with its [`MacvlanAttrs`].
//! - Around them, the link, address and route operations a CNI plugin
//!   needs: up/down, move, rename, delete, veth pairs, and addresses,
//!   routes and IPv6 neighbour proxies of both families, over
//!   [`IpNet`](ipnet::IpNet) (re-exported as [`IpNet`]).
//! - Errors: a refusal is an [`Error::Kernel`] holding the errno, the
//!   kernel's extack text and a [`Cause`]. After a refusal the lower's port
//!   is rebuilt from dumps as an `mvl_core::Port` and the request replayed
//!   on it, so the cause is the core's own rule — which device holds a MAC
//!   (EADDRINUSE), which macvlans stop a passthru (EINVAL), which bridge or
//!   bond owns a lower (EBUSY), why a MAC is refused, both MTUs — in the
//!   emulator's words; a missing device or a taken name is found by lookup.
//!
//! ```no_run
//! use mvl_core::Mode;
//! use mvl_netlink::{NetNs, Netlink, NewMacvlanLink};
//!
//! let ns = NetNs::from_name("ns1")?;
//! let mut nl = Netlink::open_in(&ns)?;
//! nl.create_macvlan(&NewMacvlanLink::new("mv0", "eth0").mode(Mode::Bridge).bc_cutoff(-1))?;
//! nl.set_up("mv0", true)?;
//! let mv = nl.macvlan("mv0")?;
//! println!("{} {:?}", mv.name, mv.macvlan.unwrap().mode);
//! # Ok::<(), mvl_netlink::Error>(())
//! ```

mod error;
mod events;
mod explain;
mod ip;
mod link;
mod macvlan;
mod netns;
mod port;
mod socket;
mod tc;

pub use error::{Cause, Error, KernelError, Result};
pub use events::{LinkEvent, LinkEvents};
pub use ip::{
    Address, Route, RTN_UNICAST, RTPROT_BOOT, RTPROT_KERNEL, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE,
    RT_TABLE_MAIN,
};
/// A network of either family: an address with its prefix length.
pub use ipnet::IpNet;
pub use link::{
    Link, LinkChange, LinkRef, OperState, ARPHRD_ETHER, ARPHRD_LOOPBACK, IFF_ALLMULTI, IFF_LOOPBACK,
    IFF_LOWER_UP, IFF_PROMISC, IFF_RUNNING, IFF_UP,
};
pub use macvlan::{MacvlanAttrs, NewMacvlanLink, DEFAULT_BC_CUTOFF};
/// A device's counters, as `IFLA_STATS64` carries them ([`Link::stats`]).
pub use netlink_packet_route::link::Stats64;
pub use netns::NetNs;
pub use socket::Netlink;
pub use tc::TcHook;

/// The message types of `netlink-packet-route`, for [`Netlink::request`] and
/// [`Netlink::dump`].
pub use netlink_packet_route as packet;
