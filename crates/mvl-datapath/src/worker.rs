//! One forwarding thread: one queue of a lower port. It owns one AF_PACKET
//! socket on the lower (a fanout member when there are several queues) and
//! queue `q` of every child's TAP, waits on all of them with mio, and moves
//! frames as the port's `mvl-core` decisions say. Buffers are allocated
//! once; nothing is allocated per frame.

use std::collections::HashMap;
use std::io;
use std::sync::mpsc;
use std::sync::{Arc, RwLock};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use mvl_core::wire::EthFrame;
use mvl_core::{ChildId, Decision, PktType, Port, Reason};

use crate::counters::{ChildShared, Counters};
use crate::packet::PacketSocket;
use crate::tap::{Tap, VNET_HDR_LEN};

/// Largest frame handled: a GSO super-frame plus its header.
pub(crate) const FRAME_MAX: usize = 65536 + 256;
/// Frames received from the lower per system call.
const BATCH: usize = 32;
/// Frames read from one TAP before looking at the others.
const TAP_BUDGET: usize = 64;

const WAKER: Token = Token(0);
const LOWER: Token = Token(1);

/// What the control plane tells a forwarding thread.
pub(crate) enum Ctl {
    /// Serve this child's TAP queue.
    AddTap(ChildId, Tap, Arc<ChildShared>),
    /// Stop serving a child.
    RemoveTap(ChildId),
    /// The lower's socket (again, after the lower moved), and the socket
    /// whose frames the lower's egress hook turns into received ones
    /// (`None` where the hook could not be installed).
    Socket(PacketSocket, Option<PacketSocket>),
    /// The control plane has looked at the children's TAPs again: decide
    /// the frames held for that, and read on.
    Resume,
    /// End the thread.
    Stop,
}

/// State a port's forwarding threads share with the control plane.
#[derive(Debug)]
pub(crate) struct PortShared {
    pub port: RwLock<Port>,
    /// Drops on the lower's side, by reason, and failed sends.
    pub lower: Counters,
    /// The port's key in the engine, for `follow`.
    pub key: u32,
    /// Asks the control plane to look at a child's TAP now (a frame came
    /// from a child the port holds down: someone brought its TAP up).
    pub follow: mpsc::Sender<(u32, ChildId)>,
}

/// The control plane's handle on a forwarding thread.
pub(crate) struct Worker {
    pub tx: mpsc::Sender<Ctl>,
    pub waker: Arc<Waker>,
    pub handle: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Sends `c` and wakes the thread.
    pub(crate) fn send(&self, c: Ctl) {
        if self.tx.send(c).is_ok() {
            let _ = self.waker.wake();
        }
    }

