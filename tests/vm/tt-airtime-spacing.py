#!/usr/bin/env python3
"""Airtime in virtual time, checked over a whole capture (issue 12, done-when 4).

    tt-airtime-spacing.py CAPTURE.pcapng...        check; exit 0 if every PPDU is spaced right
    tt-airtime-spacing.py --doctor IN.pcapng OUT   write a copy with one packet moved 1 us after
                                                   another packet's start (the check must fail)

Under --time-travel the daemon stamps every captured frame with its PPDU's simulated start
(docs/time-travel.md). This reads the capture with tshark and, per channel, sorts the PPDUs by
start and checks each against every PPDU before it:

    start(next) >= end(exchange before) + AIFS[AC of next]

where the exchange is the PPDU and, for a frame that asks for a response (unicast management
or data frame without the QoS no-ack policy), its response: min(SIFS + ACK or Block Ack at the
control response rate, the ACK timeout SIFS + slot + 20 us), the shorter of what an acknowledged
and an unacknowledged attempt occupies. AIFS[AC] = SIFS + AIFSN x slot with the EDCA defaults
(BE 3, BK 7, VI 2, VO 2; management frames VO, non-QoS data BE). Packets on one interface with the
same timestamp (in any of the files: rotation may split an A-MPDU) are one PPDU (an A-MPDU: subframes of 4-byte delimiter + MPDU + FCS, padded to 4
bytes except the last). PPDU durations are computed here from the radiotap rate and the frame
length (802.11-2020 17.4.3 for non-HT OFDM, 19.4.3 for HT-mixed), not taken from the daemon.

The rule is a necessary condition: retries (the capture has one packet per frame, stamped at its
first attempt) and backoff only make the real gap longer. It holds when every transmitter on a
channel senses every other (the airtime scenario's two nodes 5 m apart); hidden nodes may
overlap legitimately. Only non-HT OFDM and HT PPDUs are supported; any other PHY in the capture
is an error, as is a capture with no PPDU to check.
"""

import math
import shutil
import struct
import subprocess
import sys

FIELDS = [
    "frame.time_epoch",
    "frame.interface_name",
    "frame.len",
    "radiotap.length",
    "radiotap.channel.freq",
    "radiotap.datarate",
    "radiotap.mcs.index",
    "radiotap.mcs.bw",
    "radiotap.mcs.gi",
    "radiotap.mcs.fec",
    "wlan.fc.type",
    "wlan.fc.subtype",
    "wlan.ra",
    "wlan.qos.tid",
    "wlan.qos.ack",
    "radiotap.vht.mcs.0",
    "radiotap.he.data_3.data_mcs",
]

US = 1000
ACK_LEN = 14
BLOCK_ACK_LEN = 32  # compressed Block Ack, 64-bit bitmap
HT_NDBPS_20 = [26, 52, 78, 104, 156, 208, 234, 260]
HT_NDBPS_40 = [54, 108, 162, 216, 324, 432, 486, 540]
AIFSN = {"BK": 7, "BE": 3, "VI": 2, "VO": 2}
TID_AC = {0: "BE", 3: "BE", 1: "BK", 2: "BK", 4: "VI", 5: "VI", 6: "VO", 7: "VO"}


class Unsupported(Exception):
    pass


def band_timing(freq):
    """(SIFS, slot, signal extension) in ns for a channel: OFDM short slot everywhere."""
    if freq < 3000:
        return 10 * US, 9 * US, 6 * US
    return 16 * US, 9 * US, 0


def ofdm_ns(rate_mbps, length, freq):
    n_dbps = round(rate_mbps * 4)
    if n_dbps not in (24, 36, 48, 72, 96, 144, 192, 216):
        raise Unsupported(f"non-OFDM rate {rate_mbps} Mb/s")
    n_sym = math.ceil((16 + 8 * length + 6) / n_dbps)
    return (20 + 4 * n_sym) * US + band_timing(freq)[2]


