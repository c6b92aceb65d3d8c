//! 160 and 320 MHz links: the elements decoded back, and the channel a Linux station derives
//! from them, following mac80211's rules (`ieee80211_chandef_vht_oper`,
//! `ieee80211_chandef_he_6ghz_oper`, `ieee80211_chandef_eht_oper` in net/mac80211/util.c, as
//! read for Linux 6.12).

use hwsim_frame::ie::{
    self, mgmt_body_elements, EhtCapabilitiesRepr, EhtOperationRepr, Elements, IeRepr,
    MultiLinkRepr,
};
use hwsim_frame::mac::Frame;

use crate::ap::ApMld;
use crate::config::{ApConfig, Band};
use crate::elements::eid;
use crate::tests::{assoc_request, auth_request, THREE_LINKS};

/// The mlo-wide scenario's links: 2.4 GHz ch 1 at 40 MHz, 5 GHz ch 36 at 160 MHz, 6 GHz ch 5
/// at 320 MHz (320MHz-1, centre 31).
fn wide_config() -> ApConfig {
    let text = THREE_LINKS
        .replace("SECURITY", "open")
        .replace("channel = 1\n", "channel = 1\nwidth = 40\n")
        .replace("channel = 36\n", "channel = 36\nwidth = 160\n")
        .replace("channel = 5\n", "channel = 5\nwidth = 320\n");
    ApConfig::parse(&text).unwrap()
}

/// The elements a station uses for a link from a per-STA profile (`own`): the profile's,
/// then the main body's that the profile neither replaces nor lists in its Non-Inheritance
/// element.
fn effective(
    main: &[(u8, Option<u8>, Vec<u8>)],
    own: &[(u8, Option<u8>, Vec<u8>)],
) -> Vec<(u8, Option<u8>, Vec<u8>)> {
    let (mut ids, mut exts) = (Vec::new(), Vec::new());
    if let Some(d) = find(own, 255, Some(eid::EXT_NON_INHERITANCE)) {
        let n = usize::from(d[0]);
        ids.extend_from_slice(&d[1..1 + n]);
        exts.extend_from_slice(&d[2 + n..2 + n + usize::from(d[1 + n])]);
    }
    let mut eff = own.to_vec();
    for e in main {
        let inherited = match e.1 {
            Some(x) => !exts.contains(&x),
            None => !ids.contains(&e.0),
        };
        if inherited && !own.iter().any(|o| o.0 == e.0 && o.1 == e.1) {
            eff.push(e.clone());
        }
    }
    eff
}

/// (id, ext) → data of every element in `bytes`.
fn elements_of(bytes: &[u8]) -> Vec<(u8, Option<u8>, Vec<u8>)> {
    Elements::new(bytes)
        .map(|e| e.unwrap())
        .map(|e| (e.id, e.ext, e.data.to_vec()))
        .collect()
}

fn find(elems: &[(u8, Option<u8>, Vec<u8>)], id: u8, ext: Option<u8>) -> Option<&[u8]> {
    elems
        .iter()
        .find(|(i, x, _)| *i == id && *x == ext)
        .map(|(_, _, d)| &d[..])
}

fn beacon_elements(ap: &mut ApMld, link: usize) -> Vec<(u8, Option<u8>, Vec<u8>)> {
    let tx = ap.beacon(link, 0).unwrap();
    let f = Frame::new_checked(&tx.frame[..]).unwrap();
    mgmt_body_elements(&f)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.id, e.ext, e.data.to_vec()))
        .collect()
}

fn freq(band: Band, channel: u8) -> u32 {
    let c = u32::from(channel);
    match band {
        Band::G2 => 2407 + 5 * c,
        Band::G5 => 5000 + 5 * c,
        Band::G6 => 5950 + 5 * c,
    }
}

/// A channel as mac80211 describes it: width and centre frequency (MHz).
#[derive(Debug, PartialEq, Eq)]
struct Chandef {
    width: u32,
    center: u32,
}

/// The EHT Operation Information's channel (`ieee80211_chandef_eht_oper`): CCFS0 up to
/// 80 MHz, CCFS1 for 160 and 320 MHz.
fn eht_chandef(band: Band, eht_op: &[u8]) -> Option<Chandef> {
    let info = EhtOperationRepr::parse(eht_op).unwrap().info?;
    assert_eq!(info.disabled_subchannels, None, "no punctured subchannels");
    let (width, ccfs) = match info.channel_width() {
        0 => (20, info.ccfs0),
        1 => (40, info.ccfs0),
        2 => (80, info.ccfs0),
        3 => (160, info.ccfs1),
        4 => (320, info.ccfs1),
        w => panic!("reserved EHT width {w}"),
    };
    Some(Chandef {
        width,
        center: freq(band, ccfs),
    })
}

