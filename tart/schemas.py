"""Every Parquet schema of the pipeline, and the one way to write a table (temporary name, then rename)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

LABELS = pa.schema(
    [
        ("net", pa.int32()),
        ("arch", pa.string()),
        ("cifar10_valid_val_acc", pa.float64()),
        ("cifar10_test_acc", pa.float64()),
        ("cifar100_test_acc", pa.float64()),
        ("imagenet16_test_acc", pa.float64()),
        ("params", pa.int64()),
    ]
)

NODE_SHAPES = pa.schema([("net", pa.int32()), ("shapes", pa.list_(pa.list_(pa.int32())))])

GRAPHS = pa.schema(
    [
        ("net", pa.int32()),
        ("split", pa.string()),
        ("num_nodes", pa.int32()),
        ("primitives", pa.list_(pa.uint8())),  # canonical ids, file order
        ("cells", pa.list_(pa.int16())),
        ("name_ids", pa.list_(pa.int32())),
        ("edge_src", pa.list_(pa.int32())),
        ("edge_dst", pa.list_(pa.int32())),
        ("shapes", pa.list_(pa.list_(pa.int32()))),  # empty lists where the source has no shapes
        ("misaligned", pa.bool_()),
    ]
)

TOKENS = pa.schema(
    [
        ("net", pa.int32()),
        ("split", pa.string()),
        ("length", pa.int32()),
        ("tokens", pa.list_(pa.int16())),  # primitive token ids (vocab "tokens")
        ("shape_tokens", pa.list_(pa.int16())),  # parameter-shape token ids (vocab "shape_tokens")
        ("cells", pa.list_(pa.int16())),
    ]
)

SPLIT = pa.schema([("net", pa.int32()), ("role", pa.string())])

PREDICTIONS = pa.schema(
    [
        ("net", pa.int32()),
        ("role", pa.string()),
        ("prediction", pa.float64()),
        ("target", pa.float64()),
    ]
)


def write_table(table: pa.Table, path: Path, schema: pa.Schema) -> None:
    """Cast to `schema` (failing loudly on a mismatch) and write atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table.select(schema.names).cast(schema), tmp)
    os.replace(tmp, path)
