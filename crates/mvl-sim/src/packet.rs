//! The few protocols the emulated hosts speak — ARP, IPv4, ICMP echo —
//! in the `mvl_core::wire` style: a checked view over a byte buffer
//! (`ArpPacket`, `Ipv4Packet`, `IcmpPacket`: the length and the fixed fields
//! are checked once, then no accessor can panic), a typed representation of
//! what the hosts use (`Arp`, `Ipv4`, `Echo`) read from a view and written
//! back to bytes, and tcpdump-style one-line summaries.

use std::net::Ipv4Addr;
use std::ops::Range;

use mvl_core::wire::{self, EthFrame, ETH_HLEN, ETH_P_ARP, ETH_P_IP};
use mvl_core::MacAddr;
use mvl_iproute2::Filter;

/// An ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpOp {
    /// `ARPOP_REQUEST` (1).
    Request,
    /// `ARPOP_REPLY` (2).
    Reply,
    /// Any other (RARP and the like): hosts ignore it.
    Other(u16),
}

impl From<u16> for ArpOp {
    fn from(v: u16) -> ArpOp {
        match v {
            1 => ArpOp::Request,
            2 => ArpOp::Reply,
            v => ArpOp::Other(v),
        }
    }
}

impl From<ArpOp> for u16 {
    fn from(op: ArpOp) -> u16 {
        match op {
            ArpOp::Request => 1,
            ArpOp::Reply => 2,
            ArpOp::Other(v) => v,
        }
    }
}

/// Where the fields of an Ethernet/IPv4 ARP message are.
mod arp_field {
    use std::ops::Range;
    /// Hardware type, protocol type, their address lengths: what makes the
    /// message Ethernet/IPv4.
    pub const FIXED: Range<usize> = 0..6;
    pub const OPER: Range<usize> = 6..8;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
    /// The fixed fields' values: Ethernet (1), IPv4 (0x0800), 6, 4.
    pub const ETHER_IPV4: [u8; 6] = [0, 1, 8, 0, 6, 4];
}

/// The length of an Ethernet/IPv4 ARP message.
pub const ARP_LEN: usize = arp_field::TPA.end;

fn mac_at(b: &[u8], r: Range<usize>) -> MacAddr {
    let mut m = [0u8; 6];
    m.copy_from_slice(&b[r]);
    MacAddr(m)
}

fn ipv4_at(b: &[u8], r: Range<usize>) -> Ipv4Addr {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[r]);
    Ipv4Addr::from(a)
}

fn u16_at(b: &[u8], r: Range<usize>) -> u16 {
    u16::from_be_bytes([b[r.start], b[r.start + 1]])
}

/// A checked view of an Ethernet/IPv4 ARP message (an ARP frame's payload).
#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buf` if it holds a whole Ethernet/IPv4 ARP message.
    pub fn new_checked(buf: T) -> Option<Self> {
        let b = buf.as_ref();
        (b.len() >= ARP_LEN && b[arp_field::FIXED] == arp_field::ETHER_IPV4).then_some(ArpPacket { buf })
    }

    /// Operation.
    pub fn op(&self) -> ArpOp {
        u16_at(self.buf.as_ref(), arp_field::OPER).into()
    }

    /// Sender hardware address.
    pub fn sha(&self) -> MacAddr {
        mac_at(self.buf.as_ref(), arp_field::SHA)
    }

    /// Sender protocol address.
    pub fn spa(&self) -> Ipv4Addr {
        ipv4_at(self.buf.as_ref(), arp_field::SPA)
    }

    /// Target hardware address.
    pub fn tha(&self) -> MacAddr {
        mac_at(self.buf.as_ref(), arp_field::THA)
    }

    /// Target protocol address.
    pub fn tpa(&self) -> Ipv4Addr {
        ipv4_at(self.buf.as_ref(), arp_field::TPA)
    }
}

/// An Ethernet/IPv4 ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    /// Request or reply.
    pub op: ArpOp,
    /// Sender hardware address.
    pub sha: MacAddr,
    /// Sender protocol address.
    pub spa: Ipv4Addr,
    /// Target hardware address.
    pub tha: MacAddr,
    /// Target protocol address.
    pub tpa: Ipv4Addr,
}

