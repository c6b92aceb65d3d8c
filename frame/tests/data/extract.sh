#!/usr/bin/env bash
# Writes the 802.11 bytes (radiotap header stripped; the captures carry no FCS) of the first
# frame in a radiotap capture that matches a tshark display filter.
#
#   frame/tests/data/extract.sh CAPTURE 'DISPLAY FILTER' OUT.bin
#
# Needs tshark and python3. See README.md in this directory for the filters each fixture used.
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 CAPTURE FILTER OUT.bin" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
tshark -r "$1" -Y "$2" -F pcap -w "$tmp" 2>/dev/null
python3 - "$tmp" "$3" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack_from("<I", data, 0)[0]
assert magic == 0xa1b2c3d4, "expected a little-endian microsecond pcap"
assert struct.unpack_from("<I", data, 20)[0] == 127, "expected radiotap (linktype 127)"
if len(data) < 40:
    sys.exit("no frame matches the filter")
incl = struct.unpack_from("<I", data, 24 + 8)[0]
pkt = data[40:40 + incl]
rt_len = struct.unpack_from("<H", pkt, 2)[0]
open(sys.argv[2], "wb").write(pkt[rt_len:])
print(f"{sys.argv[2]}: {incl - rt_len} bytes")
PY
