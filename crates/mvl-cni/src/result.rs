//! CNI results: one model, read from any version's shape (IPAM plugins
//! and `prevResult` may answer in any), written in the requested one.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::version::Version;

/// An address with its prefix length, as CNI writes it (`10.1.0.2/24`;
/// host bits are kept).
pub use mvl_netlink::IpNet;

/// `s` as CNI writes an address with its prefix.
pub fn parse_net(s: &str) -> std::result::Result<IpNet, String> {
    s.parse()
        .map_err(|_| format!("\"{s}\" is not an address in CIDR notation (such as 10.1.0.2/24)"))
}

/// Whether `n` is an IPv4 network.
pub fn is_v4(n: &IpNet) -> bool {
    matches!(n, IpNet::V4(_))
}

/// An interface of a result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interface {
    /// Its name.
    pub name: String,
    /// Its MAC address.
    pub mac: Option<String>,
    /// Its MTU (written from 1.1.0 on).
    pub mtu: Option<u32>,
    /// The namespace path it lives in; `None` for the host.
    pub sandbox: Option<String>,
    /// `socketPath` (1.1.0).
    pub socket_path: Option<String>,
    /// `pciID` (1.1.0).
    pub pci_id: Option<String>,
}

/// An IP configuration of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpConfig {
    /// Index into the result's interfaces (absent in IPAM results).
    pub interface: Option<usize>,
    /// The address.
    pub address: IpNet,
    /// The gateway of its subnet.
    pub gateway: Option<IpAddr>,
}

/// A route of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination.
    pub dst: IpNet,
    /// Next hop; without one, the gateway of the same family's first IP is used.
    pub gw: Option<IpAddr>,
    /// Path MTU.
    pub mtu: Option<u32>,
    /// Advertised MSS.
    pub advmss: Option<u32>,
    /// Metric.
    pub priority: Option<u32>,
    /// Routing table.
    pub table: Option<u32>,
    /// Scope (0 global, 253 link, 254 host).
    pub scope: Option<u8>,
}

/// DNS settings of a result (and of the configuration's `dns`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dns {
    /// Name servers, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// Local domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Search domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    /// Resolver options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl Dns {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.nameservers.is_empty()
            && self.domain.as_deref().unwrap_or("").is_empty()
            && self.search.is_empty()
            && self.options.is_empty()
    }
}

/// A CNI result in no particular version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CniResult {
    /// Interfaces.
    pub interfaces: Vec<Interface>,
    /// IP configurations.
    pub ips: Vec<IpConfig>,
    /// Routes.
    pub routes: Vec<Route>,
    /// DNS.
    pub dns: Dns,
}

fn str_field(o: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!("\"{k}\" must be a string, not {v}")),
    }
}

fn u32_field(o: &Map<String, Value>, k: &str) -> Result<Option<u32>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(0) => Ok(None),
            Some(n) => Ok(Some(n)),
            None => Err(format!("\"{k}\" must be a non-negative integer, not {v}")),
        },
    }
}

fn ip_field(o: &Map<String, Value>, k: &str) -> Result<Option<IpAddr>, String> {
    str_field(o, k)?
        .map(|s| {
            s.parse()
                .map_err(|_| format!("\"{k}\": \"{s}\" is not an IP address"))
        })
        .transpose()
}

fn net_field(o: &Map<String, Value>, k: &str) -> Result<IpNet, String> {
    let v = str_field(o, k)?.ok_or_else(|| format!("\"{k}\" is missing"))?;
    parse_net(&v).map_err(|e| format!("\"{k}\": {e}"))
}

fn objects<'a>(o: &'a Map<String, Value>, k: &str) -> Result<Vec<&'a Map<String, Value>>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_object()
                    .ok_or_else(|| format!("\"{k}\" must hold objects, not {v}"))
            })
            .collect(),
        Some(v) => Err(format!("\"{k}\" must be an array, not {v}")),
    }
}

fn route_from(o: &Map<String, Value>) -> Result<Route, String> {
    Ok(Route {
        dst: net_field(o, "dst")?,
        gw: ip_field(o, "gw")?,
        mtu: u32_field(o, "mtu")?,
        advmss: u32_field(o, "advmss")?,
        priority: u32_field(o, "priority")?,
        table: match o.get("table") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| format!("\"table\" must be a non-negative integer, not {v}"))?,
            ),
        },
        scope: match o.get("scope") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| format!("\"scope\" must be an integer 0..255, not {v}"))?,
            ),
        },
    })
}

fn route_json(r: &Route) -> Value {
    let mut o = Map::new();
    o.insert("dst".into(), Value::String(r.dst.to_string()));
    if let Some(g) = r.gw {
        o.insert("gw".into(), Value::String(g.to_string()));
    }
    for (k, v) in [("mtu", r.mtu), ("advmss", r.advmss), ("priority", r.priority)] {
        if let Some(v) = v {
            o.insert(k.into(), json!(v));
        }
    }
    if let Some(t) = r.table {
        o.insert("table".into(), json!(t));
    }
    if let Some(s) = r.scope {
        o.insert("scope".into(), json!(s));
    }
    Value::Object(o)
}

