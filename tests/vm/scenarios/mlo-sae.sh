# mlo-sae: the mlo scenario with WPA3-Personal: the built-in AP MLD runs SAE (AKM 8, group 19,
# hash-to-element only, PMF required) and both guests' wpa_supplicant use key_mgmt=SAE with
# sae_pwe=1 (H2E only) and ieee80211w=2. Same checks as mlo (three links at 40/80/80 MHz, the
# AP MLD address, COMPLETED, pings, data on all three links, link removal, protected
# departures), key_mgmt reported as SAE, and the AP counts two completed SAE authentications.
# iperf3 runs 3 s.
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
