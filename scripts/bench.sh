#!/usr/bin/env bash
# Reproduces the figures in BENCHMARKS.md: hwsim-load runs for 2 VMs x 2 radios, each
# configuration repeated, median and range of frames/s, Gb/s and latency printed.
# Usage: scripts/bench.sh [RUNS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
secs=${2:-5}
cargo build --release --locked -p vhost-hwsim -p hwsim-load >/dev/null 2>&1 || cargo build --release --locked -p vhost-hwsim -p hwsim-load
load=target/release/hwsim-load

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

bench() {
    local label=$1; shift
    local out=() line
    for _ in $(seq "$runs"); do
        line=$("$load" --vms 2 --radios 2 --seconds "$secs" "$@" | tail -1)
        out+=("$line")
    done
    printf '%s\n' "${out[@]}" > "target/bench-$label.txt"
    python3 - "$label" "target/bench-$label.txt" <<'PY'
import statistics, sys
label, path = sys.argv[1], sys.argv[2]
rows = [dict(kv.split('=') for kv in l.split()) for l in open(path) if l.strip()]
def col(k):
    v = [float(r[k]) for r in rows if k in r]
    return f"{statistics.median(v):.4g} [{min(v):.4g}..{max(v):.4g}]" if v else "-"
print(f"{label}: frames_per_s={col('frames_per_s')} gbit_per_s={col('gbit_per_s')} "
      f"p50_us={col('p50_us')} p99_us={col('p99_us')} p999_us={col('p999_us')} "
      f"baseline_p99_us={col('baseline_p99_us')} rss_mib={col('daemon_peak_rss_mib')}")
PY
}

bench max-256 --size 256
bench max-1500 --size 1500
# Half of the median maximum at 256 bytes, split over the two VMs.
half=$(python3 -c "import statistics;r=[float(l.split('frames_per_s=')[1].split()[0]) for l in open('target/bench-max-256.txt')];print(int(statistics.median(r)/4))")
echo "half load: $half frames/s per VM"
bench half-256 --size 256 --rate "$half" --baseline
bench broadcast-256 --size 256 --broadcast 100
