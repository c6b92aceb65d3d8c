#!/usr/bin/env bash
# The cost of a Prometheus scrape under full load: hwsim-load (2 VMs x 2 radios, 256 B) against
# a daemon with --metrics, once with a scraper fetching /metrics every SCRAPE_MS (default 100;
# Prometheus scrapes every 15 s, so this is 150 times harsher) and once without, in interleaved
# pairs. Prints frames/s of each pair, the ratio and the median.
# Usage: scripts/bench-metrics.sh [PAIRS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-5}
secs=${2:-5}
scrape_ms=${SCRAPE_MS:-100}
port=${METRICS_PORT:-19471}
cargo build --release --locked -p vhost-hwsim -p hwsim-load >/dev/null 2>&1 ||
    cargo build --release --locked -p vhost-hwsim -p hwsim-load
load=target/release/hwsim-load
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
fps() { tr ' ' '\n' | sed -n 's/^frames_per_s=//p' | tail -1; }
run() {
    local scrape=$1 scraper= n=0 out
    if [[ $scrape == 1 ]]; then
        (
            sleep 0.5
            while true; do
                curl -s -o /dev/null "http://127.0.0.1:$port/metrics" && n=$((n + 1))
                sleep "$(awk -v m="$scrape_ms" 'BEGIN { print m / 1000 }')"
            done
        ) &
        scraper=$!
    fi
    out=$("$load" --vms 2 --radios 2 --size 256 --seconds "$secs" \
        --daemon-arg="--metrics=127.0.0.1:$port" | tail -1)
    [[ -n $scraper ]] && { kill "$scraper" 2>/dev/null; wait "$scraper" 2>/dev/null || true; }
    fps <<<"$out"
}
printf '%-5s %14s %14s %8s\n' pair scraped_fps plain_fps ratio
ratios=()
for i in $(seq "$pairs"); do
    if (( i % 2 )); then s=$(run 1); p=$(run 0); else p=$(run 0); s=$(run 1); fi
    r=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}')" "$s" "$p")
    ratios+=("$r")
    printf '%-5s %14s %14s %8s\n' "$i" "$s" "$p" "$r"
done
python3 - "$scrape_ms" "${ratios[@]}" <<'PY'
import statistics, sys
ms, r = sys.argv[1], [float(x) for x in sys.argv[2:]]
m = statistics.median(r)
print(f"median scraped/plain: {m:.3f} ({(1 - m) * 100:.1f} % fewer frames/s) over {len(r)} pairs, a scrape every {ms} ms")
PY
