//! The checks behind the fuzz targets in `fuzz_targets/`: each feeds one kind of input a
//! guest or a file can hand vhost-hwsim to the real parser or state machine and asserts what
//! its contract promises (no panic; whatever parses emits back to the same value; what the
//! AP MLD sends is a frame a station accepts). `FUZZING.md` at the repository root lists the
//! targets, how to run them and what they found.
//!
//! The checks live here rather than in the targets so several targets share them (the MAC
//! view and the element walk run on every frame the netlink and AP targets see) and so a
//! reproducer can be replayed from a unit test of this crate.

pub mod ap;
pub mod config;
pub mod crypto;
pub mod ie;
pub mod mac;
pub mod nl;
pub mod radiotap;
pub mod records;
pub mod station;
pub mod tracker;
