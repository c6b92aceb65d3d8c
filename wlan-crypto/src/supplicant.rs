//! Supplicant side of the 4-way handshake (IEEE 802.11-2020 12.7.6.2-12.7.6.5, with the MLO
//! rules of IEEE 802.11be 12.7.6): the counterpart of [`crate::handshake::Authenticator`],
//! for a simulated non-AP STA or non-AP MLD.
//!
//! Pure state machine: [`Supplicant::receive`] consumes an EAPOL-Key PDU from the
//! authenticator and returns message 2, or, after a message 3 that checks out, message 4 and
//! the keys to install.
//!
//! What is checked:
//! * 1/4: Pairwise, Ack, no MIC; a Key Replay Counter above every one seen; MLO: a MAC
//!   address KDE with the AP MLD address (as wpa_supplicant checks).
//! * 3/4: Pairwise, Install, Ack, MIC, Secure, Encrypted Key Data; the ANonce of message 1; a
//!   newer replay counter; the MIC under the KCK; the Key Data unwraps under the KEK.
//!   Single link: an RSNE and a GTK KDE. MLO: the AP MLD address KDE, an MLO Link KDE with an
//!   RSNE for the association link and for every link requested, an MLO GTK KDE for the
//!   association link.
//!
//! Message 2 carries the STA's RSNE [+ RSNXE] exactly as in its (Re)Association Request and,
//! for MLO, the non-AP MLD address KDE and one MLO Link KDE (link ID + STA link address) per
//! link requested besides the association link. Message 4 carries the MLD address KDE (MLO).
//! After the handshake, group message 1 (12.7.7, see [`crate::group_key`]) is checked (newer
//! replay counter, MIC, Key Data unwraps and holds a GTK / MLO GTK KDE) and answered with
//! group message 2 and the new group keys to install.
//!
//! A message 3 retransmitted after the handshake completed is answered with message 4 again
//! but its keys are not handed out twice (no key reinstallation).

use crate::eapol::{self, EapolKey, KeyInfo, EAPOL_VERSION};
use crate::error::CryptoError;
use crate::group_key;
use crate::kde::{parse_key_data, Kde, KeyDataItem, ELEMENT_RSN, ELEMENT_RSNX};
use crate::keys::{Akm, Cipher, GroupKey, MacAddr, Ptk};
use crate::keywrap;
use crate::rng::KeyRng;

/// Why a received EAPOL-Key frame was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupplicantError {
    #[error("malformed EAPOL-Key frame: {0}")]
    Malformed(#[from] CryptoError),
    #[error("unexpected EAPOL-Key message in state {state:?} (key info {key_info:#06x})")]
    Unexpected {
        state: SupplicantState,
        key_info: u16,
    },
    #[error("replay counter {got} is not above the last one seen ({last})")]
    ReplayCounter { got: u64, last: u64 },
    #[error("MIC check failed")]
    Mic,
    #[error("ANonce of message 3 differs from message 1's")]
    Anonce,
    #[error("AP MLD MAC address KDE missing or not the AP MLD address")]
    ApMldAddress,
    #[error("message 3 lacks {0}")]
    Missing(&'static str),
}

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupplicantState {
    /// Waiting for message 1.
    WaitMsg1,
    /// Message 2 sent, waiting for message 3.
    WaitMsg3,
    /// Message 4 sent; keys installed.
    Done,
}

/// The multi-link part of a non-AP MLD's association.
#[derive(Debug, Clone)]
pub struct SupplicantMlo {
    /// Link ID of the link the association was made on.
    pub assoc_link_id: u8,
    /// (link ID, our link address) of every other link requested.
    pub other_links: Vec<(u8, MacAddr)>,
}

/// What the supplicant needs to know.
#[derive(Debug, Clone)]
pub struct SupplicantConfig {
    pub akm: Akm,
    pub cipher: Cipher,
    /// Authenticator address: the AP MLD address for MLO, else the BSSID.
    pub aa: MacAddr,
    /// Supplicant address: the non-AP MLD address for MLO, else the STA address.
    pub spa: MacAddr,
    pub pmk: Vec<u8>,
    /// Our RSNE / RSNXE exactly as sent in the (Re)Association Request (whole elements).
    pub sta_rsne: Vec<u8>,
    pub sta_rsnxe: Option<Vec<u8>>,
    pub mlo: Option<SupplicantMlo>,
}

/// An affiliated AP as message 3 describes it (MLO Link KDE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApLink {
    pub link_id: u8,
    pub mac: MacAddr,
    /// Whole RSNE / RSNXE of the link (to compare with its Beacons).
    pub rsne: Vec<u8>,
    pub rsnxe: Option<Vec<u8>>,
}

