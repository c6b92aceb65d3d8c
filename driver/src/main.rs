//! The `vhost-hwsim` binary: parse arguments, run, report errors without panicking.

use clap::Parser;

fn main() {
    let args = vhost_hwsim::cli::Args::parse();
    if let Err(e) = vhost_hwsim::cli::run(args) {
        eprintln!("vhost-hwsim: {e}");
        std::process::exit(1);
    }
}
