//! Allocation behaviour: decisions allocate nothing once warm, and a port
//! of 4096 macvlans fits in 2 MiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use mvl_core::{wire, Decision, LowerInfo, MacAddr, Mode, NewMacvlan, Port};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
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

fn mac(i: u32) -> MacAddr {
    let b = i.to_be_bytes();
    MacAddr([0x02, 0x42, b[0], b[1], b[2], b[3]])
}

fn frame(dst: MacAddr, src: MacAddr) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    wire::write_header(&mut f, dst, src, wire::ETH_P_IP);
    f
}

fn build(n: u32) -> Port {
    let mut p = Port::new(LowerInfo::ethernet("eth0", MacAddr([0x7e, 0, 0, 0, 0, 1])));
    for i in 0..n {
        let id = p
            .create(NewMacvlan::new(&format!("mv{i}"), mac(i)).mode(Mode::Bridge))
            .unwrap();
        p.open(id).unwrap();
    }
    p
}

// One test function so that the counters are not shared between threads.
#[test]
fn allocation_behaviour() {
    let before = LIVE.load(Ordering::SeqCst);
    let p = build(4096);
    let bytes = LIVE.load(Ordering::SeqCst) - before;
    eprintln!("a port of 4096 macvlans: {bytes} bytes");
    assert!(bytes <= 2 * 1024 * 1024, "4096 macvlans take {bytes} bytes");

    let small = build(64);
    let uni: Vec<Vec<u8>> = (0..64)
        .map(|i| frame(mac(i), MacAddr([0x36, 0, 0, 0, 0, 1])))
        .collect();
    let bc = frame(MacAddr::BROADCAST, MacAddr([0x36, 0, 0, 0, 0, 1]));
    let from = small.children()[0];
    let mut d = Decision::new();
    // Warm up: the delivery list grows to its largest size once.
    small.rx_from_lower(&bc, &mut d);
    let start = ALLOCS.load(Ordering::SeqCst);
    for f in &uni {
        p.rx_from_lower(f, &mut d);
        assert_eq!(d.deliveries().len(), 1);
        small.tx_from_child(from, f, &mut d);
    }
    small.rx_from_lower(&bc, &mut d);
    assert_eq!(d.deliveries().len(), 64);
    small.tx_from_child(from, &bc, &mut d);
    assert_eq!(d.deliveries().len(), 63);
    assert_eq!(
        ALLOCS.load(Ordering::SeqCst),
        start,
        "a warm decision allocates nothing"
    );
}
