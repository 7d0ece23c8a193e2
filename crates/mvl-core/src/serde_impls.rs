//! The macvlan options as data (the `serde` feature): the daemon's requests
//! and saved state carry a [`MacvlanChange`] in the same words a person
//! types — `"mode": "bridge"`, `"macaddr": {"op": "add", "addrs": [...]}`,
//! `"bcqueuelen"`, `"bclim"` — and the flags as the kernel's number. Words
//! are read through `FromStr`, so a bad one is refused naming itself.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Flags, MacAddr, MacaddrOp, MacvlanChange, Mode};

/// Types that travel as their text: written with `Display`, read with
/// `FromStr` (whose error names the bad word).
macro_rules! as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(D::Error::custom)
            }
        }
    )*};
}

as_text!(MacAddr, Mode);

impl Serialize for Flags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.bits())
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u16::deserialize(d)?;
        Flags::from_bits(v)
            .ok_or_else(|| D::Error::custom(format!("flags {v:#x}: only nopromisc (1) and nodst (2) exist")))
    }
}

/// A source-list operation as data: the word and its addresses.
#[derive(Serialize, Deserialize)]
struct MacaddrData {
    op: String,
    #[serde(default)]
    addrs: Vec<MacAddr>,
}

impl Serialize for MacaddrOp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let op = match self {
            MacaddrOp::Add(_) => "add",
            MacaddrOp::Del(_) => "del",
            MacaddrOp::Flush => "flush",
            MacaddrOp::Set(_) => "set",
        };
        MacaddrData {
            op: op.to_string(),
            addrs: self.addrs().to_vec(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for MacaddrOp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let MacaddrData { op, addrs } = MacaddrData::deserialize(d)?;
        let one = || match addrs[..] {
            [m] => Ok(m),
            _ => Err(D::Error::custom(format!(
                "macaddr {op} takes exactly one address"
            ))),
        };
        match op.as_str() {
            "add" => Ok(MacaddrOp::Add(one()?)),
            "del" => Ok(MacaddrOp::Del(one()?)),
            "flush" => Ok(MacaddrOp::Flush),
            "set" => Ok(MacaddrOp::Set(addrs)),
            o => Err(D::Error::custom(format!(
                "macaddr operation \"{o}\": add, del, set or flush"
            ))),
        }
    }
}

/// [`MacvlanChange`] with iproute2's words for its fields.
#[derive(Serialize, Deserialize)]
struct ChangeData {
    #[serde(default)]
    mode: Option<Mode>,
    #[serde(default)]
    flags: Option<Flags>,
    #[serde(default)]
    macaddr: Option<MacaddrOp>,
    #[serde(default)]
    bcqueuelen: Option<u32>,
    #[serde(default)]
    bclim: Option<i32>,
}

impl Serialize for MacvlanChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ChangeData {
            mode: self.mode,
            flags: self.flags,
            macaddr: self.macaddr.clone(),
            bcqueuelen: self.bc_queue_len,
            bclim: self.bc_cutoff,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for MacvlanChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let c = ChangeData::deserialize(d)?;
        Ok(MacvlanChange {
            mode: c.mode,
            flags: c.flags,
            macaddr: c.macaddr,
            bc_queue_len: c.bcqueuelen,
            bc_cutoff: c.bclim,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_iproute2_words() {
        let c = MacvlanChange {
            mode: Some(Mode::Source),
            flags: Some(Flags::NODST),
            macaddr: Some(MacaddrOp::Set(vec![MacAddr([2, 0, 0, 0, 0, 1])])),
            bc_queue_len: Some(200),
            bc_cutoff: Some(-1),
        };
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"mode": "source", "flags": 2,
                "macaddr": {"op": "set", "addrs": ["02:00:00:00:00:01"]},
                "bcqueuelen": 200, "bclim": -1})
        );
        assert_eq!(serde_json::from_value::<MacvlanChange>(j).unwrap(), c);
        assert_eq!(
            serde_json::from_str::<MacvlanChange>("{}").unwrap(),
            MacvlanChange::default()
        );
    }

    #[test]
    fn a_bad_word_names_itself() {
        let e = |j: &str| serde_json::from_str::<MacvlanChange>(j).unwrap_err().to_string();
        assert!(e(r#"{"mode": "bridged"}"#).contains("not \"bridged\""));
        assert!(e(r#"{"flags": 4}"#).contains("flags 0x4"));
        assert!(e(r#"{"macaddr": {"op": "push", "addrs": []}}"#).contains("\"push\""));
        assert!(e(r#"{"macaddr": {"op": "add", "addrs": []}}"#).contains("exactly one"));
        assert!(e(r#"{"macaddr": {"op": "add", "addrs": ["zz"]}}"#).contains("\"zz\" is not a MAC"));
    }
}
