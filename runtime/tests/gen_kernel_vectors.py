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
        a = np.asarray(t)
        dt, shape, data = onnx_dtype(a), a.shape, a.tobytes(order="C")
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


def const(*vals, dtype=np.int64):
    return np.array(vals, dtype=dtype)


def gen_movement():
    x = f32(2, 3, 4)
    add("copy reshape", "copy_any", [x], [x.reshape(6, 4)])
    add("copy count mismatch", "copy_any", [x], [f32(5, 4)], check="E_SHAPE")
    add("copy dtype mismatch", "copy_any", [x], [x.astype(np.float64)], check="E_SHAPE")
    # concat
    for axis, shapes in [(1, [(2, 3, 4), (2, 1, 4), (2, 5, 4)]), (0, [(1, 3), (4, 3)]), (-1, [(2, 2, 3), (2, 2, 1)]),
                         (2, [(2, 3, 0), (2, 3, 2)])]:
        ins = [f32(*s) for s in shapes]
        add("concat axis %d %s" % (axis, shapes), "concat_any", ins, [ort_run("Concat", ins, {"axis": axis})[0]], {"AXIS": axis})
    ins = [rng.integers(-5, 5, size=s).astype(np.int64) for s in [(3, 2), (3, 4)]]
    add("concat i64", "concat_any", ins, [ort_run("Concat", ins, {"axis": 1})[0]], {"AXIS": 1})
    ins = [rng.integers(0, 2, size=s).astype(np.bool_) for s in [(3, 2), (3, 4)]]
    add("concat bool", "concat_any", ins, [np.concatenate(ins, 1)], {"AXIS": 1})
    add("concat bad dims", "concat_any", [f32(2, 3), f32(3, 3)], [f32(5, 3)], {"AXIS": 1}, check="E_SHAPE")
    add("concat bad sum", "concat_any", [f32(2, 3), f32(2, 3)], [f32(2, 7)], {"AXIS": 1}, check="E_SHAPE")
    # split
    x = f32(2, 6, 5)
    outs = ort_run("Split", [x, const(2, 3, 1)], {"axis": 1}, n_out=3, const_inputs=(1,))
    add("split axis 1", "split_any", [x], outs, {"AXIS": 1})
    add("split axis 1 with attr", "split_any", [x], outs, {"AXIS": 1, "SPLIT": [2, 3, 1]})
    outs = ort_run("Split", [x], {"axis": -1, "num_outputs": 2}, n_out=2)
    add("split axis -1 uneven", "split_any", [x], outs, {"AXIS": -1})
    add("split bad sum", "split_any", [x], [f32(2, 2, 5), f32(2, 2, 5)], {"AXIS": 1}, check="E_SHAPE")
    # slice
    x = f32(4, 5, 6, 7)
    big, small = 2**62, -2**62
    for starts, ends, axes, steps in [
            ([1], [3], [0], [1]), ([0, 1], [5, -1], [1, 3], [2, 1]), ([-1], [small], [2], [-1]),
            ([5], [0], [3], [-2]), ([-100, 2], [big, 100], [0, 1], [1, 3]), ([2, 1, 0, 3], [4, 4, 6, 7], [0, 1, 2, 3], [1, 1, 2, 1]),
            ([3], [3], [2], [1]), ([0], [-1], [-1], [1]), ([6], [-100], [3], [-3])]:
        y = ort_run("Slice", [x, const(*starts), const(*ends), const(*axes), const(*steps)], const_inputs=(1, 2, 3, 4))[0]
        add("slice %s %s %s %s" % (starts, ends, axes, steps), "slice_any", [x], [y],
            {"STARTS": starts, "ENDS": ends, "AXES": axes, "STEPS": steps})
    y = ort_run("Slice", [x, const(1, 2), const(3, 4)], const_inputs=(1, 2))[0]
    add("slice default axes/steps", "slice_any", [x], [y], {"STARTS": [1, 2], "ENDS": [3, 4]})
    add("slice out shape wrong", "slice_any", [x], [y[:1]], {"STARTS": [1, 2], "ENDS": [3, 4]}, check="E_SHAPE")
    add("slice step 0", "slice_any", [x], [y], {"STARTS": [1], "ENDS": [3], "STEPS": [0]}, check="E_SHAPE")
    add("slice dup axes", "slice_any", [x], [y], {"STARTS": [1, 1], "ENDS": [3, 3], "AXES": [0, 0]}, check="E_SHAPE")
    xi = rng.integers(0, 255, size=(3, 8)).astype(np.uint8)
    add("slice u8 neg step", "slice_any", [xi], [xi[::-1, 6:1:-2]], {"STARTS": [-1, 6], "ENDS": [small, 1], "STEPS": [-1, -2]})
    # pad (begins..., ends...)
    x = f32(2, 3, 4, 5)
    for mode, mcode in [("constant", 0), ("reflect", 1), ("edge", 2), ("wrap", 3)]:
        for pads in [[0, 0, 1, 2, 0, 0, 2, 1], [0, 1, -1, 3, 1, 0, 2, -2], [0, 0, 3, 4, 0, 0, 3, 4]]:
            if mode == "reflect" and min(pads) < 0:
                continue
            ins = [x, const(*pads)] + ([np.array(1.5, np.float32)] if mode == "constant" else [])
            y = ort_run("Pad", ins, {"mode": mode}, const_inputs=(1, 2))[0]
            add("pad %s %s" % (mode, pads), "pad_any", [x], [y], {"PADS": pads, "MODE": mcode, "VALUE": 1.5})
    xi = rng.integers(-9, 9, size=(3, 4)).astype(np.int64)
    y = ort_run("Pad", [xi, const(1, 0, 0, 2), np.array(7, np.int64)], const_inputs=(1, 2))[0]
    add("pad i64 constant 7", "pad_any", [xi], [y], {"PADS": [1, 0, 0, 2], "VALUE": 7.0})
    add("pad bad out", "pad_any", [x], [x], {"PADS": [0, 0, 1, 0, 0, 0, 0, 0]}, check="E_SHAPE")
    # transpose
    for shape, perm in [((2, 3, 4, 5), [0, 2, 3, 1]), ((2, 3, 4, 5), [0, 3, 1, 2]), ((37, 45), [1, 0]),
                        ((2, 3, 4), [2, 0, 1]), ((2, 1, 4, 1, 3), [4, 3, 2, 1, 0]), ((1, 3, 1, 5), [0, 2, 1, 3]),
                        ((3, 70, 33), [0, 2, 1]), ((2, 3, 4, 5, 6), [1, 0, 3, 4, 2]), ((5,), [0])]:
        xt = f32(*shape)
        add("transpose %s %s" % (shape, perm), "transpose_any", [xt], [ort_run("Transpose", [xt], {"perm": perm})[0]], {"PERM": perm})
    xt = f32(2, 3, 4)
    add("transpose default perm", "transpose_any", [xt], [ort_run("Transpose", [xt])[0]])
    for dt in [np.uint8, np.int16, np.int64]:
        xt = rng.integers(0, 100, size=(3, 5, 7)).astype(dt)
        add("transpose %s" % np.dtype(dt).name, "transpose_any", [xt], [xt.transpose(1, 2, 0).copy()], {"PERM": [1, 2, 0]})
    add("transpose bad perm", "transpose_any", [xt], [xt], {"PERM": [0, 0, 1]}, check="E_SHAPE")
    # gather
    x = f32(5, 4, 3)
    for axis, ind in [(0, np.array([0, 4, -1, 2], np.int64)), (1, np.array([[1, 0], [-4, 3]], np.int32)),
                      (2, np.array(1, np.int64)), (-1, np.array([2, 2, 0], np.int64))]:
        add("gather axis %d %s" % (axis, ind.dtype.name), "gather_any", [x, ind], [ort_run("Gather", [x, ind], {"axis": axis})[0]], {"AXIS": axis})
    add("gather out of range", "gather_any", [x, np.array([0, 5], np.int64)], [f32(2, 4, 3)], {"AXIS": 0}, evals="E_NUMERIC")
    add("gather out of range neg", "gather_any", [x, np.array([-6], np.int64)], [f32(1, 4, 3)], {"AXIS": 0}, evals="E_NUMERIC")
    add("gather bad out", "gather_any", [x, np.array([0, 1], np.int64)], [f32(2, 4)], {"AXIS": 0}, check="E_SHAPE")
    ind = rng.integers(-3, 3, size=(4, 2, 3)).astype(np.int64)
    add("gather_elements axis 0", "gather_elements_any", [x, ind], [ort_run("GatherElements", [x, ind], {"axis": 0})[0]], {"AXIS": 0})
    ind = rng.integers(-4, 4, size=(5, 6, 2)).astype(np.int32)
    add("gather_elements axis 1", "gather_elements_any", [x, ind], [ort_run("GatherElements", [x, ind], {"axis": 1})[0]], {"AXIS": 1})
    add("gather_elements oob", "gather_elements_any", [x, np.full((5, 4, 3), 3, np.int64)], [x], {"AXIS": 2}, evals="E_NUMERIC")
    # tile / expand / where
    x = f32(2, 3, 4)
    for rep in [[1, 2, 3], [3, 1, 1], [2, 2, 2]]:
        add("tile %s" % rep, "tile_any", [x], [ort_run("Tile", [x, const(*rep)], const_inputs=(1,))[0]], {"REPEATS": rep})
    add("tile without repeats", "tile_any", [x], [np.tile(x, (2, 1, 2))])
    for shape, target in [((3, 1), (2, 3, 4)), ((1,), (5, 2)), ((4,), (3, 4)), ((2, 1, 4), (2, 3, 4))]:
        xe = f32(*shape)
        add("expand %s -> %s" % (shape, target), "expand_any", [xe], [ort_run("Expand", [xe, const(*target)], const_inputs=(1,))[0]])
    xe = rng.integers(0, 9, size=(3, 1)).astype(np.int64)
    add("expand i64", "expand_any", [xe], [np.broadcast_to(xe, (2, 3, 5)).copy()])
    add("expand bad", "expand_any", [f32(3, 2)], [f32(3, 4)], check="E_SHAPE")
    cond = rng.integers(0, 2, size=(3, 1, 5)).astype(np.bool_)
    a, b = f32(4, 5), f32(3, 4, 1)
    add("where f32", "where_any", [cond, a, b], [ort_run("Where", [cond, a, b])[0]])
    ai, bi = rng.integers(0, 9, size=(4, 5)).astype(np.int64), np.array(-1, np.int64)
    add("where i64 scalar", "where_any", [cond, ai, bi], [ort_run("Where", [cond, ai, bi])[0]])
    # cast
    xf = np.concatenate([f32(40, lo=-300, hi=300), np.array([0.5, -0.5, 1.5, 2.5, -2.5, 65504, 65520, 1e-6, 3e-8, -0.0,
                                                              np.inf, -np.inf, 1e-40, 70000, 0.099976, 2.75e-5], np.float32)])
    for dt in [np.float16, np.float64, np.int32, np.int64, np.int8, np.int16, np.uint8, np.bool_]:
        src = xf if dt in (np.float16, np.float64, np.bool_) else np.clip(xf, -120, 120).astype(np.float32)
        tp = helper.np_dtype_to_tensor_dtype(np.dtype(dt))
        add("cast f32 -> %s" % np.dtype(dt).name, "cast_any", [src], [ort_run("Cast", [src], {"to": tp})[0]], {"TO": tp})
    import ml_dtypes  # onnxruntime cannot hand bfloat16 to numpy; ml_dtypes rounds to nearest even
    y = xf.astype(ml_dtypes.bfloat16)
    add("cast f32 -> bf16", "cast_any", [xf], [Raw(16, xf.shape, y.view(np.uint16).tobytes())], {"TO": 16})
    h = xf.astype(np.float16)
    add("cast f16 -> f32", "cast_any", [h], [ort_run("Cast", [h], {"to": 1})[0]], {"TO": 1})
    bfb = (xf.view(np.uint32) >> 16).astype(np.uint16)
    add("cast bf16 -> f32", "cast_any", [Raw(16, bfb.shape, bfb.tobytes())], [(bfb.astype(np.uint32) << 16).view(np.float32)], {"TO": 1})
    for src in [rng.integers(-2**40, 2**40, size=(33,)).astype(np.int64), rng.integers(-300, 300, size=(33,)).astype(np.int32),
                rng.integers(0, 2, size=(33,)).astype(np.bool_), rng.integers(0, 255, size=(33,)).astype(np.uint8),
                f32(33, lo=-1e5, hi=1e5).astype(np.float64)]:
        for tp in [1, 6, 7, 9, 10, 11, 3]:
            if src.dtype == np.float64 and tp == 3:
                continue
            ys = ort_run("Cast", [src], {"to": tp})[0]
            add("cast %s -> %d" % (src.dtype.name, tp), "cast_any", [src], [ys], {"TO": tp})
    add("cast bad to", "cast_any", [xf], [xf.astype(np.float64)], {"TO": 1}, check="E_SHAPE")
    # depth_to_space / space_to_depth
    x = f32(2, 8, 3, 5)
    for mode, code in [("DCR", 0), ("CRD", 1)]:
        add("depth_to_space %s" % mode, "depth_to_space_any", [x], [ort_run("DepthToSpace", [x], {"blocksize": 2, "mode": mode})[0]],
            {"BLOCK_SIZE": 2, "MODE": code})
    x = f32(2, 3, 6, 9)
    add("space_to_depth", "space_to_depth_any", [x], [ort_run("SpaceToDepth", [x], {"blocksize": 3})[0]], {"BLOCK_SIZE": 3})
    add("space_to_depth bad", "space_to_depth_any", [x], [f32(2, 27, 2, 4)], {"BLOCK_SIZE": 3}, check="E_SHAPE")