/// The group keys message 3 handed over for one link (link ID 0 for a single link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkGroupKeys {
    pub link_id: u8,
    /// GTK with its receive start PN (from the MLO GTK KDE, or the Key RSC field).
    pub gtk: GroupKey,
    pub igtk: Option<GroupKey>,
    pub bigtk: Option<GroupKey>,
}

/// The keys to install once message 4 is sent.
#[derive(Debug, Clone)]
pub struct SupplicantKeys {
    pub ptk: Ptk,
    /// Single link: the AP's RSNE / RSNXE from message 3 (to compare with its Beacons).
    pub ap_rsne: Option<Vec<u8>>,
    pub ap_rsnxe: Option<Vec<u8>>,
    /// MLO: the AP MLD address and every link's MLO Link KDE, in message order.
    pub ap_mld_addr: Option<MacAddr>,
    pub ap_links: Vec<ApLink>,
    /// Group keys per link, in link order of message 3.
    pub groups: Vec<LinkGroupKeys>,
}

/// The group keys in plaintext Key Data (message 3 or group message 1), per link in the
/// order of their GTK KDEs; `rsc` is the receive start of a (non-MLO) GTK KDE.
fn group_keys(plain: &[u8], rsc: u64) -> Result<Vec<LinkGroupKeys>, SupplicantError> {
    let key16 = |k: &[u8]| -> Result<[u8; 16], SupplicantError> {
        k.try_into()
            .map_err(|_| CryptoError::InvalidKeyLength(k.len()).into())
    };
    let mut groups: Vec<LinkGroupKeys> = Vec::new();
    for item in parse_key_data(plain) {
        let (link_id, key_id, gtk, pn) = match item? {
            KeyDataItem::Kde(Kde::Gtk { key_id, gtk, .. }) => (0, key_id, gtk, rsc),
            KeyDataItem::Kde(Kde::MloGtk {
                link_id,
                key_id,
                pn,
                gtk,
                ..
            }) => (link_id, key_id, gtk, pn),
            _ => continue,
        };
        groups.push(LinkGroupKeys {
            link_id,
            gtk: GroupKey {
                key_id,
                key: key16(gtk)?,
                pn,
            },
            igtk: None,
            bigtk: None,
        });
    }
    // IGTK / BIGTK in a second pass, so their KDEs may come in any order relative to the
    // GTKs.
    for item in parse_key_data(plain) {
        let (link_id, k, bigtk) = match item? {
            KeyDataItem::Kde(Kde::Igtk(k)) => (0, k, false),
            KeyDataItem::Kde(Kde::MloIgtk { link_id, key }) => (link_id, key, false),
            KeyDataItem::Kde(Kde::Bigtk(k)) => (0, k, true),
            KeyDataItem::Kde(Kde::MloBigtk { link_id, key }) => (link_id, key, true),
            _ => continue,
        };
        let Some(g) = groups.iter_mut().find(|g| g.link_id == link_id) else {
            continue;
        };
        let key = GroupKey {
            key_id: u8::try_from(k.key_id).map_err(|_| CryptoError::Unsupported {
                what: "IGTK/BIGTK key ID",
                value: k.key_id.into(),
            })?,
            key: key16(k.key)?,
            pn: k.pn,
        };
        if bigtk {
            g.bigtk = Some(key);
        } else {
            g.igtk = Some(key);
        }
    }
    Ok(groups)
}

