#!/usr/bin/env python3
"""Latency benchmark: Graft vs onnxruntime (and OpenVINO when installed), fp32, one thread.

For every model in the shared corpus: compile with the release `graft`, time it with
`graft bench` (in-process median of N runs after warm-up), time onnxruntime in this process on
the same inputs (intra_op_num_threads=1, inter_op_num_threads=1, ORT_ENABLE_ALL, sequential),
and, when bench/latency/.venv-ov has `openvino`, OpenVINO (CPU, INFERENCE_NUM_THREADS=1,
INFERENCE_PRECISION_HINT=f32) in a subprocess. Prints one table with the ratio Graft/ORT, the
geometric mean, Graft's GFLOP/s against the core's fp32 peak, then the runtime sizes (aarch64
static build, trimmed for light_resnet50 and with every kernel, next to onnxruntime's shared
library) and the per-layer profile of the model with the worst ratio.

    .venv/bin/python bench/latency/run.py [--runs 10] [--models a,b] [--peak 270] [--no-size]

Reference-check tooling only: Python is never part of the product.
"""
import argparse, glob, math, os, re, subprocess, sys, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "out", "bench")


def models_dir():
    for d in (os.environ.get("GRAFT_MODELS"), os.path.join(ROOT, "..", "shared", "models"),
              os.path.join(ROOT, "..", "..", "shared", "models"), "/work/shared/models"):
        if d and os.path.isdir(d):
            return os.path.abspath(d)
    sys.exit("run.py: no model corpus found (set GRAFT_MODELS)")


def readme_macs(d):
    """MACs (millions) per model from the corpus README's summary table."""
    out = {}
    try:
        text = open(os.path.join(d, "README.md")).read()
    except OSError:
        return out
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 9 and cells[1] and not cells[1].startswith("-") and cells[1] != "model":
            try:
                out[cells[1]] = float(cells[8])
            except ValueError:
                pass
    return out


