# mlo: two UML guests whose mac80211_hwsim radio is MLO capable (mac80211_hwsim.mlo=1,
# channels=3) run Debian's wpa_supplicant as non-AP MLDs (OWE, PMF required) against
# vhost-hwsim's built-in AP MLD with three links (2.4 GHz ch 1 40 MHz, 5 GHz ch 36 80 MHz,
# 6 GHz ch 5 80 MHz; MLO_WIDTHS) whose
# distribution system is a host TAP. `sta` scans every channel; `probe` scans only 5 GHz ch 36
# and learns the other links from the AP's ML probe response. Checks: both report a
# multi-link association with all three links active at their widths, the AP MLD address,
# COMPLETED and OWE;
# the host pings both through the TAP; iperf3 runs 10 s host -> sta; data frames went over all
# three links (the AP's per-link counters); the two stations ping each other through the AP
# (intra-BSS relay); sta negotiates a TID-to-link mapping of every TID to links 0 and 1 (nl80211
# SET_TID_TO_LINK_MAPPING, sent by ttlm_script's perl: iw has no command for it), mac80211
# suspends link 2, and the AP's downlink to sta during a ping and iperf3 uses links 0 and 1 only
# (MLO_TTLM); sta maps every TID to all three links again; removing link 2 through the control
# socket leaves
# both associated on the other two and reachable; their protected deauthentications on leaving
# are accepted by the AP. Beacon protection is on (`beacon_prot=1`): each guest installs a
# BIGTK per link from the 4-way handshake, and mac80211 reports no beacon whose MME fails
# over the whole run. A third guest, `twin`, takes sta's MLD address and joins while sta is
# associated: status 30 and an SA Query that sta answers keep sta's association. After the
# peer pings, probe disconnects and reconnects through PMKSA caching (no new OWE DH or SAE
# exchange: the AP's pmksa_cache_hits) on three links and pings the host.
# The host has no ping/iperf3 of its own, so they run from the guest root with chroot (same
# network namespace as the host).
#
# mlo-sae.sh runs the same with SAE: it sources this file, then sets the MLO_* security
# variables below (set here unconditionally, so a scenario run after mlo-sae gets OWE again).

MLO_TAP=vhsim-mlo0
# Under tests/vm/run --time-travel: keep the lossless medium. The bulk traffic comes from the
# host over the TAP (iperf3 host -> sta), which the daemon's pacing (--time-travel-pace 1 with
# a TAP) bounds by wall time; the rig's airtime default is for guest-to-guest iperf3.
TT_KEEP_MEDIUM=1
# The AP's security lines, the wpa_supplicant global and network lines, what `wpa_cli status`
# must report as key_mgmt, and the host -> sta iperf3 duration.
MLO_AP_SECURITY='security = "owe"'
MLO_WPA_GLOBAL=
MLO_WPA_NETWORK='key_mgmt=OWE'
MLO_KEY_MGMT=OWE
MLO_IPERF_SECONDS=10
# SAE authentications the AP must have completed (ap stats sae_accepted).
MLO_SAE_ACCEPTED=0
# The links' widths (MHz) at 2.4, 5 and 6 GHz: configured, and what `iw dev wlan0 info` must show.
MLO_WIDTHS=(40 80 80)
# The guest that leaves and comes back after its peer ping through PMKSA caching (empty:
# none); verdict() checks its reconnect_* figures and the AP's pmksa_cache_hits.
MLO_RECONNECT=probe
# Hooks for a variant's extra guests: started after the two non-AP MLDs, checked in verdict().
mlo_extra_guests() { :; }
mlo_extra_verdict() { :; }

# The TID-to-link mapping step and the twin guest, kept in files of their own.
. "$SCENARIOS/mlo-steps/ttlm.sh"
. "$SCENARIOS/mlo-steps/twin.sh"
# Negotiated TID-to-link mapping step (1 = on): sta maps every TID to links 0 and 1, the host
# pings and runs iperf3 to it, the AP must have sent sta's data on links 0 and 1 only; then sta
# maps every TID to all three links again (the default mapping).
MLO_TTLM=1
# Group rekey interval of the AP (group_rekey_s; 0 = off): each guest must have completed
# at least one MLO group key handshake, installing BIGTKs under both key IDs (6 and 7) on
# all three links, with no station failing it.
MLO_GROUP_REKEY_S=4

