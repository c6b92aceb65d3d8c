//! Key Data contents: elements and Key Data Encapsulations (KDEs) of IEEE 802.11-2020
//! 12.7.2 (Table 12-10, Figures 12-35..12-42) and the MLO KDEs of IEEE 802.11be 12.7.2.
//!
//! A KDE is a vendor-specific element (ID 0xdd) whose body starts with OUI 00-0F-AC and a
//! data type. Data types (as in wpa_supplicant's `wpa_common.h`): GTK 1, MAC address 3,
//! PMKID 4, IGTK 9, BIGTK 14, MLO GTK 16, MLO IGTK 17, MLO BIGTK 18, MLO Link 19.

use crate::error::{need, CryptoError, Result};
use crate::keys::{MacAddr, IEEE80211_OUI};

pub const KDE_GTK: u8 = 1;
pub const KDE_MAC_ADDR: u8 = 3;
pub const KDE_PMKID: u8 = 4;
pub const KDE_IGTK: u8 = 9;
pub const KDE_BIGTK: u8 = 14;
pub const KDE_MLO_GTK: u8 = 16;
pub const KDE_MLO_IGTK: u8 = 17;
pub const KDE_MLO_BIGTK: u8 = 18;
pub const KDE_MLO_LINK: u8 = 19;

pub const ELEMENT_RSN: u8 = 48;
pub const ELEMENT_RSNX: u8 = 244;
const ELEMENT_VENDOR: u8 = 0xdd;

/// MLO Link KDE Link Information bits (802.11be Figure 12-44a).
const LINK_INFO_RSNE: u8 = 0x10;
const LINK_INFO_RSNXE: u8 = 0x20;

/// A key that is handed over with its key ID and receive sequence start (GTK/IGTK/BIGTK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWithPn<'a> {
    pub key_id: u16,
    /// The PN (GTK) / IPN (IGTK) / BIPN (BIGTK), 48 bits.
    pub pn: u64,
    pub key: &'a [u8],
}

