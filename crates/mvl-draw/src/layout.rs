//! Where every box goes: a deterministic layered layout.
//!
//! Namespaces are columns by their distance (in links) from the root
//! namespace: the switch on the left, the server one column right, the
//! macvlans on it one more. Within a column namespaces stack in creation
//! order, and a column taller than [`MAX_COLUMN`] continues in a new one, so
//! a lab of hundreds of devices stays wide rather than endless. Devices stack
//! inside their namespace. Every box has a fixed width and a height from its
//! number of text lines, so nothing can overlap, and the same topology
//! always gets the same integer coordinates (drawings diff well).

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::model::{device_lines, Topology};

/// A box, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rect {
    /// Left.
    pub x: i32,
    /// Top.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
}

impl Rect {
    /// Whether the two boxes share any area.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// Whether `o` lies wholly inside.
    pub fn contains(&self, o: &Rect) -> bool {
        o.x >= self.x && o.y >= self.y && o.x + o.w <= self.x + self.w && o.y + o.h <= self.y + self.h
    }
}

/// Coordinates of every namespace and device box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Width of the whole drawing.
    pub width: i32,
    /// Height of the whole drawing.
    pub height: i32,
    /// One box per namespace, in the topology's order.
    pub namespaces: Vec<Rect>,
    /// One box per device, by namespace then device.
    pub devices: Vec<Vec<Rect>>,
}

/// Width of a device box.
pub(crate) const DEV_W: i32 = 240;
/// Height of a line of text.
pub(crate) const LINE_H: i32 = 14;
/// Padding inside a device box.
pub(crate) const DEV_PAD: i32 = 6;
const DEV_GAP: i32 = 8;
/// Room for the namespace's name above its devices.
const NS_HEAD: i32 = 24;
const NS_PAD: i32 = 10;
/// Room between columns, where the links run.
const COL_GAP: i32 = 110;
const NS_GAP: i32 = 24;
/// Room above the namespaces for the legend.
const LEGEND_H: i32 = 56;
const MARGIN: i32 = 20;
/// A column taller than this continues in the next one.
const MAX_COLUMN: i32 = 1600;
/// The legend's width: the drawing is never narrower.
pub(crate) const LEGEND_W: i32 = 760;

/// Height of a device's box.
pub(crate) fn device_height(lines: usize) -> i32 {
    2 * DEV_PAD + (lines as i32 + 1) * LINE_H
}

/// A namespace's devices: each one's offset from the namespace's corner,
/// in sub-columns no taller than [`MAX_COLUMN`]; and the namespace's size.
struct Inner {
    offsets: Vec<(i32, i32)>,
    w: i32,
    h: i32,
}

fn inner(heights: &[i32]) -> Inner {
    let mut offsets = Vec::with_capacity(heights.len());
    let (mut col, mut y, mut tallest) = (0, NS_HEAD, NS_HEAD + LINE_H);
    for &h in heights {
        if y > NS_HEAD && y + h > MAX_COLUMN {
            col += 1;
            y = NS_HEAD;
        }
        offsets.push((NS_PAD + col * (DEV_W + NS_PAD), y));
        y += h + DEV_GAP;
        tallest = tallest.max(y);
    }
    Inner {
        offsets,
        w: NS_PAD + (col + 1) * (DEV_W + NS_PAD),
        h: tallest + NS_PAD - DEV_GAP,
    }
}

/// Lays `t` out.
pub fn layout(t: &Topology) -> Layout {
    let layers = layers(t);
    let inners: Vec<Inner> = t
        .namespaces
        .iter()
        .map(|ns| {
            let heights: Vec<i32> = ns
                .devices
                .iter()
                .map(|d| device_height(device_lines(d).len()))
                .collect();
            inner(&heights)
        })
        .collect();
    // Columns: each layer in order, split where it grows too tall.
    let mut columns: Vec<Vec<usize>> = Vec::new();
    let max_layer = layers.iter().copied().max().unwrap_or(0);
    for layer in 0..=max_layer {
        let mut col: Vec<usize> = Vec::new();
        let mut h = 0;
        for i in (0..t.namespaces.len()).filter(|&i| layers[i] == layer) {
            if !col.is_empty() && h + inners[i].h > MAX_COLUMN {
                columns.push(std::mem::take(&mut col));
                h = 0;
            }
            h += inners[i].h + NS_GAP;
            col.push(i);
        }
        if !col.is_empty() {
            columns.push(col);
        }
    }
    let zero = Rect {
        x: 0,
        y: 0,
        w: 0,
        h: 0,
    };
    let mut namespaces = vec![zero; t.namespaces.len()];
    let mut devices: Vec<Vec<Rect>> = vec![Vec::new(); t.namespaces.len()];
    let (mut x, mut height) = (MARGIN, 0);
    for col in &columns {
        let mut y = MARGIN + LEGEND_H;
        for &i in col {
            let n = &inners[i];
            namespaces[i] = Rect { x, y, w: n.w, h: n.h };
            devices[i] = n
                .offsets
                .iter()
                .zip(&t.namespaces[i].devices)
                .map(|(&(dx, dy), d)| Rect {
                    x: x + dx,
                    y: y + dy,
                    w: DEV_W,
                    h: device_height(device_lines(d).len()),
                })
                .collect();
            y += n.h + NS_GAP;
        }
        height = height.max(y);
        x += col.iter().map(|&i| inners[i].w).max().unwrap_or(0) + COL_GAP;
    }
    Layout {
        width: x.max(LEGEND_W + 2 * MARGIN),
        height: height.max(MARGIN + LEGEND_H) + MARGIN,
        namespaces,
        devices,
    }
}