setup() {
    cat >"$WORK/ap.toml" <<TOML
ssid = "vhost-hwsim-mlo"
mld_addr = "02:00:00:a0:00:00"
$MLO_AP_SECURITY
beacon_interval_tu = 100
beacon_protection = true
group_rekey_s = $MLO_GROUP_REKEY_S
[[link]]
id = 0
band = "2.4"
channel = 1
width = ${MLO_WIDTHS[0]}
bssid = "02:00:00:a0:00:10"
[[link]]
id = 1
band = "5"
channel = 36
width = ${MLO_WIDTHS[1]}
bssid = "02:00:00:a0:00:11"
[[link]]
id = 2
band = "6"
channel = 5
width = ${MLO_WIDTHS[2]}
bssid = "02:00:00:a0:00:12"
TOML
    printf '%s\n' --ap-tap "$MLO_TAP" >"$WORK/daemon.args"
}

# guest_script NAME MAC IP [SCAN_FREQ]: a non-AP MLD. With SCAN_FREQ it scans that one channel
# and must learn the other links from an ML probe response (complete per-STA profiles).
guest_script() {
    cat <<GUEST
. /scratch/lib.sh
me=$1
reconnect=$MLO_RECONNECT
set_mac wlan0 $2
cat >/tmp/wpa.conf <<CONF
ctrl_interface=/run/wpa_supplicant
country=DE
$MLO_WPA_GLOBAL
network={
    ssid="vhost-hwsim-mlo"
    $MLO_WPA_NETWORK
    ieee80211w=2
    beacon_prot=1
    ${4:+scan_freq=$4}
}
CONF
GUEST
    cat <<'GUEST'
wpa_supplicant -B -t -d -i wlan0 -c /tmp/wpa.conf -f /tmp/wpa.log || fail "wpa_supplicant"
result connect_time=$(wait_connected wlan0 30)
# Setup time from the (last) authentication attempt to the end of the 4-way handshake, from
# wpa_supplicant's timestamps; connect_time above also counts the scan.
sleep 0.2
result assoc_time=$(awk '/SME: Trying to authenticate/ { a = $1 } /CTRL-EVENT-CONNECTED/ { c = $1 } END { if (a && c) printf "%.3f", c - a }' /tmp/wpa.log | tr -d :)
result ml_probes=$(grep -c 'Doing an ML probe' /tmp/wpa.log)
# After the 4-way handshake mac80211_hwsim activates every link; wait for three channels.
i=0
until [ "$(iw dev wlan0 info | grep -c 'channel')" -ge 3 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
iw dev wlan0 info >/scratch/iw-info.txt
iw dev wlan0 link >/scratch/iw-link.txt
wpa_cli -i wlan0 status >/scratch/wpa-status.txt
result links=$(grep -c ' - link ID' /scratch/iw-info.txt)
result active_links=$(grep -c 'channel' /scratch/iw-info.txt)
result widths=$(sed -n 's/.*width: \([0-9]*\) MHz.*/\1/p' /scratch/iw-info.txt | tr '\n' / | sed 's,/$,,')
result ap_mld_addr=$(sed -n 's/^ap_mld_addr=//p' /scratch/wpa-status.txt)
result wpa_state=$(sed -n 's/^wpa_state=//p' /scratch/wpa-status.txt)
result key_mgmt=$(sed -n 's/^key_mgmt=//p' /scratch/wpa-status.txt)
# Beacon protection: wpa_supplicant installs the BIGTK of every link from message 3 (its MLO
# BIGTK KDEs); from then on mac80211 drops any beacon of that link whose MME is missing or
# fails BIP-CMAC-128 and reports it (nl80211 UNPROT_BEACON, at most one per 10 s; counted at
# the end from wpa_supplicant's debug log, which has the driver event even where 2.11 prints
# no CTRL-EVENT-UNPROT-BEACON, as on this multi-link association).
# (Key ID 6, or 7 when the AP rekeyed before the guest associated.)
result bigtk_links=$(sed -n 's/.*RSN: MLO Link \([0-9]*\) BIGTK keyid [67] .*/\1/p' /tmp/wpa.log | sort -u | wc -l)
GUEST
    cat <<GUEST
ip addr add $3/24 dev wlan0
cat >/tmp/ttlm.pl <<'PERL_EOF'
$(ttlm_script)
PERL_EOF
GUEST
    cat <<'GUEST'
iperf3 -s -D -1 || fail "iperf3 server"
signal "links_up_$me"
wait_for traffic_done 90
# Station to station: the AP MLD relays within its BSS (both guests do this at once).
case $me in sta) peer=10.77.0.3 ;; *) peer=10.77.0.2 ;; esac
result peer_ping_loss=$(ping_loss $peer 5)
if [ "$reconnect" = "$me" ]; then
    # Leave (protected deauthentication) and come back once sta has pinged us:
    # wpa_supplicant holds the PMKSA for the AP MLD and names its PMKID in the RSNE (PMKSA
    # caching): with SAE after Open System authentication instead of a new SAE exchange,
    # with OWE the AP answers with that PMKID in its RSNE instead of a DH element.
    wait_for peer_ping_done_sta 30
    wpa_cli -i wlan0 disconnect >/dev/null
    sleep 1
    mark=$(wc -l </tmp/wpa.log)
    wpa_cli -i wlan0 reconnect >/dev/null
    start=$(now)
    i=0
    until [ "$(wpa_cli -i wlan0 status | sed -n 's/^wpa_state=//p')" = COMPLETED ]; do
        i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.1
    done
    result reconnect_time=$(awk -v s="$start" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }')
    i=0
    until [ "$(iw dev wlan0 info | grep -c 'channel')" -ge 3 ]; do
        i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
    done
    tail -n +$((mark + 1)) /tmp/wpa.log >/scratch/wpa-reconnect.log
    result reconnect_state=$(wpa_cli -i wlan0 status | sed -n 's/^wpa_state=//p')
    result reconnect_links=$(iw dev wlan0 info | grep -c ' - link ID')
    result reconnect_active_links=$(iw dev wlan0 info | grep -c 'channel')
    result reconnect_pmksa=$(grep -c -e 'try to use PMKSA caching instead of new SAE' -e 'OWE: Use PMKSA caching' /scratch/wpa-reconnect.log)
    result reconnect_ping_loss=$(ping_loss 10.77.0.1 5)