def inputs_of(d, name):
    import onnx
    m = onnx.load(os.path.join(d, name + ".onnx"), load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    names = [i.name for i in m.graph.input if i.name not in inits]
    return [(n, os.path.join(d, f"{name}.input_{k}.npy")) for k, n in enumerate(names)]


def compile_model(graft, d, name, ins):
    import numpy as np
    os.makedirs(OUT, exist_ok=True)
    archive = os.path.join(OUT, name + ".graft")
    cmd = [graft, "compile", os.path.join(d, name + ".onnx"), "-o", archive]
    feeds = []
    for n, f in ins:
        a = np.load(f)
        if a.dtype == np.int64 and a.ndim == 0:      # silero's sr: a compile-time parameter
            cmd += ["--bind", f"{n}={f}"]
        else:
            cmd += ["--input-shape", f"{n}=" + "x".join(str(s) for s in a.shape)]
            feeds.append((n, f))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("compile failed: " + (r.stderr.strip().splitlines() or ["?"])[-1])
    return archive, feeds


def graft_bench(graft, archive, feeds, runs, per_layer=False):
    cmd = [graft, "bench", archive, "--runs", str(runs), "--warmup", "2"]
    for n, f in feeds:
        cmd += ["--input", f"{n}={f}"]
    if per_layer:
        cmd.append("--per-layer")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("bench failed: " + r.stderr.strip())
    vals = dict(re.findall(r"^(\w+): ([\d.]+)$", r.stdout, re.M))
    return float(vals["median_ms"]), float(vals["open_ms"]), int(vals["macs"]), r.stdout


def ort_bench(d, name, ins, runs):
    import numpy as np, onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    s = ort.InferenceSession(os.path.join(d, name + ".onnx"), so, providers=["CPUExecutionProvider"])
    feed = {n: np.load(f) for n, f in ins}
    for _ in range(2):
        s.run(None, feed)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run(None, feed)
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return ts[len(ts) // 2] if len(ts) % 2 else (ts[len(ts) // 2 - 1] + ts[len(ts) // 2]) / 2


OV_SCRIPT = r"""
import sys, time, numpy as np, openvino as ov
path, runs = sys.argv[1], int(sys.argv[2])
files = sys.argv[3:]
core = ov.Core()
m = core.read_model(path)
c = core.compile_model(m, "CPU", {"INFERENCE_NUM_THREADS": 1, "INFERENCE_PRECISION_HINT": "f32",
                                 "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1})
req = c.create_infer_request()
feed = [np.load(f) for f in files]
for _ in range(2): req.infer(feed)
ts = []
for _ in range(runs):
    t0 = time.perf_counter(); req.infer(feed); ts.append((time.perf_counter() - t0) * 1e3)
ts.sort(); print(ts[len(ts) // 2])
"""


def ov_bench(d, name, ins, runs):
    py = os.path.join(ROOT, "bench", "latency", ".venv-ov", "bin", "python")
    if not os.path.exists(py):
        return None
    r = subprocess.run([py, "-c", OV_SCRIPT, os.path.join(d, name + ".onnx"), str(runs)] + [f for _, f in ins],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        lines = [l.strip() for l in r.stderr.splitlines() if l.strip()]
        return "failed: " + (lines[-1][:60] if lines else "?")
    try:
        return float(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return "err"


def text_bytes_from_map(map_path, lib):
    """Bytes of code and read-only data the final link kept from `lib` (GNU ld map file)."""
    total = {"text": 0, "rodata": 0, "data": 0}
    pending = None
    in_map = False  # the "Discarded input sections" list comes first and is skipped
    pat = re.compile(r"^\s*(\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$")
    for line in open(map_path, errors="replace"):
        if line.startswith("Linker script and memory map"):
            in_map = True
        if not in_map:
            continue
        s = line.rstrip("\n")
        m = pat.match(s)
        if m is None:
            toks = s.split()
            if len(toks) == 1 and toks[0].startswith("."):
                pending = toks[0]
            continue
        sec = m.group(1) or pending
        pending = None
        size = int(m.group(3), 16)
        if lib not in m.group(4) or not sec:
            continue
        if sec.startswith(".text"):
            total["text"] += size
        elif sec.startswith(".rodata"):
            total["rodata"] += size
        elif sec.startswith(".data") or sec.startswith(".bss"):
            total["data"] += size
    return total


def sizes(graft, d):
    print("\n## Runtime size (aarch64 bundle flags from the target table, static, gc-sections; bytes kept from libgraft by the final link)\n")
    name = "light_resnet50"
    bdir = os.path.join(OUT, "size-aarch64")
    subprocess.run(["rm", "-rf", bdir])
    r = subprocess.run([graft, "build", os.path.join(OUT, name + ".graft"), "--target", "aarch64", "-o", bdir],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print("graft build failed:", r.stderr.strip()); return
    for trim, prog, lib in (("1", "graft_run", "libgraft.a"), ("0", "graft_run-full", "libgraft-full.a")):
        r = subprocess.run(["make", "-C", bdir, "-s", f"TRIM={trim}"], capture_output=True, text=True)
        if r.returncode != 0:
            print("make failed:", r.stderr.strip()[-400:]); return
        t = text_bytes_from_map(os.path.join(bdir, prog + ".map"), lib)
        label = f"trimmed for {name}" if trim == "1" else "every kernel"
        limit = 64 if trim == "1" else 256
        print(f"- {label}: .text {t['text'] / 1024:.1f} KB (limit {limit} KB), .rodata {t['rodata'] / 1024:.1f} KB,"
              f" data+bss {t['data'] / 1024:.1f} KB")
    s = subprocess.run(["aarch64-linux-gnu-size", "-t", os.path.join(bdir, "libgraft.a")], capture_output=True, text=True)
    if s.returncode == 0:
        print(f"- `size -t libgraft.a` (trimmed library before gc-sections): {s.stdout.strip().splitlines()[-1].strip()}")
    import onnxruntime
    capi = os.path.join(os.path.dirname(onnxruntime.__file__), "capi")
    for f in sorted(glob.glob(os.path.join(capi, "*.so*"))):
        print(f"- onnxruntime {onnxruntime.__version__} (x86-64) {os.path.basename(f)}: {os.path.getsize(f) / 1e6:.1f} MB file")


def open_time(graft, name="light_resnet50"):
    """graft_run's 'open' (mmap + graft_model_open: CRCs, validation, page faults), x86_64 build."""
    print(f"\n## Opening the {name} archive (mmap + validate), x86_64 graft_run, best of 3\n")
    archive = os.path.join(OUT, name + ".graft")
    bdir = os.path.join(OUT, "open-x86_64")
    subprocess.run(["rm", "-rf", bdir])
    r = subprocess.run([graft, "build", archive, "--target", "x86_64", "-o", bdir], capture_output=True, text=True)
    if r.returncode != 0 or subprocess.run(["make", "-C", bdir, "-s"], capture_output=True).returncode != 0:
        print("build failed"); return
    best = None
    for _ in range(3):
        r = subprocess.run([os.path.join(bdir, "graft_run"), archive, "-q", "-o", bdir], capture_output=True, text=True)
        m = re.search(r"open: ([\d.]+) ms", r.stdout)
        if m:
            best = float(m.group(1)) if best is None else min(best, float(m.group(1)))
    size = os.path.getsize(archive) / 1e6
    print(f"- {name}.graft ({size:.1f} MB): open {best:.2f} ms (goal < 5 ms)" if best is not None else "- open failed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--models", default="")
    ap.add_argument("--peak", type=float, default=270.0, help="fp32 GFLOP/s peak of one core")
    ap.add_argument("--no-size", action="store_true")
    ap.add_argument("--graft", default=os.path.join(ROOT, ".build", "release", "graft"))
    a = ap.parse_args()
    d = models_dir()
    macs = readme_macs(d)
    names = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(d, "*.onnx")))
    if a.models:
        names = [n for n in names if n in a.models.split(",")]
    import onnxruntime
    print(f"# Graft vs onnxruntime {onnxruntime.__version__}: fp32, 1 thread, median of {a.runs} runs after 2 warm-up\n")
    hdr = "| model | MMACs | Graft ms | ORT ms | Graft/ORT | Graft GFLOP/s | % of peak | OpenVINO ms | open ms |"
    print(hdr)
    print("|" + "---|" * (hdr.count("|") - 1))
    ratios, rows = [], []
    for name in names:
        try:
            ins = inputs_of(d, name)
            archive, feeds = compile_model(a.graft, d, name, ins)
            g, open_ms, gmacs, _ = graft_bench(a.graft, archive, feeds, a.runs)
            o = ort_bench(d, name, ins, a.runs)
            v = ov_bench(d, name, ins, a.runs)
        except Exception as e:  # report and go on
            print(f"| {name} | error: {e} |")
            continue
        mm = macs.get(name, gmacs / 1e6)
        gfs = 2 * mm * 1e6 / (g * 1e6)
        ratio = g / o
        ratios.append(ratio)
        rows.append((name, ratio, archive, feeds))
        vs = "-" if v is None else (v if isinstance(v, str) else f"{v:.2f}")
        print(f"| {name} | {mm:.1f} | {g:.2f} | {o:.2f} | {ratio:.2f} | {gfs:.1f} | {100 * gfs / a.peak:.1f} | {vs} | {open_ms:.2f} |",
              flush=True)
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        worst = max(rows, key=lambda r: r[1])
        print(f"\ngeometric mean Graft/ORT: {gm:.3f} (goal <= 1.0); worst: {worst[0]} {worst[1]:.2f} (goal <= 1.5);"
              f" models above 1.5: {sum(r > 1.5 for r in ratios)}")
    if not a.no_size:
        sizes(a.graft, d)
        if os.path.exists(os.path.join(OUT, "light_resnet50.graft")):
            open_time(a.graft)
    if ratios:
        print(f"\n## Per-layer profile of the worst model ({worst[0]}), top 15 nodes and per kernel\n")
        _, _, _, out = graft_bench(a.graft, worst[2], worst[3], max(3, a.runs // 2), per_layer=True)
        lines = out.splitlines()
        i = next(k for k, l in enumerate(lines) if l.startswith("per layer"))
        j = next(k for k, l in enumerate(lines) if l.startswith("per kernel"))
        nodes = [l for l in lines[i + 2:j] if l.strip()]
        nodes.sort(key=lambda l: -float(l.split()[2]))
        print("```")
        print(lines[i]); print(lines[i + 1])
        print("\n".join(nodes[:15]))
        print("\n".join(lines[j:]))
        print("```")


if __name__ == "__main__":
    main()
