#!/usr/bin/env bash
# Side by side with another medium daemon under the same load, in interleaved pairs:
#   scripts/bench-peer.sh [--pairs N] [--seconds S] [--load "HWSIM-LOAD ARGS"] \
#       --peer-daemon PATH [PEER ARGS...]
# The peer is started with PEER ARGS, in which {socket} is replaced by the vhost-user socket
# path it must serve (e.g. wmediumd: --peer-daemon /usr/bin/wmediumd -u {socket} -c cfg.conf).
# Each pair runs hwsim-load once against vhost-hwsim (started by hwsim-load itself) and once
# against the peer (hwsim-load --socket), the order alternating between pairs, and prints
# frames/s of both, the ratio ours/peer per pair, the median ratio, and each daemon's peak RSS.
# Nothing from outside is built: the peer is whatever binary you give.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=5
secs=5
load_args="--vms 2 --radios 2 --size 256"
while [[ $# -gt 0 ]]; do
    case $1 in
        --pairs) pairs=$2; shift 2 ;;
        --seconds) secs=$2; shift 2 ;;
        --load) load_args=$2; shift 2 ;;
        --peer-daemon) shift; break ;;
        *) echo "bench-peer: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done
[[ $# -ge 1 ]] || { echo "bench-peer: --peer-daemon PATH [ARGS...] is required" >&2; exit 2; }
peer=("$@")
[[ -x ${peer[0]} ]] || { echo "bench-peer: ${peer[0]} is not an executable file" >&2; exit 2; }
cargo build --release --locked -p vhost-hwsim -p hwsim-load >/dev/null 2>&1 ||
    cargo build --release --locked -p vhost-hwsim -p hwsim-load
load=target/release/hwsim-load
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fps() { tr ' ' '\n' | sed -n 's/^frames_per_s=//p' | tail -1; }
rss_of() { sed -n 's/^daemon_peak_rss_mib=//p' | tail -1; }

run_ours() {
    # shellcheck disable=SC2086
    "$load" $load_args --seconds "$secs" >"$work/ours.txt"
    printf '%s %s\n' "$(tr ' ' '\n' <"$work/ours.txt" | fps)" "$(tr ' ' '\n' <"$work/ours.txt" | rss_of)"
}

run_peer() {
    local sock=$work/peer.sock args=() a pid rss
    rm -f "$sock"
    for a in "${peer[@]}"; do args+=("${a//\{socket\}/$sock}"); done
    "${args[@]}" >"$work/peer.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do [[ -S $sock ]] && break; sleep 0.05; done
    if [[ ! -S $sock ]]; then
        kill "$pid" 2>/dev/null || true
        echo "bench-peer: the peer did not create $sock; its log:" >&2
        cat "$work/peer.log" >&2
        exit 1
    fi
    # shellcheck disable=SC2086
    "$load" $load_args --seconds "$secs" --socket "$sock" >"$work/peer.txt"
    rss=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || echo "?")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    printf '%s %s\n' "$(tr ' ' '\n' <"$work/peer.txt" | fps)" "$rss"
}

echo "load: hwsim-load $load_args --seconds $secs; peer: ${peer[*]}"
printf '%-5s %-6s %14s %14s %8s %10s %10s\n' pair first ours_fps peer_fps ratio ours_rss peer_rss
ratios=()
for i in $(seq "$pairs"); do
    if (( i % 2 )); then
        first=ours; read -r o orss < <(run_ours); read -r p prss < <(run_peer)
    else
        first=peer; read -r p prss < <(run_peer); read -r o orss < <(run_ours)
    fi
    r=$(python3 -c "import sys; o, p = float(sys.argv[1]), float(sys.argv[2]); print(f'{o / p:.2f}' if p > 0 else 'inf')" "$o" "$p")
    ratios+=("$r")
    printf '%-5s %-6s %14s %14s %8s %10s %10s\n' "$i" "$first" "$o" "$p" "$r" "${orss:-?}" "${prss:-?}"
done
python3 -c "import statistics, sys; r = [float(x) for x in sys.argv[1:] if x != 'inf']; print(f'median ratio ours/peer: {statistics.median(r):.2f} over {len(r)} pairs' if r else 'no finite ratio')" "${ratios[@]}"
