//! Information elements: the element walk (with fragment grouping) and every element parser
//! the crate has, each with its emit → parse round trip. [`check_element`] dispatches one
//! element on its ID, so any walk (a management frame's body, a per-STA profile, EAPOL Key
//! Data) reaches every parser; the per-family functions take an element's data directly.

use hwsim_ap::ap::NegotiatedTtlm;
use hwsim_frame::ie::{
    self, ext_id, id, EhtCapabilitiesRepr, EhtOperationRepr, Element, Elements, IeRepr, MultiLink,
    MultiLinkRepr, MultiLinkType, NeighborApInfoRepr, NonInheritanceRepr, PerStaProfileRepr,
    ReducedNeighborReport, RsnRepr, RsnxRepr, TbttInfo, TidToLinkMappingRepr,
};

/// How deep elements inside per-STA profiles inside Multi-Link elements are followed: a
/// profile may carry another Multi-Link element, and each level tries every Multi-Link type.
const MAX_DEPTH: u8 = 2;

/// Emits a parsed `Repr` as data and as a whole element (fragmented past 255 bytes); both
/// must parse back to the same value.
macro_rules! round_trip {
    ($ty:ident, $repr:expr) => {{
        let repr = $repr;
        let mut out = vec![0u8; repr.buffer_len()];
        let n = IeRepr::emit(&repr, &mut out).unwrap_or_else(|e| {
            panic!(concat!("re-emit of a parsed ", stringify!($ty), ": {}"), e)
        });
        assert_eq!(
            n,
            out.len(),
            concat!(stringify!($ty), " emits buffer_len bytes")
        );
        assert_eq!(
            <$ty as IeRepr>::parse(&out).as_ref(),
            Ok(&repr),
            concat!(stringify!($ty), " round trip")
        );
        let mut whole = vec![0u8; repr.element_len()];
        assert_eq!(repr.emit_element(&mut whole), Ok(whole.len()));
        let mut walk = Elements::new(&whole);
        let e = walk.next().expect("one element").expect("a whole element");
        assert!(walk.next().is_none(), "exactly one element");
        assert_eq!(e.to_vec(), out, "the element's data is the emitted data");
    }};
}

/// Walks `buf` as a run of elements and as a run of Multi-Link subelements, checking each.
pub fn check_elements(buf: &[u8]) {
    walk(Elements::new(buf), 0);
    Elements::subelements(buf).take(256).for_each(drop);
}

fn walk(elements: Elements<'_>, depth: u8) {
    for e in elements.take(256) {
        let Ok(e) = e else { break };
        check_element_at(&e, depth);
    }
}

/// One element from a walk: its accessors and fragments, then the parser its ID selects.
pub fn check_element(e: &Element<'_>) {
    check_element_at(e, 0)
}

fn check_element_at(e: &Element<'_>, depth: u8) {
    let _ = (e.element_id(), e.is_empty(), e.raw);
    let (id, ext) = e.element_id().to_parts();
    assert_eq!((id, ext), (e.id, e.ext), "ElementId round trip");
    assert_eq!(e.len(), e.pieces().map(<[u8]>::len).sum::<usize>());
    assert_eq!(e.contiguous().is_some(), !e.is_fragmented());
    let mut scratch = vec![0u8; e.len()];
    let data = e
        .defragment(&mut scratch)
        .expect("defragment into len() bytes");
    assert_eq!(data, e.to_vec().as_slice());
    if e.is_fragmented() {
        // Fragmented data needs room for all of it (unfragmented data is borrowed as is).
        let mut short = vec![0u8; e.len() - 1];
        assert!(e.defragment(&mut short).is_err());
    }
    let data = e.to_vec();
    match (e.id, e.ext) {
        (id::RSN, _) => check_rsn(&data),
        (id::RSNX, _) => check_rsnx(&data),
        (id::REDUCED_NEIGHBOR_REPORT, _) => check_rnr(&data),
        (id::EXTENSION, Some(ext_id::MULTI_LINK)) => {
            let mut scratch = vec![0u8; e.len()];
            let via_pieces = MultiLinkRepr::parse_defragment(e, &mut scratch);
            let mut copy = data.clone();
            assert_eq!(
                via_pieces,
                MultiLinkRepr::parse_in_place(&mut copy),
                "parse_defragment is parse_in_place of the joined data"
            );
            check_multi_link_at(&data, depth);
        }
        (id::EXTENSION, Some(ext_id::EHT_CAPABILITIES)) => check_eht_capabilities(&data),
        (id::EXTENSION, Some(ext_id::EHT_OPERATION)) => check_eht_operation(&data),
        (id::EXTENSION, Some(ext_id::NON_INHERITANCE)) => check_non_inheritance(&data),
        (id::EXTENSION, Some(ext_id::TID_TO_LINK_MAPPING)) => check_ttlm(&data),
        _ => {}
    }
    // The typed entry point refuses what is not its element, and fragmented data.
    let typed = TidToLinkMappingRepr::parse_element(e);
    if (e.id, e.ext) != (id::EXTENSION, Some(ext_id::TID_TO_LINK_MAPPING)) {
        assert_eq!(typed, Err(ie::Error::WrongElement));
    } else if e.is_fragmented() {
        assert_eq!(typed, Err(ie::Error::Fragmented));
    } else {
        assert_eq!(typed, TidToLinkMappingRepr::parse(e.data));
    }
}

