//! What survives a restart: the children, saved as JSON in the state
//! directory after every change (written to a temporary file, then renamed,
//! so a crash never leaves half a file).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use mvl_core::MacvlanChange;

use crate::api::DevSpec;
use crate::error::{Error, Result};

/// A child as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedChild {
    /// Its name.
    pub name: String,
    /// Its namespace (a name under `/run/netns`).
    pub netns: Option<String>,
    /// Its lower.
    pub lower: DevSpec,
    /// MAC.
    pub address: String,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Mode, flags, source list, queue length, cutoff.
    pub macvlan: MacvlanChange,
    /// Anti-spoofing.
    pub spoofchk: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    children: Vec<SavedChild>,
}

/// The state file of a state directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    /// What was last written: a save that would write the same is skipped
    /// (the engine saves after every look at its children, most of which
    /// change nothing).
    last: std::sync::Mutex<Vec<u8>>,
}

impl Store {
    /// The store in `dir` (created on first save).
    pub fn new(dir: PathBuf) -> Store {
        Store {
            dir,
            last: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("children.json")
    }

    /// Takes the directory for this process: one engine (one daemon) per
    /// state directory, whatever its socket. The lock lasts as long as the
    /// returned value (and ends with the process, even after `kill -9`).
    pub fn lock(&self) -> Result<nix::fcntl::Flock<std::fs::File>> {
        let path = self.dir.join("lock");
        let err = |why: String| Error::State {
            path: path.display().to_string(),
            why,
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| err(e.to_string()))?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| err(e.to_string()))?;
        nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock).map_err(|(_, e)| {
            err(if e == nix::errno::Errno::EWOULDBLOCK {
                "another mvl daemon uses this state directory: one daemon per state directory".into()
            } else {
                e.to_string()
            })
        })
    }

    fn err(&self, why: impl std::fmt::Display) -> Error {
        Error::State {
            path: self.path().display().to_string(),
            why: why.to_string(),
        }
    }

    /// The saved children (none when there is no file yet).
    pub fn load(&self) -> Result<Vec<SavedChild>> {
        match std::fs::read(self.path()) {
            Ok(b) => {
                let f: File = serde_json::from_slice(&b).map_err(|e| self.err(e))?;
                if f.version != 1 {
                    return Err(self.err(format!("version {} is not one this mvl knows (1)", f.version)));
                }
                Ok(f.children)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Saves `children`, replacing the file atomically.
    pub fn save(&self, children: &[SavedChild]) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.err(e))?;
        let tmp = self.dir.join("children.json.tmp");
        let body = serde_json::to_vec_pretty(&File {
            version: 1,
            children: children.to_vec(),
        })
        .map_err(|e| self.err(e))?;
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if *last == body && self.path().exists() {
            return Ok(());
        }
        std::fs::write(&tmp, &body).map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, self.path()).map_err(|e| self.err(e))?;
        *last = body;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_and_load() {
        let dir = std::env::temp_dir().join(format!("mvl-state-test-{}", std::process::id()));
        let s = Store::new(dir.clone());
        assert!(s.load().unwrap().is_empty());
        let c = SavedChild {
            name: "c1".into(),
            netns: Some("ns1".into()),
            lower: DevSpec::new(None, "eth0"),
            address: "02:00:00:00:00:01".into(),
            mtu: 1500,
            up: true,
            macvlan: MacvlanChange {
                mode: Some(mvl_core::Mode::Bridge),
                ..Default::default()
            },
            spoofchk: false,
        };
        s.save(std::slice::from_ref(&c)).unwrap();
        assert_eq!(s.load().unwrap(), vec![c]);
        std::fs::write(dir.join("children.json"), b"{\"version\": 9, \"children\": []}").unwrap();
        assert!(s.load().unwrap_err().to_string().contains("version 9"));
        std::fs::write(dir.join("children.json"), b"garbage").unwrap();
        assert!(s.load().is_err());
        let held = s.lock().unwrap();
        let e = Store::new(dir.clone()).lock().unwrap_err().to_string();
        assert!(e.contains("another mvl daemon"), "{e}");
        drop(held);
        assert!(s.lock().is_ok(), "free again");
        let _ = std::fs::remove_dir_all(dir);
    }
}
