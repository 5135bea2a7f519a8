#!/usr/bin/env python3
"""Real circRNA stretches for `circssnn scan` examples, assembled from the
benchmark's own windows (no other source is reachable offline).

The 37 circRNA sets name, for every 101-nt window, the circRNA it was cut
from (`>hsa_circ_0013701 start:..,end:..`). Windows of one circRNA taken in
order of their start and joined where one's last >= 30 nt equal the next
one's first give contiguous stretches of that circRNA's sequence. This
writes the longest stretches of the circRNAs with the most windows:

  data/examples/circrna-stretches.fa        the stretches (linear: a
                                            stretch is not a whole circle)
  data/examples/circrna-stretches.sites.tsv every benchmark window found in
                                            a stretch: id, rbp, label
                                            (1 bound, 0 not), start, end
                                            (0-based, half-open)

Those windows were training, validation or test data of the zoo's models;
a scan finding them shows the scan at work, not that the models generalise.

    python3 scripts/make_scan_examples.py [N_STRETCHES]
"""
import collections
import glob
import gzip
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 3
MIN_OVERLAP = 30

windows = collections.defaultdict(dict)  # circ id -> seq -> start
labels = collections.defaultdict(set)  # seq -> {(rbp, label)}
for path in sorted(glob.glob(os.path.join(ROOT, "data/benchmark/circRNA-RBP/*/*.gz"))):
    rbp = os.path.basename(os.path.dirname(path))
    label = 1 if os.path.basename(path).startswith("positive") else 0
    with gzip.open(path, "rt") as fh:
        header = None
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                header = line[1:]
                continue
            m = re.match(r"(\S+) start:(\d+),end:(\d+)", header)
            if not m:
                continue
            seq = line.upper().replace("T", "U")
            windows[m.group(1)].setdefault(seq, int(m.group(2)))
            labels[seq].add((rbp, label))


def longest_stretch(ws):
    items = sorted(ws.items(), key=lambda kv: (kv[1], kv[0]))
    contig, best = items[0][0], items[0][0]
    for seq, _ in items[1:]:
        if seq in contig:
            continue
        for ov in range(len(seq) - 1, MIN_OVERLAP - 1, -1):
            if contig[-ov:] == seq[:ov]:
                contig += seq[ov:]
                break
        else:
            contig = seq
        if len(contig) > len(best):
            best = contig
    return best


stretches = sorted(
    ((longest_stretch(ws), cid) for cid, ws in windows.items() if len(ws) >= 8),
    key=lambda t: (-len(t[0]), t[1]),
)[:N]
out = os.path.join(ROOT, "data/examples")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "circrna-stretches.fa"), "w") as fa, open(
    os.path.join(out, "circrna-stretches.sites.tsv"), "w"
) as tsv:
    tsv.write("id\trbp\tlabel\tstart\tend\n")
    for seq, cid in stretches:
        name = f"{cid}_stretch"
        fa.write(f">{name} {len(seq)} nt assembled from benchmark windows\n")
        for i in range(0, len(seq), 80):
            fa.write(seq[i : i + 80] + "\n")
        rows = []
        for w in windows[cid]:
            at = seq.find(w)
            if at >= 0:
                for rbp, label in labels[w]:
                    rows.append((at, rbp, label))
        for at, rbp, label in sorted(rows):
            tsv.write(f"{name}\t{rbp}\t{label}\t{at}\t{at + 101}\n")
        print(f"{name}: {len(seq)} nt, {len(rows)} benchmark windows in it")
