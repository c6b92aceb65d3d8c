//! Attaches the AP MLD to a running vhost-hwsim: one `hwsim-guest` vhost-user connection to
//! the daemon's own socket, one radio per link (its wire address is the link's BSSID), every
//! frame sent with the link's frequency. To the daemon it is one more VM, so routing, the
//! radio model, capture and the MLD tracker treat it like any guest.
//!
//! One thread runs the loop: wait for RX (or the next TBTT), hand frames heard on a link's
//! frequency to [`ApMld::handle`], send what it returns, beacon on every link each beacon
//! interval, and apply commands (link removal) from [`ApHandle`].

use std::os::fd::RawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hwsim_frame::nl::{tx_flags, TxFrameRepr, TxRate};
use hwsim_frame::{DeviceMessage, GuestMessage, MacAddr};
use hwsim_guest::{Guest, GuestConfig};

use crate::ap::{ApMld, DataCounters, Event, Tx};
use crate::ds::DistributionSystem;

/// Commands to the running AP.
enum Command {
    RemoveLink {
        link_id: u8,
        tbtts: u16,
        reply: mpsc::Sender<Result<(), String>>,
    },
    Counters {
        reply: mpsc::Sender<(RuntimeStats, DataCounters, Vec<u8>)>,
    },
    Stop,
}

/// Counters of the runtime, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RuntimeStats {
    /// Frames sent, beacons included.
    pub tx_frames: u64,
    /// Beacons sent.
    pub beacons: u64,
    /// Frames received on one of our links' frequencies.
    pub rx_frames: u64,
    /// Frames received for another frequency (the medium delivers regardless of channel).
    pub rx_off_channel: u64,
    /// Device messages that did not parse.
    pub rx_malformed: u64,
    /// Frames that could not be sent (TX ring full or encoding error).
    pub tx_errors: u64,
    /// Ethernet frames read from the distribution system (TAP or in-process port).
    pub tap_rx: u64,
    /// Ethernet frames written to the distribution system.
    pub tap_tx: u64,
    /// Distribution-system reads or writes that failed.
    pub tap_errors: u64,
}

/// What `ap stats` answers: the runtime's and the data path's counters, and per link its
/// data frames each way and the downlink frames a negotiated mapping steered to it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ApStats {
    /// The runtime's counters.
    #[serde(flatten)]
    pub runtime: RuntimeStats,
    /// The AP MLD's counters.
    #[serde(flatten)]
    pub data: DataCounters,
    /// Per link, in link order.
    pub links: Vec<LinkStats>,
}

/// One link's share of [`ApStats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LinkStats {
    /// Link ID.
    pub link_id: u8,
    /// Data frames sent (EAPOL included).
    pub data_tx: u64,
    /// Data frames received.
    pub data_rx: u64,
    /// Downlink data frames a negotiated TID-to-link mapping put on this link.
    pub ttlm_steered: u64,
    /// Times this link was marked down for a station ([`crate::ap::health`]).
    pub health_down: u64,
    /// Times it came back.
    pub health_recovered: u64,
}

impl ApStats {
    /// The report of `runtime` and `data` for the links `ids` (link ID per link index).
    pub fn new(runtime: RuntimeStats, data: DataCounters, ids: &[u8]) -> ApStats {
        let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
        let links = ids
            .iter()
            .enumerate()
            .map(|(i, &link_id)| LinkStats {
                link_id,
                data_tx: at(&data.tx, i),
                data_rx: at(&data.rx, i),
                ttlm_steered: at(&data.ttlm_steered, i),
                health_down: at(&data.link_health.down_per_link, i),
                health_recovered: at(&data.link_health.recovered_per_link, i),
            })
            .collect();
        ApStats {
            runtime,
            data,
            links,
        }
    }
}

/// The running AP: send it commands, stop it.
pub struct ApHandle {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<RuntimeStats>>,
}