def gen_norm_pool():
    x = f32(2, 3, 4, 5)
    sc, b, mu, var = f32(3), f32(3), f32(3), f32(3, lo=0.1, hi=2)
    y = ort_run("BatchNormalization", [x, sc, b, mu, var], {"epsilon": 1e-3})[0]
    add("batchnorm", "batchnorm_f32", [x, sc, b, mu, var], [y], {"EPSILON": 1e-3})
    x2 = f32(4, 3)
    add("batchnorm rank 2 default eps", "batchnorm_f32", [x2, sc, b, mu, var], [ort_run("BatchNormalization", [x2, sc, b, mu, var])[0]])
    add("batchnorm bad C", "batchnorm_f32", [x, f32(4), b, mu, var], [y], check="E_SHAPE")
    x = f32(2, 3, 7, 9, lo=-2, hi=5)
    add("instancenorm", "instancenorm_f32", [x, sc, b], [ort_run("InstanceNormalization", [x, sc, b], {"epsilon": 1e-4})[0]], {"EPSILON": 1e-4})
    x = f32(3, 4, 64, lo=-4, hi=6)
    for axis in [-1, 1, 2]:
        m = int(np.prod(x.shape[axis:])) if axis != -1 else 64
        shp = x.shape[axis:] if axis != -1 else (64,)
        s_, b_ = f32(*shp), f32(*shp)
        add("layernorm axis %d" % axis, "layernorm_f32", [x, s_, b_], [ort_run("LayerNormalization", [x, s_, b_], {"axis": axis, "epsilon": 1e-5})[0]],
            {"AXIS": axis, "EPSILON": 1e-5}, atol=5e-6)
        add("layernorm axis %d no bias" % axis, "layernorm_f32", [x, s_, None], [ort_run("LayerNormalization", [x, s_], {"axis": axis})[0]],
            {"AXIS": axis}, atol=5e-6)
    add("layernorm bad scale", "layernorm_f32", [x, f32(63)], [x], {"AXIS": -1}, check="E_SHAPE")
    x = f32(2, 7, 3, 4)
    for size in [3, 1]:
        add("lrn size %d" % size, "lrn_f32", [x], [ort_run("LRN", [x], {"size": size, "alpha": 0.01, "beta": 0.6, "bias": 1.5})[0]],
            {"SIZE": size, "ALPHA": 0.01, "BETA": 0.6, "BIAS": 1.5})
    add("lrn defaults", "lrn_f32", [x], [ort_run("LRN", [x], {"size": 5})[0]], {"SIZE": 5})

    # pools
    x = f32(2, 3, 11, 13)
    configs = [
        dict(kernel_shape=[3, 3], strides=[2, 2]),
        dict(kernel_shape=[2, 2], strides=[2, 2]),
        dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
        dict(kernel_shape=[3, 2], strides=[2, 3], pads=[1, 0, 2, 1], ceil_mode=1),
        dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        dict(kernel_shape=[2, 3], strides=[1, 2], dilations=[2, 2], pads=[1, 2, 1, 0]),
        dict(kernel_shape=[5, 5], strides=[3, 3], pads=[2, 2, 2, 2], ceil_mode=1),
        dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        dict(kernel_shape=[3, 2], strides=[2, 2], pads=[0, 1, 1, 1], ceil_mode=1),
    ]
    gk = {"kernel_shape": "KERNEL_SHAPE", "strides": "STRIDES", "pads": "PADS", "dilations": "DILATIONS", "ceil_mode": "CEIL_MODE",
          "count_include_pad": "COUNT_INCLUDE_PAD"}
    for cfg in configs:
        add("maxpool %s" % cfg, "maxpool_f32", [x], [ort_run("MaxPool", [x], cfg)[0]], {gk[k]: v for k, v in cfg.items()})
        for cip in [0, 1]:
            if "dilations" in cfg:
                continue
            c2 = dict(cfg, count_include_pad=cip)
            add("avgpool %s" % c2, "avgpool_f32", [x], [ort_run("AveragePool", [x], c2)[0]], {gk[k]: v for k, v in c2.items()})
    x1 = f32(2, 3, 17)
    cfg = dict(kernel_shape=[4], strides=[3], pads=[2, 1])
    add("maxpool 1d", "maxpool_f32", [x1], [ort_run("MaxPool", [x1], cfg)[0]], {gk[k]: v for k, v in cfg.items()})
    add("avgpool 1d", "avgpool_f32", [x1], [ort_run("AveragePool", [x1], cfg)[0]], {gk[k]: v for k, v in cfg.items()})
    x3 = f32(1, 2, 5, 6, 7)
    cfg = dict(kernel_shape=[2, 3, 2], strides=[1, 2, 2], pads=[0, 1, 1, 1, 1, 0])
    add("maxpool 3d", "maxpool_f32", [x3], [ort_run("MaxPool", [x3], cfg)[0]], {gk[k]: v for k, v in cfg.items()})
    add("avgpool 3d", "avgpool_f32", [x3], [ort_run("AveragePool", [x3], cfg)[0]], {gk[k]: v for k, v in cfg.items()})
    cfg = dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    add("lppool p2", "lppool_f32", [x], [ort_run("LpPool", [x], dict(cfg, p=2))[0]], {gk[k]: v for k, v in cfg.items()})
    add("lppool p3", "lppool_f32", [x], [ort_run("LpPool", [x], dict(cfg, p=3))[0]], dict({gk[k]: v for k, v in cfg.items()}, P=3.0), rtol=2e-5)
    add("maxpool bad out", "maxpool_f32", [x], [f32(2, 3, 5, 5)], {"KERNEL_SHAPE": [3, 3], "STRIDES": [2, 2]}, check="E_SHAPE")
    add("maxpool no kernel", "maxpool_f32", [x], [x], {}, check="E_SHAPE")
    add("maxpool kernel too big", "maxpool_f32", [x], [f32(2, 3, 1, 1)], {"KERNEL_SHAPE": [12, 3]}, check="E_SHAPE")
    for shape in [(2, 3, 11, 13), (2, 5, 7), (1, 2, 3, 4, 5)]:
        xg = f32(*shape)
        add("global_avgpool %s" % (shape,), "global_avgpool_f32", [xg], [ort_run("GlobalAveragePool", [xg])[0]])
        add("global_maxpool %s" % (shape,), "global_maxpool_f32", [xg], [ort_run("GlobalMaxPool", [xg])[0]])
    add("global_avgpool bad", "global_avgpool_f32", [x], [f32(2, 3, 1, 2)], check="E_SHAPE")


