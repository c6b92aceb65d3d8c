# link-fade: MLO keeps traffic going when one band fades. The built-in AP MLD (OWE, three
# links: 2.4 GHz ch 1, 5 GHz ch 36, 6 GHz ch 5, a host TAP as its distribution system) and one
# UML guest running wpa_supplicant as a non-AP MLD on all three links, over the radio model
# (every link at 40 dB SNR). It associates on 5 GHz (scan_freq) and learns the others from the
# ML probe response. While iperf3 runs from the host to the station, link 2 (6 GHz) fades:
# the AP's 6 GHz link gets 0 → 60 dB of extra attenuation (ramped), is held there, and is
# cleared again. LINK_FADE_DRIVER says who drives it: `timeline` (default: `[[event]]`s in the
# medium config, put in force by a `reload` when iperf3 starts) or `ctl` (`vhost-hwsim ctl
# link ap 6ghz --attenuation …` steps from the host; scenario link-fade-ctl).
# Checks: the station stays associated on three links throughout (sampled every 0.5 s);
# during the fade the AP's downlink on link 2 is at most a few percent of its frames (the
# probes of its link health) while links 0 and 1 carry the traffic; link 2 is marked down and
# recovered (ap stats health_down / health_recovered) and carries downlink again afterwards;
# iperf3 moves data throughout.

FADE_TAP=vhsim-fade0
# (Set here unconditionally: link-fade-ctl.sh sources this file, then sets ctl.)
LINK_FADE_DRIVER=timeline
# Seconds from the start of iperf3: fade from FADE_AT over FADE_RAMP, back at FADE_BACK.
FADE_AT=3
FADE_RAMP=2
FADE_BACK=10
FADE_IPERF_SECONDS=16
FADE_DB=60
# The lossless-medium rule of the rig under --time-travel does not apply: the medium is ours.
TT_KEEP_MEDIUM=1

setup() {
    cat >"$WORK/ap.toml" <<TOML
ssid = "vhost-hwsim-fade"
mld_addr = "02:00:00:a0:00:00"
security = "owe"
beacon_interval_tu = 100
[[link]]
id = 0
band = "2.4"
channel = 1
bssid = "02:00:00:a0:00:10"
[[link]]
id = 1
band = "5"
channel = 36
width = 80
bssid = "02:00:00:a0:00:11"
[[link]]
id = 2
band = "6"
channel = 5
width = 80
bssid = "02:00:00:a0:00:12"
TOML
    cat >"$WORK/medium.toml" <<TOML
seed = 1
model = "radio"
time_mode = "instant"
default_snr_db = 40
TOML
    printf '%s\n' --ap-tap "$FADE_TAP" >"$WORK/daemon.args"
}

