//! A simulated Wi-Fi 7 non-AP MLD: the station side of `vhost-hwsim demo`, beside the
//! built-in AP MLD (`hwsim-ap`).
//!
//! - [`guest`]: a simulated guest with a few radios over the `hwsim-guest` vhost-user
//!   frontend, counting what it sent, the TX statuses and what it received;
//! - [`frames`]: the station's frames (ML probe request, authentication, association request
//!   with per-STA profiles and Non-Inheritance, RSNE, OWE DH Parameter, deauthentication),
//!   built to the standard's layouts;
//! - [`station`]: the station's run: scan, ML probe, Open System authentication, ML
//!   association with OWE, the MLO 4-way handshake (the `hwsim-crypto` supplicant), beacon
//!   protection checks, CCMP data on every link, protected deauthentication;
//! - [`scene`]: the addresses the demo uses and the station's report.
//!
//! It sees the medium only through a vhost-user connection, like a VM.

#![deny(missing_docs)]

pub mod frames;
pub mod guest;
pub mod scene;
pub mod station;
