"""CircSSNN in PyTorch with the same shapes as the Rust crate's dfdx network,
for throughput comparison only (written from the crate's reference notes).

    python3 bench/circssnn_torch.py --profile small --views knfp --steps 5 --threads 2

prints one JSON object: train and inference windows/s and peak RSS (MiB).
"""
import argparse
import json
import resource
import time

import torch
from torch import nn

TOKENS, WIDTH, HEADS, POSITIONS = 128, 400, 8, 101
DIMS = {"knfp": 84, "vec": 30}


class ViewEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mix = nn.Conv1d(POSITIONS, TOKENS, kernel_size=1, bias=False)
        self.norm = nn.BatchNorm1d(TOKENS)
        self.project = nn.Linear(dim, WIDTH, bias=False)

    def forward(self, x):  # (B, 101, D)
        return self.project(torch.relu(self.norm(self.mix(x))))  # (B, 128, 400)


class Attention(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH, bias=False)
        self.out = nn.Sequential(nn.Linear(WIDTH, WIDTH), nn.Dropout(dropout))

    def forward(self, x):
        b = x.shape[0]
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, TOKENS, HEADS, -1).transpose(1, 2) for t in (q, k, v))
        w = (q @ k.transpose(-1, -2) * WIDTH ** -0.5).softmax(-1)
        return self.out((w @ v).transpose(1, 2).reshape(b, TOKENS, WIDTH))


class Block(nn.Module):
    def __init__(self, dropout=0.1):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.attn = Attention(dropout)
        self.ffn = nn.Sequential(nn.Linear(WIDTH, 200), nn.ReLU(), nn.Dropout(dropout), nn.Linear(200, WIDTH), nn.Dropout(dropout))

    def forward(self, x):  # pre-norm
        x = x + self.attn(self.n1(x))
        return x + self.ffn(self.n2(x))


class CircSSNN(nn.Module):
    def __init__(self, views, bert):
        super().__init__()
        dims = dict(DIMS, bert=bert)
        self.encoders = nn.ModuleDict({v: ViewEncoder(dims[v]) for v in views})
        self.bias = nn.Parameter(torch.zeros(WIDTH))
        self.block = Block()
        self.pool = nn.Conv1d(TOKENS, 1, kernel_size=1, bias=False)
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.35), nn.Linear(WIDTH, 100), nn.ReLU(), nn.Linear(100, 20), nn.ReLU(), nn.Linear(20, 2))

    def forward(self, xs):
        t = sum(enc(xs[v]) for v, enc in self.encoders.items()) + self.bias
        return self.head(self.pool(self.block(t)).squeeze(1))


def batch(views, bert, n):
    dims = dict(DIMS, bert=bert)
    return {v: torch.randn(n, POSITIONS, dims[v]) for v in views}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="small")
    ap.add_argument("--views", default="knfp")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    views = a.views.split(",")
    bert = 768 if a.profile == "paper" else 128
    net = CircSSNN(views, bert)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, betas=(0.9, 0.99), weight_decay=3e-4)
    xb, y = batch(views, bert, 64), torch.arange(64) % 2
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(xb), y).backward()
        opt.step()

    net.train()
    step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    train = 64 * a.steps / (time.perf_counter() - t0)

    net.eval()
    xi = batch(views, bert, 256)
    with torch.no_grad():
        net(xi)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            net(xi)
        infer = 256 * a.steps / (time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"profile": a.profile, "views": a.views, "bert_width": bert, "train_per_s": train, "infer_per_s": infer, "peak_mib": peak, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
