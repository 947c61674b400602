"""`build` stage: every NAS-Bench-201 network -> DeepNets-1M-format HDF5 + meta, labels and parameter shapes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch
from tqdm import tqdm

from tart.core import files, schemas
from tart.core.parallel import parallel_map
from tart.graphs.graph import ArchGraph
from tart.io import deepnets1m
from tart.spaces.nb201.labels import load_nb201_labels
from tart.spaces.nb201.network import GraphComposer


@dataclass(frozen=True)
class BuildOutputs:
    h5: Path
    meta: Path
    labels: Path
    shapes: Path


_composer: GraphComposer | None = None


def _init_worker() -> None:
    global _composer
    torch.set_num_threads(1)
    _composer = GraphComposer()


def _build_chunk(archs: list[str]) -> list[tuple[ArchGraph, int, np.ndarray]]:
    out = []
    for arch in archs:
        graph, params = _composer.graph(arch)
        out.append((graph, params, deepnets1m.distance_matrix(graph.num_nodes, graph.edge_array())))
    return out


def _graphs(archs: list[str], workers: int, chunk: int) -> Iterator[tuple[ArchGraph, int, np.ndarray]]:
    chunks = [archs[i : i + chunk] for i in range(0, len(archs), chunk)]
    with tqdm(total=len(archs), desc="build NB201 graphs", unit="net") as bar:
        for batch in parallel_map(_build_chunk, chunks, workers, _init_worker,
                                  name=lambda c: f"the chunk of NB201 nets from {c[0]}"):
            bar.update(len(batch))
            yield from batch


def build_nb201(
    raw_dir: Path, out: BuildOutputs, split: str, limit: int | None, workers: int, chunk: int
) -> BuildOutputs:
    """Convert the first `limit` (default all) NB201 networks into split `split`; returns the written paths."""
    for path in (out.h5, out.meta, out.labels, out.shapes):
        path.parent.mkdir(parents=True, exist_ok=True)
    labels = load_nb201_labels(raw_dir, limit)
    archs = labels["arch"].to_pylist()
    params, shapes = [], []
    with deepnets1m.Writer(out.h5, out.meta, split) as writer:
        for index, (graph, n_params, adj) in enumerate(_graphs(archs, workers, chunk)):
            net_args = {"space": "nb201", "arch": archs[index], "n_cells": 17, "num_params": {"cifar10": n_params}}
            writer.add(graph, net_args, adj)
            params.append(n_params)
            shapes.append([list(s) for s in graph.shapes])
    files.write_table(labels.append_column("params", pa.array(params, pa.int64())), out.labels, schemas.LABELS)
    shape_table = pa.table({"net": labels["net"], "shapes": pa.array(shapes, schemas.NODE_SHAPES.field("shapes").type)})
    files.write_table(shape_table, out.shapes, schemas.NODE_SHAPES)
    return out
