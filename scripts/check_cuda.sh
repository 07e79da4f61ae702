#!/usr/bin/env bash
# Compiles bert-train's `cuda` feature on a machine without a GPU or a CUDA install: fetches
# NVIDIA's CUDA 13.0 compiler wheels from PyPI into a directory of their own, points candle's
# build at them and runs `cargo check -p bert-train --features cuda --all-targets`. Checking is enough to
# catch code that only breaks with the feature; linking needs the driver's libcuda.so.
#
#   scripts/check_cuda.sh [TOOLKIT_DIR]      (default: target/cuda-toolkit; ~1.2 GB)
#
# Takes 10-20 minutes on 2 cores, most of it nvcc compiling candle's kernels. CUDA_COMPUTE_CAP
# (default 90) picks the kernels' architecture, as there is no nvidia-smi to ask.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-target/cuda-toolkit}
cuda=$dir/nvidia/cu13
if [ ! -x "$cuda/bin/nvcc" ]; then
  # The CUDA 12 wheels ship ptxas but no nvcc; the 13.0 ones ship the whole compiler.
  python3 -m pip install --quiet --no-deps --target "$dir" "nvidia-cuda-nvcc==13.0.88" \
    "nvidia-nvvm==13.0.88" "nvidia-cuda-crt==13.0.88" "nvidia-cuda-runtime==13.0.96" \
    "nvidia-cuda-cccl==13.0.*" "nvidia-cuda-nvrtc==13.0.*"
  # nvcc looks for headers and libraries under targets/x86_64-linux; cudarc under lib64.
  mkdir -p "$cuda/targets/x86_64-linux"
  ln -sfn ../../include "$cuda/targets/x86_64-linux/include"
  ln -sfn ../../lib "$cuda/targets/x86_64-linux/lib"
  ln -sfn lib "$cuda/lib64"
fi
CUDA_HOME=$(cd "$cuda" && pwd)
export CUDA_HOME PATH=$CUDA_HOME/bin:$PATH CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/cuda}
cargo check -p bert-train --features cuda --all-targets
echo "cuda feature: cargo check passed (CUDA $(nvcc --version | grep -o 'release [0-9.]*'))"
