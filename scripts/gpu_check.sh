#!/usr/bin/env bash
# The GPU check, at most 8 minutes on one H100/H200: the gpu-marked tests, then TART's training throughput at
# d_model 256 / 12 layers / 16 heads in bf16 (reports/benchmarks/gpu_train.json and .md). Needs data/tokens,
# data/build/labels.parquet and data/split (docs/operations.md, "On a GPU"). `scripts/gpu_check.sh dry` rehearses
# it on a CPU in seconds (tiny sizes; writes gpu_train_dry.*, which git ignores).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-full}"
if [ "$size" = full ]; then
  python -m pytest -m gpu -q
fi
python -m benchmarks gpu-train "$size"
