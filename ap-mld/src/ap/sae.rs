//! SAE authentication (IEEE 802.11-2020 12.4.8.6, AP side) on top of `hwsim_crypto::sae`:
//! one small state machine per peer, keyed by the station's identity (its MLD address in a
//! multi-link setup, else its address).
//!
//! * Commit from a peer without state: validate it, answer with our commit (status 126, H2E)
//!   and remember both (Committed). A retransmitted commit gets the same answer again; a
//!   different one starts over.
//! * Confirm while Committed: verify it; on success send our confirm and hold the PMKSA
//!   (Accepted), the station may associate; on failure status 15 and the state is dropped.
//! * Confirm while Accepted with a higher send-confirm: a retransmission, our confirm goes out
//!   again with the counter advanced.
//! * More than [`MAX_OPEN_SAE`] exchanges in Committed (younger than
//!   [`SAE_COMMITTED_TIMEOUT_US`]): commits must carry an anti-clogging
//!   token (status 76 hands one out; it is an HMAC of the peer's address under a key of ours,
//!   so nothing is stored for it).
//!
//! In a multi-link setup the frames carry a Basic Multi-Link element with the MLD address, and
//! the password element is derived from the two MLD addresses (as wpa_supplicant and hostapd
//! do: the non-AP MLD's own address and the AP MLD address).

use hwsim_crypto::error::CryptoError;
use hwsim_crypto::keys::Akm;
use hwsim_crypto::rng::KeyRng;
use hwsim_crypto::sae::{
    Commit, Confirm, PasswordToken, SaeInstance, SaeKeys, AUTH_ALG_SAE,
    STATUS_ANTI_CLOGGING_TOKEN_REQUIRED, STATUS_SAE_HASH_TO_ELEMENT,
};
use hwsim_frame::MacAddr;

use super::{status, ApMld, Tx};
use crate::security::Pmksa;

/// Exchanges allowed in Committed at once before commits need an anti-clogging token.
pub const MAX_OPEN_SAE: usize = 8;
/// An exchange left in Committed this long (µs) no longer counts as open and is forgotten.
pub const SAE_COMMITTED_TIMEOUT_US: u64 = 10_000_000;
/// SAE peers remembered at most (Accepted ones waiting to associate included); the oldest
/// goes first.
const MAX_SAE_PEERS: usize = 64;

/// The AP's SAE setup: the password token of its SSID and passphrase and the token key.
pub(super) struct SaeAp {
    pt: PasswordToken,
    token_key: [u8; 32],
    peers: Vec<SaePeer>,
}

impl SaeAp {
    pub(super) fn new(ssid: &str, passphrase: &str, rng: &mut dyn KeyRng) -> SaeAp {
        let mut token_key = [0u8; 32];
        rng.fill(&mut token_key);
        SaeAp {
            pt: PasswordToken::derive(ssid.as_bytes(), passphrase.as_bytes(), None),
            token_key,
            peers: Vec::new(),
        }
    }

    fn token(&self, peer: MacAddr) -> [u8; 32] {
        let mut t = [0u8; 32];
        hwsim_crypto::kdf::kdf(
            hwsim_crypto::kdf::HashAlg::Sha256,
            &self.token_key,
            b"hwsim anti-clogging token",
            &peer.0,
            &mut t,
        );
        t
    }
}

enum PeerState {
    /// Our commit is out; the peer's commit is validated and the keys derived.
    Committed {
        instance: Box<SaeInstance>,
        keys: SaeKeys,
        /// The peer's commit fields as received (to recognise retransmissions).
        peer_commit: Vec<u8>,
    },
    /// Both confirms verified.
    Accepted {
        keys: SaeKeys,
        /// Highest send-confirm received from the peer.
        peer_send_confirm: u16,
    },
}

struct SaePeer {
    /// The station's MLD address, or its address.
    addr: MacAddr,
    /// Multi-link: frames carry a Basic Multi-Link element.
    mlo: bool,
    send_confirm: u16,
    state: PeerState,
    /// TSF (µs) of the peer's last commit.
    committed_at: u64,
}

/// What an SAE Authentication frame body holds after algorithm, transaction and status.
pub(super) struct SaeFrame<'a> {
    pub seq: u16,
    pub status: u16,
    pub fields: &'a [u8],
    /// TSF (µs) it arrived at.
    pub at_us: u64,
}

