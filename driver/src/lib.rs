//! vhost-hwsim: a vhost-user device for Linux's `mac80211_hwsim` virtio driver (virtio ID 29)
//! that acts as a multi-VM wireless medium.
//!
//! One frame's journey: a guest's TX queue → [`vm::worker`] parses it
//! ([`hwsim_frame::nl`]) → the routing snapshot ([`switch`]) names candidate receivers → the
//! [`medium`] decides each one → deliveries go into receivers' inboxes (lock-free, bounded) → each
//! receiver VM's thread writes them into its RX queue, and the sender gets exactly one TX status.

#![deny(missing_docs)]

pub mod capture;
pub mod cli;
pub mod config;
pub mod control;
pub mod core;
pub mod counters;
pub mod ctl;
pub mod demo;
pub mod error;
pub mod listen_fd;
pub mod medium;
pub mod metrics;
pub mod mld;
pub mod monitor;
pub mod planning;
pub mod relay;
pub mod server;
pub mod setup;
mod signals;
pub mod socket_file;
pub mod stats;
pub mod switch;
pub mod vm;
pub mod vtime;
