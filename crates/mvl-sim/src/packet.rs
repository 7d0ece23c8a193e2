//! The few protocols the emulated hosts speak — ARP, IPv4, ICMP echo —
//! built and parsed over byte buffers, plus tcpdump-style one-line summaries.

use std::net::Ipv4Addr;

use mvl_core::wire::{self, EthFrame, ETH_HLEN, ETH_P_ARP, ETH_P_IP};
use mvl_core::MacAddr;

/// ARP operation: request.
pub const ARP_REQUEST: u16 = 1;
/// ARP operation: reply.
pub const ARP_REPLY: u16 = 2;
/// IP protocol number of ICMP.
pub const IPPROTO_ICMP: u8 = 1;
/// ICMP echo reply.
pub const ICMP_ECHO_REPLY: u8 = 0;
/// ICMP echo request.
pub const ICMP_ECHO_REQUEST: u8 = 8;
/// Bytes of data in a default ping (56, so 64 bytes of ICMP, 84 of IP).
pub const PING_DATA: usize = 56;

/// An Ethernet/IPv4 ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    /// Request or reply.
    pub op: u16,
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
        if p.len() < 28 || p[0..2] != [0, 1] || p[2..4] != [8, 0] || p[4] != 6 || p[5] != 4 {
            return None;
        }
        let mac = |o: usize| MacAddr([p[o], p[o + 1], p[o + 2], p[o + 3], p[o + 4], p[o + 5]]);
        let ip = |o: usize| Ipv4Addr::new(p[o], p[o + 1], p[o + 2], p[o + 3]);
        Some(Arp {
            op: u16::from_be_bytes([p[6], p[7]]),
            sha: mac(8),
            spa: ip(14),
            tha: mac(18),
            tpa: ip(24),
        })
    }

    /// A whole Ethernet frame carrying this message: 42 bytes, unpadded,
    /// as Linux hands it to a veth (padding to 60 is a NIC driver's job).
    pub fn frame(&self, dst: MacAddr, src: MacAddr) -> Vec<u8> {
        let mut f = vec![0u8; ETH_HLEN + 28];
        wire::write_header(&mut f, dst, src, ETH_P_ARP);
        let p = &mut f[ETH_HLEN..];
        p[0..8].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 0]);
        p[6..8].copy_from_slice(&self.op.to_be_bytes());
        p[8..14].copy_from_slice(&self.sha.0);
        p[14..18].copy_from_slice(&self.spa.octets());
        p[18..24].copy_from_slice(&self.tha.0);
        p[24..28].copy_from_slice(&self.tpa.octets());
        f
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
    pub proto: u8,
    /// Time to live.
    pub ttl: u8,
    /// The bytes after the header.
    pub payload: &'a [u8],
}

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

impl<'a> Ipv4<'a> {
    /// Parses an IPv4 packet (the Ethernet payload); `None` if malformed.
    pub fn parse(p: &'a [u8]) -> Option<Ipv4<'a>> {
        if p.len() < 20 || p[0] >> 4 != 4 {
            return None;
        }
        let ihl = usize::from(p[0] & 0xf) * 4;
        let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
        if ihl < 20 || total < ihl || total > p.len() || checksum(&p[..ihl]) != 0 {
            return None;
        }
        Some(Ipv4 {
            src: Ipv4Addr::new(p[12], p[13], p[14], p[15]),
            dst: Ipv4Addr::new(p[16], p[17], p[18], p[19]),
            proto: p[9],
            ttl: p[8],
            payload: &p[ihl..total],
        })
    }
}

/// Builds an IPv4 packet (no Ethernet header) around `payload`.
pub fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p[6] = 0x40; // don't fragment, as Linux sets on pings
    p[8] = 64;
    p[9] = proto;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let c = checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p[20..].copy_from_slice(payload);
    p
}

