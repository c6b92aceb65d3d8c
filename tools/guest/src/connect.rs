//! vhost-user bring-up: connect, negotiate, share memory, configure both vrings.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use vhost::vhost_user::message::{VhostUserHeaderFlag, VhostUserProtocolFeatures};
use vhost::vhost_user::{Frontend, VhostUserFrontend};
use vhost::{VhostBackend, VhostUserMemoryRegionInfo, VringConfigData};
use vmm_sys_util::eventfd::EventFd;
use vmm_sys_util::sock_ctrl_msg::ScmSocket;

use crate::{Error, FrontendStyle};

pub(crate) const VIRTIO_F_RING_INDIRECT_DESC: u64 = 1 << 28;
pub(crate) const VIRTIO_F_RING_EVENT_IDX: u64 = 1 << 29;
pub(crate) const VHOST_USER_F_PROTOCOL_FEATURES: u64 = 1 << 30;
pub(crate) const VIRTIO_F_VERSION_1: u64 = 1 << 32;

const NUM_QUEUES: u64 = 2;

/// A frontend over an already connected stream.
pub(crate) fn from_stream(sock: UnixStream) -> Frontend {
    Frontend::from_stream(sock, NUM_QUEUES)
}

/// Connect, retrying while the device has not created or opened its socket yet.
pub(crate) fn connect_socket(path: &Path, timeout: Duration) -> Result<UnixStream, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        match UnixStream::connect(path) {
            Ok(sock) => return Ok(sock),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(source) => {
                return Err(Error::Connect {
                    path: path.to_owned(),
                    source,
                })
            }
        }
    }
}

/// What negotiation settled.
pub(crate) struct Negotiated {
    /// Virtio features acked with SET_FEATURES.
    pub features: u64,
    /// VHOST_USER_PROTOCOL_F_REPLY_ACK was acked: every request without a reply of its own
    /// carries NEED_REPLY and is answered.
    pub reply_ack: bool,
}

/// SET_OWNER, feature and protocol-feature negotiation, in virtio_uml's order: protocol
/// features (REPLY_ACK among them) before SET_FEATURES. usfstl's device (wmediumd `-u`) reads
/// a message's payload with one `recvmsg` as large as its buffer, so a request with a payload
/// followed at once by the next one reaches it as one and it aborts; once REPLY_ACK is on,
/// every request waits for its answer and none can follow another that closely.
pub(crate) fn negotiate(
    fe: &mut Frontend,
    event_idx: bool,
    indirect: bool,
) -> Result<Negotiated, Error> {
    fe.set_owner().map_err(Error::protocol("SET_OWNER"))?;
    let offered = fe.get_features().map_err(Error::protocol("GET_FEATURES"))?;
    // A device that does not offer VERSION_1 is a legacy one. Its split rings have the same
    // layout on a little-endian host, and Linux's virtio_uml accepts it (wmediumd's
    // vhost-user device offers no VERSION_1), so the frontend works with it too.
    let mut want = offered & VIRTIO_F_VERSION_1;
    for (bit, on) in [
        (VIRTIO_F_RING_EVENT_IDX, event_idx),
        (VIRTIO_F_RING_INDIRECT_DESC, indirect),
        (VHOST_USER_F_PROTOCOL_FEATURES, true),
    ] {
        if on && offered & bit != 0 {
            want |= bit;
        }
    }

    let mut reply_ack = false;
    if want & VHOST_USER_F_PROTOCOL_FEATURES != 0 {
        let proto = fe
            .get_protocol_features()
            .map_err(Error::protocol("GET_PROTOCOL_FEATURES"))?;
        let acked = proto & (VhostUserProtocolFeatures::REPLY_ACK | VhostUserProtocolFeatures::MQ);
        if acked.contains(VhostUserProtocolFeatures::REPLY_ACK) {
            // From SET_PROTOCOL_FEATURES on, every request without a reply of its own is
            // acknowledged (as virtio_uml does), so a refusal surfaces at the request that
            // caused it.
            fe.set_hdr_flags(VhostUserHeaderFlag::NEED_REPLY);
            reply_ack = true;
        }
        fe.set_protocol_features(acked)
            .map_err(Error::protocol("SET_PROTOCOL_FEATURES"))?;
        if acked.contains(VhostUserProtocolFeatures::MQ) {
            let n = fe
                .get_queue_num()
                .map_err(Error::protocol("GET_QUEUE_NUM"))?;
            if n < NUM_QUEUES {
                return Err(Error::NotOffered("2 queues"));
            }
        }
    }
    fe.set_features(want)
        .map_err(Error::protocol("SET_FEATURES"))?;
    Ok(Negotiated {
        features: want,
        reply_ack,
    })
}

/// SET_MEM_TABLE for the one region, laid out as `style` says. `raw` is a second handle on
/// the frontend's socket: the `vhost` crate only sends the exact layout.
pub(crate) fn set_mem_table(
    fe: &Frontend,
    raw: &UnixStream,
    style: FrontendStyle,
    reply_ack: bool,
    region: VhostUserMemoryRegionInfo,
) -> Result<(), Error> {
    match style {
        FrontendStyle::Qemu => fe
            .set_mem_table(&[region])
            .map(drop)
            .map_err(Error::protocol("SET_MEM_TABLE")),
        FrontendStyle::Uml => set_mem_table_uml(raw, reply_ack, &region),
    }
}

