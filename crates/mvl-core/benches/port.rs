//! Cost of one forwarding decision. See BENCHMARKS.md for the numbers and
//! how to reproduce them.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mvl_core::{wire, Decision, LowerInfo, MacAddr, Mode, NewMacvlan, Port};

fn mac(i: u32) -> MacAddr {
    let b = i.to_be_bytes();
    MacAddr([0x02, 0x42, b[0], b[1], b[2], b[3]])
}

fn port_with(n: u32, mode: Mode) -> Port {
    let mut p = Port::new(LowerInfo::ethernet("eth0", MacAddr([0x7e, 0, 0, 0, 0, 1])));
    for i in 0..n {
        let id = p
            .create(NewMacvlan::new(&format!("mv{i}"), mac(i)).mode(mode))
            .unwrap();
        p.open(id).unwrap();
    }
    p
}

fn frame(dst: MacAddr, src: MacAddr) -> Vec<u8> {
    let mut f = vec![0u8; 98];
    wire::write_header(&mut f, dst, src, wire::ETH_P_IP);
    f
}

fn rx_unicast(c: &mut Criterion) {
    let mut g = c.benchmark_group("rx_unicast");
    g.throughput(Throughput::Elements(1));
    for n in [1u32, 64, 4096] {
        let p = port_with(n, Mode::Bridge);
        // Frames to children spread over the whole port.
        let frames: Vec<Vec<u8>> = (0..64)
            .map(|k| frame(mac((k * 7919) % n), MacAddr([0x36, 0, 0, 0, 0, 1])))
            .collect();
        let mut d = Decision::new();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            let mut k = 0;
            b.iter(|| {
                k = (k + 1) & 63;
                p.rx_from_lower(black_box(&frames[k]), &mut d);
                black_box(d.deliveries().len())
            })
        });
    }
    g.finish();
}

fn tx_bridge_unicast(c: &mut Criterion) {
    let mut g = c.benchmark_group("tx_bridge_unicast");
    g.throughput(Throughput::Elements(1));
    let p = port_with(64, Mode::Bridge);
    let from = p.children()[0];
    let f = frame(mac(33), mac(0));
    let mut d = Decision::new();
    g.bench_function("64", |b| {
        b.iter(|| {
            p.tx_from_child(from, black_box(&f), &mut d);
            black_box(d.deliveries().len())
        })
    });
    g.finish();
}

fn rx_broadcast(c: &mut Criterion) {
    let mut g = c.benchmark_group("rx_broadcast");
    for n in [16u32, 64] {
        let p = port_with(n, Mode::Bridge);
        let f = frame(MacAddr::BROADCAST, MacAddr([0x36, 0, 0, 0, 0, 1]));
        let mut d = Decision::new();
        g.throughput(Throughput::Elements(u64::from(n)));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                p.rx_from_lower(black_box(&f), &mut d);
                black_box(d.deliveries().len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, rx_unicast, tx_bridge_unicast, rx_broadcast);
criterion_main!(benches);
