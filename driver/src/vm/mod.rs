//! One vhost-user backend per VM connection.

pub mod backend;
pub mod chain;
pub mod inband;
pub mod worker;

pub use backend::VmBackend;
#[cfg(test)]
pub(crate) mod tests;