def ht_ns(mcs, bw, sgi, ldpc, length, freq):
    nss = mcs // 8 + 1
    table = HT_NDBPS_40 if bw == 1 else HT_NDBPS_20
    if bw not in (0, 1) or mcs > 31:
        raise Unsupported(f"HT MCS {mcs} bandwidth code {bw}")
    n_dbps = table[mcs % 8] * nss
    n_ltf = {1: 1, 2: 2, 3: 4, 4: 4}[nss]
    tail = 0 if ldpc else 6 * math.ceil(n_dbps / 1080)
    n_sym = math.ceil((8 * length + 16 + tail) / n_dbps)
    data = 4 * math.ceil(n_sym * 3.6 / 4) * US if sgi else n_sym * 4 * US
    return (16 + 4 + 8 + 4 + 4 * n_ltf) * US + data + band_timing(freq)[2]


def response_rate(ppdu):
    """The control response rate (Mb/s): the highest of 6, 12, 24 not above the data's
    modulation (BPSK 6, QPSK 12, 16-QAM and up 24)."""
    if ppdu["mcs"] is not None:
        m = ppdu["mcs"] % 8
        return 6 if m == 0 else 12 if m <= 2 else 24
    r = ppdu["rate"]
    return 6 if r < 12 else 12 if r < 24 else 24


def ppdu_ns(p):
    if p["mcs"] is not None:
        return ht_ns(p["mcs"], p["bw"], p["sgi"], p["ldpc"], p["psdu"], p["freq"])
    if p["rate"] is None:
        raise Unsupported("no rate in the radiotap header")
    return ofdm_ns(p["rate"], p["psdu"], p["freq"])


def exchange_ns(p):
    """The PPDU and the response it asks for (see the module documentation)."""
    t = ppdu_ns(p)
    if p["asks_response"]:
        sifs, slot, _ = band_timing(p["freq"])
        length = BLOCK_ACK_LEN if p["mpdus"] > 1 else ACK_LEN
        response = ofdm_ns(response_rate(p), length, p["freq"])
        t += min(sifs + response, sifs + slot + 20 * US)
    return t


def aifs_ns(p):
    sifs, slot, _ = band_timing(p["freq"])
    return sifs + AIFSN[p["ac"]] * slot


def epoch_ns(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])


def read_packets(path):
    tshark = shutil.which("tshark")
    if tshark is None:
        sys.exit("tt-airtime-spacing: no tshark (apt-get install tshark)")
    cmd = [tshark, "-r", path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    packets = []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("|")))
        packets.append(v)
    return packets


def as_int(s, base=0):
    return int(s, base) if s not in (None, "") else None  # base 0: tshark prints some in hex


def to_ppdus(packets):
    """Groups packets into PPDUs: packets on one interface (by name: each file numbers its
    interfaces anew) with the same timestamp are an A-MPDU."""
    ppdus = []
    by_key = {}
    for v in packets:
        if v["radiotap.vht.mcs.0"] or v["radiotap.he.data_3.data_mcs"]:
            raise Unsupported("a VHT or HE PPDU")
        start = epoch_ns(v["frame.time_epoch"])
        iface = v["frame.interface_name"]
        mpdu = int(v["frame.len"]) - int(v["radiotap.length"]) + 4  # + FCS
        ftype = as_int(v["wlan.fc.type"])
        subtype = as_int(v["wlan.fc.subtype"]) or 0
        ra = v["wlan.ra"]
        unicast = bool(ra) and int(ra.split(":")[0], 16) & 1 == 0
        qos_ack = as_int(v["wlan.qos.ack"])
        asks = unicast and ftype in (0, 2) and qos_ack in (None, 0)
        if ftype == 2 and subtype & 8:
            ac = TID_AC[(as_int(v["wlan.qos.tid"]) or 0) & 7]
        elif ftype == 2:
            ac = "BE"
        else:
            ac = "VO"
        same = by_key.get((iface, start))
        if same is not None:
            same["mpdu_lens"].append(mpdu)
            continue
        rate = v["radiotap.datarate"]
        ppdus.append({
            "start": start,
            "iface": iface,
            "freq": int(v["radiotap.channel.freq"]),
            "rate": float(rate) if rate else None,
            "mcs": as_int(v["radiotap.mcs.index"]),
            "bw": as_int(v["radiotap.mcs.bw"]) or 0,
            "sgi": as_int(v["radiotap.mcs.gi"]) == 1,
            "ldpc": as_int(v["radiotap.mcs.fec"]) == 1,
            "mpdu_lens": [mpdu],
            "asks_response": asks,
            "ac": ac,
        })
        by_key[(iface, start)] = ppdus[-1]
    return ppdus


