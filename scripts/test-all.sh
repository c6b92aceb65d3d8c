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

# tshark decodes our captures in the capture tests, tcpdump records the live monitor interface
# in the monitor test; install them where we may (CI runs as root).
missing=()
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
command -v tcpdump >/dev/null 2>&1 || missing+=(tcpdump)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    step "installing ${missing[*]} (capture and monitor tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Debian bookworm's tshark 4.0 cannot parse radiotap TLVs (EHT, U-SIG); the capture tests also
# run a trixie tshark (4.4) from a cached chroot when HWSIM_TSHARK_ROOT names it.
if [ -z "${HWSIM_TSHARK_ROOT:-}" ] && [ "$(id -u)" = 0 ]; then
    cache=${VHOST_HWSIM_CACHE:-$HOME/.cache/vhost-hwsim}
    root=$cache/tshark-trixie
    if [ ! -x "$root/usr/bin/tshark" ]; then
        step "building a trixie chroot with tshark 4.4 (EHT radiotap decoding)"
        command -v mmdebstrap >/dev/null 2>&1 || {
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap debian-archive-keyring >/dev/null
        }
        mkdir -p "$cache"
        rm -rf "$root.tmp"
        mmdebstrap --quiet --variant=apt --include=tshark trixie "$root.tmp" http://deb.debian.org/debian
        mv "$root.tmp" "$root"
    fi
    export HWSIM_TSHARK_ROOT=$root
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
mkdir -p target
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
grep -E '^test result:' target/test-output.txt | awk '{p+=$4; f+=$6} END {printf "\nrust tests: %d passed, %d failed\n", p, f}'

step "fuzz smoke run (every target of fuzz/, FUZZ_SECONDS each, default 20)"
bash scripts/fuzz-smoke.sh

step "demo smoke run"
cargo run --quiet --release --locked --bin vhost-hwsim -- demo --seconds 1
cargo run --quiet --release --locked --bin vhost-hwsim -- demo --classic --seconds 1

# Deterministic checks only (descriptors and threads back to where they were, VM count 0, every
# message accounted for); the 1,000-cycle run with its RSS bound is scripts/soak.sh alone.
step "short soak: 50 VM connections, every 4th guest SIGKILLed mid-traffic (a few seconds)"
scripts/soak.sh --cycles 50 --sample-every 10 --no-rss-bound

step "real-guest scenarios (UML guests through vhost-hwsim)"
tests/vm/run all

step "virtual-time determinism: two airtime runs under --time-travel give identical captures"
tests/vm/tt-determinism airtime
