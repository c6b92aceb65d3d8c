//! Zero-copy typed views over the messages a `mac80211_hwsim` virtio guest exchanges
//! with its device, and over the 802.11 frames those messages carry.
//!
//! * [`nl`] — the generic-netlink messages on the TX/RX virtqueues (parse what a guest
//!   sends, emit what the device answers, and the reverse for a test frontend).
//! * [`mac`] — a read-only view of an 802.11 MAC header, enough to route a frame.
//!
//! Every parser treats its input as hostile: malformed bytes give an [`nl::Error`] (or
//! `None` from a `mac` constructor), never a panic.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use core::fmt;
use core::str::FromStr;

pub mod ie;
pub mod mac;
pub mod nl;
pub mod radiotap;
#[cfg(any(test, feature = "test-support"))]
pub mod tshark;

#[cfg(test)]
mod robustness;

pub use nl::{DeviceMessage, Error, GuestMessage};

/// A 48-bit IEEE 802 MAC address, in transmission byte order.
///
/// Used both for hwsim radio identities (netlink `ADDR_*` attributes) and for the
/// addresses inside 802.11 headers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Length of an address on the wire.
    pub const LEN: usize = 6;

    /// True for group (multicast or broadcast) addresses: the I/G bit, bit 0 of byte 0.
    pub fn is_group(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// True for the all-ones broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Reads an address from exactly six bytes; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<MacAddr> {
        bytes.try_into().ok().map(MacAddr)
    }

    /// The address bytes.
    pub fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(bytes: [u8; 6]) -> Self {
        MacAddr(bytes)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Why a string is not a MAC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address (expected six hex octets separated by ':')")]
pub struct ParseMacAddrError;

impl FromStr for MacAddr {
    type Err = ParseMacAddrError;

    /// Parses `aa:bb:cc:dd:ee:ff` (either case; `-` is accepted as separator too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in out.iter_mut() {
            let part = parts.next().ok_or(ParseMacAddrError)?;
            if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ParseMacAddrError);
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| ParseMacAddrError)?;
        }
        if parts.next().is_some() {
            return Err(ParseMacAddrError);
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let a = MacAddr([0x42, 0x00, 0x0a, 0xff, 0x01, 0x9c]);
        assert_eq!(a.to_string(), "42:00:0a:ff:01:9c");
        assert_eq!("42:00:0A:FF:01:9C".parse::<MacAddr>(), Ok(a));
        assert_eq!("42-00-0a-ff-01-9c".parse::<MacAddr>(), Ok(a));
    }

    #[test]
    fn parse_rejects_malformed() {
        for s in [
            "",
            "42:00:0a:ff:01",
            "42:00:0a:ff:01:9c:00",
            "42:00:0a:ff:01:9g",
            "42:00:0a:ff:01:",
            "420:00:0a:ff:01:9c",
            "+4:00:0a:ff:01:9c",
        ] {
            assert_eq!(s.parse::<MacAddr>(), Err(ParseMacAddrError), "{s:?}");
        }
    }

    #[test]
    fn group_and_broadcast() {
        assert!(MacAddr::BROADCAST.is_group());
        assert!(MacAddr::BROADCAST.is_broadcast());
        assert!(MacAddr([0x01, 0, 0x5e, 0, 0, 1]).is_group());
        assert!(!MacAddr([0x01, 0, 0x5e, 0, 0, 1]).is_broadcast());
        assert!(!MacAddr([0x42, 0, 0, 0, 1, 0]).is_group());
        assert!(!MacAddr([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff]).is_group());
    }

    #[test]
    fn from_bytes_needs_six() {
        assert_eq!(
            MacAddr::from_bytes(&[1, 2, 3, 4, 5, 6]),
            Some(MacAddr([1, 2, 3, 4, 5, 6]))
        );
        assert_eq!(MacAddr::from_bytes(&[1, 2, 3, 4, 5]), None);
        assert_eq!(MacAddr::from_bytes(&[1, 2, 3, 4, 5, 6, 7]), None);
    }
}