/// What [`Supplicant::receive`] wants done.
#[derive(Debug)]
pub enum SupplicantStep {
    /// Send this EAPOL PDU (message 2, or message 4 again for a retransmitted message 3).
    Send(Vec<u8>),
    /// Send message 4, then install these keys.
    Complete {
        msg4: Vec<u8>,
        keys: Box<SupplicantKeys>,
    },
    /// Group message 1 checked out: send group message 2 and install these group keys
    /// (per link; link ID 0 for a single link).
    GroupRekey {
        msg2: Vec<u8>,
        groups: Vec<LinkGroupKeys>,
    },
}

/// Supplicant 4-way handshake state machine.
#[derive(Debug)]
pub struct Supplicant {
    cfg: SupplicantConfig,
    state: SupplicantState,
    snonce: [u8; 32],
    anonce: [u8; 32],
    /// The PTK derived from message 1 (TPTK until message 3 checks out).
    ptk: Option<Ptk>,
    last_replay: Option<u64>,
}

impl Supplicant {
    /// Draws the SNonce from `rng`.
    pub fn new(cfg: SupplicantConfig, rng: &mut dyn KeyRng) -> Self {
        let mut snonce = [0u8; 32];
        rng.fill(&mut snonce);
        Supplicant {
            cfg,
            state: SupplicantState::WaitMsg1,
            snonce,
            anonce: [0; 32],
            ptk: None,
            last_replay: None,
        }
    }

    pub fn state(&self) -> SupplicantState {
        self.state
    }

    pub fn snonce(&self) -> &[u8; 32] {
        &self.snonce
    }

    /// The PTK once message 1 was answered.
    pub fn ptk(&self) -> Option<&Ptk> {
        self.ptk.as_ref()
    }

    /// Processes an EAPOL PDU from the authenticator (EAPOL header first; padding allowed).
    pub fn receive(&mut self, pdu: &[u8]) -> Result<SupplicantStep, SupplicantError> {
        let akm = self.cfg.akm;
        let frame = EapolKey::parse(pdu, akm.mic_len())?;
        let pdu = &pdu[..4 + usize::from(u16::from_be_bytes([pdu[2], pdu[3]]))];
        let info = frame.key_info;
        let unexpected = SupplicantError::Unexpected {
            state: self.state,
            key_info: info.0,
        };
        if group_key::is_group_message(info) {
            return self.on_group_msg1(&frame, pdu);
        }
        if !info.has(KeyInfo::PAIRWISE | KeyInfo::ACK)
            || info.has(KeyInfo::REQUEST)
            || info.version() != akm.key_descriptor_version()
        {
            return Err(unexpected);
        }
        if let Some(last) = self.last_replay {
            if frame.replay_counter <= last {
                return Err(SupplicantError::ReplayCounter {
                    got: frame.replay_counter,
                    last,
                });
            }
        }
        let msg3_bits = KeyInfo::MIC | KeyInfo::SECURE | KeyInfo::INSTALL;
        match (self.state, info.has(msg3_bits), info.has(KeyInfo::MIC)) {
            (SupplicantState::WaitMsg1 | SupplicantState::WaitMsg3, _, false) => {
                self.on_msg1(&frame)
            }
            (SupplicantState::WaitMsg3 | SupplicantState::Done, true, true) => {
                self.on_msg3(&frame, pdu)
            }
            _ => Err(unexpected),
        }
    }

