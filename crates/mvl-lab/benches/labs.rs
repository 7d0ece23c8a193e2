//! How fast the emulator runs labs, and how its memory grows with devices.
//! See BENCHMARKS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mvl_lab::{generate, parse, run, Backend, Res, RunOptions, SimBackend};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn run_text(text: &str) -> SimBackend {
    let lab = parse(text).unwrap();
    let mut b = SimBackend::new(1, std::env::temp_dir(), None);
    let rep = run(&lab, &mut b, RunOptions::default(), |_| {}).unwrap();
    assert_eq!(rep.exit_code(), 0);
    b
}

fn labs(c: &mut Criterion) {
    let tutorial =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../labs/tutorial.sh")).unwrap();
    let mut g = c.benchmark_group("lab");
    g.sample_size(20);
    g.bench_function("tutorial", |b| b.iter(|| black_box(run_text(&tutorial))));
    let big = generate::scale_lab(10, 1000, 100);
    g.bench_function("scale_1000_macvlans_10_lowers_100_pings", |b| {
        b.iter(|| black_box(run_text(&big)))
    });
    g.finish();

    // Memory of the emulator's state after the setup, by size.
    for n in [250u32, 500, 1000] {
        let text = generate::scale_lab(10, n, 0);
        let before = LIVE.load(Ordering::SeqCst);
        let b = run_text(&text);
        let bytes = LIVE.load(Ordering::SeqCst) - before;
        println!(
            "memory/{n}_macvlans: {bytes} bytes ({} per macvlan)",
            bytes / n as isize
        );
        drop(b);
    }
}

/// The cost of one ping as the network grows: a ping between neighbours
/// already resolved (its unicast hops only), and one after its sender
/// forgot its neighbours (plus an ARP broadcast that reaches every macvlan).
/// The emulator is set up once per size; only the ping lines are timed.
fn pings(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping");
    g.sample_size(20);
    for n in [500u32, 2000, 8000] {
        let setup = generate::scale_lab(10, n, 1);
        let ping = setup.lines().last().expect("one ping").to_string();
        let sender = ping
            .split_whitespace()
            .nth(3)
            .expect("ip netns exec NS")
            .to_string();
        let flush = format!("ip -n {sender} neigh flush all");
        let lab = parse(&setup).unwrap();
        let mut b = SimBackend::new(1, std::env::temp_dir(), None);
        for l in &lab.lines {
            assert_eq!(b.run(l, false).result, Res::Ok, "{}", l.text);
        }
        let one = |text: &str| parse(text).unwrap().lines.remove(0);
        let (ping, flush) = (one(&ping), one(&flush));
        g.bench_with_input(BenchmarkId::new("resolved", n), &n, |bench, _| {
            bench.iter(|| assert_eq!(b.run(&ping, false).result, Res::Ok))
        });
        g.bench_with_input(BenchmarkId::new("with_arp", n), &n, |bench, _| {
            bench.iter(|| {
                b.run(&flush, false);
                assert_eq!(b.run(&ping, false).result, Res::Ok)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, labs, pings);
criterion_main!(benches);
