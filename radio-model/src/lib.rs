//! hwsim-radio
