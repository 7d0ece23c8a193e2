//! Graphviz DOT, for people who restyle the drawing: a cluster per
//! namespace, a node per device, an edge per link, a ping's frames as
//! numbered edges.

use std::fmt::Write;

use crate::model::{device_lines, LinkKind, Topology};
use crate::path::PingPaths;
use crate::svg::{frame_colour, mode_colour};

/// A DOT string literal.
fn q(s: &str) -> String {
    let s = s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("\"{s}\"")
}

/// The topology (and a ping's frames) as a Graphviz digraph.
pub fn dot(t: &Topology, ping: Option<&PingPaths>) -> String {
    let mut o = String::from(
        "digraph macvlan {\n  rankdir=LR;\n  compound=true;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"DejaVu Sans\", fontsize=10];\n",
    );
    for (i, ns) in t.namespaces.iter().enumerate() {
        let _ = writeln!(
            o,
            "  subgraph cluster_{i} {{\n    label={};\n    style=\"rounded,filled\";\n    fillcolor=\"#f1f3f5\";",
            q(&ns.name)
        );
        for d in &ns.devices {
            let kind = d.mode.map_or(d.kind.to_string(), |m| format!("macvlan {m}"));
            let mut label = format!("{} ({kind})", d.name);
            for l in device_lines(d) {
                label.push('\n');
                label.push_str(&l);
            }
            let colour = d.mode.map_or("#495057", mode_colour);
            let style = if d.up {
                "rounded,filled"
            } else {
                "rounded,filled,dashed"
            };
            let _ = writeln!(
                o,
                "    {} [label={}, color={}, style={}];",
                q(&d.id),
                q(&label),
                q(colour),
                q(style)
            );
        }
        o.push_str("  }\n");
    }
    for l in &t.links {
        let attrs = match l.kind {
            LinkKind::Veth => "dir=none, penwidth=3, label=\"veth\"".to_string(),
            LinkKind::Port => "dir=none, color=\"#868e96\", label=\"port\"".to_string(),
            LinkKind::Macvlan => {
                let m = l.mode.unwrap_or("");
                format!("style=dashed, color={}, label={}", q(mode_colour(m)), q(m))
            }
        };
        let _ = writeln!(o, "  {} -> {} [{attrs}];", q(&l.from), q(&l.to));
    }
    if let Some(p) = ping {
        for f in &p.frames {
            for (a, b) in &f.edges {
                let _ = writeln!(
                    o,
                    "  {} -> {} [color={}, penwidth=2, label={}, constraint=false];",
                    q(a),
                    q(b),
                    q(frame_colour(f.kind)),
                    q(&f.number.to_string())
                );
            }
            for (d, why) in &f.drops {
                let _ = writeln!(
                    o,
                    "  {} [xlabel={}, fontcolor=\"#e03131\"];",
                    q(d),
                    q(&format!("✗{} {why}", f.number))
                );
            }
        }
    }
    o.push_str("}\n");
    o
}
