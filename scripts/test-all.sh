#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests, then the real-guest
# scenarios when their rig is present. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) or Debian's cargo package" >&2
    exit 1
fi

# tshark decodes our captures in the capture tests; install it where we may (CI runs as root).
if ! command -v tshark >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    step "installing tshark (capture tests decode with it)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
mkdir -p target
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
grep -E '^test result:' target/test-output.txt | awk '{p+=$4; f+=$6} END {printf "\nrust tests: %d passed, %d failed\n", p, f}'

step "demo smoke run"
cargo run --quiet --release --locked --bin vhost-hwsim -- demo --seconds 1

step "real-guest scenarios (UML guests through vhost-hwsim)"
tests/vm/run all