/// The KDEs this crate understands; anything else is kept as [`Kde::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kde<'a> {
    /// Key ID in bits 0-1, Tx in bit 2 (the PN is carried in the Key RSC field).
    Gtk {
        key_id: u8,
        tx: bool,
        gtk: &'a [u8],
    },
    MacAddr(MacAddr),
    Pmkid([u8; 16]),
    Igtk(KeyWithPn<'a>),
    Bigtk(KeyWithPn<'a>),
    MloGtk {
        link_id: u8,
        key_id: u8,
        tx: bool,
        pn: u64,
        gtk: &'a [u8],
    },
    MloIgtk {
        link_id: u8,
        key: KeyWithPn<'a>,
    },
    MloBigtk {
        link_id: u8,
        key: KeyWithPn<'a>,
    },
    /// Link ID, the affiliated AP's (or non-AP STA's) link MAC address, and optionally the
    /// whole RSNE / RSNXE (with element header) of that link.
    MloLink {
        link_id: u8,
        mac: MacAddr,
        rsne: Option<&'a [u8]>,
        rsnxe: Option<&'a [u8]>,
    },
    Other {
        oui: [u8; 3],
        data_type: u8,
        data: &'a [u8],
    },
}

/// One item of Key Data: an element (RSNE, RSNXE, ...) or a KDE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDataItem<'a> {
    /// A whole element including its two-byte header.
    Element {
        id: u8,
        bytes: &'a [u8],
    },
    Kde(Kde<'a>),
}

fn pn48(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[..6].copy_from_slice(&bytes[..6]);
    u64::from_le_bytes(b)
}

fn put_pn48(out: &mut Vec<u8>, pn: u64) {
    out.extend_from_slice(&pn.to_le_bytes()[..6]);
}

fn mac(bytes: &[u8]) -> MacAddr {
    let mut m = [0u8; 6];
    m.copy_from_slice(&bytes[..6]);
    m
}

/// Splits `rest` into a whole element with ID `id` and what follows.
fn take_element(rest: &[u8], id: u8) -> Result<(&[u8], &[u8])> {
    need("element in MLO Link KDE", rest, 2)?;
    if rest[0] != id {
        return Err(CryptoError::Malformed("MLO Link KDE element"));
    }
    let len = 2 + usize::from(rest[1]);
    need("element in MLO Link KDE", rest, len)?;
    Ok(rest.split_at(len))
}

impl<'a> Kde<'a> {
    fn parse(oui: [u8; 3], data_type: u8, d: &'a [u8]) -> Result<Self> {
        if oui != IEEE80211_OUI {
            return Ok(Kde::Other {
                oui,
                data_type,
                data: d,
            });
        }
        Ok(match data_type {
            KDE_GTK => {
                need("GTK KDE", d, 2 + 5)?;
                Kde::Gtk {
                    key_id: d[0] & 0x03,
                    tx: d[0] & 0x04 != 0,
                    gtk: &d[2..],
                }
            }
            KDE_MAC_ADDR => {
                need("MAC address KDE", d, 6)?;
                Kde::MacAddr(mac(d))
            }
            KDE_PMKID => {
                need("PMKID KDE", d, 16)?;
                Kde::Pmkid(d[..16].try_into().expect("16 bytes"))
            }
            KDE_IGTK | KDE_BIGTK => {
                need("IGTK/BIGTK KDE", d, 8 + 16)?;
                let key = KeyWithPn {
                    key_id: u16::from_le_bytes([d[0], d[1]]),
                    pn: pn48(&d[2..8]),
                    key: &d[8..],
                };
                if data_type == KDE_IGTK {
                    Kde::Igtk(key)
                } else {
                    Kde::Bigtk(key)
                }
            }
            KDE_MLO_GTK => {
                need("MLO GTK KDE", d, 7 + 5)?;
                Kde::MloGtk {
                    key_id: d[0] & 0x03,
                    tx: d[0] & 0x04 != 0,
                    link_id: d[0] >> 4,
                    pn: pn48(&d[1..7]),
                    gtk: &d[7..],
                }
            }
            KDE_MLO_IGTK | KDE_MLO_BIGTK => {
                need("MLO IGTK/BIGTK KDE", d, 9 + 16)?;
                let link_id = d[8] >> 4;
                let key = KeyWithPn {
                    key_id: u16::from_le_bytes([d[0], d[1]]),
                    pn: pn48(&d[2..8]),
                    key: &d[9..],
                };
                if data_type == KDE_MLO_IGTK {
                    Kde::MloIgtk { link_id, key }
                } else {
                    Kde::MloBigtk { link_id, key }
                }
            }
            KDE_MLO_LINK => {
                need("MLO Link KDE", d, 7)?;
                let info = d[0];
                let mut rest = &d[7..];
                let rsne = if info & LINK_INFO_RSNE != 0 {
                    let (e, r) = take_element(rest, ELEMENT_RSN)?;
                    rest = r;
                    Some(e)
                } else {
                    None
                };
                let rsnxe = if info & LINK_INFO_RSNXE != 0 {
                    let (e, r) = take_element(rest, ELEMENT_RSNX)?;
                    rest = r;
                    Some(e)
                } else {
                    None
                };
                if !rest.is_empty() {
                    return Err(CryptoError::Malformed("MLO Link KDE trailing bytes"));
                }
                Kde::MloLink {
                    link_id: info & 0x0f,
                    mac: mac(&d[1..7]),
                    rsne,
                    rsnxe,
                }
            }
            _ => Kde::Other {
                oui,
                data_type,
                data: d,
            },
        })
    }

    /// Appends this KDE (vendor element header, OUI, data type, data). Fails, leaving
    /// `out` as it was, when the KDE does not fit one element (255 bytes).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.push(ELEMENT_VENDOR);
        let len_at = out.len();
        out.push(0);
        let (oui, data_type) = match self {
            Kde::Other { oui, data_type, .. } => (*oui, *data_type),
            _ => (IEEE80211_OUI, self.data_type()),
        };
        out.extend_from_slice(&oui);
        out.push(data_type);
        match self {
            Kde::Gtk { key_id, tx, gtk } => {
                out.push((key_id & 0x03) | if *tx { 0x04 } else { 0 });
                out.push(0);
                out.extend_from_slice(gtk);
            }
            Kde::MacAddr(m) => out.extend_from_slice(m),
            Kde::Pmkid(p) => out.extend_from_slice(p),
            Kde::Igtk(k) | Kde::Bigtk(k) => {
                out.extend_from_slice(&k.key_id.to_le_bytes());
                put_pn48(out, k.pn);
                out.extend_from_slice(k.key);
            }
            Kde::MloGtk {
                link_id,
                key_id,
                tx,
                pn,
                gtk,
            } => {
                out.push((key_id & 0x03) | if *tx { 0x04 } else { 0 } | (link_id << 4));
                put_pn48(out, *pn);
                out.extend_from_slice(gtk);
            }
            Kde::MloIgtk { link_id, key } | Kde::MloBigtk { link_id, key } => {
                out.extend_from_slice(&key.key_id.to_le_bytes());
                put_pn48(out, key.pn);
                out.push(link_id << 4);
                out.extend_from_slice(key.key);
            }
            Kde::MloLink {
                link_id,
                mac,
                rsne,
                rsnxe,
            } => {
                let mut info = link_id & 0x0f;
                if rsne.is_some() {
                    info |= LINK_INFO_RSNE;
                }
                if rsnxe.is_some() {
                    info |= LINK_INFO_RSNXE;
                }
                out.push(info);
                out.extend_from_slice(mac);
                out.extend_from_slice(rsne.unwrap_or_default());
                out.extend_from_slice(rsnxe.unwrap_or_default());
            }
            Kde::Other { data, .. } => out.extend_from_slice(data),
        }
        let len = out.len() - len_at - 1;
        match u8::try_from(len) {
            Ok(len) => {
                out[len_at] = len;
                Ok(())
            }
            Err(_) => {
                out.truncate(start);
                Err(CryptoError::Malformed("KDE longer than 255 bytes"))
            }
        }
    }

    fn data_type(&self) -> u8 {
        match self {
            Kde::Gtk { .. } => KDE_GTK,
            Kde::MacAddr(_) => KDE_MAC_ADDR,
            Kde::Pmkid(_) => KDE_PMKID,
            Kde::Igtk(_) => KDE_IGTK,
            Kde::Bigtk(_) => KDE_BIGTK,
            Kde::MloGtk { .. } => KDE_MLO_GTK,
            Kde::MloIgtk { .. } => KDE_MLO_IGTK,
            Kde::MloBigtk { .. } => KDE_MLO_BIGTK,
            Kde::MloLink { .. } => KDE_MLO_LINK,
            Kde::Other { data_type, .. } => *data_type,
        }
    }
}

