#!/usr/bin/env python3
"""Writes runtime/tests/vectors/onnx_nodes.bin: ONNX's own node test cases (the generators
shipped in the onnx wheel, reference outputs from ONNX's numpy implementations) translated into
Graft kernel calls, in the format of gen_kernel_vectors.py. Cases whose op form has no Graft
kernel (other dtypes, extra outputs, unsupported attributes) are skipped and counted.
Run from the repository root: .venv/bin/python runtime/tests/gen_onnx_node_vectors.py"""
import collections
import math
import os
import struct
import sys
import warnings

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_kernel_vectors as g  # noqa: E402  (shared encoder, attribute ids)

warnings.filterwarnings("ignore")
from onnx.backend.test.case.node import collect_testcases  # noqa: E402

ACT_OPS = {"Relu": "RELU", "LeakyRelu": "LEAKY_RELU", "HardSigmoid": "HARD_SIGMOID", "HardSwish": "HARD_SWISH",
           "Sigmoid": "SIGMOID", "Tanh": "TANH", "Elu": "ELU", "Selu": "SELU", "Softplus": "SOFTPLUS",
           "Softsign": "SOFTSIGN", "Gelu": "GELU"}
UNARY = {"Erf": "erf", "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Neg": "neg", "Abs": "abs", "Reciprocal": "reciprocal",
         "Floor": "floor", "Ceil": "ceil", "Round": "round", "Sin": "sin", "Cos": "cos", "Sign": "sign"}
BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow", "Equal": "equal", "Less": "less",
          "Greater": "greater", "LessOrEqual": "less_equal", "GreaterOrEqual": "greater_equal", "Mod": "mod"}
I64_BINARY = {"Add": "add_i64", "Sub": "sub_i64", "Mul": "mul_i64", "Div": "div_i64", "Equal": "equal_i64",
              "Less": "less_i64", "Greater": "greater_i64"}
BOOL_BINARY = {"And": "and_bool", "Or": "or_bool", "Xor": "xor_bool"}
VARIADIC = {"Max": "max", "Min": "min", "Sum": "sum", "Mean": "mean"}
REDUCE = {"ReduceMean": "reduce_mean", "ReduceSum": "reduce_sum", "ReduceMax": "reduce_max", "ReduceMin": "reduce_min",
          "ReduceL2": "reduce_l2", "ReduceProd": "reduce_prod", "ReduceL1": "reduce_l1", "ReduceSumSquare": "reduce_sumsq",
          "ReduceLogSumExp": "reduce_logsumexp"}
MOVE = {"Concat": "concat_any", "Transpose": "transpose_any", "Gather": "gather_any", "GatherElements": "gather_elements_any",
        "Tile": "tile_any", "Expand": "expand_any", "Where": "where_any", "DepthToSpace": "depth_to_space_any",
        "SpaceToDepth": "space_to_depth_any", "Cast": "cast_any", "Slice": "slice_any", "Pad": "pad_any", "Split": "split_any",
        "Identity": "copy_any", "Reshape": "copy_any", "Flatten": "copy_any", "Squeeze": "copy_any", "Unsqueeze": "copy_any"}
skipped = collections.Counter()
MAX_CASE_BYTES = 12000  # keeps the committed vector file small


class Skip(Exception):
    pass


