//! `ping` (iputils) in a namespace: the echo requests it sends on its
//! interval, the replies and errors it prints as iputils prints them, its
//! exit status, and why a request got no reply (`--explain`).

use std::fmt::Write;
use std::net::Ipv4Addr;

use mvl_iproute2::cmd::{Ping, Pmtudisc};

use crate::device::{DevId, NsId};
use crate::engine::Xmit;
use crate::neigh::Nud;
use crate::packet::{set_ttl, Echo, EchoKind};
use crate::route::Route;
use crate::sim::{Sim, Work};
use crate::time::{Duration, Instant};
use crate::trace::Trace;

/// How long ping waits for a reply when none came and `-W` was not given.
const PING_DEFAULT_WAIT: Duration = Duration::secs(10);

/// iputils' shortest wait between its own steps (`MIN_INTERVAL_MS`).
const MIN_INTERVAL: Duration = Duration::millis(10);

/// Bytes of data from which iputils puts a timestamp in each request, and
/// so prints round-trip times.
const TIMESTAMP_LEN: usize = 16;

/// A running ping.
#[derive(Debug, Clone)]
pub(crate) struct PingState {
    pub ns: NsId,
    pub id: u16,
    pub dst: Ipv4Addr,
    pub src: Ipv4Addr,
    pub oif: Option<DevId>,
    pub ttl: Option<u8>,
    /// Bytes of data in each request.
    pub size: usize,
    pub pmtudisc: Pmtudisc,
    /// Replies (or errors) to wait for; `None`: no `-c`.
    pub count: Option<u32>,
    pub interval: Duration,
    pub wait: Option<Duration>,
    /// `-w` ends it (when it was scheduled to): it sends until then,
    /// past `count`.
    pub deadline: bool,
    /// Sends refused in a row by a device (ENOBUFS), as iputils counts them.
    pub oom_count: u32,
    pub sent: u32,
    /// When each request went (the last attempt for one retried).
    pub send_times: Vec<Instant>,
    /// When it started, and when it last tried to send: iputils' "time".
    pub started: Instant,
    pub last_attempt: Instant,
    pub replied: Vec<u16>,
    pub rtts: Vec<Duration>,
    pub errors: u32,
    pub lines: Vec<String>,
    pub done: bool,
}

impl PingState {
    /// iputils' main loop ends: as many replies and errors as `-c` asked,
    /// or, under a deadline, any error.
    pub(crate) fn settled(&self) -> bool {
        self.count
            .is_some_and(|c| self.replied.len() as u32 + self.errors >= c)
            || (self.deadline && self.errors > 0)
    }

