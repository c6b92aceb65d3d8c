//! Memory as each frontend style declares it on the wire (SET_MEM_TABLE, SET_VRING_ADDR),
//! read by a hand-written device on the other end of a socket pair (`vhost-user-backend`
//! would refuse the UML style's SET_MEM_TABLE outright).
//! The device offers what wmediumd's usfstl device offers: no VERSION_1, PROTOCOL_FEATURES,
//! and REPLY_ACK when asked to. With REPLY_ACK it also reads like usfstl: the payload with one
//! read as large as its buffer, a moment after the header, so a request sent right behind
//! another without waiting for an answer would arrive glued to it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::Duration;

use hwsim_guest::{FrontendStyle, Guest, GuestConfig, MEM_BASE};
use vmm_sys_util::sock_ctrl_msg::ScmSocket;

const GET_FEATURES: u32 = 1;
const SET_MEM_TABLE: u32 = 5;
const SET_VRING_ADDR: u32 = 9;
const SET_VRING_KICK: u32 = 12;
const GET_PROTOCOL_FEATURES: u32 = 15;
const PROTOCOL_FEATURES: u64 = 1 << 30;
const PROTOCOL_F_REPLY_ACK: u64 = 1 << 3;
const FLAG_REPLY: u32 = 0x4;
const FLAG_NEED_REPLY: u32 = 0x8;

/// One request as the device received it.
struct Request {
    request: u32,
    flags: u32,
    payload: Vec<u8>,
    had_fd: bool,
}

/// What the device saw: the requests, and the one whose payload read also returned bytes of
/// the next request (after which it stopped serving).
struct Seen {
    requests: Vec<Request>,
    glued_after: Option<u32>,
}

/// Serves requests until the guest hangs up. Answers GET_FEATURES and GET_PROTOCOL_FEATURES,
/// and acknowledges NEED_REPLY with `mem_table_status` for SET_MEM_TABLE, 0 for the rest.
fn device(mut s: UnixStream, reply_ack: bool, mem_table_status: u64) -> thread::JoinHandle<Seen> {
    thread::spawn(move || {
        let mut seen = Seen {
            requests: Vec::new(),
            glued_after: None,
        };
        loop {
            let mut hdr = [0u8; 12];
            let (n, fd) = s.recv_with_fd(&mut hdr[..]).expect("recvmsg");
            if n == 0 {
                return seen;
            }
            s.read_exact(&mut hdr[n..]).expect("rest of the header");
            let word = |i: usize| u32::from_le_bytes(hdr[i * 4..i * 4 + 4].try_into().unwrap());
            let (request, flags) = (word(0), word(1));
            let mut payload = vec![0u8; word(2) as usize];
            if reply_ack && !payload.is_empty() {
                thread::sleep(Duration::from_millis(5));
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).expect("payload");
                if n > payload.len() {
                    seen.glued_after = Some(request);
                    return seen;
                }
                payload[..n].copy_from_slice(&buf[..n]);
                s.read_exact(&mut payload[n..])
                    .expect("rest of the payload");
            } else {
                s.read_exact(&mut payload).expect("payload");
            }
            let answer = match request {
                GET_FEATURES => Some(PROTOCOL_FEATURES),
                GET_PROTOCOL_FEATURES => Some(if reply_ack { PROTOCOL_F_REPLY_ACK } else { 0 }),
                SET_MEM_TABLE if flags & FLAG_NEED_REPLY != 0 => Some(mem_table_status),
                _ if flags & FLAG_NEED_REPLY != 0 => Some(0),
                _ => None,
            };
            if let Some(v) = answer {
                let mut m = Vec::new();
                for w in [request, 0x1 | FLAG_REPLY, 8] {
                    m.extend_from_slice(&w.to_le_bytes());
                }
                m.extend_from_slice(&v.to_le_bytes());
                if s.write_all(&m).is_err() {
                    return seen;
                }
            }
            seen.requests.push(Request {
                request,
                flags,
                payload,
                had_fd: fd.is_some(),
            });
        }
    })
}

