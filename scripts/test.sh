#!/usr/bin/env bash
# The whole test suite: `cargo test`, the docs built with warnings as errors,
# the CUDA build type-checked, every notebook executed headless, and the
# Snakemake workflow on two tiny jobs.
#
#   bash scripts/test.sh
#
# First run on a fresh machine installs the notebook toolchain (about 10
# minutes, once): the evcxr Jupyter kernel (cargo install, into
# target/notebook-env), rust-src (rustup), and nbclient + snakemake (a
# Python venv in target/notebook-env). The benchmark is the shipped data/benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

ENV_DIR="$PWD/target/notebook-env"
mkdir -p "$ENV_DIR"

# evcxr compiles every cell against the standard library's sources: with
# rustup, add them; with any other Rust (conda-forge's, a distribution's),
# they must already be there.
RUST_SRC="$(rustc --print sysroot)/lib/rustlib/src/rust/library"
if [ ! -d "$RUST_SRC" ]; then
  if command -v rustup >/dev/null 2>&1; then
    rustup component add rust-src
  else
    echo "scripts/test.sh: $RUST_SRC is missing: the notebooks' evcxr kernel needs the standard" >&2
    echo "library's sources. Install them beside this Rust (conda: 'conda install -c conda-forge rust-src';" >&2
    echo "Debian: 'apt install rust-src'), or use rustup ('rustup component add rust-src')." >&2
    exit 1
  fi
fi
if [ ! -x "$ENV_DIR/bin/evcxr_jupyter" ]; then
  # opt-level 1: the kernel mostly waits on rustc, and a fully optimised
  # build of it is the slowest step of a fresh CI run.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install --locked --root "$ENV_DIR" evcxr_jupyter@0.22.0
fi
if [ ! -x "$ENV_DIR/venv/bin/python" ]; then
  python3 -m venv "$ENV_DIR/venv"
  "$ENV_DIR/venv/bin/pip" install -q -r notebooks/requirements.txt
fi
if [ ! -x "$ENV_DIR/venv/bin/snakemake" ]; then
  "$ENV_DIR/venv/bin/pip" install -q -r workflow/requirements.txt
fi
export PATH="$ENV_DIR/bin:$PATH"
# The kernel spec goes under this folder, not the user's Jupyter data dir.
export JUPYTER_DATA_DIR="$ENV_DIR/jupyter"
export JUPYTER_PATH="$ENV_DIR/jupyter"
evcxr_jupyter --install >/dev/null
# evcxr's own settings: a 3 GB cache of compiled crates (a smaller one is
# corrupted by plotly's dependencies), so notebooks after the first reuse dfdx.
export EVCXR_CONFIG_DIR="$ENV_DIR/evcxr-config"
mkdir -p "$EVCXR_CONFIG_DIR"
echo ":cache 3000" > "$EVCXR_CONFIG_DIR/init.evcxr"
export CIRCSSNN_NOTEBOOK_PYTHON="$ENV_DIR/venv/bin/python"
export CIRCSSNN_SNAKEMAKE="$ENV_DIR/venv/bin/snakemake"

# Each step's elapsed time goes to stderr, so a slow CI run shows where it went.
step() { echo "[test.sh] $1 done at ${SECONDS}s" >&2; }
step "toolchain install"
cargo test --locked
step "cargo test"
# Beside the notebooks (whose training keeps one core busy), in target
# folders of their own so nothing waits on another's lock:
# - every doc link resolves (rustdoc warnings are errors here, not in builds);
# - the CUDA build type-checks, every target (dfdx's `ci-check` feature
#   stands in for the CUDA toolkit: the Rust code is checked against the
#   `Cuda` device, the kernels are not compiled; scripts/build-cuda.sh
#   builds the real binary).
(
  RUSTDOCFLAGS="-D warnings" CARGO_TARGET_DIR="$PWD/target/doc-check" \
    cargo doc --no-deps --locked
  step "cargo doc"
  CARGO_TARGET_DIR="$PWD/target/cuda-check" \
    cargo check --locked --all-targets --features cuda,dfdx/ci-check
  step "cargo check --features cuda"
) &
beside_pid=$!
cargo test --locked --test notebooks --test workflow -- --ignored
step "notebooks and workflow"
wait "$beside_pid"
step "docs and the CUDA check (run beside the notebooks)"
