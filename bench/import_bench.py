#!/usr/bin/env python3
"""Import benchmark (not a test): a ResNet-50-shaped ONNX model with random float32 weights
(~100 MB, generated here into /tmp) imported by `graft convert --check-only` (mmap, protobuf-c
unpack, conversion to the IR, topological sort, invariant checks), next to `onnx.load` of the
same file measured in the same run for scale.

  .venv/bin/python bench/import_bench.py [--graft .build/release/graft] [--runs 3]

Targets: graft import < 1 s and peak RSS < 2.5 x the file size. Times are the best of --runs
(wall clock of the whole process, start-up included); RSS is the largest max-RSS seen
(/usr/bin/time). onnx.load's RSS includes the Python interpreter and the onnx import, so its
load-only time is printed as well.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def resnet50(path, seed=0):
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    counter = [0]

    def conv(x, cin, cout, k, stride=1, relu=True):
        counter[0] += 1
        n = "c%d" % counter[0]
        w = (rng.standard_normal((cout, cin, k, k), dtype=np.float32) * 0.05)
        b = rng.standard_normal(cout, dtype=np.float32) * 0.01
        inits.extend([numpy_helper.from_array(w, n + ".w"), numpy_helper.from_array(b, n + ".b")])
        nodes.append(helper.make_node("Conv", [x, n + ".w", n + ".b"], [n], name=n, kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[k // 2] * 4))
        if not relu:
            return n
        nodes.append(helper.make_node("Relu", [n], [n + ".r"], name=n + "/relu"))
        return n + ".r"

    x = conv("input", 3, 64, 7, 2)
    nodes.append(helper.make_node("MaxPool", [x], ["pool"], name="pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4))
    x, cin = "pool", 64
    for stage, (blocks, width) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)]):
        for b in range(blocks):
            stride = 2 if (b == 0 and stage > 0) else 1
            y = conv(x, cin, width, 1)
            y = conv(y, width, width, 3, stride)
            y = conv(y, width, width * 4, 1, relu=False)
            short = conv(x, cin, width * 4, 1, stride, relu=False) if b == 0 else x
            out = "s%d_b%d" % (stage, b)
            nodes.append(helper.make_node("Add", [y, short], [out + ".add"], name=out + "/add"))
            nodes.append(helper.make_node("Relu", [out + ".add"], [out], name=out + "/relu"))
            x, cin = out, width * 4
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flat"))
    inits.append(numpy_helper.from_array(rng.standard_normal((1000, 2048), dtype=np.float32) * 0.01, "fc.w"))
    inits.append(numpy_helper.from_array(np.zeros(1000, np.float32), "fc.b"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1))
    g = helper.make_graph(nodes, "resnet50_random",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(m, path)
    return sum(int(np.prod(t.dims)) for t in inits)


def timed(cmd):
    """(wall seconds, max RSS bytes, stdout) of one run under /usr/bin/time."""
    r = subprocess.run(["/usr/bin/time", "-f", "GRAFT_TIME %e %M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: %s failed (%d): %s" % (cmd[0], r.returncode, r.stderr.strip()[-500:]))
    line = [l for l in r.stderr.splitlines() if l.startswith("GRAFT_TIME")][-1].split()
    return float(line[1]), int(line[2]) * 1024, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--graft", default=".build/release/graft")
    ap.add_argument("--model", default="/tmp/graft_bench_resnet50_random.onnx")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(args.model):
        params = resnet50(args.model)
        print("generated %s: %d params" % (args.model, params))
    size = os.path.getsize(args.model)
    print("model: %s, %.1f MB" % (args.model, size / 1e6))

    graft = [timed([args.graft, "convert", args.model, "--check-only"]) for _ in range(args.runs)]
    loader = ("import time, onnx, sys; t = time.perf_counter(); m = onnx.load(sys.argv[1]); "
              "print(time.perf_counter() - t)")
    py = [timed([sys.executable, "-c", loader, args.model]) for _ in range(args.runs)]
    gt, grss = min(t for t, _, _ in graft), max(r for _, r, _ in graft)
    pt, prss = min(t for t, _, _ in py), max(r for _, r, _ in py)
    pload = min(float(o.strip()) for _, _, o in py)
    print(graft[0][2].strip())
    print("graft convert --check-only : %.3f s wall, peak RSS %.1f MB (%.2f x file)" % (gt, grss / 1e6, grss / size))
    print("onnx.load (python)         : %.3f s wall (load alone %.3f s), peak RSS %.1f MB (%.2f x file)"
          % (pt, pload, prss / 1e6, prss / size))
    print("ratio graft / onnx.load    : time %.2f x (vs load alone %.2f x), RSS %.2f x" % (gt / pt, gt / pload, grss / prss))
    ok = gt < 1.0 and grss < 2.5 * size
    print("targets (< 1 s, < 2.5 x file): %s" % ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
