//! Network namespaces as file descriptors.
//!
//! `setns` changes the namespace of the calling *thread* only, and a thread
//! that switched cannot be trusted to switch back (a panic, an early
//! return). So nothing here ever switches the caller's thread: [`NetNs::run`]
//! runs a closure on a throwaway thread that enters the namespace and then
//! exits. Sockets created there (see [`crate::Netlink::open_in`]) stay bound
//! to that namespace and can be used from any thread.

use std::fmt;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use nix::sched::CloneFlags;

use crate::error::{Error, Result};

/// An open network namespace. Cloning shares the descriptor; the namespace
/// lives at least as long as any clone.
#[derive(Clone)]
pub struct NetNs {
    fd: Arc<OwnedFd>,
    /// `net:[INODE]`, read once: a descriptor never changes namespace, and
    /// a daemon asks for it per child per event.
    id: Arc<str>,
    label: String,
}

impl fmt::Debug for NetNs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetNs")
            .field("label", &self.label)
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}

impl NetNs {
    /// The namespace of the calling thread.
    pub fn current() -> Result<NetNs> {
        Self::open("/proc/thread-self/ns/net", "the current network namespace".into())
    }

    /// A namespace by `ip netns` name: `/run/netns/NAME`.
    pub fn from_name(name: &str) -> Result<NetNs> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(Error::Netns {
                ns: name.into(),
                why: "not a valid namespace name".into(),
            });
        }
        Self::open(&format!("/run/netns/{name}"), format!("network namespace {name}"))
    }

    /// A namespace by path: `/proc/PID/ns/net`, a bind mount such as a CNI
    /// `CNI_NETNS`, or `/run/netns/NAME`.
    pub fn from_path(path: impl AsRef<Path>) -> Result<NetNs> {
        let p = path.as_ref();
        Self::open(&p.to_string_lossy(), format!("network namespace {}", p.display()))
    }

    /// What `ip`'s `-n`/`netns` takes: a process id (its namespace), a path
    /// (anything with a `/`), or a name under `/run/netns`.
    pub fn from_arg(arg: &str) -> Result<NetNs> {
        if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) {
            let mut ns = Self::from_path(format!("/proc/{arg}/ns/net"))?;
            ns.label = format!("the network namespace of process {arg}");
            Ok(ns)
        } else if arg.contains('/') {
            Self::from_path(arg)
        } else {
            Self::from_name(arg)
        }
    }

    /// A new, empty network namespace (only `lo`, down), private to this
    /// process: a throwaway thread unshares its network namespace and hands
    /// back a descriptor of it. The namespace disappears with the last clone
    /// of the returned value (and whatever is inside it is deleted).
    pub fn new_private() -> Result<NetNs> {
        let fd = std::thread::spawn(|| -> Result<OwnedFd> {
            nix::sched::unshare(CloneFlags::CLONE_NEWNET).map_err(|e| Error::Netns {
                ns: "a new namespace".into(),
                why: format!("unshare(CLONE_NEWNET): {e}"),
            })?;
            let f = File::open("/proc/thread-self/ns/net").map_err(|e| Error::Netns {
                ns: "a new namespace".into(),
                why: format!("open /proc/thread-self/ns/net: {e}"),
            })?;
            Ok(OwnedFd::from(f))
        })
        .join()
        .map_err(|_| Error::Netns {
            ns: "a new namespace".into(),
            why: "the thread creating it panicked".into(),
        })??;
        let id = ns_id(fd.as_fd()).unwrap_or_default();
        Ok(NetNs {
            fd: Arc::new(fd),
            label: format!("private network namespace {id}"),
            id: id.into(),
        })
    }

    fn open(path: &str, label: String) -> Result<NetNs> {
        let f = File::open(path).map_err(|e| Error::Netns {
            ns: path.into(),
            why: format!("cannot open: {e}"),
        })?;
        let fd = OwnedFd::from(f);
        match ns_id(fd.as_fd()) {
            Some(id) => Ok(NetNs {
                fd: Arc::new(fd),
                id: id.into(),
                label,
            }),
            None => Err(Error::Netns {
                ns: path.into(),
                why: "not a network namespace".into(),
            }),
        }
    }

    /// Every namespace named under `/run/netns` (as `ip netns list` sees
    /// them), by name; entries that cannot be opened are left out.
    pub fn named() -> Vec<(String, NetNs)> {
        let Ok(dir) = std::fs::read_dir("/run/netns") else {
            return Vec::new();
        };
        let mut out: Vec<(String, NetNs)> = dir
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| Self::from_name(&n).ok().map(|ns| (n, ns)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// How messages name it, e.g. `network namespace ns1`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The same namespace with another label.
    pub fn with_label(mut self, label: impl Into<String>) -> NetNs {
        self.label = label.into();
        self
    }

    /// The kernel's identity of the namespace (`net:[INODE]`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether both descriptors refer to the same namespace.
    pub fn same_as(&self, other: &NetNs) -> bool {
        !self.id.is_empty() && self.id == other.id
    }

    /// Runs `f` on a new thread that first enters this namespace; the thread
    /// ends with `f`, so no thread is left in a namespace it did not start
    /// in. Processes spawned by `f` start in this namespace. A panic in `f`
    /// continues on the caller's thread.
    pub fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        std::thread::scope(|s| {
            let h = s.spawn(|| -> Result<T> {
                nix::sched::setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| Error::Netns {
                    ns: self.label.clone(),
                    why: format!("setns: {e}"),
                })?;
                Ok(f())
            });
            match h.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for NetNs {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

impl crate::Netlink {
    /// The id this socket's namespace has given `ns` (`RTM_GETNSID`), the
    /// one `IFLA_LINK_NETNSID` carries; `None` when it has given none.
    pub fn nsid_of(&mut self, ns: &NetNs) -> Result<Option<i32>> {
        use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
        use netlink_packet_route::RouteNetlinkMessage;
        let mut m = NsidMessage::default();
        let fd = u32::try_from(ns.as_raw_fd()).expect("an open descriptor is not negative");
        m.attributes.push(NsidAttribute::Fd(fd));
        let replies = self
            .request(RouteNetlinkMessage::GetNsId(m), 0)
            .map_err(|e| e.for_op(format!("get the id of {}", ns.label())))?;
        Ok(replies.into_iter().find_map(|r| match r {
            RouteNetlinkMessage::NewNsId(m) => m.attributes.into_iter().find_map(|a| match a {
                NsidAttribute::Id(id) if id >= 0 => Some(id),
                _ => None,
            }),
            _ => None,
        }))
    }

    /// The id this socket's namespace gives `ns`, assigning one when it has
    /// none (`RTM_NEWNSID` with id -1), as the kernel does when it dumps a
    /// link whose lower lives in `ns`.
    pub fn nsid_assign(&mut self, ns: &NetNs) -> Result<i32> {
        use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
        use netlink_packet_route::RouteNetlinkMessage;
        if let Some(id) = self.nsid_of(ns)? {
            return Ok(id);
        }
        let mut m = NsidMessage::default();
        let fd = u32::try_from(ns.as_raw_fd()).expect("an open descriptor is not negative");
        m.attributes.push(NsidAttribute::Fd(fd));
        m.attributes.push(NsidAttribute::Id(-1));
        // Another process may assign one first (EEXIST): either way, ask again.
        let sent = self.request(RouteNetlinkMessage::NewNsId(m), 0);
        match self.nsid_of(ns)? {
            Some(id) => Ok(id),
            None => Err(sent.err().unwrap_or_else(|| {
                crate::Error::Decode(format!("no id for {} after assigning one", ns.label()))
            })),
        }
    }

    /// The names under `/run/netns` by the ids this namespace has given
    /// them: what `ip` prints as `link-netns NAME` instead of an id.
    pub fn netns_names(&mut self) -> Result<std::collections::BTreeMap<i32, String>> {
        let mut out = std::collections::BTreeMap::new();
        for (name, ns) in NetNs::named() {
            if let Some(id) = self.nsid_of(&ns)? {
                out.entry(id).or_insert(name);
            }
        }
        Ok(out)
    }
}

/// `net:[INODE]` if `fd` is a network namespace. The kernel is asked
/// (`NS_GET_NSTYPE`): the link in `/proc/self/fd` shows a path, not the
/// namespace, when the file was opened through a bind mount.
fn ns_id(fd: BorrowedFd<'_>) -> Option<String> {
    // SAFETY: NS_GET_NSTYPE takes no argument and only reads the descriptor.
    let kind = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
    if kind != libc::CLONE_NEWNET {
        return None;
    }
    let st = nix::sys::stat::fstat(fd).ok()?;
    Some(format!("net:[{}]", st.st_ino))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(NetNs::from_name("a/b").is_err());
        assert!(NetNs::from_name("..").is_err());
        assert!(NetNs::from_name("").is_err());
    }

    #[test]
    fn a_file_that_is_not_a_namespace_is_refused() {
        let e = NetNs::from_path("/proc/self/status").unwrap_err();
        assert!(e.to_string().contains("not a network namespace"), "{e}");
    }

    #[test]
    fn current_is_itself() {
        let a = NetNs::current().unwrap();
        let b = NetNs::from_arg(&std::process::id().to_string()).unwrap();
        assert!(a.same_as(&b));
        // run() on the current namespace needs CAP_SYS_ADMIN only for setns.
        if nix::unistd::geteuid().is_root() {
            let id = a.run(|| NetNs::current().unwrap().id().to_string()).unwrap();
            assert_eq!(id, a.id());
        }
    }
}
