#!/bin/sh
# fuzz/run.sh — builds the libFuzzer targets and runs each one for a given time.
#
#   fuzz/run.sh [-a] [-P] [-t SECONDS] [-j JOBS] [TARGET...]  TARGET: archive onnx npy (default: all)
#   -P: run the targets at the same time (one process each) instead of one after another
#   fuzz/run.sh [-a] -b                                 build only
#   fuzz/run.sh [-a] -r TARGET FILE...                  replay inputs (no fuzzing), e.g. a crash
#   -a: link the Swift targets against the shared debug ASan build (.build-asan, made by
#       scripts/sanitizers.sh build; what `make fuzz-smoke` uses, no second Swift build);
#       default: a release build with -sanitize=fuzzer,address in .build-fuzz (faster
#       executions, for long campaigns).
# Before fuzzing, every committed fail case (Tests/Fixtures/FailCases/<target>/) is replayed.
#
# Targets (fuzz/REPORT.md has the numbers):
#   archive  C: graft_model_probe / graft_model_open / accessors / session run
#            (clang -fsanitize=fuzzer,address,undefined over runtime/src + kernels/reference)
#   onnx     Swift: protobuf-c decode + IR build + checkInvariants + shape inference
#   npy      Swift: Npy.decode, and encode/decode round trip of whatever decodes
# The Swift targets are built by SwiftPM into .build-fuzz (a separate scratch path, so normal
# builds are untouched) with `--sanitize fuzzer --sanitize address`; SwiftPM 6.3 compiles the
# library targets with coverage instrumentation that way, and this script links the entry
# files (fuzz/swift/*.swift, @_cdecl LLVMFuzzerTestOneInput, -parse-as-library) with swiftc
# -sanitize=fuzzer,address against those objects. No Package.swift change is needed.
#
# Corpora live in out/fuzz/corpus/<target> (seeded by fuzz/seeds.sh from ../shared/models);
# crashes, timeouts and leaks are written to out/fuzz/artifacts/<target>/, libFuzzer's output to
# out/fuzz/<target>[-asan].log. Each run appends one line to out/fuzz/stats.tsv: target,
# seconds, executions, corpus files, crashes found, build (release or asan).
# Exit status: non-zero when any target found a crash, a timeout or a leak.
#
# Environment: CLANG (default: the Swift toolchain's clang next to swiftc, which ships
# libFuzzer; Debian's clang 14 does not), SWIFT (default swift), GRAFT (for seeds.sh).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SWIFT=${SWIFT:-swift}
SWIFTC=${SWIFTC:-$(dirname "$(command -v "$SWIFT")")/swiftc}
CLANG=${CLANG:-$(dirname "$SWIFTC")/clang}
BIN=out/fuzz/bin
TAG=
SCRATCH=.build-fuzz
CONFIG=release
SECONDS_PER=30
JOBS=1
MODE=fuzz
PARALLEL=0
while getopts "aPt:j:br" opt; do
  case $opt in
    P) PARALLEL=1 ;;
    a) SCRATCH=.build-asan; CONFIG=debug; BIN=out/fuzz/bin-asan; TAG=-asan ;;
    t) SECONDS_PER=$OPTARG ;;
    j) JOBS=$OPTARG ;;
    b) MODE=build ;;
    r) MODE=replay ;;
    *) sed -n '2,8p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
mkdir -p "$BIN"

