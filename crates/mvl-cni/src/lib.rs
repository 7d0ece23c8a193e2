//! # mvl-cni: a CNI plugin for kernel macvlan
//!
//! A drop-in for the reference `macvlan` plugin (containernetworking/plugins):
//! the same configuration, the same results, spec versions 0.1.0 to 1.1.0
//! (ADD, DEL, CHECK, STATUS, GC, VERSION), on `mvl-netlink`.
//!
//! ```text
//!  runtime ── CNI_* env + config on stdin ──► mvl-cni ──► JSON result / error on stdout
//!                                               │  ├─ ipam.type in CNI_PATH (ADD, DEL, CHECK, STATUS, GC)
//!                                               │  └─ netlink: host namespace (master, hostAccess shim)
//!                                               │            container namespace (the macvlan)
//! ```
//!
//! **ADD** validates the configuration before touching the kernel (mode,
//! MAC unicast and non-zero, MTU against the master's — errors name the
//! values), starts the IPAM plugin, and meanwhile creates the macvlan
//! directly in the container's namespace (`IFLA_NET_NS_FD`) under a random
//! temporary name, with MAC, MTU, mode, flags, source list and broadcast
//! knobs in the one `RTM_NEWLINK`; it renames it to `CNI_IFNAME`, sets
//! `arp_notify` from a thread inside the namespace, adds the addresses,
//! brings it up and adds the routes. Every step after the creation is
//! covered by scope guards: a failure deletes the link, releases the IPAM
//! lease (IPAM DEL) and undoes `hostAccess`, so nothing leaks.
//!
//! **DEL** never needs the master and succeeds when the link, the
//! namespace or the master is gone; it runs IPAM DEL alongside. It deletes
//! the link and waits for the kernel to unregister it, so when DEL returns
//! nothing of the attachment is left and nothing runs on in the background.
//! **CHECK** compares kind,
//! mode, flags, lower, MAC, MTU, addresses and routes with the
//! configuration and `prevResult`. **STATUS** asks the IPAM plugin and looks for the master.
//! **GC** is forwarded to the IPAM plugin and prunes `hostAccess` state.
//!
//! Configuration ([`config::Conf`]): the reference's `master` (default: the
//! default route's interface, in the host's or — `linkInContainer` — the
//! container's namespace), `mode` (bridge, private, vepa, passthru; also
//! source), `mtu`, `mac`, `linkInContainer`, `bcqueuelen`, `ipam`, `dns`,
//! `runtimeConfig.mac`, `CNI_ARGS` `MAC=` (precedence: `mac` < `MAC=` <
//! `runtimeConfig.mac`); and `bclim`, `sourceMacs` (mode source's
//! allow-list), `nopromisc`, `nodst`, `masterMatch` (the master by MAC
//! address or alternative name), `hostAccess` (a host shim, see
//! [`hostaccess`]), `stateDir`. Unknown keys are ignored (`syncDelete`,
//! from versions whose DEL could finish in the background, among them).
//!
//! Errors carry the spec's codes (1, 4, 5, 6, 7, 11, 50) and ours from
//! 100 on (107: a lasting conflict with the master's other macvlans); the table is in [`error`]. Logs go to stderr only.

#![forbid(unsafe_code)]

pub mod cmd;
pub mod config;
pub mod env;
pub mod error;
pub mod hostaccess;
pub mod ipam;
pub mod net;
pub mod result;
pub mod version;

pub use error::{Error, Result};
pub use version::Version;

/// What the binary says about itself when it is run without
/// `CNI_COMMAND` (by a person, not a runtime), as the reference plugins do.
pub fn about() -> String {
    format!(
        "CNI macvlan plugin mvl-cni version {}\nCNI protocol versions supported: {}\n",
        env!("CARGO_PKG_VERSION"),
        Version::all_strings().join(", ")
    )
}

/// What the binary prints on stdout and exits with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The JSON document for stdout (empty for commands that print nothing).
    pub stdout: String,
    /// The exit code: 0 on success, 1 on error.
    pub exit_code: i32,
}

/// One plugin invocation: reads the parameters through `getenv`, the
/// configuration from `stdin`, and answers with the result or the error
/// object of the configuration's version.
pub fn main_with(getenv: impl Fn(&str) -> Option<String>, stdin: &[u8]) -> Reply {
    let outcome = env::Invocation::from_env(getenv).and_then(|inv| cmd::run(&inv, stdin));
    match outcome {
        Ok(Some(v)) => Reply {
            stdout: serde_json::to_string_pretty(&v).unwrap_or_default(),
            exit_code: 0,
        },
        Ok(None) => Reply {
            stdout: String::new(),
            exit_code: 0,
        },
        Err(e) => {
            let version = serde_json::from_slice::<serde_json::Value>(stdin)
                .ok()
                .and_then(|v| v.get("cniVersion").and_then(|s| s.as_str()).map(String::from))
                .filter(|s| Version::parse(s).is_some() && !s.is_empty())
                .unwrap_or_else(|| Version::LATEST.as_str().to_string());
            Reply {
                stdout: serde_json::to_string_pretty(&e.to_json(&version)).unwrap_or_default(),
                exit_code: 1,
            }
        }
    }
}
