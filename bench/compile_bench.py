#!/usr/bin/env python3
"""Compile benchmark (not a test): `graft compile` of the ResNet-50-shaped random-weight model
from bench/import_bench.py (~100 MB; import, full pass pipeline, lowering, memory plan, kernel
checks, archive written), next to onnxruntime building an InferenceSession for the same file
(graph optimizations ALL, one thread) measured in the same run for scale.

  .venv/bin/python bench/compile_bench.py [--graft .build/release/graft] [--runs 3]

Target: graft compile < 2 s. Times are the best of --runs, wall clock of the whole process.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from import_bench import resnet50, timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--graft", default=".build/release/graft")
    ap.add_argument("--model", default="/tmp/graft_bench_resnet50_random.onnx")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(args.model):
        print("generated %s: %d params" % (args.model, resnet50(args.model)))
    size = os.path.getsize(args.model)
    out = "/tmp/graft_bench_resnet50_random.graft"
    graft = [timed([args.graft, "compile", args.model, "-o", out]) for _ in range(args.runs)]
    ort = ("import time, sys, onnxruntime as ort; o = ort.SessionOptions(); o.intra_op_num_threads = 1; "
           "o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL; t = time.perf_counter(); "
           "s = ort.InferenceSession(sys.argv[1], o, providers=['CPUExecutionProvider']); print(time.perf_counter() - t)")
    py = [timed([sys.executable, "-c", ort, args.model]) for _ in range(args.runs)]
    gt, grss = min(t for t, _, _ in graft), max(r for _, r, _ in graft)
    pt = min(float(o.strip().splitlines()[-1]) for _, _, o in py)
    summary = [l for l in graft[0][2].splitlines() if l.startswith(("nodes:", "arena:", "weights:", "wrote"))]
    print("model: %s, %.1f MB" % (args.model, size / 1e6))
    print("\n".join(summary))
    print("graft compile (whole process)         : %.3f s, peak RSS %.1f MB" % (gt, grss / 1e6))
    print("onnxruntime InferenceSession (in-proc) : %.3f s" % pt)
    print("ratio graft / onnxruntime              : %.2f x" % (gt / pt))
    ok = gt < 2.0
    print("target (< 2 s): %s" % ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