def finish_ppdus(ppdus):
    for p in ppdus:
        lens = p.pop("mpdu_lens")
        p["mpdus"] = len(lens)
        if len(lens) == 1:
            p["psdu"] = lens[0]
        else:
            p["psdu"] = sum((4 + m + 3) & ~3 for m in lens[:-1]) + 4 + lens[-1]
    return ppdus


def check(paths):
    packets = []
    for path in paths:
        packets += read_packets(path)
    ppdus = finish_ppdus(to_ppdus(packets))
    by_channel = {}
    for p in ppdus:
        by_channel.setdefault(p["freq"], []).append(p)
    violations = []
    checked = 0
    min_slack = None
    for freq, list_ in sorted(by_channel.items()):
        list_.sort(key=lambda p: p["start"])
        busy_until = None  # the latest end of an exchange so far, and its PPDU
        for p in list_:
            if busy_until is not None:
                earliest = busy_until[0] + aifs_ns(p)
                slack = p["start"] - earliest
                checked += 1
                min_slack = slack if min_slack is None else min(min_slack, slack)
                if slack < 0:
                    violations.append((freq, busy_until[1], p, slack))
            end = p["start"] + exchange_ns(p)
            if busy_until is None or end > busy_until[0]:
                busy_until = (end, p)
    t0 = min((p["start"] for p in ppdus), default=0)
    for freq, before, p, slack in violations[:10]:
        print(f"tt-airtime-spacing: VIOLATION on {freq} MHz: PPDU at {(p['start'] - t0) / 1e3:.3f} us "
              f"(if {p['iface']}, {p['ac']}) starts {-slack / 1e3:.3f} us too early after the "
              f"exchange of the PPDU at {(before['start'] - t0) / 1e3:.3f} us (if {before['iface']})")
    channels = ",".join(str(f) for f in sorted(by_channel))
    print(f"tt-airtime-spacing: {len(ppdus)} PPDUs on {channels} MHz, {checked} gaps checked, "
          f"{len(violations)} violations, smallest slack {0 if min_slack is None else min_slack / 1e3:.3f} us")
    if checked == 0:
        print("tt-airtime-spacing: nothing to check")
        return 1
    return 1 if violations else 0


def doctor(src, dst):
    """Copies a pcapng, moving the middle Enhanced Packet Block's timestamp to 1 us after the
    block before it (in ns units, as the daemon writes them)."""
    data = bytearray(open(src, "rb").read())
    epbs = []
    pos = 0
    endian = "<"
    while pos + 12 <= len(data):
        btype, blen = struct.unpack_from(endian + "II", data, pos)
        if btype == 0x0A0D0D0A:
            magic = struct.unpack_from("<I", data, pos + 8)[0]
            endian = "<" if magic == 0x1A2B3C4D else ">"
            blen = struct.unpack_from(endian + "I", data, pos + 4)[0]
        if btype == 6:
            epbs.append(pos)
        if blen < 12:
            sys.exit("tt-airtime-spacing: malformed pcapng")
        pos += blen
    if len(epbs) < 2:
        sys.exit("tt-airtime-spacing: too few packets to doctor")

    def ts(at):
        hi, lo = struct.unpack_from(endian + "II", data, at + 12)
        return (hi << 32) | lo

    k = len(epbs) // 2
    moved = ts(epbs[k - 1]) + 1000
    struct.pack_into(endian + "II", data, epbs[k] + 12, moved >> 32, moved & 0xFFFFFFFF)
    open(dst, "wb").write(data)
    print(f"tt-airtime-spacing: {dst}: packet {k + 1} moved to 1 us after packet {k}")


def main(argv):
    if len(argv) == 4 and argv[1] == "--doctor":
        doctor(argv[2], argv[3])
        return 0
    if len(argv) < 2 or argv[1].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        return check(argv[1:])
    except Unsupported as e:
        print(f"tt-airtime-spacing: cannot check: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
