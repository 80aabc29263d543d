"""Patch-size adaptation of a trained ViT: accuracy of PI-resize vs plain bilinear kernel
resize vs the unmodified model on resized images, and Graft latency per patch size (with
onnxruntime, single thread, measured in the same run, as the peer).

usage: .venv/bin/python bench/vit/eval.py WORK_DIR [--graft .build/release/graft]
                                          [--latency bench/vit/build/latency] [--base 8]

WORK_DIR holds what train.py wrote (vit_p{base}.onnx, test_images.npy, test_labels.npy).
For each target patch P != base, at the trained image size S (32 by default):
  pi        graft adapt-patch --patch P (PI-resize)
  bilinear  graft adapt-patch --patch P --method bilinear (kernel resized like an image,
            FlexiViT's vanilla baseline); bilinear-area: that, scaled by the area ratio
  resized   the base model unchanged except its position embedding (graft adapt-patch
            --patch base --image S'xS'), fed the images resized to S' = S*base/P so that it
            sees the same number of tokens as the patch-P model
A second table keeps the token grid fixed instead (images resized to S*P/base with the
patch, FlexiViT's setting; PI-resize is then exact for growing patches up to patch-border
mixing): PI-resize, bilinear, and the unmodified model on the image resized back to S.
Accuracies come from onnxruntime on the 1 000 held-out digits; the PI row is also run through
Graft's C runtime (bench/vit/latency.c), which gives Graft's accuracy and per-image latency.
"""
import argparse
import os
import re
import subprocess
import time

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def bilinear_matrix(n_in, n_out):
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
    mh, mw = bilinear_matrix(x.shape[2], size), bilinear_matrix(x.shape[3], size)
    return np.einsum("ih,nchw,jw->ncij", mh, x, mw).astype(np.float32)


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_accuracy(path, images, labels):
    s = session(path)
    correct = 0
    for i in range(len(images)):
        y = s.run(None, {"image": images[i:i + 1]})[0]
        correct += int(np.argmax(y) == labels[i])
    return correct / len(images)


def ort_latency_us(path, images, repeats=5):
    s = session(path)
    n = min(200, len(images))
    t = []
    for _ in range(repeats):
        for i in range(n):
            x = images[i:i + 1]
            t0 = time.perf_counter()
            s.run(None, {"image": x})
            t.append((time.perf_counter() - t0) * 1e6)
    return float(np.median(t))


def graft(args, *argv):
    r = subprocess.run([args.graft, *argv], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"graft {' '.join(argv)} failed:\n{r.stderr}")
    return r.stdout