def attrs_of(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def f32(a):
    return isinstance(a, np.ndarray) and a.dtype == np.float32


def resolve_pool_pads(a, x):
    sp = x.ndim - 2
    k = a["kernel_shape"]
    s = a.get("strides", [1] * sp)
    d = a.get("dilations", [1] * sp)
    ap = a.get("auto_pad", b"NOTSET")
    ap = ap.decode() if isinstance(ap, bytes) else ap
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


def translate(op, node, ins, outs):
    """(kernel, inputs, graft attrs, outputs) for one data set, or raises Skip(reason)."""
    a = attrs_of(node)
    x = ins[0] if ins else None
    if op in ACT_OPS or op == "Clip":
        if len(ins) < 1 or not f32(x):
            raise Skip("dtype")
        kind = "CLIP" if op == "Clip" else ACT_OPS[op]
        if op == "Gelu" and a.get("approximate", b"none") in (b"tanh", "tanh"):
            kind = "GELU_TANH"
        ga = {"ACT": g.ACT[kind]}
        if op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else None
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else None
            ga["ACT_ALPHA"] = float(lo) if lo is not None else -math.inf
            ga["ACT_BETA"] = float(hi) if hi is not None else math.inf
        if "alpha" in a:
            ga["ACT_ALPHA"] = float(a["alpha"])
        if "beta" in a:
            ga["ACT_BETA"] = float(a["beta"])
        if op == "Selu" and "gamma" in a:
            ga["ACT_BETA"] = float(a["gamma"])
        return "act_f32", [x], ga, outs
    if op == "PRelu":
        return "prelu_f32", ins, {}, outs
    if op in ("Softmax", "LogSoftmax"):
        return ("softmax_f32" if op == "Softmax" else "log_softmax_f32"), [x], {"AXIS": a.get("axis", -1)}, outs
    if op in UNARY:
        if not f32(x):
            raise Skip("dtype")
        return UNARY[op] + "_f32", [x], {}, outs
    if op == "Not":
        return "not_bool", [x], {}, outs
    if op in BINARY and f32(x):
        if not all(f32(v) for v in ins):
            raise Skip("mixed dtypes")
        if op == "Mod" and not a.get("fmod", 0):
            raise Skip("integer mod")
        return BINARY[op] + "_f32", ins, {}, outs
    if op in I64_BINARY and x.dtype == np.int64:
        return I64_BINARY[op], ins, {}, outs
    if op in BOOL_BINARY:
        return BOOL_BINARY[op], ins, {}, outs
    if op in VARIADIC:
        if f32(x):
            return VARIADIC[op] + "_f32", ins, {}, outs
        if x.dtype == np.int64 and op in ("Max", "Min"):
            return VARIADIC[op] + "_i64", ins, {}, outs
        raise Skip("dtype")
    if op in REDUCE:
        if not f32(x):
            raise Skip("dtype")
        axes = list(ins[1]) if len(ins) > 1 and ins[1] is not None else list(a.get("axes", []))
        ga = {"KEEPDIMS": a.get("keepdims", 1), "NOOP_WITH_EMPTY_AXES": a.get("noop_with_empty_axes", 0)}
        if axes:
            ga["AXES"] = [int(v) for v in axes]
        return REDUCE[op] + "_f32", [x], ga, outs
    if op in ("ArgMax", "ArgMin"):
        if not f32(x):
            raise Skip("dtype")
        return op.lower() + "_f32", [x], {"AXIS": a.get("axis", 0), "KEEPDIMS": a.get("keepdims", 1),
                                          "SELECT_LAST_INDEX": a.get("select_last_index", 0)}, outs
    if op in ("MaxPool", "AveragePool", "LpPool"):
        if not f32(x):
            raise Skip("dtype")
        if len(outs) > 1:
            raise Skip("indices output")
        ga = {"KERNEL_SHAPE": list(a["kernel_shape"]), "PADS": resolve_pool_pads(a, x)}
        for k, key in [("strides", "STRIDES"), ("dilations", "DILATIONS")]:
            if k in a:
                ga[key] = list(a[k])
        ga["CEIL_MODE"] = a.get("ceil_mode", 0)
        if op == "AveragePool":
            ga["COUNT_INCLUDE_PAD"] = a.get("count_include_pad", 0)
        if op == "LpPool":
            ga["P"] = float(a.get("p", 2))
        kern = {"MaxPool": "maxpool_f32", "AveragePool": "avgpool_f32", "LpPool": "lppool_f32"}[op]
        return kern, [x], ga, outs
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        return ("global_avgpool_f32" if op == "GlobalAveragePool" else "global_maxpool_f32"), [x], {}, outs
    if op == "BatchNormalization":
        if len(outs) > 1 or a.get("training_mode", 0):
            raise Skip("training mode")
        return "batchnorm_f32", ins, {"EPSILON": float(a.get("epsilon", 1e-5))}, outs
    if op == "InstanceNormalization":
        return "instancenorm_f32", ins, {"EPSILON": float(a.get("epsilon", 1e-5))}, outs
    if op == "LayerNormalization":
        if len(outs) > 1:
            raise Skip("mean/invstd outputs")
        return "layernorm_f32", ins, {"AXIS": a.get("axis", -1), "EPSILON": float(a.get("epsilon", 1e-5))}, outs
    if op == "LRN":
        return "lrn_f32", [x], {"SIZE": a["size"], "ALPHA": float(a.get("alpha", 1e-4)), "BETA": float(a.get("beta", 0.75)),
                                "BIAS": float(a.get("bias", 1.0))}, outs
    if op in MOVE:
        return translate_move(op, a, ins, outs)
    if op == "Resize":
        return translate_resize(a, ins, outs)
    if op in ("LSTM", "GRU"):
        return translate_rnn(op, a, ins, outs)
    raise Skip("no kernel")


def translate_move(op, a, ins, outs):
    x = ins[0]
    k = MOVE[op]
    if op == "Concat":
        return k, ins, {"AXIS": a["axis"] if a["axis"] >= 0 else a["axis"] + x.ndim}, outs
    if op == "Transpose":
        return k, [x], ({"PERM": list(a["perm"])} if "perm" in a else {}), outs
    if op in ("Gather", "GatherElements"):
        return k, ins, {"AXIS": a.get("axis", 0)}, outs
    if op == "Tile":
        return k, [x], {"REPEATS": [int(v) for v in ins[1]]}, outs
    if op == "Expand":
        return k, [x], {}, outs
    if op == "Where":
        return k, ins, {}, outs
    if op in ("DepthToSpace", "SpaceToDepth"):
        mode = a.get("mode", b"DCR")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        return k, [x], {"BLOCK_SIZE": a["blocksize"], "MODE": 1 if mode == "CRD" else 0}, outs
    if op == "Cast":
        if a.get("saturate", 1) == 0 or outs[0].dtype.kind in "USO" or x.dtype.kind in "USO":
            raise Skip("string or saturate")
        return k, [x], {"TO": a["to"]}, outs
    if op == "Slice":
        starts, ends = [int(v) for v in ins[1]], [int(v) for v in ins[2]]
        ga = {"STARTS": starts, "ENDS": ends}
        if len(ins) > 3 and ins[3] is not None:
            ga["AXES"] = [int(v) for v in ins[3]]
        if len(ins) > 4 and ins[4] is not None:
            ga["STEPS"] = [int(v) for v in ins[4]]
        return k, [x], ga, outs
    if op == "Pad":
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        pads = [int(v) for v in ins[1]]
        if len(ins) > 3 and ins[3] is not None:  # axes: expand to all dims
            axes = [int(v) % x.ndim for v in ins[3]]
            full = [0] * (2 * x.ndim)
            for j, ax in enumerate(axes):
                full[ax], full[ax + x.ndim] = pads[j], pads[j + len(axes)]
            pads = full
        val = float(ins[2]) if len(ins) > 2 and ins[2] is not None and ins[2].size else 0.0
        return k, [x], {"PADS": pads, "MODE": ["constant", "reflect", "edge", "wrap"].index(mode), "VALUE": val}, outs
    if op == "Split":
        return k, [x], {"AXIS": a.get("axis", 0)}, outs
    return "copy_any", [x], {}, outs  # reshape family


COORD = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_half_pixel_for_nn", "half_pixel_symmetric",
         "tf_crop_and_resize"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


def s(v, d):
    v = v if v is not None else d
    return v.decode() if isinstance(v, bytes) else v


def translate_resize(a, ins, outs):
    x = ins[0]
    if a.get("antialias", 0):
        raise Skip("antialias")
    if s(a.get("keep_aspect_ratio_policy"), "stretch") != "stretch":
        raise Skip("keep_aspect_ratio_policy")
    coord = s(a.get("coordinate_transformation_mode"), "half_pixel")
    roi = ins[1] if len(ins) > 1 and ins[1] is not None and ins[1].size else None
    if coord == "tf_crop_and_resize" and roi is not None:
        n = roi.size // 2
        if not (np.all(roi[:n] == 0) and np.all(roi[n:] == 1)):
            raise Skip("roi")
    axes = list(a.get("axes", range(x.ndim)))
    axes = [v % x.ndim for v in axes]
    scales = [1.0] * x.ndim
    y = outs[0]
    if len(ins) > 2 and ins[2] is not None and ins[2].size:
        for j, ax in enumerate(axes):
            scales[ax] = float(ins[2][j])
    else:
        for ax in axes:
            scales[ax] = float(np.float32(y.shape[ax]) / np.float32(x.shape[ax]))
    mode = s(a.get("mode"), "nearest")
    if coord == "align_corners" and len(ins) > 2 and ins[2] is not None and ins[2].size and \
            any(abs(x.shape[ax] * scales[ax] - y.shape[ax]) > 1e-6 for ax in range(x.ndim)):
        # ONNX's reference divides by the fractional resized length (in * scale - 1), onnxruntime by
        # the integer output length; Graft follows onnxruntime (its vectors test that)
        raise Skip("align_corners with fractional scale (onnxruntime differs from ONNX reference)")
    ga = {"MODE": ["nearest", "linear", "cubic"].index(mode), "COORD_MODE": COORD.index(coord),
          "NEAREST_MODE": NEAREST.index(s(a.get("nearest_mode"), "round_prefer_floor")),
          "CUBIC_COEFF_A": float(a.get("cubic_coeff_a", -0.75)), "EXCLUDE_OUTSIDE": a.get("exclude_outside", 0),
          "EXTRAPOLATION_VALUE": float(a.get("extrapolation_value", 0.0)), "SCALES": scales}
    return "resize_f32", [x], ga, outs


ACTS = {"Sigmoid": "SIGMOID", "Tanh": "TANH", "Relu": "RELU", "LeakyRelu": "LEAKY_RELU", "HardSigmoid": "HARD_SIGMOID",
        "Affine": "AFFINE", "Elu": "ELU", "Softsign": "SOFTSIGN", "Softplus": "SOFTPLUS"}


def translate_rnn(op, a, ins, outs):
    if a.get("layout", 0):
        raise Skip("layout 1")
    ga = {"HIDDEN_SIZE": a["hidden_size"], "DIRECTION": ["forward", "reverse", "bidirectional"].index(s(a.get("direction"), "forward"))}
    if "clip" in a:
        ga["CLIP"] = float(a["clip"])
    if op == "LSTM" and a.get("input_forget", 0):
        ga["INPUT_FORGET"] = 1
    if op == "GRU":
        ga["LINEAR_BEFORE_RESET"] = a.get("linear_before_reset", 0)
    if "activations" in a:
        ga["ACTIVATIONS"] = [g.ACT[ACTS[s(v, "")]] for v in a["activations"]]
    if "activation_alpha" in a or "activation_beta" in a:
        raise Skip("activation parameters")
    return op.lower() + "_f32", ins, ga, outs


def main():
    cases = collect_testcases(None)
    n_ok = 0
    for tc in cases:
        if len(tc.model.graph.node) != 1:
            skipped["not one node"] += 1
            continue
        node = tc.model.graph.node[0]
        op = node.op_type
        graph_inputs = [vi.name for vi in tc.model.graph.input]
        inits = {t.name: numpy_helper.to_array(t) for t in tc.model.graph.initializer}
        for ds_i, (inputs, outputs) in enumerate(tc.data_sets):
            feed = dict(zip(graph_inputs, inputs))
            feed.update(inits)
            if any(not isinstance(v, np.ndarray) for v in list(feed.values()) + list(outputs)):
                skipped["non-tensor values"] += 1
                continue
            ins = [feed.get(n) if n else None for n in node.input]
            it = iter(outputs)  # graph outputs are the node's named outputs, in order
            outs = [next(it) if n else None for n in node.output]
            try:
                if any(v is not None and v.dtype == np.dtype("O") for v in ins + outs):
                    raise Skip("object dtype")
                kernel, kin, ga, kout = translate(op, node, ins, outs)
            except Skip as e:
                skipped["%s: %s" % (op, e)] += 1
                continue
            except Exception as e:  # translation gap, not a kernel failure
                skipped["%s: %s" % (op, type(e).__name__)] += 1
                continue
            kin = [g.Raw(16, v.shape, v.view(np.uint16).tobytes()) if v is not None and v.dtype.name == "bfloat16" else v for v in kin]
            kout = [g.Raw(16, v.shape, v.view(np.uint16).tobytes()) if v is not None and v.dtype.name == "bfloat16" else v for v in kout]
            if any(v is not None and not isinstance(v, g.Raw) and v.dtype.name not in
                   ("float32", "float64", "float16", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "bool")
                   for v in kin + kout):
                skipped["%s: dtype" % op] += 1
                continue
            size = sum(v.nbytes for v in kin + kout if isinstance(v, np.ndarray))
            if size > MAX_CASE_BYTES:
                skipped["%s: over %d bytes" % (op, MAX_CASE_BYTES)] += 1
                continue
            rtol = max(float(tc.rtol), 1e-5)
            atol = max(float(tc.atol), 1e-6)
            g.add("%s[%d]" % (tc.name, ds_i), kernel, kin, kout, ga, rtol=rtol, atol=atol)
            n_ok += 1
    out = os.path.join(g.ROOT, "runtime/tests/vectors/onnx_nodes.bin")
    with open(out, "wb") as f:
        f.write(b"GKV1" + struct.pack("<i", len(g.cases)) + b"".join(g.cases))
    print("%s: %d cases, %d bytes" % (out, n_ok, os.path.getsize(out)))
    for k, v in sorted(skipped.items()):
        print("  skipped %-50s %d" % (k, v))


if __name__ == "__main__":
    main()
