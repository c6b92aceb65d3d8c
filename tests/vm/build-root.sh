#!/usr/bin/env bash
# Build (or reuse) the guest root directory of the real-guest rig.
#
#   tests/vm/build-root.sh              # prints the path of the root directory (last line of stdout)
#
# The root is a Debian directory tree made with mmdebstrap (--variant=minbase plus
# the packages below) that a User-Mode Linux guest mounts through hostfs:
#   linux ... rootfstype=hostfs rootflags=<root> ro init=/sbin/vhost-hwsim-init vmscratch=<host dir>
# Boot it read-only: several guests share one root. /sbin/vhost-hwsim-init
# (written below) mounts proc/sys/debugfs, tmpfs on /run /tmp /var/tmp /var/log
# /var/lib /root, loads regulatory.db (iw reg reload), mounts the host
# directory named by vmscratch= on /scratch
# through hostfs, runs /scratch/init.sh with sh, stores its exit status in
# /scratch/exit-status and powers the guest off.
#
# Default suite is sid: it has wpa_supplicant 2.11 (MLO station support);
# trixie has 2.10. Cache key: suite + package list + this script.
#
# Environment:
#   VHOST_HWSIM_CACHE   cache directory (default ~/.cache/vhost-hwsim)
#   ROOT_SUITE          Debian suite (default sid; trixie also works)
#   DEBIAN_MIRROR       default http://deb.debian.org/debian
set -euo pipefail

die() { echo "build-root: error: $*" >&2; exit 1; }
log() { echo "build-root: $*" >&2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
CACHE=${VHOST_HWSIM_CACHE:-$HOME/.cache/vhost-hwsim}
SUITE=${ROOT_SUITE:-sid}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# What the scenarios run in the guest. systemd-standalone-sysusers satisfies
# the "systemd | systemd-sysusers" dependency of wpasupplicant/tcpdump without
# pulling in systemd. busybox provides poweroff -f (no init system is installed).
PACKAGES=(
    iw iproute2 hostapd wpasupplicant wireless-regdb
    iperf3 tcpdump iputils-ping procps busybox
    systemd-standalone-sysusers
)

[[ $(id -u) -eq 0 ]] || die "must run as root (mmdebstrap root mode; UML runs the guest as this user)"
mkdir -p "$CACHE"
exec 9>"$CACHE/.build-root.lock"
flock 9

KEY=$( { echo "suite=$SUITE"; printf '%s\n' "${PACKAGES[@]}"; cat "$SELF"; } | sha256sum | cut -c1-12)
ROOT=$CACHE/root-$SUITE-$KEY
if [[ -f $ROOT/etc/vhost-hwsim-root.manifest && -x $ROOT/sbin/vhost-hwsim-init ]]; then
    log "cached root $ROOT"
    echo "$ROOT"
    exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap"
    apt-get update -qq >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap debian-archive-keyring >&2 \
        || die "apt-get install mmdebstrap failed"
fi

TMP=$ROOT.tmp
rm -rf "$TMP"
log "creating $SUITE root in $TMP (packages: ${PACKAGES[*]})"
start=$(date +%s)
include=$(IFS=,; echo "${PACKAGES[*]}")
# Documentation, man pages and translations are not needed in the guest.
# Check-Valid-Until is off because the mirror reachable here may serve a sid
# Release file older than its Valid-Until window; signatures are still checked.
if ! mmdebstrap \
        --mode=root \
        --variant=minbase \
        --components=main \
        --include="$include" \
        --aptopt='APT::Install-Recommends "false"' \
        --aptopt='Acquire::Check-Valid-Until "false"' \
        --aptopt='APT::Sandbox::User "root"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --customize-hook='chroot "$1" apt-get clean' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/*' \
        "$SUITE" "$TMP" "$MIRROR" >"$CACHE/build-root.log" 2>&1; then
    tail -n 30 "$CACHE/build-root.log" >&2
    rm -rf "$TMP"
    die "mmdebstrap $SUITE failed (full log: $CACHE/build-root.log); if $SUITE is mid-transition, try ROOT_SUITE=trixie"
fi

# Mount points used by the init below.
mkdir -p "$TMP/scratch"
echo vhost-hwsim-guest >"$TMP/etc/hostname"

cat >"$TMP/sbin/vhost-hwsim-init" <<'INIT'
#!/bin/sh
# PID 1 of a rig guest. Kernel command line: init=/sbin/vhost-hwsim-init vmscratch=<host dir>
# (unknown key=value parameters reach init as environment variables).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
for d in /run /tmp /var/tmp /var/log /var/lib /root; do
    mount -t tmpfs -o mode=0755 tmpfs "$d" || echo "vhost-hwsim-init: cannot mount tmpfs on $d"
done
chmod 1777 /tmp /var/tmp
mkdir -p /run/lock
hostname "$(cat /etc/hostname)"
ip link set lo up
# cfg80211 tried to load regulatory.db before the root was mounted and fell back
# to the world domain (no 5 GHz); load it now so `iw reg set XX` works.
iw reg reload || echo "vhost-hwsim-init: iw reg reload failed"
echo "vhost-hwsim-init: up after $(cut -d' ' -f1 /proc/uptime)s"
status=1
if [ -z "$vmscratch" ]; then
    echo "vhost-hwsim-init: no vmscratch= on the kernel command line"
elif ! mount -t hostfs none /scratch -o "hostfs=$vmscratch"; then
    echo "vhost-hwsim-init: cannot mount host directory $vmscratch on /scratch"
elif [ ! -f /scratch/init.sh ]; then
    echo "vhost-hwsim-init: $vmscratch/init.sh does not exist"
else
    cd /scratch
    sh /scratch/init.sh
    status=$?
    cd /
    echo "$status" >/scratch/exit-status
    sync
fi
echo "vhost-hwsim-init: script exited with status $status, powering off"
busybox poweroff -f
INIT
chmod 0755 "$TMP/sbin/vhost-hwsim-init"

ver() { chroot "$TMP" dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo missing; }
{
    echo "suite=$SUITE"
    echo "key=$KEY"
    for p in "${PACKAGES[@]}"; do echo "$p=$(ver "$p")"; done
} >"$TMP/etc/vhost-hwsim-root.manifest"
grep -q '=missing$' "$TMP/etc/vhost-hwsim-root.manifest" && die "packages missing from the root: $(grep '=missing$' "$TMP/etc/vhost-hwsim-root.manifest" | tr '\n' ' ')"
for bin in iw ip hostapd wpa_supplicant iperf3 tcpdump ping busybox; do
    chroot "$TMP" sh -c "command -v $bin" >/dev/null || die "$bin not found in the root"
done

rm -rf "$ROOT"
mv "$TMP" "$ROOT"
log "root ready in $(( $(date +%s) - start ))s, $(du -sh "$ROOT" | cut -f1): $ROOT"
sed 's/^/build-root:   /' "$ROOT/etc/vhost-hwsim-root.manifest" >&2
echo "$ROOT"
