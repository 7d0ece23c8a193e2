//! The few raw system calls the datapath needs that `nix` does not wrap:
//! TUN/TAP ioctls, AF_PACKET socket options, batched receive and send.
//! Each `unsafe` block is small and says why it is sound.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `ioctl(fd, req, arg)` where `arg` points to a `T` the kernel reads or writes.
pub(crate) fn ioctl_ptr<T>(fd: BorrowedFd<'_>, req: libc::Ioctl, arg: &mut T) -> io::Result<libc::c_int> {
    // SAFETY: `arg` is a live, exclusive reference to a `T`, which is the
    // type the kernel expects for `req` at every call site.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req, arg as *mut T) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `ioctl(fd, req, value)` for requests that take an integer by value.
pub(crate) fn ioctl_val(
    fd: BorrowedFd<'_>,
    req: libc::Ioctl,
    value: libc::c_ulong,
) -> io::Result<libc::c_int> {
    // SAFETY: the request takes its argument by value: no memory is shared.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req, value) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `setsockopt(fd, level, name, &value)`.
pub(crate) fn setsockopt<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` points to `size_of::<T>()` readable bytes, and `T` is
    // the option's type at every call site.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `read(fd, buf)`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// `writev(fd, [a, b])`: a header and a frame in one call.
pub(crate) fn write2(fd: BorrowedFd<'_>, a: &[u8], b: &[u8]) -> io::Result<usize> {
    let iov = [
        libc::iovec {
            iov_base: a.as_ptr() as *mut _,
            iov_len: a.len(),
        },
        libc::iovec {
            iov_base: b.as_ptr() as *mut _,
            iov_len: b.len(),
        },
    ];
    // SAFETY: both iovecs point to live slices of the stated lengths, which
    // the kernel only reads.
    let r = unsafe { libc::writev(fd.as_raw_fd(), iov.as_ptr(), 2) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// `writev(fd, [a, b, c])`: a header and a frame in two pieces.
pub(crate) fn write3(fd: BorrowedFd<'_>, a: &[u8], b: &[u8], c: &[u8]) -> io::Result<usize> {
    let iov = [a, b, c].map(|s| libc::iovec {
        iov_base: s.as_ptr() as *mut _,
        iov_len: s.len(),
    });
    // SAFETY: the iovecs point to live slices of the stated lengths, which
    // the kernel only reads.
    let r = unsafe { libc::writev(fd.as_raw_fd(), iov.as_ptr(), 3) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// Most messages one `recvmmsg`/`sendmmsg` call handles (the arrays of
/// headers live on the stack).
const MMSG_MAX: usize = 64;

/// Runs `recvmmsg` (when `recv`) or `sendmmsg` over `bufs[i][..lens[i]]`
/// (sending) or `bufs[i]` (receiving), for `i < n`, without blocking.
fn mmsg(
    fd: BorrowedFd<'_>,
    bufs: &mut [Vec<u8>],
    lens: &mut [usize],
    n: usize,
    recv: bool,
) -> io::Result<usize> {
    let n = n.min(bufs.len()).min(lens.len()).min(MMSG_MAX);
    // Plain-old-data arrays on the stack: no allocation per batch.
    let mut iovs: [libc::iovec; MMSG_MAX] = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MMSG_MAX];
    // SAFETY: mmsghdr is plain old data; all-zero is a valid value.
    let mut hdrs: [libc::mmsghdr; MMSG_MAX] = unsafe { std::mem::zeroed() };
    for i in 0..n {
        let len = if recv {
            bufs[i].len()
        } else {
            lens[i].min(bufs[i].len())
        };
        iovs[i] = libc::iovec {
            iov_base: bufs[i].as_mut_ptr().cast(),
            iov_len: len,
        };
        hdrs[i].msg_hdr.msg_iov = &mut iovs[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: `hdrs[..n]` each point to one iovec over a live buffer owned
    // by `bufs` for the duration of the call, at most as long as the buffer.
    let r = unsafe {
        if recv {
            libc::recvmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        } else {
            libc::sendmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        }
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let r = r as usize;
    if recv {
        for i in 0..r {
            lens[i] = hdrs[i].msg_len as usize;
        }
    }
    Ok(r)
}

/// `recvmmsg` into up to `bufs.len()` buffers without blocking. Returns how
/// many messages arrived; `lens[i]` holds the length of message `i`.
pub(crate) fn recv_batch(fd: BorrowedFd<'_>, bufs: &mut [Vec<u8>], lens: &mut [usize]) -> io::Result<usize> {
    mmsg(fd, bufs, lens, usize::MAX, true)
}

/// `sendmmsg` of `bufs[i][..lens[i]]` for `i < n` without blocking. Returns
/// how many were sent (all of the first ones, then none).
pub(crate) fn send_batch(
    fd: BorrowedFd<'_>,
    bufs: &mut [Vec<u8>],
    lens: &mut [usize],
    n: usize,
) -> io::Result<usize> {
    mmsg(fd, bufs, lens, n, false)
}
