# Sourced by mlo.sh: the TID-to-link mapping step (MLO_TTLM=1) — the guest's nl80211 sender,
# sta's side, the host's traffic and counters, and the verdict.

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

# ttlm_host_step: while sta maps every TID to links 0 and 1, traffic to it; the AP's per-link
# count of downlink frames its mapping steered (ttlm_steered) must grow on links 0 and 1 only.
ttlm_host_step() {
    local steered='import json,sys; print("/".join(str(l["ttlm_steered"]) for l in json.load(sys.stdin)["links"]))'
    local ttlm_field='import json,sys; print(json.load(sys.stdin)["ttlm"][sys.argv[1]])'
    touch "$WORK/shared/ttlm_go"
    local deadline=$((SECONDS + 30))
    until [[ -e $WORK/shared/ttlm_set ]] || ((SECONDS >= deadline)); do sleep 0.2; done
    local before after
    before=$(ap_stat | python3 -c "$steered" 2>/dev/null)
    host_ping ttlm_ping_loss 10.77.0.2 20 0.1 >/dev/null
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
