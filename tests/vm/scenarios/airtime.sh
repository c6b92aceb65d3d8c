# airtime: the wpa2 scenario (WPA2 AP on 5 GHz channel 36, one station, ping, iperf3 10 s)
# with the radio model in airtime mode and the link capped at HT MCS 7, 20 MHz, 1 stream
# (65 Mb/s): every frame waits for the air (CCA, backoff, PPDU, SIFS + ACK or Block Ack)
# before it is delivered, so iperf3 measures what the rate allows, not what the CPUs do
# (wpa2 without pacing: ≈ 400 Mb/s). TCP over 65 Mb/s must stay below 65 Mb/s.

PHY_RATE_MBPS=65

# shellcheck source=wpa2.sh
. "$SCENARIOS/wpa2.sh"

setup() {
    cat >"$WORK/medium.toml" <<TOML
seed = 1
model = "radio"
time_mode = "airtime"
path_loss = { model = "log_distance", exponent = 3.0 }

[defaults.5g]
max_format = "ht"
max_width = 20
max_nss = 1

[[node]]
name = "ap"
addresses = ["02:00:00:0a:00:00"]
position = [0, 0, 1.5]

[[node]]
name = "sta"
addresses = ["02:00:00:0b:00:00"]
position = [5, 0, 1.5]
TOML
}

verdict() {
    expect a ap_freq = 5180
    expect b sta_freq = 5180
    expect b ping_sta_to_ap_loss = 0
    expect a ping_ap_to_sta_loss = 0
    expect b iperf_mbps '>' 10
    awk -v v="$(get b iperf_mbps)" -v max="$PHY_RATE_MBPS" 'BEGIN { exit !(v + 0 < max) }' ||
        FAILURES+=("b: iperf_mbps $(get b iperf_mbps) is not below the link's $PHY_RATE_MBPS Mb/s")
    local aggregated
    aggregated=$(python3 -c "import json,sys; print(sum(v['counters'].get('air_ampdu_followers', 0) for v in json.load(open(sys.argv[1]))['vms']))" "$WORK/stats.json" 2>/dev/null || echo 0)
    [[ $aggregated -gt 0 ]] || FAILURES+=("no frame was aggregated into an A-MPDU")
    figures "assoc=$(get b assoc_s)s ping=ok/ok iperf3=$(get b iperf_mbps)Mb/s over a ${PHY_RATE_MBPS} Mb/s link, a_mpdu_followers=$aggregated"
}

# Under --time-travel the capture is stamped with each PPDU's simulated start: every PPDU on the
# channel must start no earlier than the previous exchange (PPDU, SIFS, ACK / Block Ack) ended
# plus its AIFS, over the whole capture (tt-airtime-spacing.py states the rule). The same check
# on a copy with one packet moved into another's PPDU must fail: the check can fail.
eval "wpa2_$(declare -f check_capture)"
check_capture() {
    wpa2_check_capture
    [[ ${TIME_TRAVEL:-0} == 1 ]] || return 0
    local files=() out
    for f in "$WORK"/capture*.pcapng; do [[ -f $f ]] && files+=("$f"); done
    if out=$(python3 "$HERE/tt-airtime-spacing.py" "${files[@]}" 2>&1); then
        FIGURES="$FIGURES spacing=ok($(sed -n 's/.*: \([0-9]*\) PPDUs.* \([0-9]*\) gaps checked.*smallest slack \([-0-9.]*\) us/\1ppdus,\2gaps,min_slack=\3us/p' <<<"$out" | tail -n1))"
    else
        FAILURES+=("capture: PPDU spacing: $(tail -n 3 <<<"$out" | tr '\n' ' ')")
    fi
    python3 "$HERE/tt-airtime-spacing.py" --doctor "$WORK/capture.pcapng" "$WORK/doctored.pcapng" >/dev/null 2>&1 \
        && ! python3 "$HERE/tt-airtime-spacing.py" "$WORK/doctored.pcapng" >/dev/null 2>&1 \
        || FAILURES+=("capture: the spacing check did not fail on a doctored capture")
}
