//! The user backend: the kernel backend's sandbox, with every macvlan
//! served by the userspace datapath (`mvl-datapath`) instead of the
//! kernel's driver. Only what makes a macvlan a macvlan goes to the engine —
//! creating one, deleting one, changing its macvlan options — and `link
//! show` of one; everything else runs for real, as a person would run it:
//! `ip link set ... up|down|mtu|address|name|netns` on a child is the real
//! `ip` on its TAP. Where the kernel would refuse such a change (and a TAP
//! would not), the engine's rules are asked first and the kernel's error is
//! printed instead. After each real command the engine reconciles with what
//! exists (a child's TAP changed, a lower moved, renamed, deleted or without
//! carrier), so the next line sees the result. A lower that has children
//! cannot join a bridge (EBUSY), as with the kernel.

use std::path::PathBuf;
use std::sync::Arc;

use mvl_datapath::{AddRequest, DevSpec, Engine, Options, SetRequest};
use mvl_iproute2::cmd::{LinkAdd, LinkSet, LinkShow, NewKind};
use mvl_iproute2::show::{links_brief_json, links_json, How};

use crate::ast::{Command, Line};
use crate::error::LabError;
use crate::real::RealRunner;
use crate::run::{Backend, Outcome};

/// Runs lab lines with macvlans served by the userspace datapath.
pub struct UserBackend {
    real: RealRunner,
    engine: Arc<Engine>,
}

/// A refusal in iproute2's words, as the emulator words the same one: a
/// device iproute2 looks up itself, the kernel's extack where it sends one.
fn refused(e: mvl_datapath::Error) -> Outcome {
    match e {
        mvl_datapath::Error::NoDevice(_) => return Outcome::error(e.to_string()),
        mvl_datapath::Error::Rule(r) => return Outcome::error(mvl_sim::SimError::from(r).to_string()),
        _ => {}
    }
    let prefix = match e.errno() {
        Some(n) => format!("RTNETLINK answers: {} ", errno_text(n)),
        None => String::new(),
    };
    Outcome::error(format!("{prefix}({e})"))
}

fn errno_text(n: i32) -> String {
    match mvl_core::Errno::from_code(n) {
        Some(e) => e.message().to_string(),
        None => nix::errno::Errno::from_raw(n).desc().to_string(),
    }
}

impl UserBackend {
    /// Creates the sandbox and the engine inside it. Needs root.
    pub fn new(base: PathBuf) -> Result<UserBackend, LabError> {
        let real = RealRunner::new(base, "user")?;
        let engine = real
            .sandbox
            .call(|| Engine::new(Options::default()).map(Arc::new))
            .map_err(|e| LabError::Backend {
                backend: "user".into(),
                why: e.to_string(),
            })?;
        Ok(UserBackend { real, engine })
    }

