#!/usr/bin/env python3
"""ONNX conformance for Graft: ONNX's own backend node test cases, plus its pytorch-converted
and pytorch-operator sets, run through `graft compile` + `graft run`, compared at each case's
own tolerance (the onnx backend runner's rule: |actual - expected| <= atol + rtol * |expected|,
NaN where expected is NaN, same shape and dtype).

A case is *claimed* when every node in it (subgraphs included) is in the ai.onnx domain and its
op is in `graft ops` (the claimed list) for the element type of the node's data input (input 0;
Where: input 1; Cast: input and target type), and every graph input and output is a tensor. Claimed cases must pass, except those
listed in scripts/conformance_known_failures.txt with a reason; a listed case that passes is
also reported (so the list only shrinks). Prints the claimed list and `N passed, N failed`.

Exit status: 0 if every claimed case passed or is a listed known failure and the pass rate of
claimed cases is >= 95 %; 1 otherwise. The expected outputs come from the onnx package (numpy
reference implementations and PyTorch exports), never from Graft.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as e:  # the test must fail loudly, never skip
    print(f"conformance: cannot import the reference packages ({e}); run scripts/setup.sh", file=sys.stderr)
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN = os.path.join(HERE, "conformance_known_failures.txt")


def ops_of_graph(g, out):
    for n in g.node:
        out.add((n.domain or "", n.op_type))
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                ops_of_graph(a.g, out)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for sg in a.graphs:
                    ops_of_graph(sg, out)
    return out


TYPE_NAMES = {v: k.lower() for k, v in onnx.TensorProto.DataType.items()}


def claimed_case(model, claimed):
    """True when every node's (op, data dtype) is claimed; see the module docstring."""
    for vi in list(model.graph.input) + list(model.graph.output):
        if not vi.type.HasField("tensor_type"):
            return False
    if model.functions:
        return False
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:
        return False
    types = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        if vi.type.HasField("tensor_type"):
            types[vi.name] = TYPE_NAMES.get(vi.type.tensor_type.elem_type, "?")
    for t in inferred.graph.initializer:
        types[t.name] = TYPE_NAMES.get(t.data_type, "?")

    def ok_graph(g):
        for n in g.node:
            if n.domain not in ("", "ai.onnx") or n.op_type not in claimed:
                return False
            allowed = claimed[n.op_type]
            data = n.input[1] if n.op_type == "Where" and len(n.input) > 1 else (n.input[0] if n.input else "")
            dts = [types.get(data, "?")] if data else []
            if n.op_type == "Cast":
                to = next((a.i for a in n.attribute if a.name == "to"), 0)
                dts.append(TYPE_NAMES.get(to, "?"))
            for dt in dts:
                if "any" in allowed:
                    if dt in ("string", "?", "undefined") or dt.startswith("float8") or dt in ("int4", "uint4", "float4e2m1", "complex64", "complex128"):
                        return False
                elif dt not in allowed:
                    return False
            for a in n.attribute:
                if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                    return False
        return True

    return ok_graph(inferred.graph)


def model_ops(model):
    ops = ops_of_graph(model.graph, set())
    local = {(f.domain, f.name) for f in model.functions}
    for f in model.functions:
        for n in f.node:
            ops.add((n.domain or "", n.op_type))
    return {o for o in ops if o not in local}


def load_cases(selected):
    """Yields (suite, name, model, [(inputs, outputs)], rtol, atol)."""
    import warnings
    warnings.filterwarnings("ignore")
    from onnx.backend.test.case.node import collect_testcases

    for c in collect_testcases(None):
        if selected and not selected.search(c.name):
            continue
        yield ("node", c.name, c.model, c.data_sets, c.rtol, c.atol)
    base = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    for suite in ("pytorch-converted", "pytorch-operator"):
        for d in sorted(glob.glob(os.path.join(base, suite, "*"))):
            name = os.path.basename(d)
            if selected and not selected.search(name):
                continue
            model = onnx.load(os.path.join(d, "model.onnx"))
            sets = []
            for ds in sorted(glob.glob(os.path.join(d, "test_data_set_*"))):
                def read(prefix):
                    files = sorted(glob.glob(os.path.join(ds, prefix + "_*.pb")),
                                   key=lambda p: int(re.findall(r"_(\d+)\.pb$", p)[0]))
                    arrs = []
                    for f in files:
                        t = onnx.TensorProto()
                        with open(f, "rb") as fh:
                            t.ParseFromString(fh.read())
                        arrs.append(numpy_helper.to_array(t))
                    return arrs
                sets.append((read("input"), read("output")))
            yield (suite, name, model, sets, 1e-3, 1e-7)