/// Iterates over the items of (decrypted) Key Data. Stops at the padding (0xdd followed by
/// zeros, 12.7.2) and yields an error for a truncated item, then ends.
pub fn parse_key_data(data: &[u8]) -> KeyDataIter<'_> {
    KeyDataIter { rest: data }
}

pub struct KeyDataIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for KeyDataIter<'a> {
    type Item = Result<KeyDataItem<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        if rest.is_empty() {
            return None;
        }
        // Padding: 0xdd followed by zeros (hostapd stops at "dd 00" or a final 0xdd).
        if rest[0] == ELEMENT_VENDOR && (rest.len() == 1 || rest[1] == 0) {
            self.rest = &[];
            return None;
        }
        if rest.len() < 2 || rest.len() < 2 + usize::from(rest[1]) {
            self.rest = &[];
            return Some(Err(CryptoError::Malformed("Key Data item length")));
        }
        let (item, tail) = rest.split_at(2 + usize::from(rest[1]));
        self.rest = tail;
        if item[0] != ELEMENT_VENDOR {
            return Some(Ok(KeyDataItem::Element {
                id: item[0],
                bytes: item,
            }));
        }
        let body = &item[2..];
        if body.len() < 4 {
            return Some(Err(CryptoError::Malformed("KDE header")));
        }
        let oui = [body[0], body[1], body[2]];
        Some(Kde::parse(oui, body[3], &body[4..]).map(KeyDataItem::Kde))
    }
}
