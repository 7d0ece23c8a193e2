//! The test harness: private namespaces, a veth master, the plugin run as
//! a runtime runs it, a scriptable fake IPAM plugin.
//!
//! Nothing of the machine is touched: every namespace is made by
//! `NetNs::new_private` (a thread unshares and hands back a descriptor),
//! `CNI_NETNS` is `/proc/<test pid>/fd/<fd>` of that descriptor, and the
//! plugin is spawned from a thread inside the lab's private "host"
//! namespace, so it inherits that namespace.

#![allow(dead_code)]

use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use mvl_netlink::{Link, NetNs, Netlink};
use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_mvl-cni");
pub const REF_DIR: &str = "/usr/lib/cni";

/// A directory removed with the value.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "mvl-cni-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A container: a private namespace and the `CNI_NETNS` path to it.
pub struct Container {
    pub ns: NetNs,
    pub path: String,
}

impl Container {
    pub fn new() -> Container {
        let ns = NetNs::new_private().expect("unshare a network namespace");
        let path = format!("/proc/{}/fd/{}", std::process::id(), ns.as_raw_fd());
        Container { ns, path }
    }

    pub fn nl(&self) -> Netlink {
        Netlink::open_in(&self.ns).unwrap()
    }

    pub fn link(&self, name: &str) -> Option<Link> {
        self.nl().link(name).ok()
    }

    /// Every link but `lo`.
    pub fn links(&self) -> Vec<Link> {
        self.nl()
            .links()
            .unwrap()
            .into_iter()
            .filter(|l| l.name != "lo")
            .collect()
    }

    /// Asserts that the only links are those named in `keep`: DEL and a
    /// failed ADD leave nothing behind, at once.
    #[track_caller]
    pub fn assert_clean(&self, keep: &[&str]) {
        let left: Vec<String> = self
            .links()
            .into_iter()
            .map(|l| l.name)
            .filter(|n| !keep.contains(&n.as_str()))
            .collect();
        assert!(left.is_empty(), "links left behind in the container: {left:?}");
    }

    pub fn addresses(&self, name: &str) -> Vec<String> {
        let mut nl = self.nl();
        let l = nl.link(name).unwrap();
        let mut v: Vec<String> = mvl_cni::net::addresses(&mut nl, l.index)
            .unwrap()
            .into_iter()
            .filter(|a| !matches!(a.net.addr(), IpAddr::V6(x) if x.segments()[0] == 0xfe80))
            .map(|a| a.net.to_string())
            .collect();
        v.sort();
        v
    }

    /// IPv4 routes through `name` as `dst via gw` strings (kernel routes too).
    pub fn routes(&self, name: &str) -> Vec<String> {
        let mut nl = self.nl();
        let l = nl.link(name).unwrap();
        let mut v: Vec<String> = mvl_cni::net::routes(&mut nl)
            .unwrap()
            .into_iter()
            .filter(|r| r.destination.addr().is_ipv4() && r.oif == Some(l.index) && r.table == 254)
            .map(|r| match r.gateway {
                Some(g) => format!("{} via {g}", r.destination),
                None => r.destination.to_string(),
            })
            .collect();
        v.sort();
        v
    }

    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        self.ns.run(f).unwrap()
    }
}

/// What the plugin answered.
#[derive(Debug)]
pub struct Out {
    pub ok: bool,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn code(&self) -> u64 {
        self.json["code"].as_u64().unwrap_or(0)
    }

    pub fn msg(&self) -> String {
        self.json["msg"].as_str().unwrap_or("").to_string()
    }

    #[track_caller]
    pub fn expect_ok(&self) -> &Value {
        assert!(self.ok, "plugin failed: {}\nstderr: {}", self.stdout, self.stderr);
        &self.json
    }

