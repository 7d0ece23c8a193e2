//! `ip netns` (`ipnetns.c`): add, del, list, exec.

use crate::cmd::Command;
use crate::cursor::Cursor;
use crate::error::Error;
use crate::matches;

impl<'a> Cursor<'a> {
    pub(crate) fn ip_netns(&mut self, netns: Option<String>) -> Result<(Option<String>, Command), Error> {
        let Some(sub) = self.next() else {
            return Ok((netns, Command::NetnsList));
        };
        if ["list", "show", "lst"].iter().any(|k| matches(sub, k)) {
            self.end()?;
            return Ok((netns, Command::NetnsList));
        }
        if matches(sub, "add") {
            let n = self.value("add")?.to_string();
            self.end()?;
            return Ok((netns, Command::NetnsAdd(n)));
        }
        if matches(sub, "delete") {
            let n = self.value("delete")?.to_string();
            self.end()?;
            return Ok((netns, Command::NetnsDel(n)));
        }
        if matches(sub, "exec") {
            let n = self.value("exec")?.to_string();
            return self.command(Some(n));
        }
        Err(self.err(Some(sub), "unsupported ip netns command (add, del, list, exec)"))
    }
}
