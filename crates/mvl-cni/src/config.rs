//! The network configuration on stdin: read leniently for DEL and GC
//! (which must work whatever else is wrong), validated strictly for ADD,
//! CHECK and STATUS.

use std::path::PathBuf;

use mvl_core::{BadMac, Flags, MacAddr, Mode};
use serde_json::{Map, Value};

use crate::env::Invocation;
use crate::error::{Error, Result};
use crate::result::Dns;
use crate::version::Version;

/// How the master is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterSpec {
    /// By name (`master`); the kernel also matches alternative names.
    Name(String),
    /// By MAC address (`masterMatch` holding a MAC).
    Mac(MacAddr),
    /// By name or alternative name (`masterMatch` holding anything else).
    AltName(String),
    /// The interface of the first default route (`master` empty).
    DefaultRoute,
}

/// An attachment the runtime still holds (GC's `cni.dev/valid-attachments`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// `CNI_CONTAINERID` of its ADD.
    pub container_id: String,
    /// `CNI_IFNAME` of its ADD.
    pub ifname: String,
}

/// The configuration as read, before validation. Fields of the wrong type
/// are left at their defaults and recorded in `problems`.
#[derive(Debug, Clone, Default)]
pub struct Conf {
    /// `cniVersion`.
    pub version: Option<Version>,
    /// `name`.
    pub name: String,
    /// `master`.
    pub master: String,
    /// `masterMatch`.
    pub master_match: Option<String>,
    /// `mode` (empty: bridge).
    pub mode: String,
    /// `mtu` (0: the master's).
    pub mtu: i64,
    /// `mac`.
    pub mac: String,
    /// `runtimeConfig.mac`.
    pub runtime_mac: String,
    /// `linkInContainer`.
    pub link_in_container: bool,
    /// `bcqueuelen` (0: the kernel's default, as the reference reads it).
    pub bc_queue_len: u32,
    /// `bclim`.
    pub bc_cutoff: Option<i32>,
    /// `sourceMacs`: the allow-list of mode source.
    pub source_macs: Vec<String>,
    /// `nopromisc`.
    pub nopromisc: bool,
    /// `nodst`.
    pub nodst: bool,
    /// `hostAccess`.
    pub host_access: bool,
    /// `stateDir`.
    pub state_dir: Option<PathBuf>,
    /// `ipam.type`, when not empty.
    pub ipam_type: Option<String>,
    /// `dns`.
    pub dns: Dns,
    /// `prevResult`, as given.
    pub prev_result: Option<Value>,
    /// `cni.dev/valid-attachments`.
    pub valid_attachments: Vec<Attachment>,
    /// Fields that could not be read, as messages naming them.
    pub problems: Vec<String>,
}

/// The configuration validated for ADD, CHECK and STATUS.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The master.
    pub master: MasterSpec,
    /// The mode.
    pub mode: Mode,
    /// `nopromisc` / `nodst`.
    pub flags: Flags,
    /// Requested MTU; 0 inherits the master's.
    pub mtu: u32,
    /// The MAC to create the link with, and where it came from.
    pub mac: Option<(MacAddr, &'static str)>,
    /// `bcqueuelen`, when set.
    pub bc_queue_len: Option<u32>,
    /// `bclim`, when set.
    pub bc_cutoff: Option<i32>,
    /// Mode source's allow-list.
    pub source_macs: Vec<MacAddr>,
}

struct Fields<'a> {
    obj: &'a Map<String, Value>,
    problems: Vec<String>,
}

impl<'a> Fields<'a> {
    fn present(&self, k: &str) -> Option<&'a Value> {
        self.obj.get(k).filter(|v| !v.is_null())
    }

    fn string(&mut self, k: &str) -> String {
        match self.present(k) {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                self.problems.push(format!("\"{k}\" must be a string, not {v}"));
                String::new()
            }
        }
    }

    fn boolean(&mut self, k: &str) -> bool {
        match self.present(k) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                self.problems
                    .push(format!("\"{k}\" must be true or false, not {v}"));
                false
            }
        }
    }

    fn int(&mut self, k: &str, lo: i64, hi: i64) -> Option<i64> {
        let v = self.present(k)?;
        match v.as_i64().filter(|n| (lo..=hi).contains(n)) {
            Some(n) => Some(n),
            None => {
                self.problems
                    .push(format!("\"{k}\" must be an integer from {lo} to {hi}, not {v}"));
                None
            }
        }
    }

    fn strings(&mut self, k: &str) -> Vec<String> {
        match self.present(k) {
            None => Vec::new(),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                a.iter().filter_map(|v| v.as_str().map(String::from)).collect()
            }
            Some(v) => {
                self.problems
                    .push(format!("\"{k}\" must be an array of strings, not {v}"));
                Vec::new()
            }
        }
    }

    fn object(&mut self, k: &str) -> Option<&'a Map<String, Value>> {
        match self.obj.get(k).filter(|v| !v.is_null()) {
            None => None,
            Some(Value::Object(o)) => Some(o),
            Some(v) => {
                self.problems.push(format!("\"{k}\" must be an object, not {v}"));
                None
            }
        }
    }
}

