#!/usr/bin/env python3
"""Seeded random weights for ONNX's `light_*` models, and onnxruntime references for them.

The light models compute every weight as ConstantOfShape(shape, 0.02), so every output element
is equal and a wrong weight layout cannot show. This script replaces each ConstantOfShape whose
shape is a constant with an initializer of seeded random values of the same shape, scaled so the
signal neither vanishes nor explodes (He-normal over the fan-in for Conv/Gemm weights; positive
values for BatchNormalization scale and variance), then runs onnxruntime (CPU, fp32, one thread)
on the model's stored reference input and writes:

  OUT/NAME.onnx   the randomized model
  OUT/NAME.output_K.npy   onnxruntime's outputs (the reference for Graft)

usage: randomize_light.py MODELS_DIR OUT_DIR NAME [NAME ...] [--seed N]
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def randomize(model, rng):
    g = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = numpy_helper.to_array(a.t)
    consumers = {}
    for n in g.node:
        for i, name in enumerate(n.input):
            consumers.setdefault(name, []).append((n.op_type, i))
    keep, new_inits = [], []
    for n in g.node:
        if n.op_type != "ConstantOfShape" or n.input[0] not in consts:
            keep.append(n)
            continue
        shape = [int(d) for d in consts[n.input[0]].reshape(-1)]
        uses = consumers.get(n.output[0], [])
        op, idx = uses[0] if uses else ("", -1)
        if op in ("Conv", "ConvTranspose", "Gemm", "MatMul") and idx == 1 and len(shape) >= 2:
            fan_in = int(np.prod(shape[1:])) if op != "MatMul" else shape[0]
            w = rng.standard_normal(shape) * np.sqrt(2.0 / max(fan_in, 1))
        elif op == "BatchNormalization" and idx in (1, 4):
            w = rng.uniform(0.5, 1.5, shape)
        elif op == "BatchNormalization" and idx == 3:
            w = rng.standard_normal(shape) * 0.1
        else:
            w = rng.standard_normal(shape) * 0.05
        new_inits.append(numpy_helper.from_array(w.astype(np.float32), n.output[0]))
    del g.node[:]
    g.node.extend(keep)
    # Shape tensors that fed the removed ConstantOfShape nodes are now unused.
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    dead = [t for t in g.initializer if t.name not in used]
    for t in dead:
        g.initializer.remove(t)
    dead_names = {t.name for t in dead}
    for vi in [vi for vi in g.input if vi.name in dead_names]:
        g.input.remove(vi)
    # Expose the logits too: compare before the final Softmax, where errors are not squashed.
    for n in g.node:
        if n.op_type == "Softmax" and n.output[0] in {o.name for o in g.output}:
            g.output.append(onnx.helper.make_empty_tensor_value_info(n.input[0]))
            g.output[-1].type.tensor_type.elem_type = onnx.TensorProto.FLOAT
    g.initializer.extend(new_inits)
    if model.ir_version < 4:  # IR 3 lists initializers as graph inputs too
        for t in new_inits:
            g.input.append(onnx.helper.make_tensor_value_info(t.name, onnx.TensorProto.FLOAT, list(t.dims)))
    return len(new_inits)


def main(argv):
    seed = 0
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, out = argv[0], argv[1]
    os.makedirs(out, exist_ok=True)
    for name in argv[2:]:
        model = onnx.load(os.path.join(src, name + ".onnx"))
        count = randomize(model, np.random.default_rng(seed))
        path = os.path.join(out, name + ".onnx")
        onnx.save(model, path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        feeds = {}
        for k, inp in enumerate(sess.get_inputs()):
            feeds[inp.name] = np.load(os.path.join(src, f"{name}.input_{k}.npy"))
        for k, arr in enumerate(sess.run(None, feeds)):
            np.save(os.path.join(out, f"{name}.output_{k}.npy"), arr)
        print(f"{name}: {count} ConstantOfShape weights randomized")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
