//! `bridge` (iproute2's `bridge/`): `link set ... hairpin`, `link show`,
//! `fdb show`.

use crate::cmd::Command;
use crate::cursor::Cursor;
use crate::error::Error;
use crate::matches;

impl<'a> Cursor<'a> {
    pub(crate) fn bridge(&mut self, netns: Option<String>) -> Result<(Option<String>, Command), Error> {
        let mut netns = netns;
        while let Some(w) = self.peek().filter(|w| w.starts_with('-')) {
            self.pos += 1;
            match w {
                "-n" | "-netns" => netns = Some(self.value(w)?.to_string()),
                "-d" | "-details" => {}
                _ => return Err(self.err(Some(w), "unsupported bridge option (supported: -n)")),
            }
        }
        let obj = self
            .next()
            .ok_or_else(|| self.err(Some("bridge"), "bridge needs an object (link, fdb)"))?;
        if matches(obj, "link") {
            let sub = self.next();
            match sub {
                None => return Ok((netns, Command::BridgeLinkShow)),
                Some(s) if ["show", "list", "lst"].iter().any(|k| matches(s, k)) => {
                    self.end()?;
                    return Ok((netns, Command::BridgeLinkShow));
                }
                Some(s) if matches(s, "set") || matches(s, "change") => {
                    let mut dev = None;
                    let mut hairpin = None;
                    while let Some(w) = self.next() {
                        match w {
                            "dev" => dev = Some(self.ifname_value(w)?),
                            "hairpin" => hairpin = Some(self.on_off(w)?),
                            _ => {
                                return Err(self.err(
                                    Some(w),
                                    "bridge link set: of its options only dev and hairpin are supported",
                                ))
                            }
                        }
                    }
                    let dev = dev.ok_or_else(|| self.err(Some(s), "\"dev\" argument is required"))?;
                    let on =
                        hairpin.ok_or_else(|| self.err(Some(s), "nothing to set: add \"hairpin on|off\""))?;
                    return Ok((netns, Command::BridgeHairpin { dev, on }));
                }
                Some(s) => return Err(self.err(Some(s), "unsupported bridge link command (set, show)")),
            }
        }
        if matches(obj, "fdb") {
            match self.next() {
                None => return Ok((netns, Command::BridgeFdbShow)),
                Some(s) if ["show", "list", "lst"].iter().any(|k| matches(s, k)) => {
                    self.end()?;
                    return Ok((netns, Command::BridgeFdbShow));
                }
                Some(s) => return Err(self.err(Some(s), "unsupported bridge fdb command (show)")),
            }
        }
        Err(self.err(Some(obj), "unsupported bridge object (link, fdb)"))
    }
}
