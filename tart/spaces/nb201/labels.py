"""NAS-Bench-201 labels: join the benchmark tables by official index, refusing gaps and NaNs."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pyarrow as pa

from tart.spaces.nb201.network import NUM_CELLS


class LabelError(ValueError):
    """A label table that is incomplete or inconsistent; the message names the file and the row."""


NATS = "nb201_nats_tss/nats_bench.csv"
CIFAR10_VALID = "nb201_nasgraph/nasbench201_cifar10.csv"


def _read(path: Path, columns: list[str]) -> pl.DataFrame:
    """Read `columns`; accuracy columns are parsed as floats so that a stray string is an error, not a label."""
    text = {"ArchitectureString", "arch str"}
    dtypes = {c: pl.Utf8 if c in text else pl.Int64 if c == "file id" else pl.Float64 for c in columns}
    try:
        frame = pl.read_csv(path, columns=columns, schema_overrides=dtypes)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise LabelError(f"{path}: cannot read columns {columns}: {exc}") from exc
    return frame


def _check_column(path: Path, values: list, column: str, limit: int) -> None:
    if len(values) < limit:
        raise LabelError(
            f"{path}: column {column!r} has {len(values)} rows; a label is missing for index {len(values)}"
        )
    for index, value in enumerate(values[:limit]):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise LabelError(f"{path}: row for index {index}: {column!r} is missing or NaN")


def load_nb201_labels(raw_dir: Path, limit: int | None = None) -> pa.Table:
    """Labels of the first `limit` (default all 15,625) NB201 indices, without params (the build adds them)."""
    n = limit or NUM_CELLS
    nats_path, valid_path = raw_dir / NATS, raw_dir / CIFAR10_VALID
    nats = _read(
        nats_path,
        [
            "ArchitectureString",
            "CIFAR10TestAccuracy200Epochs",
            "CIFAR100TestAccuracy200Epochs",
            "ImageNetTestAccuracy200Epochs",
        ],
    )
    valid = _read(valid_path, ["file id", "arch str", "validation accuracy"])
    columns = {
        "arch": (nats_path, nats["ArchitectureString"]),
        "cifar10_test_acc": (nats_path, nats["CIFAR10TestAccuracy200Epochs"]),
        "cifar100_test_acc": (nats_path, nats["CIFAR100TestAccuracy200Epochs"]),
        "imagenet16_test_acc": (nats_path, nats["ImageNetTestAccuracy200Epochs"]),
        "cifar10_valid_val_acc": (valid_path, valid["validation accuracy"]),
    }
    out = {}
    for name, (path, series) in columns.items():
        values = series.to_list()
        _check_column(path, values, name, n)
        out[name] = values[:n]
    ids = valid["file id"].to_list()[:n]
    for index, (file_id, arch) in enumerate(zip(ids, valid["arch str"].to_list()[:n])):
        if file_id != index or arch != out["arch"][index]:
            raise LabelError(
                f"{valid_path}: row {index} is index {file_id} with arch {arch!r}; expected index {index} with "
                f"{out['arch'][index]!r} as in {nats_path}"
            )
    return pa.table({"net": pa.array(range(n), pa.int32()), **out})