def gen_unary():
    x = f32(4, 33, lo=-6, hi=6)
    x.flat[:8] = [0.5, 1.5, 2.5, -0.5, -2.5, 0.0, -0.0, 3.49999]
    xp = f32(4, 33, lo=1e-3, hi=50)
    for op, k, src in [("Erf", "erf_f32", x), ("Exp", "exp_f32", x), ("Log", "log_f32", xp), ("Sqrt", "sqrt_f32", xp),
                       ("Neg", "neg_f32", x), ("Abs", "abs_f32", x), ("Reciprocal", "reciprocal_f32", xp),
                       ("Floor", "floor_f32", x), ("Ceil", "ceil_f32", x), ("Round", "round_f32", x), ("Sin", "sin_f32", x),
                       ("Cos", "cos_f32", x), ("Sign", "sign_f32", x)]:
        add(k, k, [src], [ort_run(op, [src])[0]], atol=2e-6)
    bx = rng.integers(0, 2, size=(3, 7)).astype(np.bool_)
    add("not_bool", "not_bool", [bx], [ort_run("Not", [bx])[0]])
    add("exp bad shape", "exp_f32", [x], [xp.reshape(33, 4)], check="E_SHAPE")


def gen_reduce():
    x = f32(3, 4, 5, 6, lo=-2, hi=2)
    xp = f32(3, 4, 5, 6, lo=0.5, hi=1.5)
    ops = [("ReduceMean", "reduce_mean_f32"), ("ReduceSum", "reduce_sum_f32"), ("ReduceMax", "reduce_max_f32"),
           ("ReduceMin", "reduce_min_f32"), ("ReduceL2", "reduce_l2_f32"), ("ReduceProd", "reduce_prod_f32"),
           ("ReduceL1", "reduce_l1_f32"), ("ReduceSumSquare", "reduce_sumsq_f32"), ("ReduceLogSumExp", "reduce_logsumexp_f32")]
    for axes, keep in [([1], 1), ([3], 0), ([0, 2], 1), ([2, 3], 0), ([-1], 1), ([], 0), ([0, 1, 2, 3], 1), ([1, 3], 0)]:
        for op, k in ops:
            src = xp if op == "ReduceProd" else x
            ins = [src] + ([const(*axes)] if axes else [])
            y = ort_run(op, ins, {"keepdims": keep}, opset=18, const_inputs=(1,))[0]
            add("%s axes %s keep %d" % (k, axes, keep), k, [src], [y], {"AXES": axes, "KEEPDIMS": keep} if axes else {"KEEPDIMS": keep},
                rtol=2e-5, atol=2e-6)
    y = ort_run("ReduceSum", [x], {"keepdims": 1, "noop_with_empty_axes": 1}, opset=18)[0]
    add("reduce_sum noop", "reduce_sum_f32", [x], [y], {"NOOP_WITH_EMPTY_AXES": 1})
    big = f32(16, 2048, lo=0, hi=1)
    add("reduce_mean large inner", "reduce_mean_f32", [big], [ort_run("ReduceMean", [big, const(1)], opset=18, const_inputs=(1,))[0]], {"AXES": [1]})
    add("reduce_mean large outer", "reduce_mean_f32", [big], [ort_run("ReduceMean", [big, const(0)], opset=18, const_inputs=(1,))[0]], {"AXES": [0]})
    add("reduce bad out", "reduce_sum_f32", [x], [f32(3, 5, 6)], {"AXES": [1], "KEEPDIMS": 1}, check="E_SHAPE")
    add("reduce dup axes", "reduce_sum_f32", [x], [f32(3, 5, 6)], {"AXES": [1, 1], "KEEPDIMS": 0}, check="E_SHAPE")
    add("reduce bad axis", "reduce_sum_f32", [x], [f32(3, 5, 6)], {"AXES": [4], "KEEPDIMS": 0}, check="E_SHAPE")
    xa = rng.integers(0, 4, size=(3, 4, 5)).astype(np.float32)  # many ties
    for op, k in [("ArgMax", "argmax_f32"), ("ArgMin", "argmin_f32")]:
        for axis, keep, last in [(0, 1, 0), (1, 0, 0), (2, 1, 1), (-1, 0, 1), (1, 1, 1)]:
            y = ort_run(op, [xa], {"axis": axis, "keepdims": keep, "select_last_index": last})[0]
            add("%s axis %d keep %d last %d" % (k, axis, keep, last), k, [xa], [y], {"AXIS": axis, "KEEPDIMS": keep, "SELECT_LAST_INDEX": last})
    add("argmax bad out dtype", "argmax_f32", [xa], [f32(1, 4, 5)], {"AXIS": 0}, check="E_SHAPE")


