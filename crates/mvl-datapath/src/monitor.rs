//! Watching the devices: an rtnetlink listener (`RTNLGRP_LINK`) in each
//! namespace that holds a lower or a child. A change of a lower makes the
//! engine look at it again (carrier, state, MTU, MAC, name); a deletion
//! deletes its children; a move (`IFLA_NEW_NETNSID`) is followed into the
//! new namespace. A change of a child's TAP (`ip link set up`, a new MAC,
//! MTU, name or namespace) makes the engine follow it. Every second the
//! engine also reconciles with what exists, so a missed message only delays
//! convergence.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mvl_netlink::NetNs;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::link::LinkAttribute;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::engine::{Engine, Key};

const RTNLGRP_LINK: u32 = 1;

/// The thread that keeps an engine in step with its lowers.
pub struct Monitor {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

fn listener(ns: &NetNs) -> Option<Socket> {
    ns.run(|| {
        let mut s = Socket::new(NETLINK_ROUTE).ok()?;
        s.bind(&SocketAddr::new(0, 0)).ok()?;
        s.add_membership(RTNLGRP_LINK).ok()?;
        s.set_non_blocking(true).ok()?;
        Some(s)
    })
    .ok()
    .flatten()
}

/// What one link message says about interface `index`.
enum Event {
    Changed(u32),
    Deleted(u32),
    Moved { index: u32, new_index: Option<u32> },
}

fn events(buf: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < buf.len() {
        let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[off..]) else {
            break;
        };
        let len = m.header.length as usize;
        if len == 0 {
            break;
        }
        match m.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                out.push(Event::Changed(l.header.index))
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                let moved = l
                    .attributes
                    .iter()
                    .any(|a| matches!(a, LinkAttribute::NewNetnsId(_)));
                let new_index = l.attributes.iter().find_map(|a| match a {
                    LinkAttribute::NewIfIndex(i) => Some(*i as u32),
                    _ => None,
                });
                out.push(if moved {
                    Event::Moved {
                        index: l.header.index,
                        new_index,
                    }
                } else {
                    Event::Deleted(l.header.index)
                });
            }
            _ => {}
        }
        off += (len + 3) & !3;
    }
    out
}

impl Monitor {
    /// Starts watching `engine`'s lowers.
    pub fn start(engine: Arc<Engine>) -> std::io::Result<Monitor> {
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("mvl-monitor".into())
            .spawn(move || run(&engine, &s2))?;
        Ok(Monitor {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops the thread.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(engine: &Engine, stop: &AtomicBool) {
    // Listeners by namespace identity.
    let mut socks: BTreeMap<String, (NetNs, Socket)> = BTreeMap::new();
    let mut last_sweep = Instant::now();
    let mut buf = vec![0u8; 1 << 16];
    while !stop.load(Ordering::SeqCst) {
        let lowers = engine.lowers();
        let children = engine.children_watch();
        // Each namespace's identity once per turn (not per child per event).
        let lower_ids: Vec<String> = lowers.iter().map(|(_, ns, _, _)| ns.id()).collect();
        let child_ids: Vec<String> = children.iter().map(|(_, ns, _)| ns.id()).collect();
        let mut wanted: BTreeMap<&str, &NetNs> = BTreeMap::new();
        let all = lower_ids
            .iter()
            .zip(lowers.iter().map(|(_, ns, _, _)| ns))
            .chain(child_ids.iter().zip(children.iter().map(|(_, ns, _)| ns)));
        for (id, ns) in all {
            wanted.entry(id.as_str()).or_insert(ns);
        }
        for (id, ns) in &wanted {
            if !socks.contains_key(*id) {
                if let Some(s) = listener(ns) {
                    socks.insert(id.to_string(), ((*ns).clone(), s));
                }
            }
        }
        socks.retain(|id, _| wanted.contains_key(id.as_str()));
        // The children by where they are: (namespace, ifindex).
        let mut by_index: HashMap<(&str, u32), Vec<Key>> = HashMap::new();
        for ((key, _, ifindex), id) in children.iter().zip(&child_ids) {
            by_index.entry((id.as_str(), *ifindex)).or_default().push(*key);
        }
        let mut fds: Vec<nix::poll::PollFd> = socks
            .values()
            .map(|(_, s)| nix::poll::PollFd::new(s.as_fd(), nix::poll::PollFlags::POLLIN))
            .collect();
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(200u16));
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        for ((id, (_, sock)), is_ready) in socks.iter().zip(ready) {
            if !is_ready {
                continue;
            }
            while let Ok(n) = sock.recv(&mut &mut buf[..], 0) {
                for ev in events(&buf[..n]) {
                    let index = match ev {
                        Event::Changed(i) | Event::Deleted(i) => i,
                        Event::Moved { index, .. } => index,
                    };
                    for &k in by_index.get(&(id.as_str(), index)).into_iter().flatten() {
                        match ev {
                            Event::Deleted(_) => {
                                if let Err(e) = engine.reconcile() {
                                    tracing::warn!("following a deleted child: {e}");
                                }
                            }
                            _ => engine.follow(k),
                        }
                    }
                    for ((key, _, ifindex, mac), lower_id) in lowers.iter().zip(&lower_ids) {
                        if lower_id != id {
                            continue;
                        }
                        let r = match ev {
                            Event::Changed(i) if i == *ifindex => engine.refresh_lower(*key),
                            Event::Deleted(i) if i == *ifindex => engine.lower_gone(*key, None),
                            Event::Moved { index, new_index } if index == *ifindex => {
                                let to = engine.find_moved(*mac, new_index);
                                engine.lower_gone(*key, to)
                            }
                            _ => Ok(()),
                        };
                        if let Err(e) = r {
                            tracing::warn!("following a lower: {e}");
                        }
                    }
                }
            }
        }
        if last_sweep.elapsed() > Duration::from_secs(1) {
            last_sweep = Instant::now();
            if let Err(e) = engine.reconcile() {
                tracing::debug!("reconciling: {e}");
            }
        }
    }
}
