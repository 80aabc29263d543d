#!/usr/bin/env python3
"""Times a few common non-contraction kernels against onnxruntime in the same process, on the
same inputs, one thread each; prints both and the ratio (graft / onnxruntime, below 1 = faster).
onnxruntime's figure includes its session.run overhead (a few microseconds).
Run from the repository root (builds runtime/build/bench/libgraftkernels.so with $CC -O2 and
$CFLAGS; clang vectorizes the kernels at -O2, GCC needs -O3 or -fvect-cost-model=dynamic):
    CC=clang .venv/bin/python runtime/tests/bench_kernels.py"""
import ctypes as C
import glob
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_kernel_vectors as g  # noqa: E402

ROOT = g.ROOT
LIB = os.path.join(ROOT, "runtime/build/bench/libgraftkernels.so")


def build():
    os.makedirs(os.path.dirname(LIB), exist_ok=True)
    srcs = [os.path.join(ROOT, "runtime/src", f) for f in ("attrs.c", "dtype.c", "kernel_table.c", "cpu.c")]
    srcs += sorted(glob.glob(os.path.join(ROOT, "runtime/kernels/reference/*.c")))
    cc = os.environ.get("CC", "cc")
    extra = os.environ.get("CFLAGS", "").split()
    subprocess.check_call([cc] + extra + ["-std=c99", "-O2", "-fno-math-errno", "-D_POSIX_C_SOURCE=200809L", "-fPIC", "-shared",
                           "-I" + os.path.join(ROOT, "runtime/include"), "-o", LIB] + srcs + ["-lm"])


class Tensor(C.Structure):
    _fields_ = [("data", C.c_void_p), ("dtype", C.c_int32), ("rank", C.c_int32), ("dims", C.c_int64 * 8),
                ("scale", C.c_void_p), ("zero_point", C.c_void_p), ("quant_count", C.c_int32), ("quant_axis", C.c_int32)]


class Attr(C.Structure):
    _fields_ = [("key", C.c_int32), ("type", C.c_int32), ("count", C.c_int32), ("ints", C.c_void_p), ("floats", C.c_void_p)]


class Call(C.Structure):
    _fields_ = [("inputs", C.c_void_p), ("outputs", C.c_void_p), ("n_inputs", C.c_int32), ("n_outputs", C.c_int32),
                ("attrs", C.c_void_p), ("n_attrs", C.c_int32), ("scratch", C.c_void_p), ("scratch_bytes", C.c_size_t)]


FN = C.CFUNCTYPE(C.c_int, C.POINTER(Call))
SFN = C.CFUNCTYPE(C.c_size_t, C.POINTER(Call))


class Kernel(C.Structure):
    _fields_ = [("id", C.c_uint32), ("name", C.c_char_p), ("min_inputs", C.c_int32), ("max_inputs", C.c_int32),
                ("min_outputs", C.c_int32), ("max_outputs", C.c_int32), ("check", FN), ("scratch", SFN), ("eval", FN)]


def tensor(a):
    t = Tensor()
    t.data = a.ctypes.data
    t.dtype = helper.np_dtype_to_tensor_dtype(a.dtype)
    t.rank = a.ndim
    for i, d in enumerate(a.shape):
        t.dims[i] = d
    return t


def graft_time(lib, kernel, ins, out, attrs, reps):
    keep = []
    tin = [tensor(a) for a in ins]
    tout = [tensor(out)]
    pin = (C.POINTER(Tensor) * len(tin))(*[C.pointer(t) for t in tin])
    pout = (C.POINTER(Tensor) * 1)(C.pointer(tout[0]))
    at = (Attr * max(len(attrs), 1))()
    for i, (k, v) in enumerate(attrs.items()):
        at[i].key = g.ATTR[k]
        if isinstance(v, float) or (isinstance(v, list) and isinstance(v[0], float)):
            arr = np.array(v if isinstance(v, list) else [v], np.float32)
            at[i].type, at[i].floats = (4 if isinstance(v, list) else 3), arr.ctypes.data
        else:
            arr = np.array(v if isinstance(v, list) else [v], np.int64)
            at[i].type, at[i].ints = (2 if isinstance(v, list) else 1), arr.ctypes.data
        at[i].count = arr.size
        keep.append(arr)
    call = Call(C.cast(pin, C.c_void_p), C.cast(pout, C.c_void_p), len(tin), 1, C.cast(at, C.c_void_p), len(attrs), None, 0)
    lib.graft_kernel_find.restype = C.POINTER(Kernel)
    k = lib.graft_kernel_find(kernel.encode()).contents
    assert k.check(C.byref(call)) == 0, kernel
    sb = k.scratch(C.byref(call))
    scratch = np.zeros(max(sb, 1), np.uint8)
    call.scratch, call.scratch_bytes = scratch.ctypes.data, sb
    best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter()
        k.eval(C.byref(call))
        best = min(best, time.perf_counter() - t0)
    return best