COORD = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_half_pixel_for_nn", "half_pixel_symmetric",
         "tf_crop_and_resize"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


def resize_case(name, x, scales=None, sizes=None, mode="nearest", coord="half_pixel", nearest="round_prefer_floor",
                a=-0.75, exclude=0, extrap=0.0, check="OK"):
    attrs = {"mode": mode, "coordinate_transformation_mode": coord, "nearest_mode": nearest, "cubic_coeff_a": a,
             "exclude_outside": exclude, "extrapolation_value": extrap}
    roi = np.array([0.0] * x.ndim + [1.0] * x.ndim, np.float32) if coord == "tf_crop_and_resize" else None
    try:
        if scales is not None:
            sc = np.array(scales, np.float32)
            y = ort_run("Resize", [x, roi, sc], attrs, opset=19, const_inputs=(1, 2))[0]
        else:
            sc = np.array(sizes, np.float32) / np.array(x.shape, np.float32)
            y = ort_run("Resize", [x, roi, None, np.array(sizes, np.int64)], attrs, opset=19, const_inputs=(1, 3))[0]
    except Exception as e:  # onnxruntime lacks some axis combinations: no reference, no case
        print("skipped resize %s %s: %s" % (name, mode, str(e).splitlines()[0][:100]))
        return
    gattrs = {"MODE": ["nearest", "linear", "cubic"].index(mode), "COORD_MODE": COORD.index(coord),
              "NEAREST_MODE": NEAREST.index(nearest), "CUBIC_COEFF_A": float(a), "EXCLUDE_OUTSIDE": exclude,
              "EXTRAPOLATION_VALUE": float(extrap), "SCALES": [float(v) for v in sc]}
    add("resize %s %s" % (name, mode), "resize_f32", [x], [y], gattrs, rtol=1e-5, atol=2e-6, check=check)


