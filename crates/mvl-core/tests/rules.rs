//! One test per rule of `shared/spec/linux-macvlan.md`, named after its section.

mod common;

use common::*;
use mvl_core::*;

// ---------------------------------------------------------------- §1, §2

#[test]
fn s1_3_defaults_vepa_bcqueuelen_1000_bclim_1_mtu_of_lower() {
    let mut p = port();
    let id = p.create(NewMacvlan::new("mv0", mac(1))).unwrap();
    let i = p.info(id).unwrap();
    assert_eq!(i.mode, Mode::Vepa);
    assert_eq!(i.bc_queue_len, 1000);
    assert_eq!(i.bc_queue_len_used, 1000);
    assert_eq!(i.bc_cutoff, 1);
    assert_eq!(i.mtu, 1500);
    assert!(!i.up, "new devices start down");
}

#[test]
fn s2_2_flags_whole_value_and_unknown_bits() {
    assert!(Flags::from_bits(4).is_none());
    let mut p = port();
    let id = p
        .create(NewMacvlan::new("mv0", mac(1)).flags(Flags::NODST))
        .unwrap();
    p.change(
        id,
        &MacvlanChange {
            flags: Some(Flags::NONE),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(p.info(id).unwrap().flags, Flags::NONE, "flags replace, not OR");
}

#[test]
fn s2_3_source_list_add_del_flush_set() {
    let mut p = port();
    let id = p
        .create(
            NewMacvlan::new("s", mac(1))
                .mode(Mode::Source)
                .macaddr(MacaddrOp::Add(mac(9))),
        )
        .unwrap();
    let ch = |op| MacvlanChange {
        macaddr: Some(op),
        ..Default::default()
    };
    p.change(id, &ch(MacaddrOp::Add(mac(9)))).unwrap();
    assert_eq!(
        p.info(id).unwrap().sources,
        vec![mac(9)],
        "adding a present address is a no-op"
    );
    p.change(id, &ch(MacaddrOp::Del(mac(77)))).unwrap();
    assert_eq!(
        p.info(id).unwrap().sources.len(),
        1,
        "deleting a missing address succeeds"
    );
    p.change(id, &ch(MacaddrOp::Set(vec![mac(5), mac(6)]))).unwrap();
    let mut s = p.info(id).unwrap().sources;
    s.sort();
    assert_eq!(s, vec![mac(5), mac(6)], "set replaces the list");
    p.change(id, &ch(MacaddrOp::Flush)).unwrap();
    assert!(p.info(id).unwrap().sources.is_empty());
}

#[test]
fn s2_3_source_list_dump_order_is_the_kernels() {
    // Observed on Linux 6.18: `macaddr set ...:05 ...:01 ...:07` dumps as 07 05 01.
    let mut p = port();
    let id = p.create(NewMacvlan::new("s", mac(1)).mode(Mode::Source)).unwrap();
    let set = MacaddrOp::Set(vec![mac(5), mac(1), mac(7)]);
    p.change(
        id,
        &MacvlanChange {
            macaddr: Some(set),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(p.info(id).unwrap().sources, vec![mac(7), mac(5), mac(1)]);
}

#[test]
fn s2_3_source_list_refuses_group_and_zero_addresses() {
    let mut p = port();
    let id = p.create(NewMacvlan::new("s", mac(1)).mode(Mode::Source)).unwrap();
    for bad in [group(1), MacAddr::ZERO] {
        let e = p.change(
            id,
            &MacvlanChange {
                macaddr: Some(MacaddrOp::Add(bad)),
                ..Default::default()
            },
        );
        assert_eq!(e.unwrap_err().errno(), Errno::EADDRNOTAVAIL);
    }
    assert!(p.info(id).unwrap().sources.is_empty());
}

// ---------------------------------------------------------------- §3.2 source mode

#[test]
fn s3_2_source_mode_copies_by_source_mac_with_pkt_type() {
    let mut p = port();
    let s = up(&mut p, "src", 1, Mode::Source);
    p.change(
        s,
        &MacvlanChange {
            macaddr: Some(MacaddrOp::Add(EXTERNAL)),
            ..Default::default()
        },
    )
    .unwrap();
    let b = up(&mut p, "b", 2, Mode::Bridge);
    // Unicast to a sibling: a copy as OTHERHOST, and the sibling gets it too.
    let d = rx(&p, &frame(mac(2), EXTERNAL));
    assert_eq!(d.delivered_to(s), Some(PktType::OtherHost));
    assert_eq!(d.delivered_to(b), Some(PktType::Host));
    assert!(!d.to_lower_stack);
    // To the source device's own MAC: HOST; then the unicast lookup finds a
    // source-mode device and passes the frame to the lower too.
    let d = rx(&p, &frame(mac(1), EXTERNAL));
    assert_eq!(d.delivered_to(s), Some(PktType::Host));
    assert!(d.to_lower_stack);
    // To the lower's MAC: HOST (as the lower computed it).
    let d = rx(&p, &frame(LOWER_MAC, EXTERNAL));
    assert_eq!(d.delivered_to(s), Some(PktType::Host));
    // Broadcast: BROADCAST, with no multicast filter check.
    let d = rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL));
    assert_eq!(d.delivered_to(s), Some(PktType::Broadcast));
    assert_eq!(d.delivered_to(b), Some(PktType::Broadcast));
    let d = rx(&p, &frame(group(9), EXTERNAL));
    assert_eq!(
        d.delivered_to(s),
        Some(PktType::Multicast),
        "groups not joined still reach source mode"
    );
    // A sender not on the list: nothing for the source device.
    let d = rx(&p, &frame(MacAddr::BROADCAST, mac(200)));
    assert_eq!(d.delivered_to(s), None);
    assert!(d
        .skipped()
        .contains(&(s, Reason::NotInSourceList { src: mac(200) })));
}

#[test]
fn s3_2_nodst_consumes_even_when_the_nodst_device_is_down() {
    let mut p = port();
    let s = p
        .create(
            NewMacvlan::new("s", mac(1))
                .mode(Mode::Source)
                .flags(Flags::NODST)
                .macaddr(MacaddrOp::Add(EXTERNAL)),
        )
        .unwrap();
    let b = up(&mut p, "b", 2, Mode::Bridge);
    let d = rx(&p, &frame(mac(2), EXTERNAL));
    assert!(d.deliveries().is_empty(), "the bridge device does not get it");
    assert!(!d.to_lower_stack);
    assert_eq!(d.drop, Some(Reason::NodstConsumed { by: s }));
    p.open(s).unwrap();
    let d = rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL));
    assert_eq!(names(&p, &d), vec!["s"]);
    assert_eq!(d.delivered_to(b), None);
    assert!(!d.to_lower_stack, "nothing to the lower stack");
    assert_eq!(d.drop, None);
}

