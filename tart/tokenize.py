"""`tokenize` stage, TART scheme: one token per graph node, in file order (a topological order), no edge tokens.

Each node gives integer ids only: its primitive (15-way, +1 so that 0 pads), its parameter-shape class, and its cell
index. Anything learned (embeddings, positions) lives in the model.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from tart import schemas
from tart.primitives import PRIMITIVES

PAD = "<pad>"
VOCAB_VERSION = 1
SHAPE_CLASSES: tuple[str, ...] = (
    "none", "vector", "matrix",
    "conv1x1", "conv3x3", "conv5x5", "conv7x7", "conv_other",
    "dw3x3", "dw5x5", "dw7x7", "dw_other", "other",
)  # fmt: skip


def vocabulary() -> dict:
    """The versioned vocabulary; `tests/test_tokenize.py` pins it."""
    return {
        "version": VOCAB_VERSION,
        "scheme": "tart",
        "tokens": {name: i for i, name in enumerate((PAD, *PRIMITIVES))},
        "shape_tokens": {name: i for i, name in enumerate((PAD, *SHAPE_CLASSES))},
    }


def vocab_hash(vocab: dict) -> str:
    return hashlib.sha256(json.dumps(vocab, sort_keys=True).encode()).hexdigest()[:16]


def shape_class(shape: list[int]) -> str:
    """`none` for parameter-free nodes; conv kernels by size, depthwise (one input channel) apart."""
    if not shape:
        return "none"
    if len(shape) == 1:
        return "vector"
    if len(shape) == 2:
        return "matrix"
    if len(shape) == 4:
        kind = "dw" if shape[1] == 1 and shape[0] > 1 else "conv"
        name = f"{kind}{shape[2]}x{shape[3]}"
        return name if name in SHAPE_CLASSES else f"{kind}_other"
    return "other"


def tokenize_row(row: dict, vocab: dict) -> dict:
    """Tokens of one graph row (see `schemas.GRAPHS`)."""
    shape_ids = vocab["shape_tokens"]
    return {
        "net": row["net"],
        "split": row["split"],
        "length": row["num_nodes"],
        "tokens": [p + 1 for p in row["primitives"]],
        "shape_tokens": [shape_ids[shape_class(s)] for s in row["shapes"]],
        "cells": row["cells"],
    }


def tokenize(graphs_dir: Path, out_dir: Path) -> dict:
    """Tokenize every graph shard into a token shard of the same name; write `vocab.json`."""
    shards = sorted(graphs_dir.glob("graphs-*.parquet"))
    if not shards:
        raise FileNotFoundError(f"{graphs_dir}: no graphs-*.parquet shards; run the extract stage first")
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = vocabulary()
    for shard in tqdm(shards, desc="tokenize", unit="shard"):
        rows = pq.read_table(shard).to_pylist()
        table = pa.Table.from_pylist([tokenize_row(r, vocab) for r in rows], schemas.TOKENS)
        schemas.write_table(table, out_dir / shard.name.replace("graphs-", "tokens-"), schemas.TOKENS)
    tmp = out_dir / "vocab.json.tmp"
    tmp.write_text(json.dumps(vocab, indent=2) + "\n")
    os.replace(tmp, out_dir / "vocab.json")
    return vocab