def gen_resize():
    x = f32(1, 2, 5, 7)
    for coord in COORD:
        for scales in [[1, 1, 2, 2], [1, 1, 0.6, 0.75], [1, 1, 1.7, 2.3]]:
            for nearest in NEAREST:
                if coord == "half_pixel_symmetric" and nearest in ("floor", "ceil") and scales[2] == 0.6:
                    # source coordinates land exactly on integers (2.0, 3.0); onnxruntime and ONNX's
                    # reference evaluator round them differently, so there is no reference to trust
                    continue
                resize_case("%s %s %s" % (coord, scales, nearest), x, scales=scales, mode="nearest", coord=coord, nearest=nearest,
                            extrap=-1.0)
            for mode in ["linear", "cubic"]:
                resize_case("%s %s" % (coord, scales), x, scales=scales, mode=mode, coord=coord, extrap=-1.0)
    resize_case("sizes 1x2x9x4", x, sizes=[1, 2, 9, 4], mode="linear")
    resize_case("sizes 1x2x3x11 pytorch", x, sizes=[1, 2, 3, 11], mode="linear", coord="pytorch_half_pixel")
    resize_case("sizes to 1 pytorch", x, sizes=[1, 2, 1, 3], mode="linear", coord="pytorch_half_pixel")
    resize_case("cubic a -0.5 exclude", x, scales=[1, 1, 2, 1.5], mode="cubic", a=-0.5, exclude=1)
    resize_case("cubic exclude down", x, scales=[1, 1, 0.5, 0.8], mode="cubic", exclude=1)
    x3 = f32(2, 3, 4)
    resize_case("3d last two axes", x3, scales=[1, 2, 1.5], mode="linear")
    resize_case("3d all axes nearest", x3, scales=[2, 0.5, 2], mode="nearest")
    resize_case("3d all axes linear", x3, scales=[1.5, 2, 0.75], mode="linear", coord="align_corners")
    x5 = f32(1, 2, 3, 4, 5)
    resize_case("5d trilinear", x5, scales=[1, 1, 2, 2, 2], mode="linear")
    resize_case("5d tricubic", x5, scales=[1, 1, 1.5, 2, 0.6], mode="cubic")
    x1 = f32(9)
    resize_case("1d linear", x1, scales=[2.5], mode="linear", coord="align_corners")
    add("resize antialias", "resize_f32", [x], [f32(1, 2, 2, 3)], {"MODE": 1, "ANTIALIAS": 1}, check="E_UNSUPPORTED")
    add("resize bad mode", "resize_f32", [x], [f32(1, 2, 2, 3)], {"MODE": 7}, check="E_SHAPE")
    add("resize rank mismatch", "resize_f32", [x], [f32(2, 2, 3)], {"MODE": 1}, check="E_SHAPE")


