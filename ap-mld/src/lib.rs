//! A simulated Wi-Fi 7 AP MLD for vhost-hwsim.
//!
//! * [`config`] — the TOML configuration (`--ap-config FILE`).
//! * [`elements`] — the elements each affiliated AP advertises and the per-STA profile
//!   inheritance rules.
//! * [`ap`] — the management state machine: frames in, frames out, time passed in.
//! * [`runtime`] — attaches one radio per link to the daemon's socket through the
//!   `hwsim-guest` frontend and drives the state machine.
//! * [`ds`] — its distribution system: a TAP ([`tap`]) or an in-process port ([`ds::LocalDs`]).

pub mod ap;
pub mod config;
pub mod ds;
pub mod elements;
pub mod runtime;
pub mod security;
pub mod tap;

pub use ap::{ApMld, Event, Tx};
pub use config::{ApConfig, Band, LinkConfig, Security};
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bprot;
#[cfg(test)]
mod tests_health;
#[cfg(test)]
mod tests_pmksa;
#[cfg(test)]
mod tests_rekey;
#[cfg(test)]
mod tests_sae;
#[cfg(test)]
mod tests_ttlm;
#[cfg(test)]
mod tests_wide;