impl ApMld {
    /// An SAE Authentication frame from `sa` on `link`; `sta_mld` is the MLD address of its
    /// Basic Multi-Link element, if any.
    pub(super) fn sae_auth(
        &mut self,
        link: usize,
        sa: MacAddr,
        frame: SaeFrame<'_>,
        sta_mld: Option<MacAddr>,
    ) -> Vec<Tx> {
        if self.sae.is_none() {
            return vec![self.auth_reply(
                link,
                sa,
                AUTH_ALG_SAE,
                frame.seq,
                status::AUTH_ALG_UNSUPPORTED,
                &[],
                sta_mld.is_some(),
            )];
        }
        match frame.seq {
            1 => self.sae_commit(link, sa, frame, sta_mld),
            2 => self.sae_confirm(link, sa, frame, sta_mld),
            _ => Vec::new(),
        }
    }

    fn sae_commit(
        &mut self,
        link: usize,
        sa: MacAddr,
        frame: SaeFrame<'_>,
        sta_mld: Option<MacAddr>,
    ) -> Vec<Tx> {
        let mlo = sta_mld.is_some();
        let peer_addr = sta_mld.unwrap_or(sa);
        let reply = |ap: &mut ApMld, code: u16, fields: &[u8]| {
            ap.counters.sae_rejected += 1;
            vec![ap.auth_reply(link, sa, AUTH_ALG_SAE, 1, code, fields, mlo)]
        };
        if frame.status != STATUS_SAE_HASH_TO_ELEMENT {
            // Hunting-and-pecking (status 0) is not offered: the RSNXE says H2E only.
            return reply(self, status::UNSPECIFIED, &[]);
        }
        let commit = match Commit::parse(frame.fields) {
            Ok(c) => c,
            Err(CryptoError::Unsupported { value, .. }) => {
                // Status 77 names the group refused; the peer moves on to another.
                let group = u16::try_from(value).unwrap_or(u16::MAX);
                return reply(self, status::UNSUPPORTED_GROUP, &group.to_le_bytes());
            }
            Err(_) => return reply(self, status::UNSPECIFIED, &[]),
        };
        if commit.password_id.is_some() {
            return reply(self, status::UNKNOWN_PASSWORD_IDENTIFIER, &[]);
        }
        if commit.rejected_group_list().any(|g| g == commit.group) {
            // A downgrade attempt: the peer claims we refused the group we support.
            return reply(self, status::UNSPECIFIED, &[]);
        }
        let sae = self.sae.as_mut().expect("checked by sae_auth");
        // Exchanges abandoned in Committed are forgotten, so they stop counting as open.
        sae.peers.retain(|p| {
            !matches!(p.state, PeerState::Committed { .. })
                || frame.at_us < p.committed_at.saturating_add(SAE_COMMITTED_TIMEOUT_US)
        });
        let existing = sae.peers.iter().position(|p| p.addr == peer_addr);
        if let Some(i) = existing {
            if let PeerState::Committed {
                instance,
                peer_commit,
                ..
            } = &sae.peers[i].state
            {
                if commit.scalar == instance.scalar() && commit.element == instance.element() {
                    // Our own commit reflected back: discarded (12.4.8.6.4).
                    self.counters.sae_rejected += 1;
                    return Vec::new();
                }
                if peer_commit.as_slice() == frame.fields {
                    // A retransmission: our commit again.
                    let mut fields = Vec::new();
                    instance.commit(None).emit(&mut fields);
                    return vec![self.auth_reply(
                        link,
                        sa,
                        AUTH_ALG_SAE,
                        1,
                        STATUS_SAE_HASH_TO_ELEMENT,
                        &fields,
                        mlo,
                    )];
                }
            }
        }
        let open = sae
            .peers
            .iter()
            .filter(|p| matches!(p.state, PeerState::Committed { .. }) && p.addr != peer_addr)
            .count();
        if open >= MAX_OPEN_SAE {
            let token = sae.token(peer_addr);
            if commit.token != Some(&token[..]) {
                let mut fields = commit.group.to_le_bytes().to_vec();
                fields.extend_from_slice(&[255, 33, hwsim_crypto::sae::EXT_ANTI_CLOGGING_TOKEN]);
                fields.extend_from_slice(&token);
                self.counters.sae_rejected += 1;
                return vec![self.auth_reply(
                    link,
                    sa,
                    AUTH_ALG_SAE,
                    1,
                    STATUS_ANTI_CLOGGING_TOKEN_REQUIRED,
                    &fields,
                    mlo,
                )];
            }
        }
        let own_addr = if mlo {
            self.cfg.mld_addr
        } else {
            self.links[link].cfg.bssid
        };
        let pwe = match sae.pt.pwe(&own_addr.0, &peer_addr.0) {
            Ok(p) => p,
            Err(_) => return reply(self, status::UNSPECIFIED, &[]),
        };
        let instance = SaeInstance::new(&pwe, &mut self.rng);
        let keys = match instance.process_commit(&commit) {
            Ok(k) => k,
            // A reflected commit is discarded without an answer (12.4.8.6.4).
            Err(CryptoError::SaeReflection) => {
                self.counters.sae_rejected += 1;
                return Vec::new();
            }
            Err(_) => return reply(self, status::UNSPECIFIED, &[]),
        };
        let mut fields = Vec::new();
        instance.commit(None).emit(&mut fields);
        let peer = SaePeer {
            addr: peer_addr,
            mlo,
            send_confirm: 0,
            committed_at: frame.at_us,
            state: PeerState::Committed {
                instance: Box::new(instance),
                keys,
                peer_commit: frame.fields.to_vec(),
            },
        };
        let sae = self.sae.as_mut().expect("checked by sae_auth");
        if let Some(i) = existing {
            sae.peers.remove(i);
        }
        if sae.peers.len() >= MAX_SAE_PEERS {
            sae.peers.remove(0);
        }
        sae.peers.push(peer);
        vec![self.auth_reply(
            link,
            sa,
            AUTH_ALG_SAE,
            1,
            STATUS_SAE_HASH_TO_ELEMENT,
            &fields,
            mlo,
        )]
    }

