"""`tokenize` stage, TART scheme: one token per graph node, in file order (a topological order), no edge tokens.

Only nodes with a path to the output (the last node) are tokenized: a built module keeps ops whose result nothing
reads (an NB201 cell whose output ignores nodes 1 and 2 still holds their convolutions), while the DeepNets-1M format,
traced back from the output, never has them. On NB201 this drops nodes from 21% of the nets (docs/models.md, "Dead
nodes").

Each node gives integer ids only: its primitive (15-way, +1 so that 0 pads), its parameter-shape class, its cell
index (raw, and as a token clipped at MAX_CELL), and the file-order distance to its nearest and farthest
predecessor (so a sum node tells which earlier nodes it adds: on NAS-Bench-201, primitives and shapes alone leave
15,625 cells as only 2,725 distinct sequences). The edge lists ride along for the graph positional encodings
(tart/tokens/positional.py), computed at load time. Anything learned (embeddings, positions) lives in the model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order
from tqdm import tqdm

from tart.core import files, schemas
from tart.core.parallel import parallel_map
from tart.graphs.primitives import PRIMITIVES

PAD = "<pad>"
VOCAB_VERSION = 3  # 3: nodes that do not reach the output are dropped
MAX_OFFSET = 64  # predecessor distances beyond this share one token
MAX_CELL = 63  # cell indices beyond this share one token
# Token column of the shards -> its section of the vocabulary.
CHANNEL_VOCAB = {"tokens": "tokens", "shape_tokens": "shape_tokens", "near_tokens": "offset_tokens",
                 "far_tokens": "offset_tokens", "cell_tokens": "cell_tokens"}  # fmt: skip
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
        "nodes": "reaching the output",
        "tokens": {name: i for i, name in enumerate((PAD, *PRIMITIVES))},
        "shape_tokens": {name: i for i, name in enumerate((PAD, *SHAPE_CLASSES))},
        "offset_tokens": {name: i for i, name in enumerate((PAD, "no_input", *map(str, range(1, MAX_OFFSET + 1))))},
        "cell_tokens": {name: i for i, name in enumerate((PAD, *map(str, range(MAX_CELL + 1))))},
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


def predecessor_offsets(num_nodes: int, src: list[int], dst: list[int]) -> tuple[list[int], list[int]]:
    """Offset tokens of each node's nearest and farthest predecessor (1 = no input, 1 + d for distance d)."""
    near, far = [1] * num_nodes, [1] * num_nodes
    for a, b in zip(src, dst):
        token = 1 + min(b - a, MAX_OFFSET)
        near[b] = token if near[b] == 1 else min(near[b], token)
        far[b] = max(far[b], token)
    return near, far


def live_nodes(num_nodes: list[int] | np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Bool mask over the nodes of one or more nets (node ids global, nets back to back): the nodes with a path to
    their net's last node, found by one breadth-first search from an extra node that feeds every last node."""
    counts = np.asarray(num_nodes, dtype=np.int64)
    total = int(counts.sum())
    lasts = np.cumsum(counts)[counts > 0] - 1
    rows = np.concatenate([np.asarray(dst, dtype=np.int64), np.full(len(lasts), total)])  # reversed edges
    cols = np.concatenate([np.asarray(src, dtype=np.int64), lasts])
    adjacency = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(total + 1, total + 1)).tocsr()
    live = np.zeros(total + 1, dtype=bool)
    live[breadth_first_order(adjacency, total, directed=True, return_predecessors=False)] = True
    return live[:total]


def prune_row(row: dict) -> dict:
    """`row` without the nodes that do not reach its last node (edges renumbered)."""
    src, dst = np.asarray(row["edge_src"], dtype=np.int64), np.asarray(row["edge_dst"], dtype=np.int64)
    keep = live_nodes([row["num_nodes"]], src, dst)
    if keep.all():
        return row
    new_id = np.cumsum(keep) - 1
    edge_kept = keep[src] & keep[dst]
    kept = np.flatnonzero(keep)
    return {**row, "num_nodes": len(kept), "primitives": [row["primitives"][k] for k in kept],
            "cells": [row["cells"][k] for k in kept], "shapes": [row["shapes"][k] for k in kept],
            "edge_src": new_id[src[edge_kept]].tolist(), "edge_dst": new_id[dst[edge_kept]].tolist()}  # fmt: skip


