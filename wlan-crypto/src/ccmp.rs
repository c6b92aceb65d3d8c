//! CCMP-128 (IEEE 802.11-2020 12.5.3) for individually and group addressed data frames and
//! for robust management frames (12.5.3.3.5: Management bit of the nonce flags).
//!
//! The AAD (12.5.3.3.3) is FC with the subtype bits 4-6 (data frames only), Retry, Power
//! Management and More Data masked to 0, Protected set, and Order masked in QoS Data frames;
//! A1, A2, A3; Sequence Control with the sequence number masked (fragment number kept); A4
//! when present; QoS Control with only the TID (and the A-MSDU Present bit when both peers
//! use SPP A-MSDUs) kept. The nonce (12.5.3.3.4) is flags (priority = TID, bit 4 =
//! management) || A2 || PN5..PN0.
//!
//! Multi-link operation (802.11be-2024 12.5.2.3.3): for individually addressed *Data* frames
//! between an AP MLD and an associated non-AP MLD, A1/A2/A3 in the AAD and A2 in the nonce
//! are the MLD MAC addresses, not the link addresses carried over the air; for every other
//! frame (management frames, group addressed data) they are the over-the-air link
//! addresses. Pass the MLD addresses as [`AadAddrs`] (built with [`AadAddrs::mld_data`]);
//! the header bytes themselves are left as they are, so a frame can be encrypted once and
//! then have its header translated for whichever link carries it.
//!
//! Note for robust management frames between MLDs: mac80211 computed their AAD/nonce from
//! the (MLD-translated) skb header until a late-2025 fix made it use link addresses as the
//! standard says; a receiver that must accept older guests can retry with
//! [`AadAddrs::mld_data`]'s mapping.

use aes::Aes128;
use ccm::aead::{AeadInPlace, KeyInit};
use ccm::consts::{U13, U8};
use ccm::Ccm;

use crate::error::{need, CryptoError, Result};
use crate::keys::MacAddr;

type Aes128Ccm8 = Ccm<Aes128, U8, U13>;

pub const CCMP_HDR_LEN: usize = 8;
pub const CCMP_MIC_LEN: usize = 8;
/// Largest packet number (48 bits).
pub const PN_MAX: u64 = (1 << 48) - 1;

const FC_TYPE_MASK: u8 = 0x0c;
const FC_TYPE_MGMT: u8 = 0x00;
const FC_TYPE_DATA: u8 = 0x08;
const FC_QOS_SUBTYPE_BIT: u8 = 0x80;
const FC1_TO_FROM_DS: u8 = 0x03;
const FC1_RETRY: u8 = 0x08;
const FC1_PWR_MGT: u8 = 0x10;
const FC1_MORE_DATA: u8 = 0x20;
const FC1_PROTECTED: u8 = 0x40;
const FC1_ORDER: u8 = 0x80;

/// Addresses to use in the AAD and nonce instead of the ones in the header (MLO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AadAddrs {
    pub a1: MacAddr,
    pub a2: MacAddr,
    /// Replaces A3 when set (A3 = BSSID = AP MLD address between MLDs).
    pub a3: Option<MacAddr>,
}

impl AadAddrs {
    /// The AAD addresses of an individually addressed data frame between MLDs: each of A1,
    /// A2, A3 that is one of the given link addresses is replaced by the MLD address of the
    /// same device (A3 stays as it is when it holds an SA/DA beyond the AP). `None` when the
    /// header is too short.
    pub fn mld_data(
        header: &[u8],
        ap_link: &MacAddr,
        ap_mld: &MacAddr,
        sta_link: &MacAddr,
        sta_mld: &MacAddr,
    ) -> Option<AadAddrs> {
        let addr = |at: usize| -> Option<MacAddr> { header.get(at..at + 6)?.try_into().ok() };
        let map = |a: MacAddr| {
            if &a == ap_link {
                *ap_mld
            } else if &a == sta_link {
                *sta_mld
            } else {
                a
            }
        };
        Some(AadAddrs {
            a1: map(addr(4)?),
            a2: map(addr(10)?),
            a3: Some(map(addr(16)?)),
        })
    }
}

/// The parts of a MAC header that CCMP looks at.
#[derive(Debug, Clone, Copy)]
struct HeaderInfo {
    len: usize,
    is_mgmt: bool,
    qos_at: Option<usize>,
    a4: bool,
}

