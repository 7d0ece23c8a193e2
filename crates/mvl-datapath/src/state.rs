//! What survives a restart: each child in a JSON file of its own under
//! `children/` in the state directory, written when that child changes (to
//! a temporary file, then renamed, so a crash never leaves half a file).
//! One file per child: a change costs the same with 1,000 children as with
//! 2. A `children.json` of an older mvl (every child in one file) is split
//! into such files when it is loaded.

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

/// One child's file.
#[derive(Debug, Serialize, Deserialize)]
struct ChildFile {
    /// Checked by `parse`.
    version: u32,
    child: SavedChild,
}

/// The single file of older versions.
#[derive(Debug, Deserialize)]
struct OldFile {
    children: Vec<SavedChild>,
}

/// A state file of version 1: its version is looked at first, so that a
/// file of another mvl says so rather than failing on a field.
fn parse<T: serde::de::DeserializeOwned>(path: &std::path::Path, b: &[u8]) -> Result<T> {
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let v: Version = serde_json::from_slice(b).map_err(|e| Store::err(path, e))?;
    if v.version != 1 {
        return Err(Store::err(
            path,
            format!("version {} is not one this mvl knows (1)", v.version),
        ));
    }
    serde_json::from_slice(b).map_err(|e| Store::err(path, e))
}

/// The state of a state directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
}

/// A name for a new child's file: the time first, so that names sort in
/// the order children were made (restored in that order), then random bits.
pub fn new_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let r = getrandom::u32().unwrap_or(now as u32);
    format!("{now:016x}-{r:08x}")
}

impl Store {
    /// The store in `dir` (created on first save).
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    fn children_dir(&self) -> PathBuf {
        self.dir.join("children")
    }

    fn path(&self, id: &str) -> PathBuf {
        self.children_dir().join(format!("{id}.json"))
    }

    fn old_path(&self) -> PathBuf {
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

    fn err(path: &std::path::Path, why: impl std::fmt::Display) -> Error {
        Error::State {
            path: path.display().to_string(),
            why: why.to_string(),
        }
    }

    /// The saved children with the names of their files, in the order they
    /// were made (none when nothing was saved yet). An older `children.json`
    /// is split into files first.
    pub fn load(&self) -> Result<Vec<(String, SavedChild)>> {
        self.split_old()?;
        let dir = self.children_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::err(&dir, e)),
        };
        let mut out = Vec::new();
        for e in entries {
            let path = e.map_err(|e| Self::err(&dir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.ends_with(".json.tmp") {
                // A temporary file a crash left: its child's file is whole.
                let _ = std::fs::remove_file(&path);
                continue;
            }
            let Some(id) = name.strip_suffix(".json") else {
                continue;
            };
            let b = std::fs::read(&path).map_err(|e| Self::err(&path, e))?;
            let f: ChildFile = parse(&path, &b)?;
            out.push((id.to_string(), f.child));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// An older state file, split into one file per child and removed.
    fn split_old(&self) -> Result<()> {
        let path = self.old_path();
        let b = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Self::err(&path, e)),
        };
        let f: OldFile = parse(&path, &b)?;
        // Names in the file's order, before any new child's, and the same
        // each time: a split that a crash cut short is done again over them.
        for (i, c) in f.children.iter().enumerate() {
            self.put(&format!("{:016x}-{i:08}", 0), c)?;
        }
        std::fs::remove_file(&path).map_err(|e| Self::err(&path, e))
    }

    /// Saves child `id`, replacing its file atomically.
    pub fn put(&self, id: &str, child: &SavedChild) -> Result<()> {
        let path = self.path(id);
        std::fs::create_dir_all(self.children_dir()).map_err(|e| Self::err(&path, e))?;
        let tmp = self.children_dir().join(format!("{id}.json.tmp"));
        let body = serde_json::to_vec_pretty(&ChildFile {
            version: 1,
            child: child.clone(),
        })
        .map_err(|e| Self::err(&path, e))?;
        std::fs::write(&tmp, &body).map_err(|e| Self::err(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Self::err(&path, e))
    }

    /// Forgets child `id` (nothing to do when it has no file).
    pub fn remove(&self, id: &str) -> Result<()> {
        let path = self.path(id);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Self::err(&path, e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(name: &str) -> SavedChild {
        SavedChild {
            name: name.into(),
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
        }
    }

    fn tmp(what: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mvl-state-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn save_and_load() {
        let dir = tmp("test");
        let s = Store::new(dir.clone());
        assert!(s.load().unwrap().is_empty());
        let (a, b) = (new_id(), new_id());
        assert!(
            a[..16] <= b[..16],
            "ids sort in the order they were made: {a} {b}"
        );
        let (a, b) = (format!("{}0", &a[..16]), format!("{}1", &a[..16]));
        s.put(&b, &child("c2")).unwrap();
        s.put(&a, &child("c1")).unwrap();
        assert_eq!(
            s.load().unwrap(),
            vec![(a.clone(), child("c1")), (b.clone(), child("c2"))]
        );
        s.put(&a, &child("c1b")).unwrap();
        s.remove(&b).unwrap();
        s.remove(&b).unwrap();
        assert_eq!(s.load().unwrap(), vec![(a.clone(), child("c1b"))]);
        // A crash between write and rename leaves a temporary file: ignored.
        std::fs::write(dir.join(format!("children/{b}.json.tmp")), b"{\"vers").unwrap();
        assert_eq!(s.load().unwrap().len(), 1);
        std::fs::write(s.path(&b), b"{\"version\": 9, \"child\": {}}").unwrap();
        let e = s.load().unwrap_err().to_string();
        assert!(e.contains("version 9") && e.contains(&b), "{e}");
        std::fs::write(s.path(&b), b"garbage").unwrap();
        assert!(s.load().is_err());
        let held = s.lock().unwrap();
        let e = Store::new(dir.clone()).lock().unwrap_err().to_string();
        assert!(e.contains("another mvl daemon"), "{e}");
        drop(held);
        assert!(s.lock().is_ok(), "free again");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_older_single_file_is_split_in_its_order() {
        let dir = tmp("old");
        std::fs::create_dir_all(&dir).unwrap();
        let old = serde_json::json!({"version": 1, "children": [child("z"), child("a"), child("m")]});
        std::fs::write(dir.join("children.json"), old.to_string()).unwrap();
        let s = Store::new(dir.clone());
        let names: Vec<String> = s.load().unwrap().into_iter().map(|(_, c)| c.name).collect();
        assert_eq!(names, ["z", "a", "m"]);
        assert!(!dir.join("children.json").exists());
        assert_eq!(s.load().unwrap().len(), 3, "loaded again from the split files");
        // A crash after the split wrote its files but before it removed the
        // old file: the next start splits it again over the same files.
        std::fs::write(dir.join("children.json"), old.to_string()).unwrap();
        let names: Vec<String> = s.load().unwrap().into_iter().map(|(_, c)| c.name).collect();
        assert_eq!(names, ["z", "a", "m"]);
        // A file that is neither a child's nor a temporary one is left alone.
        std::fs::write(dir.join("children/README"), b"mine").unwrap();
        assert_eq!(s.load().unwrap().len(), 3);
        assert!(dir.join("children/README").exists());
        std::fs::write(dir.join("children.json"), b"{\"version\": 7, \"children\": []}").unwrap();
        assert!(s.load().unwrap_err().to_string().contains("version 7"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
