//! The default backend: every line runs on the emulator (`mvl-sim`).

use std::path::{Path, PathBuf};

use mvl_sim::time::Duration;
use mvl_sim::{tcpdump_lines, write_pcap, CaptureId, Captured, Sim, SimError};

use crate::ast::{Command, Line};
use crate::error::LabError;
use crate::run::{Backend, Outcome, Res};

/// Virtual time between two lab lines.
const COMMAND_GAP: Duration = Duration::millis(1);
/// How long captures go on after the last line, for frames still in flight
/// (the real backends wait as long before they stop tcpdump).
const CAPTURE_TAIL: Duration = Duration::millis(300);

struct BgCapture {
    line: usize,
    id: CaptureId,
    write: Option<PathBuf>,
    link: bool,
}

/// Runs lab lines on an emulated host.
pub struct SimBackend {
    sim: Sim,
    captures: Vec<BgCapture>,
    pcap_dir: Option<PathBuf>,
    base: PathBuf,
}

impl SimBackend {
    /// A fresh emulated host; `-w FILE` paths are relative to `base`, and
    /// with `pcap_dir` every device's frames are written there at the end.
    pub fn new(seed: u64, base: PathBuf, pcap_dir: Option<PathBuf>) -> SimBackend {
        let mut sim = Sim::new(seed);
        if pcap_dir.is_some() {
            sim.capture_everything();
        }
        SimBackend {
            sim,
            captures: Vec::new(),
            pcap_dir,
            base,
        }
    }

    /// The emulator, for inspection.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    fn exec(&mut self, line: &Line, explain: bool) -> Result<Outcome, SimError> {
        let ns = self.sim.netns(line.netns.as_deref())?;
        let out = match &line.command {
            Command::NetnsAdd(n) => {
                self.sim.netns_add(n)?;
                String::new()
            }
            Command::NetnsDel(n) => {
                self.sim.netns_del(n)?;
                String::new()
            }
            Command::NetnsList => self.sim.netns_list(),
            Command::LinkAdd(a) => {
                self.sim.link_add(ns, a)?;
                String::new()
            }
            Command::LinkSet(s) => {
                self.sim.link_set(ns, s)?;
                String::new()
            }
            Command::LinkDel(d) => {
                self.sim.link_del(ns, d)?;
                String::new()
            }
            Command::LinkShow(s) => self.sim.link_show(ns, s)?,
            Command::AddrAdd(c, d) => {
                self.sim.addr_add(ns, *c, d)?;
                String::new()
            }
            Command::AddrDel(c, d) => {
                self.sim.addr_del(ns, *c, d)?;
                String::new()
            }
            Command::AddrShow(a) => self.sim.addr_show(ns, a)?,
            Command::AddrFlush(d) => {
                self.sim.addr_flush(ns, d)?;
                String::new()
            }
            Command::NeighFlush(d) => {
                self.sim.neigh_flush_cmd(ns, d.as_deref())?;
                String::new()
            }
            Command::NeighShow(form) => self.sim.neigh_show(ns, *form),
            Command::NeighSet(n) => {
                self.sim.neigh_set_cmd(ns, n)?;
                String::new()
            }
            Command::NeighDel { addr, dev } => {
                self.sim.neigh_del_cmd(ns, *addr, dev)?;
                String::new()
            }
            Command::RouteSet(r) => {
                self.sim.route_set(ns, r)?;
                String::new()
            }
            Command::RouteShow(r) => self.sim.route_show(ns, r)?,
            Command::Sysctl(c) => self.sim.sysctl(ns, c),
            Command::BridgeHairpin { dev, on } => {
                self.sim.bridge_hairpin(ns, dev, *on)?;
                String::new()
            }
            Command::BridgeLinkShow => self.sim.bridge_link_show(ns),
            Command::BridgeFdbShow => self.sim.bridge_fdb_show(ns),
            Command::Ping { ping, quiet } => {
                let o = self.sim.ping(ns, ping, explain);
                let stats = o
                    .output
                    .lines()
                    .find(|l| l.contains("packets transmitted"))
                    .map(str::to_string);
                let output = if *quiet {
                    o.output
                        .lines()
                        .skip_while(|l| !l.starts_with("---"))
                        .map(|l| format!("{l}\n"))
                        .collect()
                } else {
                    o.output.clone()
                };
                let result = match o.exit_code {
                    0 => Res::Ok,
                    1 => Res::Fail,
                    _ => Res::Error,
                };
                let message = if o.exit_code == 2 {
                    Some(o.output.trim().to_string())
                } else {
                    stats
                };
                return Ok(Outcome {
                    result,
                    output,
                    message,
                    explain: o.trace.unwrap_or_default(),
                });
            }
            Command::Tcpdump {
                dev,
                filter,
                count,
                write,
                link,
            } => {
                let id = self.sim.tcpdump_start(ns, dev, *filter, *count)?;
                self.captures.push(BgCapture {
                    line: line.number,
                    id,
                    write: write.as_ref().map(|w| self.base.join(w)),
                    link: *link,
                });
                return Ok(Outcome {
                    result: Res::Ok,
                    output: String::new(),
                    message: Some(format!("listening on {dev}, link-type EN10MB (Ethernet)")),
                    explain: Vec::new(),
                });
            }
            Command::Sleep(s) => {
                self.sim.sleep(Duration::from_secs_f64(*s));
                String::new()
            }
            Command::Refused(why) => return Ok(Outcome::error(why.clone())),
        };
        Ok(Outcome::ok(out))
    }
}

impl Backend for SimBackend {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn run(&mut self, line: &Line, explain: bool) -> Outcome {
        // A command is a process that takes a moment to start: frames in
        // flight land before it runs, as they do on a real host.
        self.sim.sleep(COMMAND_GAP);
        match self.exec(line, explain) {
            Ok(o) => o,
            Err(e) => Outcome::error(e.to_string()),
        }
        .after_warnings(line.command.warnings())
    }

    fn finish(&mut self) -> Result<Vec<(usize, Vec<String>)>, LabError> {
        if !self.captures.is_empty() || self.pcap_dir.is_some() {
            self.sim.sleep(CAPTURE_TAIL);
        }
        let mut out = Vec::new();
        for c in &self.captures {
            let frames = self.sim.captured(c.id);
            if let Some(path) = &c.write {
                pcap_file(path, frames)?;
            }
            out.push((c.line, tcpdump_lines(frames, c.link)));
        }
        if let Some(dir) = &self.pcap_dir {
            std::fs::create_dir_all(dir).map_err(|e| LabError::Write {
                path: dir.display().to_string(),
                source: e,
            })?;
            for (ns, dev, frames) in self.sim.everything_captured() {
                pcap_file(&dir.join(format!("{ns}-{dev}.pcap")), frames)?;
            }
        }
        Ok(out)
    }
}

/// Writes `frames` as a pcap file at `path`.
fn pcap_file(path: &Path, frames: &[Captured]) -> Result<(), LabError> {
    let write = |e| LabError::Write {
        path: path.display().to_string(),
        source: e,
    };
    let f = std::fs::File::create(path).map_err(write)?;
    write_pcap(std::io::BufWriter::new(f), frames).map_err(write)
}