    fn on_sandbox<T: Send + 'static>(&self, f: impl FnOnce(&Engine) -> T + Send + 'static) -> T {
        let e = self.engine.clone();
        self.real.sandbox.call(move || f(&e))
    }

    fn is_child(&self, netns: &Option<String>, name: &str) -> bool {
        let spec = DevSpec {
            netns: netns.clone(),
            name: name.to_string(),
        };
        self.on_sandbox(move |e| e.is_child(&spec))
    }

    fn add(&self, netns: &Option<String>, a: &LinkAdd) -> Outcome {
        let NewKind::Macvlan { link, opts } = &a.kind else {
            unreachable!("checked by the caller")
        };
        let Some(link) = link else {
            return Outcome::error("RTNETLINK answers: Invalid argument (a macvlan needs \"link DEV\")");
        };
        let base = AddRequest {
            name: String::new(),
            link: DevSpec {
                netns: netns.clone(),
                name: link.clone(),
            },
            netns: a.netns.clone().or_else(|| netns.clone()),
            address: a.address.map(|m| m.to_string()),
            mtu: a.mtu,
            macvlan: opts.clone(),
            spoofchk: false,
        };
        let name = a.name.clone();
        let r = self.on_sandbox(move |e| match name {
            Some(n) => e.add(&AddRequest { name: n, ..base }).map(drop),
            // The kernel names it macvlanN, the first free N.
            None => (0..)
                .map(|i| {
                    e.add(&AddRequest {
                        name: format!("macvlan{i}"),
                        ..base.clone()
                    })
                })
                .find(|r| !matches!(r, Err(mvl_datapath::Error::Exists { .. })))
                .expect("some name is free")
                .map(drop),
        });
        match r {
            Ok(()) => Outcome::ok(String::new()),
            Err(e) => refused(e),
        }
    }

    fn set(&mut self, line: &Line, s: &LinkSet) -> Outcome {
        if s.master.is_some() || s.promisc.is_some() || s.allmulti.is_some() || s.fdb_flush {
            return Outcome::error(format!(
                "{}: master, promisc and allmulticast on a macvlan are not served by the user backend",
                s.dev
            ));
        }
        let netns = &line.netns;
        let req = SetRequest {
            dev: DevSpec {
                netns: netns.clone(),
                name: s.dev.clone(),
            },
            up: s.up,
            address: s.address.map(|m| m.to_string()),
            mtu: s.mtu,
            name: s.name.clone(),
            netns: s.netns.clone(),
            macvlan: s.macvlan.clone(),
            spoofchk: None,
        };
        if req.macvlan.is_some() {
            return match self.on_sandbox(move |e| e.set(&req)) {
                Ok(()) => Outcome::ok(String::new()),
                Err(e) => refused(e),
            };
        }
        // A device change: the real `ip` on the TAP, unless the kernel's
        // macvlan would refuse it, which a TAP cannot.
        match self.on_sandbox(move |e| e.check_set(&req)) {
            Ok(()) => self.real(line),
            // Exactly what `ip` prints, as the line runs `ip` on the TAP.
            Err(mvl_datapath::Error::Rule(r)) => Outcome::error(mvl_sim::SimError::from(r).tool_text()),
            Err(e) => match e.errno() {
                Some(n) => Outcome::error(format!("RTNETLINK answers: {}", errno_text(n))),
                None => refused(e),
            },
        }
    }

    /// `ip link show` of children, as iproute2 shows a kernel macvlan.
    fn show(&self, netns: &Option<String>, s: &LinkShow) -> Outcome {
        let filter = s.dev.clone().map(|d| DevSpec {
            netns: netns.clone(),
            name: d,
        });
        let here = netns.clone();
        let listed = self.on_sandbox(move |e| {
            // Without a device: the children living in this namespace.
            e.show(filter.as_ref()).map(|all| {
                all.into_iter()
                    .filter(|c| filter.is_some() || c.netns == here)
                    .collect::<Vec<_>>()
            })
        });
        let how = How {
            details: s.details,
            stats: u8::from(s.stats),
        };
        match listed {
            // A macvlan is no bridge port: `master M` lists none of them.
            Ok(_) if s.master.is_some() => Outcome::ok(String::new()),
            Ok(list) if s.form.json => {
                let views: Vec<_> = list.iter().map(|c| c.view()).collect();
                Outcome::ok(if s.form.brief {
                    links_brief_json(&views, s.form.pretty)
                } else {
                    links_json(&views, how, s.form.pretty)
                })
            }
            Ok(list) if s.form.brief || s.form.oneline => {
                Outcome::ok(list.iter().map(|c| c.view().render(how, s.form)).collect())
            }
            Ok(list) => Outcome::ok(list.iter().map(|c| c.to_text(s.details, s.stats)).collect()),
            Err(e) => refused(e),
        }
    }

    fn real(&mut self, line: &Line) -> Outcome {
        if let Command::LinkSet(s) = &line.command {
            if let Some(Some(master)) = &s.master {
                let (dev, m) = (
                    DevSpec {
                        netns: line.netns.clone(),
                        name: s.dev.clone(),
                    },
                    master.clone(),
                );
                if let Err(e) = self.on_sandbox(move |e| e.check_enslave(&dev, &m)) {
                    return refused(e);
                }
            }
        }
        let o = self.real.run(line);
        if let Err(e) = self.on_sandbox(|e| e.reconcile()) {
            return Outcome::error(format!("the datapath could not follow that change: {e}"));
        }
        o
    }
}

impl Backend for UserBackend {
    fn name(&self) -> &'static str {
        "user"
    }

    fn run(&mut self, line: &Line, _explain: bool) -> Outcome {
        let ns = &line.netns;
        match &line.command {
            // Where the daemon answers, not `ip`, its warnings are ours to print.
            Command::LinkAdd(a) if matches!(a.kind, NewKind::Macvlan { .. }) => {
                self.add(ns, a).after_warnings(&a.warnings)
            }
            Command::LinkSet(s) if self.is_child(ns, &s.dev) => self.set(line, s).after_warnings(&s.warnings),
            Command::LinkShow(s)
                if s.dev.as_ref().is_some_and(|d| self.is_child(ns, d))
                    || (s.dev.is_none() && s.kind.as_deref() == Some("macvlan")) =>
            {
                self.show(ns, s)
            }
            Command::LinkDel(d) if self.is_child(ns, d) => {
                let spec = DevSpec {
                    netns: ns.clone(),
                    name: d.clone(),
                };
                match self.on_sandbox(move |e| e.del(&spec)) {
                    Ok(()) => Outcome::ok(String::new()),
                    Err(e) => refused(e),
                }
            }
            _ => self.real(line),
        }
    }

    fn finish(&mut self) -> Result<Vec<(usize, Vec<String>)>, LabError> {
        Ok(self.real.finish())
    }
}

impl Drop for UserBackend {
    fn drop(&mut self) {
        // Forwarding threads and TAPs go before the sandbox's namespaces.
        let e = self.engine.clone();
        self.real.sandbox.call(move || e.shutdown());
    }
}