impl Arp {
    /// Parses the payload of an ARP frame (Ethernet, IPv4 only).
    pub fn parse(p: &[u8]) -> Option<Arp> {
        let v = ArpPacket::new_checked(p)?;
        Some(Arp {
            op: v.op(),
            sha: v.sha(),
            spa: v.spa(),
            tha: v.tha(),
            tpa: v.tpa(),
        })
    }

    /// A whole Ethernet frame carrying this message: 42 bytes, unpadded,
    /// as Linux hands it to a veth (padding to 60 is a NIC driver's job).
    pub fn frame(&self, dst: MacAddr, src: MacAddr) -> Vec<u8> {
        let mut f = vec![0u8; ETH_HLEN + ARP_LEN];
        wire::write_header(&mut f, dst, src, ETH_P_ARP);
        let p = &mut f[ETH_HLEN..];
        p[arp_field::FIXED].copy_from_slice(&arp_field::ETHER_IPV4);
        p[arp_field::OPER].copy_from_slice(&u16::from(self.op).to_be_bytes());
        p[arp_field::SHA].copy_from_slice(&self.sha.0);
        p[arp_field::SPA].copy_from_slice(&self.spa.octets());
        p[arp_field::THA].copy_from_slice(&self.tha.0);
        p[arp_field::TPA].copy_from_slice(&self.tpa.octets());
        f
    }
}

/// The protocol an IPv4 packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpProtocol {
    /// ICMP (1).
    Icmp,
    /// Any other: hosts answer nothing.
    Other(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> IpProtocol {
        match v {
            1 => IpProtocol::Icmp,
            v => IpProtocol::Other(v),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::Icmp => 1,
            IpProtocol::Other(v) => v,
        }
    }
}

/// Where the fields of an IPv4 header are.
mod ipv4_field {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    /// Flags (DF 0x4000, MF 0x2000) and the fragment offset in 8-byte units.
    pub const FRAG: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
}

/// The length of an IPv4 header without options.
pub const IPV4_HLEN: usize = ipv4_field::DST.end;

const IP_DF: u16 = 0x4000;
const IP_MF: u16 = 0x2000;
const IP_OFFSET: u16 = 0x1fff;

