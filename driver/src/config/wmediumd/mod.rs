//! wmediumd's libconfig files as medium configs: `vhost-hwsim --wmediumd-config FILE` and
//! `vhost-hwsim convert FILE` (which prints the equivalent TOML).
//!
//! A file is read with [`libconfig`], mapped to the medium TOML ([`to_toml`]) and that TOML is
//! parsed like any `--config` file, so both paths give the same [`Config`]. What wmediumd does
//! that this medium cannot reproduce is refused with the line and the reason, never dropped;
//! docs/wmediumd.md lists what maps to what. The meanings are wmediumd's own (its
//! `wmediumd/config.c`): SNRs are per direction from the transmitter's power, unlisted pairs
//! have its default SNR of 30 dB, the noise level is −91 dBm, libconfig does not convert an
//! integer where a float is read (nor back), and so on.

pub mod libconfig;
mod mapping;
#[cfg(test)]
mod tests;

use std::path::Path;

use super::{Config, ConfigError};
pub use mapping::to_toml;

/// The format of a medium config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfigFormat {
    /// The medium TOML (`--config`).
    #[default]
    Toml,
    /// A wmediumd libconfig file (`--wmediumd-config`).
    Wmediumd,
}

impl Config {
    /// Parses a wmediumd libconfig text; errors name the line and column in that text.
    pub fn parse_wmediumd(text: &str) -> Result<Config, ConfigError> {
        let toml = to_toml(text)?;
        // Everything was checked against the wmediumd text already; an error here is a gap in
        // the mapping, reported (never a panic) with the generated text's place.
        Config::parse(&toml).map_err(|e| ConfigError {
            line: None,
            column: None,
            message: format!("the converted config is invalid (a bug in the conversion): {e}"),
        })
    }

    /// Reads and parses a file in `format`; errors carry the path.
    pub fn load_as(path: &Path, format: ConfigFormat) -> Result<Config, String> {
        match format {
            ConfigFormat::Toml => Config::load(path),
            ConfigFormat::Wmediumd => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Config::parse_wmediumd(&text).map_err(|e| format!("{}: {e}", path.display()))
            }
        }
    }
}
