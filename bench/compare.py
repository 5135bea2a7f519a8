"""dfdx vs PyTorch on the same machine, in one run: builds nothing, runs the
release `circssnn bench` for the network rows and `circssnn_torch.py` for the
same profiles (one process each, same thread count), prints both and the ratio.

    make -C bench compare          # or: python3 bench/compare.py --threads 2
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def median(xs):
    xs = sorted(xs)
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=12)
    # Shared virtual machines drift: PyTorch's small-KNFP training measured
    # 129 and 176 windows/s in two runs ten minutes apart (dfdx 190 and 201).
    # Each repeat runs both sides once, alternating, and the medians are shown
    # with the range.
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "circssnn"))
    a = ap.parse_args()
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    runs = {}  # (profile, views) -> {"dfdx": [...], "torch": [...]}
    version = "?"
    for _ in range(a.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "dfdx.json")
            subprocess.run([a.binary, "bench", "--steps", str(a.steps), "--min-time", "0.2", "--json", out, "--network-only"], check=True, env=env, stdout=subprocess.DEVNULL)
            rust = json.load(open(out))
        for r in rust:
            cmd = [sys.executable, os.path.join(HERE, "circssnn_torch.py"), "--profile", r["profile"], "--views", r["views"], "--steps", str(a.steps), "--threads", str(a.threads)]
            torch = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            version = torch["torch"]
            entry = runs.setdefault((r["profile"], r["views"]), {"dfdx": [], "torch": []})
            entry["dfdx"].append(r)
            entry["torch"].append(torch)

    def cell(rows, key):
        v = [x[key] or 0 for x in rows]
        return median(v), min(v), max(v)

    print(f"CircSSNN depth 1, {a.threads} threads, train batch 64 (fwd+bwd+Adam), inference batch 256; windows/s, "
          f"median of {a.repeats} runs [min-max]")
    print(f"{'profile':<8} {'views':<14} {'dfdx train':>19} {'torch train':>19} {'ratio':>6} {'dfdx infer':>19} {'torch infer':>19} {'ratio':>6} {'dfdx MiB':>9} {'torch MiB':>10}")
    fmt = lambda c: f"{c[0]:.1f} [{c[1]:.0f}-{c[2]:.0f}]"
    for (profile, views), e in runs.items():
        dt, tt = cell(e["dfdx"], "train_per_s"), cell(e["torch"], "train_per_s")
        di, ti = cell(e["dfdx"], "infer_per_s"), cell(e["torch"], "infer_per_s")
        dm, tm = cell(e["dfdx"], "peak_mib"), cell(e["torch"], "peak_mib")
        print(f"{profile:<8} {views:<14} {fmt(dt):>19} {fmt(tt):>19} {dt[0] / tt[0]:>6.2f} "
              f"{fmt(di):>19} {fmt(ti):>19} {di[0] / ti[0]:>6.2f} {dm[0]:>9.0f} {tm[0]:>10.0f}")
    print(f"(torch {version}; ratio > 1 means dfdx is faster; ratio of the medians)")

if __name__ == "__main__":
    main()
