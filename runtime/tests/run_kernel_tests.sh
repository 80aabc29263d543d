#!/bin/sh
# Builds and runs the kernel tests by hand (until `make -C runtime test` covers them).
# Usage (repository root): sh runtime/tests/run_kernel_tests.sh [asan]
# With "asan" the tests build with AddressSanitizer/UBSan, which catches any out-of-bounds
# access by a kernel: the vector driver allocates every buffer at its exact size.
set -e
CC=${CC:-cc}
FLAGS="-std=c99 -O2 -fno-math-errno -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Iruntime/include -Iruntime/kernels/reference"
if [ "$1" = "asan" ]; then FLAGS="$FLAGS -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined"; fi
OUT=${OUT_DIR:-runtime/build/kernel_tests}
mkdir -p "$OUT"
SRC="runtime/src/attrs.c runtime/src/dtype.c runtime/src/kernel_table.c runtime/kernels/reference/*.c"
[ -f runtime/src/cpu.c ] && SRC="$SRC runtime/src/cpu.c"
status=0
for t in runtime/tests/test_kernels_*.c; do
  exe="$OUT/$(basename "$t" .c)"
  nice $CC $FLAGS -o "$exe" "$t" $SRC -lm
  echo "== $exe"
  "$exe" || status=1
done
exit $status
