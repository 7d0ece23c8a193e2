//! The rtnetlink socket: one request at a time, acknowledged, with its
//! replies matched by sequence number.

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
    NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::error::{Cause, Error, KernelError, Result};
use crate::netns::NetNs;

/// How often a dump the kernel marked interrupted (`NLM_F_DUMP_INTR`) is
/// tried again before giving up.
const DUMP_TRIES: u32 = 10;

const NLMSG_HDRLEN: usize = 16;
/// `NLMSGERR_ATTR_MSG`: the extended ack's text.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A route-netlink socket bound in one network namespace.
///
/// Every request carries `NLM_F_ACK` and a fresh sequence number; replies
/// with another sequence number (left over from an abandoned request) are
/// skipped. Extended acks are on, so a refusal keeps the kernel's text.
pub struct Netlink {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
    ns: String,
    /// The namespace the socket is bound in.
    netns: NetNs,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netlink")
            .field("ns", &self.ns)
            .field("seq", &self.seq)
            .finish()
    }
}

/// The kernel's refusal before we explain it.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub errno: i32,
    pub extack: Option<String>,
}

/// A request's outcome before explanation: the kernel refused, or something
/// else failed.
#[derive(Debug)]
pub(crate) enum Fail {
    Refused(Refusal),
    Other(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Other(e)
    }
}

impl Fail {
    /// The error as it stands, with no cause found.
    pub fn unexplained(self, op: impl Into<String>) -> Error {
        match self {
            Fail::Refused(r) => Error::Kernel(Box::new(KernelError {
                op: op.into(),
                errno: r.errno,
                extack: r.extack,
                cause: Cause::Unexplained,
            })),
            Fail::Other(e) => e,
        }
    }
}

