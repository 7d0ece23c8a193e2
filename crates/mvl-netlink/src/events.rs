//! Link events: a non-blocking rtnetlink socket in one namespace,
//! subscribed to `RTNLGRP_LINK`, read into what each message says about
//! one interface.

use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::link::LinkAttribute;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::error::{Error, Result};
use crate::netns::NetNs;

const RTNLGRP_LINK: u32 = 1;

/// What one link message says about an interface of the namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEvent {
    /// It was created or changed (`RTM_NEWLINK`).
    Changed(u32),
    /// It was deleted (`RTM_DELLINK`).
    Deleted(u32),
    /// It left for another namespace (`RTM_DELLINK` with
    /// `IFLA_NEW_NETNSID`), with its index there when the kernel says.
    Moved {
        /// Its index here.
        index: u32,
        /// Its index in the new namespace.
        new_index: Option<u32>,
    },
}

impl LinkEvent {
    /// The interface it concerns (its index in the namespace listened in).
    pub fn index(self) -> u32 {
        match self {
            LinkEvent::Changed(i) | LinkEvent::Deleted(i) => i,
            LinkEvent::Moved { index, .. } => index,
        }
    }
}

/// A subscription to the link events of one namespace.
pub struct LinkEvents {
    sock: Socket,
    buf: Vec<u8>,
}

impl LinkEvents {
    /// Subscribes in `ns` (the socket is made by a thread inside it and
    /// stays bound there).
    pub fn open_in(ns: &NetNs) -> Result<LinkEvents> {
        let sock = ns
            .run(|| {
                let mut s = Socket::new(NETLINK_ROUTE)?;
                s.bind(&SocketAddr::new(0, 0))?;
                s.add_membership(RTNLGRP_LINK)?;
                s.set_non_blocking(true)?;
                Ok::<Socket, std::io::Error>(s)
            })?
            .map_err(|source| Error::Socket {
                op: "subscribe to link events",
                source,
            })?;
        Ok(LinkEvents {
            sock,
            buf: vec![0; 1 << 16],
        })
    }

    /// Appends to `out` every event received so far, without waiting (poll
    /// the descriptor to wait).
    pub fn drain(&mut self, out: &mut Vec<LinkEvent>) {
        while let Ok(n) = self.sock.recv(&mut &mut self.buf[..], 0) {
            parse(&self.buf[..n], out);
        }
    }
}

impl AsFd for LinkEvents {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// The events of one datagram of netlink messages.
fn parse(buf: &[u8], out: &mut Vec<LinkEvent>) {
    let mut off = 0;
    while off < buf.len() {
        let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[off..]) else {
            break;
        };
        let len = m.header.length as usize;
        if len == 0 {
            break;
        }
        match m.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                out.push(LinkEvent::Changed(l.header.index))
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                let moved = l
                    .attributes
                    .iter()
                    .any(|a| matches!(a, LinkAttribute::NewNetnsId(_)));
                let new_index = l.attributes.iter().find_map(|a| match a {
                    LinkAttribute::NewIfIndex(i) => Some(*i as u32),
                    _ => None,
                });
                out.push(if moved {
                    LinkEvent::Moved {
                        index: l.header.index,
                        new_index,
                    }
                } else {
                    LinkEvent::Deleted(l.header.index)
                });
            }
            _ => {}
        }
        off += (len + 3) & !3;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::link::LinkMessage;

    fn bytes(m: RouteNetlinkMessage) -> Vec<u8> {
        let mut nl = NetlinkMessage::from(m);
        nl.finalize();
        let mut b = vec![0; nl.buffer_len()];
        nl.serialize(&mut b);
        b
    }

    #[test]
    fn messages_become_events() {
        let mut new = LinkMessage::default();
        new.header.index = 4;
        let mut del = LinkMessage::default();
        del.header.index = 5;
        let mut moved = LinkMessage::default();
        moved.header.index = 6;
        moved.attributes.push(LinkAttribute::NewNetnsId(1));
        moved.attributes.push(LinkAttribute::NewIfIndex(9));
        let mut buf = bytes(RouteNetlinkMessage::NewLink(new));
        buf.extend(bytes(RouteNetlinkMessage::DelLink(del)));
        buf.extend(bytes(RouteNetlinkMessage::DelLink(moved)));
        let mut out = Vec::new();
        parse(&buf, &mut out);
        assert_eq!(
            out,
            [
                LinkEvent::Changed(4),
                LinkEvent::Deleted(5),
                LinkEvent::Moved {
                    index: 6,
                    new_index: Some(9)
                }
            ]
        );
        assert_eq!(out[2].index(), 6);
    }
}
