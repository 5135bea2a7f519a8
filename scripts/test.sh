#!/usr/bin/env bash
# The whole test suite: `cargo test`, the docs built with warnings as errors,
# the CUDA build type-checked, the vendored dfdx's own tests, every notebook
# executed headless, and the Snakemake workflow on two tiny jobs.
#
#   bash scripts/test.sh
#
# First run on a fresh machine installs the notebook toolchain (about 10
# minutes of compiling, once, beside `cargo test`): the evcxr Jupyter kernel
# (cargo install, into target/notebook-env), rust-src (rustup), and nbclient
# + snakemake (a Python venv in target/notebook-env). The benchmark is the shipped data/benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's elapsed time goes to stderr, so a slow CI run shows where it went.
step() { echo "[test.sh] $1 done at ${SECONDS}s" >&2; }
# A failing step ends the run; nothing it started in the background outlives it.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

# Two jobs run in the background, niced, from the start: they take the core
# `cargo test` leaves idle for much of its run (most test binaries hold one
# long test) and the one the notebooks leave (a kernel compiles and trains
# on one core). Measured on a fresh clone of 999b93f on 2 cores, when both
# ran after `cargo test` (the toolchain first, the checks beside the
# notebooks): toolchain 528 s, `cargo test` 2,421 s, notebooks and workflow
# 1,807 s, and the checks 2,034 s, so the checks, not the notebooks, ended
# the run (83 min in all, beside other work; CI read 73 min). With both in
# the background (fresh clone of 600d521, same machine, less other work):
# `cargo test` ended at 2,282 s, the toolchain 151 s after it, the checks
# at 3,330 s, the notebooks and workflow at 3,808 s (63 min in all).
#
# 1. The notebook toolchain (~8 minutes of compiling evcxr on a fresh
#    machine); only the notebooks and the workflow need it.
mkdir -p target
install_log="$PWD/target/notebook-env-install.log"
(
  renice -n 10 -p "$BASHPID" >/dev/null 2>&1 || true
  source scripts/notebook-env.sh
  if [ ! -x "$ENV_DIR/venv/bin/snakemake" ]; then
    "$ENV_DIR/venv/bin/pip" install -q -r workflow/requirements.txt
  fi
) >"$install_log" 2>&1 &
install_pid=$!
# 2. Checks, in target folders of their own so nothing waits on another's
#    lock (niced below the toolchain, which the notebooks wait for):
#    - every doc link resolves (rustdoc warnings are errors here, not in
#      builds);
#    - the CUDA build type-checks, every target (dfdx's `ci-check` feature
#      stands in for the CUDA toolkit: the Rust code is checked against the
#      `Cuda` device, the kernels are not compiled; scripts/build-cuda.sh
#      builds the real binary);
#    - the vendored dfdx's own tests (vendor/dfdx/PATCHES.md): upstream's,
#      and the patches' against dfdx's composition of the same operations.
checks_log="$PWD/target/checks.log"
(
  renice -n 15 -p "$BASHPID" >/dev/null 2>&1 || true
  RUSTDOCFLAGS="-D warnings" CARGO_TARGET_DIR="$PWD/target/doc-check" \
    cargo doc --no-deps --locked
  step "cargo doc"
  CARGO_TARGET_DIR="$PWD/target/cuda-check" \
    cargo check --locked --all-targets --features cuda,dfdx/ci-check
  step "cargo check --features cuda"
  root=$PWD
  (cd vendor/dfdx && CARGO_TARGET_DIR="$root/target/dfdx-test" \
    cargo test --locked --release --lib --no-default-features --features std,cpu,fast-alloc)
  step "vendored dfdx tests"
) >"$checks_log" 2>&1 &
checks_pid=$!

cargo test --locked
step "cargo test"

if ! wait "$install_pid"; then
  echo "scripts/test.sh: installing the notebook toolchain failed; its log, $install_log:" >&2
  cat "$install_log" >&2
  exit 1
fi
step "toolchain install (in the background)"
# Installed now: this only exports what the kernel and Jupyter read.
source scripts/notebook-env.sh
export CIRCSSNN_NOTEBOOK_PYTHON="$ENV_DIR/venv/bin/python"
export CIRCSSNN_SNAKEMAKE="$ENV_DIR/venv/bin/snakemake"
cargo test --locked --test notebooks --test workflow -- --ignored
step "notebooks and workflow"
checks_ok=0
wait "$checks_pid" || checks_ok=$?
# Their output, whether they passed or not (it was kept apart so as not to
# interleave with the tests').
cat "$checks_log"
if [ "$checks_ok" -ne 0 ]; then
  echo "scripts/test.sh: the docs, the CUDA check or dfdx's tests failed (above)" >&2
  exit 1
fi
step "docs, the CUDA check and dfdx's tests (in the background)"
