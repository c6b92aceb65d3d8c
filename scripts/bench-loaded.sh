#!/usr/bin/env bash
# Load stability: hwsim-load (2 VMs x 2 radios, 256 B, maximum rate unless --rate is given in
# LOAD_ARGS) on a quiet machine and beside a CPU hog (stress-ng --cpu CPU_LOAD, default 1: one
# core's worth), in interleaved pairs. Prints frames/s, p99 and the daemon's CPU (% of one
# core) of both, the ratio loaded/quiet per pair and the median. DAEMON_NICE=N starts the daemon at that nice value (as tests/vm/run
# does with -10) to see what priority buys back.
# Usage: scripts/bench-loaded.sh [PAIRS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-5}
secs=${2:-5}
hog=${CPU_LOAD:-1}
# shellcheck disable=SC2206
load_args=(${LOAD_ARGS:---vms 2 --radios 2 --size 256})
cargo build --release --locked -p vhost-hwsim -p hwsim-load >/dev/null 2>&1 ||
    cargo build --release --locked -p vhost-hwsim -p hwsim-load
command -v stress-ng >/dev/null || { apt-get update -qq && apt-get install -y -qq stress-ng >/dev/null; }
load=$PWD/target/release/hwsim-load
daemon=(--daemon "$PWD/target/release/vhost-hwsim")
if [[ -n ${DAEMON_NICE:-} ]]; then
    # hwsim-load starts the daemon itself: give it a wrapper that starts it at that nice value.
    wrapper=$(mktemp)
    printf '#!/bin/sh\nexec nice -n %s %q "$@"\n' "$DAEMON_NICE" "$PWD/target/release/vhost-hwsim" >"$wrapper"
    chmod +x "$wrapper"
    daemon=(--daemon "$wrapper")
    trap 'rm -f "$wrapper"' EXIT
fi
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | tail -1; }
run() {
    local loaded=$1 hog_pid= line
    if [[ $loaded == 1 ]]; then
        stress-ng --cpu "$hog" --timeout 0 >/dev/null 2>&1 &
        hog_pid=$!
        sleep 0.5
    fi
    line=$("$load" "${load_args[@]}" "${daemon[@]}" --seconds "$secs" | tail -1)
    [[ -n $hog_pid ]] && { kill "$hog_pid" 2>/dev/null; wait "$hog_pid" 2>/dev/null || true; }
    printf '%s %s %s\n' "$(field frames_per_s <<<"$line")" "$(field p99_us <<<"$line")" \
        "$(field daemon_cpu_pct <<<"$line")"
}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); hog: stress-ng --cpu $hog; daemon nice ${DAEMON_NICE:-0}"
fmt='%-5s %12s %10s %9s %12s %10s %9s %7s\n'
# shellcheck disable=SC2059
printf "$fmt" pair quiet_fps quiet_p99 quiet_cpu loaded_fps loaded_p99 loaded_cpu ratio
ratios=()
for i in $(seq "$pairs"); do
    if ((i % 2)); then
        read -r q qp qc < <(run 0)
        read -r l lp lc < <(run 1)
    else
        read -r l lp lc < <(run 1)
        read -r q qp qc < <(run 0)
    fi
    r=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}')" "$l" "$q")
    ratios+=("$r")
    # shellcheck disable=SC2059
    printf "$fmt" "$i" "$q" "$qp" "$qc%" "$l" "$lp" "$lc%" "$r"
done
python3 -c "import statistics, sys; print(f'median loaded/quiet: {statistics.median(map(float, sys.argv[1:])):.3f} over {len(sys.argv) - 1} pairs')" "${ratios[@]}"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
