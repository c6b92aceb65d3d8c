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

# ttlm_script: a perl program for the guest (its root has perl-base but no TTLM command in iw
# 6.17 or wpa_supplicant) that sends nl80211 SET_TID_TO_LINK_MAPPING (155) with the same link
# ID bitmap for every TID downlink (NL80211_ATTR_MLO_TTLM_DLINK, 328) and uplink (ULINK, 329):
# `perl ttlm.pl IFNAME LINK_ID...`. mac80211 suspends the links left out and sends the AP a
# TID-to-link mapping request; mac80211_hwsim accepts only one link set for all TIDs, both
# ways. Prints the kernel's answer (0 or -errno).
ttlm_script() {
    cat <<'PERL'
use strict;
use Socket;
my ($ifname, @links) = @ARGV;
my $map = 0;
$map |= 1 << $_ for @links;
socket(my $s, 16, SOCK_RAW, 16) or die "netlink socket: $!";    # AF_NETLINK, NETLINK_GENERIC
bind($s, pack("S S L L", 16, 0, 0, 0)) or die "bind: $!";
sub attr {
    my ($type, $data) = @_;
    my $len = 4 + length $data;
    return pack("S S", $len, $type) . $data . ("\0" x ((4 - $len % 4) % 4));
}
sub request {
    my ($family, $flags, $seq, $cmd, $attrs) = @_;
    my $body = pack("C C S", $cmd, 1, 0) . $attrs;
    send($s, pack("L S S L L", 16 + length $body, $family, $flags, $seq, 0) . $body, 0)
        or die "send: $!";
    recv($s, my $reply, 65536, 0) // die "recv: $!";
    return $reply;
}
# nlctrl (0x10) CTRL_CMD_GETFAMILY (3) with CTRL_ATTR_FAMILY_NAME (2) -> CTRL_ATTR_FAMILY_ID (1).
my $reply = request(0x10, 1, 1, 3, attr(2, "nl80211\0"));
my ($len, $type) = unpack("L S", $reply);
die "GETFAMILY failed" if $type == 2;
my ($off, $family) = (20, 0);
while ($off + 4 <= $len) {
    my ($alen, $atype) = unpack("S S", substr($reply, $off, 4));
    last if $alen < 4;
    $family = unpack("S", substr($reply, $off + 4, 2)) if ($atype & 0x3fff) == 1;
    $off += ($alen + 3) & ~3;
}
die "no nl80211 family" unless $family;
open(my $f, "<", "/sys/class/net/$ifname/ifindex") or die "no $ifname";
my $ifindex = <$f> + 0;
my $maps = pack("S8", ($map) x 8);
# NLM_F_REQUEST | NLM_F_ACK; NL80211_ATTR_IFINDEX (3).
$reply = request($family, 5, 2, 155, attr(3, pack("L", $ifindex)) . attr(328, $maps) . attr(329, $maps));
($len, $type) = unpack("L S", $reply);
die "no netlink ack" unless $type == 2;
print unpack("l", substr($reply, 16, 4)), "\n";
PERL
}

# ttlm_guest_step: sta's side of the TID-to-link mapping step (MLO_TTLM=1).
ttlm_guest_step() {
    cat <<'GUEST'
if [ "$me" = sta ]; then
    wait_for ttlm_go 60
    result ttlm_set=$(perl /tmp/ttlm.pl wlan0 0 1 2>&1 | tr ' ' _)
    sleep 0.5
    result ttlm_active_links=$(iw dev wlan0 info | grep -c 'channel')
    result ttlm_connected=$(iw dev wlan0 link | grep -c '^Connected')
    iperf3 -s -D -1 || fail "iperf3 server"
    signal ttlm_set
    wait_for ttlm_traffic_done 60
    result ttlm_restore=$(perl /tmp/ttlm.pl wlan0 0 1 2 2>&1 | tr ' ' _)
    i=0
    until [ "$(iw dev wlan0 info | grep -c 'channel')" -ge 3 ]; do
        i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
    done
    result ttlm_restored_links=$(iw dev wlan0 info | grep -c 'channel')
    signal ttlm_restored
fi
GUEST
}

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

