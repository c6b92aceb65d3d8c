# idle: guest a runs a WPA2 AP (hostapd, 5 GHz channel 36) and beacons for IDLE_SECONDS (60)
# of its own time; guest b associates to it, then both idle until then. Mostly waiting: under
# --time-travel the run takes far less wall time than simulated time (the verdict prints the
# ratio); on the wall clock it takes IDLE_SECONDS plus boot. Checks: b associated, a is
# still beaconing at the end (its station is still there), and both saw IDLE_SECONDS pass on
# their own clocks.
IDLE_SECONDS=60
SCENARIO_CAPTURE=1
AP_ADDR=02:00:00:0a:00:00
STA_ADDR=02:00:00:0b:00:00

idle_ap_script() {
    cat <<GUEST
. /scratch/lib.sh
set_mac wlan0 $AP_ADDR
ap_conf_psk wlan0 36 a vhost-hwsim WPA-PSK
hostapd -B -f /tmp/hostapd.log /tmp/hostapd-wlan0.conf || { cat /tmp/hostapd.log; fail "hostapd did not start"; }
t0=\$(now)
signal ap-ready
wait_for sta-up 60
while [ "\$(awk -v t0="\$t0" -v n="\$(now)" 'BEGIN { print (n - t0 < $IDLE_SECONDS) }')" = 1 ]; do sleep 1; done
result idle_s=\$(awk -v t0="\$t0" -v n="\$(now)" 'BEGIN { printf "%.1f", n - t0 }')
result ap_stations=\$(hostapd_cli -p /run/hostapd -i wlan0 all_sta | grep -c '^[0-9a-f][0-9a-f]:')
GUEST
}

idle_sta_script() {
    cat <<GUEST
. /scratch/lib.sh
wait_for ap-ready 60
t0=\$(now)
set_mac wlan0 $STA_ADDR
sta_conf vhost-hwsim WPA-PSK 5180 >/tmp/wpa.conf
wpa_supplicant -B -i wlan0 -c /tmp/wpa.conf -f /tmp/wpa.log || fail "wpa_supplicant did not start"
result assoc_s=\$(wait_connected wlan0 30)
signal sta-up
while [ "\$(awk -v t0="\$t0" -v n="\$(now)" 'BEGIN { print (n - t0 < $IDLE_SECONDS) }')" = 1 ]; do sleep 1; done
result idle_s=\$(awk -v t0="\$t0" -v n="\$(now)" 'BEGIN { printf "%.1f", n - t0 }')
result still_connected=\$(iw dev wlan0 link | grep -c '^Connected')
GUEST
}

scenario() {
    start_guest a 2 "$(idle_ap_script)"
    start_guest b 2 "$(idle_sta_script)"
    wait_guests $((IDLE_SECONDS * 2 + 60))
}

verdict() {
    expect a ap_stations = 1
    expect b still_connected = 1
    expect a idle_s '>' $((IDLE_SECONDS - 1))
    expect b idle_s '>' $((IDLE_SECONDS - 1))
    figures "assoc=$(get b assoc_s)s idle=$(get a idle_s)s/$(get b idle_s)s (guest clocks)"
}

# Every beacon the AP sent over the idle time, on its channel.
check_capture() {
    local cap=$WORK/capture.pcapng beacons
    command -v tshark >/dev/null 2>&1 || { FAILURES+=("capture: no tshark on the host"); return; }
    beacons=$(tshark -r "$cap" -Y "wlan.fc.type_subtype == 0x0008 && wlan.ta == $AP_ADDR" 2>/dev/null | wc -l)
    # ≈ 9.77 beacons a second (102.4 ms); at least 90 % of IDLE_SECONDS' worth.
    [[ $beacons -ge $((IDLE_SECONDS * 9)) ]] || FAILURES+=("capture: only $beacons beacons of $AP_ADDR")
    FIGURES="$FIGURES beacons=$beacons"
}
