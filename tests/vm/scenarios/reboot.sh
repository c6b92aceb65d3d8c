# reboot: guest a keeps an AP running; guest b associates, pings, powers off and boots again
# (a new connection to the same daemon, which is never restarted); b re-associates and pings.

ap_script() {
    cat <<'GUEST'
. /scratch/lib.sh
set_mac wlan0 02:00:00:0a:00:00
ap_conf_psk wlan0 36 a vhost-hwsim WPA-PSK
hostapd -B -f /tmp/hostapd.log /tmp/hostapd-wlan0.conf || { cat /tmp/hostapd.log; fail "hostapd did not start"; }
ip addr add 10.0.0.1/24 dev wlan0
sleep 1
signal ap-ready
wait_for b-boot2-done 180
result ap_assocs=$(grep -c 'AP-STA-CONNECTED' /tmp/hostapd.log)
GUEST
}

sta_script() { # BOOT
    cat <<GUEST
. /scratch/lib.sh
wait_for ap-ready 120
set_mac wlan0 02:00:00:0b:00:00
sta_conf vhost-hwsim WPA-PSK 5180 >/tmp/wpa.conf
wpa_supplicant -B -i wlan0 -c /tmp/wpa.conf -f /tmp/wpa.log || fail "wpa_supplicant did not start"
result assoc_s=\$(wait_connected wlan0 60)
ip addr add 10.0.0.2/24 dev wlan0
result ping_loss=\$(ping_loss 10.0.0.1 5)
signal b-boot$1-done
GUEST
}

scenario() {
    start_guest a 1 "$(ap_script)"
    start_guest b1 1 "$(sta_script 1)"
    wait_guest b1 120 || return 1
    start_guest b2 1 "$(sta_script 2)"
    wait_guests 180
}

verdict() {
    expect b1 ping_loss = 0
    expect b2 ping_loss = 0
    expect a ap_assocs '>' 1
    local vms
    vms=$(daemon_vms)
    [[ $vms == 3 ]] || FAILURES+=("daemon saw $vms VM connections, expected 3 (a, b, b again)")
    figures "assoc_boot1=$(get b1 assoc_s)s assoc_boot2=$(get b2 assoc_s)s ap_assocs=$(get a ap_assocs) vm_connections=$vms"
}
