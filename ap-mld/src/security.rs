//! Key state of the AP MLD and the data-frame glue around `hwsim-crypto`: per link the group
//! keys (GTK for CCMP-128 group data, IGTK for BIP-CMAC-128, BIGTK for beacon protection), per station the PMKSA (from OWE
//! or SAE), the 4-way handshake and the pairwise key; 802.11 QoS data frames with LLC/SNAP to and from
//! Ethernet.

use hwsim_crypto::bip::BipKey;
use hwsim_crypto::ccmp::{AadAddrs, CcmpKey, ReplayCounters};
use hwsim_crypto::handshake::Authenticator;
use hwsim_crypto::keys::Akm;
use hwsim_crypto::keys::GroupKeys;
use hwsim_frame::MacAddr;

/// LLC/SNAP header for an EtherType (RFC 1042).
pub const LLC_SNAP: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];
/// LLC/SNAP header and EtherType in front of an MSDU's payload.
pub const LLC_SNAP_LEN: usize = LLC_SNAP.len() + 2;
/// A three-address QoS Data header, as [`qos_data_header`] builds it.
pub const QOS_DATA_HEADER_LEN: usize = 26;
/// What CCMP-128 adds to a frame: its header and MIC.
pub const CCMP_OVERHEAD: usize =
    hwsim_crypto::ccmp::CCMP_HDR_LEN + hwsim_crypto::ccmp::CCMP_MIC_LEN;
/// EtherType of EAPOL.
pub const ETHERTYPE_EAPOL: u16 = 0x888e;
/// TID EAPOL frames go with (voice, like mac80211's control port frames).
pub const EAPOL_TID: u8 = 7;

/// One link's group keys and the cipher state that goes with them.
pub struct LinkGroup {
    /// GTK / IGTK (/ BIGTK) as generated; [`LinkGroup::handover`] gives them with the
    /// current IPN / BIPN for the handshake.
    pub keys: GroupKeys,
    /// The GTK as a CCMP key.
    pub gtk: CcmpKey,
    /// Next PN for group data on this link.
    pub pn: u64,
    /// The IGTK for BIP-CMAC-128 on group addressed robust management frames.
    pub igtk: BipKey,
    /// Next IPN under the IGTK.
    pub ipn: u64,
    /// The BIGTK (beacon protection on) for the MME of every beacon.
    pub bigtk: Option<BipKey>,
    /// Next BIPN under the BIGTK: one per beacon on this link.
    pub bipn: u64,
}

impl LinkGroup {
    /// Group state for `keys`.
    pub fn new(keys: GroupKeys) -> LinkGroup {
        let gtk = CcmpKey::new(&keys.gtk.key).expect("a GTK is 16 bytes");
        let igtk = BipKey::new(&keys.igtk.key).expect("an IGTK is 16 bytes");
        let bigtk = keys
            .bigtk
            .as_ref()
            .map(|b| BipKey::new(&b.key).expect("a BIGTK is 16 bytes"));
        LinkGroup {
            gtk,
            pn: keys.gtk.pn.max(1),
            igtk,
            ipn: keys.igtk.pn + 1,
            bigtk,
            bipn: keys.bigtk.as_ref().map_or(1, |b| b.pn + 1),
            keys,
        }
    }

    /// The keys as the 4-way handshake hands them over: each key's receive sequence (the
    /// GTK's RSC, the IGTK's IPN, the BIGTK's BIPN) is the last one used on this link, so a
    /// station that joins late accepts exactly what comes next and no replay of earlier group
    /// frames (mac80211 drops a group frame or MME whose PN is not above the one installed).
    pub fn handover(&self) -> GroupKeys {
        let mut k = self.keys.clone();
        k.gtk.pn = self.pn - 1;
        k.igtk.pn = self.ipn - 1;
        if let Some(b) = k.bigtk.as_mut() {
            b.pn = self.bipn - 1;
        }
        k
    }

    /// Appends the MME to a beacon (24-byte header + body) under the BIGTK, with the next
    /// BIPN. Without beacon protection the beacon stays as it is.
    pub fn protect_beacon(&mut self, beacon: &mut Vec<u8>) {
        let Some(bigtk) = &self.bigtk else { return };
        let key_id = self.keys.bigtk.as_ref().map_or(6, |b| u16::from(b.key_id));
        if bigtk.protect(beacon, key_id, self.bipn).is_ok() {
            self.bipn += 1;
        }
    }

