//! How long pictures take: the tutorial (run on the emulator, then drawn)
//! and a lab of more than 1,000 devices.

use criterion::{criterion_group, criterion_main, Criterion};
use mvl_draw::{html_report, svg, HtmlInput, Recorder, Recording};
use mvl_lab::{Report, RunOptions};

/// Runs a lab on the recorder: keeping every state, or only the last.
fn record(text: &str, every: bool) -> (Report, Recording) {
    let lab = mvl_lab::parse(text).expect("the lab parses");
    let mut r = if every {
        Recorder::new(1)
    } else {
        Recorder::keeping(1, usize::MAX)
    };
    let rep = mvl_lab::run(&lab, &mut r, RunOptions { explain: true }, |_| {}).expect("runs");
    (rep, r.finish_recording())
}

/// A bridge in the root namespace, `n` namespaces each on a veth port of it
/// with `per` bridge-mode macvlans on its end: 3 + n * (per + 3) devices.
fn big_lab(n: usize, per: usize) -> String {
    let mut s = String::from("ip link add br0 type bridge\nip link set br0 up\n");
    for i in 0..n {
        s.push_str(&format!(
            "ip netns add ns{i}\nip link add p{i} type veth peer e{i}\nip link set p{i} master br0\nip link set p{i} up\nip link set e{i} netns ns{i}\nip netns exec ns{i} ip link set e{i} up\n"
        ));
        for j in 0..per {
            s.push_str(&format!(
                "ip netns exec ns{i} ip link add m{i}.{j} link e{i} type macvlan mode bridge\nip netns exec ns{i} ip addr add 10.{}.{}.{}/8 dev m{i}.{j}\n",
                i / 200,
                i % 200,
                j + 1
            ));
        }
    }
    s
}

fn benches(c: &mut Criterion) {
    let tutorial = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../labs/tutorial.sh"))
        .expect("the tutorial is there");
    c.bench_function("tutorial: run on the emulator, draw the last state", |b| {
        b.iter(|| {
            let (_, rec) = record(&tutorial, false);
            svg(&rec.at(None).expect("state").topology, None, "b")
        })
    });
    c.bench_function("tutorial: run keeping every state, the HTML report", |b| {
        b.iter(|| {
            let (rep, rec) = record(&tutorial, true);
            html_report(&HtmlInput {
                lab: "labs/tutorial.sh",
                report: &rep,
                recording: &rec,
            })
            .expect("report")
        })
    });
    let big = big_lab(100, 8);
    let mut g = c.benchmark_group("1,100 devices");
    g.sample_size(10);
    g.bench_function("run on the emulator, draw the last state", |b| {
        b.iter(|| {
            let (_, rec) = record(&big, false);
            svg(&rec.at(None).expect("state").topology, None, "b")
        })
    });
    g.finish();
}

criterion_group!(draw, benches);
criterion_main!(draw);