/// Length of the MAC header of a data or management frame and where its fields are.
fn header_info(frame: &[u8]) -> Result<HeaderInfo> {
    need("802.11 header", frame, 24)?;
    let ftype = frame[0] & FC_TYPE_MASK;
    let is_mgmt = ftype == FC_TYPE_MGMT;
    if !is_mgmt && ftype != FC_TYPE_DATA {
        return Err(CryptoError::Unsupported {
            what: "frame type for CCMP",
            value: ftype.into(),
        });
    }
    let mut len = 24;
    let a4 = !is_mgmt && frame[1] & FC1_TO_FROM_DS == FC1_TO_FROM_DS;
    if a4 {
        len += 6;
    }
    let qos = !is_mgmt && frame[0] & FC_QOS_SUBTYPE_BIT != 0;
    let qos_at = qos.then_some(len);
    if qos {
        len += 2;
    }
    // +HTC: the HT Control field follows in QoS Data and management frames with Order set.
    if frame[1] & FC1_ORDER != 0 && (qos || is_mgmt) {
        len += 4;
    }
    need("802.11 header", frame, len)?;
    Ok(HeaderInfo {
        len,
        is_mgmt,
        qos_at,
        a4,
    })
}

/// Builds AAD (into `aad`, returning its length) and nonce.
fn aad_and_nonce(
    frame: &[u8],
    h: &HeaderInfo,
    pn: u64,
    addrs: Option<&AadAddrs>,
    spp_amsdu: bool,
    aad: &mut [u8; 30],
) -> (usize, [u8; 13]) {
    let mut fc0 = frame[0];
    if !h.is_mgmt {
        fc0 &= !0x70;
    }
    let mut fc1 = frame[1] & !(FC1_RETRY | FC1_PWR_MGT | FC1_MORE_DATA);
    fc1 |= FC1_PROTECTED;
    if h.qos_at.is_some() {
        fc1 &= !FC1_ORDER;
    }
    aad[0] = fc0;
    aad[1] = fc1;
    aad[2..20].copy_from_slice(&frame[4..22]);
    if let Some(a) = addrs {
        aad[2..8].copy_from_slice(&a.a1);
        aad[8..14].copy_from_slice(&a.a2);
        if let Some(a3) = a.a3 {
            aad[14..20].copy_from_slice(&a3);
        }
    }
    aad[20] = frame[22] & 0x0f;
    aad[21] = 0;
    let mut len = 22;
    if h.a4 {
        aad[22..28].copy_from_slice(&frame[24..30]);
        len += 6;
    }
    let mut priority = 0;
    if let Some(q) = h.qos_at {
        let keep = if spp_amsdu { 0x8f } else { 0x0f };
        aad[len] = frame[q] & keep;
        aad[len + 1] = 0;
        len += 2;
        priority = frame[q] & 0x0f;
    }
    let mut nonce = [0u8; 13];
    nonce[0] = priority | if h.is_mgmt { 0x10 } else { 0 };
    nonce[1..7].copy_from_slice(&aad[8..14]);
    nonce[7..13].copy_from_slice(&pn.to_be_bytes()[2..8]);
    (len, nonce)
}

/// Parses the CCMP header at `at`: (PN, key ID).
fn read_ccmp_header(hdr: &[u8]) -> Result<(u64, u8)> {
    if hdr[3] & 0x20 == 0 {
        return Err(CryptoError::Malformed("CCMP header without ExtIV"));
    }
    let pn = u64::from_le_bytes([hdr[0], hdr[1], hdr[4], hdr[5], hdr[6], hdr[7], 0, 0]);
    Ok((pn, hdr[3] >> 6))
}

/// A CCMP-128 temporal key.
#[derive(Clone)]
pub struct CcmpKey {
    cipher: Aes128Ccm8,
    /// Both peers set SPP A-MSDU Capable (then the A-MSDU Present bit is authenticated).
    pub spp_amsdu: bool,
}

impl core::fmt::Debug for CcmpKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CcmpKey").finish_non_exhaustive()
    }
}

/// What decryption found in the CCMP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CcmpRx {
    pub pn: u64,
    pub key_id: u8,
    /// Replay counter slot: TID for QoS Data, 16 for management, 0 for non-QoS data.
    pub replay_slot: usize,
}

impl CcmpKey {
    pub fn new(tk: &[u8]) -> Result<CcmpKey> {
        let cipher =
            Aes128Ccm8::new_from_slice(tk).map_err(|_| CryptoError::InvalidKeyLength(tk.len()))?;
        Ok(CcmpKey {
            cipher,
            spp_amsdu: false,
        })
    }