/// What mac80211 derives from a beacon's operation elements for the BSS's primary channel
/// `primary` (HT → VHT → HE 6 GHz → EHT).
fn station_chandef(band: Band, primary: u8, elems: &[(u8, Option<u8>, Vec<u8>)]) -> Chandef {
    let eht = find(elems, 255, Some(ie::ext_id::EHT_OPERATION)).unwrap();
    let mut c = Chandef {
        width: 20,
        center: freq(band, primary),
    };
    if band == Band::G6 {
        let he = find(elems, 255, Some(ie::ext_id::HE_OPERATION)).unwrap();
        assert_ne!(he[2] & 0x02, 0, "6 GHz Operation Information present");
        let [p, control, ccfs0, ccfs1, _min_rate] = he[6..11] else {
            panic!("6 GHz Operation Information is 5 bytes")
        };
        assert_eq!(p, primary);
        if let Some(e) = eht_chandef(band, eht) {
            return e;
        }
        return match control & 0x03 {
            0 => c,
            1 | 2 => Chandef {
                width: 40 << ((control & 3) - 1),
                center: freq(band, ccfs0),
            },
            _ if ccfs1 != 0 && ccfs1.abs_diff(ccfs0) == 8 => Chandef {
                width: 160,
                center: freq(band, ccfs1),
            },
            _ => panic!("80+80 or 160 without CCFS1: {he:?}"),
        };
    }
    let ht = find(elems, eid::HT_OP, None).unwrap();
    assert_eq!(ht[0], primary);
    if ht[1] & 0x04 != 0 {
        let above = ht[1] & 0x03 == 1;
        c = Chandef {
            width: 40,
            center: if above { c.center + 10 } else { c.center - 10 },
        };
    }
    if let Some(vht) = find(elems, eid::VHT_OP, None) {
        let (w, ccfs0, ccfs1) = (vht[0], vht[1], vht[2]);
        if w == 1 {
            c = if ccfs1 == 0 {
                Chandef {
                    width: 80,
                    center: freq(band, ccfs0),
                }
            } else {
                assert_eq!(ccfs1.abs_diff(ccfs0), 8, "160 MHz, not 80+80");
                Chandef {
                    width: 160,
                    center: freq(band, ccfs1),
                }
            };
        }
    }
    if let Some(e) = eht_chandef(band, eht) {
        // mac80211 drops EHT if its channel does not contain the HT/VHT one.
        assert!(e.width >= c.width, "EHT {e:?} narrower than VHT {c:?}");
        return e;
    }
    c
}

/// The channel must hold the primary and sit on the standard's raster for its width
/// (cfg80211_chandef_valid; 6 GHz 320 MHz centres are 31 + 32k, 160 MHz 15 + 32k).
fn check_raster(band: Band, primary: u8, c: &Chandef) {
    let p = freq(band, primary);
    assert!(p.abs_diff(c.center) < c.width / 2, "{c:?} misses {p}");
    if band == Band::G6 {
        let ch = (c.center - 5950) / 5;
        match c.width {
            160 => assert_eq!(ch % 32, 15, "{c:?}"),
            320 => assert_eq!(ch % 32, 31, "{c:?}"),
            _ => {}
        }
    }
}

#[test]
fn a_station_derives_40_160_and_320_mhz_from_the_beacons() {
    let cfg = wide_config();
    let mut ap = ApMld::new(cfg.clone(), 1);
    let want = [(40, 2422), (160, 5250), (320, 6105)];
    for (i, link) in cfg.links.iter().enumerate() {
        let elems = beacon_elements(&mut ap, i);
        let c = station_chandef(link.band, link.channel, &elems);
        assert_eq!((c.width, c.center), want[i], "link {i}");
        check_raster(link.band, link.channel, &c);
    }
    // What an HE-only station sees of the 320 MHz link: its primary 160 MHz (1-29, centre 15)
    // with CCFS0 the primary 80 MHz (centre 7).
    let six = beacon_elements(&mut ap, 2);
    let he = find(&six, 255, Some(ie::ext_id::HE_OPERATION)).unwrap();
    assert_eq!(he[6..10], [5, 3, 7, 15]);
    // 5 GHz 160: VHT width 1, CCFS0 42 (primary 80), CCFS1 50; the EHT information agrees.
    let five = beacon_elements(&mut ap, 1);
    assert_eq!(find(&five, eid::VHT_OP, None).unwrap()[..3], [1, 42, 50]);
    let eht = EhtOperationRepr::parse(find(&five, 255, Some(ie::ext_id::EHT_OPERATION)).unwrap());
    let info = eht.unwrap().info.unwrap();
    assert_eq!((info.channel_width(), info.ccfs0, info.ccfs1), (3, 42, 50));
    let eht = EhtOperationRepr::parse(find(&six, 255, Some(ie::ext_id::EHT_OPERATION)).unwrap());
    let info = eht.unwrap().info.unwrap();
    assert_eq!((info.channel_width(), info.ccfs0, info.ccfs1), (4, 15, 31));
    // 2.4 GHz and 80 MHz links carry no EHT Operation Information.
    let two = beacon_elements(&mut ap, 0);
    let eht = EhtOperationRepr::parse(find(&two, 255, Some(ie::ext_id::EHT_OPERATION)).unwrap());
    assert_eq!(eht.unwrap().info, None);
}

