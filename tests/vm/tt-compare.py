#!/usr/bin/env python3
"""Compare the captures of two virtual-time runs (determinism).

    tests/vm/tt-compare.py RUN1_DIR RUN2_DIR [SCENARIO]

Each directory holds the SCENARIO*.pcapng files `tests/vm/run` kept (CAPTURE=DIR). Prints, for
each run, the packet count and three digests over the packets in file order:

- timing: (timestamp ns, interface, length) of every packet: the schedule;
- bytes: every packet's bytes (radiotap + 802.11 frame);
- both: timestamp, interface and bytes;

then where the two runs first differ in each. Exit status 0 if the `both` digests match, 1 if
not, 2 on a usage or file error. Reads pcapng itself (Enhanced Packet Blocks, little-endian, as
vhost-hwsim writes them): no tshark needed.
"""

import glob
import hashlib
import os
import struct
import sys


def packets(path):
    """Yields (interface, timestamp in ns, bytes) of every EPB in one pcapng file."""
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        if blen < 12 or off + blen > len(data):
            raise ValueError(f"{path}: truncated block at {off}")
        if btype == 6:  # Enhanced Packet Block
            iface, hi, lo, cap, _orig = struct.unpack_from("<IIIII", data, off + 8)
            body = data[off + 28 : off + 28 + cap]
            # vhost-hwsim writes if_tsresol 9 (ns): the timestamp is ns since the epoch.
            yield iface, (hi << 32) | lo, body
        off += blen


def run_packets(directory, scenario):
    files = sorted(
        glob.glob(os.path.join(directory, f"{scenario}*.pcapng")),
        key=lambda p: (len(p), p),  # SCENARIO.pcapng, then -1, -2, … in order
    )
    if not files:
        raise FileNotFoundError(f"no {scenario}*.pcapng in {directory}")
    out = []
    for fi, path in enumerate(files):
        for iface, ts, body in packets(path):
            out.append(((fi, iface), ts, body))
    return out


def digest(items):
    h = hashlib.sha256()
    for it in items:
        h.update(repr(it).encode() if not isinstance(it, bytes) else it)
    return h.hexdigest()[:16]


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    scenario = sys.argv[3] if len(sys.argv) == 4 else "airtime"
    try:
        runs = [run_packets(d, scenario) for d in sys.argv[1:3]]
    except (OSError, ValueError) as e:
        print(f"tt-compare: {e}", file=sys.stderr)
        return 2
    views = []
    for pk in runs:
        timing = [(i, ts, len(b)) for i, ts, b in pk]
        byts = [b for _, _, b in pk]
        both = [(i, ts, b) for i, ts, b in pk]
        views.append({"timing": timing, "bytes": byts, "both": both})
    for n, (pk, v) in enumerate(zip(runs, views), 1):
        span = (pk[-1][1] - pk[0][1]) / 1e9 if pk else 0
        print(
            f"run{n}: packets={len(pk)} span_s={span:.6f} "
            + " ".join(f"{k}={digest(v[k])}" for k in ("timing", "bytes", "both"))
        )
    same = True
    for k in ("timing", "bytes", "both"):
        i = first_difference(views[0][k], views[1][k])
        if i is None:
            print(f"{k}: identical")
            continue
        if k == "both":
            same = False
        a = runs[0][i] if i < len(runs[0]) else None
        b = runs[1][i] if i < len(runs[1]) else None
        desc = lambda p: "end of capture" if p is None else f"iface={p[0]} t={p[1]} len={len(p[2])}"
        print(f"{k}: first difference at packet {i}: run1 {desc(a)} / run2 {desc(b)}")
        if k == "bytes" and a is not None and b is not None and len(a[2]) == len(b[2]):
            diff = [j for j in range(len(a[2])) if a[2][j] != b[2][j]]
            print(f"  {len(diff)} differing bytes, offsets {diff[:12]}{'…' if len(diff) > 12 else ''}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
