//! The picture: SVG written by hand from the layout.

use std::fmt::Write;

use crate::layout::{device_height, layout, Layout, Rect, DEV_PAD, LINE_H};
use crate::model::{device_lines, LinkKind, Topology};
use crate::path::{FrameKind, PingPaths};

/// A mode's colour (boxes and ties of macvlans).
pub(crate) fn mode_colour(mode: &str) -> &'static str {
    match mode {
        "bridge" => "#2f9e44",
        "vepa" => "#1971c2",
        "private" => "#9c36b5",
        "passthru" => "#e8590c",
        "source" => "#0c8599",
        _ => "#495057",
    }
}

/// A frame's colour.
pub(crate) fn frame_colour(k: FrameKind) -> &'static str {
    match k {
        FrameKind::Arp => "#f59f00",
        FrameKind::Request => "#e64980",
        FrameKind::Reply => "#3b5bdb",
        FrameKind::Other => "#868e96",
    }
}

const DROP: &str = "#e03131";
const MODES: [&str; 5] = ["bridge", "vepa", "private", "passthru", "source"];
const FRAME_KINDS: [FrameKind; 3] = [FrameKind::Arp, FrameKind::Request, FrameKind::Reply];
/// Characters of monospace text that fit in a device box.
const FIT: usize = 36;
/// Height of a line of the ping's notes under the drawing.
const NOTE_H: i32 = 16;

/// Escapes text for XML and HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// `s` cut to `n` characters, with an ellipsis when cut.
fn fit(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut o: String = s.chars().take(n - 1).collect();
        o.push('…');
        o
    }
}

/// The topology as SVG, with a ping's frames on it when given. `id` prefixes
/// the element ids, so that many drawings can share one HTML page.
pub fn svg(t: &Topology, ping: Option<&PingPaths>, id: &str) -> String {
    let lay = layout(t);
    let notes = ping.map_or(0, note_lines);
    let height = lay.height + notes as i32 * NOTE_H + if notes > 0 { 10 } else { 0 };
    let mut o = String::with_capacity(4096 + 1200 * t.device_count());
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="mvl-drawing" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">"#,
        w = lay.width
    );
    o.push_str("<defs>");
    for k in FRAME_KINDS.iter().chain([&FrameKind::Other]) {
        let _ = write!(
            o,
            r#"<marker id="{id}-arrow-{}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>"#,
            k.as_str(),
            frame_colour(*k)
        );
    }
    o.push_str("</defs>\n");
    let _ = write!(
        o,
        r##"<rect width="{}" height="{height}" fill="#ffffff"/>"##,
        lay.width
    );
    legend(&mut o, ping.is_some());
    for (i, ns) in t.namespaces.iter().enumerate() {
        let r = lay.namespaces[i];
        let _ = writeln!(
            o,
            r##"<g class="netns" data-netns="{name}"><rect x="{}" y="{}" width="{}" height="{}" rx="8" fill="#f1f3f5" stroke="#adb5bd"/><text x="{}" y="{}" font-weight="bold" font-size="13">{name}</text></g>"##,
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + 10,
            r.y + 17,
            name = esc(&ns.name)
        );
    }
    links(&mut o, t, &lay);
    for (i, ns) in t.namespaces.iter().enumerate() {
        for (j, d) in ns.devices.iter().enumerate() {
            device(&mut o, d, lay.devices[i][j]);
        }
    }
    if let Some(p) = ping {
        frames(&mut o, t, &lay, p, id);
        ping_notes(&mut o, p, lay.height);
    }
    o.push_str("</svg>\n");
    o
}