fi
signal "peer_ping_done_$me"
GUEST
    if [ "$MLO_TTLM" = 1 ]; then ttlm_guest_step; fi
    cat <<'GUEST'
wait_for link_removed 60
sleep 3
iw dev wlan0 info >/scratch/iw-info-after.txt
result links_after=$(grep -c ' - link ID' /scratch/iw-info-after.txt)
result still_connected=$(iw dev wlan0 link | grep -c '^Connected')
result ping_after_removal=$(ping_loss 10.77.0.1 5)
# Leaving sends a deauthentication protected under the PTK (PMF); the AP must accept it.
result unprot_beacons=$(grep -c 'Event UNPROT_BEACON' /tmp/wpa.log)
# Group rekeys: wpa_supplicant's MLO group message 1 handling logs this once per rekey, and
# each link's BIGTK as it installs it: links that had both key IDs (6 and 7) were rekeyed.
result group_rekeys=$(grep -c 'MLO RSN: Group rekeying completed' /tmp/wpa.log)
result rekey_bigtk_links=$(sed -n 's/.*RSN: MLO Link \([0-9]*\) BIGTK keyid \([67]\) .*/\1 \2/p' /tmp/wpa.log | sort -u | cut -d' ' -f1 | uniq -d | wc -l)
wpa_cli -i wlan0 disconnect >/dev/null
sleep 1
cp /tmp/wpa.log /scratch/wpa.log
GUEST
}

# host_result KEY VALUE: the host side's figures ($WORK/shared/result), read by verdict().
host_result() { echo "$1=$2" >>"$WORK/shared/result"; }

