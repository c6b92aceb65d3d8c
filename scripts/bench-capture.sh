#!/usr/bin/env bash
# Capture at rising load: hwsim-load (2 VMs x 2 radios, 256 B) at each offered rate, once with
# --capture FILE and once without, interleaved. Prints the offered and received frames/s of both
# runs, the capture's cost (received frames/s lost against the run without it), and what the
# capture queued and dropped (the daemon's capture counters at the end of the traffic).
# Usage: scripts/bench-capture.sh [SECONDS] [RATES PER VM...]   (0: as fast as possible)
#   CAPTURE_DIR (default /tmp): where the pcapng goes (it is deleted after each run).
#   DAEMON=PATH: the vhost-hwsim binary to run (default: the one built here).
#   CAPTURE_NICE=N: the writer's nice level (--capture-nice; default the daemon's, 10).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
shift || true
rates=("${@:-50000 100000 200000 300000 400000 0}")
# shellcheck disable=SC2206
rates=(${rates[*]})
dir=${CAPTURE_DIR:-/tmp}
cargo build --release --locked -p vhost-hwsim -p hwsim-load >/dev/null 2>&1 ||
    cargo build --release --locked -p vhost-hwsim -p hwsim-load
load=target/release/hwsim-load
file="$dir/bench-capture-$$.pcapng"
trap 'rm -f "$file"*' EXIT
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | tail -1; }
run() {
    local rate=$1 capture=$2 out args=()
    [[ $capture == 1 ]] && args+=("--daemon-arg=--capture=$file")
    [[ $capture == 1 && -n ${CAPTURE_NICE:-} ]] && args+=("--daemon-arg=--capture-nice=$CAPTURE_NICE")
    [[ -n ${DAEMON:-} ]] && args+=(--daemon "$DAEMON")
    out=$("$load" --vms 2 --radios 2 --size 256 --seconds "$secs" --rate "$rate" "${args[@]}")
    rm -f "$file"*
    printf '%s %s %s\n' "$(tail -1 <<<"$out" | field frames_per_s)" \
        "$(grep '^daemon:' <<<"$out" | field capture_queued)" \
        "$(grep '^daemon:' <<<"$out" | field capture_dropped)"
}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
fmt='%10s %12s %12s %8s %12s %12s %8s\n'
# shellcheck disable=SC2059
printf "$fmt" offered plain_fps capture_fps cost captured dropped drop
i=0
for rate in "${rates[@]}"; do
    i=$((i + 1))
    if ((i % 2)); then
        read -r c q d < <(run "$rate" 1)
        read -r p _ _ < <(run "$rate" 0)
    else
        read -r p _ _ < <(run "$rate" 0)
        read -r c q d < <(run "$rate" 1)
    fi
    offered=$([[ $rate == 0 ]] && echo max || echo $((rate * 2)))
    # shellcheck disable=SC2059
    printf "$fmt" "$offered" "$p" "$c" \
        "$(python3 -c "import sys; p, c = map(float, sys.argv[1:]); print(f'{(1 - c / p) * 100:.1f}%')" "$p" "$c")" \
        "$q" "$d" \
        "$(python3 -c "import sys; q, d = map(float, sys.argv[1:]); print(f'{d / max(q + d, 1) * 100:.2f}%')" "$q" "$d")"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
