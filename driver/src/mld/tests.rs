use super::build::*;
use super::*;

const AP_MLD: MacAddr = MacAddr([0x02, 0xa0, 0, 0, 0, 0]);
const STA_MLD: MacAddr = MacAddr([0x02, 0x50, 0, 0, 0, 0]);

/// AP link addresses on 2.4, 5 and 6 GHz (link IDs 0, 1, 2).
fn ap_link(id: u8) -> MacAddr {
    MacAddr([0x02, 0xa0, 0, 0, 1, id])
}

fn sta_link(id: u8) -> MacAddr {
    MacAddr([0x02, 0x50, 0, 0, 1, id])
}

const FREQS: [u32; 3] = [2412, 5180, 5955];

fn ap_radio() -> RadioKey {
    RadioKey {
        vm: 1,
        wire: MacAddr([0x42, 0, 0, 1, 0, 0]),
    }
}

fn sta_radio() -> RadioKey {
    RadioKey {
        vm: 2,
        wire: MacAddr([0x42, 0, 0, 2, 0, 0]),
    }
}

/// The beacon link `id` sends: Basic ML with its link ID and per-STA profiles for the other two.
fn ap_beacon(id: u8) -> Vec<u8> {
    let others: Vec<(u8, MacAddr)> = (0..3)
        .filter(|&i| i != id)
        .map(|i| (i, ap_link(i)))
        .collect();
    beacon(ap_link(id), &[&ap_ml(AP_MLD, id, &others)])
}

fn link(table: &MldTable, kind: MldKind, addr: MacAddr, id: u8) -> LinkInfo {
    *table
        .mld(kind, addr)
        .unwrap_or_else(|| panic!("{kind:?} MLD {addr} in {table:?}"))
        .links
        .iter()
        .find(|l| l.link_id == id)
        .unwrap_or_else(|| panic!("link {id} in {table:?}"))
}

fn associate(t: &mut MldTracker, status: u16, link_status: [u16; 2]) -> bool {
    let req = assoc_request(
        sta_link(0),
        ap_link(0),
        &[&sta_ml(STA_MLD, &[(1, sta_link(1)), (2, sta_link(2))])],
    );
    assert!(
        !t.observe(sta_radio(), 2412, &req),
        "a request alone changes nothing"
    );
    let resp = assoc_response(
        ap_link(0),
        sta_link(0),
        status,
        &[&assoc_response_ml(
            AP_MLD,
            0,
            &[
                (1, ap_link(1), link_status[0]),
                (2, ap_link(2), link_status[1]),
            ],
        )],
    );
    t.observe(ap_radio(), 2412, &resp)
}

#[test]
fn a_beacon_with_per_sta_profiles_and_rnr_teaches_the_ap_mld_and_three_links() {
    let mut t = MldTracker::new();
    let rnr = rnr_same_mld(&[(115, 36, ap_link(1), 1), (131, 1, ap_link(2), 2)]);
    let b = beacon(
        ap_link(0),
        &[&ap_ml(AP_MLD, 0, &[(1, ap_link(1)), (2, ap_link(2))]), &rnr],
    );
    assert!(t.observe(ap_radio(), 2412, &b));
    let table = t.table();
    assert_eq!(table.mlds.len(), 1);
    let l0 = link(&table, MldKind::Ap, AP_MLD, 0);
    assert_eq!(
        l0,
        LinkInfo {
            link_id: 0,
            addr: ap_link(0),
            radio: Some(ap_radio()),
            freq: Some(2412),
            seen: true
        }
    );
    for id in [1, 2] {
        let l = link(&table, MldKind::Ap, AP_MLD, id);
        assert_eq!(l.addr, ap_link(id));
        assert_eq!(l.freq, Some(FREQS[id as usize]), "frequency from the RNR");
        assert_eq!((l.radio, l.seen), (None, false));
    }
}

#[test]
fn beacons_on_each_link_fill_in_radios_and_repeats_are_skipped() {
    let mut t = MldTracker::new();
    for id in 0..3u8 {
        assert!(t.observe(ap_radio(), FREQS[id as usize], &ap_beacon(id)));
    }
    let table = t.table();
    for id in 0..3u8 {
        let l = link(&table, MldKind::Ap, AP_MLD, id);
        assert_eq!(
            (l.addr, l.radio, l.freq, l.seen),
            (
                ap_link(id),
                Some(ap_radio()),
                Some(FREQS[id as usize]),
                true
            )
        );
    }
    // The same beacons again: not parsed again, nothing changes.
    for id in 0..3u8 {
        assert!(!t.observe(ap_radio(), FREQS[id as usize], &ap_beacon(id)));
    }
    assert_eq!(t.counters().unchanged, 3);
    assert_eq!(t.table().mlds, table.mlds);
}

