//! Descriptors do not leak in the userspace datapath: 1,000 add/up/del
//! cycles leave the process with as many open files as before. Alone in its
//! test binary, so no other test opens files meanwhile. Needs root (CI is
//! root); elsewhere it is ignored ("needs root").

use std::sync::Arc;

use mvl_datapath::{AddRequest, DevSpec, Engine, Options, SetRequest};
use mvl_lab::sandbox::Sandbox;

#[test]
#[ignore = "needs root"]
fn no_descriptor_leaks_across_a_thousand_add_del_cycles() {
    let sb = Sandbox::new().unwrap();
    let engine = sb.call(|| Arc::new(Engine::new(Options::default()).unwrap()));
    let sh = |cmd: &str| {
        sb.run(vec!["sh".into(), "-c".into(), cmd.into()], ".".into())
            .code
    };
    assert_eq!(sh("ip netns add g1 && ip netns add srv && ip link add lower netns srv type veth peer wire && ip -n srv link set lower up"), Some(0));
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    // A first cycle warms up what is kept (the engine's sockets are per lower and go with it).
    let cycle = || {
        let e = engine.clone();
        sb.call(move || {
            e.add(&AddRequest {
                name: "c1".into(),
                link: DevSpec::new(Some("srv"), "lower"),
                netns: Some("g1".into()),
                ..Default::default()
            })
            .unwrap();
            e.set(&SetRequest {
                dev: DevSpec::new(Some("g1"), "c1"),
                up: Some(true),
                ..Default::default()
            })
            .unwrap();
            e.del(&DevSpec::new(Some("g1"), "c1")).unwrap();
        })
    };
    cycle();
    let before = fds();
    for _ in 0..1000 {
        cycle();
    }
    assert_eq!(fds(), before, "descriptors after 1,000 add/up/del cycles");
}
