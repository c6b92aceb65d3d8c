# mlo-sae: the mlo scenario with WPA3-Personal: the built-in AP MLD runs SAE (AKM 8, group 19,
# hash-to-element only, PMF required) and both guests' wpa_supplicant use key_mgmt=SAE with
# sae_pwe=1 (H2E only) and ieee80211w=2. Same checks as mlo (three links at 40/80/80 MHz, the
# AP MLD address, COMPLETED, pings, data on all three links, link removal, protected
# departures), key_mgmt reported as SAE, and the AP counts two completed SAE authentications.
# A third guest tries the same network with a wrong password for 8 s: its SAE confirms are
# refused with status 15 and it never associates. iperf3 runs 3 s. After the peer pings,
# probe disconnects and reconnects: wpa_supplicant finds its PMKSA for the AP MLD and comes
# back with Open System authentication and the PMKID (PMKSA caching, counted by the AP as
# pmksa_cache_hits), on three links, and pings the host.
. "$SCENARIOS/mlo.sh"

MLO_PASSPHRASE="vhost-hwsim sae h2e"
MLO_AP_SECURITY="security = \"sae\"
passphrase = \"$MLO_PASSPHRASE\""
MLO_WPA_GLOBAL="sae_pwe=1"
MLO_WPA_NETWORK="key_mgmt=SAE
    sae_password=\"$MLO_PASSPHRASE\""
MLO_KEY_MGMT=SAE
MLO_IPERF_SECONDS=3
MLO_SAE_ACCEPTED=2

wrong_password_script() {
    cat <<'GUEST'
. /scratch/lib.sh
set_mac wlan0 02:00:00:b2:00:00
cat >/tmp/wpa.conf <<CONF
ctrl_interface=/run/wpa_supplicant
country=DE
sae_pwe=1
network={
    ssid="vhost-hwsim-mlo"
    key_mgmt=SAE
    sae_password="not the passphrase"
    ieee80211w=2
    scan_freq=5180
}
CONF
wpa_supplicant -B -t -d -i wlan0 -c /tmp/wpa.conf -f /tmp/wpa.log || fail "wpa_supplicant"
sleep 8
result sae_status_15=$(grep -c 'auth_transaction=2 status_code=15' /tmp/wpa.log)
result wpa_state=$(wpa_cli -i wlan0 status | sed -n 's/^wpa_state=//p')
wpa_cli -i wlan0 terminate >/dev/null
cp /tmp/wpa.log /scratch/wpa.log
GUEST
}

mlo_extra_guests() {
    start_guest wrong 1 "$(wrong_password_script)" mac80211_hwsim.mlo=1 mac80211_hwsim.channels=3
}

mlo_extra_verdict() {
    # probe came back through PMKSA caching (mlo.sh's verdict), so no third SAE exchange
    # for sta and probe: the one more is the twin's.
    expect shared sae_accepted_end = 3
    expect wrong sae_status_15 '>' 0
    local state
    state=$(get wrong wpa_state)
    [[ -n $state && $state != COMPLETED ]] \
        || FAILURES+=("wrong: with a wrong password wpa_state is '${state:-missing}'")
}
