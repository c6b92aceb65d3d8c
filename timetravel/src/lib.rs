//! User-Mode Linux time travel for vhost-hwsim: the `um_timetravel` protocol ([`wire`]), a
//! deterministic scheduling core ([`controller`]) and the Unix socket server that UML guests
//! started with `time-travel=ext:ID:SOCKET` connect to ([`server`]).
//!
//! The design, the protocol as the kernel speaks it and the public API are described in
//! `docs/time-travel.md`.

#![deny(missing_docs)]

pub mod controller;
pub mod server;
pub mod wire;
