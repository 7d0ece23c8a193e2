//! A namespace as a router (`net.ipv4.ip_forward=1`): forwarding a packet
//! not addressed to it (`ip_forward`), and the ICMP errors Linux sends back
//! when it cannot (`icmp_send`): no route, time to live exceeded, next hop
//! unresolved. A ping learns of them as iputils prints them.

use std::net::Ipv4Addr;

use crate::device::{DevId, NsId};
use crate::packet::{decrease_ttl, EchoKind, IcmpError, IcmpErrorKind, IcmpPacket, IpProtocol, Ipv4};
use crate::sim::Sim;
use crate::trace::Tag;

impl Sim {
    /// `ip_forward`: `ip` came in on `dev` for an address that is not this
    /// namespace's, and the namespace forwards.
    pub(crate) fn forward(&mut self, dev: DevId, ip: &Ipv4, tag: Tag) {
        let ns = self.dev(dev).ns;
        // `ip_route_input` first: without a route the packet is an error.
        let Some(route) = self.route_output(ns, ip.dst, None) else {
            self.drop_hop(tag, |s| {
                format!(
                    "{}: no route to {}: ICMP net unreachable to {}",
                    s.label(dev),
                    ip.dst,
                    ip.src
                )
            });
            self.icmp_error(ns, IcmpErrorKind::NetUnreachable, ip);
            return;
        };
        if ip.ttl <= 1 {
            self.drop_hop(tag, |s| {
                format!(
                    "{}: time to live of a packet for {} ran out: ICMP time exceeded to {}",
                    s.label(dev),
                    ip.dst,
                    ip.src
                )
            });
            self.icmp_error(ns, IcmpErrorKind::TimeExceeded, ip);
            return;
        }
        let mtu = self.path_mtu(ns, &route, ip.dst, true).0;
        if ip.df && ip.packet.len() > mtu as usize {
            self.drop_hop(tag, |s| {
                format!(
                    "{}: a packet of {} bytes for {} says Don't Fragment, and {} takes {mtu}: ICMP fragmentation needed to {}",
                    s.label(dev),
                    ip.packet.len(),
                    ip.dst,
                    s.label(route.dev),
                    ip.src
                )
            });
            let mtu = u16::try_from(mtu).unwrap_or(u16::MAX);
            self.icmp_error(ns, IcmpErrorKind::FragNeeded { mtu }, ip);
            return;
        }
        if route.dev == dev && self.unmodelled.is_none() {
            // Linux forwards and also sends an ICMP redirect, which the
            // sender may take (send_redirects, accept_redirects, shared_media).
            self.unmodelled = Some(format!(
                "{} forwards a packet for {} out of {}, the device it came in on: Linux then sends an ICMP redirect, which the emulator does not model",
                self.ns_name(ns),
                ip.dst,
                self.dev(dev).name
            ));
        }
        let out = route.dev;
        self.hop(tag, |s| {
            let via = route.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
            format!(
                "{}: forwarding {} > {} out of {}{via}",
                s.label(dev),
                ip.src,
                ip.dst,
                s.label(out)
            )
        });
        let mut fwd = ip.packet.to_vec();
        decrease_ttl(&mut fwd);
        self.ip_output_mtu(ns, route, ip.dst, fwd, None, mtu as usize);
    }

    /// `icmp_send`: an ICMP error about `ip` back to its source, from the
    /// address this namespace would use to reach it. Never about an ICMP
    /// error, nor about a fragment but the first, nor to a source that is
    /// this namespace's own.
    pub(crate) fn icmp_error(&mut self, ns: NsId, kind: IcmpErrorKind, ip: &Ipv4) {
        if ip.frag_offset != 0 {
            return;
        }
        if ip.proto == IpProtocol::Icmp && ip.payload.first().is_some_and(|&t| is_icmp_error_type(t)) {
            return;
        }
        if self.is_local(ns, ip.src) || ip.src.is_unspecified() {
            return;
        }
        let Some(back) = self.route_output(ns, ip.src, None) else {
            return;
        };
        let msg = IcmpError::bytes(kind, ip.packet);
        let packet = self.ip_packet(ns, back.src, ip.src, false, &msg);
        self.ip_output(ns, back, ip.src, packet, None);
    }

    /// An ICMP error reached this namespace: a "fragmentation needed"
    /// teaches the path MTU to its destination; the ping whose echo request
    /// it quotes prints it (`From ADDR icmp_seq=N ...`) and counts an error.
    pub(crate) fn icmp_error_rcv(&mut self, ns: NsId, from: Ipv4Addr, err: &IcmpError) {
        // The quote holds the header and at least 8 bytes after it.
        let Some(quoted) = Ipv4::parse_quoted(err.quote) else {
            return;
        };
        if let IcmpErrorKind::FragNeeded { mtu } = err.kind {
            self.learn_pmtu(ns, quoted.dst, mtu);
        }
        let Some(echo) = IcmpPacket::new_unverified(quoted.payload).filter(|e| e.kind() == EchoKind::Request)
        else {
            return;
        };
        if let Some(p) = self.running_ping(ns, echo.id()).filter(|p| p.src == quoted.src) {
            p.error(format!(
                "From {from} icmp_seq={} {}",
                echo.seq(),
                err.kind.ping_text()
            ));
        }
    }
}

/// Whether an ICMP type is an error's (`icmp_pointers[type].error`):
/// destination unreachable, source quench, redirect, time exceeded,
/// parameter problem. The type alone decides, as in a first fragment.
fn is_icmp_error_type(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}
