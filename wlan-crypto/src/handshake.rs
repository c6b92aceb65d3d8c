//! Authenticator side of the 4-way handshake (IEEE 802.11-2020 12.7.6, with the MLO rules of
//! IEEE 802.11be 12.7.6), shaped after hostapd's `wpa_auth.c` so that wpa_supplicant 2.11
//! accepts it.
//!
//! Pure state machine: [`Authenticator::message_1`] and [`Authenticator::retransmit`] return
//! EAPOL PDUs to send, [`Authenticator::receive`] consumes a received EAPOL PDU and returns
//! message 3 or, after message 4, the keys to install. Timers and retry limits are the
//! caller's; every transmitted message (retransmissions too) takes a fresh Key Replay
//! Counter, and a response is accepted only if it echoes the counter of a message sent in
//! the current step, as 12.7.2 requires.
//!
//! Message contents:
//! * 1/4: Pairwise, Ack; Key Length = TK length; ANonce; optional PMKID KDE (for OWE the
//!   OWE PMKID, as hostapd sends from its PMKSA entry); MLO: MAC address KDE with the AP MLD
//!   address.
//! * 2/4 (checked): Pairwise, MIC; MIC under the PTK derived from the SNonce; the RSNE
//!   (and RSNXE) byte-identical to the (Re)Association Request's. MLO: a MAC address KDE with
//!   the non-AP MLD address and one MLO Link KDE (link ID + STA link address, no RSNE) for
//!   every requested link except the association link (rejected links may be listed).
//! * 3/4: Pairwise, Install, Ack, MIC, Secure, Encrypted Key Data; ANonce; Key RSC = PN of
//!   the GTK. Non-MLO Key Data: AP RSNE [+ RSNXE], GTK KDE, IGTK KDE [, BIGTK KDE]. MLO Key
//!   Data (as hostapd: no top-level RSNE): MAC address KDE with the AP MLD address, one MLO
//!   Link KDE per requested link (accepted or rejected; wpa_supplicant requires both) with that link's RSNE [+ RSNXE] (which must equal the RSNE/RSNXE the
//!   affiliated AP advertises in its Beacons), then MLO GTK, MLO IGTK [and MLO BIGTK] KDEs
//!   per link. Key Data is padded and AES-key-wrapped under the KEK.
//! * 4/4 (checked): Pairwise, MIC, Secure; MLO: MAC address KDE with the non-AP MLD address.

use crate::eapol::{self, EapolKey, KeyInfo, EAPOL_VERSION};
use crate::error::CryptoError;
use crate::group_key;
use crate::kde::{parse_key_data, Kde, KeyDataItem, KeyWithPn, ELEMENT_RSN, ELEMENT_RSNX};
use crate::keys::{Akm, Cipher, GroupKeys, MacAddr, Ptk};
use crate::keywrap;
use crate::rng::KeyRng;

/// Why a received EAPOL-Key frame was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("malformed EAPOL-Key frame: {0}")]
    Malformed(#[from] CryptoError),
    #[error("unexpected EAPOL-Key message in state {state:?} (key info {key_info:#06x})")]
    Unexpected { state: State, key_info: u16 },
    #[error("replay counter {got} does not match a message we sent")]
    ReplayCounter { got: u64 },
    #[error("MIC check failed")]
    Mic,
    #[error("RSNE in message 2 differs from the (Re)Association Request's")]
    RsneMismatch,
    #[error("RSNXE in message 2 differs from the (Re)Association Request's")]
    RsnxeMismatch,
    #[error("MLD MAC address KDE missing or not the non-AP MLD address")]
    MldAddress,
    #[error("MLO Link KDEs do not match the links of the association: {0}")]
    MloLinks(&'static str),
}

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Message 1 not sent yet.
    Idle,
    /// Message 1 sent, waiting for message 2.
    WaitMsg2,
    /// Message 3 sent, waiting for message 4.
    WaitMsg4,
    /// Message 4 accepted; keys installed.
    Done,
}