impl CniResult {
    /// Reads a result of any supported version (0.1.0 to 1.1.0): `ip4`/`ip6`
    /// objects, or `interfaces`/`ips`/`routes`. Unknown keys are ignored.
    pub fn from_json(v: &Value) -> Result<CniResult, String> {
        let o = v
            .as_object()
            .ok_or_else(|| format!("a result must be a JSON object, not {v}"))?;
        let mut r = CniResult::default();
        if o.contains_key("ip4") || o.contains_key("ip6") {
            for k in ["ip4", "ip6"] {
                let Some(ip) = o.get(k).filter(|v| !v.is_null()) else {
                    continue;
                };
                let ip = ip
                    .as_object()
                    .ok_or_else(|| format!("\"{k}\" must be an object"))?;
                r.ips.push(IpConfig {
                    interface: None,
                    address: net_field(ip, "ip")?,
                    gateway: ip_field(ip, "gateway")?,
                });
                for rt in objects(ip, "routes")? {
                    r.routes.push(route_from(rt)?);
                }
            }
        } else {
            for i in objects(o, "interfaces")? {
                r.interfaces.push(Interface {
                    name: str_field(i, "name")?.unwrap_or_default(),
                    mac: str_field(i, "mac")?,
                    mtu: u32_field(i, "mtu")?,
                    sandbox: str_field(i, "sandbox")?,
                    socket_path: str_field(i, "socketPath")?,
                    pci_id: str_field(i, "pciID")?,
                });
            }
            for ip in objects(o, "ips")? {
                let interface = match ip.get("interface") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(
                        v.as_u64()
                            .map(|n| n as usize)
                            .ok_or_else(|| format!("\"interface\" must be an index, not {v}"))?,
                    ),
                };
                r.ips.push(IpConfig {
                    interface,
                    address: net_field(ip, "address")?,
                    gateway: ip_field(ip, "gateway")?,
                });
            }
            for rt in objects(o, "routes")? {
                r.routes.push(route_from(rt)?);
            }
        }
        if let Some(d) = o.get("dns").filter(|v| !v.is_null()) {
            r.dns = serde_json::from_value(d.clone()).map_err(|e| format!("\"dns\": {e}"))?;
        }
        Ok(r)
    }

    /// The result in `version`'s shape. Before 0.3.0 a result needs at
    /// least one IP address (there is no way to report an interface alone).
    pub fn to_json(&self, version: Version) -> Result<Value> {
        let mut o = Map::new();
        o.insert("cniVersion".into(), Value::String(version.as_str().into()));
        if !version.has_interfaces() {
            let v4 = self.ips.iter().find(|i| is_v4(&i.address));
            let v6 = self.ips.iter().find(|i| !is_v4(&i.address));
            if v4.is_none() && v6.is_none() {
                return Err(Error::IncompatibleVersion(format!(
                    "cannot convert the result to version {version}: no valid IP addresses (results before 0.3.0 cannot describe an attachment without IP addresses)"
                )));
            }
            for (k, ip, four) in [("ip4", v4, true), ("ip6", v6, false)] {
                let Some(ip) = ip else { continue };
                let mut m = Map::new();
                m.insert("ip".into(), Value::String(ip.address.to_string()));
                if let Some(g) = ip.gateway {
                    m.insert("gateway".into(), Value::String(g.to_string()));
                }
                let routes: Vec<Value> = self
                    .routes
                    .iter()
                    .filter(|r| is_v4(&r.dst) == four)
                    .map(route_json)
                    .collect();
                if !routes.is_empty() {
                    m.insert("routes".into(), Value::Array(routes));
                }
                o.insert(k.into(), Value::Object(m));
            }
        } else {
            if !self.interfaces.is_empty() {
                let full = version >= Version::V1_1_0;
                let list = self
                    .interfaces
                    .iter()
                    .map(|i| {
                        let mut m = Map::new();
                        m.insert("name".into(), Value::String(i.name.clone()));
                        if let Some(mac) = &i.mac {
                            m.insert("mac".into(), Value::String(mac.clone()));
                        }
                        if full {
                            if let Some(mtu) = i.mtu {
                                m.insert("mtu".into(), json!(mtu));
                            }
                        }
                        if let Some(s) = &i.sandbox {
                            m.insert("sandbox".into(), Value::String(s.clone()));
                        }
                        if full {
                            if let Some(s) = &i.socket_path {
                                m.insert("socketPath".into(), Value::String(s.clone()));
                            }
                            if let Some(s) = &i.pci_id {
                                m.insert("pciID".into(), Value::String(s.clone()));
                            }
                        }
                        Value::Object(m)
                    })
                    .collect();
                o.insert("interfaces".into(), Value::Array(list));
            }
            if !self.ips.is_empty() {
                let list = self
                    .ips
                    .iter()
                    .map(|ip| {
                        let mut m = Map::new();
                        if version.ip_has_version() {
                            let v = if is_v4(&ip.address) { "4" } else { "6" };
                            m.insert("version".into(), Value::String(v.into()));
                        }
                        if let Some(i) = ip.interface {
                            m.insert("interface".into(), json!(i));
                        }
                        m.insert("address".into(), Value::String(ip.address.to_string()));
                        if let Some(g) = ip.gateway {
                            m.insert("gateway".into(), Value::String(g.to_string()));
                        }
                        Value::Object(m)
                    })
                    .collect();
                o.insert("ips".into(), Value::Array(list));
            }
            if !self.routes.is_empty() {
                o.insert(
                    "routes".into(),
                    Value::Array(self.routes.iter().map(route_json).collect()),
                );
            }
        }
        if !self.dns.is_empty() {
            o.insert(
                "dns".into(),
                serde_json::to_value(&self.dns).map_err(|e| Error::Decode(e.to_string()))?,
            );
        }
        Ok(Value::Object(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CniResult {
        CniResult {
            interfaces: vec![Interface {
                name: "eth0".into(),
                mac: Some("02:00:00:00:00:01".into()),
                mtu: Some(1400),
                sandbox: Some("/run/netns/x".into()),
                ..Default::default()
            }],
            ips: vec![
                IpConfig {
                    interface: Some(0),
                    address: "10.1.0.2/24".parse().unwrap(),
                    gateway: Some("10.1.0.1".parse().unwrap()),
                },
                IpConfig {
                    interface: Some(0),
                    address: "fd00::2/64".parse().unwrap(),
                    gateway: None,
                },
            ],
            routes: vec![Route {
                dst: "0.0.0.0/0".parse().unwrap(),
                gw: None,
                mtu: None,
                advmss: None,
                priority: Some(10),
                table: None,
                scope: None,
            }],
            dns: Dns {
                nameservers: vec!["10.1.0.1".into()],
                ..Default::default()
            },
        }
    }

    #[test]
    fn shapes_per_version() {
        let r = sample();
        let v031 = r.to_json(Version::V0_3_1).unwrap();
        assert_eq!(v031["ips"][0]["version"], "4");
        assert_eq!(v031["ips"][1]["version"], "6");
        assert!(v031["interfaces"][0].get("mtu").is_none());
        let v100 = r.to_json(Version::V1_0_0).unwrap();
        assert!(v100["ips"][0].get("version").is_none());
        assert!(v100["interfaces"][0].get("mtu").is_none());
        assert_eq!(v100["routes"][0]["priority"], 10);
        let v110 = r.to_json(Version::V1_1_0).unwrap();
        assert_eq!(v110["interfaces"][0]["mtu"], 1400);
        assert_eq!(v110["dns"]["nameservers"][0], "10.1.0.1");
        let v020 = r.to_json(Version::V0_2_0).unwrap();
        assert_eq!(v020["ip4"]["ip"], "10.1.0.2/24");
        assert_eq!(v020["ip4"]["routes"][0]["dst"], "0.0.0.0/0");
        assert_eq!(v020["ip6"]["ip"], "fd00::2/64");
        assert!(v020.get("interfaces").is_none());
    }

    #[test]
    fn l2_only_before_030_is_refused() {
        let r = CniResult {
            interfaces: sample().interfaces,
            ..Default::default()
        };
        assert_eq!(r.to_json(Version::V0_2_0).unwrap_err().code(), 1);
        let v = r.to_json(Version::V0_3_0).unwrap();
        assert!(v.get("ips").is_none());
        assert!(v.get("dns").is_none());
    }

    #[test]
    fn round_trips_through_every_shape() {
        let r = sample();
        for v in [Version::V0_3_0, Version::V0_4_0, Version::V1_0_0] {
            let mut back = CniResult::from_json(&r.to_json(v).unwrap()).unwrap();
            back.interfaces[0].mtu = Some(1400);
            assert_eq!(back, r, "{v}");
        }
        let back = CniResult::from_json(&r.to_json(Version::V0_2_0).unwrap()).unwrap();
        assert_eq!(back.ips.len(), 2);
        assert_eq!(back.routes.len(), 1);
        assert_eq!(back.ips[0].interface, None);
    }

    #[test]
    fn bad_results_are_explained() {
        let e = CniResult::from_json(&json!({"ips": [{"address": "10.1.0.2"}]})).unwrap_err();
        assert!(e.contains("CIDR"), "{e}");
        let e = CniResult::from_json(&json!({"routes": [{"dst": "0.0.0.0/0", "gw": 7}]})).unwrap_err();
        assert!(e.contains("gw"), "{e}");
        assert!(CniResult::from_json(&json!([])).is_err());
    }

    #[test]
    fn ipnet() {
        let n = parse_net("10.1.2.3/16").unwrap();
        assert_eq!(
            (n.addr().to_string(), n.network().to_string()),
            ("10.1.2.3".into(), "10.1.0.0".into())
        );
        let n = parse_net("fd00::1:2/112").unwrap();
        assert_eq!(n.network().to_string(), "fd00::1:0");
        assert!(!is_v4(&n));
        assert!(parse_net("10.0.0.1/33").unwrap_err().contains("CIDR notation"));
        assert!(parse_net("10.0.0.1").is_err());
        assert_eq!(
            IpNet::from("10.0.0.1".parse::<IpAddr>().unwrap()).to_string(),
            "10.0.0.1/32"
        );
    }
}