#[test]
fn s3_2_without_nodst_the_frame_is_duplicated() {
    let mut p = port();
    let s = up(&mut p, "s", 1, Mode::Source);
    p.change(
        s,
        &MacvlanChange {
            macaddr: Some(MacaddrOp::Add(EXTERNAL)),
            ..Default::default()
        },
    )
    .unwrap();
    up(&mut p, "v", 2, Mode::Vepa);
    let d = rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL));
    assert_eq!(names(&p, &d), vec!["s", "v"]);
    assert!(d.to_lower_stack);
}

// ---------------------------------------------------------------- §3.4, §3.5 floods

#[test]
fn s3_4_multicast_from_private_passthru_source_goes_back_to_sender_only() {
    for mode in [Mode::Private, Mode::Source] {
        let mut p = port();
        let a = up(&mut p, "a", 1, mode);
        up(&mut p, "v", 2, Mode::Vepa);
        up(&mut p, "b", 3, Mode::Bridge);
        let d = rx(&p, &frame(MacAddr::BROADCAST, mac(1)));
        assert_eq!(names(&p, &d), vec!["a"], "{mode}");
        assert_eq!(d.delivered_to(a), Some(PktType::Broadcast));
        assert!(!d.to_lower_stack, "{mode}: the lower stack does not get it");
    }
    let mut p = port();
    let pt = up(&mut p, "pt", 1, Mode::Passthru);
    let d = rx(&p, &frame(group(1), LOWER_MAC));
    assert_eq!(
        d.delivered_to(pt),
        Some(PktType::Multicast),
        "passthru has the lower's MAC"
    );
    assert!(!d.to_lower_stack);
}

#[test]
fn s3_5_flood_masks_by_sender_mode() {
    let mut p = port();
    let pr = up(&mut p, "p", 1, Mode::Private);
    let v = up(&mut p, "v", 2, Mode::Vepa);
    let b = up(&mut p, "b", 3, Mode::Bridge);
    let s = up(&mut p, "s", 4, Mode::Source);
    let v2 = up(&mut p, "v2", 5, Mode::Vepa);
    let b2 = up(&mut p, "b2", 6, Mode::Bridge);
    let bc = MacAddr::BROADCAST;
    // External: every up non-source device, and the lower.
    let d = rx(&p, &frame(bc, EXTERNAL));
    assert_eq!(names(&p, &d), vec!["b", "b2", "p", "v", "v2"]);
    assert!(d.to_lower_stack);
    assert!(d.skipped().contains(&(s, Reason::SourceModeByDestination)));
    // From the lower's own MAC: external too.
    assert_eq!(
        names(&p, &rx(&p, &frame(bc, LOWER_MAC))),
        vec!["b", "b2", "p", "v", "v2"]
    );
    // Reflected from a VEPA device: VEPA and BRIDGE, not the sender.
    let d = rx(&p, &frame(bc, mac(2)));
    assert_eq!(names(&p, &d), vec!["b", "b2", "v2"]);
    assert!(d.skipped().contains(&(v, Reason::IsSender)));
    assert!(d.skipped().contains(&(
        pr,
        Reason::ModeExcluded {
            receiver: Mode::Private,
            sender: Some(Mode::Vepa)
        }
    )));
    // Reflected from a BRIDGE device: VEPA only.
    let d = rx(&p, &frame(bc, mac(3)));
    assert_eq!(names(&p, &d), vec!["v", "v2"]);
    assert!(d.skipped().contains(&(
        b2,
        Reason::ModeExcluded {
            receiver: Mode::Bridge,
            sender: Some(Mode::Bridge)
        }
    )));
    assert!(d.skipped().contains(&(b, Reason::IsSender)));
    assert!(d.to_lower_stack);
    let _ = v2;
}

