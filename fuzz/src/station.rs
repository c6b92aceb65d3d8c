//! The station side for the AP MLD session targets: a non-AP MLD with three links that
//! authenticates and associates with the AP MLD on link 1 (links 0 and 2 in per-STA profiles)
//! the way the crate's own tests and the demo station do, from `hwsim_crypto`'s SAE, OWE and
//! supplicant code: open (no keys), OWE (DH element, then the MLO 4-way handshake) or SAE
//! (commit, confirm, PMKID, 4-way). Afterwards it builds frames from its link addresses,
//! protected under its PTK when it has one, so fuzzed payloads get past the AP's CCMP.
//!
//! Every step of the setup asserts the AP's answer: a setup that no longer succeeds is a
//! failure of the harness's precondition, reported as a crash rather than fuzzing nothing.

use hwsim_ap::config::ApConfig;
use hwsim_ap::security;
use hwsim_ap::{ApMld, Tx};
use hwsim_crypto::ccmp::CcmpKey;
use hwsim_crypto::keys::{Akm, Cipher};
use hwsim_crypto::owe::{OweDhParam, OweKeyPair, OWE_DH_ELEMENT_EXT_ID};
use hwsim_crypto::rng::SeededRng;
use hwsim_crypto::sae::{Commit, Confirm, PasswordToken, SaeInstance};
use hwsim_crypto::supplicant::{Supplicant, SupplicantConfig, SupplicantMlo, SupplicantStep};
use hwsim_frame::ie::{
    self, rsn_caps, sta_control, CommonInfo, Elements, IeRepr, LinkInfoRepr, MultiLinkRepr,
    MultiLinkType, PerStaProfileRepr, PmkidList, RsnRepr, StaControl, StaInfo, Suite, SuiteList,
};
use hwsim_frame::mac::{mgmt_subtype, Frame, MgmtBuilder, MgmtHeaderRepr};
use hwsim_frame::MacAddr;

/// The AP MLD's address in [`ap_config`].
pub const AP_MLD: MacAddr = MacAddr([0x02, 0, 0, 0xa0, 0, 0]);
/// The station's MLD address.
pub const STA_MLD: MacAddr = MacAddr([0x02, 0, 0, 0xb0, 0, 0]);
/// The station's address on each link.
pub const STA_LINK: [MacAddr; 3] = [
    MacAddr([0x02, 0, 0, 0xb0, 0, 0x10]),
    MacAddr([0x02, 0, 0, 0xb0, 0, 0x11]),
    MacAddr([0x02, 0, 0, 0xb0, 0, 0x12]),
];
/// The link the station sets up on.
pub const SETUP_LINK: usize = 1;
/// The SAE password of [`ap_config`].
pub const PASSPHRASE: &str = "correct horse battery";
const SSID: &str = "mlo";

/// How the BSS is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// No RSN.
    Open,
    /// OWE, PMF required.
    Owe,
    /// SAE (hash-to-element), PMF required.
    Sae,
}

impl Security {
    /// One of the three, by a fuzzer's byte.
    pub fn from_byte(b: u8) -> Security {
        [Security::Open, Security::Owe, Security::Sae][usize::from(b % 3)]
    }
}

/// Three links (2.4 GHz ch 1, 5 GHz ch 36, 6 GHz ch 5) under `security`; secured networks
/// rekey their group keys every two seconds so fuzzed time reaches the group key handshake.
/// `ap_isolate` as given (off: the AP relays between stations and back into the BSS).
pub fn ap_config(security: Security, ap_isolate: bool) -> ApConfig {
    let text = ap_config_text(security, ap_isolate);
    ApConfig::parse(&text).unwrap_or_else(|e| panic!("the harness's AP config: {e}"))
}

/// The TOML text of [`ap_config`].
pub fn ap_config_text(security: Security, ap_isolate: bool) -> String {
    let (name, extra) = match security {
        Security::Open => ("open", String::new()),
        Security::Owe => ("owe", "group_rekey_s = 2\n".to_string()),
        Security::Sae => (
            "sae",
            format!("passphrase = \"{PASSPHRASE}\"\ngroup_rekey_s = 2\n"),
        ),
    };
    format!(
        "ssid = \"{SSID}\"\nmld_addr = \"{AP_MLD}\"\nsecurity = \"{name}\"\n{extra}\
         ap_isolate = {ap_isolate}\n\
         [[link]]\nid = 0\nband = \"2.4\"\nchannel = 1\nbssid = \"02:00:00:a0:00:10\"\n\
         [[link]]\nid = 1\nband = \"5\"\nchannel = 36\nbssid = \"02:00:00:a0:00:11\"\n\
         [[link]]\nid = 2\nband = \"6\"\nchannel = 5\nbssid = \"02:00:00:a0:00:12\"\n"
    )
}