def ort_time(op, ins, attrs, consts, reps):
    names, gi, inits, feed = [], [], [], {}
    for i, a in enumerate(ins):
        n = "i%d" % i
        names.append(n if a is not None else "")
        if a is None:
            continue
        if i in consts:
            inits.append(onnx.numpy_helper.from_array(a, n))
        else:
            gi.append(helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape))
            feed[n] = a
    node = helper.make_node(op, names, ["o"], **attrs)
    m = helper.make_model(helper.make_graph([node], "g", gi, [onnx.ValueInfoProto(name="o")], inits),
                          opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    out = s.run(None, feed)[0]
    best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter()
        s.run(None, feed)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    build()
    lib = C.CDLL(LIB)
    rng = np.random.default_rng(0)
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    x112, x56, x56b = f(1, 64, 112, 112), f(1, 64, 56, 56), f(1, 64, 56, 56)
    sc = np.array([1, 1, 2, 2], np.float32)
    cases = [
        ("maxpool 3x3 s2 p1, 64x112x112", "MaxPool", [x112], dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), (),
         "maxpool_f32", [x112], {"KERNEL_SHAPE": [3, 3], "STRIDES": [2, 2], "PADS": [1, 1, 1, 1]}),
        ("add 64x56x56 + 64x1x1", "Add", [x56, f(1, 64, 1, 1)], {}, (), "add_f32", None, {}),
        ("add 64x56x56 same shape", "Add", [x56, x56b], {}, (), "add_f32", None, {}),
        ("transpose NCHW->NHWC 64x56x56", "Transpose", [x56], dict(perm=[0, 2, 3, 1]), (), "transpose_any", None, {"PERM": [0, 2, 3, 1]}),
        ("resize nearest 2x 64x56x56", "Resize", [x56, None, sc], dict(mode="nearest", coordinate_transformation_mode="asymmetric",
                                                                       nearest_mode="floor"), (2,),
         "resize_f32", [x56], {"MODE": 0, "COORD_MODE": 1, "NEAREST_MODE": 2, "SCALES": [1.0, 1.0, 2.0, 2.0]}),
        ("resize linear 2x 64x56x56", "Resize", [x56, None, sc], dict(mode="linear"), (2,),
         "resize_f32", [x56], {"MODE": 1, "SCALES": [1.0, 1.0, 2.0, 2.0]}),
        ("softmax 64x1000", "Softmax", [f(64, 1000)], {}, (), "softmax_f32", None, {}),
        ("sigmoid 64x112x112", "Sigmoid", [x112], {}, (), "act_f32", None, {"ACT": g.ACT["SIGMOID"]}),
        ("concat 2x 64x56x56 axis 1", "Concat", [x56, x56b], dict(axis=1), (), "concat_any", None, {"AXIS": 1}),
        ("global avgpool 64x56x56", "GlobalAveragePool", [x56], {}, (), "global_avgpool_f32", None, {}),
    ]
    print("%-34s %12s %14s %7s" % ("kernel", "graft us", "onnxrt us", "ratio"))
    for label, op, ins, attrs, consts, kernel, kins, gattrs in cases:
        t_ort, ref = ort_time(op, ins, attrs, consts, 30)
        out = np.empty_like(ref)
        t_g = graft_time(lib, kernel, kins if kins is not None else ins, out, gattrs, 30)
        err = float(np.max(np.abs(out - ref))) if out.size else 0.0
        print("%-34s %12.1f %14.1f %7.2f   (max abs diff %.1e)" % (label, t_g * 1e6, t_ort * 1e6, t_g / t_ort, err))


if __name__ == "__main__":
    main()