def prune_table(graphs: pa.Table) -> pa.Table:
    """`prune_row` over a whole graphs table at once."""
    lengths = graphs["num_nodes"].to_numpy().astype(np.int64)
    node_offsets = np.concatenate([[0], np.cumsum(lengths)])
    src, edge_offsets = _flat(graphs["edge_src"])
    dst, _ = _flat(graphs["edge_dst"])
    base = np.repeat(node_offsets[:-1], np.diff(edge_offsets))
    keep = live_nodes(lengths, base + src, base + dst)
    if keep.all():
        return graphs
    net_of_node = np.repeat(np.arange(len(lengths)), lengths)
    new_lengths = np.bincount(net_of_node[keep], minlength=len(lengths))
    new_offsets = np.concatenate([[0], np.cumsum(new_lengths)])
    new_global = np.cumsum(keep) - 1  # kept node -> its global id after pruning
    edge_kept = keep[base + src] & keep[base + dst]
    net_of_edge = np.repeat(np.arange(len(lengths)), np.diff(edge_offsets))
    edge_counts = np.bincount(net_of_edge[edge_kept], minlength=len(lengths))
    edge_starts = pa.array(np.concatenate([[0], np.cumsum(edge_counts)]), pa.int32())
    node_starts = pa.array(new_offsets, pa.int32())
    local = new_global - np.repeat(new_offsets[:-1], lengths)  # kept node -> its id within its net

    def nodes(name: str) -> pa.ListArray:
        values = graphs[name].combine_chunks().flatten()
        return pa.ListArray.from_arrays(node_starts, values.filter(pa.array(keep)))

    def edges(values: np.ndarray, like: pa.DataType) -> pa.ListArray:
        return pa.ListArray.from_arrays(edge_starts, pa.array(local[(base + values)[edge_kept]]).cast(like))

    columns = {name: graphs[name] for name in graphs.column_names}
    columns.update(num_nodes=pa.array(new_lengths).cast(graphs.schema.field("num_nodes").type),
                   primitives=nodes("primitives"), cells=nodes("cells"), shapes=nodes("shapes"),
                   edge_src=edges(src, graphs.schema.field("edge_src").type.value_type),
                   edge_dst=edges(dst, graphs.schema.field("edge_dst").type.value_type))  # fmt: skip
    return pa.table(columns)


def tokenize_row(row: dict, vocab: dict) -> dict:
    """Tokens of one graph row (see `schemas.GRAPHS`), after `prune_row`."""
    row = prune_row(row)
    shape_ids = vocab["shape_tokens"]
    near, far = predecessor_offsets(row["num_nodes"], row["edge_src"], row["edge_dst"])
    return {
        "net": row["net"],
        "split": row["split"],
        "length": row["num_nodes"],
        "tokens": [p + 1 for p in row["primitives"]],
        "shape_tokens": [shape_ids[shape_class(s)] for s in row["shapes"]],
        "cells": row["cells"],
        "cell_tokens": [1 + min(c, MAX_CELL) for c in row["cells"]],
        "near_tokens": near,
        "far_tokens": far,
        "edge_src": row["edge_src"],
        "edge_dst": row["edge_dst"],
    }