# host_result KEY VALUE: the host side's figures ($WORK/shared/result), read by verdict().
host_result() { echo "$1=$2" >>"$WORK/shared/result"; }

ap_stat() {
    "$VHOST_HWSIM" ap --control "$WORK/control.sock" stats 2>/dev/null
}

# ttlm_host_step: while sta maps every TID to links 0 and 1, traffic to it; the AP's per-link
# count of downlink frames its mapping steered (ttlm_steered) must grow on links 0 and 1 only.
ttlm_host_step() {
    local steered='import json,sys; print("/".join(str(l["ttlm_steered"]) for l in json.load(sys.stdin)["links"]))'
    local ttlm_field='import json,sys; print(json.load(sys.stdin)["ttlm"][sys.argv[1]])'
    touch "$WORK/shared/ttlm_go"
    local deadline=$((SECONDS + 30))
    until [[ -e $WORK/shared/ttlm_set ]] || ((SECONDS >= deadline)); do sleep 0.2; done
    local before after ping_out
    before=$(ap_stat | python3 -c "$steered" 2>/dev/null)
    ping_out=$(chroot "$ROOT" ping -c 20 -i 0.1 -W 2 10.77.0.2 2>&1) || true
    host_result ttlm_ping_loss "$(echo "$ping_out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')"
    chroot "$ROOT" iperf3 -c 10.77.0.2 -t 1 >/dev/null 2>&1 || true
    after=$(ap_stat | python3 -c "$steered" 2>/dev/null)
    host_result ttlm_steered_per_link "$(awk -v a="$before" -v b="$after" 'BEGIN { n = split(a, x, "/"); split(b, y, "/"); for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? "/" : ""), y[i] - x[i] }')"
    touch "$WORK/shared/ttlm_traffic_done"
    deadline=$((SECONDS + 30))
    until [[ -e $WORK/shared/ttlm_restored ]] || ((SECONDS >= deadline)); do sleep 0.2; done
    local k
    for k in accepted refused; do
        host_result "ttlm_$k" "$(ap_stat | python3 -c "$ttlm_field" "$k" 2>/dev/null)"
    done
}

ttlm_verdict() {
    expect sta ttlm_set = 0
    expect sta ttlm_connected = 1
    expect sta ttlm_active_links = 2
    expect shared ttlm_ping_loss = 0
    local per_link
    per_link=$(get shared ttlm_steered_per_link)
    awk -v v="$per_link" 'BEGIN { split(v, a, "/"); exit !(a[1] > 0 && a[2] > 0 && a[3] == 0) }' \
        || FAILURES+=("TTLM: sta's steered downlink frames per link are '$per_link', expected >0/>0/0")
    expect sta ttlm_restore = 0
    expect sta ttlm_restored_links = 3
    expect shared ttlm_accepted = 2
    expect shared ttlm_refused = 0
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
    ping_out=$(chroot "$ROOT" ping -c 10 -i 0.2 -W 2 10.77.0.2 2>&1) || true
    host_result ping_loss "$(echo "$ping_out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')"
    host_result ping_avg_ms "$(echo "$ping_out" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')"
    ping_out=$(chroot "$ROOT" ping -c 5 -i 0.2 -W 2 10.77.0.3 2>&1) || true
    host_result ping2_loss "$(echo "$ping_out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')"
    iperf_json=$(chroot "$ROOT" iperf3 -c 10.77.0.2 -t "$MLO_IPERF_SECONDS" -J 2>&1) || true
    echo "$iperf_json" >"$WORK/shared/iperf3.json"
    host_result iperf_mbps "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))' <<<"$iperf_json" 2>/dev/null)"
    for _ in $(seq 200); do [[ -e $WORK/shared/twin_done ]] && break; sleep 0.1; done
    ping_out=$(chroot "$ROOT" ping -c 5 -i 0.2 -W 2 10.77.0.2 2>&1) || true
    host_result ping_after_twin_loss "$(echo "$ping_out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')"
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
