# mlo: one guest whose mac80211_hwsim radio is MLO capable (mac80211_hwsim.mlo=1) runs
# Debian's wpa_supplicant as a non-AP MLD (OWE, PMF required) against vhost-hwsim's built-in
# AP MLD with three links (2.4 GHz ch 1, 5 GHz ch 36, 6 GHz ch 5). The guest must report a
# multi-link association with all three links; then one link is removed through the control
# socket and the station must stay associated on the other two.

setup() {
    cat >"$WORK/ap.toml" <<'TOML'
ssid = "vhost-hwsim-mlo"
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
bssid = "02:00:00:a0:00:11"
[[link]]
id = 2
band = "6"
channel = 5
bssid = "02:00:00:a0:00:12"
TOML
}

guest_script() {
    cat <<'GUEST'
. /scratch/lib.sh
set_mac wlan0 02:00:00:b0:00:00
cat >/tmp/wpa.conf <<CONF
ctrl_interface=/run/wpa_supplicant
country=DE
network={
    ssid="vhost-hwsim-mlo"
    key_mgmt=OWE
    ieee80211w=2
}
CONF
wpa_supplicant -B -dd -i wlan0 -c /tmp/wpa.conf -f /tmp/wpa.log || fail "wpa_supplicant"
result assoc_time=$(wait_connected wlan0 30)
iw dev wlan0 info >/scratch/iw-info.txt
iw dev wlan0 link >/scratch/iw-link.txt
wpa_cli -i wlan0 status >/scratch/wpa-status.txt
result links=$(grep -c 'link [0-9]' /scratch/iw-info.txt)
result ap_mld_addr=$(sed -n 's/^ap_mld_addr=//p' /scratch/wpa-status.txt)
signal links_up
wait_for link_removed 30
sleep 3
iw dev wlan0 info >/scratch/iw-info-after.txt
result links_after=$(grep -c 'link [0-9]' /scratch/iw-info-after.txt)
result still_connected=$(iw dev wlan0 link | grep -c '^Connected')
cp /tmp/wpa.log /scratch/wpa.log
GUEST
}

scenario() {
    start_guest sta 1 "$(guest_script)" mac80211_hwsim.mlo=1
    local deadline=$((SECONDS + 60))
    while [[ ! -e $WORK/shared/links_up ]]; do
        ((SECONDS < deadline)) || break
        [[ -e $WORK/sta/exit-status ]] && break
        sleep 0.2
    done
    if [[ -e $WORK/shared/links_up ]]; then
        "$VHOST_HWSIM" ap --control "$WORK/control.sock" remove-link 2 --tbtts 5 >&2
        touch "$WORK/shared/link_removed"
    fi
    wait_guests 90
}

verdict() {
    expect sta links = 3
    expect sta ap_mld_addr = 02:00:00:a0:00:00
    expect sta links_after = 2
    expect sta still_connected = 1
    figures "assoc=$(get sta assoc_time)s links=$(get sta links)->$(get sta links_after)"
}
