#!/usr/bin/env python3
"""ONNX conformance for Graft: ONNX's own backend node test cases, plus its pytorch-converted
and pytorch-operator sets, run through `graft compile` + `graft run`, compared at each case's
own tolerance (the onnx backend runner's rule: |actual - expected| <= atol + rtol * |expected|,
NaN where expected is NaN, same shape and dtype).

A case is *claimed* when every op in it (subgraphs included) is in `graft ops` (the runtime's
claimed list) and every node is in the ai.onnx domain. Claimed cases must pass, except those
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


def run_case(graft, model, data_sets, rtol, atol, workdir):
    mpath = os.path.join(workdir, "model.onnx")
    onnx.save(model, mpath)
    init_names = {i.name for i in model.graph.initializer}
    in_names = [i.name for i in model.graph.input if i.name not in init_names]
    out_names = [o.name for o in model.graph.output]
    for k, (inputs, expected) in enumerate(data_sets):
        args = []
        shapes = []
        for i, (name, arr) in enumerate(zip(in_names, inputs)):
            p = os.path.join(workdir, f"in{k}_{i}.npy")
            np.save(p, arr)
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
            cands = [os.path.join(odir, f"output_{j}.npy"),
                     os.path.join(odir, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".npy")]
            path = next((c for c in cands if os.path.exists(c)), None)
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
    claimed = {l.strip() for l in r.stdout.splitlines() if l.strip()}
    known = {}
    if os.path.exists(KNOWN):
        for line in open(KNOWN):
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, why = line.partition(" ")
                known[name] = why.strip()
    print(f"claimed ops ({len(claimed)}): {' '.join(sorted(claimed))}")
    selected = re.compile(a.filter) if a.filter else None
    passed, failed, expected_fail, unclaimed = [], [], [], 0
    newly_passing = []
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="graft-conf-") as tmp:
        for suite, name, model, sets, rtol, atol in load_cases(selected):
            ops = model_ops(model)
            if any(d not in ("", "ai.onnx") or t not in claimed for d, t in ops):
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