guest_script() {
    cat <<'GUEST'
. /scratch/lib.sh
set_mac wlan0 02:00:00:b0:00:00
cat >/tmp/wpa.conf <<CONF
ctrl_interface=/run/wpa_supplicant
country=DE
network={
    ssid="vhost-hwsim-fade"
    key_mgmt=OWE
    ieee80211w=2
    scan_freq=5180
}
CONF
wpa_supplicant -B -t -d -i wlan0 -c /tmp/wpa.conf -f /tmp/wpa.log || fail "wpa_supplicant"
result connect_time=$(wait_connected wlan0 30)
i=0
until [ "$(iw dev wlan0 info | grep -c 'channel')" -ge 3 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
result links=$(iw dev wlan0 info | grep -c ' - link ID')
result active_links=$(iw dev wlan0 info | grep -c 'channel')
ip addr add 10.78.0.2/24 dev wlan0
iperf3 -s -D || fail "iperf3 server"
signal links_up
# Sample the association while the host fades link 2: every 0.5 s, COMPLETED and Connected.
samples=0 lost=0 min_links=3
while [ ! -e /tmp/shared/traffic_done ]; do
    samples=$((samples + 1))
    state=$(wpa_cli -i wlan0 status | sed -n 's/^wpa_state=//p')
    if [ "$state" != COMPLETED ] || ! iw dev wlan0 link | grep -q '^Connected'; then
        lost=$((lost + 1))
        log "sample $samples: state $state"
    fi
    n=$(iw dev wlan0 info | grep -c ' - link ID')
    [ "$n" -lt "$min_links" ] && min_links=$n
    sleep 0.5
    [ $samples -gt 240 ] && break
done
result samples=$samples
result assoc_lost_samples=$lost
result min_links=$min_links
result links_end=$(iw dev wlan0 info | grep -c ' - link ID')
result wpa_state_end=$(wpa_cli -i wlan0 status | sed -n 's/^wpa_state=//p')
result disconnects=$(grep -c 'CTRL-EVENT-DISCONNECTED' /tmp/wpa.log)
wpa_cli -i wlan0 disconnect >/dev/null
sleep 1
cp /tmp/wpa.log /scratch/wpa.log
GUEST
}

host_result() { echo "$1=$2" >>"$WORK/shared/result"; }

ap_stat() {
    "$VHOST_HWSIM" ap --control "$WORK/control.sock" stats 2>/dev/null
}

# link_tx FILE: the AP's downlink data frames per link, "a/b/c".
link_tx() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("/".join(str(l["data_tx"]) for l in d["links"]))' "$1" 2>/dev/null
}

# The fade as [[event]]s in a copy of the medium config (times from the reload).
fade_config() {
    cat "$WORK/medium.toml"
    cat <<TOML
[[event]]
at = "${FADE_AT}s"
link = { node = "ap", band = "6ghz", attenuation_db = $FADE_DB }
ramp = "${FADE_RAMP}s"
[[event]]
at = "${FADE_BACK}s"
link = { node = "ap", band = "6ghz", clear = true }
TOML
}

ctl() { "$VHOST_HWSIM" ctl --control "$WORK/control.sock" "$@" >/dev/null; }

scenario() {
    start_guest sta 1 "$(guest_script)" mac80211_hwsim.mlo=1 mac80211_hwsim.channels=3
    local deadline=$((SECONDS + 60))
    until [[ -e $WORK/shared/links_up ]]; do
        if ((SECONDS >= deadline)) || [[ -e $WORK/sta/exit-status ]]; then
            wait_guests 30
            return 1
        fi
        sleep 0.2
    done
    ip addr add 10.78.0.1/24 dev "$FADE_TAP"
    local ping_out
    ping_out=$(chroot "$ROOT" ping -c 5 -i 0.2 -W 2 -w 11 10.78.0.2 2>&1) || true
    host_result ping_loss "$(awk -v count=5 -f "$HERE/ping-loss.awk" <<<"$ping_out")"
    fade_config >"$WORK/fade.toml"
    chroot "$ROOT" iperf3 -c 10.78.0.2 -t "$FADE_IPERF_SECONDS" -i 1 -J >"$WORK/shared/iperf3.json" 2>&1 &
    local iperf=$! t0=$SECONDS
    # t = 0: the fade's clock starts (the timeline with the reload; ctl steps from here).
    if [[ $LINK_FADE_DRIVER == timeline ]]; then
        "$VHOST_HWSIM" reload --control "$WORK/control.sock" --config "$WORK/fade.toml" >/dev/null \
            || FAILURES+=("reload of the fade timeline refused")
    fi
    until_t() { while ((SECONDS - t0 < $1)); do sleep 0.1; done; }
    ap_stat >"$WORK/shared/ap-0.json"
    if [[ $LINK_FADE_DRIVER == ctl ]]; then
        until_t "$FADE_AT"
        local db
        for db in 15 30 45 $FADE_DB; do
            ctl link ap 6ghz --attenuation "$db" || FAILURES+=("ctl link ap 6ghz --attenuation $db refused")
            sleep 0.5
        done
    fi
    # Faded from FADE_AT + FADE_RAMP on; the window starts a second later (link health has
    # seen its failures by then) and ends at FADE_BACK.
    until_t $((FADE_AT + FADE_RAMP + 1))
    ap_stat >"$WORK/shared/ap-1.json"
    until_t "$FADE_BACK"
    ap_stat >"$WORK/shared/ap-2.json"
    if [[ $LINK_FADE_DRIVER == ctl ]]; then
        ctl link ap 6ghz --clear || FAILURES+=("ctl link ap 6ghz --clear refused")
    fi
    until_t $((FADE_BACK + 1))
    ap_stat >"$WORK/shared/ap-3.json"
    wait "$iperf" || true
    ap_stat >"$WORK/shared/ap-4.json"
    touch "$WORK/shared/traffic_done"
    host_result tx_before "$(link_tx "$WORK/shared/ap-0.json")"
    host_result tx_fade_start "$(link_tx "$WORK/shared/ap-1.json")"
    host_result tx_fade_end "$(link_tx "$WORK/shared/ap-2.json")"
    host_result tx_back "$(link_tx "$WORK/shared/ap-3.json")"
    host_result tx_end "$(link_tx "$WORK/shared/ap-4.json")"
    host_result health "$(python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["links"][2]; print("%d/%d" % (l["health_down"], l["health_recovered"]))' <"$WORK/shared/ap-4.json" 2>/dev/null)"
    host_result iperf_mbps "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))' <"$WORK/shared/iperf3.json" 2>/dev/null)"
    # The slowest second of iperf3 (the fade must not stall the flow).
    host_result iperf_min_mbps "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f" % min(i["sum"]["bits_per_second"] / 1e6 for i in d["intervals"]))' <"$WORK/shared/iperf3.json" 2>/dev/null)"
    wait_guests 60
}

