//! Reading words: values, numbers, on/off, MACs and device names, each
//! refused with the words iproute2 uses.

use mvl_core::MacAddr;

use crate::cmd::{parse_ipv4_net, Ipv4Net};
use crate::error::Error;

/// Words being read, iproute2-style: one at a time, with the word that
/// is wrong named in every error.
pub(crate) struct Cursor<'a> {
    pub(crate) words: &'a [String],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn err(&self, word: Option<&str>, msg: impl Into<String>) -> Error {
        Error::new(word.map(str::to_string), msg)
    }

    pub(crate) fn peek(&self) -> Option<&'a str> {
        self.words.get(self.pos).map(String::as_str)
    }

    pub(crate) fn next(&mut self) -> Option<&'a str> {
        let w = self.peek();
        if w.is_some() {
            self.pos += 1;
        }
        w
    }

    pub(crate) fn value(&mut self, keyword: &str) -> Result<&'a str, Error> {
        self.next()
            .ok_or_else(|| self.err(Some(keyword), format!("\"{keyword}\" needs a value")))
    }

    pub(crate) fn end(&self) -> Result<(), Error> {
        match self.peek() {
            Some(w) => Err(self.err(Some(w), "unexpected word")),
            None => Ok(()),
        }
    }

    /// What the tool itself says and refuses (iproute2 6.1's words).
    pub(crate) fn refusal(&self, word: Option<&str>, msg: impl Into<String>) -> Error {
        self.err(word, msg).by_the_tool()
    }

    pub(crate) fn number<T: std::str::FromStr>(&mut self, keyword: &str) -> Result<T, Error> {
        let v = self.value(keyword)?;
        parse_int::<T>(v).ok_or_else(|| {
            let why = match keyword {
                "bcqueuelen" => format!(
                    "Error: argument of \"bcqueuelen\" must be a positive integer [0-4294967295], not \"{v}\""
                ),
                k => format!("Error: argument \"{v}\" is wrong: Invalid \"{k}\" value"),
            };
            self.refusal(Some(v), why)
        })
    }

    pub(crate) fn on_off(&mut self, keyword: &str) -> Result<bool, Error> {
        match self.value(keyword)? {
            "on" => Ok(true),
            "off" => Ok(false),
            w => Err(self.refusal(
                Some(w),
                format!("Error: argument of \"{keyword}\" must be \"on\" or \"off\", not \"{w}\""),
            )),
        }
    }

    pub(crate) fn mac(&mut self, keyword: &str) -> Result<MacAddr, Error> {
        let v = self.value(keyword)?;
        v.parse().map_err(|_| {
            // `ll_addr_a2n` names the first part that is not a hex byte.
            let bad = v
                .split(':')
                .find(|b| b.is_empty() || b.len() > 2 || u8::from_str_radix(b, 16).is_err())
                .unwrap_or(v);
            self.refusal(Some(v), format!("\"{bad}\" is invalid lladdr."))
        })
    }

    /// iproute2's `duparg2(key, word)`: `key` was given already, or `word`
    /// is not one this command reads.
    pub(crate) fn duparg2(&self, key: &str, word: &str) -> Error {
        self.refusal(
            Some(word),
            format!("Error: either \"{key}\" is duplicate, or \"{word}\" is a garbage."),
        )
    }

    /// An IPv4 address with its prefix (`get_prefix`), with iproute2's
    /// refusal; an IPv6 one is named as unsupported (`what`: "addresses",
    /// "routes").
    pub(crate) fn ipv4_prefix(&self, w: &str, what: &str) -> Result<Ipv4Net, Error> {
        if w.contains(':') {
            return Err(self.err(Some(w), format!("IPv6 {what} are not supported")));
        }
        parse_ipv4_net(w).ok_or_else(|| {
            self.refusal(
                Some(w),
                format!("Error: any valid prefix is expected rather than \"{w}\"."),
            )
        })
    }

    /// The device of a `show` (`dev NAME`, or `w` itself as a bare word);
    /// a second one is refused, as iproute2 refuses it.
    pub(crate) fn show_dev(&mut self, w: &'a str, have: &Option<String>) -> Result<String, Error> {
        let d = if w == "dev" { self.value(w)? } else { w };
        if have.is_some() {
            return Err(self.duparg2("dev", d));
        }
        self.ifname(d)
    }

    pub(crate) fn ifname_value(&mut self, keyword: &str) -> Result<String, Error> {
        let v = self.value(keyword)?;
        self.ifname(v)
    }

    pub(crate) fn ifname(&self, w: &str) -> Result<String, Error> {
        match crate::invalid_ifname(w) {
            Some(why) => Err(self.err(Some(w), format!("not a valid device name: {why}"))),
            None => Ok(w.to_string()),
        }
    }
}

/// An integer as iproute2's `get_u32`/`get_s32` read it: decimal, `0x` hex, `0` octal.
pub(crate) fn parse_int<T: std::str::FromStr>(v: &str) -> Option<T> {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let n: i128 = if let Some(h) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    let n = if neg { -n } else { n };
    n.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_iproute2_reads_them() {
        assert_eq!(parse_int::<u32>("0x10"), Some(16));
        assert_eq!(parse_int::<u32>("010"), Some(8));
        assert_eq!(parse_int::<i32>("-1"), Some(-1));
        assert_eq!(parse_int::<u32>("-1"), None);
        assert_eq!(parse_int::<u32>("4294967296"), None);
    }
}
