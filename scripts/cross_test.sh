#!/usr/bin/env bash
# Cross tests: builds the board bundle (graft build) of a few corpus models for x86_64, aarch64
# and armv7, runs the static sample program natively and under user-mode QEMU, and checks that
# the ARM outputs match the x86 build within 1e-5 relative (max |arm - x86| <= 1e-5 * max |x86|,
# per output) and that the x86 build matches the stored onnxruntime reference (reported, with
# the same rule at 1e-4, since x86 uses the SIMD kernels and ORT its own).
# Also compiles two models with `graft emit-c` and checks the emitted C against the reference.
#
#   scripts/cross_test.sh            (GRAFT=path/to/graft, GRAFT_MODELS=dir override)
#
# Installs its apt packages when missing: gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf
# qemu-user. Exit 0 only when every comparison passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GRAFT=${GRAFT:-$ROOT/.build/release/graft}
PY=$ROOT/.venv/bin/python
OUT=$ROOT/out/cross

need_apt=()
for pkg in gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "cross_test: installing apt packages: ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
[ -x "$GRAFT" ] || { echo "cross_test: $GRAFT missing; run 'swift build -c release' first" >&2; exit 1; }

# Corpus models: the bundled sample always; the shared corpus when present.
MODELS_DIR=${GRAFT_MODELS:-}
for d in ../shared/models ../../shared/models /work/shared/models; do
  [ -z "$MODELS_DIR" ] && [ -d "$d" ] && MODELS_DIR=$d
done
# name|onnx|input files (model input order)|extra compile flags
CASES=("ppocr_mobile_v2_cls|samples/ppocr_mobile_v2_cls.onnx|samples/ppocr_mobile_v2_cls.input_0.npy|--input-shape x=1x3x48x192")
if [ -n "$MODELS_DIR" ]; then
  M=$MODELS_DIR
  CASES+=("light_squeezenet|$M/light_squeezenet.onnx|$M/light_squeezenet.input_0.npy|")
  CASES+=("silero_vad_v6|$M/silero_vad_v6.onnx|$M/silero_vad_v6.input_0.npy $M/silero_vad_v6.input_1.npy|--bind sr=$M/silero_vad_v6.input_2.npy --input-shape input=1x576 --input-shape state=2x1x128")
else
  echo "cross_test: no shared model corpus found (GRAFT_MODELS); testing the bundled sample only"
fi

TARGETS=(x86_64 aarch64 armv7)
fails=0
mkdir -p "$OUT"
for t in "${TARGETS[@]}"; do rm -rf "$OUT/objcache-$t"; done
for c in "${CASES[@]}"; do
  IFS='|' read -r name onnx inputs flags <<<"$c"
  # shellcheck disable=SC2206
  in_files=($inputs)
  ref_dir=$(dirname "$onnx")
  for t in "${TARGETS[@]}"; do
    dir=$OUT/$name/$t
    rm -rf "$dir"
    # shellcheck disable=SC2086
    "$GRAFT" build "$onnx" --target "$t" -o "$dir" $flags >"$OUT/$name.$t.build.log" 2>&1 \
      || { echo "FAIL $name $t: graft build (see $OUT/$name.$t.build.log)"; fails=$((fails+1)); continue; }
    # Reuse this target's runtime objects from the previous model (only the kernel table differs).
    if [ -d "$OUT/objcache-$t" ]; then cp -r "$OUT/objcache-$t" "$dir/obj"; rm -f "$dir/obj/runtime/src/kernel_table.o"; fi
    make -C "$dir" -s >"$OUT/$name.$t.make.log" 2>&1 \
      || { echo "FAIL $name $t: make (see $OUT/$name.$t.make.log)"; fails=$((fails+1)); continue; }
    [ -d "$OUT/objcache-$t" ] || cp -r "$dir/obj" "$OUT/objcache-$t"
    emu=""
    case $t in aarch64) emu=qemu-aarch64 ;; armv7) emu=qemu-arm ;; esac
    mkdir -p "$dir/out"
    # shellcheck disable=SC2086
    (cd "$dir" && $emu ./graft_run model.graft -q -o out "${in_files[@]/#/$ROOT/}" 2>&1) >"$OUT/$name.$t.run.log" 2>&1 \
      || { echo "FAIL $name $t: run (see $OUT/$name.$t.run.log)"; fails=$((fails+1)); continue; }
    echo "ran $name on $t: $(grep latency "$OUT/$name.$t.run.log")"
  done
  # Compare.
  "$PY" - "$OUT/$name" "$ref_dir" "$name" <<'PYEOF' || fails=$((fails+1))
