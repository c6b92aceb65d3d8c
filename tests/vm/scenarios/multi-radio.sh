# multi-radio: one guest with 4 radios: APs on 2.4 GHz (ch 1) and 5 GHz (ch 36), two stations
# (each in its own network namespace), each associating to the AP on its band. The radios of
# one guest reach each other only through vhost-hwsim, so this proves FREQ-based delivery.

guest_script() {
    cat <<'GUEST'
. /scratch/lib.sh
i=0
for ifc in wlan0 wlan1 wlan2 wlan3; do set_mac $ifc 02:00:00:0c:0$i:00; i=$((i+1)); done
ap_conf_psk wlan0 1 g band24 WPA-PSK
ap_conf_psk wlan1 36 a band5 WPA-PSK
for ifc in wlan0 wlan1; do
    hostapd -B -f /tmp/hostapd-$ifc.log /tmp/hostapd-$ifc.conf || { cat /tmp/hostapd-$ifc.log; fail "hostapd $ifc"; }
done
ip addr add 10.1.0.1/24 dev wlan0
ip addr add 10.2.0.1/24 dev wlan1
# Stations live in their own namespaces, so their traffic to the APs must cross the medium.
n=1
for pair in "wlan2 band24 2412 10.1.0.2 10.1.0.1" "wlan3 band5 5180 10.2.0.2 10.2.0.1"; do
    set -- $pair
    ns=sta$n; n=$((n+1))
    ip netns add $ns || fail "ip netns add"
    phy=$(cat /sys/class/net/$1/phy80211/name)
    iw phy $phy set netns name $ns || fail "move $phy to $ns"
    sta_conf $2 WPA-PSK $3 >/tmp/wpa-$1.conf
    ip netns exec $ns ip link set lo up
    ip netns exec $ns wpa_supplicant -B -i $1 -c /tmp/wpa-$1.conf -f /tmp/wpa-$1.log -C /run/wpa_supplicant-$ns \
        || fail "wpa_supplicant $1"
done
for pair in "sta1 wlan2 2412 10.1.0.2 10.1.0.1 24" "sta2 wlan3 5180 10.2.0.2 10.2.0.1 5"; do
    set -- $pair
    i=0
    until ip netns exec $1 iw dev $2 link | grep -q '^Connected'; do
        i=$((i+1)); [ $i -gt 600 ] && { tail -n 20 /tmp/wpa-$2.log; fail "$2 did not connect"; }; sleep 0.1
    done
    result sta$6_freq=$(ip netns exec $1 iw dev $2 link | awk '/freq/ {print int($2); exit}')
    result sta$6_bssid=$(ip netns exec $1 iw dev $2 link | awk '/^Connected/ {print $3}')
    ip netns exec $1 ip addr add $4/24 dev $2
    result sta$6_ping_loss=$(ip netns exec $1 sh -c ". /scratch/lib.sh >/dev/null 2>&1; ping_loss $5 5")
done
GUEST
}

scenario() {
    start_guest m 4 "$(guest_script)"
    wait_guests 180
}

verdict() {
    expect m sta24_freq = 2412
    expect m sta24_bssid = 02:00:00:0c:00:00
    expect m sta5_freq = 5180
    expect m sta5_bssid = 02:00:00:0c:01:00
    expect m sta24_ping_loss = 0
    expect m sta5_ping_loss = 0
    figures "sta24->$(get m sta24_bssid)@$(get m sta24_freq) sta5->$(get m sta5_bssid)@$(get m sta5_freq) ping=ok/ok"
}
