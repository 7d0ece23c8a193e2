//! A read-only view of an Ethernet II header over a byte buffer, in the
//! smoltcp `wire` style: check the length once, then no accessor can panic.

use crate::mac::MacAddr;

/// Length of an Ethernet header without VLAN tag.
pub const ETH_HLEN: usize = 14;
/// EtherType of 802.3x PAUSE frames, which the kernel never floods.
pub const ETH_P_PAUSE: u16 = 0x8808;
/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;
/// EtherType of IPv4.
pub const ETH_P_IP: u16 = 0x0800;

/// A checked view of an Ethernet frame.
#[derive(Debug, Clone, Copy)]
pub struct EthFrame<T: AsRef<[u8]>> {
    buf: T,
}

/// The buffer is shorter than an Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("frame of {0} bytes is shorter than an Ethernet header (14 bytes)")]
pub struct Truncated(pub usize);

impl<T: AsRef<[u8]>> EthFrame<T> {
    /// Wraps `buf` after checking that it holds a whole Ethernet header.
    pub fn new_checked(buf: T) -> Result<Self, Truncated> {
        let len = buf.as_ref().len();
        if len < ETH_HLEN {
            return Err(Truncated(len));
        }
        Ok(EthFrame { buf })
    }

    /// Destination address.
    #[inline]
    pub fn dst(&self) -> MacAddr {
        let b = self.buf.as_ref();
        MacAddr([b[0], b[1], b[2], b[3], b[4], b[5]])
    }

    /// Source address.
    #[inline]
    pub fn src(&self) -> MacAddr {
        let b = self.buf.as_ref();
        MacAddr([b[6], b[7], b[8], b[9], b[10], b[11]])
    }

    /// EtherType (or 802.3 length) field.
    #[inline]
    pub fn ethertype(&self) -> u16 {
        let b = self.buf.as_ref();
        u16::from_be_bytes([b[12], b[13]])
    }

    /// Whole frame length in bytes (header included, no FCS).
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.as_ref().len()
    }

    /// Never true for a checked frame; present for clippy's `len_without_is_empty`.
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bytes after the Ethernet header.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[ETH_HLEN..]
    }

    /// The underlying buffer.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }
}

/// Writes an Ethernet header into the first 14 bytes of `buf`.
///
/// # Panics
/// If `buf` is shorter than 14 bytes (a caller bug: the caller sizes it).
pub fn write_header(buf: &mut [u8], dst: MacAddr, src: MacAddr, ethertype: u16) {
    buf[0..6].copy_from_slice(&dst.0);
    buf[6..12].copy_from_slice(&src.0);
    buf[12..14].copy_from_slice(&ethertype.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_reads_fields() {
        let mut b = [0u8; 20];
        write_header(&mut b, MacAddr::BROADCAST, MacAddr([2, 0, 0, 0, 0, 9]), ETH_P_ARP);
        let f = EthFrame::new_checked(&b[..]).unwrap();
        assert_eq!(f.dst(), MacAddr::BROADCAST);
        assert_eq!(f.src(), MacAddr([2, 0, 0, 0, 0, 9]));
        assert_eq!(f.ethertype(), ETH_P_ARP);
        assert_eq!(f.len(), 20);
        assert_eq!(f.payload().len(), 6);
    }

    #[test]
    fn short_buffers_are_refused() {
        for n in 0..ETH_HLEN {
            assert_eq!(EthFrame::new_checked(&[0u8; 14][..n]).unwrap_err(), Truncated(n));
        }
    }

    #[test]
    fn agrees_with_etherparse() {
        let mut b = vec![0u8; 60];
        write_header(
            &mut b,
            MacAddr([1, 0, 0x5e, 0, 0, 1]),
            MacAddr([2, 1, 2, 3, 4, 5]),
            ETH_P_IP,
        );
        let ours = EthFrame::new_checked(&b[..]).unwrap();
        let theirs = etherparse::Ethernet2Slice::from_slice_without_fcs(&b).unwrap();
        assert_eq!(ours.dst().0, theirs.destination());
        assert_eq!(ours.src().0, theirs.source());
        assert_eq!(ours.ethertype(), theirs.ether_type().0);
    }
}