    /// Starts a thread for one queue of the port.
    pub(crate) fn spawn(name: String, shared: Arc<PortShared>, vnet: bool) -> io::Result<Worker> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new().name(name).spawn(move || {
            let mut w = Loop::new(poll, shared, rx, vnet);
            w.run();
        })?;
        Ok(Worker {
            tx,
            waker,
            handle: Some(handle),
        })
    }

    /// Stops the thread and waits for it.
    pub(crate) fn stop(&mut self) {
        self.send(Ctl::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

struct TapSlot {
    child: ChildId,
    tap: Tap,
    shared: Arc<ChildShared>,
    /// A frame sent while the port held the child down, kept (and the TAP
    /// left unread) until the control plane has looked at the TAP: the first
    /// frame after `ip link set up` returns is forwarded, not lost to the
    /// time the link event takes to arrive.
    held: Option<Vec<u8>>,
}

struct Loop {
    poll: Poll,
    shared: Arc<PortShared>,
    rx: mpsc::Receiver<Ctl>,
    vnet: bool,
    sock: Option<PacketSocket>,
    /// A copy of each unicast between bridge siblings goes here, for the
    /// lower's packet taps (see `loopback`).
    loopback: Option<PacketSocket>,
    /// Slot i is registered with token i + 2.
    taps: Vec<Option<TapSlot>>,
    by_child: HashMap<ChildId, usize>,
    bufs: Vec<Vec<u8>>,
    lens: Vec<usize>,
    decision: Decision,
    stopped: bool,
}

/// Writes a frame to a child's TAP as the port says the child sees it. A
/// TAP takes the packet type from the destination MAC, so a copy the kernel
/// hands over as addressed to the child (`PACKET_HOST`: a source-mode copy
/// of a frame sent to the lower's MAC) goes with the child's MAC as
/// destination; its stack then takes it, as with the kernel's macvlan.
fn write_child(t: &TapSlot, pkt_type: PktType, hdr: &[u8], eth: &[u8]) -> io::Result<usize> {
    let mac = t.shared.mac();
    if pkt_type == PktType::Host && eth.len() >= 6 && eth[..6] != mac {
        t.tap.write_to(hdr, &mac, eth)
    } else {
        t.tap.write(hdr, eth)
    }
}

fn split(vnet: bool, buf: &[u8]) -> (&[u8], &[u8]) {
    if vnet && buf.len() >= VNET_HDR_LEN {
        buf.split_at(VNET_HDR_LEN)
    } else {
        (&[], buf)
    }
}

/// A virtio-net header that announces a GSO frame (gso_type != NONE).
fn is_gso(hdr: &[u8]) -> bool {
    hdr.len() >= 2 && hdr[1] != 0
}

impl Loop {
    fn new(poll: Poll, shared: Arc<PortShared>, rx: mpsc::Receiver<Ctl>, vnet: bool) -> Loop {
        Loop {
            poll,
            shared,
            rx,
            vnet,
            sock: None,
            loopback: None,
            taps: Vec::new(),
            by_child: HashMap::new(),
            bufs: (0..BATCH).map(|_| vec![0u8; FRAME_MAX]).collect(),
            lens: vec![0; BATCH],
            decision: Decision::new(),
            stopped: false,
        }
    }

    fn run(&mut self) {
        let mut events = Events::with_capacity(256);
        while !self.stopped {
            if let Err(e) = self.poll.poll(&mut events, None) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!("forwarding thread: poll failed: {e}");
                return;
            }
            for e in events.iter() {
                match e.token() {
                    WAKER => self.control(),
                    LOWER => self.drain_lower(),
                    Token(n) => self.drain_tap(n - 2),
                }
            }
        }
    }

    fn control(&mut self) {
        while let Ok(c) = self.rx.try_recv() {
            match c {
                Ctl::AddTap(child, tap, shared) => {
                    let slot = self.taps.iter().position(Option::is_none).unwrap_or_else(|| {
                        self.taps.push(None);
                        self.taps.len() - 1
                    });
                    let raw = std::os::fd::AsRawFd::as_raw_fd(&tap);
                    if let Err(e) = self.poll.registry().register(
                        &mut SourceFd(&raw),
                        Token(slot + 2),
                        Interest::READABLE,
                    ) {
                        tracing::error!("cannot watch the TAP of a child: {e}");
                        continue;
                    }
                    self.taps[slot] = Some(TapSlot {
                        child,
                        tap,
                        shared,
                        held: None,
                    });
                    self.by_child.insert(child, slot);
                    // Frames may have queued before registration (edge-triggered).
                    self.drain_tap(slot);
                }
                Ctl::RemoveTap(child) => {
                    if let Some(slot) = self.by_child.remove(&child) {
                        if let Some(s) = self.taps[slot].take() {
                            let raw = std::os::fd::AsRawFd::as_raw_fd(&s.tap);
                            let _ = self.poll.registry().deregister(&mut SourceFd(&raw));
                        }
                    }
                }
                Ctl::Socket(sock, loopback) => {
                    self.loopback = loopback;
                    if let Some(old) = self.sock.take() {
                        let raw = std::os::fd::AsRawFd::as_raw_fd(&old);
                        let _ = self.poll.registry().deregister(&mut SourceFd(&raw));
                    }
                    let raw = std::os::fd::AsRawFd::as_raw_fd(&sock);
                    if let Err(e) =
                        self.poll
                            .registry()
                            .register(&mut SourceFd(&raw), LOWER, Interest::READABLE)
                    {
                        tracing::error!("cannot watch the lower's socket: {e}");
                        continue;
                    }
                    self.sock = Some(sock);
                    self.drain_lower();
                }
                Ctl::Resume => {
                    for slot in 0..self.taps.len() {
                        self.resume(slot);
                    }
                }
                Ctl::Stop => self.stopped = true,
            }
        }
    }

    /// Frames the lower received: drain its socket.
    fn drain_lower(&mut self) {
        loop {
            let Some(sock) = &self.sock else { return };
            let n = match sock.recv_batch(&mut self.bufs, &mut self.lens) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // A pending socket error (ENETDOWN when bound to a down
                    // device, ENXIO when it went away) is reported once; the
                    // control plane replaces the socket if the lower moved.
                    tracing::debug!("lower socket: {e}");
                    return;
                }
            };
            let port = self.shared.port.read().unwrap_or_else(|p| p.into_inner());
            for i in 0..n {
                let (hdr, eth) = split(self.vnet, &self.bufs[i][..self.lens[i]]);
                port.rx_from_lower(eth, &mut self.decision);
                if let Some(r) = self.decision.drop {
                    self.shared.lower.drop(&r);
                }
                if self.decision.lower_rx_dropped {
                    // The kernel counts it on the lower's rx_dropped, which
                    // a userspace port cannot add to: its own counter does.
                    self.shared.lower.drop(&Reason::BcQueueZero);
                }
                for d in self.decision.deliveries() {
                    if let Some(s) = self.by_child.get(&d.child).and_then(|&i| self.taps[i].as_ref()) {
                        match write_child(s, d.pkt_type, hdr, eth) {
                            Ok(_) => s.shared.counters.rx(eth.len()),
                            Err(_) => s.shared.counters.error(),
                        }
                    }
                }
            }
            if n < self.bufs.len() {
                return;
            }
        }
    }

    /// Frames a child sent: read its TAP queue. Frames for the wire stay in
    /// `bufs` and leave together, in one system call per batch.
    fn drain_tap(&mut self, slot: usize) {
        let mut queued = 0;
        let mut more = true;
        for _ in 0..TAP_BUDGET {
            let Some(s) = self.taps.get(slot).and_then(Option::as_ref) else {
                more = false;
                break;
            };
            if s.held.is_some() {
                more = false;
                break;
            }
            let len = match s.tap.read(&mut self.bufs[queued]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // WouldBlock: the queue is empty.
                    more = false;
                    break;
                }
            };
            if self.forward_tap_frame(slot, queued, len, true) {
                self.lens[queued] = len;
                queued += 1;
                if queued == self.bufs.len() {
                    self.send_wire(queued);
                    queued = 0;
                }
            }
        }
        self.send_wire(queued);
        if more {
            // Budget spent with frames left: come back after the others.
            let _ = self.waker_rearm(slot);
        }
    }

    /// Sends `bufs[i][..lens[i]]`, `i < n`, out of the lower. A frame the
    /// socket refuses is counted as an error of the lower and the rest go on.
    fn send_wire(&mut self, n: usize) {
        let mut i = 0;
        while i < n {
            let sent = match &self.sock {
                Some(sock) => sock.send_batch(&mut self.bufs[i..n], &mut self.lens[i..n], n - i),
                None => Err(io::ErrorKind::NotConnected.into()),
            };
            match sent {
                Ok(k) if k > 0 => i += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => {
                    self.shared.lower.error();
                    i += 1;
                }
            }
        }
    }

    /// Decides the held frame of `slot` (if any) with the port as it is
    /// now, then reads on.
    fn resume(&mut self, slot: usize) {
        let Some(held) = self
            .taps
            .get_mut(slot)
            .and_then(Option::as_mut)
            .and_then(|s| s.held.take())
        else {
            return;
        };
        let len = held.len();
        self.bufs[0][..len].copy_from_slice(&held);
        if self.forward_tap_frame(slot, 0, len, false) {
            self.lens[0] = len;
            self.send_wire(1);
        }
        self.drain_tap(slot);
    }

    /// The frame in `bufs[buf][..len]` came from the child of `slot`: writes
    /// the copies for siblings and says whether it goes to the wire too (the
    /// caller sends it). A frame from a child the port holds down (and
    /// without a conflict) is held when `may_hold`, and the control plane
    /// asked to look at its TAP.
    fn forward_tap_frame(&mut self, slot: usize, buf: usize, len: usize, may_hold: bool) -> bool {
        let Some(s) = self.taps.get(slot).and_then(Option::as_ref) else {
            return false;
        };
        let child = s.child;
        let (hdr, eth) = split(self.vnet, &self.bufs[buf][..len]);
        if let Some(c) = s.shared.conflict() {
            s.shared.counters.conflict_drop(c);
            return false;
        }
        let port = self.shared.port.read().unwrap_or_else(|p| p.into_inner());
        if let Ok(f) = EthFrame::new_checked(eth) {
            if s.shared.spoofed(f.src()) {
                s.shared.counters.drop(&Reason::SpoofedSource { src: f.src() });
                return false;
            }
        }
        port.tx_from_child_gso(child, eth, is_gso(hdr), &mut self.decision);
        if may_hold && self.decision.drop == Some(Reason::SenderDown) {
            // A TAP sends only while it is up: the port has not seen it yet.
            drop(port);
            if self.shared.follow.send((self.shared.key, child)).is_ok() {
                let frame = self.bufs[buf][..len].to_vec();
                if let Some(s) = self.taps[slot].as_mut() {
                    s.held = Some(frame);
                }
                return false;
            }
            let port = self.shared.port.read().unwrap_or_else(|p| p.into_inner());
            port.tx_from_child_gso(child, eth, is_gso(hdr), &mut self.decision);
        }
        if self.decision.via_lower_rx {
            // The kernel passes it through the lower's receive path: its
            // taps see it before the sibling gets it (see `loopback`).
            if let Some(Err(_)) = self.loopback.as_ref().map(|l| l.send(hdr, eth)) {
                self.shared.lower.error();
            }
        }
        let mut went = self.decision.to_wire;
        for d in self.decision.deliveries() {
            if let Some(t) = self.by_child.get(&d.child).and_then(|&i| self.taps[i].as_ref()) {
                match write_child(t, d.pkt_type, hdr, eth) {
                    Ok(_) => {
                        t.shared.counters.rx(eth.len());
                        went = true;
                    }
                    Err(_) => t.shared.counters.error(),
                }
            }
        }
        match (went, self.decision.drop) {
            (true, _) => s.shared.counters.tx(eth.len()),
            (false, Some(r)) => s.shared.counters.drop(&r),
            (false, None) => s.shared.counters.tx(eth.len()),
        }
        self.decision.to_wire
    }

    /// Edge-triggered polling will not report frames already waiting:
    /// re-register the TAP so it is reported again.
    fn waker_rearm(&mut self, slot: usize) -> io::Result<()> {
        let Some(s) = self.taps.get(slot).and_then(Option::as_ref) else {
            return Ok(());
        };
        let raw = std::os::fd::AsRawFd::as_raw_fd(&s.tap);
        self.poll
            .registry()
            .reregister(&mut SourceFd(&raw), Token(slot + 2), Interest::READABLE)
    }
}
