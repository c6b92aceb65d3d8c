//! The `um_timetravel` wire format (Linux `include/uapi/linux/um_timetravel.h`).
//!
//! Every message in either direction is one `struct um_timetravel_msg`: `op` (u32), `seq` (u32),
//! `time` (u64, nanoseconds), 16 bytes, written raw in the host's byte order (UML exists only for
//! x86, so in practice little-endian). The socket is a Unix `SOCK_STREAM`, so a reader has to
//! reassemble messages from arbitrary chunks: [`Framer`] does that.
//!
//! Parsing never fails on a 16-byte buffer: an op this codec does not know stays
//! [`Op::Unknown`] and survives a round trip, so the controller decides what an unknown op means.

/// Bytes of one message on the wire.
pub const MESSAGE_LEN: usize = 16;

/// Largest number of file descriptors a message carries (`UM_TIMETRAVEL_MAX_FDS`). Only the
/// controller's ACK to START carries any: the shared-memory fd, then a log fd.
pub const MAX_FDS: usize = 2;

/// Bits of the START ACK's `time` field that name the client's slot in the shared memory
/// (`UM_TIMETRAVEL_START_ACK_ID`).
pub const START_ACK_ID_MASK: u64 = 0xffff;

/// The kernel's "never": a UML guest with nothing to do requests `S64_MAX`, and it panics if it
/// is ever run at or past that time (`time_travel_set_time`).
pub const FOREVER: u64 = i64::MAX as u64;

/// The time value the kernel puts in messages whose time field means nothing (WAIT, GET,
/// GET_TOD): `-1`.
pub const NO_TIME: u64 = u64::MAX;

/// Layout of the optional shared memory (`struct um_timetravel_schedshm`), version 2.
///
/// This crate does not use shared memory; the controller hands out a region whose version is
/// not [`shm::VERSION`], which makes the kernel unmap it and keep to messages
/// (`time_travel_setup_shm`). The offsets are recorded so that a later shared-memory mode has
/// them in one place.
pub mod shm {
    /// `UM_TIMETRAVEL_SCHEDSHM_VERSION`.
    pub const VERSION: u32 = 2;
    /// The header is padded to one 4 KiB page; the kernel maps exactly this much first.
    pub const HEADER_LEN: usize = 4096;
    /// Each client's slot is padded to 128 bytes.
    pub const CLIENT_LEN: usize = 128;
    /// Header field offsets: `version` u32, `len` u32, `free_until` u64, `current_time` u64,
    /// `running_id` u16, `max_clients` u16.
    pub const VERSION_OFFSET: usize = 0;
    /// Offset of `len` (bytes of the whole region, header included).
    pub const LEN_OFFSET: usize = 4;
    /// Offset of `free_until`.
    pub const FREE_UNTIL_OFFSET: usize = 8;
    /// Offset of `current_time`.
    pub const CURRENT_TIME_OFFSET: usize = 16;
    /// Offset of `running_id`.
    pub const RUNNING_ID_OFFSET: usize = 24;
    /// Offset of `max_clients`.
    pub const MAX_CLIENTS_OFFSET: usize = 26;
    /// Client slot field offsets: `capa` u32, `flags` u32, `req_time` u64, `name` u64.
    pub const CLIENT_CAPA_OFFSET: usize = 0;
    /// Offset of `flags` in a client slot.
    pub const CLIENT_FLAGS_OFFSET: usize = 4;
    /// Offset of `req_time` in a client slot.
    pub const CLIENT_REQ_TIME_OFFSET: usize = 8;
    /// Offset of `name` (the START id) in a client slot.
    pub const CLIENT_NAME_OFFSET: usize = 16;
    /// `UM_TIMETRAVEL_SCHEDSHM_CAP_TIME_SHARE`: the client uses the shared memory.
    pub const CAP_TIME_SHARE: u32 = 0x1;
    /// `UM_TIMETRAVEL_SCHEDSHM_FLAGS_REQ_RUN`: the client's `req_time` is a live request.
    pub const FLAG_REQ_RUN: u32 = 0x1;
}

/// Operation codes (`enum um_timetravel_ops`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// 0: the answer to any message; echoes its `seq`, carries a time only for GET, GET_TOD
    /// and START (the shared-memory slot).
    Ack,
    /// 1, client → controller: the first message; `time` is the client's id (`-1` if none).
    Start,
    /// 2, client → controller: run me at `time`; a new REQUEST replaces the previous one.
    Request,
    /// 3, client → controller: I stop running until a RUN; `time` is ignored.
    Wait,
    /// 4, client → controller: what time is it (answered in the ACK).
    Get,
    /// 5, client → controller: my clock is now `time` (sent while running, e.g. before a kick).
    Update,
    /// 6, controller → client: run now; `time` is the current time.
    Run,
    /// 7, controller → client: you may run without asking until just before `time`.
    FreeUntil,
    /// 8, client → controller: time of day at the current simulated time (answered in the ACK).
    GetTod,
    /// 9, both ways: a value for every other participant.
    Broadcast,
    /// Any other code, kept so it survives a round trip.
    Unknown(u32),
}

