#!/usr/bin/env bash
# Latency against the eventfd baseline at several loads, with the scheduler's view of each hop.
# For each per-VM rate: hwsim-load (2 VMs x 2 radios, 256 B, --baseline) for SECONDS, and
# `perf sched record` over the middle of the run. Prints the medium's p50/p99/p99.9 one-way
# latency, the baseline's p99 measured in the same run, the daemon's CPU, and per thread kind
# (the daemon's VM threads = hops 1 and 2: the sender's kick and the receiver's inbox; the guest
# processes = hop 3: the call that wakes the receiving guest) the context switches and the
# average and worst wait from wake-up to running.
# Usage: scripts/bench-latency.sh [SECONDS] [RATES PER VM...]   (needs perf; installs it if absent)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-6}
shift || true
rates=("${@:-25000 50000 100000 210000}")
# shellcheck disable=SC2206
rates=(${rates[*]})
cargo build --release --locked -p vhost-hwsim -p hwsim-load >/dev/null 2>&1 ||
    cargo build --release --locked -p vhost-hwsim -p hwsim-load
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
load=target/release/hwsim-load
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | tail -1; }
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
fmt='%9s %8s %8s %9s %12s %8s   %-34s %-34s\n'
# shellcheck disable=SC2059
printf "$fmt" offered p50_us p99_us p999_us baseline_p99 cpu "VM threads: switches avg/max wait" "guests: switches avg/max wait"
for rate in "${rates[@]}"; do
    "$load" --size 256 --seconds "$secs" --rate "$rate" --baseline >"$work/out.txt" &
    pid=$!
    sleep $((secs / 3))
    perf sched record -o "$work/sched.data" -- sleep $((secs / 3)) >/dev/null 2>&1
    wait "$pid"
    perf sched latency -i "$work/sched.data" 2>/dev/null >"$work/lat.txt" || true
    hop() {
        # "switches avg/max" of the first line whose task starts with $1.
        awk -F'|' -v t="$1" '$1 ~ "^ *" t {
            gsub(/ /, "", $3); split($4, a, ":"); split($5, m, ":");
            gsub(/[ ms]/, "", a[2]); gsub(/[ ms]/, "", m[2]);
            printf "%s %.0f/%.0f us", $3, a[2] * 1000, m[2] * 1000; exit }' "$work/lat.txt"
    }
    line=$(tail -1 "$work/out.txt")
    # shellcheck disable=SC2059
    printf "$fmt" $((rate * 2)) "$(field p50_us <<<"$line")" "$(field p99_us <<<"$line")" \
        "$(field p999_us <<<"$line")" "$(field baseline_p99_us <<<"$line")" \
        "$(field daemon_cpu_pct <<<"$line")%" "$(hop vring_worker)" "$(hop hwsim-load)"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