    fn on_msg1(&mut self, frame: &EapolKey<'_>) -> Result<SupplicantStep, SupplicantError> {
        if self.cfg.mlo.is_some() {
            let mut aa = None;
            for item in parse_key_data(frame.key_data) {
                if let KeyDataItem::Kde(Kde::MacAddr(m)) = item? {
                    aa = Some(m);
                }
            }
            if aa != Some(self.cfg.aa) {
                return Err(SupplicantError::ApMldAddress);
            }
        }
        let c = &self.cfg;
        let ptk = Ptk::derive(
            c.akm,
            c.cipher,
            &c.pmk,
            &c.aa,
            &c.spa,
            &frame.nonce,
            &self.snonce,
        )?;
        let mut kd = c.sta_rsne.clone();
        if let Some(x) = &c.sta_rsnxe {
            kd.extend_from_slice(x);
        }
        if let Some(mlo) = &c.mlo {
            Kde::MacAddr(c.spa).emit(&mut kd)?;
            for &(link_id, mac) in &mlo.other_links {
                Kde::MloLink {
                    link_id,
                    mac,
                    rsne: None,
                    rsnxe: None,
                }
                .emit(&mut kd)?;
            }
        }
        let msg2 = self.signed(
            &ptk,
            KeyInfo::PAIRWISE | KeyInfo::MIC,
            frame.replay_counter,
            self.snonce,
            &kd,
        )?;
        self.anonce = frame.nonce;
        self.ptk = Some(ptk);
        self.last_replay = Some(frame.replay_counter);
        self.state = SupplicantState::WaitMsg3;
        Ok(SupplicantStep::Send(msg2))
    }

    fn on_msg3(
        &mut self,
        frame: &EapolKey<'_>,
        pdu: &[u8],
    ) -> Result<SupplicantStep, SupplicantError> {
        let akm = self.cfg.akm;
        let ptk = self.ptk.clone().ok_or(SupplicantError::Unexpected {
            state: self.state,
            key_info: frame.key_info.0,
        })?;
        if !frame.key_info.has(KeyInfo::ENCRYPTED_KEY_DATA) {
            return Err(SupplicantError::Missing("encrypted Key Data"));
        }
        if frame.nonce != self.anonce {
            return Err(SupplicantError::Anonce);
        }
        eapol::verify_mic(akm.mic_alg(), ptk.kck(), pdu, akm.mic_len())
            .map_err(|_| SupplicantError::Mic)?;
        let plain = keywrap::unwrap(ptk.kek(), frame.key_data)?;
        let keys = self.msg3_keys(&ptk, frame.rsc, &plain)?;
        let mut kd = Vec::new();
        if self.cfg.mlo.is_some() {
            Kde::MacAddr(self.cfg.spa).emit(&mut kd)?;
        }
        let msg4 = self.signed(
            &ptk,
            KeyInfo::PAIRWISE | KeyInfo::MIC | KeyInfo::SECURE,
            frame.replay_counter,
            [0; 32],
            &kd,
        )?;
        self.last_replay = Some(frame.replay_counter);
        if self.state == SupplicantState::Done {
            return Ok(SupplicantStep::Send(msg4));
        }
        self.state = SupplicantState::Done;
        Ok(SupplicantStep::Complete {
            msg4,
            keys: Box::new(keys),
        })
    }

    /// Group message 1 (after the 4-way handshake): replay counter above every one seen, MIC
    /// under the KCK, Key Data unwraps under the KEK and holds a GTK (MLO: an MLO GTK KDE).
    fn on_group_msg1(
        &mut self,
        frame: &EapolKey<'_>,
        pdu: &[u8],
    ) -> Result<SupplicantStep, SupplicantError> {
        let akm = self.cfg.akm;
        let info = frame.key_info;
        let ptk = match (&self.ptk, self.state) {
            (Some(ptk), SupplicantState::Done)
                if info.has(group_key::GROUP_MSG1_BITS)
                    && info.version() == akm.key_descriptor_version() =>
            {
                ptk.clone()
            }
            _ => {
                return Err(SupplicantError::Unexpected {
                    state: self.state,
                    key_info: info.0,
                })
            }
        };
        if let Some(last) = self.last_replay {
            if frame.replay_counter <= last {
                return Err(SupplicantError::ReplayCounter {
                    got: frame.replay_counter,
                    last,
                });
            }
        }
        eapol::verify_mic(akm.mic_alg(), ptk.kck(), pdu, akm.mic_len())
            .map_err(|_| SupplicantError::Mic)?;
        let plain = keywrap::unwrap(ptk.kek(), frame.key_data)?;
        let groups = group_keys(&plain, frame.rsc)?;
        // As wpa_supplicant: MLO needs MLO GTK KDEs, a single link a GTK KDE.
        let mlo = self.cfg.mlo.is_some();
        let right_kind = parse_key_data(&plain).any(|i| match i {
            Ok(KeyDataItem::Kde(Kde::MloGtk { .. })) => mlo,
            Ok(KeyDataItem::Kde(Kde::Gtk { .. })) => !mlo,
            _ => false,
        });
        if groups.is_empty() || !right_kind {
            return Err(SupplicantError::Missing("a GTK KDE in group message 1"));
        }
        let msg2 = group_key::group_msg2(akm, &ptk, frame.replay_counter)?;
        self.last_replay = Some(frame.replay_counter);
        Ok(SupplicantStep::GroupRekey { msg2, groups })
    }

