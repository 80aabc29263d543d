#!/usr/bin/env python3
"""Writes runtime/tests/vectors/conv_gemm.bin (format of gen_kernel_vectors.py) for conv_f32,
conv_transpose_f32, gemm_f32 and matmul_f32:
- ONNX's own node tests for Conv, ConvTranspose, Gemm and MatMul (float32 forms), with
  auto_pad / output_shape resolved into explicit pads as the compiler does;
- random shapes run through onnxruntime (one-node models): every conv path (pointwise,
  depthwise, grouped, strided phases, dilated, 1-D and 3-D), conv_transpose with groups,
  dilations and output_padding, Gemm with every C broadcast, batched MatMul with broadcasting.
Tolerance per case: atol = 1e-5 * (max|A| * max|B| * K + max|bias|), the fp32 accumulation
bound; rtol 1e-5. Run from the repository root:
    .venv/bin/python runtime/tests/gen_conv_gemm_vectors.py
Check it with: runtime/build/host/tests/test_kernels_vectors runtime/tests/vectors/conv_gemm.bin"""
import collections
import os
import struct
import sys
import warnings

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_kernel_vectors as g  # noqa: E402  (shared encoder, attribute ids, onnxruntime runner)

warnings.filterwarnings("ignore")
from onnx.backend.test.case.node import collect_testcases  # noqa: E402

skipped = collections.Counter()
rng = np.random.default_rng(2024)


def f32(*shape):
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def atol_for(a, b, k, bias=None):
    m = float(np.max(np.abs(a))) * float(np.max(np.abs(b))) * max(k, 1)
    if bias is not None and bias.size:
        m += float(np.max(np.abs(bias)))
    return max(1e-5 * m, 1e-6)