# delta A B: per-link differences of two "a/b/c" counts, "x/y/z".
delta() { awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, "/"); split(b, y, "/"); for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? "/" : ""), y[i] - x[i] }'; }

verdict() {
    expect sta links = 3
    expect sta active_links = 3
    expect sta assoc_lost_samples = 0
    expect sta disconnects = 0
    expect sta min_links = 3
    expect sta wpa_state_end = COMPLETED
    expect shared ping_loss = 0
    expect shared iperf_mbps '>' 0
    expect shared iperf_min_mbps '>' 0
    local before fade after health
    before=$(delta "$(get shared tx_before)" "$(get shared tx_fade_start)")
    fade=$(delta "$(get shared tx_fade_start)" "$(get shared tx_fade_end)")
    after=$(delta "$(get shared tx_back)" "$(get shared tx_end)")
    health=$(get shared health)
    # During the fade: links 0 and 1 carry it, link 2 only link health's probes (1 in 32).
    awk -v v="$fade" 'BEGIN { split(v, a, "/"); t = a[1] + a[2] + a[3]; exit !(a[1] > 0 && a[2] > 0 && t > 0 && a[3] <= 0.06 * t) }' \
        || FAILURES+=("downlink per link during the fade is '$fade', expected links 0 and 1 > 0 and link 2 at most 6 %")
    awk -v v="$after" 'BEGIN { split(v, a, "/"); t = a[1] + a[2] + a[3]; exit !(t > 0 && a[3] >= 0.2 * t) }' \
        || FAILURES+=("downlink per link after the fade is '$after', expected link 2 back (≥ 20 %)")
    awk -v v="$health" 'BEGIN { split(v, a, "/"); exit !(a[1] >= 1 && a[2] >= 1) }' \
        || FAILURES+=("link 2 health down/recovered is '$health', expected both ≥ 1")
    figures "driver=$LINK_FADE_DRIVER links=$(get sta links) samples=$(get sta samples) assoc_lost=$(get sta assoc_lost_samples) downlink_per_link(before ramp end/fade/after)=$before|$fade|$after health(link2 down/recovered)=$health iperf3=$(get shared iperf_mbps)Mb/s(min 1 s: $(get shared iperf_min_mbps))"
}
