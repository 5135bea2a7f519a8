#!/usr/bin/env bash
# Run the CUDA binary built by scripts/build-cuda.sh on a GPU machine whose
# CUDA 13 libraries come from pip wheels (e.g. PyTorch's): finds
# libnvrtc/libcublas under the Python's site-packages and runs circssnn.
#
#   bash scripts/run-gpu.sh --device cuda bench --profile paper
set -euo pipefail
BIN="${CIRCSSNN_BIN:-$(dirname "$0")/../target/cuda/release/circssnn}"
SITE=$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null || true)
LIBS=$(for s in $SITE; do ls -d "$s"/nvidia/*/lib 2>/dev/null; done | tr '\n' ':')
export LD_LIBRARY_PATH="${LIBS}${LD_LIBRARY_PATH:-}"
exec "$BIN" "$@"
