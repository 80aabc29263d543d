#!/bin/sh
# scripts/sanitizers.sh — the sanitizer and valgrind jobs of `make test` (issue 9).
#
#   scripts/sanitizers.sh build       Swift build + tests with AddressSanitizer into .build-asan
#                                     (debug; also instrumented for coverage, so fuzz/run.sh -a
#                                     links its libFuzzer targets against the same objects)
#   scripts/sanitizers.sh swift-asan  the Swift test subset below under ASan (needs `build`)
#   scripts/sanitizers.sh valgrind    the C runtime on corpus models under valgrind
#   scripts/sanitizers.sh all         the three in order
#
# The C runtime's own tests under ASan + UBSan are `make -C runtime asan-test` (already part of
# `make test-runtime`).
#
# Swift under ASan runs a subset, not the whole suite: the whole suite under ASan takes several
# times the plain run and would push `make test` past its 20-minute budget. The subset is every
# suite that feeds untrusted bytes to the product: ONNX import (bad inputs, round trips),
# `.npy` (NpyTests), archives and the CLI's bad-input paths (BackendCLITests, InspectTests) and
# the hardening tests (limits, fuzzer fail cases, faults, determinism). SWIFT_ASAN_FILTER
# overrides it (a regular expression for `swift test --filter`; "." runs everything).
#
# valgrind: compiles scripts/run_archive.c with the runtime sources (-O1 -g, no sanitizer),
# compiles ppocr_mobile_v2_cls (compressed weights: the inflate path) and silero_vad_v6 (RNN)
# from ../shared/models with the debug `graft`, and runs each under
# `valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all`; the output must
# also match the stored onnxruntime reference within 1e-4 × max|reference|.
set -eu
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SCRATCH=.build-asan
MODELS=${GRAFT_MODELS:-$(cd .. && pwd)/shared/models}
[ -d "$MODELS" ] || MODELS=/work/shared/models
SWIFT_ASAN_FILTER=${SWIFT_ASAN_FILTER:-ONNXBadInput|ONNXRoundTrip|NpyTests|BackendCLITests|InspectTests|Hardening}
# Coverage instrumentation without libFuzzer's main: the test binary links with plain ASan
# (its runtime provides the coverage callbacks), the fuzz targets add -sanitize=fuzzer.
COVERAGE_FLAGS="-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xcc -fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp"

build() {
  # shellcheck disable=SC2086
  nice "$SWIFT" build --build-tests --scratch-path "$SCRATCH" --sanitize address $COVERAGE_FLAGS
}

swift_asan() {
  # detect_leaks=0: the Swift runtime's and Foundation's process-lifetime caches read as
  # leaks; invalid reads/writes, use-after-free and overflows still abort the run.
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 nice "$SWIFT" test --skip-build --scratch-path "$SCRATCH" \
    --sanitize address $COVERAGE_FLAGS --filter "$SWIFT_ASAN_FILTER"
}

valgrind_models() {
  if ! command -v valgrind > /dev/null; then
    echo "sanitizers.sh: installing valgrind"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind > /dev/null
  fi
  graft=${GRAFT:-.build/debug/graft}
  [ -x "$graft" ] || { echo "sanitizers.sh: $graft missing; run 'swift build' first" >&2; exit 1; }
  out=out/valgrind
  mkdir -p "$out"
  ${CC:-cc} -std=c99 -O1 -g -D_POSIX_C_SOURCE=200809L -Iruntime/include -Iruntime/src \
    -Iruntime/kernels/reference scripts/run_archive.c runtime/src/*.c runtime/kernels/reference/*.c \
    -lm -o "$out/run_archive"
  "$graft" compile "$MODELS/ppocr_mobile_v2_cls.onnx" -o "$out/cls.graft" --input-shape x=1x3x48x192 --compress > /dev/null
  "$graft" compile "$MODELS/silero_vad_v6.onnx" -o "$out/vad.graft" --bind sr=16000 \
    --input-shape input=1x576 --input-shape state=2x1x128 > /dev/null
  vg="valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all"
  $vg "$out/run_archive" "$out/cls.graft" --input "$MODELS/ppocr_mobile_v2_cls.input_0.npy" \
    --expect "$MODELS/ppocr_mobile_v2_cls.output_0.npy" --rtol 1e-4
  $vg "$out/run_archive" "$out/vad.graft" --input "$MODELS/silero_vad_v6.input_0.npy" \
    --input "$MODELS/silero_vad_v6.input_1.npy" --expect "$MODELS/silero_vad_v6.output_0.npy" --rtol 1e-4
  echo "valgrind: 2 models, no invalid reads or writes, no leaks"
}

case ${1:-all} in
  build) build ;;
  swift-asan) swift_asan ;;
  valgrind) valgrind_models ;;
  all) build; swift_asan; valgrind_models ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