#[test]
fn the_320mhz_2_channel_is_announced_when_configured() {
    let text = THREE_LINKS.replace("SECURITY", "open").replace(
        "channel = 5\n",
        "channel = 37\nwidth = 320\ncenter_channel = 63\n",
    );
    let cfg = ApConfig::parse(&text).unwrap();
    let mut ap = ApMld::new(cfg, 1);
    let six = beacon_elements(&mut ap, 2);
    let c = station_chandef(Band::G6, 37, &six);
    assert_eq!(
        c,
        Chandef {
            width: 320,
            center: 6265
        }
    );
    check_raster(Band::G6, 37, &c);
    let he = find(&six, 255, Some(ie::ext_id::HE_OPERATION)).unwrap();
    assert_eq!(he[6..10], [37, 3, 39, 47]);
}

#[test]
fn capabilities_announce_the_widths_with_their_mcs_maps() {
    let cfg = wide_config();
    let mut ap = ApMld::new(cfg, 1);
    // (HE PHY byte 0, HE caps length, EHT 320 MHz, EHT-MCS maps) for 2.4 / 5 (160) / 6 (320).
    let want = [
        (0x02, 21, false, 1),
        (0x0c, 25, false, 2),
        (0x0c, 25, true, 3),
    ];
    for (link, &(he0, he_len, w320, maps)) in want.iter().enumerate() {
        let elems = beacon_elements(&mut ap, link);
        let he = find(&elems, 255, Some(ie::ext_id::HE_CAPABILITIES)).unwrap();
        assert_eq!((he[6], he.len()), (he0, he_len), "link {link}");
        let eht = find(&elems, 255, Some(ie::ext_id::EHT_CAPABILITIES)).unwrap();
        let eht = EhtCapabilitiesRepr::parse(eht).unwrap();
        assert_eq!(eht.supports_320mhz(), w320, "link {link}");
        // The set is exactly as long as the HE and EHT capabilities say: no stray bytes that
        // a station would read as PPE thresholds.
        let (set, rest) = eht.split_mcs_nss(he[6], true).unwrap();
        assert_eq!((set.len(), rest.len()), (3 * maps, 0), "link {link}");
        assert!(set.iter().all(|&b| b == 0x11), "1 SS everywhere: {set:?}");
    }
    let vht = |ap: &mut ApMld| find(&beacon_elements(ap, 1), eid::VHT_CAP, None).unwrap()[0];
    assert_eq!(
        vht(&mut ap) & 0x0c,
        0x04,
        "VHT supported channel width set: 160 MHz"
    );
}

#[test]
fn per_sta_profiles_carry_each_links_own_width() {
    let cfg = wide_config();
    let mut ap = ApMld::new(cfg, 1);
    let _ = ap.handle(1, &auth_request(&ap, 1), 0);
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &[]), 0);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    let main = &f.payload()[6..];
    let ml = Elements::new(main)
        .map(|e| e.unwrap())
        .find(|e| e.id == 255 && e.ext == Some(ie::ext_id::MULTI_LINK))
        .unwrap();
    let mut scratch = vec![0u8; ml.len()];
    let ml = MultiLinkRepr::parse_defragment(&ml, &mut scratch).unwrap();
    let main_elems = elements_of(main);
    let mut seen = Vec::new();
    for p in ml.per_sta_profiles() {
        let link = usize::from(p.link_id());
        let own = elements_of(&p.profile[4..]);
        // A complete profile: the link's operation elements, then mac80211 reads those.
        let eff = effective(&main_elems, &own);
        let lc = ap.link_config(link);
        let c = station_chandef(lc.band, lc.channel, &eff);
        seen.push((link, c.width));
    }
    seen.sort_unstable();
    assert_eq!(seen, [(0, 40), (2, 320)]);
}
