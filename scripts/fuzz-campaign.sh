#!/usr/bin/env bash
# One long fuzz run per target, for the campaign FUZZING.md records:
#   scripts/fuzz-campaign.sh TARGET [RUNS] [MAX_SECONDS]
# Fuzzes TARGET until RUNS executions (default 10000000) or MAX_SECONDS (default 0: no limit),
# whichever comes first, on its persistent corpus fuzz/corpus/TARGET (seeded from
# fuzz/examples/seeds.rs the first time, plus fuzz/regressions/TARGET; fuzz/dicts/TARGET.dict
# if there is one), under nice. Prints one
# line: target, executions, seconds, crashes, corpus files. A crash input lands in
# fuzz/artifacts/TARGET/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

target=$1
runs=${2:-10000000}
seconds=${3:-0}
export RUSTC_BOOTSTRAP=1
flags=(--sanitizer none --debug-assertions)

cargo fuzz build "${flags[@]}" "$target" >/dev/null 2>&1 || cargo fuzz build "${flags[@]}" "$target"
if [ ! -d "corpus/$target" ]; then
    cargo run --quiet --release --locked --example seeds -- corpus >/dev/null
fi
dirs=("corpus/$target")
[ -d "regressions/$target" ] && dirs+=("regressions/$target")
extra=()
[ -f "dicts/$target.dict" ] && extra+=(-dict="dicts/$target.dict")
mkdir -p "artifacts/$target" target/campaign
log=target/campaign/$target.log
start=$(date +%s)
status=0
nice -n 10 cargo fuzz run "${flags[@]}" "$target" "${dirs[@]}" -- "${extra[@]}" \
    -runs="$runs" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$log" 2>&1 || status=$?
elapsed=$(($(date +%s) - start))
execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
crashes=$(find "artifacts/$target" -type f | wc -l)
files=$(find "corpus/$target" -type f | wc -l)
printf '%s\texecutions=%s\tseconds=%s\tcrashes=%s\tcorpus=%s\texit=%s\n' \
    "$target" "${execs:-?}" "$elapsed" "$crashes" "$files" "$status"
exit "$status"
