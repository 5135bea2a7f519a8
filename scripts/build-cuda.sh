#!/usr/bin/env bash
# Build the CUDA-enabled circssnn binary on a machine that has no GPU driver,
# from PyPI's CUDA 13 wheels (nvcc, runtime headers, cuBLAS, NVRTC).
#
#   bash scripts/build-cuda.sh            # -> target/cuda/release/circssnn (+ circssnn-stripped, cuda-agreement-test)
#   CUDA_COMPUTE_CAP=90 bash scripts/build-cuda.sh   # sm_90 = H100/H200 (default)
#
# With a normal CUDA toolkit and driver installed (nvcc and nvidia-smi on PATH)
# none of this is needed: `cargo build --release --features cuda` is enough.
#
# At run time the binary needs libcuda.so.1 (the driver), libnvrtc.so.13 and
# libcublas.so.13 / libcublasLt.so.13; see scripts/run-gpu.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

CAP="${CUDA_COMPUTE_CAP:-90}"
WORK="${CIRCSSNN_CUDA_DIR:-$PWD/.cuda}"
WHEELS=(nvidia-cuda-nvcc==13.5.37 nvidia-cuda-crt==13.5.37 nvidia-nvvm==13.5.37
        nvidia-cuda-runtime==13.5.37 nvidia-cuda-nvrtc==13.5.37 nvidia-cublas==13.10.0.20
        nvidia-cuda-cccl==13.3.5.0.6)

mkdir -p "$WORK/wheels" "$WORK/site" "$WORK/stubs"
if [ ! -x "$WORK/site/nvidia/cu13/bin/nvcc" ]; then
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux2010_x86_64 --platform manylinux1_x86_64 \
    -d "$WORK/wheels" "${WHEELS[@]}"
  for w in "$WORK"/wheels/*.whl; do python3 -m zipfile -e "$w" "$WORK/site"; done
  chmod +x "$WORK"/site/nvidia/cu13/bin/* "$WORK"/site/nvidia/cu13/nvvm/bin/* 2>/dev/null || true
fi
ROOT="$WORK/site/nvidia/cu13"

# Link-time stand-ins. The wheels ship only versioned libraries, so the
# unversioned names the linker looks for are symlinks; libcuda (the driver)
# is not in any wheel, so a stub exporting every driver function cudarc
# binds is built with the soname of the real one, which the GPU machine's
# driver then provides at run time.
for l in nvrtc cublas cublasLt; do ln -sf "$ROOT/lib/lib$l.so.13" "$WORK/stubs/lib$l.so"; done
cargo fetch --locked -q
CUDARC=$(cargo metadata --format-version 1 --locked --features cuda \
  | python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="cudarc"))')
grep -oE 'pub fn cu[A-Za-z0-9_]+' "$(dirname "$CUDARC")/src/driver/sys.rs" | awk '{print $3}' | sort -u \
  | awk '{print "void " $1 "(void) {}"}' > "$WORK/stubs/cuda_stub.c"
cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$WORK/stubs/libcuda.so" "$WORK/stubs/cuda_stub.c"
# dfdx's build script asks nvidia-smi for the GPU's compute capability.
printf '#!/bin/sh\nprintf "compute_cap\\n%s\\n"\n' "${CAP:0:${#CAP}-1}.${CAP: -1}" > "$WORK/stubs/nvidia-smi"
chmod +x "$WORK/stubs/nvidia-smi"

export CUDA_ROOT="$ROOT" CUDA_COMPUTE_CAP="$CAP"
export PATH="$WORK/stubs:$ROOT/bin:$PATH"
export RUSTFLAGS="${RUSTFLAGS:-} -L $WORK/stubs"
cargo build --release --locked --features cuda --target-dir target/cuda
# The CPU-vs-GPU agreement test, as a binary to carry to the GPU machine.
TEST_BIN=$(cargo test --release --locked --features cuda --target-dir target/cuda --test cuda --no-run \
  --message-format=json 2>/dev/null | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "cuda" and m.get("executable"): print(m["executable"])')
cp "$TEST_BIN" target/cuda/cuda-agreement-test
# Copies small enough to carry to a GPU machine: the line tables make the
# binary ~98 MB and the test ~70 MB; stripped they are ~22 MB and ~4 MB
# (panic messages still name file and line: those are not debug info).
strip -o target/cuda/circssnn-stripped target/cuda/release/circssnn
strip target/cuda/cuda-agreement-test
ls -la target/cuda/release/circssnn target/cuda/circssnn-stripped target/cuda/cuda-agreement-test