/// One affiliated AP of the AP MLD as the handshake needs to know it.
#[derive(Debug, Clone)]
pub struct MloLink {
    pub link_id: u8,
    /// The affiliated AP's link MAC address.
    pub ap_addr: MacAddr,
    /// The non-AP STA's link MAC address on this link (from the Basic ML element).
    pub sta_addr: MacAddr,
    /// The RSNE the affiliated AP advertises (whole element).
    pub rsne: Vec<u8>,
    pub rsnxe: Option<Vec<u8>>,
    /// This link's GTK/IGTK/BIGTK (each affiliated AP has its own).
    pub group: GroupKeys,
}

/// A link the non-AP MLD requested but the AP MLD did not accept. wpa_supplicant still
/// lists it in message 2 and requires its MLO Link KDE (with RSNE) in message 3.
#[derive(Debug, Clone)]
pub struct MloRejectedLink {
    pub link_id: u8,
    pub ap_addr: MacAddr,
    pub rsne: Vec<u8>,
    pub rsnxe: Option<Vec<u8>>,
}

/// Multi-link setup of the association.
#[derive(Debug, Clone)]
pub struct MloSetup {
    /// The link the (Re)Association Request was received on.
    pub assoc_link_id: u8,
    /// Every accepted link, the association link included.
    pub links: Vec<MloLink>,
    /// Requested links that were not accepted (MLO Link KDE only, no group keys).
    pub rejected_links: Vec<MloRejectedLink>,
}

/// Link ID, AP link address, RSNE and RSNXE of one MLO Link KDE in message 3.
type LinkKdeParts<'a> = (u8, &'a MacAddr, &'a [u8], Option<&'a [u8]>);

/// Everything the authenticator needs for one handshake.
#[derive(Debug, Clone)]
pub struct AuthenticatorConfig {
    pub akm: Akm,
    pub cipher: Cipher,
    /// Authenticator address: the BSSID, or the AP MLD MAC address for MLO.
    pub aa: MacAddr,
    /// Supplicant address: the STA address, or the non-AP MLD MAC address for MLO.
    pub spa: MacAddr,
    pub pmk: Vec<u8>,
    /// Sent in a PMKID KDE in message 1 when set (OWE: Truncate-128(SHA-256(C | A))).
    pub pmkid: Option<[u8; 16]>,
    /// The STA's RSNE / RSNXE from its (Re)Association Request (whole elements).
    pub sta_rsne: Vec<u8>,
    pub sta_rsnxe: Option<Vec<u8>>,
    /// Our RSNE / RSNXE (non-MLO message 3).
    pub ap_rsne: Vec<u8>,
    pub ap_rsnxe: Option<Vec<u8>>,
    /// Group keys for a non-MLO association (ignored with `mlo`).
    pub group: GroupKeys,
    pub mlo: Option<MloSetup>,
}

/// The keys to install once message 4 is accepted.
#[derive(Debug, Clone)]
pub struct InstalledKeys {
    pub ptk: Ptk,
    /// Key ID of the pairwise key (always 0: no Extended Key ID).
    pub key_id: u8,
}

/// What [`Authenticator::receive`] wants done.
#[derive(Debug)]
pub enum Step {
    /// Send this EAPOL PDU (message 3).
    Send(Vec<u8>),
    /// Handshake complete: install these keys (TK for the STA, group keys already in use).
    Complete(InstalledKeys),
    /// A duplicate of a message already answered (e.g. message 2 retransmitted by the STA
    /// after message 3 crossed it): nothing to do.
    Duplicate,
    /// Group message 2 answered the pending group rekey: the station has the new keys.
    GroupComplete,
}

/// Authenticator 4-way handshake state machine.
#[derive(Debug)]
pub struct Authenticator {
    cfg: AuthenticatorConfig,
    state: State,
    anonce: [u8; 32],
    /// Replay counter of the next message we send.
    next_replay: u64,
    /// Counters of the messages sent in the current step (retransmissions included).
    outstanding: Vec<u64>,
    ptk: Option<Ptk>,
    last_msg3_replay: Option<u64>,
    /// The group rekey in progress.
    group_rekey: Option<PendingGroupRekey>,
}

/// A group key handshake waiting for group message 2.
#[derive(Debug)]
struct PendingGroupRekey {
    /// (link ID, new keys) of the station's links (one entry without MLO).
    links: Vec<(u8, GroupKeys)>,
    /// Replay counters of the group messages 1 sent (retransmissions included).
    sent: Vec<u64>,
}

