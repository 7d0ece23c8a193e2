//! Packet capture: `tcpdump -i DEV` on any emulated device, and classic
//! pcap files (little-endian, microseconds, Ethernet) with virtual
//! timestamps, so the same lab gives byte-identical captures everywhere.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::device::DevId;
use mvl_iproute2::Filter;

use crate::packet::{passes, summary};
use crate::time::Instant;

/// Names a running capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureId(pub(crate) usize);

/// A captured frame.
pub type Captured = (Instant, Vec<u8>);

#[derive(Debug, Clone)]
pub(crate) struct Capture {
    pub dev: DevId,
    pub filter: Filter,
    pub limit: Option<u32>,
    pub frames: Vec<Captured>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Captures {
    pub list: Vec<Capture>,
    /// Every frame of every device, when `--pcap` asked for it.
    pub all: Option<BTreeMap<DevId, Vec<Captured>>>,
}

impl Captures {
    /// Offers a frame seen on `dev` (either direction) to the captures.
    pub(crate) fn see(&mut self, dev: DevId, at: Instant, frame: &[u8]) {
        for c in &mut self.list {
            if c.dev == dev && c.limit.is_none_or(|l| (c.frames.len() as u32) < l) && passes(c.filter, frame)
            {
                c.frames.push((at, frame.to_vec()));
            }
        }
        if let Some(all) = &mut self.all {
            all.entry(dev).or_default().push((at, frame.to_vec()));
        }
    }
}

/// tcpdump's lines for captured frames (`-n` style, time of day in virtual time).
pub fn tcpdump_lines(frames: &[Captured], link: bool) -> Vec<String> {
    frames
        .iter()
        .map(|(t, f)| format!("{t} {}", summary(f, link)))
        .collect()
}

/// Writes frames as a classic pcap file.
pub fn write_pcap(mut w: impl Write, frames: &[Captured]) -> io::Result<()> {
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&0i32.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&262_144u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    w.write_all(&h)?;
    for (t, f) in frames {
        let us = t.0 / 1_000;
        let mut r = Vec::with_capacity(16 + f.len());
        r.extend_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
        r.extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        r.extend_from_slice(&(f.len() as u32).to_le_bytes());
        r.extend_from_slice(&(f.len() as u32).to_le_bytes());
        r.extend_from_slice(f);
        w.write_all(&r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Arp, ArpOp};
    use mvl_core::MacAddr;

    #[test]
    fn pcap_reads_back_with_pcap_file() {
        let a = Arp {
            op: ArpOp::Request,
            sha: MacAddr([2, 0, 0, 0, 0, 1]),
            spa: "10.0.0.1".parse().unwrap(),
            tha: MacAddr::ZERO,
            tpa: "10.0.0.2".parse().unwrap(),
        };
        let frames = vec![
            (Instant(1_500_000_000), a.frame(MacAddr::BROADCAST, a.sha)),
            (Instant(2_000_001_000), vec![1, 2, 3]),
        ];
        let mut buf = Vec::new();
        write_pcap(&mut buf, &frames).unwrap();
        let mut r = pcap_file::pcap::PcapReader::new(&buf[..]).unwrap();
        assert_eq!(r.header().datalink, pcap_file::DataLink::ETHERNET);
        let p1 = r.next_packet().unwrap().unwrap();
        assert_eq!(p1.timestamp, std::time::Duration::from_millis(1500));
        assert_eq!(&p1.data[..], &frames[0].1[..]);
        let p2 = r.next_packet().unwrap().unwrap();
        assert_eq!(p2.timestamp, std::time::Duration::from_micros(2_000_001));
        assert!(r.next_packet().is_none());
        assert_eq!(
            tcpdump_lines(&frames[..1], false),
            vec!["00:00:01.500000 ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28"]
        );
    }
}