ONNX_ACTS = {"Sigmoid": "SIGMOID", "Tanh": "TANH", "Relu": "RELU", "LeakyRelu": "LEAKY_RELU", "HardSigmoid": "HARD_SIGMOID",
             "Affine": "AFFINE", "Elu": "ELU", "Softsign": "SOFTSIGN", "Softplus": "SOFTPLUS"}


def rnn_case(name, op, S, B, I, H, direction="forward", bias=True, seq=None, h0=False, c0=False, peep=False, acts=None,
             alphas=None, betas=None, clip=None, input_forget=0, lbr=0, outs=(1, 1, 1)):
    D = 2 if direction == "bidirectional" else 1
    G = 4 if op == "LSTM" else 3
    x, w, r = f32(S, B, I, lo=-1, hi=1), f32(D, G * H, I, lo=-0.6, hi=0.6), f32(D, G * H, H, lo=-0.6, hi=0.6)
    ins = [x, w, r, f32(D, 2 * G * H, lo=-0.5, hi=0.5) if bias else None,
           np.array(seq, np.int32) if seq is not None else None, f32(D, B, H, lo=-1, hi=1) if h0 else None]
    if op == "LSTM":
        ins += [f32(D, B, H, lo=-1, hi=1) if c0 else None, f32(D, 3 * H, lo=-0.5, hi=0.5) if peep else None]
    while ins[-1] is None:
        ins.pop()
    attrs = {"hidden_size": H, "direction": direction}
    g = {"HIDDEN_SIZE": H, "DIRECTION": ["forward", "reverse", "bidirectional"].index(direction)}
    if acts:
        attrs["activations"] = acts
        g["ACTIVATIONS"] = [ACT[ONNX_ACTS[a]] for a in acts]
    if alphas:
        attrs["activation_alpha"] = [a for a in alphas if a is not None]
        g["ALPHA"] = [float(a) if a is not None else 0.0 for a in alphas]
    if betas:
        attrs["activation_beta"] = [b for b in betas if b is not None]
        g["BETA"] = [float(b) if b is not None else 0.0 for b in betas]
    if clip is not None:
        attrs["clip"] = clip
        g["CLIP"] = clip
    if op == "LSTM" and input_forget:
        attrs["input_forget"] = 1
        g["INPUT_FORGET"] = 1
    if op == "GRU":
        attrs["linear_before_reset"] = lbr
        g["LINEAR_BEFORE_RESET"] = lbr
    n_out = 3 if op == "LSTM" else 2
    ys = ort_run(op, ins, attrs, n_out=n_out, opset=22)
    outs = [y if keep else None for y, keep in zip(ys, outs)]
    add("%s %s" % (op.lower(), name), op.lower() + "_f32", ins, outs, g, rtol=2e-5, atol=2e-6)


