#!/usr/bin/env bash
# The published NAR-Former recipe (width 192, 6 encoder blocks + fusion stages 4-2-1, 4000 epochs, batch 128) at 5%
# and 10% of NB201 for one seed on a GPU (reports/benchmarks/gpu_narformer.json and .md). Needs
# data/build/labels.parquet. `scripts/gpu_narformer.sh dry` rehearses it on a CPU in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m benchmarks gpu-narformer "${1:-full}"
