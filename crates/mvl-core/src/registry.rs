//! Every port of a host, keyed by the caller's name for a lower device:
//! ports appear with their first macvlan and vanish with their last, a
//! macvlan created on a macvlan joins the real lower, deleting a lower
//! deletes its macvlans, and a lower with macvlans cannot be enslaved.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::port::{ChildId, Deleted, LowerInfo, LowerKind, NewMacvlan, Port};

/// A macvlan anywhere in a [`Ports`]: its real lower and its id there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacvlanRef<K> {
    /// The real lower.
    pub lower: K,
    /// The macvlan in that lower's port.
    pub id: ChildId,
}

/// The device a new macvlan is created on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent<K> {
    /// A device that is not a macvlan.
    Lower(K),
    /// A macvlan: the new one becomes its sibling on the real lower.
    Macvlan(MacvlanRef<K>),
}

/// The ports of one host.
#[derive(Debug, Clone)]
pub struct Ports<K: Ord + Copy> {
    ports: BTreeMap<K, Port>,
}

impl<K: Ord + Copy> Default for Ports<K> {
    fn default() -> Self {
        Ports {
            ports: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Copy> Ports<K> {
    /// No port.
    pub fn new() -> Self {
        Self::default()
    }

    /// The port of `lower`, if it carries macvlans.
    pub fn port(&self, lower: K) -> Option<&Port> {
        self.ports.get(&lower)
    }

    /// The port of `lower`, mutable.
    pub fn port_mut(&mut self, lower: K) -> Option<&mut Port> {
        self.ports.get_mut(&lower)
    }

    /// Every port, by lower.
    pub fn iter(&self) -> impl Iterator<Item = (K, &Port)> {
        self.ports.iter().map(|(k, p)| (*k, p))
    }

    /// The real lower a new macvlan on `parent` attaches to.
    pub fn resolve(parent: Parent<K>) -> K {
        match parent {
            Parent::Lower(k) => k,
            Parent::Macvlan(r) => r.lower,
        }
    }

    /// Creates a macvlan on `parent`. `describe` is asked about the real
    /// lower only when it has no port yet; a refused request leaves no port.
    pub fn create(
        &mut self,
        parent: Parent<K>,
        describe: impl FnOnce(K) -> (LowerInfo, LowerKind),
        req: NewMacvlan,
    ) -> Result<MacvlanRef<K>, Error> {
        let lower = Self::resolve(parent);
        let fresh = !self.ports.contains_key(&lower);
        if fresh {
            let (info, kind) = describe(lower);
            self.ports.insert(lower, Port::for_lower(info, &kind)?);
        }
        let port = self.ports.get_mut(&lower).expect("inserted above");
        match port.create(req) {
            Ok(id) => Ok(MacvlanRef { lower, id }),
            Err(e) => {
                if fresh {
                    self.ports.remove(&lower);
                }
                Err(e)
            }
        }
    }

    /// Deletes a macvlan; the port goes with its last macvlan.
    pub fn delete(&mut self, r: MacvlanRef<K>) -> Result<Deleted, Error> {
        let port = self
            .ports
            .get_mut(&r.lower)
            .ok_or(Error::NoSuchMacvlan(r.id.index()))?;
        let d = port.delete(r.id)?;
        if d.port_empty {
            self.ports.remove(&r.lower);
        }
        Ok(d)
    }

    /// The lower is being deleted: every macvlan on it goes too. Returns them.
    pub fn remove_lower(&mut self, lower: K) -> Vec<ChildId> {
        self.ports
            .remove(&lower)
            .map(|p| p.children().to_vec())
            .unwrap_or_default()
    }

    /// A lower that carries macvlans cannot join a bridge or bond (EBUSY).
    pub fn check_enslave(&self, lower: K, master: &str) -> Result<(), Error> {
        match self.ports.get(&lower) {
            Some(p) => Err(Error::LowerHasMacvlans {
                lower: p.lower().name.clone(),
                children: p
                    .children()
                    .iter()
                    .map(|&id| p.name(id))
                    .collect::<Vec<_>>()
                    .join(", "),
                master: master.to_string(),
            }),
            None => Ok(()),
        }
    }
}
