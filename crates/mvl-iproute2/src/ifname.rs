//! Interface names, as the kernel accepts them.

/// Why `name` cannot name a device (`dev_valid_name`), if it cannot.
pub fn invalid_ifname(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a device name cannot be empty")
    } else if name.len() > 15 {
        Some("a device name has at most 15 bytes")
    } else if name == "." || name == ".." {
        Some("\".\" and \"..\" cannot name a device")
    } else if name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace()) {
        Some("a device name cannot contain '/', ':' or white space")
    } else {
        None
    }
}