/// What libcni accepts as a network name.
fn valid_network_name(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl Conf {
    /// Reads a configuration: refuses only what no command can work with —
    /// not JSON (6), an unsupported `cniVersion` (1), no valid `name` (7).
    pub fn parse(bytes: &[u8]) -> Result<Conf> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::Decode(format!("decoding the network configuration: {e}")))?;
        let obj = v.as_object().ok_or_else(|| {
            Error::Decode(format!(
                "the network configuration must be a JSON object, not {v}"
            ))
        })?;
        let mut f = Fields {
            obj,
            problems: Vec::new(),
        };
        let version_str = f.string("cniVersion");
        let version = Version::parse(&version_str);
        let name = f.string("name");
        let mut c = Conf {
            version,
            name,
            master: f.string("master"),
            master_match: f.present("masterMatch").map(|_| f.string("masterMatch")),
            mode: f.string("mode"),
            mtu: f
                .int("mtu", i64::from(i32::MIN), i64::from(i32::MAX))
                .unwrap_or(0),
            mac: f.string("mac"),
            link_in_container: f.boolean("linkInContainer"),
            bc_queue_len: f.int("bcqueuelen", 0, i64::from(u32::MAX)).unwrap_or(0) as u32,
            bc_cutoff: f
                .int("bclim", i64::from(i32::MIN), i64::from(i32::MAX))
                .map(|n| n as i32),
            source_macs: f.strings("sourceMacs"),
            nopromisc: f.boolean("nopromisc"),
            nodst: f.boolean("nodst"),
            host_access: f.boolean("hostAccess"),
            state_dir: Some(f.string("stateDir"))
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            prev_result: f.present("prevResult").cloned(),
            ..Default::default()
        };
        if let Some(ipam) = f.object("ipam") {
            match ipam.get("type") {
                None | Some(Value::Null) => {}
                Some(Value::String(t)) if t.is_empty() => {}
                Some(Value::String(t)) => c.ipam_type = Some(t.clone()),
                Some(t) => f
                    .problems
                    .push(format!("\"ipam.type\" must be a string, not {t}")),
            }
        }
        if let Some(d) = f.object("dns") {
            match serde_json::from_value::<Dns>(Value::Object(d.clone())) {
                Ok(d) => c.dns = d,
                Err(e) => f.problems.push(format!("\"dns\": {e}")),
            }
        }
        if let Some(rc) = f.object("runtimeConfig") {
            match rc.get("mac") {
                None | Some(Value::Null) => {}
                Some(Value::String(m)) => c.runtime_mac = m.clone(),
                Some(m) => f
                    .problems
                    .push(format!("\"runtimeConfig.mac\" must be a string, not {m}")),
            }
        }
        if let Some(list) = f.present("cni.dev/valid-attachments") {
            let parsed = list.as_array().and_then(|a| {
                a.iter()
                    .map(|e| {
                        Some(Attachment {
                            container_id: e.get("containerID")?.as_str()?.to_string(),
                            ifname: e.get("ifname")?.as_str()?.to_string(),
                        })
                    })
                    .collect::<Option<Vec<_>>>()
            });
            match parsed {
                Some(v) => c.valid_attachments = v,
                None => f.problems.push(
                    "\"cni.dev/valid-attachments\" must be an array of {\"containerID\", \"ifname\"} objects"
                        .into(),
                ),
            }
        }
        c.problems = f.problems;
        if c.version.is_none() {
            return Err(Error::IncompatibleVersion(format!(
                "incompatible CNI versions: the configuration's cniVersion is \"{version_str}\", this plugin supports {}",
                Version::all_strings().join(", ")
            )));
        }
        if c.name.is_empty() {
            return Err(Error::InvalidConfig("missing network name (\"name\")".into()));
        }
        if !valid_network_name(&c.name) {
            return Err(Error::InvalidConfig(format!(
                "invalid network name \"{}\": it must start with a letter or digit, followed by letters, digits, '_', '.' or '-'",
                c.name
            )));
        }
        Ok(c)
    }

    /// The version (checked by [`Conf::parse`]).
    pub fn version(&self) -> Version {
        self.version.unwrap_or(Version::V0_1_0)
    }

    /// The MAC the link gets: `mac` < `CNI_ARGS` `MAC` < `runtimeConfig.mac`,
    /// with where it came from.
    pub fn mac_choice<'a>(&'a self, inv: &'a Invocation) -> Option<(&'a str, &'static str)> {
        if !self.runtime_mac.is_empty() {
            Some((&self.runtime_mac, "runtimeConfig.mac"))
        } else if let Some(m) = inv.arg("MAC").filter(|m| !m.is_empty()) {
            Some((m, "CNI_ARGS MAC"))
        } else if !self.mac.is_empty() {
            Some((&self.mac, "the configuration's \"mac\""))
        } else {
            None
        }
    }

    /// Validates everything that can be checked without the kernel (the
    /// MTU's upper bound needs the master: see [`Settings::check_mtu`]).
    pub fn validate(&self, inv: &Invocation) -> Result<Settings> {
        if let Some(p) = self.problems.first() {
            return Err(Error::InvalidConfig(format!("invalid configuration: {p}")));
        }
        let mode = match self.mode.as_str() {
            "" => Mode::Bridge,
            m => m.parse().map_err(|_| {
                Error::InvalidConfig(format!(
                    "unknown macvlan mode \"{m}\" (expected bridge, private, vepa, passthru or source)"
                ))
            })?,
        };
        let master = match (self.master.as_str(), &self.master_match) {
            (m, Some(_)) if !m.is_empty() => {
                return Err(Error::InvalidConfig(
                    "give either \"master\" or \"masterMatch\", not both".into(),
                ))
            }
            (_, Some(mm)) if mm.is_empty() => {
                return Err(Error::InvalidConfig(
                    "\"masterMatch\" is empty: give a MAC address or an interface's alternative name".into(),
                ))
            }
            (_, Some(mm)) => match mm.parse::<MacAddr>() {
                Ok(mac) => MasterSpec::Mac(mac),
                Err(_) => {
                    // Alternative names may be up to 127 bytes (ALTIFNAMSIZ).
                    if mm.len() > 127 || mm.contains('/') || mm.chars().any(char::is_whitespace) {
                        return Err(Error::InvalidConfig(format!(
                            "\"masterMatch\": \"{mm}\" is neither a MAC address nor an interface name"
                        )));
                    }
                    MasterSpec::AltName(mm.clone())
                }
            },
            ("", None) => MasterSpec::DefaultRoute,
            (m, None) => MasterSpec::Name(m.to_string()),
        };
        if self.mtu < 0 {
            return Err(Error::InvalidConfig(format!(
                "invalid MTU {}: it must be 0 (the master's MTU) or from {} up to the master's MTU",
                self.mtu,
                mvl_core::MIN_MTU
            )));
        }
        let mtu = self.mtu as u32;
        if mtu != 0 && mtu < mvl_core::MIN_MTU {
            return Err(Error::InvalidConfig(format!(
                "invalid MTU {mtu}: below the minimum of {} (0 means the master's MTU)",
                mvl_core::MIN_MTU
            )));
        }
        let mac = match self.mac_choice(inv) {
            None => None,
            Some((s, from)) => {
                let m: MacAddr = s
                    .parse()
                    .map_err(|e| Error::InvalidConfig(format!("invalid MAC from {from}: {e}")))?;
                if let Some(why) = BadMac::of(m) {
                    return Err(Error::InvalidConfig(format!(
                        "invalid MAC {m} from {from}: {why}; use a unicast address such as 02:xx:xx:xx:xx:xx"
                    )));
                }
                Some((m, from))
            }
        };
        let mut flags = Flags::NONE;
        if self.nopromisc {
            if mode != Mode::Passthru {
                return Err(Error::InvalidConfig(format!(
                    "\"nopromisc\" applies to mode passthru only, not {mode}"
                )));
            }
            flags = flags.union(Flags::NOPROMISC);
        }
        if self.nodst {
            if mode != Mode::Source {
                return Err(Error::InvalidConfig(format!(
                    "\"nodst\" applies to mode source only, not {mode}"
                )));
            }
            flags = flags.union(Flags::NODST);
        }
        if !self.source_macs.is_empty() && mode != Mode::Source {
            return Err(Error::InvalidConfig(format!(
                "\"sourceMacs\" applies to mode source only, not {mode}"
            )));
        }
        let mut source_macs = Vec::new();
        for s in &self.source_macs {
            let m: MacAddr = s
                .parse()
                .map_err(|e| Error::InvalidConfig(format!("\"sourceMacs\": {e}")))?;
            if m.is_multicast() || m.is_zero() {
                return Err(Error::InvalidConfig(format!(
                    "\"sourceMacs\": {m} cannot be the source of a frame (multicast or zero)"
                )));
            }
            source_macs.push(m);
        }
        if let Some(t) = &self.ipam_type {
            if t.contains('/') || t == "." || t == ".." {
                return Err(Error::InvalidConfig(format!(
                    "\"ipam.type\" \"{t}\" must be a plugin name found in CNI_PATH, not a path"
                )));
            }
        }
        if self.host_access {
            if mode != Mode::Bridge {
                return Err(Error::InvalidConfig(format!(
                    "\"hostAccess\" needs mode bridge (the host's shim reaches containers as a bridge-mode sibling), not {mode}"
                )));
            }
            if self.link_in_container {
                return Err(Error::InvalidConfig(
                    "\"hostAccess\" cannot be used with \"linkInContainer\": the master is not in the host's namespace"
                        .into(),
                ));
            }
            if self.ipam_type.is_none() {
                return Err(Error::InvalidConfig(
                    "\"hostAccess\" needs IP addresses: configure \"ipam\"".into(),
                ));
            }
        }
        Ok(Settings {
            master,
            mode,
            flags,
            mtu,
            mac,
            bc_queue_len: (self.bc_queue_len != 0).then_some(self.bc_queue_len),
            bc_cutoff: self.bc_cutoff,
            source_macs,
        })
    }
}

