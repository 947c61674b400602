import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tart.core import files, schemas
from tart.tokens.canonical_order import canonical_order, canonical_tokens, reorder_row
from tart.tokens.isomorphism import token_graph
from tart.tokens.tokenize import tokenize_row, vocabulary

# One cell with two branches from node 0 to node 3: a conv then a pool, and a lone conv.
PRIMS = [9, 4, 0, 4, 5]
SHAPES = [[], [8, 8, 3, 3], [], [8, 8, 1, 1], []]
EDGES = [(0, 1), (1, 2), (0, 3), (2, 4), (3, 4)]
ORDERS = ([0, 1, 2, 3, 4], [0, 3, 1, 2, 4])  # two file orders: the conv-pool branch first, or the lone conv


def graph_row(net: int, order: list[int]) -> dict:
    """The graph above with its nodes written in `order` (a topological order of the original ids)."""
    new = {old: k for k, old in enumerate(order)}
    edges = sorted((new[a], new[b]) for a, b in EDGES)
    return {"net": net, "split": "s", "num_nodes": 5, "primitives": [PRIMS[k] for k in order],
            "cells": [0] * 5, "shapes": [SHAPES[k] for k in order],
            "edge_src": [a for a, _ in edges], "edge_dst": [b for _, b in edges]}  # fmt: skip


def canonical(row: dict) -> dict:
    return reorder_row(row, canonical_order(token_graph(row)))


def test_two_file_orders_of_one_network_become_one_sequence():
    first, second = (tokenize_row(graph_row(n, order), vocabulary()) for n, order in enumerate(ORDERS))
    sequence = ("tokens", "shape_tokens", "near_tokens", "far_tokens")
    assert any(first[c] != second[c] for c in sequence)  # file order tells them apart
    a, b = canonical(first), canonical(second)
    assert all(a[c] == b[c] for c in sequence)
    assert sorted(zip(a["edge_src"], a["edge_dst"])) == sorted(zip(b["edge_src"], b["edge_dst"]))


def test_reordering_keeps_a_topological_order_and_recomputes_offsets():
    row = tokenize_row(graph_row(0, ORDERS[1]), vocabulary())
    out = canonical(row)
    assert all(s < d for s, d in zip(out["edge_src"], out["edge_dst"]))
    assert sorted(out["tokens"]) == sorted(row["tokens"]) and out["length"] == row["length"]
    rebuilt = tokenize_row({"net": 0, "split": "s", "num_nodes": 5, "primitives": [t - 1 for t in out["tokens"]],
                            "cells": out["cells"], "shapes": [[]] * 5, "edge_src": out["edge_src"],
                            "edge_dst": out["edge_dst"]}, vocabulary())  # fmt: skip
    assert (rebuilt["near_tokens"], rebuilt["far_tokens"]) == (out["near_tokens"], out["far_tokens"])


def test_canonical_tokens_rewrite_every_shard_and_keep_the_vocabulary(tmp_path):
    rows = [tokenize_row(graph_row(n, order), vocabulary()) for n, order in enumerate(ORDERS)]
    source = tmp_path / "tokens"
    files.write_table(pa.Table.from_pylist(rows, schemas.TOKENS), source / "tokens-00000.parquet", schemas.TOKENS)
    (source / "vocab.json").write_text('{"tokens": {}}')
    assert canonical_tokens(source, tmp_path / "canonical") == 2
    out = pq.read_table(tmp_path / "canonical" / "tokens-00000.parquet").to_pylist()
    assert out[0]["tokens"] == out[1]["tokens"] and out[0]["near_tokens"] == out[1]["near_tokens"]
    assert (tmp_path / "canonical" / "vocab.json").read_text() == '{"tokens": {}}'
    with pytest.raises(FileNotFoundError, match="run the tokenize stage"):
        canonical_tokens(tmp_path / "missing", tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()