fn sock_err(op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Socket { op, source }
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink> {
        Self::open_labelled(NetNs::current()?)
    }

    /// A socket in `ns`, created on a throwaway thread inside it; the socket
    /// stays bound to `ns` whichever thread uses it.
    pub fn open_in(ns: &NetNs) -> Result<Netlink> {
        let netns = ns.clone();
        ns.run(move || Self::open_labelled(netns))?
    }

    fn open_labelled(netns: NetNs) -> Result<Netlink> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(sock_err("socket"))?;
        socket.bind_auto().map_err(sock_err("bind"))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(sock_err("connect"))?;
        socket.set_ext_ack(true).map_err(sock_err("NETLINK_EXT_ACK"))?;
        // Errors then echo only the request's header, not the whole request.
        socket.set_cap_ack(true).map_err(sock_err("NETLINK_CAP_ACK"))?;
        Ok(Netlink {
            socket,
            seq: 0,
            buf: vec![0; 32 * 1024],
            ns: netns.label().to_string(),
            netns,
        })
    }

    /// The namespace this socket is bound in.
    pub fn netns(&self) -> &NetNs {
        &self.netns
    }

    /// How messages name this socket's namespace.
    pub fn namespace(&self) -> &str {
        &self.ns
    }

    /// Sends one request (`NLM_F_REQUEST | NLM_F_ACK | flags`) and returns
    /// the messages the kernel answered with before its ack; a refusal is an
    /// [`Error::Kernel`] with the errno and the kernel's text.
    pub fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> Result<Vec<RouteNetlinkMessage>> {
        let op = format!("netlink request type {}", msg.message_type());
        self.exchange(&msg, flags).map_err(|f| f.unexplained(op))
    }

    /// Dumps (`NLM_F_DUMP`): every message up to `NLMSG_DONE`, the whole
    /// dump again if the kernel marked it interrupted.
    pub fn dump(&mut self, msg: RouteNetlinkMessage) -> Result<Vec<RouteNetlinkMessage>> {
        let op = format!("netlink dump type {}", msg.message_type());
        self.dump_raw(&msg, &op).map_err(|f| f.unexplained(op))
    }

    pub(crate) fn dump_raw(
        &mut self,
        msg: &RouteNetlinkMessage,
        op: &str,
    ) -> Result<Vec<RouteNetlinkMessage>, Fail> {
        for _ in 0..DUMP_TRIES {
            let seq = self.send(msg, NLM_F_DUMP)?;
            let (out, interrupted) = self.receive(seq, true)?;
            if !interrupted {
                return Ok(out);
            }
        }
        Err(Fail::Other(Error::DumpInterrupted {
            op: op.to_string(),
            tries: DUMP_TRIES,
        }))
    }

    /// One non-dump request: the replies before the ack.
    pub(crate) fn exchange(
        &mut self,
        msg: &RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, Fail> {
        // NLM_F_EXCL shares its bit with NLM_F_MATCH: the flags go as given.
        let seq = self.send(msg, flags)?;
        Ok(self.receive(seq, false)?.0)
    }

    fn send(&mut self, msg: &RouteNetlinkMessage, flags: u16) -> Result<u32, Error> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg.clone()));
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        loop {
            match self.socket.send(&out, 0) {
                Ok(_) => return Ok(self.seq),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(sock_err("send")(e)),
            }
        }
    }

    /// Reads one datagram into `self.buf`, growing it to the datagram's size
    /// first (a peek with `MSG_TRUNC` tells the size without copying).
    fn recv_datagram(&mut self) -> Result<usize, Error> {
        loop {
            let mut empty: &mut [u8] = &mut [];
            let size = match self.socket.recv(&mut empty, libc::MSG_PEEK | libc::MSG_TRUNC) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(sock_err("recv")(e)),
            };
            if size > self.buf.len() {
                self.buf.resize(size, 0);
            }
            let mut b: &mut [u8] = &mut self.buf[..];
            match self.socket.recv(&mut b, 0) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(sock_err("recv")(e)),
            }
        }
    }

    /// Collects the replies to `seq` until its ack (a request) or its
    /// `NLMSG_DONE` (a dump); says whether the dump was interrupted.
    fn receive(&mut self, seq: u32, dump: bool) -> Result<(Vec<RouteNetlinkMessage>, bool), Fail> {
        let mut out = Vec::new();
        let mut interrupted = false;
        loop {
            let n = self.recv_datagram()?;
            let mut off = 0;
            while off + NLMSG_HDRLEN <= n {
                let b = &self.buf[off..n];
                let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
                if len < NLMSG_HDRLEN || len > b.len() {
                    return Err(Error::Decode(format!(
                        "netlink message length {len} in a datagram of {n} bytes"
                    ))
                    .into());
                }
                let kind = u16::from_ne_bytes([b[4], b[5]]);
                let flags = u16::from_ne_bytes([b[6], b[7]]);
                let mseq = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
                let m = &b[..len];
                off += (len + 3) & !3;
                if mseq != seq {
                    continue;
                }
                if flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match kind {
                    NLMSG_NOOP => {}
                    NLMSG_OVERRUN => return Err(Error::Decode("netlink overrun".into()).into()),
                    NLMSG_DONE => {
                        // A dump's end: an int error, then extack attributes.
                        let code = read_i32(m, NLMSG_HDRLEN).unwrap_or(0);
                        if code < 0 {
                            let tlvs = if flags & NLM_F_ACK_TLVS != 0 && m.len() > NLMSG_HDRLEN + 4 {
                                &m[NLMSG_HDRLEN + 4..]
                            } else {
                                &[][..]
                            };
                            return Err(Fail::Refused(Refusal {
                                errno: -code,
                                extack: extack_msg(tlvs),
                            }));
                        }
                        return Ok((out, interrupted));
                    }
                    NLMSG_ERROR => {
                        let code = read_i32(m, NLMSG_HDRLEN)
                            .ok_or_else(|| Error::Decode("short NLMSG_ERROR".into()))?;
                        if code == 0 {
                            if dump {
                                // An ack to a dump request: the DONE still follows.
                                continue;
                            }
                            return Ok((out, interrupted));
                        }
                        return Err(Fail::Refused(Refusal {
                            errno: -code,
                            extack: error_extack(m, flags),
                        }));
                    }
                    _ => {
                        let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(m)
                            .map_err(|e| Error::Decode(format!("message type {kind}: {e}")))?;
                        if let NetlinkPayload::InnerMessage(inner) = msg.payload {
                            out.push(inner);
                        }
                    }
                }
            }
        }
    }
}