fn legend(o: &mut String, frames: bool) {
    let y = 20 + 8;
    let _ = write!(
        o,
        r##"<g class="legend"><text x="20" y="{y}" font-weight="bold">macvlan modes</text>"##,
    );
    let mut x = 130;
    for m in MODES {
        let _ = write!(
            o,
            r##"<rect x="{x}" y="{}" width="14" height="14" rx="3" fill="{c}" fill-opacity="0.25" stroke="{c}" stroke-width="2"/><text x="{}" y="{y}">{m}</text>"##,
            y - 11,
            x + 19,
            c = mode_colour(m)
        );
        x += 28 + 8 * m.len() as i32;
    }
    let y2 = y + 22;
    let _ = write!(
        o,
        r##"<text x="20" y="{y2}" font-weight="bold">ties</text><line x1="60" y1="{l}" x2="90" y2="{l}" stroke="#212529" stroke-width="3"/><text x="95" y="{y2}">veth cable</text><line x1="175" y1="{l}" x2="205" y2="{l}" stroke="#868e96" stroke-width="2"/><text x="210" y="{y2}">bridge port</text><line x1="295" y1="{l}" x2="325" y2="{l}" stroke="#495057" stroke-width="2" stroke-dasharray="6 3"/><text x="330" y="{y2}">macvlan → lower</text>"##,
        l = y2 - 4
    );
    if frames {
        let mut x = 460;
        for k in FRAME_KINDS {
            let _ = write!(
                o,
                r##"<line x1="{x}" y1="{l}" x2="{}" y2="{l}" stroke="{}" stroke-width="4"/><text x="{}" y="{y2}">{}</text>"##,
                x + 24,
                frame_colour(k),
                x + 29,
                match k {
                    FrameKind::Arp => "ARP",
                    FrameKind::Request => "echo request",
                    _ => "echo reply",
                },
                l = y2 - 4
            );
            x += if k == FrameKind::Arp { 70 } else { 120 };
        }
        let _ = write!(
            o,
            r##"<text x="{x}" y="{y2}" fill="{DROP}" font-weight="bold">✗ dropped</text>"##,
        );
    } else {
        let _ = write!(
            o,
            r##"<text x="460" y="{y2}" fill="{DROP}" font-weight="bold">NO-CARRIER</text><text x="550" y="{y2}" fill="#868e96">dashed box: down</text>"##,
        );
    }
    o.push_str("</g>\n");
}

fn centre_y(r: Rect) -> i32 {
    r.y + r.h / 2
}

/// A curve from `a` to `b`: between facing sides, or out of the right side
/// and back for boxes in one column. `bend` separates curves that would
/// coincide; `dy` shifts the whole curve. Returns the path and its middle.
fn curve(a: Rect, b: Rect, bend: i32, dy: i32) -> (String, (i32, i32)) {
    let (ay, by) = (centre_y(a) + dy, centre_y(b) + dy);
    let (p0, p1, p2, p3) = if a.x == b.x {
        let x = a.x + a.w;
        let out = x + 30 + bend;
        ((x, ay), (out, ay), (out, by), (x, by))
    } else if a.x < b.x {
        let (sx, ex) = (a.x + a.w, b.x);
        let mid = (ex - sx) / 2;
        ((sx, ay), (sx + mid, ay), (ex - mid, by), (ex, by))
    } else {
        let (sx, ex) = (a.x, b.x + b.w);
        let mid = (sx - ex) / 2;
        ((sx, ay), (sx - mid, ay), (ex + mid, by), (ex, by))
    };
    let m = (
        (p0.0 + 3 * p1.0 + 3 * p2.0 + p3.0) / 8,
        (p0.1 + 3 * p1.1 + 3 * p2.1 + p3.1) / 8,
    );
    (
        format!(
            "M{},{} C{},{} {},{} {},{}",
            p0.0, p0.1, p1.0, p1.1, p2.0, p2.1, p3.0, p3.1
        ),
        m,
    )
}