    #[track_caller]
    pub fn expect_code(&self, code: u64) -> String {
        assert!(!self.ok, "expected error {code}, got success: {}", self.stdout);
        assert_eq!(
            self.code(),
            code,
            "wrong code: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self.msg()
    }
}

/// A lab: a private "host" namespace with the master `veth0`
/// (10.1.0.1/24), its peer `veth1` in a private "lan" namespace, a temp
/// directory for state and fake plugins.
pub struct Lab {
    pub host: NetNs,
    pub lan: NetNs,
    pub dir: TempDir,
    pub bin: PathBuf,
}

impl Lab {
    pub fn new() -> Lab {
        let host = NetNs::new_private().unwrap();
        let lan = NetNs::new_private().unwrap();
        let mut nl = Netlink::open_in(&host).unwrap();
        nl.add_veth("veth0", "veth1").unwrap();
        nl.set_netns("veth1", &lan).unwrap();
        nl.set_up("veth0", true).unwrap();
        nl.set_up("lo", true).unwrap();
        nl.add_address("veth0", "10.1.0.1/24".parse().unwrap()).unwrap();
        let mut lnl = Netlink::open_in(&lan).unwrap();
        lnl.set_up("veth1", true).unwrap();
        let dir = TempDir::new("lab");
        let bin = dir.0.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let lab = Lab { host, lan, dir, bin };
        lab.write_fake_ipam();
        lab
    }

    pub fn host_nl(&self) -> Netlink {
        Netlink::open_in(&self.host).unwrap()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.0.join("state")
    }

