#!/usr/bin/env bash
# Boot the UML guest once, without any vhost-user device, and check that
# mac80211_hwsim created its two radios (wlan0, wlan1). Reports the boot time.
#
#   tests/vm/boot-smoke.sh                      # builds/reuses kernel and root
#   KERNEL=/path/linux ROOT=/path/root tests/vm/boot-smoke.sh
#
# Exit 0 on pass; the last line is the verdict with the figures.
# Environment: KERNEL, ROOT (skip the build scripts), BOOT_TIMEOUT (s, default 60),
# KEEP_SCRATCH=1 (keep the per-run directory with the console log).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${BOOT_TIMEOUT:-60}

fail() { echo "boot-smoke: FAIL: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "run as root (the guest root directory is owned by root)"

if [[ -z ${KERNEL:-} ]]; then
    KERNEL=$("$HERE/build-kernel.sh" | tail -n1) || fail "build-kernel.sh failed"
fi
if [[ -z ${ROOT:-} ]]; then
    ROOT=$("$HERE/build-root.sh" | tail -n1) || fail "build-root.sh failed"
fi
[[ -x $KERNEL ]] || fail "kernel $KERNEL is not an executable"
[[ -x $ROOT/sbin/vhost-hwsim-init ]] || fail "root $ROOT has no /sbin/vhost-hwsim-init (rebuild it with build-root.sh)"

SCRATCH=$(mktemp -d /tmp/vhost-hwsim-smoke.XXXXXX)
PGID=
cleanup() {
    local rc=$?
    if [[ -n $PGID ]] && pgrep -g "$PGID" >/dev/null 2>&1; then
        kill -KILL -- "-$PGID" 2>/dev/null || true
    fi
    if [[ ${KEEP_SCRATCH:-0} == 1 ]]; then
        echo "boot-smoke: scratch directory kept: $SCRATCH" >&2
    else
        rm -rf "$SCRATCH"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The per-run script the guest's /sbin/vhost-hwsim-init runs from /scratch.
cat >"$SCRATCH/init.sh" <<'EOF'
echo "SMOKE: script started at uptime $(cut -d' ' -f1 /proc/uptime)"
iw dev
ifaces=$(iw dev | awk '$1 == "Interface" { print $2 }' | sort | tr '\n' ' ')
echo "SMOKE: interfaces: $ifaces"
echo "SMOKE: hwsim radios: $(ls /sys/class/ieee80211 | tr '\n' ' ')"
iw reg set DE && sleep 0.1
echo "SMOKE: regdomain: $(iw reg get | awk '/^country/ { sub(":", "", $2); print $2; exit }')"
for want in wlan0 wlan1; do
    case " $ifaces " in
        *" $want "*) ;;
        *) echo "SMOKE: $want is missing"; exit 1 ;;
    esac
done
EOF

# Console: main console on stdout, every other console and serial line to null.
# uml_dir keeps UML's umid/mconsole directory inside the scratch directory.
mkfifo "$SCRATCH/console"
LOG=$SCRATCH/console.log
: >"$LOG"
# Timestamp every console line on the host side (bash's EPOCHREALTIME: no fork per line).
# The guest's tty writes CR LF; drop the CR.
( while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"; done <"$SCRATCH/console" >"$LOG" ) &
READER=$!

start=$EPOCHREALTIME
setsid "$KERNEL" \
    mem=256M \
    rootfstype=hostfs rootflags="$ROOT" ro \
    init=/sbin/vhost-hwsim-init vmscratch="$SCRATCH" \
    mac80211_hwsim.radios=2 \
    con=null con0=null,fd:1 ssl=null \
    uml_dir="$SCRATCH/uml" \
    </dev/null >"$SCRATCH/console" 2>&1 &
UML=$!
PGID=$UML    # setsid made the kernel a process group (and session) leader

deadline=$((SECONDS + TIMEOUT))
while kill -0 "$UML" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
        kill -KILL -- "-$PGID" 2>/dev/null || true
        wait "$UML" 2>/dev/null || true
        wait "$READER" 2>/dev/null || true
        sed 's/^[0-9.]* /  | /' "$LOG" | tail -n 40
        fail "guest did not power off within ${TIMEOUT}s (killed process group $PGID)"
    fi
    sleep 0.05
done
uml_rc=0
wait "$UML" || uml_rc=$?
end=$EPOCHREALTIME
wait "$READER" || true

# UML forks helper processes (one per guest address space); none may outlive it.
sleep 0.2
if stray=$(pgrep -g "$PGID"); then
    kill -KILL -- "-$PGID" 2>/dev/null || true
    fail "processes left behind by the guest (killed): $(echo "$stray" | tr '\n' ' ')"
fi
PGID=

sed 's/^[0-9.]* /  | /' "$LOG"

((uml_rc == 0)) || fail "the kernel exited with status $uml_rc"
[[ -f $SCRATCH/exit-status ]] || fail "the guest script did not finish (no exit-status; see the console above)"
status=$(cat "$SCRATCH/exit-status")
[[ $status == 0 ]] || fail "guest script exited with status $status: $(grep 'SMOKE:' "$LOG" | tail -n1 | cut -d' ' -f2-)"

init_line=$(grep -m1 'vhost-hwsim-init: up after' "$LOG") || fail "no init marker in the console log"
guest_up=$(sed 's/.*up after \([0-9.]*\)s.*/\1/' <<<"$init_line")
host_init=$(awk -v s="$start" '{ printf "%.2f", $1 - s }' <<<"$init_line")
total=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
ifaces=$(grep -m1 'SMOKE: interfaces:' "$LOG" | sed 's/.*interfaces: //; s/ *$//')
reg=$(grep -m1 'SMOKE: regdomain:' "$LOG" | sed 's/.*regdomain: //')
[[ $reg == DE ]] || fail "regulatory domain could not be set (got '$reg'): regulatory.db not loaded in the guest"

echo "boot-smoke: kernel $KERNEL"
echo "boot-smoke: root   $ROOT"
echo "boot-smoke: PASS interfaces=[$ifaces] regdomain=$reg time_to_init=${host_init}s (guest uptime ${guest_up}s) boot_to_poweroff=${total}s"
