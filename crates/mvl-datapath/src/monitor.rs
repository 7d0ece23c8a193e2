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

use mvl_netlink::{LinkEvent, LinkEvents, NetNs};

use crate::engine::Engine;

/// The thread that keeps an engine in step with its lowers.
pub struct Monitor {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
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
    let mut socks: BTreeMap<String, (LinkEvents, u64)> = BTreeMap::new();
    let mut last_sweep = Instant::now();
    let mut events = Vec::new();
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
            match LinkEvents::open_in(&ns) {
                Ok(s) => {
                    socks.insert(ns.id().to_string(), (s, turn));
                }
                // The sweep still converges, a second later.
                Err(e) => tracing::debug!("listening for link events in {}: {e}", ns.label()),
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
        for ((id, (sock, _)), is_ready) in socks.iter_mut().zip(ready) {
            if !is_ready {
                continue;
            }
            sock.drain(&mut events);
            for ev in events.drain(..) {
                follow_event(engine, id, ev);
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
fn follow_event(engine: &Engine, id: &str, ev: LinkEvent) {
    for k in engine.children_at(id, ev.index()) {
        match ev {
            LinkEvent::Deleted(_) => {
                if let Err(e) = engine.reconcile() {
                    tracing::warn!("following a deleted child: {e}");
                }
            }
            _ => engine.follow(k),
        }
    }
    for (key, mac) in engine.lowers_at(id, ev.index()) {
        let r = match ev {
            LinkEvent::Changed(_) => engine.refresh_lower(key),
            LinkEvent::Deleted(_) => engine.lower_gone(key, None),
            LinkEvent::Moved { new_index, .. } => {
                let to = engine.find_moved(mac, new_index);
                engine.lower_gone(key, to)
            }
        };
        if let Err(e) = r {
            tracing::warn!("following a lower: {e}");
        }
    }
}