/// Connects a guest of `style` to the device; returns what it sent and the guest's memory
/// size.
fn bring_up(style: FrontendStyle, reply_ack: bool) -> (Vec<Request>, u64) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let dev = device(theirs, reply_ack, 0);
    let cfg = GuestConfig {
        style,
        ..GuestConfig::default()
    };
    let guest = Guest::connect_stream(&cfg, ours).map(|g| (g.features(), g.mem_size()));
    // The guest is gone (or never came up): the device sees the hang-up and returns.
    let seen = dev.join().unwrap();
    assert_eq!(
        seen.glued_after, None,
        "a request went out right behind this one, without waiting for an answer"
    );
    let (features, size) = guest.expect("the guest comes up");
    assert_eq!(features, PROTOCOL_FEATURES, "a legacy device");
    (seen.requests, size)
}

fn mem_table(seen: &[Request]) -> &Request {
    let tables: Vec<&Request> = seen.iter().filter(|r| r.request == SET_MEM_TABLE).collect();
    assert_eq!(tables.len(), 1, "one SET_MEM_TABLE");
    tables[0]
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The descriptor, used and available ring addresses of both SET_VRING_ADDRs.
fn vring_addrs(seen: &[Request]) -> Vec<u64> {
    let v: Vec<u64> = seen
        .iter()
        .filter(|r| r.request == SET_VRING_ADDR)
        .flat_map(|r| [8, 16, 24].map(|at| u64_at(&r.payload, at)))
        .collect();
    assert_eq!(v.len(), 6, "two SET_VRING_ADDRs");
    v
}

#[test]
fn uml_style_declares_room_for_two_regions_and_user_addresses_equal_to_physical() {
    for reply_ack in [false, true] {
        let (seen, size) = bring_up(FrontendStyle::Uml, reply_ack);
        let t = mem_table(&seen);
        assert_eq!(t.payload.len(), 8 + 2 * 32, "virtio_uml's size");
        assert_eq!(u32::from_le_bytes(t.payload[0..4].try_into().unwrap()), 1);
        assert_eq!(u64_at(&t.payload, 8), MEM_BASE, "guest address");
        assert_eq!(u64_at(&t.payload, 16), size, "region size");
        assert_eq!(
            u64_at(&t.payload, 24),
            MEM_BASE,
            "user address = guest address"
        );
        assert!(t.payload[40..].iter().all(|&b| b == 0), "second entry zero");
        assert!(t.had_fd, "the memfd travels with it");
        assert_eq!(t.flags & FLAG_NEED_REPLY != 0, reply_ack);
        // The rings are given in the same space, inside the region.
        for a in vring_addrs(&seen) {
            assert!((MEM_BASE..MEM_BASE + size).contains(&a), "{a:#x}");
        }
        // Both vrings were set up after it: with REPLY_ACK the guest consumed the ack itself,
        // else the vhost crate would have read it as the next request's reply and failed.
        let after = seen.iter().skip_while(|r| r.request != SET_MEM_TABLE);
        assert_eq!(after.filter(|r| r.request == SET_VRING_KICK).count(), 2);
    }
}

#[test]
fn qemu_style_sizes_the_payload_by_its_region_and_gives_its_own_addresses() {
    let (seen, size) = bring_up(FrontendStyle::Qemu, true);
    let t = mem_table(&seen);
    assert_eq!(t.payload.len(), 8 + 32);
    assert_eq!(u64_at(&t.payload, 16), size);
    let user = u64_at(&t.payload, 24);
    assert_ne!(user, MEM_BASE, "the frontend's mapping");
    for a in vring_addrs(&seen) {
        assert!((user..user + size).contains(&a), "{a:#x}");
    }
}

#[test]
fn a_refused_uml_mem_table_fails_the_connect() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let dev = device(theirs, true, 1);
    let cfg = GuestConfig {
        style: FrontendStyle::Uml,
        ..GuestConfig::default()
    };
    let err = Guest::connect_stream(&cfg, ours).expect_err("the device said no");
    assert!(err.to_string().contains("SET_MEM_TABLE"), "{err}");
    drop(dev);
}
