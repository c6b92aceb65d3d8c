//! vhost-user bring-up: connect, negotiate, share memory, configure both vrings.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use vhost::vhost_user::message::{VhostUserHeaderFlag, VhostUserProtocolFeatures};
use vhost::vhost_user::{Frontend, VhostUserFrontend};
use vhost::{VhostBackend, VhostUserMemoryRegionInfo, VringConfigData};
use vmm_sys_util::eventfd::EventFd;

use crate::Error;

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
pub(crate) fn connect_socket(path: &Path, timeout: Duration) -> Result<Frontend, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        match UnixStream::connect(path) {
            Ok(sock) => return Ok(Frontend::from_stream(sock, NUM_QUEUES)),
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

/// SET_OWNER, feature and protocol-feature negotiation. Returns the acked virtio features.
pub(crate) fn negotiate(fe: &mut Frontend, event_idx: bool, indirect: bool) -> Result<u64, Error> {
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
    fe.set_features(want)
        .map_err(Error::protocol("SET_FEATURES"))?;

    if want & VHOST_USER_F_PROTOCOL_FEATURES != 0 {
        let proto = fe
            .get_protocol_features()
            .map_err(Error::protocol("GET_PROTOCOL_FEATURES"))?;
        let acked = proto & (VhostUserProtocolFeatures::REPLY_ACK | VhostUserProtocolFeatures::MQ);
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
        if acked.contains(VhostUserProtocolFeatures::REPLY_ACK) {
            // From now on every request without a reply of its own is acknowledged, so a
            // refusal surfaces at the request that caused it.
            fe.set_hdr_flags(VhostUserHeaderFlag::NEED_REPLY);
        }
    }
    Ok(want)
}

pub(crate) fn set_mem_table(fe: &Frontend, region: VhostUserMemoryRegionInfo) -> Result<(), Error> {
    fe.set_mem_table(&[region])
        .map(drop)
        .map_err(Error::protocol("SET_MEM_TABLE"))
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