#[test]
fn s3_5_down_devices_are_not_flooded_and_their_mac_counts_as_external() {
    let mut p = port();
    let v = up(&mut p, "v", 1, Mode::Vepa);
    up(&mut p, "pr", 2, Mode::Private);
    p.stop(v).unwrap();
    let d = rx(&p, &frame(MacAddr::BROADCAST, mac(1)));
    assert_eq!(
        names(&p, &d),
        vec!["pr"],
        "a down sender's MAC is external, so private gets it"
    );
    assert!(d.skipped().contains(&(v, Reason::ChildDown)));
}

#[test]
fn s3_5_pause_frames_are_never_flooded() {
    let mut p = port();
    up(&mut p, "v", 1, Mode::Vepa);
    let mut f = frame(MacAddr([0x01, 0x80, 0xc2, 0, 0, 1]), EXTERNAL);
    f[12..14].copy_from_slice(&wire::ETH_P_PAUSE.to_be_bytes());
    let mut pp = p.clone();
    let v = pp.find("v").unwrap();
    pp.set_allmulti(v, true).unwrap();
    let d = rx(&pp, &f);
    assert!(d.deliveries().is_empty());
    assert!(d.to_lower_stack);
}

#[test]
fn s3_6_multicast_needs_membership_broadcast_does_not() {
    let mut p = port();
    p.set_lower_flags(false, false);
    let a = up(&mut p, "a", 1, Mode::Bridge);
    let b = up(&mut p, "b", 2, Mode::Bridge);
    p.join_group(a, group(7)).unwrap();
    let d = rx(&p, &frame(group(7), EXTERNAL));
    assert_eq!(names(&p, &d), vec!["a"]);
    assert!(d
        .skipped()
        .contains(&(b, Reason::NotSubscribed { group: group(7) })));
    p.set_allmulti(b, true).unwrap();
    assert_eq!(names(&p, &rx(&p, &frame(group(7), EXTERNAL))), vec!["a", "b"]);
    p.set_allmulti(b, false).unwrap();
    p.set_promisc(b, true).unwrap();
    assert_eq!(names(&p, &rx(&p, &frame(group(8), EXTERNAL))), vec!["b"]);
    p.leave_group(a, group(7)).unwrap();
    p.set_promisc(b, false).unwrap();
    assert!(rx(&p, &frame(group(7), EXTERNAL)).deliveries().is_empty());
    assert_eq!(
        names(&p, &rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL))),
        vec!["a", "b"]
    );
}

#[test]
fn s3_6_bcqueuelen_zero_drops_queued_floods_but_the_lower_gets_them() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    let b = up(&mut p, "b", 2, Mode::Bridge);
    for id in [a, b] {
        p.change(
            id,
            &MacvlanChange {
                bc_queue_len: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    }
    assert_eq!(p.bc_queue_len_used(), 0);
    let d = rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL));
    assert!(d.deliveries().is_empty());
    assert!(d.to_lower_stack);
    assert!(d.skipped().contains(&(a, Reason::BcQueueZero)));
    assert!(d.lower_rx_dropped, "counted on the lower's rx_dropped");
    // One device asking for a queue is enough: the port uses the maximum.
    p.change(
        a,
        &MacvlanChange {
            bc_queue_len: Some(5),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(p.bc_queue_len_used(), 5);
    assert_eq!(
        names(&p, &rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL))),
        vec!["a", "b"]
    );
}