def _flat(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values, offsets) of a list column: row r owns values[offsets[r]:offsets[r + 1]]."""
    array = column.combine_chunks()
    offsets = array.offsets.to_numpy()
    return array.values.to_numpy(zero_copy_only=False)[offsets[0] : offsets[-1]], offsets - offsets[0]


def _shape_ids(shapes: pa.ChunkedArray, vocab: dict) -> np.ndarray:
    """`shape_class` of every node of every row, vectorised (a million nets have ~160 million nodes)."""
    ids = vocab["shape_tokens"]
    nodes = shapes.combine_chunks().flatten()  # one list of dims per node
    offsets = nodes.offsets.to_numpy()
    dims = nodes.values.to_numpy(zero_copy_only=False)
    ndim = np.diff(offsets)
    out = np.full(len(ndim), ids["other"], dtype=np.int16)
    for rank, name in ((0, "none"), (1, "vector"), (2, "matrix")):
        out[ndim == rank] = ids[name]
    four = np.flatnonzero(ndim == 4)
    d0, d1, d2, d3 = (dims[offsets[four] + k] for k in range(4))
    depthwise = (d1 == 1) & (d0 > 1)
    for kind, mask in (("conv", ~depthwise), ("dw", depthwise)):
        out[four[mask]] = ids[f"{kind}_other"]
        for name in SHAPE_CLASSES:
            if name.startswith(kind) and name[len(kind) :][:1].isdigit():
                h, w = map(int, name[len(kind) :].split("x"))
                out[four[mask & (d2 == h) & (d3 == w)]] = ids[name]
    return out


def tokenize_table(graphs: pa.Table, vocab: dict) -> pa.Table:
    """`tokenize_row` over a whole graphs table at once, with numpy (same ids)."""
    graphs = prune_table(graphs)
    lengths = graphs["num_nodes"].to_numpy()
    node_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    primitives, _ = _flat(graphs["primitives"])
    src, edge_offsets = _flat(graphs["edge_src"])
    dst, _ = _flat(graphs["edge_dst"])
    base = np.repeat(node_offsets[:-1], np.diff(edge_offsets))  # first global node id of each edge's net
    token = 1 + np.minimum(dst - src, MAX_OFFSET)
    near = np.full(node_offsets[-1], np.iinfo(np.int16).max, dtype=np.int16)
    far = np.ones(node_offsets[-1], dtype=np.int16)
    np.minimum.at(near, base + dst, token.astype(np.int16))
    np.maximum.at(far, base + dst, token.astype(np.int16))
    near[near == np.iinfo(np.int16).max] = 1

    def lists(values: np.ndarray) -> pa.ListArray:
        return pa.ListArray.from_arrays(pa.array(node_offsets, pa.int32()), pa.array(values, pa.int16()))

    cells, _ = _flat(graphs["cells"])
    return pa.table({
        "net": graphs["net"], "split": graphs["split"], "length": graphs["num_nodes"],
        "tokens": lists(primitives + 1), "shape_tokens": lists(_shape_ids(graphs["shapes"], vocab)),
        "cells": lists(cells), "cell_tokens": lists(1 + np.minimum(cells, MAX_CELL)),
        "near_tokens": lists(near), "far_tokens": lists(far),
        "edge_src": graphs["edge_src"].cast(pa.list_(pa.int16())),
        "edge_dst": graphs["edge_dst"].cast(pa.list_(pa.int16())),
    })  # fmt: skip


def _tokenize_shard(job: tuple[Path, Path, dict]) -> None:
    shard, out_dir, vocab = job
    table = tokenize_table(pq.read_table(shard), vocab)
    files.write_table(table, out_dir / shard.name.replace("graphs-", "tokens-"), schemas.TOKENS)


def tokenize(graphs_dir: Path, out_dir: Path, workers: int | None = None) -> dict:
    """Tokenize every graph shard into a token shard of the same name (`workers` processes, default one per
    core; the output does not depend on it); write `vocab.json`."""
    shards = sorted(graphs_dir.glob("graphs-*.parquet"))
    if not shards:
        raise FileNotFoundError(f"{graphs_dir}: no graphs-*.parquet shards; run the extract stage first")
    vocab = vocabulary()
    with files.atomic_dir(out_dir) as tmp_dir:
        jobs = [(shard, tmp_dir, vocab) for shard in shards]
        done = parallel_map(_tokenize_shard, jobs, workers, name=lambda job: str(job[0]))
        for _ in tqdm(done, total=len(jobs), desc="tokenize", unit="shard"):
            pass
        (tmp_dir / "vocab.json").write_text(json.dumps(vocab, indent=2) + "\n")
    return vocab