#[test]
fn association_with_status_0_makes_a_non_ap_mld_with_three_links() {
    let mut t = MldTracker::new();
    for id in 0..3u8 {
        t.observe(ap_radio(), FREQS[id as usize], &ap_beacon(id));
    }
    assert!(associate(&mut t, 0, [0, 0]));
    let table = t.table();
    let sta = table.mld(MldKind::NonAp, STA_MLD).expect("non-AP MLD");
    assert_eq!(sta.ap_mld, Some(AP_MLD));
    assert_eq!(sta.links.len(), 3);
    for id in 0..3u8 {
        let l = link(&table, MldKind::NonAp, STA_MLD, id);
        assert_eq!(l.addr, sta_link(id));
        assert_eq!(l.radio, Some(sta_radio()));
        assert_eq!(
            l.freq,
            Some(FREQS[id as usize]),
            "the AP MLD's frequency on that link"
        );
        assert_eq!(
            l.seen,
            id == 0,
            "only the link the request went over was seen"
        );
    }
}

#[test]
fn a_failed_association_makes_no_mld_and_a_rejected_link_is_left_out() {
    let mut t = MldTracker::new();
    t.observe(ap_radio(), 2412, &ap_beacon(0));
    assert!(!associate(&mut t, 17, [0, 0]));
    assert!(t.table().mld(MldKind::NonAp, STA_MLD).is_none());
    assert!(associate(&mut t, 0, [0, 1]));
    let table = t.table();
    let ids: Vec<u8> = table
        .mld(MldKind::NonAp, STA_MLD)
        .unwrap()
        .links
        .iter()
        .map(|l| l.link_id)
        .collect();
    assert_eq!(ids, [0, 1]);
}

#[test]
fn a_response_without_a_request_makes_no_non_ap_mld() {
    let mut t = MldTracker::new();
    let resp = assoc_response(
        ap_link(0),
        sta_link(0),
        0,
        &[&assoc_response_ml(AP_MLD, 0, &[(1, ap_link(1), 0)])],
    );
    t.observe(ap_radio(), 2412, &resp);
    let table = t.table();
    assert!(table.mld(MldKind::NonAp, STA_MLD).is_none());
    // It still describes the AP MLD.
    assert_eq!(link(&table, MldKind::Ap, AP_MLD, 1).addr, ap_link(1));
}

#[test]
fn deauthentication_either_way_removes_the_non_ap_mld() {
    for from_sta in [true, false] {
        let mut t = MldTracker::new();
        t.observe(ap_radio(), 2412, &ap_beacon(0));
        assert!(associate(&mut t, 0, [0, 0]));
        let d = if from_sta {
            deauth(sta_link(0), ap_link(0), ap_link(0))
        } else {
            deauth(ap_link(0), sta_link(0), ap_link(0))
        };
        assert!(t.observe(ap_radio(), 2412, &d));
        let table = t.table();
        assert!(table.mld(MldKind::NonAp, STA_MLD).is_none());
        assert!(table.mld(MldKind::Ap, AP_MLD).is_some(), "the AP MLD stays");
    }
}

#[test]
fn a_reconfiguration_element_removes_the_link_from_both_mlds() {
    let mut t = MldTracker::new();
    for id in 0..3u8 {
        t.observe(ap_radio(), FREQS[id as usize], &ap_beacon(id));
    }
    associate(&mut t, 0, [0, 0]);
    let b = beacon(
        ap_link(0),
        &[
            &ap_ml(AP_MLD, 0, &[(1, ap_link(1))]),
            &reconf_removal(Some(AP_MLD), &[2]),
        ],
    );
    assert!(t.observe(ap_radio(), 2412, &b));
    let table = t.table();
    for kind in [MldKind::Ap, MldKind::NonAp] {
        let addr = if kind == MldKind::Ap { AP_MLD } else { STA_MLD };
        let ids: Vec<u8> = table
            .mld(kind, addr)
            .unwrap()
            .links
            .iter()
            .map(|l| l.link_id)
            .collect();
        assert_eq!(ids, [0, 1], "{kind:?}");
    }
}