#[test]
fn s3_6_bclim_decides_what_is_queued() {
    // A lower with a unicast filter stays non-promiscuous, so only the
    // group's subscriber count and bclim decide.
    let mut p = Port::new(LowerInfo {
        unicast_filter: true,
        ..lower()
    });
    let a = up(&mut p, "a", 1, Mode::Bridge);
    let b = up(&mut p, "b", 2, Mode::Bridge);
    for id in [a, b] {
        p.change(
            id,
            &MacvlanChange {
                bc_queue_len: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    }
    p.join_group(a, group(1)).unwrap();
    // One subscriber, bclim 1: inline, so delivered despite the empty queue.
    assert_eq!(names(&p, &rx(&p, &frame(group(1), EXTERNAL))), vec!["a"]);
    // Two subscribers > bclim 1: queued, so dropped.
    p.join_group(b, group(1)).unwrap();
    assert!(rx(&p, &frame(group(1), EXTERNAL)).deliveries().is_empty());
    // bclim -1: nothing is queued, broadcast included.
    p.change(
        a,
        &MacvlanChange {
            bc_cutoff: Some(-1),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(p.info(b).unwrap().bc_cutoff, -1, "bclim is port-wide");
    assert_eq!(names(&p, &rx(&p, &frame(group(1), EXTERNAL))), vec!["a", "b"]);
    assert_eq!(
        names(&p, &rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL))),
        vec!["a", "b"]
    );
    // bclim 0 queues any group with a subscriber.
    p.change(
        a,
        &MacvlanChange {
            bc_cutoff: Some(0),
            ..Default::default()
        },
    )
    .unwrap();
    p.leave_group(b, group(1)).unwrap();
    assert!(rx(&p, &frame(group(1), EXTERNAL)).deliveries().is_empty());
}

#[test]
fn s3_6_a_lower_without_unicast_filter_queues_everything() {
    // veth has no IFF_UNICAST_FLT: an up macvlan makes it promiscuous,
    // and a promiscuous lower queues every group frame.
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    assert_eq!(p.lower_promiscuity(), 1);
    p.change(
        a,
        &MacvlanChange {
            bc_queue_len: Some(0),
            ..Default::default()
        },
    )
    .unwrap();
    p.join_group(a, group(1)).unwrap();
    assert!(rx(&p, &frame(group(1), EXTERNAL)).deliveries().is_empty());
}

// ---------------------------------------------------------------- §3.7 unicast

#[test]
fn s3_7_unicast_goes_to_the_up_owner_as_host_and_not_to_the_lower() {
    for mode in [Mode::Private, Mode::Vepa, Mode::Bridge] {
        let mut p = port();
        let a = up(&mut p, "a", 1, mode);
        let d = rx(&p, &frame(mac(1), EXTERNAL));
        assert_eq!(d.delivered_to(a), Some(PktType::Host));
        assert!(!d.to_lower_stack);
    }
}

#[test]
fn s3_7_unknown_lower_and_down_destinations_go_to_the_lower() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    for dst in [mac(99), LOWER_MAC] {
        let d = rx(&p, &frame(dst, EXTERNAL));
        assert!(d.deliveries().is_empty() && d.to_lower_stack);
    }
    p.stop(a).unwrap();
    let d = rx(&p, &frame(mac(1), EXTERNAL));
    assert!(
        d.deliveries().is_empty() && d.to_lower_stack,
        "a down macvlan is invisible"
    );
    assert!(d.skipped().contains(&(a, Reason::DestinationDown { child: a })));
}

#[test]
fn s3_7_unicast_to_a_source_mode_mac_goes_to_the_lower() {
    let mut p = port();
    let s = up(&mut p, "s", 1, Mode::Source);
    let d = rx(&p, &frame(mac(1), EXTERNAL));
    assert_eq!(d.delivered_to(s), None);
    assert!(d.to_lower_stack);
}

#[test]
fn s3_7_passthru_takes_all_unicast_and_drops_it_while_down() {
    let mut p = port();
    let pt = up(&mut p, "pt", 1, Mode::Passthru);
    for dst in [LOWER_MAC, mac(50)] {
        let d = rx(&p, &frame(dst, EXTERNAL));
        assert_eq!(
            d.delivered_to(pt),
            Some(PktType::Host),
            "HOST even for another MAC"
        );
        assert!(!d.to_lower_stack);
    }
    let d = rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL));
    assert_eq!(d.delivered_to(pt), Some(PktType::Broadcast));
    assert!(d.to_lower_stack, "floods also reach the lower in passthru");
    p.stop(pt).unwrap();
    let d = rx(&p, &frame(LOWER_MAC, EXTERNAL));
    assert!(d.reaches_no_one());
    assert_eq!(d.drop, Some(Reason::DestinationDown { child: pt }));
}

// ---------------------------------------------------------------- §4 transmit

#[test]
fn s4_1_bridge_unicast_to_a_bridge_sibling_is_local_through_the_lower_rx() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    let b = up(&mut p, "b", 2, Mode::Bridge);
    let d = tx(&p, a, &frame(mac(2), mac(1)));
    assert_eq!(d.delivered_to(b), Some(PktType::Host));
    assert!(d.via_lower_rx && !d.to_wire && !d.to_lower_stack);
    // To itself: loops back.
    assert_eq!(
        tx(&p, a, &frame(mac(1), mac(1))).delivered_to(a),
        Some(PktType::Host)
    );
}

#[test]
fn s4_1_bridge_unicast_to_other_targets_goes_to_the_wire() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    up(&mut p, "v", 2, Mode::Vepa);
    let down = up(&mut p, "down", 3, Mode::Bridge);
    p.stop(down).unwrap();
    for dst in [mac(2), mac(3), LOWER_MAC, EXTERNAL] {
        let d = tx(&p, a, &frame(dst, mac(1)));
        assert!(d.to_wire && d.deliveries().is_empty(), "{dst}");
    }
}

#[test]
fn s4_1_bridge_broadcast_goes_to_bridge_siblings_and_the_wire_not_the_lower() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    up(&mut p, "b", 2, Mode::Bridge);
    up(&mut p, "v", 3, Mode::Vepa);
    up(&mut p, "pr", 4, Mode::Private);
    let d = tx(&p, a, &frame(MacAddr::BROADCAST, mac(1)));
    assert_eq!(names(&p, &d), vec!["b"]);
    assert!(d.to_wire && !d.to_lower_stack);
}

#[test]
fn s4_1_other_modes_always_transmit_to_the_wire() {
    for mode in [Mode::Private, Mode::Vepa, Mode::Source] {
        let mut p = port();
        let a = up(&mut p, "a", 1, mode);
        up(&mut p, "b", 2, Mode::Bridge);
        up(&mut p, "same", 3, mode);
        for dst in [mac(2), mac(3), MacAddr::BROADCAST] {
            let d = tx(&p, a, &frame(dst, mac(1)));
            assert!(d.to_wire && d.deliveries().is_empty(), "{mode} -> {dst}");
        }
    }
}