# host_ping KEY DEST COUNT INTERVAL: pings DEST from the host, records its loss as KEY (counted
# by ping-loss.awk: why not ping's own figure, see there) and keeps ping's output in
# shared/KEY.txt.
host_ping() {
    local out
    out=$(chroot "$ROOT" ping -c "$3" -i "$4" -W 2 -w "$(awk -v c="$3" -v i="$4" 'BEGIN { print int(c * i) + 10 }')" "$2" 2>&1) || true
    echo "$out" >"$WORK/shared/$1.txt"
    host_result "$1" "$(awk -v count="$3" -f "$HERE/ping-loss.awk" <<<"$out")"
    printf '%s' "$out"
}

ap_stat() {
    "$VHOST_HWSIM" ap --control "$WORK/control.sock" stats 2>/dev/null
}

scenario() {
    # channels=3: the radio may use three channel contexts at once, one per link (the
    # default of 1 leaves every link but the association link inactive).
    start_guest sta 1 "$(guest_script sta 02:00:00:b0:00:00 10.77.0.2)" \
        mac80211_hwsim.mlo=1 mac80211_hwsim.channels=3
    start_guest probe 1 "$(guest_script probe 02:00:00:b1:00:00 10.77.0.3 5180)" \
        mac80211_hwsim.mlo=1 mac80211_hwsim.channels=3
    start_guest twin 1 "$(twin_script)" mac80211_hwsim.mlo=1 mac80211_hwsim.channels=3
    mlo_extra_guests
    local deadline=$((SECONDS + 60)) g
    for g in sta probe; do
        until [[ -e $WORK/shared/links_up_$g ]]; do
            if ((SECONDS >= deadline)) || [[ -e $WORK/$g/exit-status ]]; then
                wait_guests 30
                return 1
            fi
            sleep 0.2
        done
    done
    ip addr add 10.77.0.1/24 dev "$MLO_TAP"
    # The SAE authentications of sta and probe, before the twin adds its own.
    host_result sae_accepted "$(ap_stat | python3 -c 'import json,sys; print(json.load(sys.stdin)["sae_accepted"])' 2>/dev/null)"
    touch "$WORK/shared/twin_go"
    local ping_out iperf_json
    ping_out=$(host_ping ping_loss 10.77.0.2 10 0.2)
    host_result ping_avg_ms "$(echo "$ping_out" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')"
    host_ping ping2_loss 10.77.0.3 5 0.2 >/dev/null
    iperf_json=$(chroot "$ROOT" iperf3 -c 10.77.0.2 -t "$MLO_IPERF_SECONDS" -J 2>&1) || true
    echo "$iperf_json" >"$WORK/shared/iperf3.json"
    host_result iperf_mbps "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))' <<<"$iperf_json" 2>/dev/null)"
    for _ in $(seq 200); do [[ -e $WORK/shared/twin_done ]] && break; sleep 0.1; done
    host_ping ping_after_twin_loss 10.77.0.2 5 0.2 >/dev/null
    ap_stat >"$WORK/shared/ap-stats.json"
    local k
    for k in assoc_comebacks sa_query_confirmed sa_query_timeouts; do
        host_result "$k" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$k" <"$WORK/shared/ap-stats.json" 2>/dev/null)"
    done
    host_result data_frames_per_link "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("/".join(str(l["data_tx"] + l["data_rx"]) for l in d["links"]))' <"$WORK/shared/ap-stats.json" 2>/dev/null)"
    touch "$WORK/shared/traffic_done"
    deadline=$((SECONDS + 50))
    until [[ -e $WORK/shared/peer_ping_done_sta && -e $WORK/shared/peer_ping_done_probe ]] \
        || ((SECONDS >= deadline)); do
        sleep 0.2
    done
    host_result relayed "$(ap_stat | python3 -c 'import json,sys; print(json.load(sys.stdin)["relayed"])' 2>/dev/null)"
    if [[ $MLO_TTLM == 1 ]]; then ttlm_host_step; fi
    "$VHOST_HWSIM" ap --control "$WORK/control.sock" remove-link 2 --tbtts 5 >/dev/null
    touch "$WORK/shared/link_removed"
    wait_guests 90
    ap_stat >"$WORK/shared/ap-stats-end.json"
    for k in departures pmksa_cache_hits sae_accepted group_rekeys group_handshake_failures; do
        host_result "${k}_end" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$k" <"$WORK/shared/ap-stats-end.json" 2>/dev/null)"
    done
}