#[test]
fn malformed_multi_link_elements_are_ignored_and_counted() {
    let mut t = MldTracker::new();
    // Multi-Link element with a control field and nothing else (no Common Info Length).
    let broken = [255u8, 3, 107, 0x00, 0x00];
    // Common Info Length claims 20 bytes that are not there.
    let short = [255u8, 6, 107, 0x00, 0x00, 20, 1, 2];
    assert!(!t.observe(ap_radio(), 2412, &beacon(ap_link(0), &[&broken])));
    assert!(!t.observe(ap_radio(), 2412, &beacon(ap_link(1), &[&short])));
    assert!(t.table().mlds.is_empty());
    assert_eq!(t.counters().malformed, 2);
    assert_eq!(
        t.malformed().get("ie_truncated"),
        Some(&2),
        "{:?}",
        t.malformed()
    );
    // A broken element beside a good one: the good one is still learned.
    let b = beacon(ap_link(0), &[&broken, &ap_ml(AP_MLD, 0, &[])]);
    assert!(t.observe(ap_radio(), 2412, &b));
    assert_eq!(link(&t.table(), MldKind::Ap, AP_MLD, 0).addr, ap_link(0));
    assert_eq!(t.counters().malformed, 3);
}

#[test]
fn links_of_radios_that_left_are_pruned() {
    let mut t = MldTracker::new();
    t.observe(ap_radio(), 2412, &ap_beacon(0));
    associate(&mut t, 0, [0, 0]);
    assert!(t.prune(|r| *r != sta_radio()));
    let table = t.table();
    assert!(table.mld(MldKind::NonAp, STA_MLD).is_none());
    assert!(table.mld(MldKind::Ap, AP_MLD).is_some());
    assert!(!t.prune(|r| *r != sta_radio()));
}

/// A service with a registered queue for VM 1 (the AP's) and one for VM 2 (the station's).
fn service() -> (MldService, Arc<MldQueue>, Arc<MldQueue>) {
    let s = MldService::new();
    let (ap, sta) = (Arc::new(MldQueue::new(1)), Arc::new(MldQueue::new(2)));
    s.register(&ap);
    s.register(&sta);
    (s, ap, sta)
}

fn queued(q: &MldQueue) -> u64 {
    q.counters().queued.load(Ordering::Relaxed)
}

fn dropped(q: &MldQueue) -> u64 {
    q.counters().dropped.load(Ordering::Relaxed)
}

#[test]
fn the_service_queues_management_frames_only_and_publishes_a_table() {
    let (s, q, _) = service();
    let data = [
        0x08u8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ];
    s.offer(&q, ap_radio(), 2412, &data);
    s.offer(&q, ap_radio(), 2412, &[]);
    s.offer(&q, ap_radio(), 2412, &probe_request(ap_link(1)));
    assert_eq!(
        queued(&q),
        0,
        "data, empty and probe requests are not queued"
    );
    s.offer(&q, ap_radio(), 2412, &ap_beacon(0));
    assert_eq!(queued(&q), 1);
    assert!(s.table().mlds.is_empty(), "published only by the tracker");
    assert!(!s.process(|_| true, None), "nothing left waiting");
    let table = s.table();
    assert_eq!(link(&table, MldKind::Ap, AP_MLD, 0).freq, Some(2412));
    assert_eq!(table.counters.processed, 1);
}

#[test]
fn a_full_queue_drops_and_counts() {
    let (s, q, _) = service();
    let b = ap_beacon(0);
    for _ in 0..VM_QUEUE_LEN + 5 {
        s.offer(&q, ap_radio(), 2412, &b);
    }
    assert_eq!(queued(&q), VM_QUEUE_LEN as u64);
    assert_eq!(dropped(&q), 5);
    s.process(|_| true, None);
    // Slots come back: the queue takes frames again.
    s.offer(&q, ap_radio(), 2412, &b);
    assert_eq!(queued(&q), VM_QUEUE_LEN as u64 + 1);
    assert_eq!(s.table().counters.unchanged, VM_QUEUE_LEN as u64 - 1);
}

