# mlo-wide: the mlo scenario with the widest channel each band allows: the built-in AP MLD's
# links are 2.4 GHz ch 1 at 40 MHz, 5 GHz ch 36 at 160 MHz (centre 50) and 6 GHz ch 5 at
# 320 MHz (320MHz-1, centre 31), announced in VHT/HE/EHT Operation and backed by the HE 160 MHz
# and EHT 320 MHz capabilities. Same checks as mlo, with both guests' `iw dev wlan0 info`
# showing 40/160/320 MHz; iperf3 runs 3 s.
. "$SCENARIOS/mlo.sh"

MLO_WIDTHS=(40 160 320)
MLO_IPERF_SECONDS=3