fn links(o: &mut String, t: &Topology, lay: &Layout) {
    let index = t.index();
    let rect = |id: &str| index.get(id).map(|&(i, j)| lay.devices[i][j]);
    o.push_str(r#"<g class="links" fill="none">"#);
    for l in &t.links {
        let (Some(a), Some(b)) = (rect(&l.from), rect(&l.to)) else {
            continue;
        };
        let (stroke, width, dash, bend) = match l.kind {
            LinkKind::Veth => ("#212529", 3, "", 0),
            LinkKind::Port => ("#868e96", 2, "", 10),
            LinkKind::Macvlan => (
                mode_colour(l.mode.unwrap_or("")),
                2,
                r#" stroke-dasharray="6 3""#,
                20,
            ),
        };
        let (d, _) = curve(a, b, bend, 0);
        let kind = match l.kind {
            LinkKind::Veth => "veth",
            LinkKind::Port => "port",
            LinkKind::Macvlan => "macvlan",
        };
        let _ = writeln!(
            o,
            r#"<path class="link" data-kind="{kind}" data-from="{}" data-to="{}" d="{d}" stroke="{stroke}" stroke-width="{width}"{dash}/>"#,
            esc(&l.from),
            esc(&l.to)
        );
    }
    o.push_str("</g>\n");
}

fn device(o: &mut String, d: &crate::model::Device, r: Rect) {
    let lines = device_lines(d);
    debug_assert_eq!(device_height(lines.len()), r.h);
    let colour = d.mode.map_or("#495057", mode_colour);
    let (fill, stroke, width) = match d.kind {
        "macvlan" => (colour, colour, 2),
        "bridge" => ("#ffffff", "#343a40", 2),
        _ => ("#ffffff", "#868e96", 1),
    };
    let fill_opacity = if d.kind == "macvlan" { "0.12" } else { "1" };
    let dash = if d.up { "" } else { r#" stroke-dasharray="5 3""# };
    let kind = match d.mode {
        Some(m) => format!("macvlan {m}"),
        None => d.kind.to_string(),
    };
    let _ = write!(
        o,
        r##"<g class="device" data-dev="{id}"><title>{id} ({kind})</title><rect x="{}" y="{}" width="{}" height="{}" rx="5" fill="#ffffff"/><rect x="{}" y="{}" width="{}" height="{}" rx="5" fill="{fill}" fill-opacity="{fill_opacity}" stroke="{stroke}" stroke-width="{width}"{dash}/>"##,
        r.x,
        r.y,
        r.w,
        r.h,
        r.x,
        r.y,
        r.w,
        r.h,
        id = esc(&d.id),
    );
    let text_fill = if d.up { "#212529" } else { "#868e96" };
    let ty = r.y + DEV_PAD + LINE_H - 3;
    let _ = write!(
        o,
        r##"<text x="{}" y="{ty}" font-weight="bold" fill="{text_fill}">{}</text><text x="{}" y="{ty}" text-anchor="end" font-size="11" fill="{colour}">{}</text>"##,
        r.x + DEV_PAD,
        esc(&fit(&d.name, 20)),
        r.x + r.w - DEV_PAD,
        esc(&kind)
    );
    for (k, l) in lines.iter().enumerate() {
        let y = ty + (k as i32 + 1) * LINE_H;
        let bad = l.contains("NO-CARRIER") || l.contains("LOWERLAYERDOWN");
        let (fill, weight) = if bad {
            (DROP, r#" font-weight="bold""#)
        } else {
            (text_fill, "")
        };
        let _ = write!(
            o,
            r##"<text x="{}" y="{y}" font-family="DejaVu Sans Mono, monospace" font-size="11" fill="{fill}"{weight}>{}</text>"##,
            r.x + DEV_PAD,
            esc(&fit(l, FIT))
        );
    }
    if d.no_carrier() {
        let _ = write!(
            o,
            r##"<circle cx="{}" cy="{}" r="8" fill="{DROP}"/><text x="{}" y="{}" text-anchor="middle" fill="#ffffff" font-size="11" font-weight="bold">✗</text>"##,
            r.x + r.w,
            r.y,
            r.x + r.w,
            r.y + 4
        );
    }
    o.push_str("</g>\n");
}

fn frames(o: &mut String, t: &Topology, lay: &Layout, p: &PingPaths, id: &str) {
    let index = t.index();
    let rect = |d: &str| index.get(d).map(|&(i, j)| lay.devices[i][j]);
    o.push_str(r#"<g class="frames" fill="none">"#);
    for f in &p.frames {
        let colour = frame_colour(f.kind);
        let dy = (f.number as i32 % 5 - 2) * 4;
        let _ = write!(o, r#"<g class="frame" data-frame="{}">"#, f.number);
        for (a, b) in &f.edges {
            let (Some(ra), Some(rb)) = (rect(a), rect(b)) else {
                continue;
            };
            // A copy coming back the way it went (a hairpin) runs beside it.
            let back = f.edges.iter().any(|(x, y)| x == b && y == a) && a > b;
            let dy = if back { dy + 10 } else { dy };
            let (d, (mx, my)) = curve(ra, rb, 40 + f.number as i32 % 5 * 6, dy);
            let _ = writeln!(
                o,
                r##"<path d="{d}" stroke="{colour}" stroke-width="3" stroke-opacity="0.85" marker-end="url(#{id}-arrow-{})"/><circle cx="{mx}" cy="{my}" r="8" fill="{colour}"/><text x="{mx}" y="{}" text-anchor="middle" font-size="10" font-weight="bold" fill="#ffffff">{}</text>"##,
                f.kind.as_str(),
                my + 4,
                f.number
            );
        }
        for d in &f.reached {
            if let Some(r) = rect(d) {
                let _ = writeln!(
                    o,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" rx="7" stroke="{colour}" stroke-width="3"><title>frame {}: taken in by {}</title></rect>"#,
                    r.x - 3,
                    r.y - 3,
                    r.w + 6,
                    r.h + 6,
                    f.number,
                    esc(d)
                );
            }
        }
        for (k, (d, why)) in f.drops.iter().enumerate() {
            if let Some(r) = rect(d) {
                let cx = r.x + r.w - 14 - 20 * (k as i32 % 6);
                let cy = r.y + r.h - 2;
                let _ = writeln!(
                    o,
                    r##"<g class="drop"><title>frame {}: {}</title><circle cx="{cx}" cy="{cy}" r="9" fill="{DROP}" stroke="#ffffff"/><text x="{cx}" y="{}" text-anchor="middle" fill="#ffffff" font-size="11" font-weight="bold">✗{}</text></g>"##,
                    f.number,
                    esc(why),
                    cy + 4,
                    f.number
                );
            }
        }
        o.push_str("</g>\n");
    }
    o.push_str("</g>\n");
}

/// The notes under a ping's drawing: the ping, why it failed, each frame
/// and where its copies died.
fn notes(p: &PingPaths) -> Vec<(String, Option<&'static str>)> {
    let result = if p.replied { "got a reply" } else { "no reply" };
    let mut v = vec![(format!("line {}: {} — {result}", p.line, p.command), None)];
    if let Some(w) = &p.why {
        v.push((format!("why no reply: {w}"), Some(DROP)));
    }
    for f in &p.frames {
        v.push((format!("{}. {}", f.number, f.desc), Some(frame_colour(f.kind))));
        for (d, why) in &f.drops {
            let why = why.strip_prefix(&format!("{d}: ")).unwrap_or(why);
            v.push((format!("    ✗ {} — {why}", d), Some(DROP)));
        }
    }
    v
}

fn note_lines(p: &PingPaths) -> usize {
    notes(p).len()
}

fn ping_notes(o: &mut String, p: &PingPaths, top: i32) {
    o.push_str(r#"<g class="notes">"#);
    for (k, (text, colour)) in notes(p).iter().enumerate() {
        let y = top + 4 + k as i32 * NOTE_H;
        let weight = if k == 0 { r#" font-weight="bold""# } else { "" };
        let _ = writeln!(
            o,
            r##"<text x="20" y="{y}" fill="{}"{weight} xml:space="preserve">{}</text>"##,
            colour.unwrap_or("#212529"),
            esc(text)
        );
    }
    o.push_str("</g>\n");
}