    /// Whether every request `-c` asked for is out (never, under a deadline).
    fn all_sent(&self) -> bool {
        !self.deadline && self.count.is_some_and(|c| self.sent >= c)
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

    /// How long iputils waits when no reply came (`-W`, else 10 s).
    fn linger(&self) -> Duration {
        self.wait.unwrap_or(PING_DEFAULT_WAIT)
    }
}

/// A percentage as C's `%g` prints it (six significant digits, no
/// trailing zeros): iputils' packet loss.
fn percent(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let decimals = (5 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
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
    /// ping's exit status: 0 with at least one reply, 1 without (or under
    /// a deadline with fewer than `-c`), 2 when ping could not start.
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
    /// Runs `ping` in `ns` to completion (in virtual time). A ping with
    /// neither a count nor a deadline would never complete: it is refused.
    pub fn ping(&mut self, ns: NsId, req: &Ping, explain: bool) -> PingOutcome {
        if req.count.is_none() && req.deadline.is_none() {
            return PingOutcome::error("ping without -c N or -w S never ends: the emulator needs one".into());
        }
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
            size: req.size,
            pmtudisc: req.pmtudisc,
            count: req.count,
            interval: Duration::from_secs_f64(req.interval),
            wait: req.wait.map(Duration::from_secs_f64),
            deadline: req.deadline.is_some(),
            oom_count: 0,
            sent: 0,
            send_times: Vec::new(),
            started: self.now,
            last_attempt: self.now,
            replied: Vec::new(),
            rtts: Vec::new(),
            errors: 0,
            lines: Vec::new(),
            done: false,
        });
        if let Some(s) = req.deadline {
            // iputils sets its alarm before it sends anything.
            self.schedule(Duration::secs(u64::from(s)), Work::PingDone { ping: idx });
        }
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
            "PING {0} ({0}) {from}{1}({2}) bytes of data.\n",
            p.dst,
            p.size,
            p.size + 28
        );
        for l in &p.lines {
            out.push_str(l);
            out.push('\n');
        }
        let span = (p.last_attempt - p.started).as_millis_f64().round() as u64;
        out.push_str(&format!("\n--- {} ping statistics ---\n", p.dst));
        let _ = write!(out, "{} packets transmitted, {received} received", p.sent);
        if p.errors > 0 {
            let _ = write!(out, ", +{} errors", p.errors);
        }
        // Loss and time only when something went out.
        if p.sent > 0 {
            let loss = percent(100.0 * f64::from(p.sent - received.min(p.sent)) / f64::from(p.sent));
            let _ = write!(out, ", {loss}% packet loss, time {span}ms");
        }
        out.push('\n');
        if !p.rtts.is_empty() && p.size >= TIMESTAMP_LEN {
            let ms: Vec<f64> = p.rtts.iter().map(|d| d.as_millis_f64()).collect();
            let (min, max) = ms
                .iter()
                .fold((f64::MAX, 0f64), |(a, b), &x| (a.min(x), b.max(x)));
            let avg = ms.iter().sum::<f64>() / ms.len() as f64;
            let mdev = (ms.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / ms.len() as f64).sqrt();
            out.push_str(&format!(
                "rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms"
            ));
        }
        // iputils ends its summary with a line of its own, empty without times.
        out.push('\n');
        // iputils: failure without a reply, or under a deadline with fewer
        // replies than -c asked for.
        let short = p.deadline && p.count.is_some_and(|c| received < c);
        PingOutcome {
            transmitted: p.sent,
            received,
            errors: p.errors,
            exit_code: if received == 0 || short { 1 } else { 0 },
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

    /// iputils' `pinger`: one echo request (or a retry of the last one a
    /// device refused), then the next send or the wait for replies.
    pub(crate) fn ping_send(&mut self, idx: usize) {
        let now = self.now;
        let p = &mut self.pings[idx];
        if p.done || p.all_sent() {
            return;
        }
        let seq = (p.sent + 1) as u16;
        p.last_attempt = now;
        if p.send_times.len() as u32 > p.sent {
            // A retry of the request a device refused.
            *p.send_times.last_mut().expect("longer than sent") = now;
        } else {
            p.send_times.push(now);
        }
        let (ns, src, dst, oif, id, ttl, size, pmtudisc) =
            (p.ns, p.src, p.dst, p.oif, p.id, p.ttl, p.size, p.pmtudisc);
        // iputils' pattern: each byte its index (a timestamp aside).
        let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let echo = Echo {
            kind: EchoKind::Request,
            id,
            seq,
            data,
        };
        let sent = match self.route_output(ns, dst, oif) {
            Some(route) => {
                let (mtu, may_df) = self.path_mtu(ns, &route, dst, false);
                let len = size + 28;
                if pmtudisc == Pmtudisc::Do && len > mtu as usize {
                    self.pings[idx].error(format!("ping: local error: message too long, mtu={mtu}"));
                    Xmit::Sent
                } else {
                    let df = match pmtudisc {
                        Pmtudisc::Do => true,
                        Pmtudisc::Want => may_df && len <= mtu as usize,
                        Pmtudisc::Dont => false,
                    };
                    let mut packet = self.ip_packet(ns, src, dst, df, &echo.bytes());
                    if let Some(t) = ttl {
                        set_ttl(&mut packet, t);
                    }
                    self.ip_output_mtu(ns, route, dst, packet, Some((idx, seq)), mtu as usize)
                }
            }
            None => {
                self.pings[idx].error("ping: sendmsg: Network is unreachable".into());
                Xmit::Sent
            }
        };
        let p = &mut self.pings[idx];
        let interval = p.interval;
        if sent == Xmit::Dropped {
            // ENOBUFS: iputils tries the same request again an interval
            // later, until its tries would outlast -W; then it gives up on
            // it ("sendmsg: No buffer space available", not an error).
            // (The retry waits out the interval's tokens, at least 10 ms.)
            p.oom_count += 1;
            let nores = Duration(interval.0 / 2).clamp(MIN_INTERVAL, Duration::millis(500));
            if u64::from(p.oom_count) * nores.0 < p.linger().0 {
                self.schedule(interval.max(nores), Work::PingSend { ping: idx });
                return;
            }
            p.lines.push("ping: sendmsg: No buffer space available".into());
        } else {
            p.oom_count = 0;
        }
        p.sent += 1;
        if p.all_sent() {
            // iputils' `schedule_exit`: twice the slowest reply, at least
            // an interval; without a reply, -W.
            let linger = if p.replied.is_empty() {
                p.linger()
            } else {
                let max = p.rtts.iter().copied().max().unwrap_or_default();
                Duration(max.0.saturating_mul(2))
                    .max(interval)
                    .max(Duration::millis(1))
            };
            self.schedule(linger, Work::PingDone { ping: idx });
        } else {
            self.schedule(interval, Work::PingSend { ping: idx });
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
        // Without room for a timestamp, iputils cannot time the reply.
        let time = if echo.data.len() >= TIMESTAMP_LEN {
            format!(" time={:.3} ms", rtt.as_millis_f64())
        } else {
            String::new()
        };
        p.lines.push(format!(
            "{} bytes from {from}: icmp_seq={} ttl={ttl}{time}{}",
            echo.data.len() + 8,
            echo.seq,
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
