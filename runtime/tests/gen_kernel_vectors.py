#!/usr/bin/env python3
"""Writes runtime/tests/vectors/kernels.bin: one record per kernel test case, with inputs,
attributes (Graft keys) and the expected outputs computed by onnxruntime (one-node ONNX
models) or, where onnxruntime has no such op form, by numpy. Run from the repository root:
    .venv/bin/python runtime/tests/gen_kernel_vectors.py
Format (little endian): "GKV1", i32 ncases, then per case: str name, str kernel, f32 rtol,
f32 atol, i32 expected check status, i32 expected eval status, i32 nattrs
{i32 key, i32 type, i32 count, values (i64 or f32)}, i32 ninputs {tensor}, i32 noutputs
{tensor}; tensor = i32 present [i32 dtype, i32 rank, u64 dims[rank], u64 nbytes, bytes];
str = i32 length + bytes."""
import os
import re
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HDR = open(os.path.join(ROOT, "runtime/include/graft_kernels.h")).read()
ATTR = {m.group(2): int(m.group(1)) for m in re.finditer(r'X\((\d+), (\w+), "', HDR)}
ACT = {m.group(1): int(m.group(2)) for m in re.finditer(r"GRAFT_ACT_(\w+) = (\d+)", HDR)}
STATUS = {m.group(1): int(m.group(2)) for m in re.finditer(r"GRAFT_(E_\w+|OK) = (-?\d+)", HDR)}
rng = np.random.default_rng(1234)
cases = []


def onnx_dtype(a):
    return helper.np_dtype_to_tensor_dtype(a.dtype)


class Raw:
    """A tensor given as raw bytes with an explicit ONNX dtype (for f16/bf16/bool)."""

    def __init__(self, dtype, shape, data):
        self.dtype, self.shape, self.data = dtype, tuple(shape), data


def enc_tensor(t):
    if t is None:
        return struct.pack("<i", 0)
    if isinstance(t, Raw):
        dt, shape, data = t.dtype, t.shape, t.data
    else:
        a = np.ascontiguousarray(t)
        dt, shape, data = onnx_dtype(a), a.shape, a.tobytes()
    out = struct.pack("<iii", 1, dt, len(shape))
    out += b"".join(struct.pack("<q", d) for d in shape)
    return out + struct.pack("<Q", len(data)) + data


def enc_str(s):
    b = s.encode()
    return struct.pack("<i", len(b)) + b


def enc_attrs(attrs):
    out = struct.pack("<i", len(attrs))
    for k, v in attrs.items():
        key = ATTR[k]
        if isinstance(v, (bool, int, np.integer)):
            out += struct.pack("<iiiq", key, 1, 1, int(v))
        elif isinstance(v, float):
            out += struct.pack("<iiif", key, 3, 1, v)
        elif len(v) > 0 and isinstance(v[0], float):
            out += struct.pack("<iii", key, 4, len(v)) + b"".join(struct.pack("<f", x) for x in v)
        else:
            out += struct.pack("<iii", key, 2, len(v)) + b"".join(struct.pack("<q", int(x)) for x in v)
    return out


def add(name, kernel, inputs, outputs, attrs=None, rtol=1e-5, atol=1e-6, check="OK", evals="OK"):
    cases.append(enc_str(name) + enc_str(kernel) + struct.pack("<ff", rtol, atol)
                 + struct.pack("<ii", STATUS[check], STATUS[evals]) + enc_attrs(attrs or {})
                 + struct.pack("<i", len(inputs)) + b"".join(enc_tensor(t) for t in inputs)
                 + struct.pack("<i", len(outputs)) + b"".join(enc_tensor(t) for t in outputs))


