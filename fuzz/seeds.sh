#!/bin/sh
# fuzz/seeds.sh — builds the seed corpora of the three fuzz targets from ../shared/models.
#
#   fuzz/seeds.sh [OUT]        OUT defaults to out/fuzz/seeds
#
# Writes OUT/archive (compiled .graft archives: every ONNX node test, some --compress, plus the
# light_* models and the sample), OUT/onnx (the node tests and the small corpus models, each
# under 1 MiB), OUT/npy (the node tests' .npy inputs and outputs under 64 KiB) and adds the
# committed fail cases (Tests/Fixtures/FailCases/<target>/). Needs a `graft` binary: $GRAFT,
# else .build/release/graft, else .build/debug/graft. Idempotent; takes about a minute.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-out/fuzz/seeds}
MODELS=${GRAFT_MODELS:-$(cd .. && pwd)/shared/models}
[ -d "$MODELS" ] || MODELS=/work/shared/models
GRAFT=${GRAFT:-}
if [ -z "$GRAFT" ]; then
  for g in .build/release/graft .build/debug/graft; do
    if [ -x "$g" ]; then GRAFT=$g; break; fi
  done
fi
mkdir -p "$OUT/archive" "$OUT/onnx" "$OUT/npy"

# ONNX seeds: node tests and the corpus models under 1 MiB.
for f in "$MODELS"/onnx_node_tests/*.onnx "$MODELS"/*.onnx samples/*.onnx; do
  [ -f "$f" ] || continue
  size=$(wc -c < "$f")
  [ "$size" -le 262144 ] || continue
  cp "$f" "$OUT/onnx/$(basename "$f")"
done

# .npy seeds: small node-test arrays (every dtype and rank they use).
for f in "$MODELS"/onnx_node_tests/*.npy; do
  size=$(wc -c < "$f")
  [ "$size" -le 65536 ] || continue
  cp "$f" "$OUT/npy/$(basename "$f")"
done

# Archive seeds: whatever compiles (unsupported models are skipped). Every 4th node test is
# also compiled with --compress so that the inflate path is seeded.
if [ -n "$GRAFT" ]; then
  i=0
  for f in "$MODELS"/onnx_node_tests/*.onnx "$MODELS"/light_*.onnx samples/*.onnx; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .onnx)
    [ -f "$OUT/archive/$name.graft" ] || \
      "$GRAFT" compile "$f" -o "$OUT/archive/$name.graft" > /dev/null 2>&1 || true
    if [ $((i % 4)) -eq 0 ] && [ ! -f "$OUT/archive/$name.z.graft" ]; then
      "$GRAFT" compile "$f" -o "$OUT/archive/$name.z.graft" --compress > /dev/null 2>&1 || true
    fi
    i=$((i + 1))
  done
  # Archives over 256 KiB make slow seeds.
  find "$OUT/archive" -name "*.graft" -size +256k -delete
else
  echo "seeds.sh: no graft binary (set GRAFT=...); archive seeds from the test builder only" >&2
fi

# The runtime test builder's archives (fuzz/archive/make_seeds.c).
if [ ! -f "$OUT/archive/builder_plain.graft" ]; then
  mkdir -p out/fuzz/bin
  ${CC:-cc} -std=c99 -O1 -D_POSIX_C_SOURCE=200809L -Iruntime/include -Iruntime/src -Iruntime/tests \
    fuzz/archive/make_seeds.c runtime/tests/archive_builder.c runtime/src/dtype.c \
    -lz -lm -o out/fuzz/bin/make_seeds
  out/fuzz/bin/make_seeds "$OUT/archive"
fi

# Committed fail cases are part of every corpus.
for t in archive onnx npy; do
  if [ -d "Tests/Fixtures/FailCases/$t" ]; then
    for f in "Tests/Fixtures/FailCases/$t"/*; do
      [ -f "$f" ] && cp "$f" "$OUT/$t/failcase_$(basename "$f")"
    done
  fi
done
for t in archive onnx npy; do
  echo "seeds: $t $(ls "$OUT/$t" | wc -l) files"
done