impl Authenticator {
    /// Draws the ANonce from `rng`. `initial_replay_counter` lets a re-key continue the
    /// counter of an earlier handshake with the same STA (0 for a new association).
    pub fn new(
        cfg: AuthenticatorConfig,
        rng: &mut dyn KeyRng,
        initial_replay_counter: u64,
    ) -> Self {
        let mut anonce = [0u8; 32];
        rng.fill(&mut anonce);
        Authenticator {
            cfg,
            state: State::Idle,
            anonce,
            next_replay: initial_replay_counter,
            outstanding: Vec::new(),
            ptk: None,
            last_msg3_replay: None,
            group_rekey: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn anonce(&self) -> &[u8; 32] {
        &self.anonce
    }

    /// The replay counter the next message will carry.
    pub fn next_replay_counter(&self) -> u64 {
        self.next_replay
    }

    fn take_replay(&mut self) -> u64 {
        let r = self.next_replay;
        self.next_replay += 1;
        self.outstanding.push(r);
        r
    }

    /// Builds message 1 and waits for message 2.
    pub fn message_1(&mut self) -> Result<Vec<u8>, HandshakeError> {
        self.state = State::WaitMsg2;
        self.outstanding.clear();
        self.build_msg1()
    }

    /// The current message again with a new replay counter (after the caller's timeout).
    /// Returns `None` when nothing is outstanding.
    pub fn retransmit(&mut self) -> Option<Vec<u8>> {
        match self.state {
            State::WaitMsg2 => self.build_msg1().ok(),
            State::WaitMsg4 => self.build_msg3().ok(),
            State::Idle | State::Done => None,
        }
    }

    fn build_msg1(&mut self) -> Result<Vec<u8>, HandshakeError> {
        let replay = self.take_replay();
        let mut key_data = Vec::new();
        if let Some(pmkid) = self.cfg.pmkid {
            Kde::Pmkid(pmkid).emit(&mut key_data)?;
        }
        if self.cfg.mlo.is_some() {
            // As hostapd's PTKSTART: wpa_supplicant checks the AP MLD address here.
            Kde::MacAddr(self.cfg.aa).emit(&mut key_data)?;
        }
        let frame = EapolKey {
            version: EAPOL_VERSION,
            key_info: KeyInfo(
                self.cfg.akm.key_descriptor_version() | KeyInfo::PAIRWISE | KeyInfo::ACK,
            ),
            key_length: self.tk_len(),
            replay_counter: replay,
            nonce: self.anonce,
            iv: [0; 16],
            rsc: 0,
            mic: &[],
            key_data: &key_data,
        };
        Ok(frame.emit(self.cfg.akm.mic_len()))
    }

    fn tk_len(&self) -> u16 {
        u16::try_from(self.cfg.cipher.tk_len()).expect("small")
    }

    /// Starts the group key handshake after the 4-way handshake completed: group message 1
    /// with the new keys. `links` holds (link ID, keys) per link of the AP MLD (only the
    /// station's links go out) or, without MLO, one entry.
    pub fn group_message_1(
        &mut self,
        links: &[(u8, GroupKeys)],
    ) -> Result<Vec<u8>, HandshakeError> {
        if self.state != State::Done {
            return Err(HandshakeError::Unexpected {
                state: self.state,
                key_info: 0,
            });
        }
        let mine: Vec<(u8, GroupKeys)> = match &self.cfg.mlo {
            None => links.iter().take(1).cloned().collect(),
            Some(mlo) => links
                .iter()
                .filter(|(id, _)| mlo.links.iter().any(|l| l.link_id == *id))
                .cloned()
                .collect(),
        };
        self.group_rekey = Some(PendingGroupRekey {
            links: mine,
            sent: Vec::new(),
        });
        self.build_group_msg1()
    }

    /// Group message 1 again with a new replay counter; `None` without a rekey pending.
    pub fn retransmit_group(&mut self) -> Option<Vec<u8>> {
        self.group_rekey.as_ref()?;
        self.build_group_msg1().ok()
    }

    /// Whether a group rekey waits for group message 2.
    pub fn group_rekey_pending(&self) -> bool {
        self.group_rekey.is_some()
    }

    fn build_group_msg1(&mut self) -> Result<Vec<u8>, HandshakeError> {
        let ptk = self.ptk.clone().ok_or(HandshakeError::Unexpected {
            state: self.state,
            key_info: 0,
        })?;
        let replay = self.next_replay;
        let Some(PendingGroupRekey { links, sent }) = self.group_rekey.as_mut() else {
            return Err(HandshakeError::Unexpected {
                state: self.state,
                key_info: 0,
            });
        };
        let pdu = group_key::group_msg1(self.cfg.akm, &ptk, replay, self.cfg.mlo.is_some(), links)?;
        sent.push(replay);
        self.next_replay += 1;
        Ok(pdu)
    }

    fn on_group_msg2(&mut self, frame: &EapolKey<'_>, pdu: &[u8]) -> Result<Step, HandshakeError> {
        let unexpected = HandshakeError::Unexpected {
            state: self.state,
            key_info: frame.key_info.0,
        };
        if self.state != State::Done || !frame.key_info.has(group_key::GROUP_MSG2_BITS) {
            return Err(unexpected);
        }
        let Some(PendingGroupRekey { sent, .. }) = &self.group_rekey else {
            return Err(unexpected);
        };
        if !sent.contains(&frame.replay_counter) {
            return Err(HandshakeError::ReplayCounter {
                got: frame.replay_counter,
            });
        }
        let ptk = self.ptk.as_ref().ok_or(unexpected)?;
        let akm = self.cfg.akm;
        eapol::verify_mic(akm.mic_alg(), ptk.kck(), pdu, akm.mic_len())
            .map_err(|_| HandshakeError::Mic)?;
        self.group_rekey = None;
        Ok(Step::GroupComplete)
    }

    /// Processes a received EAPOL PDU (EAPOL header first; Ethernet padding allowed).
    pub fn receive(&mut self, pdu: &[u8]) -> Result<Step, HandshakeError> {
        let mic_len = self.cfg.akm.mic_len();
        let frame = EapolKey::parse(pdu, mic_len)?;
        let pdu = &pdu[..4 + usize::from(u16::from_be_bytes([pdu[2], pdu[3]]))];
        let info = frame.key_info;
        let unexpected = HandshakeError::Unexpected {
            state: self.state,
            key_info: info.0,
        };
        if group_key::is_group_message(info)
            && !info.has(KeyInfo::ACK)
            && info.version() == self.cfg.akm.key_descriptor_version()
        {
            return self.on_group_msg2(&frame, pdu);
        }
        if !info.has(KeyInfo::PAIRWISE | KeyInfo::MIC)
            || info.has(KeyInfo::ACK)
            || info.has(KeyInfo::REQUEST)
            || info.version() != self.cfg.akm.key_descriptor_version()
        {
            return Err(unexpected);
        }
        let secure = info.has(KeyInfo::SECURE);
        match (self.state, secure) {
            (State::WaitMsg2, false) => self.on_msg2(&frame, pdu),
            (State::WaitMsg4, true) => self.on_msg4(&frame, pdu),
            (State::WaitMsg4, false) if self.is_answered_msg2(&frame, pdu) => Ok(Step::Duplicate),
            _ => Err(unexpected),
        }
    }

    /// A message 2 for a message 1 we already answered with message 3.
    fn is_answered_msg2(&self, frame: &EapolKey<'_>, pdu: &[u8]) -> bool {
        let Some(ptk) = &self.ptk else { return false };
        frame.replay_counter < self.last_msg3_replay.unwrap_or(0)
            && eapol::verify_mic(
                self.cfg.akm.mic_alg(),
                ptk.kck(),
                pdu,
                self.cfg.akm.mic_len(),
            )
            .is_ok()
    }

    fn check_replay(&self, got: u64) -> Result<(), HandshakeError> {
        if self.outstanding.contains(&got) {
            Ok(())
        } else {
            Err(HandshakeError::ReplayCounter { got })
        }
    }

    fn on_msg2(&mut self, frame: &EapolKey<'_>, pdu: &[u8]) -> Result<Step, HandshakeError> {
        self.check_replay(frame.replay_counter)?;
        let akm = self.cfg.akm;
        let ptk = Ptk::derive(
            akm,
            self.cfg.cipher,
            &self.cfg.pmk,
            &self.cfg.aa,
            &self.cfg.spa,
            &self.anonce,
            &frame.nonce,
        )?;
        eapol::verify_mic(akm.mic_alg(), ptk.kck(), pdu, akm.mic_len())
            .map_err(|_| HandshakeError::Mic)?;
        self.check_msg2_key_data(frame.key_data)?;
        self.ptk = Some(ptk);
        self.state = State::WaitMsg4;
        self.outstanding.clear();
        Ok(Step::Send(self.build_msg3()?))
    }

    fn check_msg2_key_data(&self, key_data: &[u8]) -> Result<(), HandshakeError> {
        let mut rsne = None;
        let mut rsnxe = None;
        let mut mld_addr = None;
        let mut links: Vec<(u8, MacAddr, bool)> = Vec::new();
        for item in parse_key_data(key_data) {
            match item? {
                KeyDataItem::Element { id, bytes } if id == ELEMENT_RSN => rsne = Some(bytes),
                KeyDataItem::Element { id, bytes } if id == ELEMENT_RSNX => rsnxe = Some(bytes),
                KeyDataItem::Kde(Kde::MacAddr(m)) => mld_addr = Some(m),
                KeyDataItem::Kde(Kde::MloLink {
                    link_id,
                    mac,
                    rsne,
                    rsnxe,
                }) => links.push((link_id, mac, rsne.is_some() || rsnxe.is_some())),
                _ => {}
            }
        }
        if rsne != Some(self.cfg.sta_rsne.as_slice()) {
            return Err(HandshakeError::RsneMismatch);
        }
        if rsnxe != self.cfg.sta_rsnxe.as_deref() {
            return Err(HandshakeError::RsnxeMismatch);
        }
        let Some(mlo) = &self.cfg.mlo else {
            return Ok(());
        };
        if mld_addr != Some(self.cfg.spa) {
            return Err(HandshakeError::MldAddress);
        }
        let mut seen = Vec::with_capacity(links.len());
        for (link_id, mac, has_elements) in links {
            if has_elements {
                return Err(HandshakeError::MloLinks("RSNE/RSNXE in message 2"));
            }
            if seen.contains(&link_id) {
                return Err(HandshakeError::MloLinks("duplicate link ID"));
            }
            seen.push(link_id);
            if mlo.rejected_links.iter().any(|l| l.link_id == link_id) {
                continue;
            }
            let link = mlo
                .links
                .iter()
                .find(|l| l.link_id == link_id && link_id != mlo.assoc_link_id)
                .ok_or(HandshakeError::MloLinks("unknown link ID"))?;
            if link.sta_addr != mac {
                return Err(HandshakeError::MloLinks("STA link address"));
            }
        }
        let all_listed = mlo
            .links
            .iter()
            .filter(|l| l.link_id != mlo.assoc_link_id)
            .all(|l| seen.contains(&l.link_id));
        if !all_listed {
            return Err(HandshakeError::MloLinks("accepted link missing"));
        }
        Ok(())
    }

    fn msg3_key_data(&self) -> Result<Vec<u8>, CryptoError> {
        let mut kd = Vec::with_capacity(512);
        match &self.cfg.mlo {
            None => {
                kd.extend_from_slice(&self.cfg.ap_rsne);
                if let Some(x) = &self.cfg.ap_rsnxe {
                    kd.extend_from_slice(x);
                }
                let g = &self.cfg.group;
                Kde::Gtk {
                    key_id: g.gtk.key_id,
                    tx: false,
                    gtk: &g.gtk.key,
                }
                .emit(&mut kd)?;
                Kde::Igtk(KeyWithPn {
                    key_id: g.igtk.key_id.into(),
                    pn: g.igtk.pn,
                    key: &g.igtk.key,
                })
                .emit(&mut kd)?;
                if let Some(b) = &g.bigtk {
                    Kde::Bigtk(KeyWithPn {
                        key_id: b.key_id.into(),
                        pn: b.pn,
                        key: &b.key,
                    })
                    .emit(&mut kd)?;
                }
            }
            Some(mlo) => {
                Kde::MacAddr(self.cfg.aa).emit(&mut kd)?;
                let mut link_kdes: Vec<LinkKdeParts<'_>> = mlo
                    .links
                    .iter()
                    .map(|l| (l.link_id, &l.ap_addr, &l.rsne[..], l.rsnxe.as_deref()))
                    .chain(
                        mlo.rejected_links
                            .iter()
                            .map(|l| (l.link_id, &l.ap_addr, &l.rsne[..], l.rsnxe.as_deref())),
                    )
                    .collect();
                link_kdes.sort_by_key(|k| k.0);
                for (link_id, ap_addr, rsne, rsnxe) in link_kdes {
                    Kde::MloLink {
                        link_id,
                        mac: *ap_addr,
                        rsne: Some(rsne),
                        rsnxe,
                    }
                    .emit(&mut kd)?;
                }
                for l in &mlo.links {
                    Kde::MloGtk {
                        link_id: l.link_id,
                        key_id: l.group.gtk.key_id,
                        tx: false,
                        pn: l.group.gtk.pn,
                        gtk: &l.group.gtk.key,
                    }
                    .emit(&mut kd)?;
                }
                for l in &mlo.links {
                    Kde::MloIgtk {
                        link_id: l.link_id,
                        key: KeyWithPn {
                            key_id: l.group.igtk.key_id.into(),
                            pn: l.group.igtk.pn,
                            key: &l.group.igtk.key,
                        },
                    }
                    .emit(&mut kd)?;
                }
                for l in &mlo.links {
                    if let Some(b) = &l.group.bigtk {
                        Kde::MloBigtk {
                            link_id: l.link_id,
                            key: KeyWithPn {
                                key_id: b.key_id.into(),
                                pn: b.pn,
                                key: &b.key,
                            },
                        }
                        .emit(&mut kd)?;
                    }
                }
            }
        }
        Ok(kd)
    }

    /// The GTK PN for the Key RSC field: the association link's GTK for MLO.
    fn msg3_rsc(&self) -> u64 {
        match &self.cfg.mlo {
            None => self.cfg.group.gtk.pn,
            Some(mlo) => mlo
                .links
                .iter()
                .find(|l| l.link_id == mlo.assoc_link_id)
                .map_or(0, |l| l.group.gtk.pn),
        }
    }

    fn build_msg3(&mut self) -> Result<Vec<u8>, HandshakeError> {
        let ptk = self.ptk.clone().ok_or(HandshakeError::Unexpected {
            state: self.state,
            key_info: 0,
        })?;
        let akm = self.cfg.akm;
        let mut plain = self.msg3_key_data()?;
        keywrap::pad_key_data(&mut plain);
        let wrapped = keywrap::wrap(ptk.kek(), &plain)?;
        let replay = self.take_replay();
        self.last_msg3_replay = Some(replay);
        let frame = EapolKey {
            version: EAPOL_VERSION,
            key_info: KeyInfo(
                akm.key_descriptor_version()
                    | KeyInfo::PAIRWISE
                    | KeyInfo::INSTALL
                    | KeyInfo::ACK
                    | KeyInfo::MIC
                    | KeyInfo::SECURE
                    | KeyInfo::ENCRYPTED_KEY_DATA,
            ),
            key_length: self.tk_len(),
            replay_counter: replay,
            nonce: self.anonce,
            iv: [0; 16],
            rsc: self.msg3_rsc(),
            mic: &[],
            key_data: &wrapped,
        };
        let mut pdu = frame.emit(akm.mic_len());
        eapol::write_mic(akm.mic_alg(), ptk.kck(), &mut pdu, akm.mic_len())?;
        Ok(pdu)
    }

    fn on_msg4(&mut self, frame: &EapolKey<'_>, pdu: &[u8]) -> Result<Step, HandshakeError> {
        self.check_replay(frame.replay_counter)?;
        let akm = self.cfg.akm;
        let ptk = self.ptk.clone().ok_or(HandshakeError::Unexpected {
            state: self.state,
            key_info: frame.key_info.0,
        })?;
        eapol::verify_mic(akm.mic_alg(), ptk.kck(), pdu, akm.mic_len())
            .map_err(|_| HandshakeError::Mic)?;
        if self.cfg.mlo.is_some() {
            let mut mld_addr = None;
            for item in parse_key_data(frame.key_data) {
                if let KeyDataItem::Kde(Kde::MacAddr(m)) = item? {
                    mld_addr = Some(m);
                }
            }
            if mld_addr != Some(self.cfg.spa) {
                return Err(HandshakeError::MldAddress);
            }
        }
        self.state = State::Done;
        self.outstanding.clear();
        Ok(Step::Complete(InstalledKeys { ptk, key_id: 0 }))
    }
}