    /// Appends the MME to a group addressed robust management frame under the IGTK, with
    /// the next IPN.
    pub fn protect_group_mgmt(&mut self, frame: &mut Vec<u8>) {
        let key_id = u16::from(self.keys.igtk.key_id);
        if self.igtk.protect(frame, key_id, self.ipn).is_ok() {
            self.ipn += 1;
        }
    }
}

/// A PMK security association: what OWE or SAE established.
#[derive(Clone, PartialEq, Eq)]
pub struct Pmksa {
    /// PMK (32 bytes for group 19 OWE and for SAE).
    pub pmk: [u8; 32],
    /// PMKID.
    pub pmkid: [u8; 16],
}

impl core::fmt::Debug for Pmksa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pmksa")
            .field("pmkid", &self.pmkid)
            .finish_non_exhaustive()
    }
}

/// A station's security association.
pub struct StaKeys {
    /// The AKM the PMK came from (OWE or SAE).
    pub akm: Akm,
    /// PMK and PMKID (from OWE or SAE).
    pub pmksa: Pmksa,
    /// The station's RSNE and RSNXE from its (re)association request (whole elements).
    pub sta_rsne: Vec<u8>,
    /// RSNXE, if it sent one.
    pub sta_rsnxe: Option<Vec<u8>>,
    /// The 4-way handshake (present once association succeeded).
    pub auth: Option<Authenticator>,
    /// The pairwise key, once message 4 is accepted.
    pub ptk: Option<CcmpKey>,
    /// Next PN for unicast frames to the station.
    pub tx_pn: u64,
    /// Receive replay counters of the PTKSA.
    pub replay: ReplayCounters,
    /// TSF (µs) the last EAPOL message was sent at, and retransmissions so far.
    pub eapol_sent_at: u64,
    /// Retransmissions of the current message.
    pub eapol_retries: u8,
    /// Generation of the group keys the station holds (see the AP's group rekeying).
    pub group_generation: u64,
    /// Generation of the keys in the group message 1 outstanding.
    pub group_target: u64,
}

impl StaKeys {
    /// Keys before the handshake starts.
    pub fn new(akm: Akm, pmksa: Pmksa, sta_rsne: Vec<u8>, sta_rsnxe: Option<Vec<u8>>) -> StaKeys {
        StaKeys {
            akm,
            pmksa,
            sta_rsne,
            sta_rsnxe,
            auth: None,
            ptk: None,
            tx_pn: 1,
            replay: ReplayCounters::default(),
            eapol_sent_at: 0,
            eapol_retries: 0,
            group_generation: 0,
            group_target: 0,
        }
    }
}

/// The 24-byte header plus QoS Control of a QoS Data frame: `fc1` holds the DS bits.
pub fn qos_data_header(
    fc1: u8,
    a1: MacAddr,
    a2: MacAddr,
    a3: MacAddr,
    seq: u16,
    tid: u8,
) -> Vec<u8> {
    let mut f = Vec::with_capacity(26 + 8 + 1500 + 16);
    f.extend_from_slice(&[0x88, fc1, 0, 0]);
    f.extend_from_slice(&a1.0);
    f.extend_from_slice(&a2.0);
    f.extend_from_slice(&a3.0);
    f.extend_from_slice(&(seq << 4).to_le_bytes());
    f.extend_from_slice(&[tid & 0x0f, 0]);
    f
}

/// Appends LLC/SNAP, the EtherType and the payload.
pub fn put_msdu(frame: &mut Vec<u8>, ethertype: u16, payload: &[u8]) {
    frame.extend_from_slice(&LLC_SNAP);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(payload);
}

/// The EtherType and payload of an MSDU body that starts with LLC/SNAP.
pub fn split_msdu(body: &[u8]) -> Option<(u16, &[u8])> {
    if body.len() < 8 || body[..6] != LLC_SNAP {
        return None;
    }
    Some((u16::from_be_bytes([body[6], body[7]]), &body[8..]))
}

/// AAD addresses of an individually addressed data frame between the AP MLD and a non-AP
/// MLD (MLD addresses replace the link addresses, IEEE 802.11be 12.5.2.3.3).
pub fn mld_aad(
    header: &[u8],
    ap_link: MacAddr,
    ap_mld: MacAddr,
    sta_link: MacAddr,
    sta_mld: MacAddr,
) -> Option<AadAddrs> {
    AadAddrs::mld_data(header, &ap_link.0, &ap_mld.0, &sta_link.0, &sta_mld.0)
}
