"""The one way the pipeline writes a file: to a temporary sibling, renamed into place only when complete, so a
crash or an error never leaves a half-written output (and a reader never sees one)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def temporary_name(path: Path) -> Path:
    """`name.tmp` beside `path` (git- and DVC-ignored)."""
    return path.with_name(path.name + ".tmp")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces `path` only if the block succeeds, else it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_table(table: pa.Table, path: Path, schema: pa.Schema) -> None:
    """Cast to `schema` (failing loudly on a mismatch) and write atomically."""
    with atomic_path(path) as tmp:
        pq.write_table(table.select(schema.names).cast(schema), tmp)


def write_json(obj: object, path: Path) -> None:
    """Indented JSON, written atomically."""
    write_text(path, json.dumps(obj, indent=2) + "\n")


@contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary sibling directory that replaces `out_dir` only if the block succeeds."""
    tmp = temporary_name(out_dir)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
