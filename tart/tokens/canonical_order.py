"""A node order that depends on the graph only, so that isomorphic token graphs become one token sequence.

File order is whatever the source wrote (NB201 lists a cell's branches in arch-string order), so TART can read
one network as several sequences. The canonical order is a topological order that, among the nodes ready next,
takes the one whose Weisfeiler-Lehman subtree hash (its tokens and its in- and out-neighbourhoods, three rounds)
sorts first; only nodes the hash cannot tell apart keep their file order between them.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from tart.core import files, schemas
from tart.tokens.isomorphism import token_graph
from tart.tokens.tokenize import predecessor_offsets

NODE_COLUMNS = ("tokens", "shape_tokens", "cells", "cell_tokens")


def canonical_order(graph: nx.DiGraph) -> list[int]:
    """The nodes of a token graph (`tart.tokens.isomorphism.token_graph`) in canonical topological order."""
    with warnings.catch_warnings():  # networkx 3.5 changed directed-graph hashes; they only order nodes here
        warnings.simplefilter("ignore", UserWarning)
        hashes = nx.weisfeiler_lehman_subgraph_hashes(graph, node_attr="label", iterations=3)
    return list(nx.lexicographical_topological_sort(graph, key=lambda node: hashes[node][-1]))


def reorder_row(row: dict, order: list[int]) -> dict:
    """A token row (`schemas.TOKENS`) with its nodes in `order`: node columns permuted, edges renumbered and the
    predecessor offsets recomputed."""
    new_id = np.empty(len(order), dtype=np.int64)
    new_id[order] = np.arange(len(order))
    src, dst = new_id[row["edge_src"]].tolist(), new_id[row["edge_dst"]].tolist()
    near, far = predecessor_offsets(len(order), src, dst)
    nodes = {column: [row[column][k] for k in order] for column in NODE_COLUMNS}
    return {**row, **nodes, "near_tokens": near, "far_tokens": far, "edge_src": src, "edge_dst": dst}


def canonical_tokens(tokens_dir: Path, out_dir: Path) -> int:
    """Copy the token shards of `tokens_dir` into `out_dir` (same shards, same vocabulary) with every net in
    canonical order; returns the number of nets."""
    shards = sorted(tokens_dir.glob("tokens-*.parquet"))
    if not shards:
        raise FileNotFoundError(f"{tokens_dir}: no tokens-*.parquet; run the tokenize stage first")
    count = 0
    with files.atomic_dir(out_dir) as tmp:
        for shard in tqdm(shards, desc="canonical order", unit="shard"):
            rows = [reorder_row(row, canonical_order(token_graph(row))) for row in pq.read_table(shard).to_pylist()]
            files.write_table(pa.Table.from_pylist(rows, schemas.TOKENS), tmp / shard.name, schemas.TOKENS)
            count += len(rows)
        shutil.copyfile(tokens_dir / "vocab.json", tmp / "vocab.json")
    return count