/// What a station's data frame carries.
pub struct Msdu<'a> {
    /// Destination address (the frame's Address 3).
    pub da: MacAddr,
    /// EtherType after LLC/SNAP.
    pub ethertype: u16,
    /// The payload.
    pub payload: &'a [u8],
}

/// The associated station.
pub struct Station {
    /// The PTK's CCMP key once the 4-way handshake completed (OWE, SAE).
    pub ptk: Option<CcmpKey>,
    /// The supplicant, for the group key handshakes that follow.
    pub supplicant: Option<Supplicant>,
    /// Next packet number under the PTK.
    pub pn: u64,
    /// Next sequence number of the station's frames.
    pub seq: u16,
}

/// An 802.11 management frame from `a2` to `a1` in BSS `a3`.
pub fn mgmt(subtype: u8, a1: MacAddr, a2: MacAddr, a3: MacAddr, seq: u16, body: &[u8]) -> Vec<u8> {
    let header = MgmtHeaderRepr::new(subtype, a1, a2, a3, seq);
    MgmtBuilder::new(&header).bytes(body).finish()
}

fn element(id: u8, ext: Option<u8>, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; ie::element_len(ext, data.len())];
    ie::write_element(&mut out, id, ext, data).expect("element fits");
    out
}

fn ml_element(repr: &MultiLinkRepr<'_>) -> Vec<u8> {
    let mut out = vec![0u8; repr.element_len()];
    repr.emit_element(&mut out)
        .expect("Multi-Link element fits");
    out
}

/// The Basic Multi-Link element of an authentication frame: just the MLD address.
fn auth_ml() -> Vec<u8> {
    ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(STA_MLD),
            ..CommonInfo::default()
        },
        links: Vec::new(),
    })
}

/// The station's RSNE: CCMP-128, `akm`, PMF required, BIP-CMAC-128, `pmkid` if given.
fn sta_rsne(akm: Suite, pmkid: Option<[u8; 16]>) -> Vec<u8> {
    let pairwise = [Suite::CCMP_128];
    let akms = [akm];
    let ids: Vec<[u8; 16]> = pmkid.into_iter().collect();
    let repr = RsnRepr {
        version: 1,
        group_cipher: Some(Suite::CCMP_128),
        pairwise: Some(SuiteList::Suites(&pairwise)),
        akms: Some(SuiteList::Suites(&akms)),
        capabilities: Some(rsn_caps::MFPC | rsn_caps::MFPR),
        pmkids: Some(PmkidList::Ids(&ids)),
        group_mgmt_cipher: Some(Suite::BIP_CMAC_128),
        extra: &[],
    };
    let mut data = vec![0u8; repr.buffer_len()];
    repr.emit(&mut data).expect("RSNE fits");
    element(ie::id::RSN, None, &data)
}

/// An association request on [`SETUP_LINK`] asking for links 0 and 2 as well, with `extra`
/// elements (RSNE, RSNXE, OWE DH) in the main body.
fn assoc_request(ap: &ApMld, extra: &[u8]) -> Vec<u8> {
    let bssid = ap.link_config(SETUP_LINK).bssid;
    let mut body = vec![0x11, 0x00, 10, 0];
    body.extend(element(ie::id::SSID, None, SSID.as_bytes()));
    body.extend(element(1, None, &[0x8c, 0x12, 0x98, 0x24]));
    body.extend_from_slice(extra);
    let cap = [0x11u8, 0x00];
    let links = [0usize, 2]
        .iter()
        .map(|&l| {
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(
                    u16::from(ap.link_config(l).id) | sta_control::COMPLETE_PROFILE,
                ),
                info: Some(StaInfo {
                    mac_addr: Some(STA_LINK[l]),
                    ..StaInfo::default()
                }),
                profile: &cap,
            })
        })
        .collect();
    body.extend(ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(STA_MLD),
            // Two more links; TID-to-link mapping negotiation supported.
            mld_capabilities: Some(2 | 3 << 5),
            ..CommonInfo::default()
        },
        links,
    }));
    mgmt(
        mgmt_subtype::ASSOC_REQ,
        bssid,
        STA_LINK[SETUP_LINK],
        bssid,
        0,
        &body,
    )
}

