# wpa2: guest a runs hostapd (WPA2-PSK, 5 GHz channel 36, HE), guest b wpa_supplicant;
# b associates, ping works both ways, iperf3 runs 10 s. The daemon captures every frame, and the
# capture must open in tshark with the AP's beacons on its channel and signals on the station's
# frames.
KEYMGMT=${KEYMGMT:-WPA-PSK}
SCENARIO_CAPTURE=1
AP_ADDR=02:00:00:0a:00:00
STA_ADDR=02:00:00:0b:00:00
EXPECT_KEY_MGMT=${EXPECT_KEY_MGMT:-WPA2-PSK}

ap_script() {
    cat <<GUEST
. /scratch/lib.sh
set_mac wlan0 $AP_ADDR
ap_conf_psk wlan0 36 a vhost-hwsim $KEYMGMT
hostapd -B -f /tmp/hostapd.log /tmp/hostapd-wlan0.conf || { cat /tmp/hostapd.log; fail "hostapd did not start"; }
i=0; until hostapd_cli -p /run/hostapd -i wlan0 status 2>/dev/null | grep -q '^state=ENABLED'; do
    i=\$((i+1)); [ \$i -gt 200 ] && { cat /tmp/hostapd.log; fail "AP not enabled"; }; sleep 0.1; done
ip addr add 10.0.0.1/24 dev wlan0
iperf3 -s -D -1
result ap_freq=\$(iw dev wlan0 info | sed -n 's/.*channel [0-9]* (\\([0-9]*\\) MHz).*/\\1/p')
signal ap-ready
wait_for sta-up 120
result ping_ap_to_sta_loss=\$(ping_loss 10.0.0.2 5)
signal ap-pinged
wait_for sta-done 120
result ap_stations=\$(hostapd_cli -p /run/hostapd -i wlan0 all_sta | grep -c '^[0-9a-f][0-9a-f]:')
GUEST
}

sta_script() {
    cat <<GUEST
. /scratch/lib.sh
wait_for ap-ready 120
set_mac wlan0 $STA_ADDR
sta_conf vhost-hwsim $KEYMGMT 5180 >/tmp/wpa.conf
wpa_supplicant -B -i wlan0 -c /tmp/wpa.conf -f /tmp/wpa.log || fail "wpa_supplicant did not start"
result assoc_s=\$(wait_connected wlan0 60)
iw dev wlan0 link
result sta_signal_dbm=\$(iw dev wlan0 link | awk '/signal/ {print \$2}')
result sta_freq=\$(iw dev wlan0 link | awk '/freq/ {print int(\$2); exit}')
result key_mgmt=\$(wpa_cli -i wlan0 status | sed -n 's/^key_mgmt=//p')
ip addr add 10.0.0.2/24 dev wlan0
result ping_sta_to_ap_loss=\$(ping_loss 10.0.0.1 5)
signal sta-up
wait_for ap-pinged 60
iperf3 -c 10.0.0.1 -t 10 -J >/tmp/iperf.json 2>&1 || { cat /tmp/iperf.json; fail "iperf3 failed"; }
result iperf_mbps=\$(sed -n '/"sum_received"/,/}/ s/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' /tmp/iperf.json | head -n1 | awk '{printf "%.1f", \$1/1e6}')
signal sta-done
GUEST
}

scenario() {
    start_guest a 2 "$(ap_script)"
    start_guest b 2 "$(sta_script)"
    wait_guests 240
}

verdict() {
    expect a ap_freq = 5180
    expect b sta_freq = 5180
    expect b key_mgmt = "$EXPECT_KEY_MGMT"
    expect b ping_sta_to_ap_loss = 0
    expect a ping_ap_to_sta_loss = 0
    expect a ap_stations = 1
    expect b iperf_mbps '>' 0
    figures "assoc=$(get b assoc_s)s ping=ok/ok iperf3=$(get b iperf_mbps)Mb/s signal=$(get b sta_signal_dbm)dBm"
}

# The first capture file (the rest of iperf3 goes on in capture-1.pcapng, …) read with the host's
# tshark (802.11 + legacy radiotap, which any version decodes): every beacon of the AP on the
# AP's frequency, and the signal the medium gave in the radiotap header of the station's frames.
check_capture() {
    local cap=$WORK/capture.pcapng
    command -v tshark >/dev/null 2>&1 || { FAILURES+=("capture: no tshark on the host (apt-get install tshark)"); return; }
    tshark -r "$cap" -T fields -E separator='|' -e wlan.fc.type_subtype -e wlan.ta \
        -e radiotap.channel.freq -e radiotap.dbm_antsignal >"$WORK/capture.txt" 2>"$WORK/tshark.err" \
        || { FAILURES+=("capture: tshark cannot read $cap: $(head -c 300 "$WORK/tshark.err")"); return; }
    local ap_freq summary
    ap_freq=$(get a ap_freq)
    # packets, AP beacons, of them on the AP's frequency, station frames with a signal, that
    # signal (the last seen).
    summary=$(awk -F'|' -v ap="$AP_ADDR" -v sta="$STA_ADDR" -v f="$ap_freq" '
        { n++ }
        $1 == "0x0008" && $2 == ap { b++; if ($3 == f) bf++ }
        $2 == sta && $4 != "" { s++; sig = $4 }
        END { printf "%d %d %d %d %s", n, b, bf, s, (sig == "" ? "none" : sig) }' "$WORK/capture.txt")
    local packets beacons on_freq signalled signal
    read -r packets beacons on_freq signalled signal <<<"$summary"
    [[ $beacons -gt 0 ]] || FAILURES+=("capture: no beacon from $AP_ADDR in $packets packets")
    [[ $beacons -eq $on_freq ]] || FAILURES+=("capture: only $on_freq of $beacons beacons on the AP's $ap_freq MHz")
    [[ $signalled -gt 0 ]] || FAILURES+=("capture: no frame of $STA_ADDR with a radiotap signal")
    FIGURES="$FIGURES capture=${packets}pkts beacons=${on_freq}/${beacons}@${ap_freq}MHz capture_signal=${signal}dBm(${signalled}pkts)"
}
