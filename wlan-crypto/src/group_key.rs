//! The group key handshake (IEEE 802.11-2020 12.7.7, with the MLO rules of IEEE 802.11be
//! 12.7.7): how the authenticator hands new group keys to a station that already has a PTK.
//!
//! Message contents, as hostapd's `wpa_auth.c` (REKEYNEGOTIATING) sends them and
//! wpa_supplicant's `wpa_supplicant_process_1_of_2` / `..._mlo_1_of_2` check them:
//! * group 1/2: Secure, MIC, Ack, Encrypted Key Data (no Pairwise, no Install); Key Length 0;
//!   a Key Replay Counter above every earlier one of the PTKSA. Non-MLO Key Data: GTK KDE,
//!   IGTK KDE [, BIGTK KDE], Key RSC = the GTK's receive start PN. MLO Key Data: MLO GTK,
//!   MLO IGTK [and MLO BIGTK] KDEs for every link of the station (each KDE carries its own
//!   PN; Key RSC 0). Key Data padded and AES-key-wrapped under the KEK; MIC under the KCK.
//! * group 2/2: Secure, MIC (no Pairwise, no Ack); Key Length 0; the replay counter of the
//!   message 1 it answers; empty Key Data; MIC under the KCK.

use crate::eapol::{self, EapolKey, KeyInfo, EAPOL_VERSION};
use crate::error::CryptoError;
use crate::kde::{Kde, KeyWithPn};
use crate::keys::{Akm, GroupKeys, Ptk};
use crate::keywrap;

/// Key Information bits of group message 1 (besides the descriptor version).
pub const GROUP_MSG1_BITS: u16 =
    KeyInfo::SECURE | KeyInfo::MIC | KeyInfo::ACK | KeyInfo::ENCRYPTED_KEY_DATA;
/// Key Information bits of group message 2 (besides the descriptor version).
pub const GROUP_MSG2_BITS: u16 = KeyInfo::SECURE | KeyInfo::MIC;

/// Whether `info` is a group key handshake message (no Pairwise bit, no Request).
pub fn is_group_message(info: KeyInfo) -> bool {
    !info.has(KeyInfo::PAIRWISE) && !info.has(KeyInfo::REQUEST)
}

/// The plaintext Key Data of group message 1: `links` holds (link ID, keys) for MLO, or one
/// entry (link ID ignored) without MLO. Each key's `pn` is the receive start sent.
pub fn group_msg1_key_data(mlo: bool, links: &[(u8, GroupKeys)]) -> Result<Vec<u8>, CryptoError> {
    let mut kd = Vec::with_capacity(64 * links.len().max(1));
    if !mlo {
        let (_, g) = links
            .first()
            .ok_or(CryptoError::Malformed("no group keys"))?;
        Kde::Gtk {
            key_id: g.gtk.key_id,
            tx: false,
            gtk: &g.gtk.key,
        }
        .emit(&mut kd)?;
        Kde::Igtk(with_pn(&g.igtk)).emit(&mut kd)?;
        if let Some(b) = &g.bigtk {
            Kde::Bigtk(with_pn(b)).emit(&mut kd)?;
        }
        return Ok(kd);
    }
    for (link_id, g) in links {
        Kde::MloGtk {
            link_id: *link_id,
            key_id: g.gtk.key_id,
            tx: false,
            pn: g.gtk.pn,
            gtk: &g.gtk.key,
        }
        .emit(&mut kd)?;
    }
    for (link_id, g) in links {
        Kde::MloIgtk {
            link_id: *link_id,
            key: with_pn(&g.igtk),
        }
        .emit(&mut kd)?;
    }
    for (link_id, g) in links {
        if let Some(b) = &g.bigtk {
            Kde::MloBigtk {
                link_id: *link_id,
                key: with_pn(b),
            }
            .emit(&mut kd)?;
        }
    }
    Ok(kd)
}

fn with_pn(k: &crate::keys::GroupKey) -> KeyWithPn<'_> {
    KeyWithPn {
        key_id: k.key_id.into(),
        pn: k.pn,
        key: &k.key,
    }
}

/// Group message 1 under `ptk` with `replay_counter`.
pub fn group_msg1(
    akm: Akm,
    ptk: &Ptk,
    replay_counter: u64,
    mlo: bool,
    links: &[(u8, GroupKeys)],
) -> Result<Vec<u8>, CryptoError> {
    let mut plain = group_msg1_key_data(mlo, links)?;
    keywrap::pad_key_data(&mut plain);
    let wrapped = keywrap::wrap(ptk.kek(), &plain)?;
    let rsc = if mlo {
        0
    } else {
        links.first().map_or(0, |(_, g)| g.gtk.pn)
    };
    let mut pdu = EapolKey {
        version: EAPOL_VERSION,
        key_info: KeyInfo(akm.key_descriptor_version() | GROUP_MSG1_BITS),
        key_length: 0,
        replay_counter,
        nonce: [0; 32],
        iv: [0; 16],
        rsc,
        mic: &[],
        key_data: &wrapped,
    }
    .emit(akm.mic_len());
    eapol::write_mic(akm.mic_alg(), ptk.kck(), &mut pdu, akm.mic_len())?;
    Ok(pdu)
}

/// Group message 2 answering a message 1 with `replay_counter`.
pub fn group_msg2(akm: Akm, ptk: &Ptk, replay_counter: u64) -> Result<Vec<u8>, CryptoError> {
    let mut pdu = EapolKey {
        version: EAPOL_VERSION,
        key_info: KeyInfo(akm.key_descriptor_version() | GROUP_MSG2_BITS),
        key_length: 0,
        replay_counter,
        nonce: [0; 32],
        iv: [0; 16],
        rsc: 0,
        mic: &[],
        key_data: &[],
    }
    .emit(akm.mic_len());
    eapol::write_mic(akm.mic_alg(), ptk.kck(), &mut pdu, akm.mic_len())?;
    Ok(pdu)
}