impl From<u32> for Op {
    fn from(code: u32) -> Self {
        match code {
            0 => Op::Ack,
            1 => Op::Start,
            2 => Op::Request,
            3 => Op::Wait,
            4 => Op::Get,
            5 => Op::Update,
            6 => Op::Run,
            7 => Op::FreeUntil,
            8 => Op::GetTod,
            9 => Op::Broadcast,
            other => Op::Unknown(other),
        }
    }
}

impl From<Op> for u32 {
    fn from(op: Op) -> Self {
        match op {
            Op::Ack => 0,
            Op::Start => 1,
            Op::Request => 2,
            Op::Wait => 3,
            Op::Get => 4,
            Op::Update => 5,
            Op::Run => 6,
            Op::FreeUntil => 7,
            Op::GetTod => 8,
            Op::Broadcast => 9,
            Op::Unknown(code) => code,
        }
    }
}

/// A buffer of the wrong length for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a time-travel message is {MESSAGE_LEN} bytes, got {got}")]
pub struct LengthError {
    /// The length that was offered.
    pub got: usize,
}

/// One `struct um_timetravel_msg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Message {
    /// What the message asks or answers.
    pub op: Op,
    /// The sender's sequence number; an ACK echoes the one it answers.
    pub seq: u32,
    /// Nanoseconds (or the START id, the broadcast value, [`NO_TIME`]).
    pub time: u64,
}

impl Message {
    /// A message with these fields.
    pub fn new(op: Op, seq: u32, time: u64) -> Self {
        Message { op, seq, time }
    }

    /// The ACK that answers the message numbered `seq`.
    pub fn ack(seq: u32, time: u64) -> Self {
        Message::new(Op::Ack, seq, time)
    }

    /// Reads one message from exactly [`MESSAGE_LEN`] bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, LengthError> {
        let raw: &[u8; MESSAGE_LEN] = bytes
            .try_into()
            .map_err(|_| LengthError { got: bytes.len() })?;
        Ok(Message::from_bytes(raw))
    }

    /// Reads one message; every 16-byte value is a message.
    pub fn from_bytes(raw: &[u8; MESSAGE_LEN]) -> Self {
        let [o0, o1, o2, o3, s0, s1, s2, s3, t0, t1, t2, t3, t4, t5, t6, t7] = *raw;
        Message {
            op: Op::from(u32::from_ne_bytes([o0, o1, o2, o3])),
            seq: u32::from_ne_bytes([s0, s1, s2, s3]),
            time: u64::from_ne_bytes([t0, t1, t2, t3, t4, t5, t6, t7]),
        }
    }

    /// The message's 16 bytes.
    pub fn emit(&self) -> [u8; MESSAGE_LEN] {
        let mut out = [0u8; MESSAGE_LEN];
        out[0..4].copy_from_slice(&u32::from(self.op).to_ne_bytes());
        out[4..8].copy_from_slice(&self.seq.to_ne_bytes());
        out[8..16].copy_from_slice(&self.time.to_ne_bytes());
        out
    }
}

/// Reassembles messages from a byte stream that arrives in arbitrary chunks.
#[derive(Clone, Debug, Default)]
pub struct Framer {
    partial: [u8; MESSAGE_LEN],
    have: usize,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Self {
        Framer::default()
    }

    /// Takes bytes from the front of `input` until one message is complete and returns it;
    /// `None` once `input` is used up with a message still incomplete (its bytes are kept for
    /// the next call).
    pub fn next_message(&mut self, input: &mut &[u8]) -> Option<Message> {
        let take = (MESSAGE_LEN - self.have).min(input.len());
        let (head, rest) = input.split_at(take);
        self.partial[self.have..self.have + take].copy_from_slice(head);
        self.have += take;
        *input = rest;
        if self.have < MESSAGE_LEN {
            return None;
        }
        self.have = 0;
        Some(Message::from_bytes(&self.partial))
    }

    /// Bytes of an incomplete message held back (non-zero at end of stream means the peer
    /// sent a truncated message).
    pub fn pending(&self) -> usize {
        self.have
    }
}

#[cfg(test)]
mod tests {
    use std::mem::{offset_of, size_of};

    use super::*;

    /// The kernel's structs, transcribed field by field from the header with natural alignment;
    /// the codec's offsets must match what the C compiler lays out.
    #[repr(C)]
    struct KernelMsg {
        op: u32,
        seq: u32,
        time: u64,
    }

    #[repr(C)]
    struct KernelShmHeader {
        version: u32,
        len: u32,
        free_until: u64,
        current_time: u64,
        running_id: u16,
        max_clients: u16,
    }

    #[repr(C)]
    struct KernelShmClient {
        capa: u32,
        flags: u32,
        req_time: u64,
        name: u64,
    }

