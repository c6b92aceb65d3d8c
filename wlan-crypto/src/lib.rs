//! x
pub mod error;
pub mod kdf;
pub mod keys;
pub mod keywrap;
pub mod owe;
pub mod rng;
pub mod eapol;
pub mod kde;
pub mod bip;
pub mod ccmp;
pub mod handshake;