#[test]
fn a_vm_filling_its_queue_loses_only_its_own_frames() {
    let (s, ap, sta) = service();
    let flooder = Arc::new(MldQueue::new(3));
    s.register(&flooder);
    let flood_radio = RadioKey {
        vm: 3,
        wire: MacAddr([0x42, 0, 0, 3, 0, 0]),
    };
    let flood = |n: usize| {
        for i in 0..n {
            let bssid = MacAddr([0x02, 0xee, 0, 0, (i >> 8) as u8, i as u8]);
            s.offer(&flooder, flood_radio, 2412, &beacon(bssid, &[]));
        }
    };
    // The flooder's queue is full before and between the other VMs' frames.
    flood(4 * VM_QUEUE_LEN);
    for id in 0..3u8 {
        s.offer(&ap, ap_radio(), FREQS[id as usize], &ap_beacon(id));
    }
    flood(VM_QUEUE_LEN);
    let (req, resp) = association();
    s.offer(&sta, sta_radio(), 2412, &req);
    flood(VM_QUEUE_LEN);
    s.offer(&ap, ap_radio(), 2412, &resp);
    assert_eq!(queued(&flooder), VM_QUEUE_LEN as u64);
    assert_eq!(dropped(&flooder), 5 * VM_QUEUE_LEN as u64);
    assert_eq!((queued(&ap), dropped(&ap)), (4, 0));
    assert_eq!((queued(&sta), dropped(&sta)), (1, 0));

    s.process(|_| true, None);
    let table = s.table();
    assert_eq!(table.mld(MldKind::Ap, AP_MLD).unwrap().links.len(), 3);
    let sta_mld = table
        .mld(MldKind::NonAp, STA_MLD)
        .expect("association learned");
    assert_eq!(sta_mld.ap_mld, Some(AP_MLD));
    assert_eq!(sta_mld.links.len(), 3);
    assert_eq!(
        table.counters.processed,
        VM_QUEUE_LEN as u64 + 5,
        "every queued frame read once"
    );
}

#[test]
fn frames_of_different_vms_are_read_in_offer_order() {
    let (s, ap, sta) = service();
    // The AP's queue holds its three beacons and then the response; the station's queue holds
    // four beacons of a BSS it runs and then the request, offered before the response. Reading
    // one queue after the other, or one frame of each in turn, would take the response before
    // the request and learn no association.
    for id in 0..3u8 {
        s.offer(&ap, ap_radio(), FREQS[id as usize], &ap_beacon(id));
    }
    for i in 0..4u8 {
        let own_bss = MacAddr([0x02, 0x55, 0, 0, 0, i]);
        s.offer(&sta, sta_radio(), 2412, &beacon(own_bss, &[]));
    }
    let (req, resp) = association();
    s.offer(&sta, sta_radio(), 2412, &req);
    s.offer(&ap, ap_radio(), 2412, &resp);
    s.process(|_| true, None);
    let table = s.table();
    assert_eq!(
        table.mld(MldKind::NonAp, STA_MLD).map(|m| m.ap_mld),
        Some(Some(AP_MLD))
    );
}

#[test]
fn a_pass_reads_a_bounded_number_of_frames_per_queue() {
    let (s, ap, _) = service();
    for _ in 0..VM_QUEUE_LEN {
        s.offer(&ap, ap_radio(), 2412, &ap_beacon(0));
    }
    // Two queues: a pass reads at most 2 * VM_QUEUE_LEN frames, here all of them.
    assert!(!s.process(|_| true, None));
    assert_eq!(s.table().counters.processed, VM_QUEUE_LEN as u64);
}

#[test]
fn an_unregistered_queue_is_no_longer_read_and_frees_its_slots() {
    let (s, ap, sta) = service();
    s.offer(&sta, sta_radio(), 2412, &ap_beacon(1));
    s.unregister(2);
    s.offer(&ap, ap_radio(), 2412, &ap_beacon(0));
    s.process(|_| true, None);
    let table = s.table();
    assert_eq!(table.counters.processed, 1, "only VM 1's frame");
    assert!(table.mld(MldKind::Ap, AP_MLD).is_some());
    // A retired queue allocates no more slots: its frames are dropped and counted.
    s.offer(&sta, sta_radio(), 2412, &ap_beacon(1));
    assert_eq!((queued(&sta), dropped(&sta)), (1, 1));
}