/// An Authentication frame body's (algorithm, transaction, status, rest).
fn auth_fields(tx: &Tx) -> (u16, u16, u16, Vec<u8>) {
    let f = Frame::new_checked(&tx.frame[..]).expect("an AP frame has a header");
    assert_eq!(
        f.frame_control().subtype(),
        mgmt_subtype::AUTH,
        "an authentication answer"
    );
    let b = f.payload();
    assert!(b.len() >= 6, "authentication fixed fields");
    let le = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    (le(0), le(2), le(4), b[6..].to_vec())
}

fn status_of(tx: &Tx) -> u16 {
    let f = Frame::new_checked(&tx.frame[..]).expect("an AP frame has a header");
    let p = f.payload();
    u16::from_le_bytes([p[2], p[3]])
}

/// The EAPOL PDU of an unprotected data frame from the AP.
pub fn eapol_of(frame: &[u8]) -> Option<Vec<u8>> {
    let f = Frame::new_checked(frame).ok()?;
    if !f.is_data() {
        return None;
    }
    let (ethertype, pdu) = security::split_msdu(f.payload())?;
    (ethertype == security::ETHERTYPE_EAPOL).then(|| pdu.to_vec())
}

impl Station {
    /// Sets up the association on `ap` (fresh, seeded) under `security`; `seed` draws the
    /// station's nonces and keys. Time stands at `now_us`.
    pub fn associate(ap: &mut ApMld, security: Security, seed: u64, now_us: u64) -> Station {
        let bssid = ap.link_config(SETUP_LINK).bssid;
        let mut rng = SeededRng::new(seed);
        // Authentication: Open System, or SAE commit and confirm.
        let sae_keys = match security {
            Security::Open | Security::Owe => {
                let mut body = vec![0, 0, 1, 0, 0, 0];
                body.extend(auth_ml());
                let f = mgmt(
                    mgmt_subtype::AUTH,
                    bssid,
                    STA_LINK[SETUP_LINK],
                    bssid,
                    0,
                    &body,
                );
                let out = ap.handle(SETUP_LINK, &f, now_us);
                assert_eq!(out.len(), 1, "one authentication answer");
                assert_eq!(auth_fields(&out[0]).2, 0, "open authentication succeeds");
                None
            }
            Security::Sae => Some(Self::sae(ap, &mut rng, now_us)),
        };
        // Association.
        let (extra, akm, pmk, owe) = match (security, &sae_keys) {
            (Security::Open, _) => (Vec::new(), None, Vec::new(), None),
            (Security::Owe, _) => {
                let pair = OweKeyPair::generate(&mut rng);
                let mut extra = sta_rsne(Suite::AKM_OWE, None);
                pair.dh_param().emit_element(&mut extra);
                (extra, Some(Akm::Owe { group: 19 }), Vec::new(), Some(pair))
            }
            (Security::Sae, Some((pmk, pmkid))) => {
                let mut extra = sta_rsne(Suite::AKM_SAE, Some(*pmkid));
                extra.extend(element(ie::id::RSNX, None, &[0x20]));
                (extra, Some(Akm::Sae), pmk.to_vec(), None)
            }
            (Security::Sae, None) => unreachable!("SAE authentication gave keys"),
        };
        let out = ap.handle(SETUP_LINK, &assoc_request(ap, &extra), now_us);
        assert!(!out.is_empty(), "an association response");
        assert_eq!(
            status_of(&out[0]),
            0,
            "association succeeds under {security:?}"
        );
        let Some(akm) = akm else {
            assert_eq!(out.len(), 1, "no handshake on an open network");
            return Station {
                ptk: None,
                supplicant: None,
                pn: 1,
                seq: 1,
            };
        };
        let pmk = match owe {
            Some(pair) => {
                let f = Frame::new_checked(&out[0].frame[..]).expect("header");
                let dh = Elements::new(&f.payload()[6..])
                    .flatten()
                    .find(|e| e.id == ie::id::EXTENSION && e.ext == Some(OWE_DH_ELEMENT_EXT_ID))
                    .expect("the AP's DH Parameter element");
                let ap_param = OweDhParam::parse_body(dh.data).expect("the AP's DH parameter");
                pair.sta_derive(&ap_param)
                    .expect("OWE key agreement")
                    .pmk
                    .to_vec()
            }
            None => pmk,
        };
        // The MLO 4-way handshake.
        let (rsne, rsnxe) = Self::rsn_elements(&extra);
        let mut supplicant = Supplicant::new(
            SupplicantConfig {
                akm,
                cipher: Cipher::Ccmp128,
                aa: AP_MLD.0,
                spa: STA_MLD.0,
                pmk,
                sta_rsne: rsne,
                sta_rsnxe: rsnxe,
                mlo: Some(SupplicantMlo {
                    assoc_link_id: ap.link_config(SETUP_LINK).id,
                    other_links: vec![(0, STA_LINK[0].0), (2, STA_LINK[2].0)],
                }),
            },
            &mut rng,
        );
        assert_eq!(out.len(), 2, "association response and message 1");
        let m1 = eapol_of(&out[1].frame).expect("message 1");
        let SupplicantStep::Send(m2) = supplicant.receive(&m1).expect("message 1 accepted") else {
            panic!("message 2 expected")
        };
        let out = ap.handle(SETUP_LINK, &eapol_up(ap, SETUP_LINK, &m2), now_us);
        assert_eq!(out.len(), 1, "message 3");
        let m3 = eapol_of(&out[0].frame).expect("message 3");
        let SupplicantStep::Complete { msg4, keys } =
            supplicant.receive(&m3).expect("message 3 accepted")
        else {
            panic!("message 4 expected")
        };
        assert!(ap
            .handle(SETUP_LINK, &eapol_up(ap, SETUP_LINK, &msg4), now_us)
            .is_empty());
        assert!(
            ap.station(STA_MLD).is_some_and(|s| s.authorized()),
            "authorized"
        );
        Station {
            ptk: Some(CcmpKey::new(keys.ptk.tk()).expect("a CCMP-128 TK")),
            supplicant: Some(supplicant),
            pn: 1,
            seq: 1,
        }
    }