def ort_run(op, inputs, attrs=None, n_out=1, opset=21, const_inputs=()):
    """Runs one ONNX node in onnxruntime; inputs None are omitted optional inputs; indices in
    const_inputs become initializers (ops that need constant inputs)."""
    names, graph_inputs, inits, feeds = [], [], [], {}
    for i, a in enumerate(inputs):
        if a is not None:
            a = np.asarray(a)
        if a is None:
            names.append("")
            continue
        n = "in%d" % i
        names.append(n)
        if i in const_inputs:
            inits.append(onnx.numpy_helper.from_array(np.asarray(a), n))
        else:
            graph_inputs.append(helper.make_tensor_value_info(n, onnx_dtype(a), a.shape))
            feeds[n] = a
    outs = ["out%d" % i for i in range(n_out)]
    node = helper.make_node(op, names, outs, **(attrs or {}))
    graph = helper.make_graph([node], "g", graph_inputs, [onnx.ValueInfoProto(name=o) for o in outs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def f32(*shape, lo=-3.0, hi=3.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------
def gen_act():
    x = f32(3, 5, 67, lo=-8, hi=8)
    x.flat[:6] = [0.0, -0.0, 1e-4, -1e-4, 30.0, -30.0]
    acts = [
        ("RELU", "Relu", {}, {}),
        ("CLIP", "Clip", {}, {"ACT_ALPHA": -1.5, "ACT_BETA": 2.25}),
        ("LEAKY_RELU", "LeakyRelu", {"alpha": 0.13}, {"ACT_ALPHA": 0.13}),
        ("HARD_SIGMOID", "HardSigmoid", {"alpha": 0.3, "beta": 0.4}, {"ACT_ALPHA": 0.3, "ACT_BETA": 0.4}),
        ("HARD_SWISH", "HardSwish", {}, {}),
        ("SIGMOID", "Sigmoid", {}, {}),
        ("TANH", "Tanh", {}, {}),
        ("GELU", "Gelu", {}, {}),
        ("GELU_TANH", "Gelu", {"approximate": "tanh"}, {}),
        ("ELU", "Elu", {"alpha": 0.7}, {"ACT_ALPHA": 0.7}),
        ("SELU", "Selu", {}, {"ACT_ALPHA": 1.67326319217681884765625, "ACT_BETA": 1.05070102214813232421875}),
        ("SOFTPLUS", "Softplus", {}, {}),
        ("SOFTSIGN", "Softsign", {}, {}),
    ]
    for kind, op, oattrs, gattrs in acts:
        if op == "Clip":
            y = ort_run("Clip", [x, np.float32(-1.5), np.float32(2.25)])[0]
        else:
            y = ort_run(op, [x], oattrs, opset=20)[0]
        add("act %s" % kind, "act_f32", [x], [y], dict({"ACT": ACT[kind]}, **gattrs))
    # defaults when alpha/beta are absent
    add("act LEAKY_RELU default alpha", "act_f32", [x], [ort_run("LeakyRelu", [x])[0]], {"ACT": ACT["LEAKY_RELU"]})
    add("act ELU default alpha", "act_f32", [x], [ort_run("Elu", [x])[0]], {"ACT": ACT["ELU"]})
    add("act SELU defaults", "act_f32", [x], [ort_run("Selu", [x])[0]], {"ACT": ACT["SELU"]})
    add("act HARD_SIGMOID defaults", "act_f32", [x], [ort_run("HardSigmoid", [x])[0]], {"ACT": ACT["HARD_SIGMOID"]})
    s = ort_run("Sigmoid", [x])[0]
    add("act SILU", "act_f32", [x], [(x * s).astype(np.float32)], {"ACT": ACT["SILU"]})
    add("act AFFINE", "act_f32", [x], [(np.float32(0.5) * x + np.float32(0.25)).astype(np.float32)],
        {"ACT": ACT["AFFINE"], "ACT_ALPHA": 0.5, "ACT_BETA": 0.25})
    add("act NONE", "act_f32", [x], [x], {})
    add("act bad kind", "act_f32", [x], [x], {"ACT": 99}, check="E_SHAPE")
    add("act shape mismatch", "act_f32", [x], [x.reshape(15, 67)], {"ACT": 1}, check="E_SHAPE")
    add("act dtype mismatch", "act_f32", [x], [x.astype(np.float64)], {"ACT": 1}, check="E_SHAPE")

    # prelu
    x4 = f32(2, 3, 4, 5)
    for sshape in [(3, 1, 1), (1,), (5,), (2, 3, 4, 5)]:
        sl = f32(*sshape, lo=0, hi=0.5)
        add("prelu slope %s" % (sshape,), "prelu_f32", [x4, sl], [ort_run("PRelu", [x4, sl])[0]])
    add("prelu bad slope", "prelu_f32", [x4, f32(4)], [x4], check="E_SHAPE")

    # softmax / log_softmax
    for shape, axis in [((4, 100), -1), ((2, 3, 4, 5), 1), ((2, 3, 4, 5), 0), ((2, 3, 4, 5), 3), ((7,), 0)]:
        xs = f32(*shape, lo=-20, hi=20)
        add("softmax %s axis %d" % (shape, axis), "softmax_f32", [xs], [ort_run("Softmax", [xs], {"axis": axis})[0]], {"AXIS": axis})
        add("log_softmax %s axis %d" % (shape, axis), "log_softmax_f32", [xs],
            [ort_run("LogSoftmax", [xs], {"axis": axis})[0]], {"AXIS": axis}, atol=2e-6)
    xs = f32(2, 3, 4)
    add("softmax default axis", "softmax_f32", [xs], [ort_run("Softmax", [xs])[0]])
    add("softmax bad axis", "softmax_f32", [xs], [xs], {"AXIS": 3}, check="E_SHAPE")


def gen_binary():
    shapes = [((2, 3, 4, 5), (2, 3, 4, 5)), ((2, 3, 4, 5), (5,)), ((2, 3, 4, 5), (3, 1, 1)),
              ((1, 3, 1, 5), (2, 1, 4, 1)), ((2, 3, 4, 5), ()), ((), (4, 3)), ((3, 1), (1, 70)),
              ((2, 1, 4, 33), (2, 3, 4, 1)), ((1,), (1,))]
    ops = [("Add", "add_f32"), ("Sub", "sub_f32"), ("Mul", "mul_f32"), ("Div", "div_f32")]
    for sa, sb in shapes:
        a, b = f32(*sa), f32(*sb)
        for op, k in ops:
            bb = np.where(np.abs(b) < 0.1, np.float32(0.5), b).astype(np.float32) if op == "Div" else b
            add("%s %s %s" % (k, sa, sb), k, [a, bb], [ort_run(op, [a, bb])[0]])
    a, b = f32(2, 3, 4, 5), f32(3, 1, 1)
    y = ort_run("Add", [a, b])[0]
    add("add_f32 fused relu", "add_f32", [a, b], [np.maximum(y, 0)], {"ACT": ACT["RELU"]})
    y = ort_run("Mul", [a, b])[0]
    add("mul_f32 fused clip", "mul_f32", [a, b], [np.clip(y, 0, 1)], {"ACT": ACT["CLIP"], "ACT_ALPHA": 0.0, "ACT_BETA": 1.0})
    add("add_f32 bad broadcast", "add_f32", [a, f32(4)], [y], check="E_SHAPE")
    add("add_f32 out too small", "add_f32", [a, b], [f32(3, 4, 5)], check="E_SHAPE")
    add("add_f32 dtype", "add_f32", [a, b.astype(np.float64)], [y], check="E_SHAPE")
    pa, pb = f32(2, 3, 4, lo=0.1, hi=3), f32(4, lo=-2, hi=2)
    add("pow_f32", "pow_f32", [pa, pb], [ort_run("Pow", [pa, pb])[0]])
    ma, mb = f32(3, 4, lo=-10, hi=10), f32(4, lo=0.5, hi=3)
    add("mod_f32 fmod", "mod_f32", [ma, mb], [ort_run("Mod", [ma, mb], {"fmod": 1})[0]])
    ca, cb = f32(3, 4), f32(4)
    ca[0, :] = cb
    for op, k in [("Equal", "equal_f32"), ("Less", "less_f32"), ("Greater", "greater_f32"),
                  ("LessOrEqual", "less_equal_f32"), ("GreaterOrEqual", "greater_equal_f32")]:
        add(k, k, [ca, cb], [ort_run(op, [ca, cb])[0]])
    ia = rng.integers(-1000, 1000, size=(3, 4, 5)).astype(np.int64)
    ib = rng.integers(-50, 50, size=(4, 1)).astype(np.int64)
    ib[ib == 0] = 7
    ia[0, 0, 0] = -7
    for op, k in [("Add", "add_i64"), ("Sub", "sub_i64"), ("Mul", "mul_i64"), ("Div", "div_i64"),
                  ("Equal", "equal_i64"), ("Less", "less_i64"), ("Greater", "greater_i64")]:
        add(k, k, [ia, ib], [ort_run(op, [ia, ib])[0]])
    ib0 = ib.copy()
    ib0[1, 0] = 0
    add("div_i64 by zero", "div_i64", [ia, ib0], [ia], evals="E_NUMERIC")
    ba, bb = rng.integers(0, 2, size=(3, 4)).astype(np.bool_), rng.integers(0, 2, size=(4,)).astype(np.bool_)
    for op, k in [("And", "and_bool"), ("Or", "or_bool"), ("Xor", "xor_bool")]:
        add(k, k, [ba, bb], [ort_run(op, [ba, bb])[0]])
    va, vb, vc = f32(2, 3, 4), f32(4), f32(3, 1)
    for op, k in [("Max", "max_f32"), ("Min", "min_f32"), ("Sum", "sum_f32"), ("Mean", "mean_f32")]:
        add(k + " x3", k, [va, vb, vc], [ort_run(op, [va, vb, vc])[0]])
        add(k + " x1", k, [va], [ort_run(op, [va])[0]])
        add(k + " bcast first", k, [vb, va], [ort_run(op, [vb, va])[0]])
    i1, i2 = rng.integers(-9, 9, size=(3, 4)).astype(np.int64), rng.integers(-9, 9, size=(4,)).astype(np.int64)
    add("max_i64", "max_i64", [i1, i2], [ort_run("Max", [i1, i2])[0]])
    add("min_i64", "min_i64", [i1, i2], [ort_run("Min", [i1, i2])[0]])


GENERATORS = [gen_act, gen_binary]


def main():
    only = sys.argv[1:]
    for g in GENERATORS:
        if not only or g.__name__ in only:
            g()
    out = os.path.join(ROOT, "runtime/tests/vectors/kernels.bin")
    with open(out, "wb") as f:
        f.write(b"GKV1" + struct.pack("<i", len(cases)) + b"".join(cases))
    print("%s: %d cases, %d bytes" % (out, len(cases), os.path.getsize(out)))


if __name__ == "__main__":
    main()