impl Settings {
    /// The MTU against the master's: 0 or `MIN_MTU..=master_mtu`.
    pub fn check_mtu(&self, master: &str, master_mtu: u32) -> Result<()> {
        if self.mtu > master_mtu {
            return Err(Error::InvalidConfig(format!(
                "invalid MTU {}: above the MTU of master {master} ({master_mtu}); it must be 0 (the master's) or from {} to {master_mtu}",
                self.mtu,
                mvl_core::MIN_MTU
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inv(args: &str) -> Invocation {
        Invocation {
            command: crate::env::Command::Add,
            container_id: "c".into(),
            netns: "/x".into(),
            ifname: "eth0".into(),
            args: crate::env::parse_args(args).unwrap(),
            path: vec![],
            netns_override: false,
        }
    }

    fn conf(extra: Value) -> Result<Conf> {
        let mut v = json!({"cniVersion": "1.0.0", "name": "net", "type": "mvl-cni"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        Conf::parse(v.to_string().as_bytes())
    }

    fn settings(extra: Value) -> Result<Settings> {
        conf(extra)?.validate(&inv(""))
    }

    #[test]
    fn refusals_before_anything() {
        assert_eq!(Conf::parse(b"{").unwrap_err().code(), 6);
        assert_eq!(Conf::parse(b"[]").unwrap_err().code(), 6);
        assert_eq!(
            Conf::parse(br#"{"cniVersion":"9.9.9","name":"n"}"#)
                .unwrap_err()
                .code(),
            1
        );
        assert_eq!(Conf::parse(br#"{"cniVersion":"1.0.0"}"#).unwrap_err().code(), 7);
        assert_eq!(
            Conf::parse(br#"{"cniVersion":"1.0.0","name":"-x"}"#)
                .unwrap_err()
                .code(),
            7
        );
        let c = Conf::parse(br#"{"name":"n"}"#).unwrap();
        assert_eq!(c.version(), Version::V0_1_0);
    }

    #[test]
    fn defaults_and_unknown_keys() {
        let c = conf(json!({"someFutureKey": {"a": 1}, "master": "eth0", "ipam": {}})).unwrap();
        let s = c.validate(&inv("")).unwrap();
        assert_eq!(s.mode, Mode::Bridge);
        assert_eq!(s.master, MasterSpec::Name("eth0".into()));
        assert_eq!(s.mtu, 0);
        assert!(c.ipam_type.is_none());
        assert_eq!(settings(json!({})).unwrap().master, MasterSpec::DefaultRoute);
    }

    #[test]
    fn bad_values_are_code_7_and_named() {
        for (extra, word) in [
            (json!({"mode": "passthrough"}), "passthrough"),
            (json!({"mtu": -1}), "-1"),
            (json!({"mtu": 10}), "10"),
            (json!({"mtu": "big"}), "mtu"),
            (json!({"mac": "01:00:5e:00:00:01"}), "01:00:5e:00:00:01"),
            (json!({"mac": "00:00:00:00:00:00"}), "00:00:00:00:00:00"),
            (json!({"mac": "zz"}), "zz"),
            (json!({"nopromisc": true}), "nopromisc"),
            (json!({"nodst": true, "mode": "bridge"}), "nodst"),
            (json!({"sourceMacs": ["02:00:00:00:00:01"]}), "sourceMacs"),
            (
                json!({"mode": "source", "sourceMacs": ["ff:ff:ff:ff:ff:ff"]}),
                "ff:ff:ff:ff:ff:ff",
            ),
            (json!({"master": "a", "masterMatch": "b"}), "masterMatch"),
            (json!({"masterMatch": "a b"}), "a b"),
            (
                json!({"hostAccess": true, "mode": "vepa", "ipam": {"type": "static"}}),
                "hostAccess",
            ),
            (json!({"hostAccess": true}), "hostAccess"),
            (
                json!({"hostAccess": true, "linkInContainer": true, "ipam": {"type": "x"}}),
                "linkInContainer",
            ),
            (json!({"ipam": {"type": "../bin/x"}}), "../bin/x"),
            (json!({"bcqueuelen": -5}), "bcqueuelen"),
            (json!({"linkInContainer": "yes"}), "linkInContainer"),
        ] {
            let e = settings(extra.clone()).unwrap_err();
            assert_eq!(e.code(), 7, "{extra}: {e}");
            assert!(e.to_string().contains(word), "{extra}: {e}");
        }
    }

    #[test]
    fn good_extras() {
        let s = settings(json!({
            "mode": "source", "sourceMacs": ["02:00:00:00:00:01", "52:54:00:12:34:56"], "nodst": true,
            "bcqueuelen": 5000, "bclim": -1, "mtu": 1400
        }))
        .unwrap();
        assert_eq!(s.mode, Mode::Source);
        assert_eq!(s.flags, Flags::NODST);
        assert_eq!(s.source_macs.len(), 2);
        assert_eq!((s.bc_queue_len, s.bc_cutoff, s.mtu), (Some(5000), Some(-1), 1400));
        let s = settings(json!({"mode": "passthru", "nopromisc": true, "bcqueuelen": 0})).unwrap();
        assert_eq!(s.flags, Flags::NOPROMISC);
        assert_eq!(s.bc_queue_len, None);
        let s = settings(json!({"masterMatch": "52:54:00:12:34:56"})).unwrap();
        assert!(matches!(s.master, MasterSpec::Mac(_)));
        let s = settings(json!({"masterMatch": "lan0"})).unwrap();
        assert_eq!(s.master, MasterSpec::AltName("lan0".into()));
        assert!(s.check_mtu("eth0", 1500).is_ok());
        let mut s2 = s.clone();
        s2.mtu = 9000;
        let e = s2.check_mtu("eth0", 1500).unwrap_err();
        assert!(
            e.to_string().contains("9000") && e.to_string().contains("1500"),
            "{e}"
        );
    }

    #[test]
    fn mac_precedence() {
        let c =
            conf(json!({"mac": "02:00:00:00:00:01", "runtimeConfig": {"mac": "02:00:00:00:00:03"}})).unwrap();
        let i = inv("IgnoreUnknown=1;MAC=02:00:00:00:00:02");
        assert_eq!(
            c.validate(&i).unwrap().mac.unwrap().0.to_string(),
            "02:00:00:00:00:03"
        );
        let c = conf(json!({"mac": "02:00:00:00:00:01"})).unwrap();
        assert_eq!(
            c.validate(&i).unwrap().mac.unwrap().0.to_string(),
            "02:00:00:00:00:02"
        );
        assert_eq!(
            c.validate(&inv("")).unwrap().mac.unwrap().0.to_string(),
            "02:00:00:00:00:01"
        );
        let c = conf(json!({"runtimeConfig": {"mac": "03:00:00:00:00:01"}})).unwrap();
        let e = c.validate(&i).unwrap_err();
        assert!(e.to_string().contains("runtimeConfig.mac"), "{e}");
    }

    #[test]
    fn lenient_for_del() {
        let c = conf(
            json!({"mode": 5, "ipam": {"type": "host-local"}, "hostAccess": true,
            "cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"}]}),
        )
        .unwrap();
        assert_eq!(c.ipam_type.as_deref(), Some("host-local"));
        assert!(c.host_access);
        assert_eq!(c.valid_attachments.len(), 1);
        assert_eq!(c.problems.len(), 1);
    }
}