/// The Internet checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A checked view of an IPv4 packet (an IPv4 frame's payload): version 4,
/// a header length and total length that fit the buffer, a good checksum.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buf: T,
    header_len: usize,
    total_len: usize,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buf` if it holds a well-formed IPv4 packet.
    pub fn new_checked(buf: T) -> Option<Self> {
        let p = buf.as_ref();
        if p.len() < IPV4_HLEN || p[ipv4_field::VER_IHL] >> 4 != 4 {
            return None;
        }
        let header_len = usize::from(p[ipv4_field::VER_IHL] & 0xf) * 4;
        let total_len = usize::from(u16_at(p, ipv4_field::LENGTH));
        if header_len < IPV4_HLEN
            || total_len < header_len
            || total_len > p.len()
            || checksum(&p[..header_len]) != 0
        {
            return None;
        }
        Some(Ipv4Packet {
            buf,
            header_len,
            total_len,
        })
    }

    /// Source.
    pub fn src(&self) -> Ipv4Addr {
        ipv4_at(self.buf.as_ref(), ipv4_field::SRC)
    }

    /// Destination.
    pub fn dst(&self) -> Ipv4Addr {
        ipv4_at(self.buf.as_ref(), ipv4_field::DST)
    }

    /// Protocol.
    pub fn protocol(&self) -> IpProtocol {
        self.buf.as_ref()[ipv4_field::PROTOCOL].into()
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buf.as_ref()[ipv4_field::TTL]
    }

    /// The bytes after the header, up to the total length (a frame's padding
    /// is not part of it).
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[self.header_len..self.total_len]
    }
}

/// The fields of an IPv4 packet the hosts use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4<'a> {
    /// Source.
    pub src: Ipv4Addr,
    /// Destination.
    pub dst: Ipv4Addr,
    /// Protocol.
    pub proto: IpProtocol,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub df: bool,
    /// More Fragments.
    pub mf: bool,
    /// The fragment's offset in the original payload, in bytes.
    pub frag_offset: usize,
    /// The bytes after the header.
    pub payload: &'a [u8],
    /// The whole packet, header to total length (without a frame's padding).
    pub packet: &'a [u8],
}

impl<'a> Ipv4<'a> {
    /// Parses an IPv4 packet (the Ethernet payload); `None` if malformed.
    pub fn parse(p: &'a [u8]) -> Option<Ipv4<'a>> {
        let v = Ipv4Packet::new_checked(p)?;
        Some(Ipv4::read(p, v.header_len, v.total_len))
    }

    /// Parses the start of a packet an ICMP error quotes: a whole header
    /// with a good checksum, then whatever of its payload the quote kept
    /// (its total length may exceed the quote).
    pub fn parse_quoted(q: &'a [u8]) -> Option<Ipv4<'a>> {
        let header_len = usize::from(*q.first()? & 0xf) * 4;
        if q[0] >> 4 != 4 || header_len < IPV4_HLEN || q.len() < header_len || checksum(&q[..header_len]) != 0
        {
            return None;
        }
        let total = usize::from(u16_at(q, ipv4_field::LENGTH)).clamp(header_len, q.len());
        Some(Ipv4::read(q, header_len, total))
    }

    /// The fields of a header already checked, over `p[..total]`.
    fn read(p: &'a [u8], header_len: usize, total: usize) -> Ipv4<'a> {
        let frag = u16_at(p, ipv4_field::FRAG);
        Ipv4 {
            src: ipv4_at(p, ipv4_field::SRC),
            dst: ipv4_at(p, ipv4_field::DST),
            proto: p[ipv4_field::PROTOCOL].into(),
            ttl: p[ipv4_field::TTL],
            ident: u16_at(p, ipv4_field::IDENT),
            df: frag & IP_DF != 0,
            mf: frag & IP_MF != 0,
            frag_offset: usize::from(frag & IP_OFFSET) * 8,
            payload: &p[header_len..total],
            packet: &p[..total],
        }
    }

    /// Whether this is a piece of a larger packet.
    pub fn is_fragment(&self) -> bool {
        self.mf || self.frag_offset != 0
    }
}

/// Builds an IPv4 packet (no Ethernet header) around `payload`, with Don't
/// Fragment set when `df`.
pub fn ipv4_packet(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: IpProtocol,
    id: u16,
    df: bool,
    payload: &[u8],
) -> Vec<u8> {
    let total = IPV4_HLEN + payload.len();
    let mut p = vec![0u8; total];
    p[ipv4_field::VER_IHL] = 0x45;
    p[ipv4_field::LENGTH].copy_from_slice(&(total as u16).to_be_bytes());
    p[ipv4_field::IDENT].copy_from_slice(&id.to_be_bytes());
    p[ipv4_field::FRAG].copy_from_slice(&(if df { IP_DF } else { 0 }).to_be_bytes());
    p[ipv4_field::TTL] = 64;
    p[ipv4_field::PROTOCOL] = proto.into();
    p[ipv4_field::SRC].copy_from_slice(&src.octets());
    p[ipv4_field::DST].copy_from_slice(&dst.octets());
    let c = checksum(&p[..IPV4_HLEN]);
    p[ipv4_field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    p[IPV4_HLEN..].copy_from_slice(payload);
    p
}

/// Which echo message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoKind {
    /// Type 8.
    Request,
    /// Type 0.
    Reply,
}

impl EchoKind {
    fn icmp_type(self) -> u8 {
        match self {
            EchoKind::Request => 8,
            EchoKind::Reply => 0,
        }
    }

    /// As tcpdump names it.
    pub fn name(self) -> &'static str {
        match self {
            EchoKind::Request => "request",
            EchoKind::Reply => "reply",
        }
    }
}

/// Where the fields of an ICMP echo message are.
mod icmp_field {
    use std::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const ECHO_ID: Range<usize> = 4..6;
    pub const ECHO_SEQ: Range<usize> = 6..8;
    pub const DATA: usize = 8;
}

/// A checked view of an ICMP echo request or reply (an ICMP packet's
/// bytes): long enough, a good checksum, an echo type with code 0.
#[derive(Debug, Clone, Copy)]
pub struct IcmpPacket<T: AsRef<[u8]>> {
    buf: T,
    kind: EchoKind,
}

impl<T: AsRef<[u8]>> IcmpPacket<T> {
    /// Wraps `buf` if it holds an echo request or reply.
    pub fn new_checked(buf: T) -> Option<Self> {
        if checksum(buf.as_ref()) != 0 {
            return None;
        }
        Self::new_unverified(buf)
    }

    /// As [`IcmpPacket::new_checked`] without the checksum: for the start
    /// of a message (a first fragment, a quote in an ICMP error), and for
    /// tcpdump, which does not verify it.
    pub fn new_unverified(buf: T) -> Option<Self> {
        let p = buf.as_ref();
        if p.len() < icmp_field::DATA || p[icmp_field::CODE] != 0 {
            return None;
        }
        let kind = [EchoKind::Request, EchoKind::Reply]
            .into_iter()
            .find(|k| k.icmp_type() == p[icmp_field::TYPE])?;
        Some(IcmpPacket { buf, kind })
    }

    /// Request or reply.
    pub fn kind(&self) -> EchoKind {
        self.kind
    }

    /// Identifier.
    pub fn id(&self) -> u16 {
        u16_at(self.buf.as_ref(), icmp_field::ECHO_ID)
    }

    /// Sequence number.
    pub fn seq(&self) -> u16 {
        u16_at(self.buf.as_ref(), icmp_field::ECHO_SEQ)
    }

    /// Data.
    pub fn data(&self) -> &[u8] {
        &self.buf.as_ref()[icmp_field::DATA..]
    }
}

/// An ICMP echo request or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// Request or reply.
    pub kind: EchoKind,
    /// Identifier.
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
    /// Data.
    pub data: Vec<u8>,
}

impl Echo {
    /// Parses an ICMP message that is an echo request or reply.
    pub fn parse(p: &[u8]) -> Option<Echo> {
        let v = IcmpPacket::new_checked(p)?;
        Some(Echo {
            kind: v.kind(),
            id: v.id(),
            seq: v.seq(),
            data: v.data().to_vec(),
        })
    }

    /// The ICMP message bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut p = vec![0u8; icmp_field::DATA + self.data.len()];
        p[icmp_field::TYPE] = self.kind.icmp_type();
        p[icmp_field::ECHO_ID].copy_from_slice(&self.id.to_be_bytes());
        p[icmp_field::ECHO_SEQ].copy_from_slice(&self.seq.to_be_bytes());
        p[icmp_field::DATA..].copy_from_slice(&self.data);
        let c = checksum(&p);
        p[icmp_field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
        p
    }
}

/// Which ICMP error a router or host sends back about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpErrorKind {
    /// Type 3 code 0: no route to the destination's network.
    NetUnreachable,
    /// Type 3 code 1: the destination's address did not resolve.
    HostUnreachable,
    /// Type 3 code 4: the packet is larger than the next hop's MTU and
    /// says Don't Fragment; the next hop's MTU is carried along.
    FragNeeded {
        /// The next hop's MTU.
        mtu: u16,
    },
    /// Type 11 code 0: the time to live ran out in transit.
    TimeExceeded,
    /// Type 11 code 1: a packet's fragments did not all arrive in time.
    ReassemblyTimeExceeded,
}

impl IcmpErrorKind {
    /// The kind of an ICMP header's type, code and its second word (which
    /// holds the next hop's MTU in a fragmentation-needed message).
    fn read(t: u8, code: u8, word: u32) -> Option<IcmpErrorKind> {
        Some(match (t, code) {
            (3, 0) => IcmpErrorKind::NetUnreachable,
            (3, 1) => IcmpErrorKind::HostUnreachable,
            (3, 4) => IcmpErrorKind::FragNeeded { mtu: word as u16 },
            (11, 0) => IcmpErrorKind::TimeExceeded,
            (11, 1) => IcmpErrorKind::ReassemblyTimeExceeded,
            _ => return None,
        })
    }

    /// Type, code and second word.
    fn write(self) -> (u8, u8, u32) {
        match self {
            IcmpErrorKind::NetUnreachable => (3, 0, 0),
            IcmpErrorKind::HostUnreachable => (3, 1, 0),
            IcmpErrorKind::FragNeeded { mtu } => (3, 4, u32::from(mtu)),
            IcmpErrorKind::TimeExceeded => (11, 0, 0),
            IcmpErrorKind::ReassemblyTimeExceeded => (11, 1, 0),
        }
    }

    /// What ping prints after `From ADDR icmp_seq=N `.
    pub fn ping_text(self) -> String {
        match self {
            IcmpErrorKind::NetUnreachable => "Destination Net Unreachable".into(),
            IcmpErrorKind::HostUnreachable => "Destination Host Unreachable".into(),
            IcmpErrorKind::FragNeeded { mtu } => format!("Frag needed and DF set (mtu = {mtu})"),
            IcmpErrorKind::TimeExceeded => "Time to live exceeded".into(),
            IcmpErrorKind::ReassemblyTimeExceeded => "Frag reassembly time exceeded".into(),
        }
    }
}

/// Bytes of the offending packet an ICMP error carries at most: Linux
/// fills the message up to 576 bytes of IP (`icmp_send`).
const ICMP_ERROR_QUOTE: usize = 576 - IPV4_HLEN - icmp_field::DATA;

/// An ICMP error message: its kind and the start of the packet it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpError<'a> {
    /// Which error.
    pub kind: IcmpErrorKind,
    /// The offending packet, as much of it as the message quotes.
    pub quote: &'a [u8],
}

impl<'a> IcmpError<'a> {
    /// Parses an ICMP message that is one of the errors the hosts send.
    pub fn parse(p: &'a [u8]) -> Option<IcmpError<'a>> {
        if p.len() < icmp_field::DATA {
            return None;
        }
        let word = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
        let kind = IcmpErrorKind::read(p[icmp_field::TYPE], p[icmp_field::CODE], word)?;
        if checksum(p) != 0 {
            return None;
        }
        Some(IcmpError {
            kind,
            quote: &p[icmp_field::DATA..],
        })
    }

    /// The ICMP message about `offending` (an IPv4 packet).
    pub fn bytes(kind: IcmpErrorKind, offending: &[u8]) -> Vec<u8> {
        let quote = &offending[..offending.len().min(ICMP_ERROR_QUOTE)];
        let mut p = vec![0u8; icmp_field::DATA + quote.len()];
        let (t, c, word) = kind.write();
        p[icmp_field::TYPE] = t;
        p[icmp_field::CODE] = c;
        p[4..icmp_field::DATA].copy_from_slice(&word.to_be_bytes());
        p[icmp_field::DATA..].copy_from_slice(quote);
        let sum = checksum(&p);
        p[icmp_field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
        p
    }

    /// The quoted packet's destination, when the quote holds its header.
    pub fn quoted_dst(&self) -> Option<Ipv4Addr> {
        (self.quote.len() >= IPV4_HLEN).then(|| ipv4_at(self.quote, ipv4_field::DST))
    }

    /// tcpdump's words for it (`ICMP net 10.0.3.2 unreachable, length 92`).
    pub fn summary(&self, length: usize) -> String {
        let dst = self
            .quoted_dst()
            .map_or_else(|| "?".to_string(), |d| d.to_string());
        match self.kind {
            IcmpErrorKind::NetUnreachable => format!("ICMP net {dst} unreachable, length {length}"),
            IcmpErrorKind::HostUnreachable => format!("ICMP host {dst} unreachable, length {length}"),
            IcmpErrorKind::FragNeeded { mtu } => {
                format!("ICMP {dst} unreachable - need to frag (mtu {mtu}), length {length}")
            }
            IcmpErrorKind::TimeExceeded => format!("ICMP time exceeded in-transit, length {length}"),
            IcmpErrorKind::ReassemblyTimeExceeded => {
                format!("ICMP ip reassembly time exceeded, length {length}")
            }
        }
    }
}

/// Decrements a forwarded packet's time to live (`ip_decrease_ttl`).
pub fn decrease_ttl(packet: &mut [u8]) {
    set_ttl(packet, packet[ipv4_field::TTL] - 1);
}

/// Sets an IPv4 packet's time to live and fixes its header checksum.
pub fn set_ttl(packet: &mut [u8], ttl: u8) {
    packet[ipv4_field::TTL] = ttl;
    fix_header_checksum(packet);
}

/// Splits an IPv4 packet (no options) into fragments of at most `mtu`
/// bytes, as `ip_do_fragment` does: each piece but the last carries a
/// multiple of 8 bytes and More Fragments; Don't Fragment is cleared; the
/// last keeps the original's More Fragments (a fragment split again).
pub fn fragment(ip: &Ipv4, mtu: usize) -> Vec<Vec<u8>> {
    let header = &ip.packet[..ip.packet.len() - ip.payload.len()];
    let step = (mtu.saturating_sub(header.len()) & !7).max(8);
    let mut out = Vec::with_capacity(ip.payload.len().div_ceil(step));
    let mut at = 0;
    while at < ip.payload.len() {
        let piece = &ip.payload[at..(at + step).min(ip.payload.len())];
        let last = at + piece.len() == ip.payload.len();
        let mut f = Vec::with_capacity(header.len() + piece.len());
        f.extend_from_slice(header);
        f.extend_from_slice(piece);
        let len = f.len() as u16;
        f[ipv4_field::LENGTH].copy_from_slice(&len.to_be_bytes());
        let mut word = ((ip.frag_offset + at) / 8) as u16;
        if !last || ip.mf {
            word |= IP_MF;
        }
        f[ipv4_field::FRAG].copy_from_slice(&word.to_be_bytes());
        fix_header_checksum(&mut f);
        out.push(f);
        at += piece.len();
    }
    out
}

/// Joins the payloads of a packet's fragments (sorted by offset, without
/// holes) behind the first one's header: the whole packet.
pub fn reassemble(first: &[u8], payload: &[u8]) -> Vec<u8> {
    let header_len = usize::from(first[ipv4_field::VER_IHL] & 0xf) * 4;
    let mut p = Vec::with_capacity(header_len + payload.len());
    p.extend_from_slice(&first[..header_len]);
    p.extend_from_slice(payload);
    let len = p.len() as u16;
    p[ipv4_field::LENGTH].copy_from_slice(&len.to_be_bytes());
    let df = u16_at(&p, ipv4_field::FRAG) & IP_DF;
    p[ipv4_field::FRAG].copy_from_slice(&df.to_be_bytes());
    fix_header_checksum(&mut p);
    p
}

fn fix_header_checksum(p: &mut [u8]) {
    p[ipv4_field::CHECKSUM].copy_from_slice(&[0, 0]);
    let ihl = usize::from(p[ipv4_field::VER_IHL] & 0x0f) * 4;
    let c = checksum(&p[..ihl]);
    p[ipv4_field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
}

/// Wraps an IPv4 packet in an Ethernet frame.
pub fn ip_frame(dst: MacAddr, src: MacAddr, packet: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; ETH_HLEN + packet.len()];
    wire::write_header(&mut f, dst, src, ETH_P_IP);
    f[ETH_HLEN..ETH_HLEN + packet.len()].copy_from_slice(packet);
    f
}

/// A one-line summary of a frame in the style of `tcpdump -n`
/// (with `-e` link-level addresses when `link` is set).
pub fn summary(frame: &[u8], link: bool) -> String {
    let Ok(eth) = EthFrame::new_checked(frame) else {
        return format!("[|ether] truncated frame of {} bytes", frame.len());
    };
    // tcpdump names the protocol in front of the body ("ARP, ...", "IP ...")
    // without -e, and in the link-level part with it ("ethertype ARP (0x0806)").
    let (short, long, body) = match eth.ethertype() {
        ETH_P_ARP => {
            let body = match Arp::parse(eth.payload()) {
                Some(a) if a.op == ArpOp::Request => {
                    format!("Request who-has {} tell {}, length {ARP_LEN}", a.tpa, a.spa)
                }
                Some(a) if a.op == ArpOp::Reply => {
                    format!("Reply {} is-at {}, length {ARP_LEN}", a.spa, a.sha)
                }
                _ => "unknown".to_string(),
            };
            ("ARP, ", "ARP (0x0806)", body)
        }
        ETH_P_IP => {
            let body = match Ipv4::parse(eth.payload()) {
                // A later fragment has no header of the protocol it carries.
                Some(ip) if ip.frag_offset != 0 => {
                    format!("{} > {}: ip-proto-{}", ip.src, ip.dst, u8::from(ip.proto))
                }
                Some(ip) if ip.proto == IpProtocol::Icmp => match IcmpPacket::new_unverified(ip.payload) {
                    Some(e) => format!(
                        "{} > {}: ICMP echo {}, id {}, seq {}, length {}",
                        ip.src,
                        ip.dst,
                        e.kind().name(),
                        e.id(),
                        e.seq(),
                        ip.payload.len()
                    ),
                    None => match IcmpError::parse(ip.payload) {
                        Some(e) => format!("{} > {}: {}", ip.src, ip.dst, e.summary(ip.payload.len())),
                        None => format!("{} > {}: ICMP, length {}", ip.src, ip.dst, ip.payload.len()),
                    },
                },
                Some(ip) => format!(
                    "{} > {}: ip-proto-{} {}",
                    ip.src,
                    ip.dst,
                    u8::from(ip.proto),
                    ip.payload.len()
                ),
                None => "truncated-ip".to_string(),
            };
            ("IP ", "IPv4 (0x0800)", body)
        }
        t => {
            let unknown = format!("ethertype Unknown (0x{t:04x}), length {}", frame.len());
            return if link {
                format!("{} > {}, {unknown}", eth.src(), eth.dst())
            } else {
                unknown
            };
        }
    };
    if link {
        format!(
            "{} > {}, ethertype {long}, length {}: {body}",
            eth.src(),
            eth.dst(),
            frame.len()
        )
    } else {
        format!("{short}{body}")
    }
}

/// Whether `frame` passes tcpdump's `filter`.
pub fn passes(filter: Filter, frame: &[u8]) -> bool {
    let Ok(eth) = EthFrame::new_checked(frame) else {
        return matches!(filter, Filter::All);
    };
    match filter {
        Filter::All => true,
        Filter::Arp => eth.ethertype() == ETH_P_ARP,
        Filter::Icmp => {
            eth.ethertype() == ETH_P_IP
                && Ipv4Packet::new_checked(eth.payload()).is_some_and(|ip| ip.protocol() == IpProtocol::Icmp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const B: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);

    /// B's ARP reply to A: 10.0.0.1 is at A.
    fn reply_frame() -> Vec<u8> {
        Arp {
            op: ArpOp::Reply,
            sha: A,
            spa: Ipv4Addr::new(10, 0, 0, 1),
            tha: B,
            tpa: Ipv4Addr::new(10, 0, 0, 2),
        }
        .frame(B, A)
    }

    #[test]
    fn arp_round_trip_and_etherparse_agrees() {
        let a = Arp {
            op: ArpOp::Request,
            sha: A,
            spa: Ipv4Addr::new(192, 168, 0, 11),
            tha: MacAddr::ZERO,
            tpa: Ipv4Addr::new(192, 168, 0, 12),
        };
        let f = a.frame(MacAddr::BROADCAST, A);
        assert_eq!(f.len(), 42);
        assert_eq!(Arp::parse(&f[14..]), Some(a));
        let sliced = etherparse::SlicedPacket::from_ethernet(&f).unwrap();
        match sliced.net {
            Some(etherparse::NetSlice::Arp(arp)) => {
                assert_eq!(arp.sender_protocol_addr(), &[192, 168, 0, 11]);
                assert_eq!(arp.target_protocol_addr(), &[192, 168, 0, 12]);
            }
            other => panic!("not ARP: {other:?}"),
        }
        assert_eq!(
            summary(&f, false),
            "ARP, Request who-has 192.168.0.12 tell 192.168.0.11, length 28"
        );
    }

    #[test]
    fn icmp_echo_in_ipv4_round_trip_and_etherparse_agrees() {
        let e = Echo {
            kind: EchoKind::Request,
            id: 7,
            seq: 1,
            data: vec![0xab; mvl_iproute2::cmd::DEFAULT_PING_SIZE],
        };
        let ip = ipv4_packet(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IpProtocol::Icmp,
            1,
            true,
            &e.bytes(),
        );
        let f = ip_frame(B, A, &ip);
        let parsed = Ipv4::parse(&f[14..]).unwrap();
        assert_eq!(parsed.dst, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(Echo::parse(parsed.payload), Some(e));
        let v = Ipv4Packet::new_checked(&f[ETH_HLEN..]).unwrap();
        let icmp = IcmpPacket::new_checked(v.payload()).unwrap();
        let sliced = etherparse::SlicedPacket::from_ethernet(&f).unwrap();
        match &sliced.net {
            Some(etherparse::NetSlice::Ipv4(v4)) => {
                assert_eq!(v4.header().destination(), [10, 0, 0, 2]);
                assert_eq!(
                    v4.header().header_checksum(),
                    u16::from_be_bytes([ip[10], ip[11]])
                );
                assert_eq!(v4.header().protocol().0, u8::from(v.protocol()));
                assert_eq!(v4.header().ttl(), v.ttl());
                assert_eq!(v4.header().source(), v.src().octets());
            }
            other => panic!("not IPv4: {other:?}"),
        }
        match sliced.transport {
            Some(etherparse::TransportSlice::Icmpv4(i)) => match i.icmp_type() {
                etherparse::Icmpv4Type::EchoRequest(h) => assert_eq!((h.id, h.seq), (icmp.id(), icmp.seq())),
                t => panic!("not an echo request: {t:?}"),
            },
            other => panic!("not ICMP: {other:?}"),
        }
        assert_eq!(
            summary(&f, false),
            "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64"
        );
        assert!(passes(Filter::Icmp, &f) && !passes(Filter::Arp, &f));
    }

    #[test]
    fn views_refuse_every_short_buffer() {
        let arp = reply_frame();
        let arp = &arp[ETH_HLEN..];
        for n in 0..ARP_LEN {
            assert!(ArpPacket::new_checked(&arp[..n]).is_none(), "{n} bytes");
        }
        let v = ArpPacket::new_checked(arp).unwrap();
        assert_eq!((v.op(), v.sha(), v.tha()), (ArpOp::Reply, A, B));
        let mut not_ipv4 = arp.to_vec();
        not_ipv4[3] = 0xdd; // protocol type 0x08dd
        assert!(ArpPacket::new_checked(&not_ipv4[..]).is_none());

        let echo = Echo {
            kind: EchoKind::Reply,
            id: 1,
            seq: 2,
            data: vec![7; 3],
        }
        .bytes();
        let ip = ipv4_packet(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IpProtocol::Icmp,
            9,
            true,
            &echo,
        );
        for n in 0..ip.len() {
            assert!(Ipv4Packet::new_checked(&ip[..n]).is_none(), "{n} bytes");
        }
        let mut padded = ip.clone();
        padded.extend_from_slice(&[0; 6]);
        let v = Ipv4Packet::new_checked(&padded[..]).unwrap();
        assert_eq!((v.protocol(), v.ttl()), (IpProtocol::Icmp, 64));
        assert_eq!(v.payload(), &echo[..], "a frame's padding is not the payload");
        for n in 0..icmp_field::DATA {
            assert!(IcmpPacket::new_checked(&echo[..n]).is_none(), "{n} bytes");
        }
        let v = IcmpPacket::new_checked(&echo[..]).unwrap();
        assert_eq!(
            (v.kind(), v.id(), v.seq(), v.data()),
            (EchoKind::Reply, 1, 2, &[7u8; 3][..])
        );
        let mut unreachable = echo.clone();
        unreachable[icmp_field::TYPE] = 3;
        assert!(IcmpPacket::new_checked(&unreachable[..]).is_none(), "not an echo");
    }

    #[test]
    fn typed_fields_keep_every_value() {
        for v in 0..=u8::MAX {
            assert_eq!(u8::from(IpProtocol::from(v)), v);
            assert_eq!(u16::from(ArpOp::from(u16::from(v))), u16::from(v));
        }
        assert_eq!(ArpOp::from(1), ArpOp::Request);
        assert_eq!(ArpOp::from(2), ArpOp::Reply);
        assert_eq!(IpProtocol::from(1), IpProtocol::Icmp);
    }

    #[test]
    fn the_arp_view_agrees_with_etherparse() {
        let f = reply_frame();
        let v = ArpPacket::new_checked(&f[ETH_HLEN..]).unwrap();
        let sliced = etherparse::SlicedPacket::from_ethernet(&f).unwrap();
        match sliced.net {
            Some(etherparse::NetSlice::Arp(arp)) => {
                assert_eq!(arp.operation().0, u16::from(v.op()));
                assert_eq!(arp.sender_hw_addr(), &v.sha().0);
                assert_eq!(arp.target_hw_addr(), &v.tha().0);
            }
            other => panic!("not ARP: {other:?}"),
        }
    }

    #[test]
    fn malformed_packets_are_refused() {
        assert!(Arp::parse(&[0; 27]).is_none());
        assert!(Ipv4::parse(&[0x45; 19]).is_none());
        let mut ip = ipv4_packet(
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::LOCALHOST,
            IpProtocol::Icmp,
            1,
            true,
            &[],
        );
        ip[10] ^= 1;
        assert!(Ipv4::parse(&ip).is_none(), "bad checksum");
        assert!(Echo::parse(&[8, 0, 0, 0]).is_none());
        assert_eq!(summary(&[1, 2, 3], false), "[|ether] truncated frame of 3 bytes");
    }
}