def gen_rnn():
    for op in ["LSTM", "GRU"]:
        rnn_case("forward", op, 5, 3, 4, 6)
        rnn_case("reverse h0", op, 5, 3, 4, 6, direction="reverse", h0=True, c0=True)
        rnn_case("bidirectional", op, 4, 2, 3, 5, direction="bidirectional", h0=True, c0=True, peep=True)
        rnn_case("no bias", op, 3, 2, 3, 4, bias=False)
        rnn_case("seq lens", op, 6, 3, 4, 5, direction="bidirectional", seq=[6, 2, 4], h0=True)
        rnn_case("clip", op, 5, 2, 3, 4, clip=0.7)
        rnn_case("only Y_h", op, 4, 2, 3, 4, outs=(0, 1, 0))
        rnn_case("only Y", op, 4, 2, 3, 4, outs=(1, 0, 0))
    rnn_case("peepholes", "LSTM", 5, 3, 4, 6, peep=True, c0=True)
    rnn_case("input_forget", "LSTM", 5, 3, 4, 6, input_forget=1, peep=True)
    rnn_case("activations", "LSTM", 4, 2, 3, 5, acts=["HardSigmoid", "LeakyRelu", "Softsign"], alphas=[0.3, 0.05, None],
             betas=[0.4, None, None])
    rnn_case("activations bidi", "LSTM", 4, 2, 3, 5, direction="bidirectional",
             acts=["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Relu", "Elu"], alphas=[None, None, None, 0.25, None, 0.8],
             betas=[None, None, None, 0.45, None, None])
    rnn_case("linear_before_reset", "GRU", 5, 3, 4, 6, lbr=1, h0=True)
    rnn_case("linear_before_reset bidi", "GRU", 4, 2, 3, 5, lbr=1, direction="bidirectional", seq=[4, 1])
    rnn_case("activations", "GRU", 4, 2, 3, 5, acts=["HardSigmoid", "Softsign"], alphas=[0.3, None], betas=[0.4, None])
    x = f32(2, 1, 3)
    add("lstm bad W", "lstm_f32", [x, f32(1, 12, 4), f32(1, 12, 3)], [None, f32(1, 1, 3)], {"HIDDEN_SIZE": 3}, check="E_SHAPE")
    add("lstm layout 1", "lstm_f32", [x, f32(1, 12, 3), f32(1, 12, 3)], [None, f32(1, 1, 3)], {"HIDDEN_SIZE": 3, "LAYOUT": 1},
        check="E_UNSUPPORTED")
    add("gru bad seq_lens", "gru_f32", [x, f32(1, 9, 3), f32(1, 9, 3), None, np.array([3], np.int32)], [None, f32(1, 1, 3)],
        {"HIDDEN_SIZE": 3}, evals="E_NUMERIC")


GENERATORS = [gen_act, gen_binary, gen_movement, gen_norm_pool, gen_unary, gen_reduce, gen_resize, gen_rnn]


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
