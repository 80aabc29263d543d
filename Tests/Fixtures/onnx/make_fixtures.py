#!/usr/bin/env python3
"""Writes the small ONNX fixtures for Graft's ONNX import/export tests (run from anywhere:
.venv/bin/python Tests/Fixtures/onnx/make_fixtures.py). Deterministic; built with the onnx
package's own helpers, so every file is what ONNX tooling itself writes.

  dtypes_typed.onnx   one initializer per element type in the typed fields (float_data,
                      int32_data, int64_data, double_data, uint64_data), each to an output
  dtypes_raw.onnx     the same values as raw_data
  external/model.onnx weights in external/model.weights (location/offset/length)
  functions.onnx      local functions (attribute reference with a default, a function calling
                      a function, an optional input left out), as newer PyTorch exporters emit
  ir3.onnx            IR version 3: initializers also listed as graph inputs
  control_flow.onnx   If with branches reading outer-scope values
  attributes.onnx     a custom-domain op carrying every attribute kind (onnxruntime cannot
                      run it; import must keep it)
  sparse.onnx         a sparse initializer (densified at import)
Inputs follow the shared corpus convention: NAME.input_K.npy.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1234)


def save(model, name, inputs=()):
    onnx.checker.check_model(model)
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)
    for k, a in enumerate(inputs):
        np.save(path[:-5] + ".input_%d.npy" % k, a)


def dtype_values():
    f = np.random.default_rng(7).standard_normal(6).astype(np.float32)  # same values in both files
    return [
        ("f32", TensorProto.FLOAT, f),
        ("f16", TensorProto.FLOAT16, f.astype(np.float16)),
        ("bf16", TensorProto.BFLOAT16, f),  # helper rounds float32 to bfloat16
        ("f64", TensorProto.DOUBLE, f.astype(np.float64) / 3),
        ("i8", TensorProto.INT8, np.array([-128, -1, 0, 1, 7, 127], np.int8)),
        ("u8", TensorProto.UINT8, np.array([0, 1, 2, 128, 200, 255], np.uint8)),
        ("i16", TensorProto.INT16, np.array([-32768, -2, 0, 3, 1000, 32767], np.int16)),
        ("u16", TensorProto.UINT16, np.array([0, 1, 2, 40000, 50000, 65535], np.uint16)),
        ("i32", TensorProto.INT32, np.array([-2**31, -5, 0, 5, 123456, 2**31 - 1], np.int32)),
        ("i64", TensorProto.INT64, np.array([-2**63, -5, 0, 5, 2**40, 2**63 - 1], np.int64)),
        ("u32", TensorProto.UINT32, np.array([0, 1, 5, 2**31, 2**32 - 2, 2**32 - 1], np.uint32)),
        ("u64", TensorProto.UINT64, np.array([0, 1, 5, 2**63, 2**64 - 2, 2**64 - 1], np.uint64)),
        ("b", TensorProto.BOOL, np.array([True, False, True, True, False, False])),
    ]


def dtypes(raw):
    inits, nodes, outs = [], [], []
    for name, code, vals in dtype_values():
        t = helper.make_tensor("w_" + name, code, [2, 3], vals.reshape(2, 3) if code != TensorProto.BFLOAT16 else vals, raw=False)
        if raw:
            t = numpy_helper.from_array(numpy_helper.to_array(t), "w_" + name)
            if code == TensorProto.BFLOAT16:
                t = helper.make_tensor("w_" + name, code, [2, 3], numpy_helper.to_array(helper.make_tensor("t", code, [6], vals)).tobytes(), raw=True)
        inits.append(t)
        if code == TensorProto.BFLOAT16:  # onnxruntime's Python API cannot return bfloat16
            nodes.append(helper.make_node("Cast", ["w_" + name], ["y_" + name], name="cast_" + name, to=TensorProto.FLOAT))
            outs.append(helper.make_tensor_value_info("y_" + name, TensorProto.FLOAT, [2, 3]))
            continue
        nodes.append(helper.make_node("Identity", ["w_" + name], ["y_" + name], name="id_" + name))
        outs.append(helper.make_tensor_value_info("y_" + name, code, [2, 3]))
    nodes.append(helper.make_node("Relu", ["x"], ["y_x"], name="relu"))
    outs.append(helper.make_tensor_value_info("y_x", TensorProto.FLOAT, [2, 3]))
    g = helper.make_graph(nodes, "dtypes", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])], outs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8, producer_name="graft-fixtures")


def external():
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", pads=[1, 1, 1, 1])], "ext",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    os.makedirs(os.path.join(HERE, "external"), exist_ok=True)
    weights = os.path.join(HERE, "external", "model.weights")
    if os.path.exists(weights):
        os.remove(weights)  # onnx appends to an existing external data file
    onnx.checker.check_model(m)
    onnx.save_model(m, os.path.join(HERE, "external", "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.weights", size_threshold=0)
    np.save(os.path.join(HERE, "external", "model.input_0.npy"), rng.standard_normal((1, 3, 5, 5)).astype(np.float32))
    np.save(os.path.join(HERE, "external", "expected_w.npy"), w)  # not an input: the test compares bytes


def functions():
    # ScaledRelu(X; alpha=0.5) = Relu(X) * alpha, alpha by attribute reference.
    const = helper.make_node("Constant", [], ["a"], name="c")
    const.attribute.append(onnx.AttributeProto(name="value_float", ref_attr_name="alpha", type=onnx.AttributeProto.FLOAT))
    scaled = helper.make_function(
        "graft.test", "ScaledRelu", ["X"], ["Y"],
        [helper.make_node("Relu", ["X"], ["r"]), const, helper.make_node("Mul", ["r", "a"], ["Y"])],
        [helper.make_opsetid("", 17)], attributes=[], attribute_protos=[helper.make_attribute("alpha", 0.5)])
    # AddBias(X, B?) = ScaledRelu(X + B) with alpha=2, or ScaledRelu(X) when B is left out.
    addb = helper.make_function(
        "graft.test", "AddTwice", ["X", "B"], ["Y", "Z"],
        [helper.make_node("Add", ["X", "B"], ["s"]),
         helper.make_node("ScaledRelu", ["s"], ["Y"], domain="graft.test", alpha=2.0),
         helper.make_node("Add", ["Y", "B"], ["Z"])],
        [helper.make_opsetid("", 17), helper.make_opsetid("graft.test", 1)])
    # Overload "shift" of ScaledRelu: Relu(X) + 1 (same domain and name, told apart by overload).
    one = helper.make_node("Constant", [], ["one"], value_float=1.0)
    shifted = helper.make_function(
        "graft.test", "ScaledRelu", ["X"], ["Y"],
        [helper.make_node("Relu", ["X"], ["r"]), one, helper.make_node("Add", ["r", "one"], ["Y"])],
        [helper.make_opsetid("", 17)], overload="shift")
    call_shift = helper.make_node("ScaledRelu", ["y0"], ["y"], name="shift", domain="graft.test")
    call_shift.overload = "shift"
    g = helper.make_graph(
        [helper.make_node("ScaledRelu", ["x"], ["h"], name="sr", domain="graft.test"),
         helper.make_node("ScaledRelu", ["h"], ["h2"], name="sr2", domain="graft.test", alpha=3.0),
         helper.make_node("AddTwice", ["h2", "bias"], ["y0", ""], name="at", domain="graft.test"),
         call_shift],
        "functions",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "bias")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("graft.test", 1)],
                          ir_version=10, functions=[scaled, addb, shifted])
    save(m, "functions.onnx", [rng.standard_normal((2, 3)).astype(np.float32)])


def ir3():
    w = rng.standard_normal((3, 4)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "ir3",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 8)], ir_version=3)
    save(m, "ir3.onnx", [rng.standard_normal((2, 3)).astype(np.float32)])


def control_flow():
    then_g = helper.make_graph([helper.make_node("Add", ["x", "k"], ["t"], name="then_add")], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2, 3])])
    else_g = helper.make_graph([helper.make_node("Sub", ["x", "k"], ["e"], name="else_sub")], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2, 3])])
    g = helper.make_graph(
        [helper.make_node("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
         helper.make_node("Greater", ["s", "zero"], ["c"], name="gt"),
         helper.make_node("If", ["c"], ["y"], name="if", then_branch=then_g, else_branch=else_g)],
        "cf", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.array(0, np.float32), "zero"),
         numpy_helper.from_array(rng.standard_normal((2, 3)).astype(np.float32), "k")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    save(m, "control_flow.onnx", [rng.standard_normal((2, 3)).astype(np.float32)])


def attributes():
    sub = helper.make_graph([helper.make_node("Identity", ["x"], ["z"])], "sub", [],
                            [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    t = numpy_helper.from_array(np.arange(6, dtype=np.int64).reshape(2, 3), "t")
    sp = helper.make_sparse_tensor(numpy_helper.from_array(np.array([1.5, 2.5], np.float32), "sv"),
                                   numpy_helper.from_array(np.array([1, 4], np.int64), "si"), [2, 3])
    tp = helper.make_tensor_type_proto(TensorProto.FLOAT, [2, "N"])
    node = helper.make_node("AllKinds", ["x"], ["y"], name="all", domain="com.example.graft")
    node.attribute.extend([
        helper.make_attribute("f", 0.25), helper.make_attribute("i", -7), helper.make_attribute("s", b"bytes\x00\xff"),
        helper.make_attribute("t", t), helper.make_attribute("g", sub),
        helper.make_attribute("floats", [1.0, -2.5]), helper.make_attribute("ints", [3, -4, 5]),
        helper.make_attribute("strings", [b"a", b"bc"]), helper.make_attribute("tensors", [t, t]),
        helper.make_attribute("graphs", [sub]), helper.make_attribute("sparse", sp),
        helper.make_attribute("sparses", [sp, sp]), helper.make_attribute("tp", tp),
        helper.make_attribute("tps", [tp, tp]),
        helper.make_attribute("empty_ints", [], attr_type=onnx.AttributeProto.INTS),
    ])
    g = helper.make_graph([node, helper.make_node("Relu", ["y"], ["out"], name="relu")], "attrs",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example.graft", 1)],
                          ir_version=8)
    m.metadata_props.extend([onnx.StringStringEntryProto(key="author", value="graft tests")])
    path = os.path.join(HERE, "attributes.onnx")
    onnx.save(m, path)  # the checker rejects the unregistered op; that is the point
    np.save(path[:-5] + ".input_0.npy", rng.standard_normal((2, 3)).astype(np.float32))


def sparse():
    sp = helper.make_sparse_tensor(numpy_helper.from_array(np.array([1.5, -2.0, 3.25], np.float32), "w"),
                                   numpy_helper.from_array(np.array([[0, 1], [1, 0], [1, 2]], np.int64), "w_idx"), [2, 3])
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")], "sparse",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    g.sparse_initializer.extend([sp])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    save(m, "sparse.onnx", [rng.standard_normal((2, 3)).astype(np.float32)])


if __name__ == "__main__":
    x = rng.standard_normal((2, 3)).astype(np.float32)
    save(dtypes(raw=False), "dtypes_typed.onnx", [x])
    save(dtypes(raw=True), "dtypes_raw.onnx", [x])
    external()
    functions()
    ir3()
    control_flow()
    attributes()
    sparse()
    print("fixtures written to " + HERE)