    /// SAE commit and confirm on [`SETUP_LINK`]; returns (PMK, PMKID).
    fn sae(ap: &mut ApMld, rng: &mut SeededRng, now_us: u64) -> ([u8; 32], [u8; 16]) {
        let pwe = PasswordToken::derive(SSID.as_bytes(), PASSPHRASE.as_bytes(), None)
            .pwe(&STA_MLD.0, &AP_MLD.0)
            .expect("PWE");
        let instance = SaeInstance::new(&pwe, rng);
        let mut commit = Vec::new();
        instance.commit(None).emit(&mut commit);
        let out = ap.handle(
            SETUP_LINK,
            &sae_auth(ap, SETUP_LINK, 1, 126, &commit),
            now_us,
        );
        assert_eq!(out.len(), 1, "the AP's commit");
        let (alg, seq, status, fields) = auth_fields(&out[0]);
        assert_eq!((alg, seq, status), (3, 1, 126), "an H2E commit");
        let keys = instance
            .process_commit(&Commit::parse(&fields).expect("the AP's commit parses"))
            .expect("the AP's commit is valid");
        let mut confirm = Vec::new();
        keys.confirm(1).emit(&mut confirm);
        let out = ap.handle(
            SETUP_LINK,
            &sae_auth(ap, SETUP_LINK, 2, 0, &confirm),
            now_us,
        );
        assert_eq!(out.len(), 1, "the AP's confirm");
        let (alg, seq, status, fields) = auth_fields(&out[0]);
        assert_eq!((alg, seq, status), (3, 2, 0));
        keys.verify_confirm(&Confirm::parse(&fields).expect("confirm parses"))
            .expect("the AP's confirm verifies");
        (keys.pmk, keys.pmkid)
    }

    fn rsn_elements(extra: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut rsne = Vec::new();
        let mut rsnxe = None;
        for e in Elements::new(extra).flatten() {
            match e.id {
                ie::id::RSN => rsne = e.raw.to_vec(),
                ie::id::RSNX => rsnxe = Some(e.raw.to_vec()),
                _ => {}
            }
        }
        (rsne, rsnxe)
    }

    /// Protects `frame` under the PTK (MLD addresses in the AAD) if the station has one and
    /// `protect` says so; returns it either way.
    pub fn maybe_protect(
        &mut self,
        ap: &ApMld,
        link: usize,
        mut frame: Vec<u8>,
        protect: bool,
    ) -> Vec<u8> {
        let Some(tk) = self.ptk.as_ref().filter(|_| protect) else {
            return frame;
        };
        let bssid = ap.link_config(link).bssid;
        let aad = security::mld_aad(&frame, bssid, AP_MLD, STA_LINK[link], STA_MLD);
        if tk.encrypt(&mut frame, self.pn, 0, aad.as_ref()).is_ok() {
            self.pn += 1;
        }
        frame
    }

