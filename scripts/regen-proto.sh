#!/bin/sh
# Regenerates the protobuf-c code for formats/onnx.proto into Sources/COnnxProto.
#   scripts/regen-proto.sh          write the generated files
#   scripts/regen-proto.sh --check  regenerate into a temp folder and compare; exit 1 if the
#                                   committed copy is stale (for CI)
# Needs protoc-c (apt: protobuf-c-compiler). Output is deterministic for a given protoc-c.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
proto_dir="$root/formats"
out_c="$root/Sources/COnnxProto/onnx.pb-c.c"
out_h="$root/Sources/COnnxProto/include/onnx.pb-c.h"

command -v protoc-c >/dev/null 2>&1 || { echo "regen-proto: protoc-c not found (apt install protobuf-c-compiler)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc-c --c_out="$tmp" -I"$proto_dir" "$proto_dir/onnx.proto"

if [ "${1:-}" = "--check" ]; then
  status=0
  cmp -s "$tmp/onnx.pb-c.c" "$out_c" || { echo "regen-proto: $out_c is stale; run scripts/regen-proto.sh" >&2; status=1; }
  cmp -s "$tmp/onnx.pb-c.h" "$out_h" || { echo "regen-proto: $out_h is stale; run scripts/regen-proto.sh" >&2; status=1; }
  [ $status -eq 0 ] && echo "regen-proto: generated code is up to date ($(protoc-c --version | head -1))"
  exit $status
fi

cp "$tmp/onnx.pb-c.c" "$out_c"
cp "$tmp/onnx.pb-c.h" "$out_h"
echo "regen-proto: wrote $out_c and $out_h"