#[test]
fn s4_1_local_delivery_checks_the_receivers_mtu_and_the_lower_state() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    let b = up(&mut p, "b", 2, Mode::Bridge);
    p.set_mtu(b, 1000).unwrap();
    let d = tx(&p, a, &frame_len(MacAddr::BROADCAST, mac(1), 1019));
    assert_eq!(d.delivered_to(b), None);
    assert!(d
        .skipped()
        .contains(&(b, Reason::TooBig { len: 1019, mtu: 1000 })));
    assert!(d.to_wire);
    assert_eq!(
        tx(&p, a, &frame_len(MacAddr::BROADCAST, mac(1), 1018)).delivered_to(b),
        Some(PktType::Broadcast)
    );
    // A GSO super-frame is not held to the MTU: it is segmented later.
    let mut d = Decision::explaining();
    p.tx_from_child_gso(a, &frame_len(MacAddr::BROADCAST, mac(1), 9000), true, &mut d);
    assert_eq!(d.delivered_to(b), Some(PktType::Broadcast));
    p.tx_from_child_gso(a, &frame_len(mac(2), mac(1), 65000), true, &mut d);
    assert_eq!(d.delivered_to(b), Some(PktType::Host));
    // Unicast re-enters through the lower: the lower must be up.
    p.set_lower_state(false, true);
    let d = tx(&p, a, &frame(mac(2), mac(1)));
    assert!(d.reaches_no_one());
    assert_eq!(d.drop, Some(Reason::LowerDown));
}

#[test]
fn s4_1_bridge_unicast_through_the_lower_meets_source_mode_and_nodst() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    let b = up(&mut p, "b", 2, Mode::Bridge);
    let s = up(&mut p, "s", 3, Mode::Source);
    p.change(
        s,
        &MacvlanChange {
            macaddr: Some(MacaddrOp::Add(mac(1))),
            ..Default::default()
        },
    )
    .unwrap();
    let d = tx(&p, a, &frame(mac(2), mac(1)));
    assert_eq!(d.delivered_to(s), Some(PktType::OtherHost));
    assert_eq!(d.delivered_to(b), Some(PktType::Host));
    // §4.3: no copy of local broadcast for the source device.
    assert_eq!(
        tx(&p, a, &frame(MacAddr::BROADCAST, mac(1))).delivered_to(s),
        None
    );
    p.change(
        s,
        &MacvlanChange {
            flags: Some(Flags::NODST),
            ..Default::default()
        },
    )
    .unwrap();
    let d = tx(&p, a, &frame(mac(2), mac(1)));
    assert_eq!(
        d.delivered_to(b),
        None,
        "nodst consumes it before the destination lookup"
    );
}

#[test]
fn s4_3_no_carrier_or_down_sender_transmits_nothing() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    up(&mut p, "b", 2, Mode::Bridge);
    p.set_lower_state(true, false);
    let d = tx(&p, a, &frame(mac(2), mac(1)));
    assert!(d.reaches_no_one());
    assert_eq!(d.drop, Some(Reason::NoCarrier));
    p.set_lower_state(true, true);
    p.stop(a).unwrap();
    assert_eq!(tx(&p, a, &frame(mac(2), mac(1))).drop, Some(Reason::SenderDown));
}

// ---------------------------------------------------------------- §5 lifecycle

#[test]
fn s5_1_create_checks_mtu_addresses_and_lists_in_the_kernels_order() {
    let mut p = port();
    let e = p.create(NewMacvlan::new("mv", mac(1)).mtu(1501)).unwrap_err();
    assert_eq!(e.errno(), Errno::EINVAL);
    assert!(
        e.to_string().contains("1501") && e.to_string().contains("1500"),
        "{e}"
    );
    let e = p.create(NewMacvlan::new("mv", mac(1)).mtu(60)).unwrap_err();
    assert!(matches!(e, Error::MtuOutOfRange { min: 68, .. }));
    // An invalid address wins over an MTU above the lower's (as on Linux 6.18).
    let e = p.create(NewMacvlan::new("mv", group(1)).mtu(1501)).unwrap_err();
    assert_eq!(e.errno(), Errno::EADDRNOTAVAIL);
    assert_eq!(
        p.create(NewMacvlan::new("mv", MacAddr::ZERO))
            .unwrap_err()
            .errno(),
        Errno::EADDRNOTAVAIL
    );
    let e = p
        .create(NewMacvlan::new("mv", mac(1)).macaddr(MacaddrOp::Add(mac(5))))
        .unwrap_err();
    assert!(matches!(e, Error::MacaddrNotSource { mode: Mode::Vepa, .. }));
    assert!(p.is_empty(), "refused requests create nothing");
    let id = p.create(NewMacvlan::new("mv", mac(1)).mtu(1400)).unwrap();
    assert_eq!(p.info(id).unwrap().mtu, 1400);
}

#[test]
fn s5_1_lower_kinds() {
    let mut ports: Ports<u32> = Ports::new();
    for (kind, errno) in [
        (LowerKind::Loopback, Errno::EINVAL),
        (LowerKind::NotEthernet, Errno::EINVAL),
        (LowerKind::Busy("is a port of bridge br0".into()), Errno::EBUSY),
    ] {
        let e = ports.create(
            Parent::Lower(1),
            |_| (lower(), kind.clone()),
            NewMacvlan::new("mv", mac(1)),
        );
        let e = e.unwrap_err();
        assert_eq!(e.errno(), errno);
        assert!(ports.port(1).is_none(), "no port left behind");
    }
    let busy = Error::LowerBusy {
        lower: "eth0".into(),
        holder: "is a port of bridge br0".into(),
    };
    assert!(busy.to_string().contains("br0"));
}

