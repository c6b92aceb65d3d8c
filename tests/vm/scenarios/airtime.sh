# airtime: the wpa2 scenario (WPA2 AP on 5 GHz channel 36, one station, ping, iperf3 10 s)
# with the radio model in airtime mode: every frame waits for the air (CCA, backoff, PPDU,
# SIFS + ACK) before it is delivered, so iperf3 measures what the synthesised rate and the
# per-frame overheads allow instead of what the CPUs do.

# shellcheck source=wpa2.sh
. "$SCENARIOS/wpa2.sh"

setup() {
    cat >"$WORK/medium.toml" <<TOML
seed = 1
model = "radio"
time_mode = "airtime"
path_loss = { model = "log_distance", exponent = 3.0 }

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
