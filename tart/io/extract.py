"""`extract` stage: DeepNets-1M-format HDF5 -> graph Parquet shards (one row per net, in index order).

`extract_files` reads several files of one split as the single file they would merge into (the generator's shards:
a million nets need no merged copy and no serial merge)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from tart.core import files, schemas
from tart.core.parallel import parallel_map
from tart.io.deepnets1m import DeepNetsFile, FormatError, NetRecord


def record_row(rec: NetRecord, shapes: list | None) -> dict:
    """One net of a DeepNets-1M file as a row of the graph shards (`schemas.GRAPHS`)."""
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
        "shapes": shapes if shapes is not None else [[]] * len(rec.primitives),
        "misaligned": rec.misaligned,
    }


def load_node_shapes(path: Path | None, count: int) -> pa.ChunkedArray | None:
    """The `shapes` column of a node-shapes Parquet (one row per net 0..count-1), or None without one; kept as
    Arrow so a caller converts only the slice it works on."""
    if path is None:
        return None
    try:
        table = pq.read_table(path, columns=["net", "shapes"])
    except (OSError, pa.ArrowInvalid) as exc:
        raise FormatError(f"{path}: not a node-shapes Parquet with columns net, shapes ({exc})") from exc
    if table.num_rows != count or table["net"].to_pylist() != list(range(count)):
        raise FormatError(f"{path}: expected one row per net 0..{count - 1}, got {table.num_rows} rows")
    return table["shapes"]


_source: DeepNetsFile | None = None  # the file a worker process reads (its meta JSON is parsed once per process)


def _open_source(h5: Path, meta: Path, split: str) -> None:
    global _source
    _close_source()
    _source = DeepNetsFile(h5, meta, split)


def _close_source() -> None:
    global _source
    if _source is not None:
        _source.h5.close()
        _source = None


def _extract_shard(job: tuple[str, int, int, Path, list | None, str]) -> tuple[str, int]:
    """Nets start..stop-1 of the worker's file -> one graphs shard; returns (shard name, misaligned nets)."""
    repair, start, stop, out_dir, shapes, name = job
    assert _source is not None, "worker started without _open_source"
    rows, misaligned = [], 0
    for index in range(start, stop):
        rec = _source.read(index, repair=repair)
        rows.append(record_row(rec, shapes[index - start] if shapes is not None else None))
        misaligned += rec.misaligned
    files.write_table(pa.Table.from_pylist(rows, schemas.GRAPHS), out_dir / name, schemas.GRAPHS)
    return name, misaligned


def extract(
    h5: Path,
    meta: Path,
    split: str,
    out_dir: Path,
    repair: str,
    shard_size: int,
    shapes: Path | None = None,
    workers: int | None = None,
) -> dict:
    """Write `out_dir/graphs-XXXXX.parquet` shards (shard k = nets k*shard_size...); returns a summary.

    Shards are read and written by `workers` processes (default: one per core); the output does not depend on it.
    The directory is replaced only when every net has been read and validated.
    """
    summary = {"split": split, "nets": 0, "misaligned": 0, "repair": repair, "shards": []}
    with files.atomic_dir(out_dir) as tmp_dir:
        with DeepNetsFile(h5, meta, split) as source:
            count = len(source)
        node_shapes = load_node_shapes(shapes, count)
        jobs = [
            (repair, start, min(start + shard_size, count), tmp_dir,
             node_shapes.slice(start, shard_size).to_pylist() if node_shapes is not None else None,
             f"graphs-{k:05d}.parquet")
            for k, start in enumerate(range(0, count, shard_size))
        ]  # fmt: skip
        with tqdm(total=count, desc=f"extract {split}", unit="net") as bar:
            try:
                results = parallel_map(_extract_shard, jobs, workers, _open_source, (h5, meta, split),
                                       name=lambda job: f"{h5} nets {job[1]}..{job[2] - 1} (shard {job[5]})")
                for (name, misaligned), job in zip(results, jobs):
                    summary["shards"].append(name)
                    summary["misaligned"] += misaligned
                    bar.update(job[2] - job[1])
            finally:
                _close_source()
        summary["nets"] = count
        (tmp_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _file_names(pair: tuple[Path, Path, str]) -> tuple[int, list[str]]:
    """(net count, op names in the file's id order) of one file."""
    h5, meta, split = pair
    with DeepNetsFile(h5, meta, split) as source:
        return len(source), [source.names[str(k)] for k in range(len(source.names))]


def _extract_file(job: tuple[Path, Path, str, str, int, np.ndarray, Path, str]) -> tuple[str, int, int]:
    """One whole file -> one graphs shard, nets numbered from `start`, op-name ids mapped through `remap`; returns
    (shard name, nets, misaligned nets)."""
    h5, meta, split, repair, start, remap, out_dir, name = job
    rows, misaligned = [], 0
    with DeepNetsFile(h5, meta, split) as source:
        for index in range(len(source)):
            rec = source.read(index, repair=repair)
            rows.append({**record_row(rec, None), "net": start + index, "name_ids": remap[rec.name_ids].tolist()})
            misaligned += rec.misaligned
    files.write_table(pa.Table.from_pylist(rows, schemas.GRAPHS), out_dir / name, schemas.GRAPHS)
    return name, len(rows), misaligned


def extract_files(pairs: list[tuple[Path, Path]], split: str, out_dir: Path, repair: str,
                  workers: int | None = None) -> dict:  # fmt: skip
    """The (HDF5, meta) files of one split, read in order as if merged into one file, -> one graphs shard per file.

    Net numbers run on across the files and op-name ids are those the merged file would give (first seen, first
    numbered), so when every file but the last holds the same number of nets the output is byte for byte what
    `extract` writes from the merged file with that shard size. Each file is read by one worker, whole; nothing is
    written unless every net of every file reads and validates.
    """
    if not pairs:
        raise FormatError(f"no {split!r} files to extract into {out_dir}")
    summary = {"split": split, "nets": 0, "misaligned": 0, "repair": repair, "shards": []}
    sources = [(Path(h5), Path(meta), split) for h5, meta in pairs]
    counts, names = zip(*parallel_map(_file_names, sources, workers, name=lambda s: str(s[0])))
    ids: dict[str, int] = {}  # the merged file's op-name ids: the order names are first met in
    remaps = [np.array([ids.setdefault(n, len(ids)) for n in file_names], dtype=np.int64) for file_names in names]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()
    with files.atomic_dir(out_dir) as tmp_dir:
        jobs = [(h5, meta, split, repair, start, remap, tmp_dir, f"graphs-{k:05d}.parquet")
                for k, ((h5, meta, _), start, remap) in enumerate(zip(sources, starts, remaps))]  # fmt: skip
        with tqdm(total=sum(counts), desc=f"extract {split} ({len(jobs)} files)", unit="net") as bar:
            for name, nets, misaligned in parallel_map(_extract_file, jobs, workers,
                                                             name=lambda job: f"{job[0]} (to {job[-1]})"):
                summary["shards"].append(name)
                summary["misaligned"] += misaligned
                bar.update(nets)
        summary["nets"] = sum(counts)
        (tmp_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
