#!/usr/bin/env bash
# The soak: VM connect/disconnect cycles against one vhost-hwsim daemon, some guests SIGKILLed
# mid-traffic, the daemon's RSS, open descriptors and threads sampled and printed as a table; exits
# non-zero when a bound it states is broken (see BENCHMARKS.md, "Soak").
#
#   scripts/soak.sh                      # 1,000 cycles (about 45 s on 2 cores)
#   scripts/soak.sh --cycles 50 --sample-every 10 --no-rss-bound   # the short one test-all runs
#
# Arguments go to `hwsim-load soak` (see `hwsim-load soak --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --release --locked -p vhost-hwsim -p hwsim-load
[ $# -gt 0 ] || set -- --cycles 1000
echo "soak.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "soak.sh: target/release/hwsim-load soak $*"
start=$SECONDS
status=0
target/release/hwsim-load soak "$@" || status=$?
echo "soak.sh: took $((SECONDS - start)) s"
exit $status