const SET_MEM_TABLE: u32 = 5;
const VHOST_USER_VERSION: u32 = 0x1;
const FLAG_REPLY: u32 = 0x4;
const FLAG_NEED_REPLY: u32 = 0x8;
/// The message header: request, flags, payload size (u32 each, little-endian).
const HEADER_LEN: usize = 12;
/// `num` and padding, then one entry of four u64 per region.
const MEM_TABLE_HEAD_LEN: usize = 8;
const MEM_REGION_LEN: usize = 32;
/// The regions virtio_uml's message always has room for (physical memory and highmem).
const UML_MEM_REGIONS: usize = 2;

/// The SET_MEM_TABLE message Linux's `virtio_uml` sends for one region: `num` = 1, but the
/// size declares room for two regions, the second left zero. usfstl's device (wmediumd `-u`)
/// asserts a payload of at least that size.
fn uml_mem_table_message(region: &VhostUserMemoryRegionInfo, need_reply: bool) -> Vec<u8> {
    let payload_len = MEM_TABLE_HEAD_LEN + UML_MEM_REGIONS * MEM_REGION_LEN;
    let flags = VHOST_USER_VERSION | if need_reply { FLAG_NEED_REPLY } else { 0 };
    let mut m = Vec::with_capacity(HEADER_LEN + payload_len);
    for word in [SET_MEM_TABLE, flags, payload_len as u32, 1, 0] {
        m.extend_from_slice(&word.to_le_bytes());
    }
    for v in [
        region.guest_phys_addr,
        region.memory_size,
        region.userspace_addr,
        region.mmap_offset,
    ] {
        m.extend_from_slice(&v.to_le_bytes());
    }
    m.resize(HEADER_LEN + payload_len, 0);
    m
}

fn set_mem_table_uml(
    raw: &UnixStream,
    reply_ack: bool,
    region: &VhostUserMemoryRegionInfo,
) -> Result<(), Error> {
    let msg = uml_mem_table_message(region, reply_ack);
    let sent = raw
        .send_with_fd(&msg[..], region.mmap_handle)
        .map_err(|e| Error::io("SET_MEM_TABLE")(std::io::Error::from_raw_os_error(e.errno())))?;
    if sent != msg.len() {
        return Err(Error::io("SET_MEM_TABLE")(std::io::Error::other(format!(
            "sent {sent} of {} bytes",
            msg.len()
        ))));
    }
    if !reply_ack {
        return Ok(());
    }
    // The acknowledgement: a header with REPLY set and a u64 that is 0 on success.
    let mut reply = [0u8; HEADER_LEN + 8];
    let mut r = raw;
    r.read_exact(&mut reply)
        .map_err(Error::io("SET_MEM_TABLE reply"))?;
    let word = |i: usize| u32::from_le_bytes(reply[i * 4..i * 4 + 4].try_into().unwrap_or([0; 4]));
    let status = u64::from_le_bytes(reply[HEADER_LEN..].try_into().unwrap_or([0xff; 8]));
    if word(0) != SET_MEM_TABLE || word(1) & FLAG_REPLY == 0 || word(2) != 8 || status != 0 {
        return Err(Error::io("SET_MEM_TABLE reply")(std::io::Error::other(
            format!(
                "refused or malformed: request {}, flags {:#x}, size {}, status {status}",
                word(0),
                word(1),
                word(2)
            ),
        )));
    }
    Ok(())
}

/// One queue's addresses (frontend virtual addresses, as vhost-user wants them).
pub(crate) struct VringSetup<'a> {
    pub index: usize,
    pub size: u16,
    pub desc: u64,
    pub avail: u64,
    pub used: u64,
    pub call: &'a EventFd,
    pub kick: &'a EventFd,
    pub enable: bool,
}

pub(crate) fn setup_vring(fe: &mut Frontend, v: &VringSetup<'_>) -> Result<(), Error> {
    fe.set_vring_num(v.index, v.size)
        .map_err(Error::protocol("SET_VRING_NUM"))?;
    let addr = VringConfigData {
        queue_max_size: v.size,
        queue_size: v.size,
        flags: 0,
        desc_table_addr: v.desc,
        used_ring_addr: v.used,
        avail_ring_addr: v.avail,
        log_addr: None,
    };
    fe.set_vring_addr(v.index, &addr)
        .map_err(Error::protocol("SET_VRING_ADDR"))?;
    fe.set_vring_base(v.index, 0)
        .map_err(Error::protocol("SET_VRING_BASE"))?;
    fe.set_vring_call(v.index, v.call)
        .map_err(Error::protocol("SET_VRING_CALL"))?;
    fe.set_vring_kick(v.index, v.kick)
        .map_err(Error::protocol("SET_VRING_KICK"))?;
    if v.enable {
        // Without PROTOCOL_FEATURES the rings are enabled by SET_FEATURES and this request
        // does not exist.
        fe.set_vring_enable(v.index, true)
            .map_err(Error::protocol("SET_VRING_ENABLE"))?;
    }
    Ok(())
}