#[test]
fn s5_1_stacking_attaches_to_the_real_lower() {
    let mut ports: Ports<u32> = Ports::new();
    let eth = |_| (lower(), LowerKind::Ethernet);
    let first = ports
        .create(Parent::Lower(7), eth, NewMacvlan::new("mv1", mac(1)))
        .unwrap();
    let second = ports
        .create(Parent::Macvlan(first), eth, NewMacvlan::new("mv2", mac(2)))
        .unwrap();
    assert_eq!(second.lower, 7);
    assert_eq!(ports.port(7).unwrap().len(), 2);
    ports.delete(first).unwrap();
    assert!(
        ports.port(7).unwrap().contains(second.id),
        "deleting the intermediate one leaves the other"
    );
    ports.delete(second).unwrap();
    assert!(ports.port(7).is_none(), "the port goes with its last macvlan");
}

#[test]
fn s5_2_open_refuses_the_lowers_mac_and_an_up_siblings_mac() {
    let mut p = port();
    let a = p.create(NewMacvlan::new("a", mac(1))).unwrap();
    let b = p.create(NewMacvlan::new("b", mac(1))).unwrap();
    let l = p.create(NewMacvlan::new("l", LOWER_MAC)).unwrap();
    p.open(a).unwrap();
    let e = p.open(b).unwrap_err();
    assert_eq!(e.errno(), Errno::EADDRINUSE);
    assert!(e.to_string().contains("a") && e.to_string().contains("eth0"));
    assert_eq!(p.open(l).unwrap_err().errno(), Errno::EADDRINUSE);
    p.stop(a).unwrap();
    p.open(b).unwrap();
    assert_eq!(p.open(a).unwrap_err().errno(), Errno::EADDRINUSE, "first up wins");
}

#[test]
fn s5_2_a_macvlan_comes_up_on_a_down_lower() {
    let mut p = Port::new(LowerInfo {
        admin_up: false,
        carrier: false,
        ..lower()
    });
    let a = p.create(NewMacvlan::new("a", mac(1))).unwrap();
    p.open(a).unwrap();
    let i = p.info(a).unwrap();
    assert!(i.up && !i.carrier);
}

#[test]
fn s5_3_mac_changes() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    let b = p.create(NewMacvlan::new("b", mac(2))).unwrap();
    assert_eq!(
        p.set_mac(b, mac(1)).unwrap_err().errno(),
        Errno::EADDRINUSE,
        "checked even when down"
    );
    assert_eq!(p.set_mac(b, LOWER_MAC).unwrap_err().errno(), Errno::EADDRINUSE);
    assert_eq!(p.set_mac(b, group(1)).unwrap_err().errno(), Errno::EADDRNOTAVAIL);
    assert_eq!(
        p.set_mac(a, mac(1)),
        Ok(MacChange::Macvlan),
        "same address: no-op"
    );
    p.set_mac(a, mac(3)).unwrap();
    assert_eq!(p.up_owner(mac(3)), Some(a), "rehashed");
    assert_eq!(p.up_owner(mac(1)), None);
    p.set_mac(b, mac(1)).unwrap();
    // Two down devices may share a MAC.
    let c = p.create(NewMacvlan::new("c", mac(1))).unwrap();
    assert!(p.contains(c));
}

#[test]
fn s5_4_passthru_rules() {
    let mut p = port();
    let pt = p
        .create(NewMacvlan::new("pt", mac(1)).mode(Mode::Passthru))
        .unwrap();
    assert_eq!(p.info(pt).unwrap().mac, LOWER_MAC, "inherits the lower's MAC");
    assert!(p.is_passthru());
    let e = p
        .create(NewMacvlan::new("x", mac(2)).mode(Mode::Bridge))
        .unwrap_err();
    assert!(matches!(e, Error::PassthruPortFull { .. }));
    assert_eq!(e.errno(), Errno::EINVAL);
    p.open(pt).unwrap();
    assert_eq!(p.lower_promiscuity(), 1, "lower promiscuous");
    // The MAC request goes to the lower; the macvlan follows.
    assert_eq!(p.set_mac(pt, mac(9)), Ok(MacChange::Lower(mac(9))));
    assert_eq!(p.lower().mac, mac(9));
    assert_eq!(p.info(pt).unwrap().mac, mac(9));
    assert_eq!(p.up_owner(mac(9)), Some(pt));
    // Changing the lower directly: followed, and becomes the one to restore.
    p.lower_mac_changed(mac(10));
    assert_eq!(p.info(pt).unwrap().mac, mac(10));
    let d = p.delete(pt).unwrap();
    assert!(d.port_empty);
    assert_eq!(d.restore_lower_mac, None, "perm_addr followed the direct change");

    let mut p = port();
    let pt = p
        .create(NewMacvlan::new("pt", mac(1)).mode(Mode::Passthru))
        .unwrap();
    p.set_mac(pt, mac(9)).unwrap();
    assert_eq!(p.delete(pt).unwrap().restore_lower_mac, Some(LOWER_MAC));
}