/// The station's association request (link 0, asking for links 1 and 2) and the AP's response
/// accepting all three.
fn association() -> (Vec<u8>, Vec<u8>) {
    let req = assoc_request(
        sta_link(0),
        ap_link(0),
        &[&sta_ml(STA_MLD, &[(1, sta_link(1)), (2, sta_link(2))])],
    );
    let resp = assoc_response(
        ap_link(0),
        sta_link(0),
        0,
        &[&assoc_response_ml(
            AP_MLD,
            0,
            &[(1, ap_link(1), 0), (2, ap_link(2), 0)],
        )],
    );
    (req, resp)
}

#[test]
fn interface_names_and_descriptions() {
    assert_eq!(
        interface_name(MldKind::Ap, AP_MLD, 2),
        "ap-mld-02:a0:00:00:00:00/link2"
    );
    assert_eq!(
        interface_name(MldKind::NonAp, STA_MLD, 0),
        "sta-mld-02:50:00:00:00:00/link0"
    );
    assert_eq!(
        interface_description(MldKind::Ap, AP_MLD, 1, 5180),
        "5 GHz channel 36 (5180 MHz), link 1 of AP MLD 02:a0:00:00:00:00"
    );
    assert_eq!(op_class_freq(131, 1), Some(5955));
    assert_eq!(op_class_freq(81, 6), Some(2437));
    assert_eq!(op_class_freq(1, 36), None);
}

/// A QoS data frame (ToDS) from `from` to `to`.
fn data_from(from: MacAddr, to: MacAddr) -> Vec<u8> {
    let mut f = vec![0x88, 0x01, 0, 0];
    f.extend_from_slice(&to.0);
    f.extend_from_slice(&from.0);
    f.extend_from_slice(&to.0);
    f.extend_from_slice(&[0x10, 0, 0, 0, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0xb5]);
    f
}

fn radio_of_link(id: u8) -> RadioKey {
    RadioKey {
        vm: 2,
        wire: MacAddr([0x42, 0, 0, 2, id, 0]),
    }
}

#[test]
fn a_presumed_link_takes_the_radio_and_frequency_of_its_first_data_frame() {
    let mut t = MldTracker::new();
    for id in 0..3u8 {
        t.observe(ap_radio(), FREQS[id as usize], &ap_beacon(id));
    }
    assert!(associate(&mut t, 0, [0, 0]));
    // Link 1 runs on a radio of its own (one radio per link, like the demo's non-AP MLD).
    let f = data_from(sta_link(1), ap_link(1));
    assert!(t.observe(radio_of_link(1), 5180, &f));
    let table = t.table();
    let l1 = link(&table, MldKind::NonAp, STA_MLD, 1);
    assert_eq!(
        (l1.radio, l1.freq, l1.seen),
        (Some(radio_of_link(1)), Some(5180), true)
    );
    let l2 = link(&table, MldKind::NonAp, STA_MLD, 2);
    assert_eq!(
        (l2.radio, l2.seen),
        (Some(sta_radio()), false),
        "still presumed"
    );
    // Once seen, later frames change nothing; frames from unknown addresses neither.
    assert!(!t.observe(radio_of_link(1), 5180, &f));
    assert!(!t.observe(
        radio_of_link(2),
        5955,
        &data_from(MacAddr([2, 9, 9, 9, 9, 9]), ap_link(2))
    ));
}

#[test]
fn data_frames_are_queued_only_from_links_not_seen_yet() {
    let (s, ap, sta) = service();
    let f1 = data_from(sta_link(1), ap_link(1));
    s.offer(&sta, radio_of_link(1), 5180, &f1);
    assert_eq!(
        queued(&sta),
        0,
        "no non-AP MLD yet: data frames are not looked at"
    );
    for id in 0..3u8 {
        s.offer(&ap, ap_radio(), FREQS[id as usize], &ap_beacon(id));
    }
    let (req, resp) = association();
    s.offer(&sta, sta_radio(), 2412, &req);
    s.offer(&ap, ap_radio(), 2412, &resp);
    s.process(|_| true, None);
    let before = queued(&sta);
    // The associated link 0 was seen; links 1 and 2 are watched.
    s.offer(&sta, sta_radio(), 2412, &data_from(sta_link(0), ap_link(0)));
    assert_eq!(queued(&sta), before);
    s.offer(&sta, radio_of_link(1), 5180, &f1);
    assert_eq!(queued(&sta), before + 1);
    s.process(|_| true, None);
    let l1 = link(&s.table(), MldKind::NonAp, STA_MLD, 1);
    assert_eq!((l1.radio, l1.seen), (Some(radio_of_link(1)), true));
    s.offer(&sta, radio_of_link(1), 5180, &f1);
    assert_eq!(queued(&sta), before + 1, "link 1 is no longer watched");
    s.offer(
        &sta,
        radio_of_link(2),
        5955,
        &data_from(sta_link(2), ap_link(2)),
    );
    s.process(|_| true, None);
    assert!(!s.watching.load(Ordering::Relaxed), "every link seen");
}

