//! Shared parse and emit machinery for the `Repr` types: the attribute table with its
//! size policy, and the one attribute writer every `emit` goes through.

use super::{
    attr, field, Attributes, Error, Message, TxRate, TxRateFlag, GENL_VERSION, HEADER_LEN,
    MAX_FRAME_LEN, NLA_HDR_LEN, TX_INFO_FLAGS_LEN, TX_INFO_LEN,
};
use crate::MacAddr;

/// Rounds up to the 4-byte netlink alignment.
pub(super) const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// Space one attribute with `payload_len` bytes takes, padding included.
pub(super) const fn attr_space(payload_len: usize) -> usize {
    align4(NLA_HDR_LEN + payload_len)
}

/// Checks the message header and returns its command and attribute bytes.
pub(super) fn split_message(buf: &[u8]) -> Result<(u8, &[u8]), Error> {
    let msg = Message::new_checked(buf)?;
    let end = usize::try_from(msg.nlmsg_len()).unwrap_or(usize::MAX);
    let body = buf.get(HEADER_LEN..end).ok_or(Error::Truncated)?;
    Ok((msg.cmd(), body))
}

/// `nla_len` of an attribute whose payload is `payload` (for error reports).
fn nla_len_of(payload: &[u8]) -> u16 {
    u16::try_from(payload.len() + NLA_HDR_LEN).unwrap_or(u16::MAX)
}

fn bad(kind: u16, payload: &[u8]) -> Error {
    Error::BadAttribute {
        kind,
        len: nla_len_of(payload),
    }
}

/// The size policy for the attributes this crate decodes, like the kernel's
/// `hwsim_genl_policy`: a violation by any present attribute rejects the message.
fn check_policy(kind: u16, payload: &[u8]) -> Result<(), Error> {
    let len = payload.len();
    let ok = match kind {
        attr::ADDR_RECEIVER | attr::ADDR_TRANSMITTER => len == MacAddr::LEN,
        attr::FRAME if len > MAX_FRAME_LEN => return Err(Error::FrameTooLong(len)),
        attr::FLAGS | attr::RX_RATE | attr::SIGNAL | attr::FREQ => len == 4,
        attr::COOKIE => len == 8,
        attr::TX_INFO => len <= TX_INFO_LEN && len % 2 == 0,
        attr::TX_INFO_FLAGS => len <= TX_INFO_FLAGS_LEN && len % 3 == 0,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(bad(kind, payload))
    }
}

/// Number of attribute slots kept; types at or above are ignored (as unknown).
const SLOTS: usize = 32;

/// Top-level attributes of one message, by type. Later duplicates replace earlier ones
/// (as `nla_parse` does); unknown types and `PAD` are dropped.
pub(super) struct AttrTable<'a> {
    slots: [Option<&'a [u8]>; SLOTS],
}

impl<'a> AttrTable<'a> {
    /// Walks `body`, applying the size policy to every known attribute.
    pub(super) fn collect(body: &'a [u8]) -> Result<Self, Error> {
        let mut slots = [None; SLOTS];
        for a in Attributes::new(body) {
            let a = a?;
            if a.kind == attr::PAD {
                continue;
            }
            check_policy(a.kind, a.payload)?;
            if let Some(slot) = slots.get_mut(usize::from(a.kind)) {
                *slot = Some(a.payload);
            }
        }
        Ok(AttrTable { slots })
    }

    /// Raw payload of `kind`, if present.
    pub(super) fn get(&self, kind: u16) -> Option<&'a [u8]> {
        self.slots.get(usize::from(kind)).copied().flatten()
    }

    fn array<const N: usize>(&self, kind: u16) -> Result<Option<[u8; N]>, Error> {
        self.get(kind)
            .map(|p| p.try_into().map_err(|_| bad(kind, p)))
            .transpose()
    }

    pub(super) fn mac(&self, kind: u16) -> Result<Option<MacAddr>, Error> {
        Ok(self.array::<6>(kind)?.map(MacAddr))
    }

    pub(super) fn u32(&self, kind: u16) -> Result<Option<u32>, Error> {
        Ok(self.array::<4>(kind)?.map(u32::from_ne_bytes))
    }

    pub(super) fn i32(&self, kind: u16) -> Result<Option<i32>, Error> {
        Ok(self.array::<4>(kind)?.map(i32::from_ne_bytes))
    }

    pub(super) fn u64(&self, kind: u16) -> Result<Option<u64>, Error> {
        Ok(self.array::<8>(kind)?.map(u64::from_ne_bytes))
    }

    /// `TX_INFO` entries; missing entries are [`TxRate::UNUSED`].
    pub(super) fn tx_info(&self) -> Result<Option<[TxRate; 4]>, Error> {
        let Some(p) = self.get(attr::TX_INFO) else {
            return Ok(None);
        };
        if p.len() > TX_INFO_LEN || p.len() % 2 != 0 {
            return Err(bad(attr::TX_INFO, p));
        }
        let mut out = [TxRate::UNUSED; 4];
        for (slot, chunk) in out.iter_mut().zip(p.chunks_exact(2)) {
            *slot = TxRate::from_bytes([chunk[0], chunk[1]]);
        }
        Ok(Some(out))
    }

    /// `TX_INFO_FLAGS` entries; missing entries are [`TxRateFlag::UNUSED`].
    pub(super) fn tx_info_flags(&self) -> Result<Option<[TxRateFlag; 4]>, Error> {
        let Some(p) = self.get(attr::TX_INFO_FLAGS) else {
            return Ok(None);
        };
        if p.len() > TX_INFO_FLAGS_LEN || p.len() % 3 != 0 {
            return Err(bad(attr::TX_INFO_FLAGS, p));
        }
        let mut out = [TxRateFlag::UNUSED; 4];
        for (slot, chunk) in out.iter_mut().zip(p.chunks_exact(3)) {
            *slot = TxRateFlag::from_bytes([chunk[0], chunk[1], chunk[2]]);
        }
        Ok(Some(out))
    }
}