#[test]
fn s5_4_passthru_needs_an_empty_lower_and_nopromisc() {
    let mut p = port();
    up(&mut p, "a", 1, Mode::Bridge);
    let e = p
        .create(NewMacvlan::new("pt", mac(2)).mode(Mode::Passthru))
        .unwrap_err();
    assert!(matches!(e, Error::PassthruNeedsEmptyLower { .. }), "{e}");
    let mut p = Port::new(LowerInfo {
        unicast_filter: true,
        ..lower()
    });
    let pt = p
        .create(
            NewMacvlan::new("pt", mac(1))
                .mode(Mode::Passthru)
                .flags(Flags::NOPROMISC),
        )
        .unwrap();
    p.open(pt).unwrap();
    assert_eq!(p.lower_promiscuity(), 0);
    p.change(
        pt,
        &MacvlanChange {
            flags: Some(Flags::NONE),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        p.lower_promiscuity(),
        1,
        "clearing nopromisc takes a reference at once"
    );
}

#[test]
fn s5_5_mode_changes() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    for m in [Mode::Vepa, Mode::Private, Mode::Source, Mode::Bridge] {
        p.change(
            a,
            &MacvlanChange {
                mode: Some(m),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.info(a).unwrap().mode, m);
    }
    let e = p
        .change(
            a,
            &MacvlanChange {
                mode: Some(Mode::Passthru),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::PassthruModeChange { .. }));
    let mut q = port();
    let pt = q
        .create(NewMacvlan::new("pt", mac(1)).mode(Mode::Passthru))
        .unwrap();
    q.change(
        pt,
        &MacvlanChange {
            mode: Some(Mode::Passthru),
            ..Default::default()
        },
    )
    .unwrap();
    let e = q.change(
        pt,
        &MacvlanChange {
            mode: Some(Mode::Bridge),
            bc_queue_len: Some(7),
            ..Default::default()
        },
    );
    assert_eq!(e.unwrap_err().errno(), Errno::EINVAL);
    assert_eq!(q.info(pt).unwrap().bc_queue_len, 1000, "nothing applied");
}

#[test]
fn s5_5_leaving_source_mode_flushes_the_list_and_partial_failures_stick() {
    let mut p = port();
    let s = p
        .create(
            NewMacvlan::new("s", mac(1))
                .mode(Mode::Source)
                .macaddr(MacaddrOp::Add(mac(8))),
        )
        .unwrap();
    // Observed on Linux 6.18: `mode vepa macaddr add M` fails with EINVAL
    // but the mode has changed (and the list is gone).
    let e = p
        .change(
            s,
            &MacvlanChange {
                mode: Some(Mode::Vepa),
                macaddr: Some(MacaddrOp::Add(mac(9))),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::MacaddrNotSource { mode: Mode::Vepa, .. }));
    let i = p.info(s).unwrap();
    assert_eq!(i.mode, Mode::Vepa);
    assert!(i.sources.is_empty());
    // A bad address is refused before anything changes.
    let e = p.change(
        s,
        &MacvlanChange {
            mode: Some(Mode::Source),
            macaddr: Some(MacaddrOp::Add(group(1))),
            ..Default::default()
        },
    );
    assert_eq!(e.unwrap_err().errno(), Errno::EADDRNOTAVAIL);
    assert_eq!(p.info(s).unwrap().mode, Mode::Vepa);
}

#[test]
fn s5_5_bcqueuelen_is_a_request_and_the_port_uses_the_maximum() {
    let mut p = port();
    let a = p.create(NewMacvlan::new("a", mac(1)).bc_queue_len(10)).unwrap();
    assert_eq!(p.bc_queue_len_used(), 10);
    let b = p.create(NewMacvlan::new("b", mac(2)).bc_queue_len(5000)).unwrap();
    assert_eq!(
        p.info(a).unwrap().bc_queue_len_used,
        5000,
        "down devices count too"
    );
    p.delete(b).unwrap();
    assert_eq!(p.bc_queue_len_used(), 10);
}

#[test]
fn s5_7_lower_mtu_decreases_clamp_children_increases_do_not() {
    let mut p = port();
    let a = p.create(NewMacvlan::new("a", mac(1))).unwrap();
    let b = p.create(NewMacvlan::new("b", mac(2)).mtu(1000)).unwrap();
    assert_eq!(p.lower_mtu_changed(1200), vec![a]);
    assert_eq!(p.info(a).unwrap().mtu, 1200);
    assert_eq!(p.info(b).unwrap().mtu, 1000);
    assert!(p.lower_mtu_changed(9000).is_empty());
    assert_eq!(p.info(a).unwrap().mtu, 1200);
    assert_eq!(p.set_mtu(a, 9001).unwrap_err().errno(), Errno::EINVAL);
    p.set_mtu(a, 9000).unwrap();
}

#[test]
fn s5_7_deleting_the_lower_deletes_its_macvlans_and_enslaving_is_refused() {
    let mut ports: Ports<u32> = Ports::new();
    let eth = |_| (lower(), LowerKind::Ethernet);
    let a = ports
        .create(Parent::Lower(1), eth, NewMacvlan::new("a", mac(1)))
        .unwrap();
    let b = ports
        .create(Parent::Lower(1), eth, NewMacvlan::new("b", mac(2)))
        .unwrap();
    let e = ports.check_enslave(1, "br0").unwrap_err();
    assert_eq!(e.errno(), Errno::EBUSY);
    assert!(
        e.to_string().contains("a, b") && e.to_string().contains("br0"),
        "{e}"
    );
    assert!(ports.check_enslave(2, "br0").is_ok());
    assert_eq!(ports.remove_lower(1), vec![a.id, b.id]);
    assert!(ports.port(1).is_none());
}

#[test]
fn s5_3_fdb_unicast_needs_passthru() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    assert_eq!(p.fdb_add(a, mac(50)).unwrap_err().errno(), Errno::EOPNOTSUPP);
    p.fdb_add(a, group(3)).unwrap();
    assert_eq!(
        names(&p, &rx(&p, &frame(group(3), EXTERNAL))),
        vec!["a"],
        "multicast fdb joins the group"
    );
}

