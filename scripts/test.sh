#!/usr/bin/env bash
# The whole test suite: `cargo test`, the docs built with warnings as errors,
# the CUDA build type-checked, the vendored dfdx's own tests, every notebook
# executed headless, and the Snakemake workflow on two tiny jobs.
#
#   bash scripts/test.sh
#
# First run on a fresh machine installs the notebook toolchain (about 10
# minutes, once): the evcxr Jupyter kernel (cargo install, into
# target/notebook-env), rust-src (rustup), and nbclient + snakemake (a
# Python venv in target/notebook-env). The benchmark is the shipped data/benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/notebook-env.sh
if [ ! -x "$ENV_DIR/venv/bin/snakemake" ]; then
  "$ENV_DIR/venv/bin/pip" install -q -r workflow/requirements.txt
fi
export CIRCSSNN_NOTEBOOK_PYTHON="$ENV_DIR/venv/bin/python"
export CIRCSSNN_SNAKEMAKE="$ENV_DIR/venv/bin/snakemake"

# Each step's elapsed time goes to stderr, so a slow CI run shows where it went.
step() { echo "[test.sh] $1 done at ${SECONDS}s" >&2; }
step "toolchain install"
cargo test --locked
step "cargo test"
# Beside the notebooks (whose training keeps one core busy), in target
# folders of their own so nothing waits on another's lock (the vendored
# dfdx's own tests too):
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
  # The vendored dfdx's own tests (vendor/dfdx/PATCHES.md): upstream's, and
  # the patches' against dfdx's composition of the same operations.
  root=$PWD
  (cd vendor/dfdx && CARGO_TARGET_DIR="$root/target/dfdx-test" \
    cargo test --locked --release --lib --no-default-features --features std,cpu,fast-alloc)
  step "vendored dfdx tests"
) &
beside_pid=$!
cargo test --locked --test notebooks --test workflow -- --ignored
step "notebooks and workflow"
wait "$beside_pid"
step "docs, the CUDA check and dfdx's tests (run beside the notebooks)"
