//! Guest → device messages (the TX virtqueue): transmitted frames, address changes and
//! peer-measurement requests.

use super::codec::{self, required, AttrSink, AttrTable};
use super::{attr, cmd, Error, TxRate, TxRateFlag, MAX_FRAME_LEN, NLA_F_NESTED};
use crate::MacAddr;

/// A message the guest driver sends to the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestMessage<'a> {
    /// `HWSIM_CMD_FRAME`: a radio transmits a frame.
    Frame(TxFrameRepr<'a>),
    /// `HWSIM_CMD_ADD_MAC_ADDR`: a radio answers to an extra address.
    AddMacAddr(MacAddrRepr),
    /// `HWSIM_CMD_DEL_MAC_ADDR`: a radio stops answering to an address.
    DelMacAddr(MacAddrRepr),
    /// `HWSIM_CMD_START_PMSR`: start a peer measurement.
    StartPmsr(PmsrRepr<'a>),
    /// `HWSIM_CMD_ABORT_PMSR`: abort the peer measurement.
    AbortPmsr(PmsrRepr<'a>),
}

impl<'a> GuestMessage<'a> {
    /// Parses the message at the start of `buf` (a whole TX descriptor; bytes after
    /// `nlmsg_len` are ignored). Any other command gives [`Error::UnknownCommand`].
    pub fn parse(buf: &'a [u8]) -> Result<GuestMessage<'a>, Error> {
        let (command, body) = codec::split_message(buf)?;
        if !matches!(
            command,
            cmd::FRAME | cmd::ADD_MAC_ADDR | cmd::DEL_MAC_ADDR | cmd::START_PMSR | cmd::ABORT_PMSR
        ) {
            return Err(Error::UnknownCommand(command));
        }
        let t = AttrTable::collect(body)?;
        Ok(match command {
            cmd::FRAME => GuestMessage::Frame(TxFrameRepr::from_table(&t)?),
            cmd::ADD_MAC_ADDR => GuestMessage::AddMacAddr(MacAddrRepr::from_table(&t)?),
            cmd::DEL_MAC_ADDR => GuestMessage::DelMacAddr(MacAddrRepr::from_table(&t)?),
            cmd::START_PMSR => GuestMessage::StartPmsr(PmsrRepr::from_table(&t)?),
            _ => GuestMessage::AbortPmsr(PmsrRepr::from_table(&t)?),
        })
    }

    /// The genetlink command this message is sent with.
    pub fn cmd(&self) -> u8 {
        match self {
            GuestMessage::Frame(_) => cmd::FRAME,
            GuestMessage::AddMacAddr(_) => cmd::ADD_MAC_ADDR,
            GuestMessage::DelMacAddr(_) => cmd::DEL_MAC_ADDR,
            GuestMessage::StartPmsr(_) => cmd::START_PMSR,
            GuestMessage::AbortPmsr(_) => cmd::ABORT_PMSR,
        }
    }

    /// The radio address the message comes from (`ADDR_TRANSMITTER`).
    pub fn radio(&self) -> MacAddr {
        match self {
            GuestMessage::Frame(r) => r.transmitter,
            GuestMessage::AddMacAddr(r) | GuestMessage::DelMacAddr(r) => r.radio,
            GuestMessage::StartPmsr(r) | GuestMessage::AbortPmsr(r) => r.radio,
        }
    }

    /// Length of the message [`GuestMessage::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            GuestMessage::Frame(r) => r.buffer_len(),
            GuestMessage::AddMacAddr(r) | GuestMessage::DelMacAddr(r) => r.buffer_len(),
            GuestMessage::StartPmsr(r) | GuestMessage::AbortPmsr(r) => r.buffer_len(),
        }
    }

    /// Writes the complete message to the start of `buf`; returns `nlmsg_len`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        match self {
            GuestMessage::Frame(r) => r.emit(buf),
            GuestMessage::AddMacAddr(r) | GuestMessage::DelMacAddr(r) => r.emit_as(self.cmd(), buf),
            GuestMessage::StartPmsr(r) | GuestMessage::AbortPmsr(r) => r.emit_as(self.cmd(), buf),
        }
    }
}

/// `HWSIM_CMD_FRAME` from the guest: one frame a radio transmits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxFrameRepr<'a> {
    /// The transmitting radio (`ADDR_TRANSMITTER`, the radio's `addresses[1]`).
    pub transmitter: MacAddr,
    /// The 802.11 frame without FCS, 1..=2304 bytes.
    pub frame: &'a [u8],
    /// [`tx_flags`](super::tx_flags) bits; 0 when absent.
    pub flags: u32,
    /// Channel centre frequency in MHz.
    pub freq: Option<u32>,
    /// Rate chain from mac80211 rate control; all [`TxRate::UNUSED`] when absent.
    pub tx_info: [TxRate; 4],
    /// Per-rate flags.
    pub tx_info_flags: Option<[TxRateFlag; 4]>,
    /// Per-radio cookie to echo in the TX status.
    pub cookie: u64,
}

