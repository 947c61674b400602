"""Time the NB201 -> DeepNets-1M build of all 15,625 nets (`python -m benchmarks build`)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def build_timing(raw_dir: Path, workers: int) -> dict:
    from tart.spaces.nb201.build import BuildOutputs, build_nb201

    with tempfile.TemporaryDirectory() as tmp:
        out = BuildOutputs(*(Path(tmp) / name for name in ("n.hdf5", "n.json", "labels.parquet", "shapes.parquet")))
        start = time.perf_counter()
        build_nb201(raw_dir, out, "nb201", None, workers, 250)
        seconds = time.perf_counter() - start
    return {
        "nets": 15625,
        "workers": workers,
        "seconds": round(seconds, 1),
        "nets_per_second": round(15625 / seconds, 1),
    }


def build_markdown(result: dict) -> str:
    return (f"| nets | workers | seconds | nets/s |\n|---|---|---|---|\n"
            f"| {result['nets']:,} | {result['workers']} | {result['seconds']} | {result['nets_per_second']} |")
