#!/usr/bin/env bash
# The cost of a Prometheus scrape under full load: hwsim-load (2 VMs x 2 radios, 256 B) against
# a daemon with --metrics, once with a scraper fetching /metrics every SCRAPE_MS (default 100;
# Prometheus scrapes every 15 s, so this is 150 times harsher) and once without, in interleaved
# pairs. Prints frames/s of each pair, the ratio and the median, and the CPU time the daemon's
# metrics thread spent per scrape (from its /proc schedstat).
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
costs=$(mktemp)
trap 'rm -f "$costs"' EXIT
fps() { tr ' ' '\n' | sed -n 's/^frames_per_s=//p' | tail -1; }
run() {
    local scrape=$1 scraper= out
    # One long-lived scraper process, as Prometheus is: a new connection per scrape but no
    # process start per scrape (a curl per scrape costs more CPU than the scrape itself). The
    # plain run starts the same process, which only sleeps, so that the pair differs in the
    # scrapes alone.
    python3 - "$port" "$scrape_ms" "$costs" "$scrape" <<'PY' &
import os, signal, socket, sys, time
port, every, costs = int(sys.argv[1]), int(sys.argv[2]) / 1000, sys.argv[3]
if sys.argv[4] != "1":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)

def metrics_thread():
    # The daemon hwsim-load started with our port; its scrape-serving thread by name.
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if f"--metrics=127.0.0.1:{port}".encode() in cmd:
            for tid in os.listdir(f"/proc/{pid}/task"):
                if open(f"/proc/{pid}/task/{tid}/comm").read().startswith("vhost-hwsim-met"):
                    return pid, tid
    return None

def on_cpu_ns(pid, tid):
    return int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])

time.sleep(0.5)
ids, start, n = metrics_thread(), None, 0
if ids:
    start = last = on_cpu_ns(*ids)

def done(*_):
    # The daemon may be gone by now: use the reading taken after the last scrape.
    if ids and n:
        used = last - start
        with open(costs, "a") as f:
            f.write(f"{n} {used}\n")
    sys.exit(0)

signal.signal(signal.SIGTERM, done)
while True:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            while s.recv(65536):
                pass
        n += 1
        if ids:
            last = on_cpu_ns(*ids)
    except OSError:
        pass
    time.sleep(every)
PY
    scraper=$!
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
python3 - "$scrape_ms" "$costs" "${ratios[@]}" <<'PY'
import statistics, sys
ms, costs, r = sys.argv[1], sys.argv[2], [float(x) for x in sys.argv[3:]]
m = statistics.median(r)
print(f"median scraped/plain: {m:.3f} ({(1 - m) * 100:.1f} % fewer frames/s) over {len(r)} pairs, a scrape every {ms} ms")
runs = [tuple(map(int, l.split())) for l in open(costs) if l.strip()]
if runs:
    n, ns = sum(x[0] for x in runs), sum(x[1] for x in runs)
    per = ns / n
    print(f"metrics thread: {n} scrapes, {per / 1000:.0f} us of CPU per scrape; at one scrape per "
          f"{ms} ms that is {per / (float(ms) * 1e6) * 100:.3f} % of one core, at Prometheus's "
          f"15 s {per / 15e9 * 100:.5f} %")
PY
