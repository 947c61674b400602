"""`extract` stage: DeepNets-1M-format HDF5 -> graph Parquet shards (one row per net, in index order)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from tart import schemas
from tart.deepnets1m import DeepNetsFile, FormatError, NetRecord


def _row(rec: NetRecord, shapes: list | None) -> dict:
    if shapes is not None and len(shapes) != len(rec.primitives):
        raise FormatError(
            f"node shapes of {rec.split}/{rec.index}: {len(shapes)} shapes for {len(rec.primitives)} nodes"
        )
    return {
        "net": rec.index,
        "split": rec.split,
        "num_nodes": len(rec.primitives),
        "primitives": rec.primitives.tolist(),
        "cells": rec.cells.tolist(),
        "name_ids": rec.name_ids.tolist(),
        "edge_src": rec.edges[:, 0].tolist(),
        "edge_dst": rec.edges[:, 1].tolist(),
        "shapes": shapes if shapes is not None else [[] for _ in rec.primitives],
        "misaligned": rec.misaligned,
    }


def _load_shapes(path: Path | None, count: int) -> list | None:
    if path is None:
        return None
    table = pq.read_table(path)
    if table.num_rows != count or table["net"].to_pylist() != list(range(count)):
        raise FormatError(f"{path}: expected one row per net 0..{count - 1}, got {table.num_rows} rows")
    return table["shapes"].to_pylist()


def extract(
    h5: Path, meta: Path, split: str, out_dir: Path, repair: str, shard_size: int, shapes: Path | None = None
) -> dict:
    """Write `out_dir/graphs-XXXXX.parquet` shards; returns a summary (counts, misaligned nets, shard names).

    The directory is replaced only when every net has been read and validated.
    """
    summary = {"split": split, "nets": 0, "misaligned": 0, "repair": repair, "shards": []}
    with schemas.atomic_dir(out_dir) as tmp_dir, DeepNetsFile(h5, meta, split) as source:
        node_shapes = _load_shapes(shapes, len(source))
        rows: list[dict] = []
        for index in tqdm(range(len(source)), desc=f"extract {split}", unit="net"):
            rec = source.read(index, repair=repair)
            rows.append(_row(rec, node_shapes[index] if node_shapes is not None else None))
            summary["misaligned"] += rec.misaligned
            if len(rows) == shard_size or index == len(source) - 1:
                name = f"graphs-{len(summary['shards']):05d}.parquet"
                schemas.write_table(pa.Table.from_pylist(rows, schemas.GRAPHS), tmp_dir / name, schemas.GRAPHS)
                summary["shards"].append(name)
                rows = []
        summary["nets"] = len(source)
        (tmp_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