/// Each namespace's column: its distance in links from the root namespace
/// (from the first namespace of each part not linked to it).
fn layers(t: &Topology) -> Vec<usize> {
    let index = t.index();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); t.namespaces.len()];
    for l in &t.links {
        let (Some(&(a, _)), Some(&(b, _))) = (index.get(l.from.as_str()), index.get(l.to.as_str())) else {
            continue;
        };
        if a != b {
            adj[a].push(b);
            adj[b].push(a);
        }
    }
    for a in &mut adj {
        a.sort_unstable();
        a.dedup();
    }
    let mut layer: BTreeMap<usize, usize> = BTreeMap::new();
    for start in 0..t.namespaces.len() {
        if layer.contains_key(&start) {
            continue;
        }
        layer.insert(start, 0);
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            let next = layer[&n] + 1;
            for &m in &adj[n] {
                if let std::collections::btree_map::Entry::Vacant(e) = layer.entry(m) {
                    e.insert(next);
                    queue.push_back(m);
                }
            }
        }
    }
    (0..t.namespaces.len()).map(|i| layer[&i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recorder;

    /// Every state of a lab, as the emulator held it after each line.
    fn states(text: &str) -> Vec<Topology> {
        let lab = mvl_lab::parse(text).expect("the lab parses");
        let mut r = Recorder::new(1);
        mvl_lab::run(&lab, &mut r, mvl_lab::RunOptions::default(), |_| {}).expect("runs");
        r.finish_recording()
            .states()
            .iter()
            .map(|s| s.topology.clone())
            .collect()
    }

    /// `n` namespaces on a root bridge, each with `per` macvlans.
    fn many(n: usize, per: usize) -> String {
        let mut s = String::from("ip link add br0 type bridge\nip link set br0 up\n");
        for i in 0..n {
            s.push_str(&format!(
                "ip netns add ns{i}\nip link add p{i} type veth peer e{i}\nip link set p{i} master br0\nip link set e{i} netns ns{i}\n"
            ));
            for j in 0..per {
                s.push_str(&format!(
                    "ip netns exec ns{i} ip link add m{j} link e{i} type macvlan mode source macaddr add 02:00:00:00:00:0{j}\n"
                ));
            }
        }
        s
    }

    /// Nothing overlaps, every device has its box inside its namespace's,
    /// and the drawing holds every box.
    fn check(t: &Topology) {
        let l = layout(t);
        assert_eq!(l.namespaces.len(), t.namespaces.len());
        let whole = Rect {
            x: 0,
            y: 0,
            w: l.width,
            h: l.height,
        };
        let mut all: Vec<Rect> = Vec::new();
        for (i, ns) in t.namespaces.iter().enumerate() {
            assert_eq!(
                l.devices[i].len(),
                ns.devices.len(),
                "every device of {} is placed",
                ns.name
            );
            assert!(whole.contains(&l.namespaces[i]), "{} inside the drawing", ns.name);
            for (j, d) in l.devices[i].iter().enumerate() {
                assert!(
                    l.namespaces[i].contains(d),
                    "{} inside {}",
                    ns.devices[j].id,
                    ns.name
                );
                for o in &all {
                    assert!(!o.overlaps(d), "{} overlaps another device", ns.devices[j].id);
                }
                all.push(*d);
            }
            for (k, o) in l.namespaces.iter().enumerate().take(i) {
                assert!(
                    !o.overlaps(&l.namespaces[i]),
                    "{} overlaps {}",
                    ns.name,
                    t.namespaces[k].name
                );
            }
        }
        assert_eq!(all.len(), t.device_count());
        assert_eq!(layout(t), l, "the same topology gets the same layout");
    }

    #[test]
    fn tutorial_at_every_line() {
        let text = include_str!("../../../labs/tutorial.sh");
        let all = states(text);
        assert!(all.len() > 70);
        for t in &all {
            check(t);
        }
    }

    #[test]
    fn fifty_devices_and_more() {
        let t = states(&many(6, 6)).pop().expect("a state");
        assert!(t.device_count() >= 50, "{}", t.device_count());
        check(&t);
        let t = states(&many(60, 8)).pop().expect("a state");
        assert!(t.device_count() >= 600);
        check(&t);
        // A tall layer is wrapped into several columns, not one endless one.
        let l = layout(&t);
        assert!(l.height <= MAX_COLUMN + 400, "height {}", l.height);
    }

    #[test]
    fn random_labs() {
        for seed in 0..20 {
            for t in &states(&mvl_lab::generate::random_lab(seed)) {
                check(t);
            }
        }
    }

    #[test]
    fn columns_follow_the_links() {
        let t = states(include_str!("../../../labs/tutorial.sh"))
            .pop()
            .expect("a state");
        let l = layout(&t);
        let x = |name: &str| {
            let i = t.namespaces.iter().position(|n| n.name == name).expect(name);
            l.namespaces[i].x
        };
        // The switch, the server on its cable, the macvlan on the server.
        assert!(x("root") < x("ns3"));
        assert!(x("ns3") < x("ns1"));
    }
}