impl ApHandle {
    /// Starts removing link `link_id` with an AP removal timer of `tbtts`.
    pub fn remove_link(&self, link_id: u8, tbtts: u16) -> Result<(), String> {
        let (reply, rx) = mpsc::channel();
        self.commands
            .send(Command::RemoveLink {
                link_id,
                tbtts,
                reply,
            })
            .map_err(|_| "the AP MLD is not running".to_string())?;
        rx.recv_timeout(Duration::from_secs(2))
            .map_err(|_| "the AP MLD did not answer".to_string())?
    }

    /// The runtime's and the data path's counters, and the link IDs in link-index order.
    pub fn counters(&self) -> Option<(RuntimeStats, DataCounters, Vec<u8>)> {
        let (reply, rx) = mpsc::channel();
        self.commands.send(Command::Counters { reply }).ok()?;
        rx.recv_timeout(Duration::from_secs(2)).ok()
    }

    /// Stops the loop and returns its counters.
    pub fn stop(mut self) -> RuntimeStats {
        let _ = self.commands.send(Command::Stop);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for ApHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Errors starting the AP.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The vhost-user connection failed.
    #[error("cannot attach the AP MLD to {socket}: {source}")]
    Connect {
        /// The socket.
        socket: PathBuf,
        /// Why.
        source: hwsim_guest::Error,
    },
    /// The thread could not start.
    #[error("cannot start the AP MLD thread: {0}")]
    Thread(std::io::Error),
}

/// The AP's distribution system, if it has one.
pub type Ds = Option<Box<dyn DistributionSystem>>;

/// Where the AP's loop takes its time from: the TSF in its beacons and frames, and the TBTTs.
/// [`HostClock`] is the host's monotonic clock; the daemon supplies a virtual one under time
/// travel, so that beacons go out at exact simulated times.
pub trait ApClock: Send {
    /// Nanoseconds since the AP started.
    fn now_ns(&mut self) -> u64;
    /// One pass of the loop is done (everything due was sent; `tx_frames` sent so far) and the
    /// next TBTT is at `next_tbtt_ns`. A virtual clock ends its turn here.
    fn pass_done(&mut self, tx_frames: u64, next_tbtt_ns: u64);
    /// Waits until RX arrives (or `extra`, the distribution system, is readable), or until
    /// `next_tbtt_ns` is due, and returns true: the loop goes on. A virtual clock returns true
    /// only at the start of a turn (input makes it ask for one), and false now and then in
    /// between, so that commands are answered without acting.
    fn wait(
        &mut self,
        guest: &Guest,
        extra: Option<RawFd>,
        next_tbtt_ns: u64,
    ) -> Result<bool, hwsim_guest::Error>;
}

/// The host's monotonic clock (the default).
pub struct HostClock {
    start: Instant,
}

impl HostClock {
    /// A clock starting now.
    pub fn new() -> Self {
        HostClock {
            start: Instant::now(),
        }
    }
}

impl Default for HostClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ApClock for HostClock {
    fn now_ns(&mut self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn pass_done(&mut self, _tx_frames: u64, _next_tbtt_ns: u64) {}

    fn wait(
        &mut self,
        guest: &Guest,
        extra: Option<RawFd>,
        next_tbtt_ns: u64,
    ) -> Result<bool, hwsim_guest::Error> {
        let wait = Duration::from_nanos(next_tbtt_ns.saturating_sub(self.now_ns()))
            .min(Duration::from_millis(20));
        guest.wait_also(extra, wait).map(|_| true)
    }
}

/// Connects to `socket` and runs `ap` on its own thread, with `ds` (a TAP, or an in-process
/// port) as its distribution system if given.
pub fn spawn(ap: ApMld, socket: PathBuf, ds: Ds) -> Result<ApHandle, RuntimeError> {
    let cfg = guest_config(socket.clone());
    let guest = Guest::connect(&cfg).map_err(|source| RuntimeError::Connect { socket, source })?;
    run_on(ap, guest, ds, Box::new(HostClock::new()))
}

/// Like [`spawn`], over `stream`, one end of a socket pair whose other end the daemon in this
/// process serves (so the daemon knows which connection is the built-in AP MLD).
pub fn spawn_on_stream(ap: ApMld, stream: UnixStream, ds: Ds) -> Result<ApHandle, RuntimeError> {
    spawn_on_stream_with(ap, stream, ds, Box::new(HostClock::new()))
}

/// [`spawn_on_stream`] on `clock` (the daemon's virtual time).
pub fn spawn_on_stream_with(
    ap: ApMld,
    stream: UnixStream,
    ds: Ds,
    clock: Box<dyn ApClock>,
) -> Result<ApHandle, RuntimeError> {
    let cfg = guest_config(PathBuf::from("(in-process socket pair)"));
    let guest = Guest::connect_stream(&cfg, stream).map_err(|source| RuntimeError::Connect {
        socket: cfg.socket.clone(),
        source,
    })?;
    run_on(ap, guest, ds, clock)
}

fn guest_config(socket: PathBuf) -> GuestConfig {
    GuestConfig {
        socket,
        connect_timeout: Duration::from_secs(5),
        ..GuestConfig::default()
    }
}

fn run_on(
    ap: ApMld,
    guest: Guest,
    ds: Ds,
    clock: Box<dyn ApClock>,
) -> Result<ApHandle, RuntimeError> {
    let (commands, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("ap-mld".into())
        .spawn(move || Runner::new(ap, guest, ds, clock).run(rx))
        .map_err(RuntimeError::Thread)?;
    Ok(ApHandle {
        commands,
        thread: Some(thread),
    })
}

struct Runner {
    ap: ApMld,
    guest: Guest,
    clock: Box<dyn ApClock>,
    cookie: u64,
    stats: RuntimeStats,
    /// (link index, frame) heard, collected during a receive pass.
    heard: Vec<(usize, Vec<u8>)>,
    ds: Ds,
    /// Downlink frames so far (drives the round-robin link choice).
    downlink_counter: u64,
    /// (cookie, link, receiver) of recent unicast frames, at `sent_slot(cookie)`, so their TX
    /// statuses reach link health.
    sent: Vec<(u64, usize, MacAddr)>,
    /// TX statuses collected during a receive pass: (link, receiver, acknowledged).
    statuses: Vec<(usize, MacAddr, bool)>,
}

/// Unicast frames remembered for their TX status: more than the TX ring holds in flight.
const SENT_SLOTS: usize = 1024;

fn sent_slot(cookie: u64) -> usize {
    (cookie % SENT_SLOTS as u64) as usize
}

/// Ethernet frames taken from the TAP per loop turn, so the air side is never starved.
const TAP_BURST: usize = 64;
/// TX descriptors kept free for management frames and EAPOL: below this the TAP is not read
/// (its queue holds the frames, or drops them, as a NIC's would).
const TX_RESERVE: u16 = 16;

impl Runner {
    fn new(ap: ApMld, guest: Guest, ds: Ds, clock: Box<dyn ApClock>) -> Runner {
        Runner {
            ap,
            guest,
            clock,
            cookie: 0,
            stats: RuntimeStats::default(),
            heard: Vec::new(),
            ds,
            downlink_counter: 0,
            sent: vec![(0, 0, MacAddr::BROADCAST); SENT_SLOTS],
            statuses: Vec::new(),
        }
    }

    fn tsf(&mut self) -> u64 {
        self.clock.now_ns() / 1000
    }

    fn run(mut self, commands: mpsc::Receiver<Command>) -> RuntimeStats {
        let interval = u64::from(self.ap.config().beacon_interval_tu) * 1024 * 1000;
        let mut next_beacon = self.clock.now_ns();
        // False while a virtual clock waits between turns: then only commands are handled.
        let mut proceed = true;
        tracing::info!(
            mld = %self.ap.config().mld_addr,
            links = self.ap.config().links.len(),
            "built-in AP MLD running"
        );
        loop {
            loop {
                match commands.try_recv() {
                    Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                        for tx in self.ap.shutdown() {
                            self.send(&tx);
                        }
                        self.guest.reclaim_tx();
                        return self.stats;
                    }
                    Ok(Command::Counters { reply }) => {
                        let ids = self.ap.config().links.iter().map(|l| l.id).collect();
                        let _ = reply.send((self.stats, self.ap.counters().clone(), ids));
                    }
                    Ok(Command::RemoveLink {
                        link_id,
                        tbtts,
                        reply,
                    }) => {
                        let r = self.ap.remove_link(link_id, tbtts);
                        if r.is_ok() {
                            tracing::info!(link_id, tbtts, "AP MLD: removing link");
                        }
                        let _ = reply.send(r);
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            if proceed {
                let now = self.clock.now_ns();
                if now >= next_beacon {
                    let tsf = self.tsf();
                    for link in 0..self.ap.config().links.len() {
                        if let Some(tx) = self.ap.beacon(link, tsf) {
                            self.stats.beacons += 1;
                            self.send(&tx);
                        }
                    }
                    self.log_events();
                    next_beacon += interval;
                    if next_beacon < now {
                        next_beacon = now + interval;
                    }
                }
                self.guest.reclaim_tx();
                self.clock.pass_done(self.stats.tx_frames, next_beacon);
            }
            // Back-pressure: with the TX ring nearly full, wait for completions, not for the TAP.
            let ds_fd = self
                .ds
                .as_ref()
                .filter(|_| self.guest.tx_free() >= TX_RESERVE)
                .map(|ds| ds.fd());
            proceed = match self.clock.wait(&self.guest, ds_fd, next_beacon) {
                Ok(p) => p,
                Err(_) => {
                    tracing::warn!("AP MLD: the daemon closed the connection");
                    return self.stats;
                }
            };
            if !proceed {
                // Only the commands get a look (a virtual clock between turns).
                continue;
            }
            self.receive();
            let tsf = self.tsf();
            for (link, frame) in std::mem::take(&mut self.heard) {
                for tx in self.ap.handle(link, &frame, tsf) {
                    self.send(&tx);
                }
            }
            for tx in self.ap.poll(tsf) {
                self.send(&tx);
            }
            self.uplink_to_ds();
            self.downlink_from_ds();
            self.log_events();
            self.guest.reclaim_tx();
        }
    }

    /// Ethernet frames from stations to the TAP.
    fn uplink_to_ds(&mut self) {
        let frames = self.ap.take_uplink();
        let Some(ds) = self.ds.as_mut() else { return };
        for f in frames {
            match ds.send(&f) {
                Ok(()) => self.stats.tap_tx += 1,
                Err(_) => self.stats.tap_errors += 1,
            }
        }
    }

    /// Ethernet frames from the TAP to stations.
    fn downlink_from_ds(&mut self) {
        let mut buf = [0u8; 2048];
        for _ in 0..TAP_BURST {
            if self.guest.tx_free() < TX_RESERVE {
                self.guest.reclaim_tx();
                if self.guest.tx_free() < TX_RESERVE {
                    return;
                }
            }
            let Some(ds) = self.ds.as_mut() else { return };
            let n = match ds.recv(&mut buf) {
                Ok(Some(n)) => n,
                Ok(None) => return,
                Err(_) => {
                    self.stats.tap_errors += 1;
                    return;
                }
            };
            self.stats.tap_rx += 1;
            self.downlink_counter += 1;
            for tx in self.ap.downlink(&buf[..n], self.downlink_counter) {
                self.send(&tx);
            }
        }
    }

    fn receive(&mut self) {
        let ap = &self.ap;
        let stats = &mut self.stats;
        let heard = &mut self.heard;
        let sent = &self.sent;
        let statuses = &mut self.statuses;
        self.guest.recv_messages(|m| match m {
            Ok(DeviceMessage::TxInfo(info)) => {
                if let Some(&(cookie, link, receiver)) = sent.get(sent_slot(info.cookie)) {
                    if cookie == info.cookie {
                        statuses.push((link, receiver, info.flags & tx_flags::STAT_ACK != 0));
                    }
                }
            }
            Ok(DeviceMessage::Frame(rx)) => {
                let Some(link) = ap.link_by_bssid(rx.receiver) else {
                    stats.rx_malformed += 1;
                    return;
                };
                if rx.freq != Some(ap.link_config(link).freq) {
                    stats.rx_off_channel += 1;
                    return;
                }
                stats.rx_frames += 1;
                heard.push((link, rx.frame.to_vec()));
            }
            Err(_) => stats.rx_malformed += 1,
        });
        for (link, receiver, acked) in self.statuses.drain(..) {
            self.ap.tx_status(link, receiver, acked);
        }
    }

    fn send(&mut self, tx: &Tx) {
        let link = self.ap.link_config(tx.link);
        self.cookie += 1;
        let msg = GuestMessage::Frame(TxFrameRepr {
            transmitter: link.bssid,
            frame: &tx.frame,
            flags: tx_flags::REQ_TX_STATUS,
            freq: Some(link.freq),
            tx_info: [
                TxRate { idx: 0, count: 4 },
                TxRate::UNUSED,
                TxRate::UNUSED,
                TxRate::UNUSED,
            ],
            tx_info_flags: None,
            cookie: self.cookie,
        });
        if self.guest.tx_free() == 0 {
            self.guest.reclaim_tx();
        }
        match self.guest.send_message(&msg) {
            Ok(()) => {
                self.stats.tx_frames += 1;
                // Unicast frames' statuses feed link health; remember who each was for.
                if let Some(receiver) = tx
                    .frame
                    .get(4..10)
                    .map(|a| MacAddr(a.try_into().expect("six bytes")))
                {
                    if !receiver.is_group() {
                        self.sent[sent_slot(self.cookie)] = (self.cookie, tx.link, receiver);
                    }
                }
            }
            Err(e) => {
                self.stats.tx_errors += 1;
                tracing::debug!(error = %e, "AP MLD: cannot send");
            }
        }
    }

    fn log_events(&mut self) {
        for e in self.ap.take_events() {
            match e {
                Event::Associated { sta, aid, links } => {
                    let ids: Vec<u8> = links
                        .iter()
                        .map(|(l, _)| self.ap.link_config(*l).id)
                        .collect();
                    tracing::info!(%sta, aid, links = ?ids, "AP MLD: station associated");
                }
                Event::Left { sta } => tracing::info!(%sta, "AP MLD: station left"),
                Event::Authorized { sta } => {
                    tracing::info!(%sta, "AP MLD: 4-way handshake done, station authorized")
                }
                Event::LinkRemoved { link_id } => {
                    tracing::info!(link_id, "AP MLD: link removed")
                }
            }
        }
    }
}

#[cfg(test)]
mod stats_tests {
    use super::*;

    #[test]
    fn ap_stats_serialize_as_the_control_socket_shows_them() {
        let data = DataCounters {
            tx: vec![5, 6],
            rx: vec![7],
            rx_dropped: 2,
            handshakes: 1,
            ttlm: crate::ap::TtlmCounters {
                accepted: 3,
                ..Default::default()
            },
            ttlm_steered: vec![0, 9],
            ..Default::default()
        };
        let runtime = RuntimeStats {
            beacons: 11,
            ..Default::default()
        };
        let json = serde_json::to_value(ApStats::new(runtime, data, &[0, 2])).unwrap();
        assert_eq!(json["beacons"], 11);
        assert_eq!(json["handshakes"], 1);
        assert_eq!(json["data_rx_dropped"], 2);
        assert_eq!(json["ttlm"]["accepted"], 3);
        assert_eq!(json["ttlm"]["refused"], 0);
        assert!(json.get("tx").is_none() && json.get("rx_dropped").is_none());
        let links = json["links"].as_array().unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(links[1]["link_id"], 2);
        assert_eq!(links[1]["data_tx"], 6);
        assert_eq!(links[1]["data_rx"], 0, "a link without a count shows 0");
        assert_eq!(links[1]["ttlm_steered"], 9);
    }
}
