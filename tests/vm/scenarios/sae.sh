# sae: the wpa2 scenario with WPA3-SAE and PMF required.
KEYMGMT=SAE
EXPECT_KEY_MGMT=SAE
. "$SCENARIOS/wpa2.sh"