    /// The Key Data of message 3, checked for what this association needs.
    fn msg3_keys(
        &self,
        ptk: &Ptk,
        rsc: u64,
        plain: &[u8],
    ) -> Result<SupplicantKeys, SupplicantError> {
        let mut keys = SupplicantKeys {
            ptk: ptk.clone(),
            ap_rsne: None,
            ap_rsnxe: None,
            ap_mld_addr: None,
            ap_links: Vec::new(),
            groups: Vec::new(),
        };
        for item in parse_key_data(plain) {
            match item? {
                KeyDataItem::Element { id, bytes } if id == ELEMENT_RSN => {
                    keys.ap_rsne = Some(bytes.to_vec())
                }
                KeyDataItem::Element { id, bytes } if id == ELEMENT_RSNX => {
                    keys.ap_rsnxe = Some(bytes.to_vec())
                }
                KeyDataItem::Kde(Kde::MacAddr(m)) => keys.ap_mld_addr = Some(m),
                KeyDataItem::Kde(Kde::MloLink {
                    link_id,
                    mac,
                    rsne,
                    rsnxe,
                }) => keys.ap_links.push(ApLink {
                    link_id,
                    mac,
                    rsne: rsne
                        .ok_or(SupplicantError::Missing("an RSNE in an MLO Link KDE"))?
                        .to_vec(),
                    rsnxe: rsnxe.map(<[u8]>::to_vec),
                }),
                _ => {}
            }
        }
        keys.groups = group_keys(plain, rsc)?;
        match &self.cfg.mlo {
            None => {
                if keys.ap_rsne.is_none() {
                    return Err(SupplicantError::Missing("the AP's RSNE"));
                }
                if keys.groups.is_empty() {
                    return Err(SupplicantError::Missing("a GTK KDE"));
                }
            }
            Some(mlo) => {
                if keys.ap_mld_addr != Some(self.cfg.aa) {
                    return Err(SupplicantError::ApMldAddress);
                }
                let listed = |id: u8| keys.ap_links.iter().any(|l| l.link_id == id);
                if !listed(mlo.assoc_link_id) || !mlo.other_links.iter().all(|l| listed(l.0)) {
                    return Err(SupplicantError::Missing(
                        "an MLO Link KDE for a requested link",
                    ));
                }
                if !keys.groups.iter().any(|g| g.link_id == mlo.assoc_link_id) {
                    return Err(SupplicantError::Missing(
                        "an MLO GTK KDE for the association link",
                    ));
                }
            }
        }
        Ok(keys)
    }

    /// An EAPOL-Key frame from us with its MIC under `ptk`'s KCK.
    fn signed(
        &self,
        ptk: &Ptk,
        info: u16,
        replay_counter: u64,
        nonce: [u8; 32],
        key_data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let akm = self.cfg.akm;
        let mut pdu = EapolKey {
            version: EAPOL_VERSION,
            key_info: KeyInfo(akm.key_descriptor_version() | info),
            key_length: 0,
            replay_counter,
            nonce,
            iv: [0; 16],
            rsc: 0,
            mic: &[],
            key_data,
        }
        .emit(akm.mic_len());
        eapol::write_mic(akm.mic_alg(), ptk.kck(), &mut pdu, akm.mic_len())?;
        Ok(pdu)
    }
}