# Inputs that fix shapes or compile-time parameters (input index >= 1 of these ops) are bound
# with `graft compile --bind`: a static-shape compiler resolves them at compile time, as a
# deployment would. Data inputs are always fed at run time.
PARAM_INPUTS = {
    "Reshape": {1}, "Expand": {1}, "Tile": {1}, "Squeeze": {1}, "Unsqueeze": {1}, "Split": {1},
    "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Resize": {1, 2, 3}, "Upsample": {1},
    "ReduceMean": {1}, "ReduceSum": {1}, "ReduceMax": {1}, "ReduceMin": {1}, "ReduceProd": {1},
    "ReduceL1": {1}, "ReduceL2": {1}, "ReduceLogSumExp": {1}, "ReduceSumSquare": {1},
    "Clip": {1, 2}, "ConstantOfShape": {0}, "Range": {0, 1, 2}, "CenterCropPad": {1}, "TopK": {1},
}


INDEX_INPUTS = {"Gather": {1}, "GatherElements": {1}, "GatherND": {1}, "ScatterElements": {1}}


def param_inputs(model):
    """Graph inputs bound at compile time: the PARAM_INPUTS positions, and every integer graph
    input that no node reads as data (input 0) or as gather indices (shape arithmetic, as in
    the *_expanded function tests)."""
    names = set()
    data_use = set()
    for n in model.graph.node:
        for i in PARAM_INPUTS.get(n.op_type, ()):
            if i < len(n.input) and n.input[i]:
                names.add(n.input[i])
        if n.input:
            data_use.add(n.input[0])
        for i in INDEX_INPUTS.get(n.op_type, ()):
            if i < len(n.input):
                data_use.add(n.input[i])
    ints = (onnx.TensorProto.INT64, onnx.TensorProto.INT32)
    for vi in model.graph.input:
        if vi.type.tensor_type.elem_type in ints and vi.name not in data_use:
            names.add(vi.name)
    return names


