#!/bin/sh
# Runs each test program given as an argument and sums their results.
# A program reports "N passed, N failed" as its last line; a program that prints no such line
# counts as one passed check when it exits 0 and one failed check otherwise. A program that
# exits non-zero always adds at least one failure. Prints the total as the last line.
# GRAFT_TEST_RUN, when set, prefixes each program (e.g. "qemu-arm -L /usr/arm-linux-gnueabihf").
passed=0
failed=0
for prog in "$@"; do
  out=$($GRAFT_TEST_RUN "$prog" 2>&1)
  rc=$?
  printf '%s\n' "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
  line=$(printf '%s\n' "$out" | grep '^[0-9]* passed, [0-9]* failed$' | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | cut -d' ' -f1)
    f=$(echo "$line" | cut -d' ' -f3)
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  elif [ "$rc" -eq 0 ]; then p=1; f=0
  else p=0; f=1
  fi
  echo "$(basename "$prog"): $p passed, $f failed$( [ "$rc" -ne 0 ] && echo " (exit $rc)")"
  passed=$((passed + p))
  failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
