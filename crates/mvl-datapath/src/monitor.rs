//! Watching the devices: an rtnetlink listener (`RTNLGRP_LINK`) in each
//! namespace that holds a lower or a child. A change of a lower makes the
//! engine look at it again (carrier, state, MTU, MAC, name); a deletion
//! deletes its children; a move (`IFLA_NEW_NETNSID`) is followed into the
//! new namespace. A change of a child's TAP (`ip link set up`, a new MAC,
//! MTU, name or namespace) makes the engine follow it. Every second the
//! engine also reconciles with what exists, so a missed message only delays
//! convergence.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mvl_netlink::NetNs;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::link::LinkAttribute;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::engine::Engine;

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
    // Listeners by namespace identity, each with the last turn that wanted it.
    let mut socks: BTreeMap<String, (Socket, u64)> = BTreeMap::new();
    let mut last_sweep = Instant::now();
    let mut buf = vec![0u8; 1 << 16];
    let mut turn = 0u64;
    while !stop.load(Ordering::SeqCst) {
        turn += 1;
        // One look at where the lowers and children are; a socket is made
        // only for a namespace not listened in yet.
        let mut new: Vec<NetNs> = Vec::new();
        engine.each_namespace(|ns| match socks.get_mut(ns.id()) {
            Some(e) => e.1 = turn,
            None if !new.iter().any(|n| n.same_as(ns)) => new.push(ns.clone()),
            None => {}
        });
        for ns in new {
            if let Some(s) = listener(&ns) {
                socks.insert(ns.id().to_string(), (s, turn));
            }
        }
        socks.retain(|_, (_, t)| *t == turn);
        let mut fds: Vec<nix::poll::PollFd> = socks
            .values()
            .map(|(s, _)| nix::poll::PollFd::new(s.as_fd(), nix::poll::PollFlags::POLLIN))
            .collect();
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(200u16));
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        for ((id, (sock, _)), is_ready) in socks.iter().zip(ready) {
            if !is_ready {
                continue;
            }
            while let Ok(n) = sock.recv(&mut &mut buf[..], 0) {
                for ev in events(&buf[..n]) {
                    follow_event(engine, id, &ev);
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

/// What one link event in namespace `id` asks of the engine: the child or
/// lower it concerns is looked up then (not in a copy of every child made
/// beforehand), so an event costs the same with 1,000 children as with 2.
fn follow_event(engine: &Engine, id: &str, ev: &Event) {
    let index = match *ev {
        Event::Changed(i) | Event::Deleted(i) => i,
        Event::Moved { index, .. } => index,
    };
    for k in engine.children_at(id, index) {
        match ev {
            Event::Deleted(_) => {
                if let Err(e) = engine.reconcile() {
                    tracing::warn!("following a deleted child: {e}");
                }
            }
            _ => engine.follow(k),
        }
    }
    for (key, mac) in engine.lowers_at(id, index) {
        let r = match *ev {
            Event::Changed(_) => engine.refresh_lower(key),
            Event::Deleted(_) => engine.lower_gone(key, None),
            Event::Moved { new_index, .. } => {
                let to = engine.find_moved(mac, new_index);
                engine.lower_gone(key, to)
            }
        };
        if let Err(e) = r {
            tracing::warn!("following a lower: {e}");
        }
    }
}
