//! `ping` (iputils) in a namespace: the echo requests it sends on its
//! interval, the replies and errors it prints as iputils prints them, its
//! exit status, and why a request got no reply (`--explain`).

use std::net::Ipv4Addr;

use mvl_iproute2::cmd::Ping;

use crate::device::{DevId, NsId};
use crate::neigh::Nud;
use crate::packet::{set_ttl, Echo, EchoKind, PING_DATA};
use crate::route::Route;
use crate::sim::{Sim, Work};
use crate::time::{Duration, Instant};
use crate::trace::Trace;

/// How long ping waits for a reply when none came and `-W` was not given.
const PING_DEFAULT_WAIT: Duration = Duration::secs(10);

/// A running ping.
#[derive(Debug, Clone)]
pub(crate) struct PingState {
    pub ns: NsId,
    pub id: u16,
    pub dst: Ipv4Addr,
    pub src: Ipv4Addr,
    pub oif: Option<DevId>,
    pub ttl: Option<u8>,
    pub count: u32,
    pub interval: Duration,
    pub wait: Option<Duration>,
    pub sent: u32,
    pub send_times: Vec<Instant>,
    pub replied: Vec<u16>,
    pub rtts: Vec<Duration>,
    pub errors: u32,
    pub lines: Vec<String>,
    pub done: bool,
}

impl PingState {
    pub(crate) fn settled(&self) -> bool {
        self.sent == self.count && self.replied.len() as u32 + self.errors >= self.count
    }

    /// An error ping prints and counts (`+N errors`); the last one due
    /// ends the ping.
    pub(crate) fn error(&mut self, line: String) {
        self.errors += 1;
        self.lines.push(line);
        if self.settled() {
            self.done = true;
        }
    }
}

/// What a ping did.
#[derive(Debug, Clone, PartialEq)]
pub struct PingOutcome {
    /// Echo requests sent.
    pub transmitted: u32,
    /// Distinct replies received.
    pub received: u32,
    /// Errors reported (e.g. Destination Host Unreachable).
    pub errors: u32,
    /// ping's exit status: 0 with at least one reply, 1 without, 2 on error.
    pub exit_code: i32,
    /// What ping prints.
    pub output: String,
    /// The path of every frame during the ping, when explaining.
    pub trace: Option<Vec<String>>,
}

impl PingOutcome {
    fn error(msg: String) -> PingOutcome {
        PingOutcome {
            transmitted: 0,
            received: 0,
            errors: 0,
            exit_code: 2,
            output: msg,
            trace: None,
        }
    }
}