fn read_i32(b: &[u8], at: usize) -> Option<i32> {
    b.get(at..at + 4)
        .map(|x| i32::from_ne_bytes([x[0], x[1], x[2], x[3]]))
}

/// The extack text of an `NLMSG_ERROR`: after the error code comes the
/// request's header (only the header when `NLM_F_CAPPED`, else the whole
/// request), then the attributes when `NLM_F_ACK_TLVS`.
fn error_extack(m: &[u8], flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let orig = NLMSG_HDRLEN + 4;
    let orig_len = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        m.get(orig..orig + 4)
            .map(|x| u32::from_ne_bytes([x[0], x[1], x[2], x[3]]) as usize)?
    };
    let start = orig + ((orig_len + 3) & !3);
    extack_msg(m.get(start..)?)
}

/// `NLMSGERR_ATTR_MSG` among extack attributes.
fn extack_msg(mut tlvs: &[u8]) -> Option<String> {
    while tlvs.len() >= 4 {
        let len = u16::from_ne_bytes([tlvs[0], tlvs[1]]) as usize;
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & netlink_packet_core::NLA_TYPE_MASK;
        if len < 4 || len > tlvs.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let v = &tlvs[4..len];
            let v = v.split(|&c| c == 0).next().unwrap_or(v);
            let s = String::from_utf8_lossy(v).trim().to_string();
            return (!s.is_empty()).then_some(s);
        }
        let adv = (len + 3) & !3;
        tlvs = tlvs.get(adv..).unwrap_or(&[]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nla(kind: u16, v: &[u8]) -> Vec<u8> {
        let mut o = Vec::new();
        o.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
        o.extend_from_slice(&kind.to_ne_bytes());
        o.extend_from_slice(v);
        while o.len() % 4 != 0 {
            o.push(0);
        }
        o
    }

    #[test]
    fn extack_of_a_capped_error() {
        let mut m = vec![0u8; 16];
        m.extend_from_slice(&(-22i32).to_ne_bytes());
        let mut orig = vec![0u8; 16];
        orig[0..4].copy_from_slice(&40u32.to_ne_bytes());
        m.extend_from_slice(&orig);
        m.extend(nla(4, &[1, 2, 3, 4]));
        m.extend(nla(1, b"mtu greater than device maximum\0"));
        assert_eq!(
            error_extack(&m, NLM_F_ACK_TLVS | NLM_F_CAPPED).as_deref(),
            Some("mtu greater than device maximum")
        );
        assert_eq!(error_extack(&m, NLM_F_CAPPED), None);
    }

    #[test]
    fn extack_of_an_uncapped_error_skips_the_request() {
        let mut m = vec![0u8; 16];
        m.extend_from_slice(&(-22i32).to_ne_bytes());
        let mut orig = vec![0u8; 22];
        orig[0..4].copy_from_slice(&22u32.to_ne_bytes());
        m.extend_from_slice(&orig);
        m.extend_from_slice(&[0, 0]);
        m.extend(nla(1, b"hello\0"));
        assert_eq!(error_extack(&m, NLM_F_ACK_TLVS).as_deref(), Some("hello"));
    }

    #[test]
    fn malformed_attributes_give_no_text() {
        assert_eq!(extack_msg(&[200, 0, 1, 0, 0]), None);
        assert_eq!(extack_msg(&[]), None);
    }
}