    /// Protects the plaintext MPDU in `frame` (header + body, no FCS) in place: sets the
    /// Protected bit, inserts the CCMP header after the MAC header and appends the MIC.
    /// Allocates only if `frame` lacks 16 bytes of spare capacity.
    pub fn encrypt(
        &self,
        frame: &mut Vec<u8>,
        pn: u64,
        key_id: u8,
        addrs: Option<&AadAddrs>,
    ) -> Result<()> {
        if pn > PN_MAX {
            return Err(CryptoError::PnExhausted);
        }
        let h = header_info(frame)?;
        frame[1] |= FC1_PROTECTED;
        let mut aad = [0u8; 30];
        let (aad_len, nonce) = aad_and_nonce(frame, &h, pn, addrs, self.spp_amsdu, &mut aad);
        let p = pn.to_le_bytes();
        let ccmp_hdr = [p[0], p[1], 0, 0x20 | (key_id << 6), p[2], p[3], p[4], p[5]];
        frame.splice(h.len..h.len, ccmp_hdr);
        let body_at = h.len + CCMP_HDR_LEN;
        let tag = self
            .cipher
            .encrypt_in_place_detached((&nonce).into(), &aad[..aad_len], &mut frame[body_at..])
            .map_err(|_| CryptoError::Malformed("CCMP payload length"))?;
        frame.extend_from_slice(&tag);
        Ok(())
    }

    /// Verifies and decrypts the protected MPDU in `frame` in place, leaving the plaintext
    /// MPDU with the Protected bit cleared. Replay checking is the caller's, with
    /// [`ReplayCounters`] and the returned PN, after this succeeded.
    pub fn decrypt(&self, frame: &mut Vec<u8>, addrs: Option<&AadAddrs>) -> Result<CcmpRx> {
        let h = header_info(frame)?;
        if frame[1] & FC1_PROTECTED == 0 {
            return Err(CryptoError::NotProtected);
        }
        need("CCMP MPDU", frame, h.len + CCMP_HDR_LEN + CCMP_MIC_LEN)?;
        let (pn, key_id) = read_ccmp_header(&frame[h.len..h.len + CCMP_HDR_LEN])?;
        let mut aad = [0u8; 30];
        let (aad_len, nonce) = aad_and_nonce(frame, &h, pn, addrs, self.spp_amsdu, &mut aad);
        let mic_at = frame.len() - CCMP_MIC_LEN;
        let mut tag = [0u8; CCMP_MIC_LEN];
        tag.copy_from_slice(&frame[mic_at..]);
        let body_at = h.len + CCMP_HDR_LEN;
        self.cipher
            .decrypt_in_place_detached(
                (&nonce).into(),
                &aad[..aad_len],
                &mut frame[body_at..mic_at],
                (&tag).into(),
            )
            .map_err(|_| CryptoError::MicMismatch)?;
        frame.truncate(mic_at);
        frame.drain(h.len..body_at);
        frame[1] &= !FC1_PROTECTED;
        let replay_slot = match (h.is_mgmt, h.qos_at) {
            (true, _) => MGMT_SLOT,
            (false, Some(q)) => usize::from(frame[q] & 0x0f),
            (false, None) => 0,
        };
        Ok(CcmpRx {
            pn,
            key_id,
            replay_slot,
        })
    }
}

/// Replay counter slot of robust management frames.
pub const MGMT_SLOT: usize = 16;

/// Per-TID (0-15) and management receive replay counters of one PTKSA or GTKSA
/// (12.5.3.4.4): a PN is accepted only if greater than the last accepted one in its slot.
#[derive(Debug, Clone, Default)]
pub struct ReplayCounters {
    last: [Option<u64>; 17],
}

impl ReplayCounters {
    /// Starts every slot at `rsc` (the Key RSC / KDE PN: the next PN the peer will use),
    /// so that PN `rsc` itself is accepted.
    pub fn starting_at(rsc: u64) -> Self {
        ReplayCounters {
            last: [rsc.checked_sub(1); 17],
        }
    }

    /// Accepts `rx.pn` and records it, or reports a replay.
    pub fn check_and_update(&mut self, rx: &CcmpRx) -> Result<()> {
        let slot = &mut self.last[rx.replay_slot.min(MGMT_SLOT)];
        if let Some(last) = *slot {
            if rx.pn <= last {
                return Err(CryptoError::Replay { pn: rx.pn, last });
            }
        }
        *slot = Some(rx.pn);
        Ok(())
    }
}
