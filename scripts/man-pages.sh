#!/usr/bin/env bash
# Writes the man pages and shell completions of the workspace's binaries, generated from their
# clap definitions, for packaging:
#   scripts/man-pages.sh [OUTDIR]     (default target/share)
# OUTDIR/man/man1/{vhost-hwsim,hwsim-load}.1 and
# OUTDIR/completions/{bash,zsh,fish}/… .
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/share}
cargo build --quiet --release --locked --bin vhost-hwsim --bin hwsim-load
mkdir -p "$out/man/man1" "$out/completions/bash" "$out/completions/zsh" "$out/completions/fish"
for bin in vhost-hwsim hwsim-load; do
    "target/release/$bin" man >"$out/man/man1/$bin.1"
    "target/release/$bin" completions bash >"$out/completions/bash/$bin"
    "target/release/$bin" completions zsh >"$out/completions/zsh/_$bin"
    "target/release/$bin" completions fish >"$out/completions/fish/$bin.fish"
done
echo "man pages and completions in $out"
