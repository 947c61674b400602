"""Flow task functions called through `.fn()` (no Prefect server); the full chain runs in test_pipeline.py."""

import pyarrow as pa
import pyarrow.parquet as pq

from tart.core import files, schemas


def test_split_task(tmp_path):
    from flows.split import split_task

    labels = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"net": list(range(12))}), labels)
    split_task.fn(labels, 5, 3, tmp_path / "split.parquet")
    roles = pq.read_table(tmp_path / "split.parquet").to_pydict()["role"]
    assert roles == ["train"] * 5 + ["val"] * 3 + ["rest"] * 4


def test_fetch_task(mirror, tmp_path):
    from helpers import ROOT

    from flows.fetch import fetch_files

    paths = fetch_files.fn(ROOT / "data" / "manifest.tsv", ["nb201_nasgraph/nasbench201_cifar10.csv"], tmp_path, mirror)
    assert paths[0].stat().st_size == 2383893


def test_tokenize_task(tmp_path):
    from flows.tokenize import tokenize_task

    graphs = tmp_path / "graphs"
    graphs.mkdir()
    row = {"net": 0, "split": "s", "num_nodes": 2, "primitives": [9, 4], "cells": [0, 0], "name_ids": [0, 1],
           "edge_src": [0], "edge_dst": [1], "shapes": [[], [4, 3, 1, 1]], "misaligned": False}  # fmt: skip
    files.write_table(pa.Table.from_pylist([row], schemas.GRAPHS), graphs / "graphs-00000.parquet", schemas.GRAPHS)
    tokenize_task.fn(graphs, tmp_path / "tokens")
    assert pq.read_table(tmp_path / "tokens" / "tokens-00000.parquet")["tokens"].to_pylist() == [[10, 5]]