def conv_pads(a, x, w, transpose, y_shape=None):
    sp = x.ndim - 2
    k = list(w.shape[2:])
    s = list(a.get("strides", [1] * sp))
    d = list(a.get("dilations", [1] * sp))
    ap = a.get("auto_pad", b"NOTSET")
    ap = ap.decode() if isinstance(ap, bytes) else ap
    if not transpose:
        if ap in ("NOTSET", ""):
            return list(a.get("pads", [0] * (2 * sp)))
        if ap == "VALID":
            return [0] * (2 * sp)
        pads = [0] * (2 * sp)
        for i in range(sp):
            n = x.shape[2 + i]
            out = -(-n // s[i])
            total = max((out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n, 0)
            lo = total // 2 if ap == "SAME_UPPER" else total - total // 2
            pads[i], pads[i + sp] = lo, total - lo
        return pads
    op = list(a.get("output_padding", [0] * sp))
    if "output_shape" in a or ap in ("SAME_UPPER", "SAME_LOWER"):
        if "output_shape" in a:
            target = list(a["output_shape"])[-sp:]
        else:
            target = [x.shape[2 + i] * s[i] for i in range(sp)]
        pads = [0] * (2 * sp)
        for i in range(sp):
            total = s[i] * (x.shape[2 + i] - 1) + op[i] + ((k[i] - 1) * d[i] + 1) - target[i]
            if ap == "SAME_UPPER":
                pads[i], pads[i + sp] = total // 2, total - total // 2
            else:
                pads[i], pads[i + sp] = total - total // 2, total // 2
        return pads
    if ap == "VALID":
        return [0] * (2 * sp)
    return list(a.get("pads", [0] * (2 * sp)))


def conv_attrs(a, x, w, transpose):
    sp = x.ndim - 2
    ga = {"KERNEL_SHAPE": list(w.shape[2:]), "STRIDES": list(a.get("strides", [1] * sp)),
          "DILATIONS": list(a.get("dilations", [1] * sp)), "PADS": conv_pads(a, x, w, transpose),
          "GROUP": int(a.get("group", 1))}
    if transpose:
        op = list(a.get("output_padding", [0] * sp))
        # A negative end pad (output_shape larger than the natural size) is extra output
        # padding, as the compiler lowers it; a negative begin pad has no kernel form.
        for i in range(sp):
            if ga["PADS"][i] < 0:
                raise ValueError("negative begin pad")
            if ga["PADS"][sp + i] < 0:
                op[i] -= ga["PADS"][sp + i]
                ga["PADS"][sp + i] = 0
        ga["OUTPUT_PADDING"] = op
    return ga


def translate(op, a, ins, outs):
    if any(v is not None and v.dtype != np.float32 for v in ins + outs):
        raise ValueError("dtype")
    if op in ("Conv", "ConvTranspose"):
        x, w = ins[0], ins[1]
        b = ins[2] if len(ins) > 2 else None
        tr = op == "ConvTranspose"
        k = (w.shape[0] if tr else w.shape[1]) * int(np.prod(w.shape[2:]))
        kern = "conv_transpose_f32" if tr else "conv_f32"
        return kern, [x, w] + ([b] if b is not None else []), conv_attrs(a, x, w, tr), atol_for(x, w, k, b)
    if op == "Gemm":
        A, B = ins[0], ins[1]
        C = ins[2] if len(ins) > 2 else None
        ga = {"ALPHA": float(a.get("alpha", 1.0)), "BETA": float(a.get("beta", 1.0)),
              "TRANS_A": int(a.get("transA", 0)), "TRANS_B": int(a.get("transB", 0))}
        k = A.shape[0] if ga["TRANS_A"] else A.shape[1]
        tol = atol_for(A, B, k) * max(abs(ga["ALPHA"]), 1.0)
        if C is not None:
            tol += 1e-5 * abs(ga["BETA"]) * float(np.max(np.abs(C)))
        return "gemm_f32", [A, B] + ([C] if C is not None else []), ga, tol
    if op == "MatMul":
        return "matmul_f32", ins, {}, atol_for(ins[0], ins[1], ins[0].shape[-1])
    raise ValueError("op")


def onnx_node_tests():
    n = 0
    for tc in collect_testcases(None):
        if len(tc.model.graph.node) != 1:
            continue
        node = tc.model.graph.node[0]
        if node.op_type not in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
            continue
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        graph_inputs = [vi.name for vi in tc.model.graph.input]
        inits = {t.name: numpy_helper.to_array(t) for t in tc.model.graph.initializer}
        for ds_i, (inputs, outputs) in enumerate(tc.data_sets):
            feed = dict(zip(graph_inputs, inputs))
            feed.update(inits)
            ins = [feed.get(nm) if nm else None for nm in node.input]
            outs = list(outputs)
            try:
                kern, kin, ga, tol = translate(node.op_type, a, ins, outs)
            except ValueError as e:
                skipped["%s: %s" % (node.op_type, e)] += 1
                continue
            g.add("onnx:%s/%d" % (tc.name, ds_i), kern, kin, outs, ga, rtol=1e-5, atol=tol)
            n += 1
    return n


def ort_conv(name, x, w, b=None, transpose=False, **attrs):
    op = "ConvTranspose" if transpose else "Conv"
    y = g.ort_run(op, [x, w, b], attrs)[0]
    kern, kin, ga, tol = translate(op, attrs, [x, w] + ([b] if b is not None else []), [y])
    g.add("ort:" + name, kern, kin, [y], ga, rtol=1e-5, atol=tol)


def ort_cases():
    n0 = len(g.cases)
    # conv: every path
    ort_conv("pointwise", f32(2, 16, 7, 9), f32(24, 16, 1, 1), f32(24))
    ort_conv("pointwise-s2", f32(1, 8, 9, 11), f32(12, 8, 1, 1), None, strides=[2, 2])
    ort_conv("3x3-p1", f32(1, 16, 14, 14), f32(32, 16, 3, 3), f32(32), pads=[1, 1, 1, 1])
    ort_conv("3x3-small-image", f32(1, 32, 5, 5), f32(40, 32, 3, 3), f32(40), pads=[1, 1, 1, 1])
    ort_conv("3x3-s2-p1", f32(1, 8, 15, 16), f32(12, 8, 3, 3), f32(12), strides=[2, 2], pads=[1, 1, 1, 1])
    ort_conv("7x7-s2-p3", f32(1, 3, 32, 30), f32(16, 3, 7, 7), f32(16), strides=[2, 2], pads=[3, 3, 3, 3])
    ort_conv("dilated", f32(1, 6, 17, 15), f32(10, 6, 3, 3), f32(10), dilations=[2, 2], pads=[2, 2, 2, 2])
    ort_conv("asym-pads", f32(1, 4, 9, 10), f32(6, 4, 3, 2), f32(6), pads=[0, 1, 2, 0])
    ort_conv("grouped", f32(2, 12, 8, 9), f32(18, 4, 3, 3), f32(18), group=3, pads=[1, 1, 1, 1])
    ort_conv("depthwise", f32(1, 16, 13, 19), f32(16, 1, 3, 3), f32(16), group=16, pads=[1, 1, 1, 1])
    ort_conv("depthwise-s2", f32(1, 8, 14, 17), f32(8, 1, 3, 3), f32(8), group=8, strides=[2, 2],
             pads=[1, 1, 1, 1])
    ort_conv("depthwise-5x5-mult2", f32(1, 4, 12, 12), f32(8, 1, 5, 5), f32(8), group=4, pads=[2, 2, 2, 2])
    ort_conv("patchify-4x4-s4", f32(1, 3, 16, 20), f32(8, 3, 4, 4), f32(8), strides=[4, 4])
    ort_conv("1d", f32(2, 5, 40), f32(7, 5, 5), f32(7), strides=[2], pads=[2, 1], dilations=[2])
    ort_conv("3d", f32(1, 3, 6, 7, 8), f32(4, 3, 3, 2, 3), f32(4), strides=[1, 2, 1], pads=[1, 0, 1, 1, 1, 0])
    # conv_transpose
    ort_conv("t-2x-upsample", f32(1, 8, 7, 9), f32(8, 6, 4, 4), f32(6), True, strides=[2, 2], pads=[1, 1, 1, 1])
    ort_conv("t-3x3-s1", f32(2, 5, 6, 5), f32(5, 7, 3, 3), f32(7), True, pads=[1, 1, 1, 1])
    ort_conv("t-grouped", f32(1, 6, 5, 6), f32(6, 3, 3, 3), f32(9), True, group=3, strides=[2, 2])
    ort_conv("t-output-padding", f32(1, 4, 5, 6), f32(4, 3, 3, 3), None, True, strides=[2, 2], dilations=[2, 2],
             pads=[1, 1, 1, 1], output_padding=[1, 1])
    ort_conv("t-1d", f32(1, 3, 11), f32(3, 4, 5), f32(4), True, strides=[3], pads=[1, 2])
    ort_conv("t-3d", f32(1, 2, 3, 4, 3), f32(2, 3, 2, 3, 2), f32(3), True, strides=[2, 1, 2])
    # gemm: transposes and every C broadcast
    m, n, k = 13, 37, 29
    for ta in (0, 1):
        for tb in (0, 1):
            for cshape in (None, (), (1,), (n,), (1, n), (m, 1), (m, n)):
                A = f32(k, m) if ta else f32(m, k)
                B = f32(n, k) if tb else f32(k, n)
                C = None if cshape is None else f32(*cshape)
                attrs = {"alpha": 0.75, "beta": 1.0 if cshape in ((n,), (m, 1)) else 0.5,
                         "transA": ta, "transB": tb}
                y = g.ort_run("Gemm", [A, B, C], attrs, opset=13)[0]
                kern, kin, ga, tol = translate("Gemm", attrs, [A, B] + ([C] if C is not None else []), [y])
                g.add("ort:gemm tA%d tB%d C%s" % (ta, tb, cshape), kern, kin, [y], ga, rtol=1e-5, atol=tol)
    A, B, C = f32(1, 256), f32(100, 256), f32(100)
    y = g.ort_run("Gemm", [A, B, C], {"transB": 1}, opset=13)[0]
    g.add("ort:gemm fc batch 1", "gemm_f32", [A, B, C], [y], {"TRANS_B": 1}, rtol=1e-5, atol=atol_for(A, B, 256, C))
    # matmul: batches, broadcasting, 1-D operands
    for sa, sb in (((3, 4, 17, 23), (23, 19)), ((2, 1, 9, 12), (3, 12, 7)), ((33,), (2, 33, 5)),
                   ((4, 6, 20), (20,)), ((40,), (40,)), ((1, 64, 70), (1, 70, 50))):
        A, B = f32(*sa), f32(*sb)
        y = g.ort_run("MatMul", [A, B])[0]
        g.add("ort:matmul %s x %s" % (sa, sb), "matmul_f32", [A, B], [y], {}, rtol=1e-5,
              atol=atol_for(A, B, sa[-1]))
    return len(g.cases) - n0


def main():
    n_onnx = onnx_node_tests()
    n_ort = ort_cases()
    out = os.path.join(g.ROOT, "runtime/tests/vectors/conv_gemm.bin")
    with open(out, "wb") as f:
        f.write(b"GKV1" + struct.pack("<i", len(g.cases)) + b"".join(g.cases))
    print("%s: %d ONNX node-test cases, %d onnxruntime cases, %d bytes" % (out, n_onnx, n_ort, os.path.getsize(out)))
    for k, v in sorted(skipped.items()):
        print("  skipped %s: %d" % (k, v))


if __name__ == "__main__":
    main()