def graft_run(args, archive, images, labels, work):
    img, lab = os.path.join(work, "images.f32"), os.path.join(work, "labels.i64")
    images.astype(np.float32).tofile(img)
    labels.astype(np.int64).tofile(lab)
    out = subprocess.run([args.latency, archive, img, lab, str(len(images))], capture_output=True, text=True,
                         check=True).stdout
    m = dict(re.findall(r"(\w+)=([\d.]+)", out))
    return int(m["correct"]) / len(images), float(m["median_us"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--graft", default=os.path.join(ROOT, ".build/release/graft"))
    ap.add_argument("--latency", default=os.path.join(HERE, "build/latency"))
    ap.add_argument("--base", type=int, default=8)
    ap.add_argument("--targets", default="4,16")
    args = ap.parse_args()
    w, base = args.work, args.base
    images = np.load(os.path.join(w, "test_images.npy")).astype(np.float32)
    labels = np.load(os.path.join(w, "test_labels.npy"))
    size = images.shape[-1]
    src = os.path.join(w, f"vit_p{base}.onnx")
    rows = []
    for p in sorted({base} | {int(t) for t in args.targets.split(",")}):
        row = {"patch": p, "tokens": (size // p) ** 2 + 1}
        if p == base:
            model = src
            row["pi"] = row["bilinear"] = row["bilinear_area"] = row["resized"] = ort_accuracy(src, images, labels)
            out = graft(args, "adapt-patch", src, "--patch", str(p), "-o", os.path.join(w, f"same_{p}.onnx"))
        else:
            model = os.path.join(w, f"pi_{p}.onnx")
            out = graft(args, "adapt-patch", src, "--patch", str(p), "-o", model)
            row["pi"] = ort_accuracy(model, images, labels)
            bil = os.path.join(w, f"bilinear_{p}.onnx")
            graft(args, "adapt-patch", src, "--patch", str(p), "--method", "bilinear", "-o", bil)
            row["bilinear"] = ort_accuracy(bil, images, labels)
            bil_a = os.path.join(w, f"bilinear_area_{p}.onnx")
            graft(args, "adapt-patch", src, "--patch", str(p), "--method", "bilinear-area", "-o", bil_a)
            row["bilinear_area"] = ort_accuracy(bil_a, images, labels)
            side = size * base // p
            res = os.path.join(w, f"resized_{p}.onnx")
            graft(args, "adapt-patch", src, "--patch", str(base), "--image", f"{side}x{side}", "-o", res)
            row["resized"] = ort_accuracy(res, resize_images(images, side), labels)
        row["macs"] = int(re.search(r"MACs: \d+ -> (\d+)", out).group(1))
        archive = os.path.join(w, f"graft_{p}.graft")
        graft(args, "compile", model, "-o", archive)
        row["graft_acc"], row["graft_us"] = graft_run(args, archive, images, labels, w)
        row["ort_us"] = ort_latency_us(model, images)
        rows.append(row)
        print(row, flush=True)

    # Same token grid: the image is resized with the patch (S*P/base), as FlexiViT's PI-resize
    # property is stated; the baseline runs the unmodified model on the image resized back to S.
    grid_rows = []
    for p in sorted(int(t) for t in args.targets.split(",")):
        side = size * p // base
        imgs = resize_images(images, side)
        row = {"patch": p, "image": side}
        for method in ("pi", "bilinear", "bilinear-area"):
            m = os.path.join(w, f"grid_{method}_{p}.onnx")
            graft(args, "adapt-patch", src, "--patch", str(p), "--image", f"{side}x{side}", "--method", method, "-o", m)
            row[method.replace("-", "_")] = ort_accuracy(m, imgs, labels)
        row["resized"] = ort_accuracy(src, resize_images(imgs, size), labels)
        grid_rows.append(row)
        print(row, flush=True)

    print()
    print(f"ViT (MNIST 5k, {size}x{size}, trained at patch {base}); accuracy on 1000 held-out digits")
    print()
    print(f"Fixed {size}x{size} images (token count changes with the patch):")
    print()
    print("| patch | tokens | MACs | PI-resize | bilinear resize | bilinear, area-scaled | unmodified, resized images | Graft acc (PI) | Graft us | onnxruntime us | ort/graft |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        tag = " (trained)" if r["patch"] == base else ""
        print(f"| {r['patch']}{tag} | {r['tokens']} | {r['macs']:,} | {r['pi']:.3f} | {r['bilinear']:.3f} | "
              f"{r['bilinear_area']:.3f} | {r['resized']:.3f} | {r['graft_acc']:.3f} | {r['graft_us']:.0f} | {r['ort_us']:.0f} | "
              f"{r['ort_us'] / r['graft_us']:.2f} |")
    print()
    print(f"Fixed {size // base}x{size // base} token grid (images resized to {size}*P/{base}):")
    print()
    print("| patch | image | PI-resize | bilinear resize | bilinear, area-scaled | unmodified, image resized back |")
    print("|---|---|---|---|---|---|")
    for r in grid_rows:
        print(f"| {r['patch']} | {r['image']}x{r['image']} | {r['pi']:.3f} | {r['bilinear']:.3f} | {r['bilinear_area']:.3f} | {r['resized']:.3f} |")


if __name__ == "__main__":
    main()
