"""Peer numbers for gemm_bench.c: the same GEMM and convolution shapes through onnxruntime on
one thread (CPU execution provider, fp32, graph optimizations on, so Conv+Relu is fused).

Usage: .venv/bin/python bench/kernels/ort_conv_bench.py [--graft /tmp/gemm_bench] [PEAK]
Prints onnxruntime's numbers in gemm_bench's columns; with --graft it also runs that gemm_bench
binary in the same session and prints both side by side with the ratio graft/onnxruntime
(time ratio < 1 means graft is faster). Both sides report thread CPU time, best of a few
rounds, so the numbers hold up on a shared machine."""
import os
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper
import onnxruntime as ort

ARGS = sys.argv[1:]
GRAFT = None
if "--graft" in ARGS:
    i = ARGS.index("--graft")
    GRAFT = ARGS[i + 1]
    del ARGS[i:i + 2]
PEAK = float(ARGS[0]) if ARGS else 270.0
RESULTS = {}
ONLY = os.environ.get("GRAFT_BENCH_ONLY")  # run only the cases whose name contains this text


def selected(what):
    return ONLY is None or ONLY in what


def session(model):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def best_time(sess, feeds):
    sess.run(None, feeds)
    best, start, rounds = 1e30, time.thread_time(), 0
    while rounds < 3 or (time.thread_time() - start < 0.4 and rounds < 200):
        t0 = time.thread_time()
        sess.run(None, feeds)
        best = min(best, time.thread_time() - t0)
        rounds += 1
    return best


def report(what, flops, secs):
    gf = flops / secs * 1e-9
    key = what.split(" (W")[0]
    RESULTS[key] = secs
    if GRAFT is None:
        print(f"{what:<44} {secs * 1e3:8.3f} ms {gf:7.1f} GFLOP/s {100 * gf / PEAK:5.1f} % of peak")


def gemm(n):
    if not selected("sgemm"):
        return
    rng = np.random.default_rng(0)
    b = rng.standard_normal((n, n)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["y"])], "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor("b", TensorProto.FLOAT, [n, n], b.ravel())])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    t = best_time(session(m), {"a": rng.standard_normal((n, n)).astype(np.float32)})
    report(f"sgemm M=N=K={n}", 2.0 * n ** 3, t)


def fc(k, n):
    if not selected("fc "):
        return
    rng = np.random.default_rng(0)
    w = rng.standard_normal((n, k)).astype(np.float32)
    b = rng.standard_normal((n,)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Gemm", ["a", "w", "b"], ["y"], transB=1)], "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel()),
         helper.make_tensor("b", TensorProto.FLOAT, b.shape, b.ravel())])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    t = best_time(session(m), {"a": rng.standard_normal((1, k)).astype(np.float32)})
    report(f"fc {k}->{n} batch 1 (W {n * k * 4 / t * 1e-9:.1f} GB/s)", 2.0 * n * k, t)


def conv(what, cin, cout, group, hw, k, s, p, relu):
    if not selected(what):
        return
    rng = np.random.default_rng(0)
    ohw = (hw + 2 * p - k) // s + 1
    w = rng.standard_normal((cout, cin // group, k, k)).astype(np.float32)
    b = rng.standard_normal((cout,)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c" if relu else "y"], group=group,
                              kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p])]
    if relu:
        nodes.append(helper.make_node("Relu", ["c"], ["y"]))
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, ohw, ohw])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel()),
         helper.make_tensor("b", TensorProto.FLOAT, b.shape, b.ravel())])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    t = best_time(session(m), {"x": rng.standard_normal((1, cin, hw, hw)).astype(np.float32)})
    report(what, 2.0 * cout * ohw * ohw * (cin // group) * k * k, t)


def convt(what, cin, cout, hw, k, s, p):
    if not selected(what):
        return
    rng = np.random.default_rng(0)
    ohw = (hw - 1) * s + k - 2 * p
    w = rng.standard_normal((cin, cout, k, k)).astype(np.float32)
    b = rng.standard_normal((cout,)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[k, k],
                          strides=[s, s], pads=[p, p, p, p])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, ohw, ohw])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel()),
         helper.make_tensor("b", TensorProto.FLOAT, b.shape, b.ravel())])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    t = best_time(session(m), {"x": rng.standard_normal((1, cin, hw, hw)).astype(np.float32)})
    report(what, 2.0 * cin * cout * hw * hw * k * k, t)


if GRAFT is None:
    print(f"onnxruntime {ort.__version__}, 1 thread, peak {PEAK:.0f} GFLOP/s")
gemm(512)
gemm(1024)
conv("conv 3x3 64->64 56x56 +bias+relu", 64, 64, 1, 56, 3, 1, 1, True)
conv("conv 1x1 256->64 56x56 +bias+relu", 256, 64, 1, 56, 1, 1, 0, True)
conv("conv 1x1 64->256 56x56 +bias", 64, 256, 1, 56, 1, 1, 0, False)
conv("conv 3x3 128->128 28x28 +bias+relu", 128, 128, 1, 28, 3, 1, 1, True)
conv("conv 3x3 256->256 14x14 +bias+relu", 256, 256, 1, 14, 3, 1, 1, True)
conv("conv 3x3 512->512 7x7 +bias+relu", 512, 512, 1, 7, 3, 1, 1, True)
conv("conv 7x7/2 3->64 224x224 +bias+relu", 3, 64, 1, 224, 7, 2, 3, True)
conv("conv 1x1/2 512->1024 28x28 +bias", 512, 1024, 1, 28, 1, 2, 0, False)
fc(2048, 1000)
conv("depthwise 3x3 32ch 112x112 +bias+relu", 32, 32, 32, 112, 3, 1, 1, True)
conv("depthwise 3x3/2 96ch 112x112 +bias+relu", 96, 96, 96, 112, 3, 2, 1, True)
conv("depthwise 3x3 256ch 14x14 +bias+relu", 256, 256, 256, 14, 3, 1, 1, True)
conv("depthwise 5x5 120ch 40x40 +bias+relu", 120, 120, 120, 40, 5, 1, 2, True)
conv("depthwise 5x5/2 72ch 80x80 +bias+relu", 72, 72, 72, 80, 5, 2, 2, True)
convt("convT 4x4/2 256->128 16x16 +bias", 256, 128, 16, 4, 2, 1)
convt("convT 2x2/2 64->32 80x80 +bias", 64, 32, 80, 2, 2, 0)

if GRAFT is not None:
    out = subprocess.run([GRAFT, str(PEAK)], check=True, capture_output=True, text=True).stdout
    print(out.splitlines()[0])
    print(f"{'case':<44} {'graft ms':>9} {'%peak':>6} {'ort ms':>9} {'%peak':>6} {'graft/ort time':>15}")
    for line in out.splitlines()[1:]:
        what = line[:44].strip()
        key = what.split(" (W")[0]
        ms = float(line[44:].split()[0])
        pct = float(line.split("GFLOP/s")[1].split()[0])
        if key not in RESULTS:
            continue
        ort_ms = RESULTS[key] * 1e3
        flops_pct = pct * ms / ort_ms
        print(f"{key:<44} {ms:9.3f} {pct:6.1f} {ort_ms:9.3f} {flops_pct:6.1f} {ms / ort_ms:15.2f}")
