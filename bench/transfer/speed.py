"""Matching speed on real ResNet-50 / EfficientNet-B0 graphs (torchvision, random weights).

Exports both with PyTorch's TorchScript exporter, then times `graft similarity` (load both
models, standardize, four two-level DPs) and `graft transplant --no-check` (also crop/paste,
analytic init and ONNX export of the 5.3 M / 25.6 M parameter target) with the release build.
Run from the repository root after `swift build -c release --product graft`:
  bench/transfer/.venv-torch/bin/python bench/transfer/speed.py
"""
import os
import subprocess
import time

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
GRAFT = os.path.join(HERE, "..", "..", ".build", "release", "graft")


def export(model, path):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, input_names=["x"], output_names=["y"], dynamo=False,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, opset_version=17)


def best_of(args, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([GRAFT, *args], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    torch.set_num_threads(1)
    os.makedirs(WORK, exist_ok=True)
    r50, b0 = os.path.join(WORK, "resnet50.onnx"), os.path.join(WORK, "efficientnet_b0.onnx")
    if not os.path.exists(r50):
        export(torchvision.models.resnet50(), r50)
    if not os.path.exists(b0):
        export(torchvision.models.efficientnet_b0(), b0)
    out = subprocess.run([GRAFT, "similarity", r50, b0], check=True, capture_output=True, text=True).stdout
    print(out.strip())
    load = best_of(["similarity", r50, r50])
    sim = best_of(["similarity", r50, b0])
    tr = best_of(["transplant", "--from", b0, "--into", r50, "-o", os.path.join(WORK, "r50_from_b0.onnx"),
                  "--no-check"])
    print(f"graft similarity resnet50 efficientnet_b0 (load 2 models + 4 DPs): {sim:.3f} s (best of 3)")
    print(f"graft similarity resnet50 resnet50 (same, for comparison):          {load:.3f} s")
    print(f"graft transplant efficientnet_b0 -> resnet50 --no-check (load, match, copy, init, write): {tr:.3f} s")


if __name__ == "__main__":
    main()
