//! Device → guest messages (the RX virtqueue): received frames and TX status.

use super::codec::{self, required, AttrSink, AttrTable};
use super::{attr, cmd, Error, TxRate, MAX_FRAME_LEN, MIN_RX_FRAME_LEN};
use crate::MacAddr;

/// A message the device sends to the guest driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceMessage<'a> {
    /// `HWSIM_CMD_FRAME`: a frame received by one radio.
    Frame(RxFrameRepr<'a>),
    /// `HWSIM_CMD_TX_INFO_FRAME`: the TX status of one transmitted frame.
    TxInfo(TxInfoRepr),
}

impl<'a> DeviceMessage<'a> {
    /// Parses the message at the start of `buf` (bytes after `nlmsg_len` are ignored),
    /// applying the checks the guest driver applies. Commands other than `FRAME` and
    /// `TX_INFO_FRAME` give [`Error::UnknownCommand`].
    pub fn parse(buf: &'a [u8]) -> Result<DeviceMessage<'a>, Error> {
        let (command, body) = codec::split_message(buf)?;
        match command {
            cmd::FRAME => Ok(DeviceMessage::Frame(RxFrameRepr::from_table(
                &AttrTable::collect(body)?,
            )?)),
            cmd::TX_INFO_FRAME => Ok(DeviceMessage::TxInfo(TxInfoRepr::from_table(
                &AttrTable::collect(body)?,
            )?)),
            other => Err(Error::UnknownCommand(other)),
        }
    }

    /// The genetlink command this message is sent with.
    pub fn cmd(&self) -> u8 {
        match self {
            DeviceMessage::Frame(_) => cmd::FRAME,
            DeviceMessage::TxInfo(_) => cmd::TX_INFO_FRAME,
        }
    }

    /// Length of the message [`DeviceMessage::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            DeviceMessage::Frame(r) => r.buffer_len(),
            DeviceMessage::TxInfo(r) => r.buffer_len(),
        }
    }

    /// Writes the complete message to the start of `buf`; returns `nlmsg_len`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        match self {
            DeviceMessage::Frame(r) => r.emit(buf),
            DeviceMessage::TxInfo(r) => r.emit(buf),
        }
    }
}

/// `HWSIM_CMD_FRAME` to the guest: deliver a frame to one radio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxFrameRepr<'a> {
    /// The receiving radio (`ADDR_RECEIVER`, its `addresses[1]`; not the 802.11 addr1).
    pub receiver: MacAddr,
    /// The 802.11 frame without FCS, 24..=2304 bytes.
    pub frame: &'a [u8],
    /// Legacy rate index within the band of `freq`.
    pub rx_rate: u32,
    /// Channel centre frequency in MHz (always send it).
    pub freq: Option<u32>,
    /// Signal in dBm.
    pub signal: i32,
}

impl<'a> RxFrameRepr<'a> {
    /// Parses a device `HWSIM_CMD_FRAME` message (other commands → `UnknownCommand`).
    pub fn parse(buf: &'a [u8]) -> Result<RxFrameRepr<'a>, Error> {
        match DeviceMessage::parse(buf)? {
            DeviceMessage::Frame(r) => Ok(r),
            other => Err(Error::UnknownCommand(other.cmd())),
        }
    }

    fn from_table(t: &AttrTable<'a>) -> Result<Self, Error> {
        let receiver = required(t.mac(attr::ADDR_RECEIVER)?, attr::ADDR_RECEIVER)?;
        let frame = required(t.get(attr::FRAME), attr::FRAME)?;
        check_rx_frame_len(frame)?;
        Ok(RxFrameRepr {
            receiver,
            frame,
            rx_rate: required(t.u32(attr::RX_RATE)?, attr::RX_RATE)?,
            freq: t.u32(attr::FREQ)?,
            signal: required(t.i32(attr::SIGNAL)?, attr::SIGNAL)?,
        })
    }

    fn visit(&self, put: &mut AttrSink<'_>) {
        put(attr::ADDR_RECEIVER, &self.receiver.0);
        put(attr::FRAME, self.frame);
        put(attr::RX_RATE, &self.rx_rate.to_ne_bytes());
        if let Some(freq) = self.freq {
            put(attr::FREQ, &freq.to_ne_bytes());
        }
        put(attr::SIGNAL, &self.signal.to_ne_bytes());
    }

    /// Length of the message [`RxFrameRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        codec::buffer_len(|p| self.visit(p))
    }

    /// Writes the complete message to the start of `buf`; returns `nlmsg_len`.
    /// The frame must be 24..=2304 bytes (the guest drops anything else).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        check_rx_frame_len(self.frame)?;
        codec::emit(cmd::FRAME, buf, |p| self.visit(p))
    }
}

fn check_rx_frame_len(frame: &[u8]) -> Result<(), Error> {
    match frame.len() {
        n if n < MIN_RX_FRAME_LEN => Err(Error::FrameTooShort(n)),
        n if n > MAX_FRAME_LEN => Err(Error::FrameTooLong(n)),
        _ => Ok(()),
    }
}

/// `HWSIM_CMD_TX_INFO_FRAME`: the TX status of one guest frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxInfoRepr {
    /// The transmitting radio, echoed from the frame.
    pub transmitter: MacAddr,
    /// The frame's flags, with [`STAT_ACK`](super::tx_flags::STAT_ACK) when acknowledged.
    pub flags: u32,
    /// The frame's cookie, echoed.
    pub cookie: u64,
    /// ACK signal in dBm.
    pub signal: i32,
    /// Attempted-rate chain (always sent as 8 bytes).
    pub tx_info: [TxRate; 4],
    /// Channel centre frequency in MHz (ignored by the guest).
    pub freq: Option<u32>,
}

impl TxInfoRepr {
    /// Parses a `HWSIM_CMD_TX_INFO_FRAME` message (other commands → `UnknownCommand`).
    pub fn parse(buf: &[u8]) -> Result<TxInfoRepr, Error> {
        match DeviceMessage::parse(buf)? {
            DeviceMessage::TxInfo(r) => Ok(r),
            other => Err(Error::UnknownCommand(other.cmd())),
        }
    }

    fn from_table(t: &AttrTable<'_>) -> Result<Self, Error> {
        Ok(TxInfoRepr {
            transmitter: required(t.mac(attr::ADDR_TRANSMITTER)?, attr::ADDR_TRANSMITTER)?,
            flags: required(t.u32(attr::FLAGS)?, attr::FLAGS)?,
            cookie: required(t.u64(attr::COOKIE)?, attr::COOKIE)?,
            signal: required(t.i32(attr::SIGNAL)?, attr::SIGNAL)?,
            tx_info: required(t.tx_info()?, attr::TX_INFO)?,
            freq: t.u32(attr::FREQ)?,
        })
    }

    fn visit(&self, put: &mut AttrSink<'_>) {
        put(attr::ADDR_TRANSMITTER, &self.transmitter.0);
        put(attr::FLAGS, &self.flags.to_ne_bytes());
        put(attr::SIGNAL, &self.signal.to_ne_bytes());
        put(attr::TX_INFO, &codec::tx_info_bytes(&self.tx_info));
        put(attr::COOKIE, &self.cookie.to_ne_bytes());
        if let Some(freq) = self.freq {
            put(attr::FREQ, &freq.to_ne_bytes());
        }
    }

    /// Length of the message [`TxInfoRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        codec::buffer_len(|p| self.visit(p))
    }

    /// Writes the complete message to the start of `buf`; returns `nlmsg_len`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        codec::emit(cmd::TX_INFO_FRAME, buf, |p| self.visit(p))
    }
}
