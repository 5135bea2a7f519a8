#!/usr/bin/env bash
# Regenerate the committed notebooks with the outputs of a real execution:
# each runs top to bottom, is written back in place with a PNG copy of
# every figure (GitHub shows those) and the hash of its code, which CI
# checks (notebooks/run.py). Run it after changing a notebook's code.
#
#   bash scripts/render-notebooks.sh [notebooks/NN-*.ipynb ...]   (default: all)
#
# Needs, beside the notebook toolchain (installed as for scripts/test.sh):
# a Chromium to draw the PNGs (Debian: `apt install chromium`; or set
# BROWSER_PATH), and plotly + Kaleido (pip, into target/notebook-env).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/notebook-env.sh
if ! "$ENV_DIR/venv/bin/python" -c "import kaleido" 2>/dev/null; then
  "$ENV_DIR/venv/bin/pip" install -q -r notebooks/render-requirements.txt
fi
if [ -z "${BROWSER_PATH:-}" ]; then
  for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then
      BROWSER_PATH="$(command -v "$b")"
      export BROWSER_PATH
      break
    fi
  done
fi
if [ -z "${BROWSER_PATH:-}" ]; then
  echo "scripts/render-notebooks.sh: no Chromium found to draw the figures as PNG;" >&2
  echo "install one (Debian: 'apt install chromium') or set BROWSER_PATH." >&2
  exit 1
fi
"$ENV_DIR/venv/bin/python" notebooks/render.py "$@"