    #[test]
    fn layout_matches_the_kernel_header() {
        assert_eq!(size_of::<KernelMsg>(), MESSAGE_LEN);
        assert_eq!(offset_of!(KernelMsg, op), 0);
        assert_eq!(offset_of!(KernelMsg, seq), 4);
        assert_eq!(offset_of!(KernelMsg, time), 8);
        assert_eq!(offset_of!(KernelShmHeader, version), shm::VERSION_OFFSET);
        assert_eq!(offset_of!(KernelShmHeader, len), shm::LEN_OFFSET);
        assert_eq!(
            offset_of!(KernelShmHeader, free_until),
            shm::FREE_UNTIL_OFFSET
        );
        assert_eq!(
            offset_of!(KernelShmHeader, current_time),
            shm::CURRENT_TIME_OFFSET
        );
        assert_eq!(
            offset_of!(KernelShmHeader, running_id),
            shm::RUNNING_ID_OFFSET
        );
        assert_eq!(
            offset_of!(KernelShmHeader, max_clients),
            shm::MAX_CLIENTS_OFFSET
        );
        assert!(size_of::<KernelShmHeader>() <= shm::HEADER_LEN);
        assert_eq!(offset_of!(KernelShmClient, capa), shm::CLIENT_CAPA_OFFSET);
        assert_eq!(offset_of!(KernelShmClient, flags), shm::CLIENT_FLAGS_OFFSET);
        assert_eq!(
            offset_of!(KernelShmClient, req_time),
            shm::CLIENT_REQ_TIME_OFFSET
        );
        assert_eq!(offset_of!(KernelShmClient, name), shm::CLIENT_NAME_OFFSET);
        assert!(size_of::<KernelShmClient>() <= shm::CLIENT_LEN);
    }

    /// Op codes as the header's enum numbers them.
    #[test]
    fn op_codes_are_the_kernels() {
        let table = [
            (Op::Ack, 0),
            (Op::Start, 1),
            (Op::Request, 2),
            (Op::Wait, 3),
            (Op::Get, 4),
            (Op::Update, 5),
            (Op::Run, 6),
            (Op::FreeUntil, 7),
            (Op::GetTod, 8),
            (Op::Broadcast, 9),
        ];
        for (op, code) in table {
            assert_eq!(u32::from(op), code);
            assert_eq!(Op::from(code), op);
        }
        assert_eq!(Op::from(10), Op::Unknown(10));
        assert_eq!(Op::from(u32::MAX), Op::Unknown(u32::MAX));
    }

    /// A REQUEST for 1.5 s with sequence number 7, as a little-endian x86 host writes it.
    #[cfg(target_endian = "little")]
    #[test]
    fn parses_a_request_from_kernel_bytes() {
        let bytes = [
            0x02, 0, 0, 0, // op = UM_TIMETRAVEL_REQUEST
            0x07, 0, 0, 0, // seq = 7
            0x00, 0x2f, 0x68, 0x59, 0, 0, 0, 0, // time = 1_500_000_000 ns
        ];
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg, Message::new(Op::Request, 7, 1_500_000_000));
        assert_eq!(msg.emit(), bytes);
    }

    /// WAIT carries time -1; START without an id carries -1 as its id.
    #[cfg(target_endian = "little")]
    #[test]
    fn wait_and_start_carry_minus_one() {
        let wait = [
            3, 0, 0, 0, 0x2a, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(
            Message::parse(&wait).unwrap(),
            Message::new(Op::Wait, 42, NO_TIME)
        );
        let start = Message::new(Op::Start, 1, 0x0102_0304_0506_0708);
        assert_eq!(
            start.emit(),
            [1, 0, 0, 0, 1, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn round_trips_every_op_and_extreme_values() {
        for code in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xdead_beef, u32::MAX] {
            for (seq, time) in [(0, 0), (u32::MAX, u64::MAX), (1, FOREVER)] {
                let msg = Message::new(Op::from(code), seq, time);
                assert_eq!(Message::parse(&msg.emit()).unwrap(), msg);
            }
        }
    }

    #[test]
    fn wrong_lengths_are_errors_not_panics() {
        for len in [0, 1, 15, 17, 32] {
            let buf = vec![0xffu8; len];
            assert_eq!(Message::parse(&buf), Err(LengthError { got: len }));
        }
    }

    #[test]
    fn framer_reassembles_arbitrary_chunks() {
        let msgs = [
            Message::new(Op::Start, 1, 5),
            Message::new(Op::Request, 2, 1000),
            Message::new(Op::Wait, 3, NO_TIME),
        ];
        let stream: Vec<u8> = msgs.iter().flat_map(|m| m.emit()).collect();
        for chunk in [1, 3, 7, 16, 17, 48] {
            let mut framer = Framer::new();
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                let mut rest = piece;
                while let Some(msg) = framer.next_message(&mut rest) {
                    got.push(msg);
                }
                assert!(rest.is_empty());
            }
            assert_eq!(got, msgs, "chunk size {chunk}");
            assert_eq!(framer.pending(), 0);
        }
    }

    #[test]
    fn framer_reports_a_truncated_tail() {
        let mut framer = Framer::new();
        let bytes = Message::new(Op::Get, 9, NO_TIME).emit();
        let mut rest = &bytes[..11];
        assert_eq!(framer.next_message(&mut rest), None);
        assert_eq!(framer.pending(), 11);
        let mut rest = &bytes[11..];
        assert_eq!(
            framer.next_message(&mut rest),
            Some(Message::new(Op::Get, 9, NO_TIME))
        );
    }
}
