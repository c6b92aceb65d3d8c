//! Typed messages on top of the byte-level guest, using `hwsim-frame`'s generic-netlink codec.

use hwsim_frame::{DeviceMessage, GuestMessage};

use crate::{Error, Guest};

impl Guest {
    /// Emit `msg` (e.g. `GuestMessage::Frame(TxFrameRepr { .. })`) and send it like
    /// [`Guest::send`]. No allocation.
    pub fn send_message(&mut self, msg: &GuestMessage<'_>) -> Result<(), Error> {
        self.send_filled(|buf| msg.emit(buf).map_err(Error::from))
    }

    /// [`Guest::recv_with`], with each message parsed as a device → driver message.
    pub fn recv_messages<F>(&mut self, mut f: F) -> usize
    where
        F: FnMut(Result<DeviceMessage<'_>, hwsim_frame::Error>),
    {
        self.recv_with(|bytes| f(DeviceMessage::parse(bytes)))
    }
}