/// `data` written as one element (fragmented past 255 bytes), which the walk must read back
/// as exactly that.
pub fn element_bytes(id: u8, ext: Option<u8>, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; ie::element_len(ext, data.len())];
    assert_eq!(ie::write_element(&mut out, id, ext, data), Ok(out.len()));
    let mut walk = Elements::new(&out);
    let e = walk.next().expect("one element").expect("a whole element");
    assert!(walk.next().is_none(), "exactly one element");
    assert_eq!((e.id, e.ext), (id, ext));
    assert_eq!(e.to_vec(), data, "the walk reads back the data written");
    out
}

/// The data of a Multi-Link element (after the extension ID, defragmented).
pub fn check_multi_link(data: &[u8]) {
    check_multi_link_at(data, 0)
}

fn check_multi_link_at(data: &[u8], depth: u8) {
    let view = MultiLink::new_unchecked(data);
    let _ = (
        view.control(),
        view.kind(),
        view.presence(),
        view.mld_addr(),
    );
    let _ = (
        view.common_info(),
        view.common_info_bytes(),
        view.link_info_bytes(),
    );
    assert_eq!(
        view.check_len().is_ok(),
        MultiLink::new_checked(data).is_ok()
    );
    let mut scratch = vec![0u8; data.len()];
    for sub in view.subelements().take(64) {
        let Ok(sub) = sub else { break };
        let _ = (sub.len(), sub.pieces().count(), sub.element_id());
        let Ok(joined) = sub.defragment(&mut scratch) else {
            continue;
        };
        for kind in [
            MultiLinkType::Basic,
            MultiLinkType::ProbeRequest,
            MultiLinkType::Reconfiguration,
            MultiLinkType::Unknown(5),
        ] {
            let Ok(p) = PerStaProfileRepr::parse(kind, joined) else {
                continue;
            };
            check_profile(kind, &p, depth);
        }
    }
    if let Ok(ml) = MultiLinkRepr::parse(data) {
        let _ = (ml.common.link_id(), ml.per_sta_profiles().count());
        let mut normalized = ml.clone();
        assert_eq!(
            normalized.normalize(),
            Ok(()),
            "a parsed element normalizes"
        );
        assert_eq!(normalized, ml, "a parsed element is already normal");
        round_trip!(MultiLinkRepr, ml.clone());
    }
    let mut copy = data.to_vec();
    if let Ok(ml) = MultiLinkRepr::parse_in_place(&mut copy) {
        // Fragmented subelements come back fragmented the same way.
        let mut out = vec![0u8; ml.buffer_len()];
        assert_eq!(ml.emit(&mut out), Ok(out.len()));
        let mut again = out.clone();
        assert_eq!(MultiLinkRepr::parse_in_place(&mut again).as_ref(), Ok(&ml));
        let mut whole = vec![0u8; ml.element_len()];
        assert_eq!(ml.emit_element(&mut whole), Ok(whole.len()));
        let e = Elements::new(&whole).next().expect("one").expect("whole");
        let mut scratch = vec![0u8; e.len()];
        assert_eq!(MultiLinkRepr::parse_defragment(&e, &mut scratch), Ok(ml));
    }
}

fn check_profile(kind: MultiLinkType, p: &PerStaProfileRepr<'_>, depth: u8) {
    let _ = (p.link_id(), p.mac_addr(), p.capability_info());
    let mut out = vec![0u8; p.buffer_len(kind)];
    let n = p
        .emit(kind, &mut out)
        .expect("re-emit of a parsed per-STA profile");
    assert_eq!(n, out.len());
    assert_eq!(
        PerStaProfileRepr::parse(kind, &out),
        Ok(*p),
        "per-STA profile round trip"
    );
    if depth < MAX_DEPTH {
        // The profile's elements follow its fixed fields, whose length depends on the frame
        // (2 in an association request or beacon, 4 in an association response).
        for fixed in [2, 4, 6] {
            walk(p.elements(fixed), depth + 1);
        }
    } else {
        p.elements(2).take(64).for_each(drop);
    }
}