/// An ICMP echo request or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// `ICMP_ECHO_REQUEST` or `ICMP_ECHO_REPLY`.
    pub kind: u8,
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
        if p.len() < 8
            || checksum(p) != 0
            || !(p[0] == ICMP_ECHO_REQUEST || p[0] == ICMP_ECHO_REPLY)
            || p[1] != 0
        {
            return None;
        }
        Some(Echo {
            kind: p[0],
            id: u16::from_be_bytes([p[4], p[5]]),
            seq: u16::from_be_bytes([p[6], p[7]]),
            data: p[8..].to_vec(),
        })
    }

    /// The ICMP message bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut p = vec![0u8; 8 + self.data.len()];
        p[0] = self.kind;
        p[4..6].copy_from_slice(&self.id.to_be_bytes());
        p[6..8].copy_from_slice(&self.seq.to_be_bytes());
        p[8..].copy_from_slice(&self.data);
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
        p
    }
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
                Some(a) if a.op == ARP_REQUEST => {
                    format!("Request who-has {} tell {}, length 28", a.tpa, a.spa)
                }
                Some(a) if a.op == ARP_REPLY => format!("Reply {} is-at {}, length 28", a.spa, a.sha),
                _ => "unknown".to_string(),
            };
            ("ARP, ", "ARP (0x0806)", body)
        }
        ETH_P_IP => {
            let body = match Ipv4::parse(eth.payload()) {
                Some(ip) if ip.proto == IPPROTO_ICMP => match Echo::parse(ip.payload) {
                    Some(e) => format!(
                        "{} > {}: ICMP echo {}, id {}, seq {}, length {}",
                        ip.src,
                        ip.dst,
                        if e.kind == ICMP_ECHO_REQUEST {
                            "request"
                        } else {
                            "reply"
                        },
                        e.id,
                        e.seq,
                        ip.payload.len()
                    ),
                    None => format!("{} > {}: ICMP, length {}", ip.src, ip.dst, ip.payload.len()),
                },
                Some(ip) => format!(
                    "{} > {}: ip-proto-{} {}",
                    ip.src,
                    ip.dst,
                    ip.proto,
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

/// What a tcpdump filter expression of the lab language selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    /// Every frame.
    #[default]
    All,
    /// ICMP only.
    Icmp,
    /// ARP only.
    Arp,
}

impl Filter {
    /// Whether `frame` passes.
    pub fn matches(self, frame: &[u8]) -> bool {
        let Ok(eth) = EthFrame::new_checked(frame) else {
            return matches!(self, Filter::All);
        };
        match self {
            Filter::All => true,
            Filter::Arp => eth.ethertype() == ETH_P_ARP,
            Filter::Icmp => {
                eth.ethertype() == ETH_P_IP
                    && Ipv4::parse(eth.payload()).is_some_and(|ip| ip.proto == IPPROTO_ICMP)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const B: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);

    #[test]
    fn arp_round_trip_and_etherparse_agrees() {
        let a = Arp {
            op: ARP_REQUEST,
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
            kind: ICMP_ECHO_REQUEST,
            id: 7,
            seq: 1,
            data: vec![0xab; PING_DATA],
        };
        let ip = ipv4_packet(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IPPROTO_ICMP,
            1,
            &e.bytes(),
        );
        let f = ip_frame(B, A, &ip);
        let parsed = Ipv4::parse(&f[14..]).unwrap();
        assert_eq!(parsed.dst, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(Echo::parse(parsed.payload), Some(e));
        let sliced = etherparse::SlicedPacket::from_ethernet(&f).unwrap();
        match sliced.net {
            Some(etherparse::NetSlice::Ipv4(v4)) => {
                assert_eq!(v4.header().destination(), [10, 0, 0, 2]);
                assert_eq!(
                    v4.header().header_checksum(),
                    u16::from_be_bytes([ip[10], ip[11]])
                );
            }
            other => panic!("not IPv4: {other:?}"),
        }
        assert_eq!(
            summary(&f, false),
            "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64"
        );
        assert!(Filter::Icmp.matches(&f) && !Filter::Arp.matches(&f));
    }

    #[test]
    fn malformed_packets_are_refused() {
        assert!(Arp::parse(&[0; 27]).is_none());
        assert!(Ipv4::parse(&[0x45; 19]).is_none());
        let mut ip = ipv4_packet(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1, 1, &[]);
        ip[10] ^= 1;
        assert!(Ipv4::parse(&ip).is_none(), "bad checksum");
        assert!(Echo::parse(&[8, 0, 0, 0]).is_none());
        assert_eq!(summary(&[1, 2, 3], false), "[|ether] truncated frame of 3 bytes");
    }
}
