#!/usr/bin/env bash
# Scaling figures for BENCHMARKS.md: hwsim-load at 256 B with 4 radios per VM, for 2, 8, 16,
# 32 and 64 VMs, in two layouts:
#   shared   every VM's radio r on the same channel (receivers per channel grow with the VMs)
#   pairs    VMs in pairs on channels of their own (--vms-per-channel 2: receivers per channel
#            stay 2 as the VM count grows)
# and three loads:
#   max      every radio as fast as its ring allows (overload: what is dropped, and where)
#   fixed    RATE frames/s per VM (default 2500: 160 k/s at 64 VMs), unicast: the daemon's CPU
#            per frame as the VM count grows at a per-VM load that never overloads
#   bcast    every frame broadcast, at a per-VM rate that asks for DELIVERIES deliveries/s in
#            all (default 200 k): a group frame goes to every other radio of the daemon (the
#            virtio protocol never says which channel a radio listens on; the guest kernel
#            drops what is off its channel, as with wmediumd), so the cost per frame follows
#            the receivers and the cost per delivery (ns/rx) should stay flat
# Prints frames/s (received), p50/p99 latency, the daemon's peak RSS (VmHWM, which counts the
# guests' shared memory the daemon maps) and anonymous RSS (its own memory), its CPU time per
# frame received and per frame taken from a TX ring, and the frames dropped for back-pressure.
# Usage: scripts/bench-scale.sh [SECONDS] [VM COUNTS...]
#   CPU_LOAD=N adds stress-ng --cpu N; LOADS="max fixed bcast" picks loads; RATE=N per VM.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
shift || true
counts=("${@:-2 8 16 32 64}")
# shellcheck disable=SC2206
counts=(${counts[*]})
loads=${LOADS:-max fixed bcast}
rate=${RATE:-2500}
deliveries=${DELIVERIES:-200000}
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
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | tail -1; }
fmt='%-6s %-7s %4s %10s %9s %9s %8s %8s %8s %8s %9s %9s\n'
# shellcheck disable=SC2059
printf "$fmt" load layout vms frames/s p50_us p99_us hwm_mib anon_mib ns/rx ns/tx drop_pool drop_inbox
for what in $loads; do
    for layout in shared pairs; do
        for vms in "${counts[@]}"; do
            extra=()
            [[ $layout == pairs ]] && extra+=(--vms-per-channel 2)
            case $what in
                max) ;;
                fixed) extra+=(--rate "$rate") ;;
                bcast) extra+=(--rate $((deliveries / (vms * (vms * 4 - 1)) + 1)) --broadcast 100) ;;
                *) echo "bench-scale: unknown load $what" >&2; exit 2 ;;
            esac
            out=$("$load" --vms "$vms" --radios 4 --size 256 --seconds "$secs" "${extra[@]}")
            line=$(tail -1 <<<"$out")
            daemon=$(grep '^daemon:' <<<"$out" || true)
            # shellcheck disable=SC2059
            printf "$fmt" "$what" "$layout" "$vms" \
                "$(field frames_per_s <<<"$line")" "$(field p50_us <<<"$line")" \
                "$(field p99_us <<<"$line")" "$(field daemon_peak_rss_mib <<<"$line")" \
                "$(field daemon_anon_rss_mib <<<"$line")" \
                "$(field daemon_cpu_ns_per_frame <<<"$line")" \
                "$(field daemon_cpu_ns_per_tx <<<"$line")" \
                "$(field dropped_pool_empty <<<"$daemon")" "$(field dropped_inbox_full <<<"$daemon")"
        done
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
