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

/// Lays `t` out.
pub fn layout(t: &Topology) -> Layout {
    let layers = layers(t);
    let heights: Vec<Vec<i32>> = t
        .namespaces
        .iter()
        .map(|ns| {
            ns.devices
                .iter()
                .map(|d| device_height(device_lines(d).len()))
                .collect()
        })
        .collect();
    let ns_h = |i: usize| -> i32 {
        NS_HEAD + NS_PAD + heights[i].iter().map(|h| h + DEV_GAP).sum::<i32>().max(LINE_H)
    };
    // Columns: each layer in order, split where it grows too tall.
    let mut columns: Vec<Vec<usize>> = Vec::new();
    let max_layer = layers.iter().copied().max().unwrap_or(0);
    for layer in 0..=max_layer {
        let mut col: Vec<usize> = Vec::new();
        let mut h = 0;
        for i in (0..t.namespaces.len()).filter(|&i| layers[i] == layer) {
            if !col.is_empty() && h + ns_h(i) > MAX_COLUMN {
                columns.push(std::mem::take(&mut col));
                h = 0;
            }
            h += ns_h(i) + NS_GAP;
            col.push(i);
        }
        if !col.is_empty() {
            columns.push(col);
        }
    }
    let ns_w = DEV_W + 2 * NS_PAD;
    let mut namespaces = vec![
        Rect {
            x: 0,
            y: 0,
            w: 0,
            h: 0
        };
        t.namespaces.len()
    ];
    let mut devices: Vec<Vec<Rect>> = heights.iter().map(|h| Vec::with_capacity(h.len())).collect();
    let mut height = 0;
    for (c, col) in columns.iter().enumerate() {
        let x = MARGIN + c as i32 * (ns_w + COL_GAP);
        let mut y = MARGIN + LEGEND_H;
        for &i in col {
            let h = ns_h(i);
            namespaces[i] = Rect { x, y, w: ns_w, h };
            let mut dy = y + NS_HEAD;
            for &dh in &heights[i] {
                devices[i].push(Rect {
                    x: x + NS_PAD,
                    y: dy,
                    w: DEV_W,
                    h: dh,
                });
                dy += dh + DEV_GAP;
            }
            y += h + NS_GAP;
        }
        height = height.max(y);
    }
    let width = (MARGIN + columns.len() as i32 * (ns_w + COL_GAP)).max(LEGEND_W + 2 * MARGIN);
    Layout {
        width,
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
                if !layer.contains_key(&m) {
                    layer.insert(m, next);
                    queue.push_back(m);
                }
            }
        }
    }
    (0..t.namespaces.len()).map(|i| layer[&i]).collect()
}
