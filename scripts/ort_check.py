#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime (the reference for `graft check` and the tests).

usage: ort_check.py MODEL.onnx --output-dir DIR [--input NAME=FILE.npy ...]

Writes output K (K = position in the graph's output list) to DIR/output_K.npy and prints one
line per output: `K NAME`. Settings match the corpus references: CPUExecutionProvider, fp32,
intra_op_num_threads=1, all graph optimizations. Exit 1 with a one-line message on failure.
"""
import argparse
import os
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--output-dir", required=True)
    ap.add_argument("--input", action="append", default=[])
    args = ap.parse_args()
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        print(f"ort_check.py: cannot import onnxruntime/numpy: {e}", file=sys.stderr)
        return 1
    feeds = {}
    for item in args.input:
        name, _, path = item.partition("=")
        feeds[name] = np.load(path, allow_pickle=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        sess = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        outs = sess.run(names, feeds)
    except Exception as e:  # onnxruntime raises many types
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"{args.model}: onnxruntime failed: {msg}", file=sys.stderr)
        return 1
    os.makedirs(args.output_dir, exist_ok=True)
    for k, (name, value) in enumerate(zip(names, outs)):
        np.save(os.path.join(args.output_dir, f"output_{k}.npy"), np.ascontiguousarray(value))
        print(k, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
