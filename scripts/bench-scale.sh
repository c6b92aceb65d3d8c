#!/usr/bin/env bash
# Scaling figures for BENCHMARKS.md: hwsim-load at 256 B with 4 radios per VM, for 2, 8, 16,
# 32 and 64 VMs, in two layouts:
#   shared   every VM's radio r on the same channel (receivers per channel grow with the VMs)
#   pairs    VMs in pairs on channels of their own (--vms-per-channel 2: receivers per channel
#            stay 2 as the VM count grows)
# Prints frames/s, p50/p99 latency, the daemon's peak RSS and its CPU time per frame.
# Usage: scripts/bench-scale.sh [SECONDS] [VM COUNTS...]   (CPU_LOAD=N adds stress-ng --cpu N)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
shift || true
counts=("${@:-2 8 16 32 64}")
# shellcheck disable=SC2206
counts=(${counts[*]})
cargo build --release --locked -p vhost-hwsim -p hwsim-load >/dev/null 2>&1 ||
    cargo build --release --locked -p vhost-hwsim -p hwsim-load
load=target/release/hwsim-load
stress_pid=
if [[ -n ${CPU_LOAD:-} ]]; then
    command -v stress-ng >/dev/null || { apt-get update -qq && apt-get install -y -qq stress-ng >/dev/null; }
    stress-ng --cpu "$CPU_LOAD" --timeout 0 >/dev/null 2>&1 &
    stress_pid=$!
    trap 'kill $stress_pid 2>/dev/null || true' EXIT
    echo "beside stress-ng --cpu $CPU_LOAD"
fi
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | tail -1; }
printf '%-7s %4s %8s %12s %10s %10s %9s %12s\n' layout vms radios frames_per_s p50_us p99_us rss_mib cpu_ns_frame
for layout in shared pairs; do
    for vms in "${counts[@]}"; do
        extra=()
        [[ $layout == pairs ]] && extra=(--vms-per-channel 2)
        line=$("$load" --vms "$vms" --radios 4 --size 256 --seconds "$secs" "${extra[@]}" | tail -1)
        printf '%-7s %4s %8s %12s %10s %10s %9s %12s\n' "$layout" "$vms" 4 \
            "$(field frames_per_s <<<"$line")" "$(field p50_us <<<"$line")" \
            "$(field p99_us <<<"$line")" "$(field daemon_peak_rss_mib <<<"$line")" \
            "$(field daemon_cpu_ns_per_frame <<<"$line")"
    done
done