    /// The fake IPAM plugin `fake-ipam`: logs each call to `ipam.log`,
    /// saves its stdin, answers ADD with `ipam-result.json`, and fails with
    /// the code in `ipam-fail` (when that file exists) for the command
    /// named in `ipam-fail-cmd` (default ADD).
    fn write_fake_ipam(&self) {
        let d = self.dir.0.display();
        let script = format!(
            r#"#!/bin/sh
d={d}
cat > "$d/ipam-stdin-$CNI_COMMAND"
echo "$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME" >> "$d/ipam.log"
failcmd=ADD
[ -f "$d/ipam-fail-cmd" ] && failcmd=$(cat "$d/ipam-fail-cmd")
if [ -f "$d/ipam-fail" ] && [ "$CNI_COMMAND" = "$failcmd" ]; then
  echo "{{\"cniVersion\":\"1.0.0\",\"code\":$(cat "$d/ipam-fail"),\"msg\":\"fake IPAM refuses\",\"details\":\"as told\"}}"
  exit 1
fi
case "$CNI_COMMAND" in
  ADD) cat "$d/ipam-result.json" ;;
  VERSION)
    if [ -f "$d/ipam-versions" ]; then cat "$d/ipam-versions";
    else echo '{{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}}'; fi ;;
esac
exit 0
"#
        );
        let p = self.bin.join("fake-ipam");
        std::fs::write(&p, script).unwrap();
        Command::new("chmod").arg("+x").arg(&p).status().unwrap();
        self.set_ipam_result(&json!({
            "cniVersion": "1.0.0",
            "ips": [{"address": "10.1.0.10/24", "gateway": "10.1.0.1"}],
            "routes": [{"dst": "0.0.0.0/0"}],
            "dns": {"nameservers": ["10.1.0.1"]}
        }));
    }

    pub fn set_ipam_result(&self, v: &Value) {
        std::fs::write(self.dir.0.join("ipam-result.json"), v.to_string()).unwrap();
    }

    pub fn ipam_fail(&self, cmd: &str, code: u32) {
        std::fs::write(self.dir.0.join("ipam-fail"), code.to_string()).unwrap();
        std::fs::write(self.dir.0.join("ipam-fail-cmd"), cmd).unwrap();
    }

    pub fn ipam_ok(&self) {
        let _ = std::fs::remove_file(self.dir.0.join("ipam-fail"));
    }

    /// The commands the fake IPAM got, VERSION probes left out.
    pub fn ipam_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.0.join("ipam.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split(' ').next().unwrap_or("").to_string())
            .filter(|c| c != "VERSION")
            .collect()
    }

    pub fn clear_ipam_log(&self) {
        let _ = std::fs::remove_file(self.dir.0.join("ipam.log"));
    }

    pub fn cni_path(&self) -> String {
        format!("{}:{REF_DIR}", self.bin.display())
    }

    /// Runs `plugin` with `CNI_COMMAND=cmd` from inside the host namespace.
    pub fn exec(&self, plugin: &Path, cmd: &str, conf: &Value, env: &[(&str, &str)]) -> Out {
        let plugin = plugin.to_path_buf();
        let stdin = conf.to_string();
        let mut vars: Vec<(String, String)> = vec![
            ("CNI_COMMAND".into(), cmd.into()),
            ("CNI_PATH".into(), self.cni_path()),
            ("MVL_CNI_STATE_DIR".into(), self.state_dir().display().to_string()),
        ];
        for (k, v) in env {
            vars.retain(|(kk, _)| kk != k);
            vars.push((k.to_string(), v.to_string()));
        }
        let o = self
            .host
            .run(move || {
                let mut c = Command::new(&plugin);
                for k in [
                    "CNI_COMMAND",
                    "CNI_CONTAINERID",
                    "CNI_NETNS",
                    "CNI_IFNAME",
                    "CNI_ARGS",
                    "CNI_PATH",
                    "CNI_NETNS_OVERRIDE",
                ] {
                    c.env_remove(k);
                }
                let mut child = c
                    .envs(vars.iter().map(|(k, v)| (k, v)))
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("run the plugin");
                use std::io::Write;
                let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
                child.wait_with_output().unwrap()
            })
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        Out {
            ok: o.status.success(),
            json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stdout,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Runs ours for container `c` with `CNI_IFNAME=ifname`.
    pub fn cni(&self, cmd: &str, conf: &Value, c: &Container, ifname: &str) -> Out {
        self.cni_env(cmd, conf, c, ifname, &[])
    }

    pub fn cni_env(&self, cmd: &str, conf: &Value, c: &Container, ifname: &str, env: &[(&str, &str)]) -> Out {
        self.plugin_env(Path::new(BIN), cmd, conf, c, ifname, env)
    }

    pub fn plugin_env(
        &self,
        plugin: &Path,
        cmd: &str,
        conf: &Value,
        c: &Container,
        ifname: &str,
        env: &[(&str, &str)],
    ) -> Out {
        let mut all = vec![
            ("CNI_CONTAINERID", "ctr1"),
            ("CNI_NETNS", c.path.as_str()),
            ("CNI_IFNAME", ifname),
        ];
        for (k, v) in env {
            all.retain(|(kk, _)| kk != k);
            all.push((k, v));
        }
        self.exec(plugin, cmd, conf, &all)
    }

    /// `ping -c 1 -W 1 ADDR` from a thread inside `ns`.
    pub fn ping(ns: &NetNs, addr: &str) -> bool {
        let addr = addr.to_string();
        ns.run(move || {
            Command::new("ping")
                .args(["-c", "1", "-W", "1", &addr])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
        .unwrap()
    }
}

/// A configuration of ours with the fake IPAM, `master: veth0`.
pub fn conf(version: &str, extra: Value) -> Value {
    let mut v = json!({
        "cniVersion": version,
        "name": "testnet",
        "type": "mvl-cni",
        "master": "veth0",
        "ipam": {"type": "fake-ipam"}
    });
    for (k, x) in extra.as_object().unwrap() {
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x.clone();
        }
    }
    v
}

/// `conf` with `prevResult` set.
pub fn with_prev(conf: &Value, prev: &Value) -> Value {
    let mut c = conf.clone();
    c["prevResult"] = prev.clone();
    c
}

/// Whether the reference plugins are installed.
pub fn have_reference() -> bool {
    ["macvlan", "static", "host-local"]
        .iter()
        .all(|p| Path::new(REF_DIR).join(p).exists())
}