impl<'a> TxFrameRepr<'a> {
    /// Parses a guest `HWSIM_CMD_FRAME` message (any other command → `UnknownCommand`).
    pub fn parse(buf: &'a [u8]) -> Result<TxFrameRepr<'a>, Error> {
        match GuestMessage::parse(buf)? {
            GuestMessage::Frame(r) => Ok(r),
            other => Err(Error::UnknownCommand(other.cmd())),
        }
    }

    fn from_table(t: &AttrTable<'a>) -> Result<Self, Error> {
        let transmitter = required(t.mac(attr::ADDR_TRANSMITTER)?, attr::ADDR_TRANSMITTER)?;
        let frame = required(t.get(attr::FRAME), attr::FRAME)?;
        check_frame_len(frame)?;
        Ok(TxFrameRepr {
            transmitter,
            frame,
            flags: t.u32(attr::FLAGS)?.unwrap_or(0),
            freq: t.u32(attr::FREQ)?,
            tx_info: t.tx_info()?.unwrap_or([TxRate::UNUSED; 4]),
            tx_info_flags: t.tx_info_flags()?,
            cookie: required(t.u64(attr::COOKIE)?, attr::COOKIE)?,
        })
    }

    /// Attributes in the kernel's order (`mac80211_hwsim_tx_frame_nl()`), without `PAD`.
    fn visit(&self, put: &mut AttrSink<'_>) {
        put(attr::ADDR_TRANSMITTER, &self.transmitter.0);
        put(attr::FRAME, self.frame);
        put(attr::FLAGS, &self.flags.to_ne_bytes());
        if let Some(freq) = self.freq {
            put(attr::FREQ, &freq.to_ne_bytes());
        }
        put(attr::TX_INFO, &codec::tx_info_bytes(&self.tx_info));
        if let Some(flags) = &self.tx_info_flags {
            put(attr::TX_INFO_FLAGS, &codec::tx_info_flags_bytes(flags));
        }
        put(attr::COOKIE, &self.cookie.to_ne_bytes());
    }

    /// Length of the message [`TxFrameRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        codec::buffer_len(|p| self.visit(p))
    }

    /// Writes the complete message to the start of `buf`; returns `nlmsg_len`.
    /// The frame must be 1..=2304 bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        check_frame_len(self.frame)?;
        codec::emit(cmd::FRAME, buf, |p| self.visit(p))
    }
}

fn check_frame_len(frame: &[u8]) -> Result<(), Error> {
    match frame.len() {
        0 => Err(Error::FrameTooShort(0)),
        n if n > MAX_FRAME_LEN => Err(Error::FrameTooLong(n)),
        _ => Ok(()),
    }
}

/// `HWSIM_CMD_ADD_MAC_ADDR` / `DEL_MAC_ADDR`: the set of addresses a radio answers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacAddrRepr {
    /// The radio (`ADDR_TRANSMITTER`).
    pub radio: MacAddr,
    /// The vif / link / scan address added or removed (`ADDR_RECEIVER`).
    pub addr: MacAddr,
}

impl MacAddrRepr {
    fn from_table(t: &AttrTable<'_>) -> Result<Self, Error> {
        Ok(MacAddrRepr {
            radio: required(t.mac(attr::ADDR_TRANSMITTER)?, attr::ADDR_TRANSMITTER)?,
            addr: required(t.mac(attr::ADDR_RECEIVER)?, attr::ADDR_RECEIVER)?,
        })
    }

    fn visit(&self, put: &mut AttrSink<'_>) {
        put(attr::ADDR_TRANSMITTER, &self.radio.0);
        put(attr::ADDR_RECEIVER, &self.addr.0);
    }

    /// Length of the message [`MacAddrRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        codec::buffer_len(|p| self.visit(p))
    }

    /// Writes an `ADD_MAC_ADDR` message; returns `nlmsg_len`. For `DEL_MAC_ADDR` use
    /// [`MacAddrRepr::emit_as`] or [`GuestMessage::DelMacAddr`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.emit_as(cmd::ADD_MAC_ADDR, buf)
    }

    /// Writes the message with `command` ([`cmd::ADD_MAC_ADDR`] or [`cmd::DEL_MAC_ADDR`]).
    pub fn emit_as(&self, command: u8, buf: &mut [u8]) -> Result<usize, Error> {
        match command {
            cmd::ADD_MAC_ADDR | cmd::DEL_MAC_ADDR => codec::emit(command, buf, |p| self.visit(p)),
            other => Err(Error::UnknownCommand(other)),
        }
    }
}

/// `HWSIM_CMD_START_PMSR` / `ABORT_PMSR`: a peer-measurement request, kept as raw
/// nested attributes (walk them with [`Attributes::new`](super::Attributes::new)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PmsrRepr<'a> {
    /// The radio (`ADDR_TRANSMITTER`).
    pub radio: MacAddr,
    /// Payload of `PMSR_REQUEST` (nested nl80211 peer-measurement attributes).
    pub request: Option<&'a [u8]>,
}

impl<'a> PmsrRepr<'a> {
    fn from_table(t: &AttrTable<'a>) -> Result<Self, Error> {
        Ok(PmsrRepr {
            radio: required(t.mac(attr::ADDR_TRANSMITTER)?, attr::ADDR_TRANSMITTER)?,
            request: t.get(attr::PMSR_REQUEST),
        })
    }

    fn visit(&self, put: &mut AttrSink<'_>) {
        put(attr::ADDR_TRANSMITTER, &self.radio.0);
        if let Some(request) = self.request {
            put(attr::PMSR_REQUEST | NLA_F_NESTED, request);
        }
    }

    /// Length of the message [`PmsrRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        codec::buffer_len(|p| self.visit(p))
    }

    /// Writes a `START_PMSR` message; returns `nlmsg_len`. For `ABORT_PMSR` use
    /// [`PmsrRepr::emit_as`] or [`GuestMessage::AbortPmsr`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.emit_as(cmd::START_PMSR, buf)
    }

    /// Writes the message with `command` ([`cmd::START_PMSR`] or [`cmd::ABORT_PMSR`]).
    pub fn emit_as(&self, command: u8, buf: &mut [u8]) -> Result<usize, Error> {
        match command {
            cmd::START_PMSR | cmd::ABORT_PMSR => codec::emit(command, buf, |p| self.visit(p)),
            other => Err(Error::UnknownCommand(other)),
        }
    }
}