build_archive() {
  # Runtime objects are compiled once per source change (make-style timestamps).
  obj=out/fuzz/obj
  mkdir -p "$obj"
  objs=""
  for src in runtime/src/*.c runtime/kernels/reference/*.c; do
    o="$obj/$(echo "$src" | tr '/' '_').o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find runtime/include runtime/src runtime/kernels/reference -name '*.h' -newer "$o" 2>/dev/null | head -n 1)" ]; then
      # Two compiles at a time (the machine has 2 cores).
      "$CLANG" -std=c99 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
        -D_POSIX_C_SOURCE=200809L -Iruntime/include -Iruntime/src -Iruntime/kernels/reference \
        -c "$src" -o "$o.tmp" && mv "$o.tmp" "$o" &
      n=$((${n:-0} + 1))
      [ $((n % 2)) -eq 0 ] && wait
    fi
    objs="$objs $o"
  done
  wait
  for o in $objs; do [ -f "$o" ] || { echo "run.sh: compiling $o failed" >&2; exit 1; }; done
  # shellcheck disable=SC2086
  "$CLANG" -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -D_POSIX_C_SOURCE=200809L -Iruntime/include -Iruntime/src \
    -fuse-ld=lld fuzz/archive/fuzz_archive.c $objs -lm -o "$BIN/fuzz_archive"
}

swift_objects() {
  # Every object of the given SwiftPM targets in the fuzz scratch path.
  for t in "$@"; do
    find "$SCRATCH/$CONFIG/$t.build" -name '*.o' | sort
  done
}

build_swift() {
  if [ "$CONFIG" = debug ]; then
    scripts/sanitizers.sh build
  else
    nice "$SWIFT" build -c release --scratch-path "$SCRATCH" --target GraftBackend \
      --sanitize fuzzer --sanitize address
    nice "$SWIFT" build -c release --scratch-path "$SCRATCH" --target GraftONNX \
      --sanitize fuzzer --sanitize address
  fi
  opt=$([ "$CONFIG" = release ] && echo -O || echo -Onone)
  common="-parse-as-library $opt -sanitize=fuzzer,address -use-ld=lld -I $SCRATCH/$CONFIG/Modules \
    -Xcc -fmodule-map-file=$ROOT/Sources/CProtobufC/module.modulemap \
    -Xcc -fmodule-map-file=$ROOT/Sources/CZlib/module.modulemap \
    -Xcc -fmodule-map-file=$ROOT/runtime/include/module.modulemap \
    -Xcc -fmodule-map-file=$SCRATCH/$CONFIG/COnnxProto.build/module.modulemap \
    -Xcc -I$ROOT/runtime/include -Xcc -I$ROOT/Sources/COnnxProto/include"
  # shellcheck disable=SC2046,SC2086
  "$SWIFTC" $common fuzz/swift/FuzzONNX.swift \
    $(swift_objects GraftIR GraftONNX COnnxProto GraftKernels GraftPasses GraftRuntime) \
    -lprotobuf-c -lm -o "$BIN/fuzz_onnx"
  # shellcheck disable=SC2046,SC2086
  "$SWIFTC" $common fuzz/swift/FuzzNpy.swift \
    $(swift_objects GraftIR GraftKernels GraftPasses GraftRuntime GraftBackend) \
    -lz -lm -o "$BIN/fuzz_npy"
}

targets=${*:-archive onnx npy}
if [ "$MODE" = replay ]; then
  t=$1; shift
  exec "$BIN/fuzz_$t" -runs=1 "$@"
fi

for t in $targets; do
  case $t in
    archive) build_archive ;;
    onnx | npy) [ -n "${built_swift:-}" ] || { build_swift; built_swift=1; } ;;
    *) echo "run.sh: unknown target '$t' (archive, onnx, npy)" >&2; exit 2 ;;
  esac
done
[ "$MODE" = build ] && exit 0

if [ ! -d out/fuzz/seeds/archive ]; then fuzz/seeds.sh out/fuzz/seeds; fi
# fuzz_one TARGET: replays the fail cases, fuzzes for SECONDS_PER, appends the stats line;
# returns 1 on a finding.
fuzz_one() {
  t=$1
  rc=0
  corpus=out/fuzz/corpus/$t
  art=out/fuzz/artifacts/$t
  mkdir -p "$corpus" "$art"
  # Per-target options: the archive target gets larger inputs (compiled models); the Swift
  # targets a higher RSS limit (the Swift runtime + ASan shadow).
  case $t in
    archive) opts="-max_len=131072 -rss_limit_mb=2048 -timeout=10" ;;
    onnx) opts="-max_len=65536 -rss_limit_mb=4096 -timeout=10" ;;
    npy) opts="-max_len=65536 -rss_limit_mb=4096 -timeout=10" ;;
  esac
  log=out/fuzz/$t$TAG.log
  cases=$(ls Tests/Fixtures/FailCases/$t/* 2>/dev/null | grep -v README || true)
  if [ -n "$cases" ]; then
    # shellcheck disable=SC2086
    if ! "$BIN/fuzz_$t" $opts -runs=1 $cases > "$log.replay" 2>&1; then
      echo "fuzz $t: a committed fail case fails again; see $log.replay" >&2
      rc=1
    fi
  fi
  before=$(ls "$art" | wc -l)
  # shellcheck disable=SC2086
  if [ "$JOBS" -gt 1 ]; then
    (cd "out/fuzz" && "$ROOT/$BIN/fuzz_$t" $opts -max_total_time="$SECONDS_PER" -print_final_stats=1 \
      -artifact_prefix="$ROOT/$art/" -jobs="$JOBS" -workers="$JOBS" "$ROOT/$corpus" "$ROOT/out/fuzz/seeds/$t" \
      > "$ROOT/$log" 2>&1 || true
     rm -f fuzz-*.log)  # libFuzzer already copied each job's log into its own output
  else
    "$BIN/fuzz_$t" $opts -max_total_time="$SECONDS_PER" -print_final_stats=1 \
      -artifact_prefix="$art/" "$corpus" "out/fuzz/seeds/$t" > "$log" 2>&1 || true
  fi
  execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
  found=$(( $(ls "$art" | wc -l) - before ))
  files=$(ls "$corpus" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$SECONDS_PER" "$execs" "$files" "$found" "$CONFIG" >> out/fuzz/stats.tsv
  echo "fuzz $t: ${SECONDS_PER}s, $execs executions, corpus $files files, $found new crash/timeout/leak files"
  if [ "$found" -gt 0 ] || grep -a -q -E '^==[0-9]+==ERROR|SUMMARY: (Address|Undefined)|ERROR: libFuzzer' "$log"; then
    echo "fuzz $t: FAILED; see $log and $art" >&2
    grep -a -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 10 >&2
    rc=1
  fi
  return $rc
}

status=0
if [ "$PARALLEL" -eq 1 ]; then
  pids=""
  for t in $targets; do
    fuzz_one "$t" &
    pids="$pids $!"
  done
  for p in $pids; do wait "$p" || status=1; done
else
  for t in $targets; do fuzz_one "$t" || status=1; done
fi
exit $status
