//! # mvl-draw: pictures of macvlan labs
//!
//! Everything drawn here was decided elsewhere: the topology is read from
//! the emulator (`mvl-sim`) after a lab line, and a ping's frame paths are
//! the trace that `mvl lab run --explain` prints. Nothing here runs a lab or
//! forwards a frame.
//!
//! The model, in the order data flows:
//!
//! - [`Recorder`] is a lab backend that wraps the emulator's
//!   ([`mvl_lab::SimBackend`]): `mvl_lab::run` drives it, and after each line
//!   it keeps a [`Topology`] (and a ping's trace) as a [`State`] (or only
//!   after the one line a picture needs). The
//!   finished [`Recording`] answers "the state after line N" and "the ping on
//!   line N".
//! - [`Topology`]: namespaces → devices (name, kind, MAC, addresses, MTU,
//!   up/carrier/operstate, macvlan mode, flags and source list, bridge master
//!   and hairpin) and [`Link`]s between devices (veth cables, bridge ports,
//!   macvlan → lower). It serializes as the `--format json` output.
//! - [`PingPaths`]: the frames of one ping, parsed from the trace, each hop
//!   tied to the devices it names; edges follow the topology's links, and a
//!   frame that died is marked where it died, with the trace's reason.
//! - [`layout()`]: a deterministic layered layout: namespaces are boxes in
//!   columns (a namespace one link further from the root goes one column to
//!   the right), devices stacked inside; nothing overlaps and the same
//!   topology always gets the same coordinates.
//! - Renderers: [`svg()`] (hand-written SVG with a legend; mode colours),
//!   [`dot()`] (Graphviz), [`json()`], and [`html_report()`], one
//!   self-contained page with every line, its result and its picture.

#![forbid(unsafe_code)]

mod dot;
mod html;
mod layout;
mod model;
mod path;
mod record;
mod svg;

pub use dot::dot;
pub use html::{html_report, HtmlInput};
pub use layout::{layout, Layout, Rect};
pub use model::{Device, Link, LinkKind, Namespace, Topology};
pub use path::{Frame, FrameKind, PingPaths};
pub use record::{Recorder, Recording, State};
pub use svg::svg;

/// Why a picture cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    /// `--at` or `--ping` names a line after the lab's last command.
    #[error("{option} {line}: past the end of the lab, whose last command is on line {last}")]
    PastEnd {
        /// The option.
        option: &'static str,
        /// The line asked for.
        line: usize,
        /// The last line with a command.
        last: usize,
    },
    /// `--ping` names a line that is not a ping.
    #[error("--ping {line}: line {line} is `{command}`, not a ping")]
    NotAPing {
        /// The line asked for.
        line: usize,
        /// Its command.
        command: String,
    },
    /// `--ping` names a line without a command.
    #[error("--ping {line}: line {line} has no command (it is a comment or empty)")]
    NoCommand {
        /// The line asked for.
        line: usize,
    },
    /// A picture of a line whose state the [`Recorder`] was not asked to keep.
    #[error("the state after line {line} was not kept by this recording")]
    NotKept {
        /// The line.
        line: usize,
    },
    /// A trace line that is not in the form `--explain` prints.
    #[error("trace of line {line}: cannot read `{text}`")]
    Trace {
        /// The lab line of the ping.
        line: usize,
        /// The trace line.
        text: String,
    },
}

/// The topology as JSON (namespaces → devices, and the links between them).
pub fn json(t: &Topology, ping: Option<&PingPaths>) -> String {
    let v = match ping {
        Some(p) => serde_json::json!({"topology": t, "ping": p}),
        None => serde_json::json!({"topology": t}),
    };
    serde_json::to_string_pretty(&v).expect("plain data serializes") + "\n"
}
