#!/usr/bin/env python3
"""onnxruntime helper for Graft's ONNX tests (reference checks only; never part of the product).

  ort_run.py run MODEL OUTDIR INPUT.npy...   run MODEL on the inputs (graph order), write
                                            OUTDIR/output_K.npy
  ort_run.py compare MANIFEST.json          for each entry {name, original, exported, inputs,
                                            structure (optional, default true)}:
      1. both models load in onnxruntime or both fail (an opset ORT no longer implements);
      2. when they load, the outputs are equal bit for bit (same session options);
      3. the two ModelProtos agree structurally: ir_version, opset imports, graph inputs,
         outputs, initializers (dtype, dims, bytes), nodes (op, domain, names, inputs,
         outputs, attributes with tensors compared by bytes), recursively for subgraphs
         (skipped for entries with "structure": false: inlined functions, sparse initializers);
      4. onnx.checker accepts the exported model whenever it accepts the original.
    Prints one line per model and a summary; exit 1 on any mismatch.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def run(path, inputs):
    s = session(path)
    feeds = {i.name: a for i, a in zip(s.get_inputs(), inputs)}
    return s.run(None, feeds)


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == object:
        return list(a.ravel()) == list(b.ravel())
    return a.tobytes() == b.tobytes()


def tensor_key(t):
    arr = numpy_helper.to_array(t)
    return (t.data_type, tuple(t.dims), arr.tobytes() if arr.dtype != object else tuple(arr.ravel()))


def type_key(tp):
    if not tp.HasField("tensor_type"):
        return ("other", tp.WhichOneof("value"))
    tt = tp.tensor_type
    if not tt.HasField("shape"):
        return (tt.elem_type, None)
    dims = []
    for d in tt.shape.dim:
        if d.HasField("dim_value") and d.dim_value >= 0:
            dims.append(d.dim_value)
        elif d.HasField("dim_param") and d.dim_param:
            dims.append(d.dim_param)
        else:
            dims.append(None)  # unknown: no value, empty param or -1
    return (tt.elem_type, tuple(dims))


def attr_key(a):
    v = onnx.helper.get_attribute_value(a)
    if a.type == onnx.AttributeProto.TENSOR:
        v = tensor_key(v)
    elif a.type == onnx.AttributeProto.TENSORS:
        v = tuple(tensor_key(t) for t in v)
    elif a.type == onnx.AttributeProto.GRAPH:
        v = graph_key(v)
    elif a.type == onnx.AttributeProto.GRAPHS:
        v = tuple(graph_key(g) for g in v)
    elif a.type in (onnx.AttributeProto.FLOAT,):
        v = np.float32(v).tobytes()
    elif a.type in (onnx.AttributeProto.FLOATS,):
        v = np.asarray(v, dtype=np.float32).tobytes()
    elif isinstance(v, list):
        v = tuple(v)
    elif hasattr(v, "SerializeToString"):
        v = v.SerializeToString()
    return (a.name, a.type, v)


def graph_key(g):
    return {
        "inputs": [(i.name, type_key(i.type)) for i in g.input],
        "outputs": [(o.name, type_key(o.type)) for o in g.output],
        "initializers": sorted((t.name, tensor_key(t)) for t in g.initializer),
        "nodes": [(n.op_type, n.domain, n.name, tuple(n.input), tuple(n.output), tuple(attr_key(a) for a in n.attribute))
                  for n in g.node],
        "value_info": sorted((v.name, type_key(v.type)) for v in g.value_info if v.type.HasField("tensor_type")),
    }


def model_key(m):
    return {"ir_version": m.ir_version,
            "opsets": sorted((o.domain or "ai.onnx", o.version) for o in m.opset_import),
            "graph": graph_key(m.graph),
            "metadata": [(p.key, p.value) for p in m.metadata_props],
            "producer": (m.producer_name, m.producer_version)}


def first_difference(a, b, path="model"):
    if type(a) != type(b):
        return path
    if isinstance(a, dict):
        for k in a:
            d = first_difference(a[k], b.get(k), path + "." + k)
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return "%s (length %d vs %d)" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else path


def checker_ok(m):
    try:
        onnx.checker.check_model(m)
        return True
    except Exception:
        return False


def compare(manifest):
    entries = json.load(open(manifest))
    failures = 0
    ran = loaded_fail = 0
    for e in entries:
        name = e["name"]
        try:
            mo, me = onnx.load(e["original"]), onnx.load(e["exported"])
            diff = first_difference(model_key(mo), model_key(me)) if e.get("structure", True) else None
            if diff:
                raise AssertionError("structure differs at " + diff)
            if checker_ok(mo) and not checker_ok(me):
                raise AssertionError("onnx.checker rejects the exported model but accepts the original")
            inputs = [np.load(p, allow_pickle=False) for p in e["inputs"]]
            try:
                ref = run(e["original"], inputs)
            except Exception as err:  # ORT cannot load the original (e.g. opset 6 kernels gone)
                try:
                    run(e["exported"], inputs)
                except Exception:
                    loaded_fail += 1
                    print("ok   %s: structure equal; both fail in onnxruntime (%s)" % (name, str(err).splitlines()[0][:80]))
                    continue
                raise AssertionError("original fails in onnxruntime but exported runs")
            got = run(e["exported"], inputs)
            if len(ref) != len(got):
                raise AssertionError("%d outputs vs %d" % (len(ref), len(got)))
            for k, (a, b) in enumerate(zip(ref, got)):
                if not same_bits(a, b):
                    raise AssertionError("output %d differs (max abs %g)" % (k, float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))))
            ran += 1
            print("ok   %s: %d outputs bit-identical" % (name, len(ref)))
        except Exception as err:
            failures += 1
            print("FAIL %s: %s" % (name, err))
    print("summary: %d models, %d bit-identical in onnxruntime, %d structure-only (onnxruntime cannot run the original), %d failed"
          % (len(entries), ran, loaded_fail, failures))
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "compare":
        return compare(argv[2])
    if len(argv) >= 4 and argv[1] == "run":
        import os
        outs = run(argv[2], [np.load(p, allow_pickle=False) for p in argv[4:]])
        os.makedirs(argv[3], exist_ok=True)
        for k, o in enumerate(outs):
            np.save(os.path.join(argv[3], "output_%d.npy" % k), o)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
