//! A TAP device: the userspace datapath's child. Shaped after
//! cloud-hypervisor's `net_util` TAP: open by name (creating or
//! re-attaching), then configure — virtio-net header size, offloads,
//! persistence, carrier.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::sys;

/// Length of the virtio-net header both the TAP and the AF_PACKET lower use.
pub const VNET_HDR_LEN: usize = 10;

const IFNAMSIZ: usize = 16;

/// `struct ifreq` as TUNSETIFF and TUNGETIFF use it.
#[repr(C)]
struct IfReq {
    name: [u8; IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

impl IfReq {
    fn new(name: &str, flags: libc::c_short) -> io::Result<IfReq> {
        if name.len() >= IFNAMSIZ || name.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a device name"),
            ));
        }
        let mut r = IfReq {
            name: [0; IFNAMSIZ],
            flags,
            _pad: [0; 22],
        };
        r.name[..name.len()].copy_from_slice(name.as_bytes());
        Ok(r)
    }

    fn name(&self) -> String {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }
}

/// How a TAP is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapFlags {
    /// Frames carry a virtio-net header (GSO and checksum offload pass through).
    pub vnet_hdr: bool,
    /// The device has several queues (open it once per queue).
    pub multi_queue: bool,
}

/// One queue of a TAP device.
#[derive(Debug)]
pub struct Tap {
    fd: OwnedFd,
    name: String,
    vnet_hdr: bool,
}

impl Tap {
    /// Opens queue of the TAP `name` in the calling thread's network
    /// namespace, creating the device if it does not exist. A persistent
    /// TAP is re-attached only with the flags it was created with.
    pub fn open(name: &str, flags: TapFlags) -> io::Result<Tap> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")?;
        let fd = OwnedFd::from(file);
        let mut f = libc::IFF_TAP | libc::IFF_NO_PI;
        if flags.vnet_hdr {
            f |= libc::IFF_VNET_HDR;
        }
        if flags.multi_queue {
            f |= libc::IFF_MULTI_QUEUE;
        }
        let mut req = IfReq::new(name, f as libc::c_short)?;
        sys::ioctl_ptr(fd.as_fd(), libc::TUNSETIFF, &mut req)?;
        let tap = Tap {
            fd,
            name: req.name(),
            vnet_hdr: flags.vnet_hdr,
        };
        if flags.vnet_hdr {
            let mut len: libc::c_int = VNET_HDR_LEN as libc::c_int;
            sys::ioctl_ptr(tap.fd.as_fd(), libc::TUNSETVNETHDRSZ, &mut len)?;
            // Accept checksum-offloaded, TSO and USO (UDP_SEGMENT) frames
            // from the stack: they then reach the wire (or a sibling)
            // without being segmented on the way. USO needs Linux 6.2.
            let tso = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6 | libc::TUN_F_TSO_ECN;
            let uso = libc::TUN_F_USO4 | libc::TUN_F_USO6;
            sys::ioctl_val(tap.fd.as_fd(), libc::TUNSETOFFLOAD, (tso | uso) as libc::c_ulong)
                .or_else(|_| sys::ioctl_val(tap.fd.as_fd(), libc::TUNSETOFFLOAD, tso as libc::c_ulong))?;
        }
        Ok(tap)
    }

    /// Another descriptor for the same queue (for ioctls from the control plane).
    pub fn try_clone(&self) -> io::Result<Tap> {
        Ok(Tap {
            fd: self.fd.try_clone()?,
            name: self.name.clone(),
            vnet_hdr: self.vnet_hdr,
        })
    }

    /// The name the device had when this queue was opened.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether frames carry the virtio-net header.
    pub fn vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    /// The device's current name (it may have been renamed since).
    pub fn current_name(&self) -> io::Result<String> {
        let mut req = IfReq::new("", 0)?;
        sys::ioctl_ptr(self.fd.as_fd(), libc::TUNGETIFF, &mut req)?;
        Ok(req.name())
    }

    /// The network namespace the device lives in now (`TUNGETDEVNETNS`).
    pub fn netns(&self) -> io::Result<OwnedFd> {
        let fd = sys::ioctl_val(self.fd.as_fd(), libc::TUNGETDEVNETNS, 0)?;
        // SAFETY: TUNGETDEVNETNS returns a new file descriptor that we own.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }

    /// Keeps the device when its last queue closes (a daemon restart finds it again).
    pub fn set_persist(&self, on: bool) -> io::Result<()> {
        sys::ioctl_val(self.fd.as_fd(), libc::TUNSETPERSIST, libc::c_ulong::from(on)).map(drop)
    }

    /// Sets the device's carrier, as a macvlan's follows its lower's.
    pub fn set_carrier(&self, on: bool) -> io::Result<()> {
        let mut v: libc::c_int = on.into();
        sys::ioctl_ptr(self.fd.as_fd(), libc::TUNSETCARRIER, &mut v).map(drop)
    }

    /// Non-blocking mode, for the event loop.
    pub fn set_nonblocking(&self) -> io::Result<()> {
        let fl = nix::fcntl::fcntl(self.fd.as_fd(), nix::fcntl::FcntlArg::F_GETFL)?;
        let fl = nix::fcntl::OFlag::from_bits_truncate(fl) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(self.fd.as_fd(), nix::fcntl::FcntlArg::F_SETFL(fl))?;
        Ok(())
    }

    /// Reads one frame (with its virtio-net header when enabled).
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        sys::read(self.fd.as_fd(), buf)
    }

    /// Writes one frame given as header and body.
    pub fn write(&self, hdr: &[u8], frame: &[u8]) -> io::Result<usize> {
        sys::write2(self.fd.as_fd(), hdr, frame)
    }

    /// Writes one frame with its destination MAC replaced by `dst` (the
    /// frame itself is left as it is, for the other receivers).
    pub fn write_to(&self, hdr: &[u8], dst: &[u8; 6], frame: &[u8]) -> io::Result<usize> {
        sys::write3(self.fd.as_fd(), hdr, dst, frame.get(6..).unwrap_or_default())
    }
}

impl AsFd for Tap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Tap {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