/// The demo's AP MLD (its own beacons) and non-AP MLD (its association request, with per-STA
/// profiles for links 0 and 2): what each link address advertised, as the medium gets it.
#[test]
fn capabilities_are_learned_from_beacons_and_association_request_profiles() {
    use hwsim_radio::airtime::NominalPadding;
    use hwsim_radio::band::Width;
    use hwsim_radio::rates::TxVector;
    use hwsim_sta::frames::{assoc_request, owe_rsne, LINKS};
    use hwsim_sta::scene::{AP_MLD as DEMO_AP, STA_MLD as DEMO_STA};

    let mut ap = hwsim_ap::ApMld::new(
        hwsim_ap::ApConfig::parse(crate::demo::mlo::AP_CONFIG).unwrap(),
        1,
    );
    let freqs = [2412, 5180, 6135];
    let mut t = MldTracker::new();
    for (i, freq) in freqs.into_iter().enumerate() {
        let b = ap.beacon(i, 0).unwrap();
        assert!(t.observe(ap_radio(), freq, &b.frame));
    }
    let req = assoc_request(&DEMO_AP, &DEMO_STA, &LINKS[1], &owe_rsne(), &[], 1);
    assert!(
        t.observe(sta_radio(), 5180, &req),
        "the request teaches capabilities"
    );
    let table = t.table();
    let caps = |a: MacAddr| {
        table
            .caps
            .iter()
            .find(|(x, _)| *x == a)
            .map(|(_, c)| *c)
            .unwrap_or_else(|| panic!("caps of {a} in {:?}", table.caps))
    };
    // The AP: one stream, LDPC, EHT MCS 0-13; its channels 20, 80, 80 MHz; 0 µs padding; the
    // lowest basic rates 1 Mb/s (2.4 GHz) and 6 Mb/s.
    for (i, width) in [Width::W20, Width::W80, Width::W80].into_iter().enumerate() {
        let c = caps(DEMO_AP.links[i]);
        assert!(c.ap);
        let eht = c.eht.unwrap();
        assert_eq!((eht.nss, eht.max_mcs, eht.ldpc), (1, 13, true), "link {i}");
        assert_eq!(c.he.unwrap().nss, 1);
        assert_eq!(c.max_width, width, "link {i}");
        assert_eq!(c.vht.is_some(), i == 1, "VHT on 5 GHz only");
        assert_eq!(c.ht.is_some(), i != 2, "no HT on 6 GHz");
        assert_eq!(
            (c.he_padding, c.eht_padding),
            (NominalPadding::Us0, NominalPadding::Us0)
        );
        let basic = if i == 0 {
            TxVector::dsss(0)
        } else {
            TxVector::ofdm(0)
        };
        assert_eq!(c.lowest_basic, basic.ok());
    }
    // The station: two streams, LDPC, on 2.4 GHz (a profile) HT 40 MHz-capable and no VHT, on
    // 5 GHz (the frame) 80 MHz, on 6 GHz (a profile) 320 MHz and no HT inherited.
    let s0 = caps(DEMO_STA.links[0]);
    assert!(!s0.ap && s0.vht.is_none() && s0.max_width == Width::W40);
    assert_eq!(s0.ht.unwrap().nss, 2);
    let s1 = caps(DEMO_STA.links[1]);
    assert_eq!((s1.max_width, s1.vht.unwrap().max_mcs), (Width::W80, 9));
    let s2 = caps(DEMO_STA.links[2]);
    assert!(s2.ht.is_none() && s2.max_width == Width::W320);
    let eht = s2.eht.unwrap();
    assert_eq!((eht.nss, eht.max_mcs), (2, 13));

    // A radio that leaves takes its addresses' capabilities with it.
    assert!(t.prune(|r| *r != sta_radio()));
    assert!(t.table().caps.iter().all(|(_, c)| c.ap));
}
