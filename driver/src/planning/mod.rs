//! Commands for people planning a topology: the link budget of a config, PHY rate tables and
//! the PER-vs-SNR figure. Not on the data path.

pub mod budget;
pub mod per_plot;
pub mod rates;

use std::sync::Arc;

use crate::config::{Config, ModelKind};
use crate::medium::{Medium, PerfectMedium, RadioMedium};

/// The medium a config asks for; `signal_dbm` is the perfect medium's constant signal.
pub fn medium_from(cfg: &Config, signal_dbm: i32) -> Arc<dyn Medium> {
    match cfg.model {
        ModelKind::Perfect => Arc::new(PerfectMedium {
            signal_dbm,
            ..PerfectMedium::default()
        }),
        ModelKind::Radio => Arc::new(RadioMedium::new(cfg)),
    }
}