    /// A QoS Data frame (TID `tid`) to the distribution system from the station's address
    /// on `link`, carrying `msdu` under LLC/SNAP.
    pub fn data(
        &mut self,
        ap: &ApMld,
        link: usize,
        tid: u8,
        msdu: &Msdu<'_>,
        protect: bool,
    ) -> Vec<u8> {
        let bssid = ap.link_config(link).bssid;
        let seq = self.next_seq();
        let mut f = security::qos_data_header(0x01, bssid, STA_LINK[link], msdu.da, seq, tid);
        security::put_msdu(&mut f, msdu.ethertype, msdu.payload);
        self.maybe_protect(ap, link, f, protect)
    }

    /// A management frame from the station's address on `link` to the BSSID.
    pub fn management(
        &mut self,
        ap: &ApMld,
        link: usize,
        subtype: u8,
        body: &[u8],
        protect: bool,
    ) -> Vec<u8> {
        let bssid = ap.link_config(link).bssid;
        let seq = self.next_seq();
        let f = mgmt(subtype, bssid, STA_LINK[link], bssid, seq, body);
        self.maybe_protect(ap, link, f, protect)
    }

    /// Reads the AP's frames for an EAPOL-Key message to the station (group message 1 under
    /// the PTK) and returns the supplicant's answer as a frame on the link it came on.
    pub fn answer_eapol(&mut self, ap: &ApMld, out: &[Tx]) -> Option<(usize, Vec<u8>)> {
        for tx in out {
            let mut frame = tx.frame.clone();
            if frame.get(1).is_some_and(|b| b & 0x40 != 0) {
                let tk = self.ptk.as_ref()?;
                let bssid = ap.link_config(tx.link).bssid;
                let aad = security::mld_aad(&frame, bssid, AP_MLD, STA_LINK[tx.link], STA_MLD);
                if tk.decrypt(&mut frame, aad.as_ref()).is_err() {
                    continue;
                }
            }
            let Some(pdu) = eapol_of(&frame) else {
                continue;
            };
            let Ok(step) = self.supplicant.as_mut()?.receive(&pdu) else {
                continue;
            };
            let reply = match step {
                SupplicantStep::Send(r) => r,
                SupplicantStep::Complete { msg4, .. } => msg4,
                SupplicantStep::GroupRekey { msg2, .. } => msg2,
            };
            let seq = self.next_seq();
            let bssid = ap.link_config(tx.link).bssid;
            let mut f = security::qos_data_header(
                0x01,
                bssid,
                STA_LINK[tx.link],
                AP_MLD,
                seq,
                security::EAPOL_TID,
            );
            security::put_msdu(&mut f, security::ETHERTYPE_EAPOL, &reply);
            return Some((tx.link, self.maybe_protect(ap, tx.link, f, true)));
        }
        None
    }

    fn next_seq(&mut self) -> u16 {
        self.seq = (self.seq + 1) & 0x0fff;
        self.seq
    }
}

/// An SAE Authentication frame from the station's address on `link`.
pub fn sae_auth(ap: &ApMld, link: usize, seq: u16, status: u16, fields: &[u8]) -> Vec<u8> {
    let bssid = ap.link_config(link).bssid;
    let mut body = Vec::new();
    body.extend_from_slice(&3u16.to_le_bytes());
    body.extend_from_slice(&seq.to_le_bytes());
    body.extend_from_slice(&status.to_le_bytes());
    body.extend_from_slice(fields);
    body.extend(auth_ml());
    mgmt(mgmt_subtype::AUTH, bssid, STA_LINK[link], bssid, 0, &body)
}

/// An EAPOL PDU from the station on `link`, unprotected (the 4-way handshake).
pub fn eapol_up(ap: &ApMld, link: usize, pdu: &[u8]) -> Vec<u8> {
    let bssid = ap.link_config(link).bssid;
    let mut f =
        security::qos_data_header(0x01, bssid, STA_LINK[link], AP_MLD, 0, security::EAPOL_TID);
    security::put_msdu(&mut f, security::ETHERTYPE_EAPOL, pdu);
    f
}