#[test]
fn s3_truncated_frames_reach_no_one() {
    let mut p = port();
    let a = up(&mut p, "a", 1, Mode::Bridge);
    for n in 0..14 {
        let d = rx(&p, &vec![0xff; n]);
        assert!(d.reaches_no_one());
        assert_eq!(d.drop, Some(Reason::Truncated { len: n }));
        assert!(tx(&p, a, &vec![0xff; n]).reaches_no_one());
    }
}

#[test]
fn reasons_read_as_sentences() {
    let name = |_| "eth0".to_string();
    let r = Reason::ModeExcluded {
        receiver: Mode::Private,
        sender: Some(Mode::Vepa),
    };
    assert_eq!(
        r.describe(&name),
        "private: flood from a vepa sibling is not delivered to private macvlans"
    );
    let r = Reason::DestinationDown {
        child: ChildId::clone(&up(&mut port(), "x", 1, Mode::Vepa)),
    };
    assert_eq!(r.describe(&name), "destination macvlan eth0 is down");
}

#[test]
fn reasons_have_distinct_names_for_counters() {
    let mut seen = std::collections::HashSet::new();
    for n in Reason::NAMES {
        assert!(seen.insert(n), "{n} twice");
    }
    let r = Reason::SpoofedSource { src: mac(9) };
    assert_eq!(r.name(), "spoofed_source");
    assert_eq!(Reason::NAMES[Reason::ChildDown.index()], "child_down");
    assert!(r.describe(&|_| String::new()).contains("02:00:00:00:00:09"));
}

#[test]
fn details_print_as_iproute2_6_1_does() {
    // Observed: `macaddr set ...:05 ...:01 ...:07` on Linux 6.18, iproute2 6.1.
    let mut p = port();
    let id = p.create(NewMacvlan::new("s", mac(1)).mode(Mode::Source)).unwrap();
    let set = MacaddrOp::Set(vec![mac(5), mac(1), mac(7)]);
    p.change(
        id,
        &MacvlanChange {
            macaddr: Some(set),
            ..Default::default()
        },
    )
    .unwrap();
    // The kernel's dump order: hash bucket, newest first within one.
    assert_eq!(p.info(id).unwrap().sources, vec![mac(7), mac(5), mac(1)]);
    p.change(
        id,
        &MacvlanChange {
            flags: Some(Flags::NODST),
            bc_cutoff: Some(-1),
            ..Default::default()
        },
    )
    .unwrap();
    let i = p.info(id).unwrap();
    assert_eq!(
        (i.flags, i.bc_queue_len, i.bc_queue_len_used, i.bc_cutoff),
        (Flags::NODST, 1000, 1000, -1)
    );
}

/// §3.10: how each copy was handed over decides how Linux counts it — a
/// flood copy as multicast, a group frame returned to its private sender
/// with no bytes — so every delivery says which path it took.
#[test]
fn deliveries_name_the_path_that_counts_them() {
    let mut p = port();
    let b1 = up(&mut p, "b1", 1, Mode::Bridge);
    let _b2 = up(&mut p, "b2", 2, Mode::Bridge);
    let pr = up(&mut p, "pr", 3, Mode::Private);
    let src = p
        .create(NewMacvlan::new("src", mac(4)).mode(Mode::Source))
        .unwrap();
    p.change(
        src,
        &MacvlanChange {
            macaddr: Some(MacaddrOp::Add(EXTERNAL)),
            ..Default::default()
        },
    )
    .unwrap();
    p.open(src).unwrap();
    let via = |d: &Decision| -> Vec<Via> { d.deliveries().iter().map(|d| d.via).collect() };
    // A broadcast from the wire: a flood (and a source-list copy for the listed sender).
    let d = rx(&p, &frame(MacAddr::BROADCAST, EXTERNAL));
    assert!(
        via(&d).contains(&Via::Flood) && via(&d).contains(&Via::SourceList),
        "{d:?}"
    );
    // Unicast to a macvlan.
    assert_eq!(via(&rx(&p, &frame(mac(1), mac(50)))), [Via::Unicast]);
    // A bridge-mode broadcast reaches its sibling as a flood on the transmit path.
    assert_eq!(via(&tx(&p, b1, &frame(MacAddr::BROADCAST, mac(1)))), [Via::Flood]);
    // The private macvlan's own broadcast, back through a hairpin, is returned to it alone.
    let d = rx(&p, &frame(MacAddr::BROADCAST, mac(3)));
    assert_eq!(d.deliveries().len(), 1, "{d:?}");
    assert_eq!(
        (d.deliveries()[0].child, d.deliveries()[0].via),
        (pr, Via::ReturnedToSender)
    );
}