def run_case(graft, model, data_sets, rtol, atol, workdir):
    mpath = os.path.join(workdir, "model.onnx")
    onnx.save(model, mpath)
    init_names = {i.name for i in model.graph.initializer}
    in_names = [i.name for i in model.graph.input if i.name not in init_names]
    out_names = [o.name for o in model.graph.output]
    for k, (inputs, expected) in enumerate(data_sets):
        args = []
        shapes = []
        params = param_inputs(model)
        for i, (name, arr) in enumerate(zip(in_names, inputs)):
            p = os.path.join(workdir, f"in{k}_{i}.npy")
            np.save(p, arr)
            if name in params:
                shapes += ["--bind", f"{name}={p}"]
                continue
            args += ["--input", f"{name}={p}"]
            if arr.ndim:
                shapes += ["--input-shape", f"{name}=" + "x".join(str(d) for d in arr.shape)]
        apath = os.path.join(workdir, f"m{k}.graft")
        r = subprocess.run([graft, "compile", mpath, "-o", apath] + shapes,
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return f"compile exit {r.returncode}: {(r.stderr or r.stdout).strip().splitlines()[:1]}"
        odir = os.path.join(workdir, f"out{k}")
        r = subprocess.run([graft, "run", apath, "--output-dir", odir] + args,
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return f"run exit {r.returncode}: {(r.stderr or r.stdout).strip().splitlines()[:1]}"
        for j, (name, exp) in enumerate(zip(out_names, expected)):
            exp = np.asarray(exp)
            path = os.path.join(odir, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".npy")
            if not os.path.exists(path):
                path = None
            if path is None:
                return f"output '{name}' not written"
            act = np.load(path)
            if act.shape != exp.shape:
                return f"output '{name}': shape {act.shape} != expected {exp.shape}"
            if act.dtype != exp.dtype:
                return f"output '{name}': dtype {act.dtype} != expected {exp.dtype}"
            if exp.dtype.kind in "fc":
                nan_ok = np.isnan(exp) == np.isnan(act)
                if not nan_ok.all():
                    return f"output '{name}': NaN positions differ"
                diff = np.abs(act.astype(np.float64) - exp.astype(np.float64))
                tol = atol + rtol * np.abs(exp.astype(np.float64))
                bad = (diff > tol) & ~np.isnan(exp)
                inf_bad = np.isinf(exp) & (act != exp)
                if bad.any() or inf_bad.any():
                    return f"output '{name}': max abs err {np.nanmax(np.where(np.isinf(diff), 0, diff)):.3g} over tolerance (rtol {rtol}, atol {atol})"
            elif not np.array_equal(act, exp):
                return f"output '{name}': values differ"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--graft", default=".build/release/graft")
    ap.add_argument("--filter", help="regex on case names")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--write-known", action="store_true",
                    help="print failing claimed cases in the known-failures format and exit")
    a = ap.parse_args()
    if not os.path.exists(a.graft):
        print(f"conformance: {a.graft} not found; build it first", file=sys.stderr)
        return 1
    r = subprocess.run([a.graft, "ops"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"conformance: 'graft ops' failed: {r.stderr.strip()}", file=sys.stderr)
        return 1
    claimed = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if parts:
            claimed[parts[0]] = parts[1:]
    known = {}
    if os.path.exists(KNOWN):
        for line in open(KNOWN):
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, why = line.partition(" ")
                known[name] = why.strip()
    print(f"claimed ops ({len(claimed)}): " + " ".join(f"{k}({','.join(v)})" for k, v in sorted(claimed.items())))
    selected = re.compile(a.filter) if a.filter else None
    passed, failed, expected_fail, unclaimed = [], [], [], 0
    newly_passing = []
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="graft-conf-") as tmp:
        for suite, name, model, sets, rtol, atol in load_cases(selected):
            if not claimed_case(model, claimed) or any(not isinstance(x, np.ndarray) for ds in sets for part in ds for x in part):
                unclaimed += 1
                continue
            wd = os.path.join(tmp, name)
            os.makedirs(wd, exist_ok=True)
            try:
                err = run_case(a.graft, model, sets, rtol, atol, wd)
            except subprocess.TimeoutExpired:
                err = "timed out"
            key = f"{suite}/{name}"
            if err is None:
                passed.append(key)
                if key in known:
                    newly_passing.append(key)
            elif key in known:
                expected_fail.append((key, err))
            else:
                failed.append((key, err))
            if a.verbose or (err and key not in known):
                print(f"{'PASS' if err is None else 'FAIL'} {key}" + (f": {err}" if err else ""))
    claimed_total = len(passed) + len(failed) + len(expected_fail)
    if a.write_known:
        for k, e in failed + expected_fail:
            print(f"{k} {e}")
        return 0
    for k, e in expected_fail:
        if a.verbose:
            print(f"KNOWN {k}: {e}  (listed: {known[k]})")
    for k in newly_passing:
        print(f"NOW PASSING {k}: remove it from {os.path.basename(KNOWN)}")
    rate = 100.0 * len(passed) / claimed_total if claimed_total else 0.0
    print(f"conformance: {claimed_total} claimed cases ({unclaimed} unclaimed), "
          f"{len(passed)} pass ({rate:.1f} %), {len(expected_fail)} known failures, "
          f"{len(failed)} new failures, {time.time() - t0:.0f} s")
    print(f"{len(passed)} passed, {len(failed) + len(expected_fail)} failed")
    ok = not failed and not newly_passing and rate >= 95.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
