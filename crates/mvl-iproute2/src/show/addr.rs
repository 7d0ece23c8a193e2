//! Addresses as `ip addr show` prints them (`print_addrinfo`), in each of
//! its forms: under the link, one line each (`-o`), all on the link's
//! brief line (`-br`); JSON is `addrs_json`'s.

use crate::cmd::{Ipv4Net, ShowForm};

use super::link::{oneline, LinkView};

/// One IPv4 address of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrView {
    /// The address and its prefix.
    pub local: Ipv4Net,
    /// `global`, or `host` for the loopback's.
    pub scope: &'static str,
    /// Not the first of its subnet on the link.
    pub secondary: bool,
    /// The label (the device's name).
    pub label: String,
}

impl AddrView {
    /// The two lines under the link's header.
    pub fn text(&self) -> String {
        let sec = if self.secondary { " secondary" } else { "" };
        format!(
            "    inet {} scope {}{sec} {}\n       valid_lft forever preferred_lft forever\n",
            self.local, self.scope, self.label
        )
    }
}

/// A link and its addresses as `ip [-4] addr show` prints them, in the
/// text forms (`-j` is [`addrs_json`](super::addrs_json)). With `-4` a
/// link shows only its first line.
pub fn addr_text(link: &LinkView, addrs: &[AddrView], ipv4_only: bool, form: ShowForm) -> String {
    if form.brief {
        let list: String = addrs.iter().map(|a| format!("{} ", a.local)).collect();
        return format!("{:<16} {:<14} {list}\n", link.name_at(), link.operstate);
    }
    if form.oneline {
        // No link lines: each address on one line after the index and name.
        return addrs
            .iter()
            .map(|a| {
                format!(
                    "{}: {}    {}",
                    link.index,
                    link.name,
                    oneline(&a.text()).trim_start()
                )
            })
            .collect();
    }
    let head = link.addr_head();
    let head = if ipv4_only {
        head.lines().next().unwrap_or_default().to_string()
    } else {
        head
    };
    let mut s = format!("{head}\n");
    for a in addrs {
        s.push_str(&a.text());
    }
    s
}