verdict() {
    local g
    for g in sta probe; do
        expect $g links = 3
        expect $g active_links = 3
        expect $g widths = "$(IFS=/; echo "${MLO_WIDTHS[*]}")"
        expect $g ap_mld_addr = 02:00:00:a0:00:00
        expect $g wpa_state = COMPLETED
        expect $g key_mgmt = "$MLO_KEY_MGMT"
        expect $g links_after = 2
        expect $g still_connected = 1
        expect $g ping_after_removal = 0
        expect $g peer_ping_loss = 0
        expect $g bigtk_links = 3
        expect $g unprot_beacons = 0
    done
    expect probe ml_probes '>' 0
    expect shared ping_loss = 0
    expect shared ping2_loss = 0
    expect shared iperf_mbps '>' 0
    expect shared relayed '>' 0
    local per_link
    per_link=$(get shared data_frames_per_link)
    awk -F/ -v v="$per_link" 'BEGIN { split(v, a, "/"); exit !(a[1] > 0 && a[2] > 0 && a[3] > 0) }' \
        || FAILURES+=("data frames per link (2.4/5/6 GHz) are '$per_link', expected all > 0")
    # A guest that left and came back (MLO_RECONNECT) left twice.
    expect shared departures_end = $((2 + (${#MLO_RECONNECT} > 0)))
    expect shared sae_accepted = "$MLO_SAE_ACCEPTED"
    # The twin: status 30 from the AP (the comeback nl80211 reports), never associated; sta
    # answered every SA Query, none timed out, and it was reachable afterwards.
    expect twin comebacks '>' 0
    local twin_state
    twin_state=$(get twin wpa_state)
    [[ -n $twin_state && $twin_state != COMPLETED ]] \
        || FAILURES+=("twin: with sta's address wpa_state is '${twin_state:-missing}'")
    expect shared assoc_comebacks '>' 0
    expect shared sa_query_confirmed '>' 0
    expect shared sa_query_timeouts = 0
    expect shared ping_after_twin_loss = 0
    if [[ -n $MLO_RECONNECT ]]; then
        expect "$MLO_RECONNECT" reconnect_pmksa '>' 0
        expect "$MLO_RECONNECT" reconnect_state = COMPLETED
        expect "$MLO_RECONNECT" reconnect_links = 3
        expect "$MLO_RECONNECT" reconnect_active_links = 3
        expect "$MLO_RECONNECT" reconnect_ping_loss = 0
        expect shared pmksa_cache_hits_end = 1
    fi
    if ((MLO_GROUP_REKEY_S > 0)); then
        for g in sta probe; do
            expect $g group_rekeys '>' 0
            expect $g rekey_bigtk_links = 3
        done
        expect shared group_rekeys_end '>' 0
        expect shared group_handshake_failures_end = 0
    fi
    mlo_extra_verdict
    if [[ $MLO_TTLM == 1 ]]; then ttlm_verdict; fi
    figures "assoc=$(get sta assoc_time)s (scan+assoc=$(get sta connect_time)s; via ML probe $(get probe connect_time)s) links=$(get sta links)@$(get sta widths)MHz->$(get sta links_after) ping=$(get shared ping_avg_ms)ms iperf3=$(get shared iperf_mbps)Mb/s data_frames_per_link(2.4/5/6GHz)=$per_link sa_query=$(get shared sa_query_confirmed)/$(get shared assoc_comebacks)(twin_comebacks=$(get twin comebacks) twin_auths=$(get twin auth_attempts)) reconnect=$(get probe reconnect_time)s(pmksa_cache_hits=$(get shared pmksa_cache_hits_end)) bigtk_links=$(get sta bigtk_links)/$(get probe bigtk_links) unprot_beacons=$(get sta unprot_beacons)/$(get probe unprot_beacons) group_rekeys=$(get sta group_rekeys)/$(get probe group_rekeys)(ap $(get shared group_rekeys_end), failures $(get shared group_handshake_failures_end)) ttlm_steered_per_link=$(get shared ttlm_steered_per_link)"
}
