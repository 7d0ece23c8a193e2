//! Golden pictures: a change to the drawing shows up as a diff here.

use mvl_draw::{dot, json, svg, Recorder, Recording};

fn record(path: &str) -> Recording {
    let text =
        std::fs::read_to_string(format!("{}/../../labs/{path}", env!("CARGO_MANIFEST_DIR"))).expect("lab");
    let lab = mvl_lab::parse(&text).expect("the lab parses");
    let mut r = Recorder::new(1);
    mvl_lab::run(&lab, &mut r, mvl_lab::RunOptions::default(), |_| {}).expect("runs");
    r.finish_recording()
}

#[test]
fn tutorial_topology_svg() {
    let rec = record("tutorial.sh");
    // Line 45: all three hosts up, both macvlans in bridge mode.
    insta::assert_snapshot!(svg(&rec.at(Some(45)).expect("state").topology, None, "t"));
}

#[test]
fn tutorial_cable_cut_svg() {
    // Line 51: veth11 down; its peer and the macvlans on it lose carrier,
    // and br0, whose only port it is.
    let rec = record("tutorial.sh");
    let s = svg(&rec.at(Some(51)).expect("state").topology, None, "t");
    // Four devices say so in red, with a mark.
    assert_eq!(s.matches(" NO-CARRIER</text>").count(), 4);
    assert_eq!(s.matches("font-weight=\"bold\">✗</text>").count(), 4);
    insta::assert_snapshot!(s);
}

#[test]
fn vepa_ping_svg() {
    let rec = record("tutorial.sh");
    let (s, p) = rec.ping(66).expect("a ping");
    insta::assert_snapshot!(svg(&s.topology, Some(&p), "p"));
}

#[test]
fn passthru_source_json() {
    let rec = record("passthru-source.sh");
    insta::assert_snapshot!(json(&rec.at(None).expect("state").topology, None));
}

#[test]
fn tutorial_ping_json_and_dot() {
    let rec = record("tutorial.sh");
    let (s, p) = rec.ping(44).expect("a ping");
    insta::assert_snapshot!("ping44_json", json(&s.topology, Some(&p)));
    insta::assert_snapshot!("ping44_dot", dot(&s.topology, Some(&p)));
}

#[test]
fn drawings_are_stable() {
    let a = record("modes-hairpin.sh");
    let b = record("modes-hairpin.sh");
    let last = |r: &Recording| svg(&r.at(None).expect("state").topology, None, "x");
    assert_eq!(last(&a), last(&b));
}

#[test]
fn flags_follow_the_lab() {
    // g2 is `source nodst` until line 44 sets `flag null`.
    let rec = record("source-nodst.sh");
    let g2 = |line: Option<usize>| {
        let t = &rec.at(line).expect("state").topology;
        let d = t
            .namespaces
            .iter()
            .flat_map(|n| &n.devices)
            .find(|d| d.id == "g2/g2")
            .expect("g2")
            .clone();
        (d.mode, d.flags, d.sources)
    };
    assert_eq!(
        g2(Some(40)),
        (
            Some("source"),
            vec!["nodst"],
            vec!["02:00:00:00:00:77".to_string()]
        )
    );
    assert_eq!(g2(None).1, Vec::<&str>::new());
    let s = svg(&rec.at(Some(40)).expect("state").topology, None, "f");
    assert!(s.contains(">flags nodst</text>"));
    assert!(s.contains(">allows 02:00:00:00:00:77</text>"));
}
