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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "circssnn"))
    a = ap.parse_args()
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "dfdx.json")
        subprocess.run([a.binary, "bench", "--steps", str(a.steps), "--min-time", "0.2", "--json", out, "--network-only"], check=True, env=env, stdout=subprocess.DEVNULL)
        rust = json.load(open(out))
    rows = []
    for r in rust:
        cmd = [sys.executable, os.path.join(HERE, "circssnn_torch.py"), "--profile", r["profile"], "--views", r["views"], "--steps", str(a.steps), "--threads", str(a.threads)]
        torch = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        rows.append((r, torch))
    print(f"CircSSNN depth 1, {a.threads} threads, train batch 64 (fwd+bwd+Adam), inference batch 256; windows/s")
    print(f"{'profile':<8} {'views':<14} {'dfdx train':>11} {'torch train':>12} {'ratio':>6} {'dfdx infer':>11} {'torch infer':>12} {'ratio':>6} {'dfdx MiB':>9} {'torch MiB':>10}")
    for r, t in rows:
        print(f"{r['profile']:<8} {r['views']:<14} {r['train_per_s']:>11.1f} {t['train_per_s']:>12.1f} {r['train_per_s'] / t['train_per_s']:>6.2f} "
              f"{r['infer_per_s']:>11.1f} {t['infer_per_s']:>12.1f} {r['infer_per_s'] / t['infer_per_s']:>6.2f} {r['peak_mib'] or 0:>9.0f} {t['peak_mib']:>10.0f}")
    print(f"(torch {rows[0][1]['torch'] if rows else '?'}; ratio > 1 means dfdx is faster)")


if __name__ == "__main__":
    main()