    fn sae_confirm(
        &mut self,
        link: usize,
        sa: MacAddr,
        frame: SaeFrame<'_>,
        sta_mld: Option<MacAddr>,
    ) -> Vec<Tx> {
        let peer_addr = sta_mld.unwrap_or(sa);
        let sae = self.sae.as_mut().expect("checked by sae_auth");
        let Some(i) = sae.peers.iter().position(|p| p.addr == peer_addr) else {
            return Vec::new();
        };
        let Ok(confirm) = Confirm::parse(frame.fields) else {
            return Vec::new();
        };
        let p = &mut sae.peers[i];
        let mlo = p.mlo;
        let accepted = match &p.state {
            PeerState::Committed { keys, .. } => {
                if keys.verify_confirm(&confirm).is_err() {
                    sae.peers.remove(i);
                    self.counters.sae_rejected += 1;
                    return vec![self.auth_reply(
                        link,
                        sa,
                        AUTH_ALG_SAE,
                        2,
                        status::CHALLENGE_FAIL,
                        &[],
                        mlo,
                    )];
                }
                true
            }
            PeerState::Accepted {
                keys,
                peer_send_confirm,
            } => {
                // A retransmitted confirm must advance the counter and verify.
                if confirm.send_confirm <= *peer_send_confirm
                    || confirm.send_confirm == u16::MAX
                    || keys.verify_confirm(&confirm).is_err()
                {
                    return Vec::new();
                }
                false
            }
        };
        let keys = match &p.state {
            PeerState::Committed { keys, .. } | PeerState::Accepted { keys, .. } => keys.clone(),
        };
        p.send_confirm = p.send_confirm.saturating_add(1);
        let ours = keys.confirm(p.send_confirm);
        let pmksa = Pmksa {
            pmk: keys.pmk,
            pmkid: keys.pmkid,
        };
        p.state = PeerState::Accepted {
            keys,
            peer_send_confirm: confirm.send_confirm,
        };
        if accepted {
            self.counters.sae_accepted += 1;
            // Authenticated: this replaces whatever the station had, short of a PMF
            // association (see `authenticated`).
            self.authenticated(peer_addr, mlo, link, sa, Some((Akm::Sae, pmksa)));
        }
        let mut fields = Vec::new();
        ours.emit(&mut fields);
        vec![self.auth_reply(link, sa, AUTH_ALG_SAE, 2, status::SUCCESS, &fields, mlo)]
    }

    /// Forgets the SAE state of a station that left.
    pub(super) fn sae_forget(&mut self, addr: MacAddr) {
        if let Some(sae) = self.sae.as_mut() {
            sae.peers.retain(|p| p.addr != addr);
        }
    }
}

/// Splits an SAE Authentication frame body (after the algorithm) into transaction, status
/// and the SAE fields; None if it is too short.
pub(super) fn split(body: &[u8], at_us: u64) -> Option<SaeFrame<'_>> {
    let seq = u16::from_le_bytes([*body.get(2)?, *body.get(3)?]);
    let status = u16::from_le_bytes([*body.get(4)?, *body.get(5)?]);
    Some(SaeFrame {
        seq,
        status,
        fields: &body[6..],
        at_us,
    })
}
