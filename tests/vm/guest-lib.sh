# Sourced by every guest script (as /scratch/lib.sh). Busybox/dash-compatible sh.
# The runner passes vmname= and vmshared= on the kernel command line; the kernel hands
# unknown name=value parameters to init as environment variables.

log() { echo "GUEST[$vmname]: $*"; }

# One line of results, on the console and in /scratch/result for the host to read.
result() { echo "RESULT $*"; echo "$*" >>/scratch/result; sync; }

fail() { log "FAIL: $*"; result "fail=$(echo "$*" | tr ' ' '_')"; exit 1; }

# The directory all guests of a run share (hostfs), for barriers.
mkdir -p /tmp/shared
mount -t hostfs none /tmp/shared -o "hostfs=$vmshared" || fail "cannot mount the shared directory $vmshared"

if [ "${vmmedium:-}" = kernel ]; then
    # The in-kernel baseline of tests/vm/guest-throughput: booted without the virtio device, so
    # hwsim_virtio_enabled stays false and, with no wmediumd registered, every frame takes
    # mac80211_hwsim_tx_frame_no_nl. A device here would make the baseline a second vhost run.
    [ ! -e /sys/bus/virtio/devices/virtio0 ] || fail "vmmedium=kernel, but the guest has a virtio device"
else
    # The point of the rig: hwsim must be using the virtio device, i.e. vhost-hwsim.
    [ -e /sys/bus/virtio/drivers/mac80211_hwsim/virtio0 ] || fail "mac80211_hwsim is not bound to the virtio device"
    [ "$(cat /sys/bus/virtio/devices/virtio0/status)" = 0x0000000f ] || fail "virtio0 is not DRIVER_OK"
fi

signal() { : >"/tmp/shared/$1"; sync; log "signalled $1"; }

# wait_for NAME SECONDS
wait_for() {
    i=0
    while [ ! -e "/tmp/shared/$1" ]; do
        i=$((i + 1))
        [ "$i" -gt $(($2 * 10)) ] && fail "timed out after $2 s waiting for $1"
        sleep 0.1
    done
    log "saw $1"
}

# The daemon sees radios by (VM, wire address); frames between guests need distinct
# interface addresses, so every guest numbers its own.
set_mac() { ip link set "$1" address "$2" || fail "cannot set $1 address"; }

now() { cut -d' ' -f1 /proc/uptime; }

# wait_connected IFACE SECONDS: until the station reports a link; prints the time it took.
wait_connected() {
    start=$(now)
    i=0
    until iw dev "$1" link | grep -q '^Connected'; do
        i=$((i + 1))
        if [ "$i" -gt $(($2 * 10)) ]; then
            iw dev "$1" link
            wpa_cli -i "$1" status 2>/dev/null
            tail -n 20 /tmp/wpa.log 2>/dev/null
            fail "$1 did not connect within $2 s"
        fi
        sleep 0.1
    done
    awk -v s="$start" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'
}

# ping_loss DEST COUNT: prints the loss, in percent, of COUNT pings (100 if ping fails
# outright), counted by ping-loss.awk (why not ping's own figure: see there).
ping_loss() {
    ping -c "$2" -i 0.2 -W 2 -w $(($2 / 5 + 10)) "$1" 2>&1 | awk -v count="$2" -f /scratch/ping-loss.awk
}

ap_conf_psk() { # IFACE CHANNEL MODE(a|g) SSID KEYMGMT(WPA-PSK|SAE)
    cat >/tmp/hostapd-"$1".conf <<CONF
interface=$1
driver=nl80211
ctrl_interface=/run/hostapd
ssid=$4
country_code=DE
hw_mode=$3
channel=$2
ieee80211n=1
ieee80211ac=1
ieee80211ax=1
wmm_enabled=1
wpa=2
wpa_key_mgmt=$5
rsn_pairwise=CCMP
wpa_passphrase=vhost-hwsim passphrase
sae_password=vhost-hwsim passphrase
ieee80211w=$( [ "$5" = SAE ] && echo 2 || echo 0 )
sae_pwe=2
CONF
}

sta_conf() { # SSID KEYMGMT(WPA-PSK|SAE) [FREQ]
    cat <<CONF
ctrl_interface=/run/wpa_supplicant
country=DE
sae_pwe=2
network={
    ssid="$1"
    key_mgmt=$2
    psk="vhost-hwsim passphrase"
    sae_password="vhost-hwsim passphrase"
    ieee80211w=$( [ "$2" = SAE ] && echo 2 || echo 0 )
    ${3:+scan_freq=$3}
}
CONF
}

iw reg set DE
