#!/bin/sh
# fuzz/stats.sh — sums out/fuzz/stats.tsv (one line per fuzz/run.sh run) per target:
# runs, seconds, executions, current corpus size, crash/timeout/leak files found.
# Usage: fuzz/stats.sh [STATS_FILE]
cd "$(dirname "$0")/.."
f=${1:-out/fuzz/stats.tsv}
printf '| target | runs | seconds | executions | corpus files | findings |\n|---|---|---|---|---|---|\n'
for t in archive onnx npy; do
  corpus=$(ls "out/fuzz/corpus/$t" 2>/dev/null | wc -l)
  awk -F'\t' -v t="$t" -v c="$corpus" '$1 == t { r++; s += $2; e += $3; x += $5 }
    END { printf "| %s | %d | %d | %d | %d | %d |\n", t, r, s, e, c, x }' "$f"
done