/// The data of a Reduced Neighbor Report: every Neighbor AP Information field, its TBTT
/// Information fields, and the re-emit of each (bar the reserved header bit).
pub fn check_rnr(data: &[u8]) {
    let mut at = 0;
    for ap in ReducedNeighborReport::new(data).take(64) {
        let Ok(ap) = ap else { break };
        let _ = (ap.count(), ap.tbtt_info_len(), ap.header);
        let field_len = 4 + ap.tbtt_set.len();
        let infos: Result<Vec<TbttInfo<'_>>, _> = ap.tbtt_infos().collect();
        if let Ok(infos) = infos {
            for info in &infos {
                let _ = info.mld_params.map(|m| (m.link_id, m.ap_mld_id));
                let mut out = vec![0u8; info.buffer_len()];
                assert_eq!(info.emit(&mut out), Ok(out.len()));
                assert_eq!(
                    TbttInfo::parse(&out).as_ref(),
                    Ok(info),
                    "TBTT info round trip"
                );
            }
            let repr = NeighborApInfoRepr {
                field_type: ap.field_type(),
                filtered: ap.filtered(),
                operating_class: ap.operating_class,
                channel: ap.channel,
                tbtt_infos: &infos,
            };
            let mut out = vec![0u8; repr.buffer_len()];
            assert_eq!(repr.emit(&mut out), Ok(field_len));
            let mut orig = data[at..at + field_len].to_vec();
            orig[0] &= !0x08;
            assert_eq!(out, orig, "Neighbor AP Information re-emits the same bytes");
        }
        at += field_len;
    }
}

/// The data of an RSN element.
pub fn check_rsn(data: &[u8]) {
    let Ok(rsn) = RsnRepr::parse(data) else {
        return;
    };
    let _ = (rsn.mfp_capable(), rsn.mfp_required());
    for list in [rsn.pairwise, rsn.akms].into_iter().flatten() {
        assert_eq!(list.iter().count(), list.len());
        assert_eq!(list.is_empty(), list.iter().next().is_none());
        if let Some(first) = list.iter().next() {
            assert!(list.contains(first));
        }
    }
    if let Some(p) = rsn.pmkids {
        assert_eq!(p.iter().count(), p.len());
    }
    round_trip!(RsnRepr, rsn);
}

/// The data of an RSN Extension element.
pub fn check_rsnx(data: &[u8]) {
    let Ok(x) = RsnxRepr::parse(data) else {
        return;
    };
    let _ = (x.sae_h2e(), x.sae_pk(), x.protected_twt(), x.field_length());
    for bit in [0, 4, 5, 7, 8, 100, usize::MAX] {
        let _ = x.bit(bit);
    }
    round_trip!(RsnxRepr, x);
}

/// The data of a TID-To-Link Mapping element; also the AP MLD's check of a negotiated
/// request carrying it.
pub fn check_ttlm(data: &[u8]) {
    if let Ok(t) = TidToLinkMappingRepr::parse(data) {
        for tid in 0..=8 {
            let links = t.links_of(tid);
            if tid == 8 && !t.default_mapping {
                assert_eq!(links, 0, "no TID 8");
            }
        }
        let _ = (t.direction.covers_downlink(), t.direction.covers_uplink());
        round_trip!(TidToLinkMappingRepr, t);
    }
    let element = element_bytes(id::EXTENSION, Some(ext_id::TID_TO_LINK_MAPPING), data);
    for links in [0b111, 0b1, 0xffff] {
        let _ = NegotiatedTtlm::from_request(&element, links);
    }
}

/// The data of an EHT Capabilities element.
pub fn check_eht_capabilities(data: &[u8]) {
    let Ok(caps) = EhtCapabilitiesRepr::parse(data) else {
        return;
    };
    let _ = (caps.supports_320mhz(), caps.ppe_thresholds_present());
    for he0 in [0x00, 0x04, 0x08, 0x0c, 0x10, 0xff] {
        for from_ap in [true, false] {
            let _ = (
                caps.mcs_nss_len(he0, from_ap),
                caps.split_mcs_nss(he0, from_ap),
            );
        }
    }
    round_trip!(EhtCapabilitiesRepr, caps);
}

/// The data of an EHT Operation element.
pub fn check_eht_operation(data: &[u8]) {
    let Ok(op) = EhtOperationRepr::parse(data) else {
        return;
    };
    let _ = op.info.map(|i| i.channel_width());
    round_trip!(EhtOperationRepr, op);
}

/// The data of a Non-Inheritance element.
pub fn check_non_inheritance(data: &[u8]) {
    let Ok(n) = NonInheritanceRepr::parse(data) else {
        return;
    };
    for (id, ext) in [
        (id::EXTENSION, None),
        (id::EXTENSION, Some(ext_id::MULTI_LINK)),
        (45, None),
    ] {
        let _ = n.excludes(id, ext);
    }
    round_trip!(NonInheritanceRepr, n);
}
