//! The lower side: an AF_PACKET socket bound to the parent device.
//!
//! It receives every frame the device receives (after the device's own
//! unicast filter, which our memberships open for each child's MAC) but not
//! the device's own outgoing frames (`PACKET_IGNORE_OUTGOING`, so children
//! never see what the lower's stack sends, as with the kernel's macvlan);
//! what it sends goes out of the device without reaching the device's own
//! stack. With `PACKET_VNET_HDR`, GSO frames pass through unsegmented.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use mvl_core::MacAddr;

use crate::sys;

/// An AF_PACKET socket on one device.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: i32,
    vnet_hdr: bool,
}

fn mreq(ifindex: i32, kind: libc::c_int, mac: Option<MacAddr>) -> libc::packet_mreq {
    let mut address = [0u8; 8];
    if let Some(m) = mac {
        address[..6].copy_from_slice(&m.0);
    }
    libc::packet_mreq {
        mr_ifindex: ifindex,
        mr_type: kind as libc::c_ushort,
        mr_alen: if mac.is_some() { 6 } else { 0 },
        mr_address: address,
    }
}

impl PacketSocket {
    /// A non-blocking socket bound to `ifindex` in the calling thread's
    /// network namespace.
    pub fn open(ifindex: u32, vnet_hdr: bool) -> io::Result<PacketSocket> {
        Self::bound(ifindex, vnet_hdr, (libc::ETH_P_ALL as u16).to_be(), None)
    }

    /// A socket that only sends, out of `ifindex`, each frame with
    /// `skb->mark` = `mark` (protocol 0: it receives nothing).
    pub fn sender(ifindex: u32, vnet_hdr: bool, mark: u32) -> io::Result<PacketSocket> {
        Self::bound(ifindex, vnet_hdr, 0, Some(mark))
    }

    fn bound(ifindex: u32, vnet_hdr: bool, proto: u16, mark: Option<u32>) -> io::Result<PacketSocket> {
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                proto.into(),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let one: libc::c_int = 1;
        if let Some(m) = mark {
            sys::setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_MARK, &m)?;
        } else {
            sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one)?;
            // Room for bursts: drops would be silent.
            let buf: libc::c_int = 8 << 20;
            sys::setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &buf)
                .or_else(|_| sys::setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, &buf))?;
        }
        if vnet_hdr {
            sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_VNET_HDR, &one)?;
        }
        // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = proto;
        sa.sll_ifindex = ifindex as i32;
        // SAFETY: `sa` is a valid sockaddr_ll and its size is passed along.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sa as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket {
            fd,
            ifindex: ifindex as i32,
            vnet_hdr,
        })
    }

    /// Stops receiving frames whose `skb->mark` is `mark` (a classic BPF
    /// socket filter reading the mark).
    pub fn ignore_mark(&self, mark: u32) -> io::Result<()> {
        let op = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
        let prog = [
            op(0x20, 0, 0, (libc::SKF_AD_OFF + libc::SKF_AD_MARK) as u32), // ld mark
            op(0x15, 0, 1, mark),                                          // jeq mark
            op(0x06, 0, 0, 0),                                             // ret 0: drop
            op(0x06, 0, 0, u32::MAX),                                      // ret all: keep
        ];
        let fprog = libc::sock_fprog {
            len: prog.len() as u16,
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        sys::setsockopt(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
    }

    /// A socket that receives nothing (protocol 0, unbound): it only holds
    /// memberships — unicast filter entries, promiscuity — on a device.
    pub fn control() -> io::Result<PacketSocket> {
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(PacketSocket {
            fd,
            ifindex: 0,
            vnet_hdr: false,
        })
    }

    /// The same socket bound to `ifindex` for memberships (a control socket).
    pub fn for_device(self, ifindex: u32) -> PacketSocket {
        PacketSocket {
            ifindex: ifindex as i32,
            ..self
        }
    }

    /// Whether frames carry the virtio-net header.
    pub fn vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    /// Opens the device's unicast filter for `mac` (`dev_uc_add`, as the
    /// kernel's macvlan does when a child comes up).
    pub fn add_unicast(&self, mac: MacAddr) -> io::Result<()> {
        let m = mreq(self.ifindex, libc::PACKET_MR_UNICAST, Some(mac));
        sys::setsockopt(self.fd.as_fd(), libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &m)
    }

    /// Closes the unicast filter for `mac` again.
    pub fn drop_unicast(&self, mac: MacAddr) -> io::Result<()> {
        let m = mreq(self.ifindex, libc::PACKET_MR_UNICAST, Some(mac));
        sys::setsockopt(
            self.fd.as_fd(),
            libc::SOL_PACKET,
            libc::PACKET_DROP_MEMBERSHIP,
            &m,
        )
    }

    /// Puts the device in promiscuous mode while this socket lives (passthru).
    pub fn set_promisc(&self, on: bool) -> io::Result<()> {
        let m = mreq(self.ifindex, libc::PACKET_MR_PROMISC, None);
        let opt = if on {
            libc::PACKET_ADD_MEMBERSHIP
        } else {
            libc::PACKET_DROP_MEMBERSHIP
        };
        sys::setsockopt(self.fd.as_fd(), libc::SOL_PACKET, opt, &m)
    }

    /// Joins fanout group `group`: the kernel spreads the device's frames
    /// over the group's sockets by flow hash, one socket per thread.
    pub fn join_fanout(&self, group: u16) -> io::Result<()> {
        let v: libc::c_int = i32::from(group) | ((libc::PACKET_FANOUT_HASH as i32) << 16);
        sys::setsockopt(self.fd.as_fd(), libc::SOL_PACKET, libc::PACKET_FANOUT, &v)
    }

    /// Receives up to `bufs.len()` frames without blocking.
    pub fn recv_batch(&self, bufs: &mut [Vec<u8>], lens: &mut [usize]) -> io::Result<usize> {
        sys::recv_batch(self.fd.as_fd(), bufs, lens)
    }

    /// Sends one frame out of the device.
    pub fn send(&self, hdr: &[u8], frame: &[u8]) -> io::Result<usize> {
        sys::write2(self.fd.as_fd(), hdr, frame)
    }

    /// Sends `bufs[i][..lens[i]]` (each a frame, with its virtio-net header
    /// when enabled) for `i < n` out of the device in one system call.
    /// Returns how many were sent: the first ones, up to the first failure.
    pub fn send_batch(&self, bufs: &mut [Vec<u8>], lens: &mut [usize], n: usize) -> io::Result<usize> {
        sys::send_batch(self.fd.as_fd(), bufs, lens, n)
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
