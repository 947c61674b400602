"""`split` stage, the NAS-Bench-201 predictor protocol (NAR-Former, TNASP).

Train on the first `train_size` architectures in official index order, validate on the next `val_size`, test on
all 15,625 (and separately on every architecture not used for training).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from tart.core import files, schemas


class SplitError(ValueError):
    pass


def nb201_roles(num_nets: int, train_size: int, val_size: int) -> list[str]:
    """Role of each index: 'train', 'val' or 'rest'."""
    if train_size + val_size > num_nets:
        raise SplitError(f"train_size {train_size} + val_size {val_size} exceeds the {num_nets} available nets")
    return ["train"] * train_size + ["val"] * val_size + ["rest"] * (num_nets - train_size - val_size)


def write_split(num_nets: int, train_size: int, val_size: int, path: Path) -> pa.Table:
    table = pa.table({"net": list(range(num_nets)), "role": nb201_roles(num_nets, train_size, val_size)})
    files.write_table(table, path, schemas.SPLIT)
    return table