impl Sim {
    /// Runs `ping` in `ns` to completion (in virtual time). A ping without
    /// a count would never complete: it is refused.
    pub fn ping(&mut self, ns: NsId, req: &Ping, explain: bool) -> PingOutcome {
        let Some(count) = req.count else {
            return PingOutcome::error("ping without -c N never ends: the emulator needs a count".into());
        };
        let oif = match &req.iface {
            Some(name) => match self.find(ns, name) {
                Ok(d) => Some(d),
                Err(_) => return PingOutcome::error(format!("ping: SO_BINDTODEVICE {name}: No such device")),
            },
            None => None,
        };
        if self.is_broadcast(ns, req.addr) && !req.broadcast {
            return PingOutcome::error(
                "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules"
                    .into(),
            );
        }
        let table = self.nss[ns.0 as usize].local_table;
        if req.source.is_some_and(|a| table && !self.is_local(ns, a)) {
            return PingOutcome::error("ping: bind: Cannot assign requested address".into());
        }
        // Without a source, iputils asks for a route first (connect) and gives
        // up without one; with -I ADDR it just sends, and each send fails.
        let route = self.route_output(ns, req.addr, oif);
        let src = match (req.source, &route) {
            (Some(a), _) => a,
            (None, Some(r)) => r.src,
            (None, None) => return PingOutcome::error("ping: connect: Network is unreachable".into()),
        };
        if explain {
            self.trace = Some(Trace::default());
        }
        let idx = self.pings.len();
        self.pings.push(PingState {
            ns,
            id: 0x4d56u16.wrapping_add(idx as u16),
            dst: req.addr,
            src,
            oif,
            ttl: req.ttl,
            count: count.max(1),
            interval: Duration::from_secs_f64(req.interval),
            wait: req.wait.map(Duration::from_secs_f64),
            sent: 0,
            send_times: Vec::new(),
            replied: Vec::new(),
            rtts: Vec::new(),
            errors: 0,
            lines: Vec::new(),
            done: false,
        });
        self.schedule(Duration(0), Work::PingSend { ping: idx });
        self.run_while(Instant(u64::MAX), |s| !s.pings[idx].done);
        if let Some(what) = self.unmodelled.take() {
            self.trace = None;
            return PingOutcome::error(format!(
                "not supported by the emulator: {what}; run this lab on the kernel backend"
            ));
        }
        let trace = self.trace.take().map(|t| {
            let mut lines = Vec::new();
            if self.pings[idx].replied.is_empty() {
                let why = match &route {
                    Some(r) => self.why_no_reply(idx, r, &t),
                    None => format!("no route to {} from {src}", req.addr),
                };
                lines.push(format!("why no reply: {why}"));
            }
            lines.extend(t.render());
            lines
        });
        let p = &self.pings[idx];
        let received = p.replied.len() as u32;
        // iputils names the source when -I chose it: `from SRC DEV:` or `from SRC :`.
        let from = match (&req.iface, req.source) {
            (Some(dev), _) => format!("from {} {dev}: ", p.src),
            (None, Some(a)) => format!("from {a} : "),
            (None, None) => String::new(),
        };
        let mut out = format!(
            "PING {0} ({0}) {from}{PING_DATA}({1}) bytes of data.\n",
            p.dst,
            PING_DATA + 28
        );
        for l in &p.lines {
            out.push_str(l);
            out.push('\n');
        }
        let span = match (p.send_times.first(), p.send_times.last()) {
            (Some(&a), Some(&b)) => (b - a).as_millis_f64().round() as u64,
            _ => 0,
        };
        let loss = (100 * (p.sent - received.min(p.sent)))
            .checked_div(p.sent)
            .unwrap_or(0);
        out.push_str(&format!("\n--- {} ping statistics ---\n", p.dst));
        let errors = if p.errors > 0 {
            format!(", +{} errors", p.errors)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{} packets transmitted, {received} received{errors}, {loss}% packet loss, time {span}ms\n",
            p.sent
        ));
        if !p.rtts.is_empty() {
            let ms: Vec<f64> = p.rtts.iter().map(|d| d.as_millis_f64()).collect();
            let (min, max) = ms
                .iter()
                .fold((f64::MAX, 0f64), |(a, b), &x| (a.min(x), b.max(x)));
            let avg = ms.iter().sum::<f64>() / ms.len() as f64;
            let mdev = (ms.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / ms.len() as f64).sqrt();
            out.push_str(&format!(
                "rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms\n"
            ));
        }
        PingOutcome {
            transmitted: p.sent,
            received,
            errors: p.errors,
            exit_code: if received > 0 { 0 } else { 1 },
            output: out,
            trace,
        }
    }

    /// One sentence on why a ping got no reply: whether the destination's
    /// address was ever resolved, and where the frames that mattered died.
    fn why_no_reply(&self, idx: usize, route: &Route, t: &Trace) -> String {
        let p = &self.pings[idx];
        let drops = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
            let frames: Vec<u32> = (1..=t.frames.len() as u32)
                .filter(|&n| pred(&t.frames[n as usize - 1]))
                .collect();
            let mut v: Vec<String> = t
                .hops
                .iter()
                .filter(|h| h.dropped && frames.contains(&h.frame))
                .map(|h| h.text.clone())
                .collect();
            v.dedup();
            v
        };
        if route.local {
            return if self.dev(route.dev).up {
                "the reply went nowhere".into()
            } else {
                "the destination is local, and the loopback device lo is down".into()
            };
        }
        let hop = route.next_hop(p.dst);
        let resolved = self.nss[p.ns.0 as usize]
            .neigh
            .get(&(route.dev, hop))
            .is_some_and(|e| e.lladdr.is_some() && e.state != Nud::Failed && e.state != Nud::Incomplete);
        if !resolved {
            let who = format!("who-has {hop}");
            let d = drops(&|f: &str| f.contains(&who));
            let mut s = format!("no ARP reply for {hop} reached {}", self.label(route.dev));
            if !d.is_empty() {
                s.push_str(&format!("; the requests ended at: {}", d.join("; ")));
            }
            return s;
        }
        let d = drops(&|f: &str| f.contains("ICMP"));
        let mut s = format!("{hop} is resolved, but no echo reply came back");
        if !d.is_empty() {
            s.push_str(&format!("; ICMP frames ended at: {}", d.join("; ")));
        }
        s
    }

    pub(crate) fn ping_send(&mut self, idx: usize) {
        let p = &mut self.pings[idx];
        if p.done || p.sent >= p.count {
            return;
        }
        p.sent += 1;
        let seq = p.sent as u16;
        let now = self.now;
        p.send_times.push(now);
        let (ns, src, dst, oif, id, ttl) = (p.ns, p.src, p.dst, p.oif, p.id, p.ttl);
        let last = p.sent == p.count;
        let next = p.interval;
        let linger = if p.replied.is_empty() {
            p.wait.unwrap_or(PING_DEFAULT_WAIT)
        } else {
            let max = p.rtts.iter().copied().max().unwrap_or_default();
            Duration(max.0.saturating_mul(2)).max(Duration::millis(1))
        };
        let data: Vec<u8> = (0..PING_DATA).map(|i| i as u8).collect();
        let echo = Echo {
            kind: EchoKind::Request,
            id,
            seq,
            data,
        };
        match self.route_output(ns, dst, oif) {
            Some(route) => {
                let mut packet = self.ip_packet(ns, src, dst, &echo.bytes());
                if let Some(t) = ttl {
                    set_ttl(&mut packet, t);
                }
                self.ip_output(ns, route, route.next_hop(dst), packet, Some((idx, seq)));
            }
            None => self.pings[idx].error("ping: sendmsg: Network is unreachable".into()),
        }
        if last {
            self.schedule(linger, Work::PingDone { ping: idx });
        } else {
            self.schedule(next, Work::PingSend { ping: idx });
        }
        let p = &mut self.pings[idx];
        if p.settled() {
            p.done = true;
        }
    }

    pub(crate) fn ping_done(&mut self, idx: usize) {
        self.pings[idx].done = true;
    }

    /// The running ping of `ns` with identifier `id`. The newest first: a
    /// lab's ping runs to its end before the next line, so the one answered
    /// is the last (past pings stay listed).
    pub(crate) fn running_ping(&mut self, ns: NsId, id: u16) -> Option<&mut PingState> {
        self.pings
            .iter_mut()
            .rev()
            .find(|p| !p.done && p.ns == ns && p.id == id)
    }

    pub(crate) fn ping_reply(&mut self, ns: NsId, from: Ipv4Addr, ttl: u8, echo: &Echo) {
        let now = self.now;
        let Some(p) = self.running_ping(ns, echo.id) else {
            return;
        };
        let Some(&sent_at) = p.send_times.get(usize::from(echo.seq).wrapping_sub(1)) else {
            return;
        };
        let rtt = now - sent_at;
        let dup = p.replied.contains(&echo.seq);
        p.lines.push(format!(
            "64 bytes from {from}: icmp_seq={} ttl={ttl} time={:.3} ms{}",
            echo.seq,
            rtt.as_millis_f64(),
            if dup { " (DUP!)" } else { "" }
        ));
        if !dup {
            p.replied.push(echo.seq);
            p.rtts.push(rtt);
        }
        if p.settled() {
            p.done = true;
        }
    }
}
