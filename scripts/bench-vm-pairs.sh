#!/usr/bin/env bash
# Real-guest figures of two daemon binaries in interleaved pairs: each round runs every scenario
# once with binary A, then once with B (tests/vm/run, wall clock unless RUN_ARGS says
# --time-travel), so a change of the machine's load hits both alike. Prints each run's verdict
# figures (iperf3, association time, ...), then per scenario the iperf3 Mb/s of A and B and the
# median B/A ratio. The guest rig (scripts, kernel, root) is this checkout's for both; only the
# daemon differs.
#
# Usage: scripts/bench-vm-pairs.sh BIN_A BIN_B ROUNDS SCENARIO...
#   e.g. scripts/bench-vm-pairs.sh /tmp/old/vhost-hwsim target/release/vhost-hwsim 3 wpa2 airtime mlo
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 4 ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
a=$(realpath "$1") b=$(realpath "$2") rounds=$3
shift 3
for bin in "$a" "$b"; do [[ -x $bin ]] || { echo "bench-vm-pairs: $bin is not executable" >&2; exit 2; }; done
# shellcheck disable=SC2206
run_args=(${RUN_ARGS:-})
out=$(mktemp -d /tmp/bench-vm-pairs.XXXXXX)
echo "bench-vm-pairs: A=$a"
echo "bench-vm-pairs: B=$b"
echo "bench-vm-pairs: logs in $out"
for ((r = 1; r <= rounds; r++)); do
    for s in "$@"; do
        for side in A B; do
            bin=$a
            [[ $side == B ]] && bin=$b
            log=$out/$s-$side-$r.log
            VHOST_HWSIM=$bin tests/vm/run "${run_args[@]}" "$s" >"$log" 2>&1 || true
            line=$(grep -m1 "vm-run: .*: \(PASS\|FAIL\)" "$log" || echo "vm-run: $s: no verdict")
            printf 'round %d load=%s %s %s\n' "$r" "$(cut -d' ' -f1 /proc/loadavg)" "$side" "${line:0:300}"
        done
    done
done
echo
printf '%-10s %-28s %-28s %s\n' scenario "A iperf3 Mb/s" "B iperf3 Mb/s" "median B/A"
for s in "$@"; do
    python3 - "$out" "$s" "$rounds" <<'PY'
import re, statistics, sys
out, s, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def mbps(side, r):
    try:
        text = open(f"{out}/{s}-{side}-{r}.log").read()
    except OSError:
        return None
    m = re.search(r"PASS in .*?iperf3[^=]*=([0-9.]+)Mb/s", text)
    return float(m.group(1)) if m else None
a = [mbps("A", r) for r in range(1, rounds + 1)]
b = [mbps("B", r) for r in range(1, rounds + 1)]
ratios = [y / x for x, y in zip(a, b) if x and y]
fmt = lambda v: "/".join("-" if x is None else f"{x:.0f}" for x in v)
med = f"{statistics.median(ratios):.3f}" if ratios else "-"
print(f"{s:<10} {fmt(a):<28} {fmt(b):<28} {med}")
PY
done