/// Turns an absent required attribute into [`Error::MissingAttribute`].
pub(super) fn required<T>(value: Option<T>, kind: u16) -> Result<T, Error> {
    value.ok_or(Error::MissingAttribute(kind))
}

/// Encodes a rate chain as the 8-byte `TX_INFO` payload.
pub(super) fn tx_info_bytes(rates: &[TxRate; 4]) -> [u8; TX_INFO_LEN] {
    let mut out = [0u8; TX_INFO_LEN];
    for (chunk, rate) in out.chunks_exact_mut(2).zip(rates) {
        chunk.copy_from_slice(&rate.to_bytes());
    }
    out
}

/// Encodes rate flags as the 12-byte `TX_INFO_FLAGS` payload.
pub(super) fn tx_info_flags_bytes(flags: &[TxRateFlag; 4]) -> [u8; TX_INFO_FLAGS_LEN] {
    let mut out = [0u8; TX_INFO_FLAGS_LEN];
    for (chunk, flag) in out.chunks_exact_mut(3).zip(flags) {
        chunk.copy_from_slice(&flag.to_bytes());
    }
    out
}

/// Callback receiving one attribute (`nla_type` incl. flags, payload) at a time.
pub(super) type AttrSink<'s> = dyn FnMut(u16, &[u8]) + 's;

/// Total message length for the attributes `visit` produces.
pub(super) fn buffer_len(visit: impl Fn(&mut AttrSink<'_>)) -> usize {
    let mut len = HEADER_LEN;
    visit(&mut |_, payload| len += attr_space(payload.len()));
    len
}

/// Writes a complete message: header (type 0, flags 0, seq 0, pid 0, `cmd`, version 1)
/// and the attributes `visit` produces, in that order, zero-padded. Returns `nlmsg_len`.
pub(super) fn emit(
    cmd: u8,
    buf: &mut [u8],
    visit: impl Fn(&mut AttrSink<'_>),
) -> Result<usize, Error> {
    let needed = buffer_len(&visit);
    let available = buf.len();
    let out = buf
        .get_mut(..needed)
        .ok_or(Error::BufferTooSmall { needed, available })?;
    let nlmsg_len = u32::try_from(needed).map_err(|_| Error::BufferTooSmall {
        needed,
        available: u32::MAX as usize,
    })?;
    out.fill(0);
    out[field::NLMSG_LEN].copy_from_slice(&nlmsg_len.to_ne_bytes());
    out[field::GENL_CMD] = cmd;
    out[field::GENL_VERSION] = GENL_VERSION;

    let mut pos = HEADER_LEN;
    let mut result = Ok(());
    visit(&mut |nla_type, payload| {
        if result.is_ok() {
            result = put_attr(out, &mut pos, nla_type, payload);
        }
    });
    result.map(|()| needed)
}

/// Writes one attribute at `*pos` and advances past its padding.
fn put_attr(out: &mut [u8], pos: &mut usize, nla_type: u16, payload: &[u8]) -> Result<(), Error> {
    let kind = nla_type & super::NLA_TYPE_MASK;
    let nla_len = u16::try_from(NLA_HDR_LEN + payload.len()).map_err(|_| Error::BadAttribute {
        kind,
        len: u16::MAX,
    })?;
    let space = attr_space(payload.len());
    let available = out.len();
    let dst = out
        .get_mut(*pos..*pos + space)
        .ok_or(Error::BufferTooSmall {
            needed: *pos + space,
            available,
        })?;
    dst[field::NLA_LEN].copy_from_slice(&nla_len.to_ne_bytes());
    dst[field::NLA_TYPE].copy_from_slice(&nla_type.to_ne_bytes());
    dst[NLA_HDR_LEN..NLA_HDR_LEN + payload.len()].copy_from_slice(payload);
    *pos += space;
    Ok(())
}
