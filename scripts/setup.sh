#!/usr/bin/env bash
# Installs what Graft's build, demo and tests need, only when missing:
#   apt: libprotobuf-c-dev protobuf-c-compiler zlib1g-dev (build), clang (fuzz/sanitizers later)
#   .venv: onnx onnxruntime numpy (reference checks only; never used by the product)
# Idempotent; safe to run before every `make` target.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in libprotobuf-c-dev protobuf-c-compiler zlib1g-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=.venv/bin/python
if ! [ -x "$PY" ] || ! "$PY" -c "import onnx, onnxruntime, numpy" >/dev/null 2>&1; then
  echo "setup: creating .venv with onnx onnxruntime numpy"
  python3 -m venv .venv
  "$PY" -m pip install -q --upgrade pip >/dev/null
  "$PY" -m pip install -q "onnx==1.23.2" "onnxruntime==1.32.0" "numpy<3"
fi
"$PY" -c "import onnx, onnxruntime, numpy; print('setup: onnx', onnx.__version__, 'onnxruntime', onnxruntime.__version__, 'numpy', numpy.__version__)"
