#!/usr/bin/env bash
# Side by side with another medium daemon under the same load, in interleaved pairs:
#   scripts/bench-peer.sh [--pairs N] [--seconds S] [--load "HWSIM-LOAD ARGS"] [--keep DIR] \
#       --peer-daemon PATH [PEER ARGS...]
# The peer is started with PEER ARGS, in which {socket} is replaced by the vhost-user socket
# path it must serve (e.g. wmediumd: --peer-daemon /usr/bin/wmediumd -u {socket} -c cfg.conf;
# `hwsim-load --vms V --radios R wmediumd-config` writes a cfg for the load's radios, and
# docs/bench-peer.md says how to build and run wmediumd).
# Each pair runs hwsim-load once against vhost-hwsim (started by hwsim-load itself) and once
# against a freshly started peer (hwsim-load --socket), the order alternating between pairs,
# and prints frames/s of both (frames delivered within the traffic window), the ratio
# ours/peer, each daemon's peak RSS and CPU (% of one core over the traffic time), the frames
# each side delivered only after the window (late) or never (sent − received: unicast loads),
# and the 1-minute load average before the pair; then the median ratio. --keep DIR keeps every run's
# hwsim-load output and the peer's log there. Nothing from outside is built: the peer is
# whatever binary you give.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=5
secs=5
load_args="--vms 2 --radios 2 --size 256"
keep=
while [[ $# -gt 0 ]]; do
    case $1 in
        --pairs) pairs=$2; shift 2 ;;
        --seconds) secs=$2; shift 2 ;;
        --load) load_args=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
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
if [[ -n $keep ]]; then mkdir -p "$keep"; fi

# A key's value in a hwsim-load report ("" if absent).
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | tail -1; }
# User + system CPU seconds of a live process (fields 14 and 15 of /proc/PID/stat).
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' \
        "/proc/$1/stat" 2>/dev/null || echo ""
}
# Keeps a run's files under --keep DIR as NAME.*.
keep_run() {
    [[ -z $keep ]] && return 0
    cp "$work/$2.txt" "$keep/$1.txt" 2>/dev/null || true
    if [[ -f $work/$2.log ]]; then cp "$work/$2.log" "$keep/$1.log"; fi
}

# "LATE LOST" of a report: received after the window; sent but never received (≥ 0).
late_lost() {
    local sent recv
    sent=$(field "$1" sent); recv=$(field "$1" received)
    printf '%s %s' "$(field "$1" received_late)" "$(( sent > recv ? sent - recv : 0 ))"
}

# Prints "FPS RSS_MIB CPU_PCT LATE LOST" of one run against vhost-hwsim.
run_ours() {
    # shellcheck disable=SC2086
    if ! "$load" $load_args --seconds "$secs" >"$work/ours.txt" 2>"$work/ours.log"; then
        echo "bench-peer: hwsim-load against vhost-hwsim failed:" >&2
        cat "$work/ours.log" >&2
        return 1
    fi
    printf '%s %s %s %s\n' "$(field "$work/ours.txt" frames_per_s)" \
        "$(field "$work/ours.txt" daemon_peak_rss_mib)" "$(field "$work/ours.txt" daemon_cpu_pct)" \
        "$(late_lost "$work/ours.txt")"
}

# Prints "FPS RSS_MIB CPU_PCT LATE LOST" of one run against a freshly started peer.
run_peer() {
    local sock=$work/peer.sock args=() a pid rss cpu0 cpu1 cpu ok=1
    rm -f "$sock"
    for a in "${peer[@]}"; do args+=("${a//\{socket\}/$sock}"); done
    "${args[@]}" >"$work/peer.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do [[ -S $sock ]] && break; sleep 0.05; done
    if [[ ! -S $sock ]]; then
        kill "$pid" 2>/dev/null || true
        echo "bench-peer: the peer did not create $sock; its log:" >&2
        cat "$work/peer.log" >&2
        return 1
    fi
    cpu0=$(cpu_s "$pid")
    # shellcheck disable=SC2086
    "$load" $load_args --seconds "$secs" --socket "$sock" >"$work/peer.txt" 2>>"$work/peer.log" ||
        ok=0
    rss=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || true)
    cpu1=$(cpu_s "$pid")
    cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v s="$secs" \
        'BEGIN { if (a != "" && b != "") printf "%.0f", (b - a) / s * 100 }')
    if ! kill -0 "$pid" 2>/dev/null; then ok=0; echo "bench-peer: the peer exited during the run" >&2; fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if (( ! ok )); then
        echo "bench-peer: the run against the peer failed; hwsim-load's output and the peer's log:" >&2
        cat "$work/peer.txt" "$work/peer.log" >&2
        return 1
    fi
    printf '%s %s %s %s\n' "$(field "$work/peer.txt" frames_per_s)" "${rss:-?}" "${cpu:-?}" \
        "$(late_lost "$work/peer.txt")"
}

echo "load: hwsim-load $load_args --seconds $secs; peer: ${peer[*]}"
echo "machine: $(nproc) cores; $(uptime)"
row='%-4s %-5s %9s %9s %7s %8s %8s %8s %8s %9s %9s %6s\n'
# shellcheck disable=SC2059
printf "$row" pair first ours_fps peer_fps ratio ours_rss peer_rss ours_cpu peer_cpu \
    ours_l,l peer_l,l load1
ratios=()
for i in $(seq "$pairs"); do
    load1=$(cut -d' ' -f1 /proc/loadavg)
    if (( i % 2 )); then
        first=ours
        ours=$(run_ours) || exit 1; keep_run "pair$i-ours" ours
        theirs=$(run_peer) || exit 1; keep_run "pair$i-peer" peer
    else
        first=peer
        theirs=$(run_peer) || exit 1; keep_run "pair$i-peer" peer
        ours=$(run_ours) || exit 1; keep_run "pair$i-ours" ours
    fi
    read -r o orss ocpu olate olost <<<"$ours"
    read -r p prss pcpu plate plost <<<"$theirs"
    r=$(python3 -c "import sys; o, p = float(sys.argv[1]), float(sys.argv[2]); print(f'{o / p:.2f}' if p > 0 else 'inf')" "$o" "$p")
    ratios+=("$r")
    # shellcheck disable=SC2059
    printf "$row" "$i" "$first" "$o" "$p" "$r" "${orss:-?}" "${prss:-?}" "${ocpu:-?}%" \
        "${pcpu:-?}%" "$olate,$olost" "$plate,$plost" "$load1"
done
python3 -c "import statistics, sys; r = [float(x) for x in sys.argv[1:] if x != 'inf']; print(f'median ratio ours/peer: {statistics.median(r):.2f} over {len(r)} pairs' if r else 'no finite ratio')" "${ratios[@]}"
echo "after: $(uptime)"
