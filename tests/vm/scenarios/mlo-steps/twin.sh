# Sourced by mlo.sh: the `twin` guest that tests SA Query and association comeback.

# twin_script: a third guest that takes sta's MLD address and, once sta is associated, runs
# the same network (it knows the password): authentication succeeds, but the AP keeps sta's
# PMF association, answers the twin's association requests with status 30 (association
# comeback) and asks sta with a protected SA Query, which sta's mac80211 answers. The twin
# never associates; sta stays associated throughout (the host pings it meanwhile).
twin_script() {
    cat <<GUEST
. /scratch/lib.sh
set_mac wlan0 02:00:00:b0:00:00
cat >/tmp/wpa.conf <<CONF
ctrl_interface=/run/wpa_supplicant
country=DE
$MLO_WPA_GLOBAL
network={
    ssid="vhost-hwsim-mlo"
    $MLO_WPA_NETWORK
    ieee80211w=2
    scan_freq=5180
}
CONF
GUEST
    cat <<'GUEST'
wait_for twin_go 90
wpa_supplicant -B -t -d -i wlan0 -c /tmp/wpa.conf -f /tmp/wpa.log || fail "wpa_supplicant"
sleep 6
# mac80211 waits out the comeback time and asks again, and tells wpa_supplicant each time.
result comebacks=$(grep -c 'Association comeback requested' /tmp/wpa.log)
result auth_attempts=$(grep -c 'SME: Trying to authenticate' /tmp/wpa.log)
result wpa_state=$(wpa_cli -i wlan0 status | sed -n 's/^wpa_state=//p')
wpa_cli -i wlan0 terminate >/dev/null
cp /tmp/wpa.log /scratch/wpa.log
signal twin_done
GUEST
}
