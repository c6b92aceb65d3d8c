#!/usr/bin/env bash
# Fuzz smoke run: builds the fuzz crate (fuzz/, cargo-fuzz layout, a workspace of its own) and
# runs every fuzz target for a short fixed time from its seed corpus (real frames and configs,
# written by fuzz/examples/seeds.rs) and its committed reproducers (fuzz/regressions/TARGET/),
# with its dictionary (fuzz/dicts/TARGET.dict) if it has one.
# Fails if any target crashes. FUZZ_SECONDS (default 20) is the time per target; FUZZING.md
# describes the long campaign.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
# libFuzzer's instrumentation flags are nightly-only: stable rustc accepts them with this.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "==> installing cargo-fuzz (crates.io)"
        cargo install --locked cargo-fuzz
    else
        echo "cargo-fuzz not found: cargo install --locked cargo-fuzz" >&2
        exit 1
    fi
fi

cd fuzz
# Safe Rust on every fuzzed path: no sanitizer (twice the executions); debug assertions and
# overflow checks on, so an overflow is a crash here even where release builds would wrap.
flags=(--sanitizer none --debug-assertions)
echo "==> cargo fuzz build"
cargo fuzz build "${flags[@]}"

work=target/fuzz-smoke
rm -rf "$work"
echo "==> seed corpora"
cargo run --quiet --release --locked --example seeds -- "$work/corpus" >/dev/null

passed=0
failed=0
failures=()
for t in $(cargo fuzz list); do
    mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
    dirs=("$work/corpus/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    extra=()
    [ -f "dicts/$t.dict" ] && extra+=(-dict="dicts/$t.dict")
    log="$work/$t.log"
    if cargo fuzz run "${flags[@]}" "$t" "${dirs[@]}" -- "${extra[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
        printf 'fuzz %-20s ok (%s runs in %ss)\n' "$t" "$runs" "$seconds"
        passed=$((passed + 1))
    else
        printf 'fuzz %-20s FAILED (log %s, input in %s)\n' "$t" "fuzz/$log" "fuzz/$work/artifacts/$t/"
        grep -m5 -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | sed 's/^/    /' || true
        failed=$((failed + 1))
        failures+=("$t")
    fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