import sys, glob, os
import numpy as np
base, ref_dir, name = sys.argv[1:4]
ok = True
def rel(a, b):
    a = a.astype(np.float64); b = b.astype(np.float64)
    scale = max(np.abs(b).max(), 1e-30) if b.size else 1.0
    return float(np.abs(a - b).max() / scale) if b.size else 0.0
x86 = sorted(glob.glob(f"{base}/x86_64/out/output_*.npy"))
if not x86:
    print(f"FAIL {name}: no x86_64 outputs"); sys.exit(1)
for f in x86:
    k = os.path.basename(f)[len("output_"):-4]
    a = np.load(f)
    ref = os.path.join(ref_dir, f"{name}.output_{k}.npy")
    if os.path.exists(ref):
        r = rel(a, np.load(ref))
        good = r <= 1e-4
        ok &= good
        print(f"{'ok  ' if good else 'FAIL'} {name} output_{k}: x86_64 vs onnxruntime reference: rel {r:.2e} (limit 1e-4)")
    for t in ("aarch64", "armv7"):
        g = f"{base}/{t}/out/output_{k}.npy"
        if not os.path.exists(g):
            print(f"FAIL {name} output_{k}: {t} output missing"); ok = False; continue
        b = np.load(g)
        if b.shape != a.shape or b.dtype != a.dtype:
            print(f"FAIL {name} output_{k}: {t} is {b.dtype}{b.shape}, x86_64 {a.dtype}{a.shape}"); ok = False; continue
        r = rel(b, a)
        good = r <= 1e-5
        ok &= good
        print(f"{'ok  ' if good else 'FAIL'} {name} output_{k}: {t} vs x86_64: rel {r:.2e} (limit 1e-5)")
sys.exit(0 if ok else 1)
PYEOF
done

# emit-c: models as straight-line C, built against their x86_64 bundle's runtime, checked
# against the stored onnxruntime outputs (1e-4 relative to the output's largest magnitude).
emit_cases=("ppocr_mobile_v2_cls|samples|samples/ppocr_mobile_v2_cls.input_0.npy")
if [ -n "$MODELS_DIR" ]; then
  emit_cases+=("silero_vad_v6|$MODELS_DIR|$MODELS_DIR/silero_vad_v6.input_0.npy $MODELS_DIR/silero_vad_v6.input_1.npy")
fi
for c in "${emit_cases[@]}"; do
  IFS='|' read -r name ref_dir inputs <<<"$c"
  # shellcheck disable=SC2206
  in_files=($inputs)
  bundle=$OUT/$name/x86_64
  edir=$OUT/emitc/$name
  rm -rf "$edir" && mkdir -p "$edir/out"
  if "$GRAFT" emit-c "$bundle/model.graft" -o "$edir/m.c" >"$edir/log" 2>&1 \
    && cc -O2 -std=c99 -I"$bundle/runtime/include" -I"$edir" -DGRAFT_EMITTED=m -DGRAFT_EMITTED_UPPER=M \
         '-DGRAFT_EMITTED_HEADER="m.h"' samples/board/emitc_main.c "$edir/m.c" "$edir/m.weights.S" \
         "$bundle/libgraft.a" -lm -Wl,--gc-sections -o "$edir/m_run" >>"$edir/log" 2>&1 \
    && "$edir/m_run" "$edir/out" "${in_files[@]}" >>"$edir/log" 2>&1; then
    "$PY" - "$edir/out" "$ref_dir" "$name" <<'PYEOF' || fails=$((fails+1))
import sys, glob, os
import numpy as np
out, ref_dir, name = sys.argv[1:4]
ok = True
for k in range(16):
    ref_path = os.path.join(ref_dir, f"{name}.output_{k}.npy")
    if not os.path.exists(ref_path):
        break
    ref = np.load(ref_path).astype(np.float32).ravel()
    got = np.load(os.path.join(out, f"output_{k}.npy")).view(np.float32)
    r = float(np.abs(got.astype(np.float64) - ref).max() / max(np.abs(ref).max(), 1e-30)) if got.size == ref.size else float("inf")
    good = r <= 1e-4
    ok &= good
    print(f"{'ok  ' if good else 'FAIL'} emit-c {name} output_{k} vs onnxruntime reference: rel {r:.2e} (limit 1e-4)")
sys.exit(0 if ok else 1)
PYEOF
  else
    echo "FAIL emit-c $name: see $edir/log"; fails=$((fails+1))
  fi
done

if [ "$fails" -ne 0 ]; then echo "cross_test: $fails failure(s)"; exit 1; fi
echo "cross_test: all passed"
