"""NB201 cells as operation-node DAGs, the graph NAR-Former tokenizes.

An NB201 cell has ops on its six edges. Turned inside out, every edge op becomes a node: node 0 is the cell input,
nodes 1-6 the edge ops in `arch_ops` order, node 7 the cell output. An op on edge i -> j reads the ops of the edges
that end in i (or the input when i = 0); the output reads the three ops that end in node 3.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

from tart.spaces.nb201.network import OPS, arch_ops

NODE_OPS = ("input", *OPS, "output")  # integer op ids of the DAG's nodes
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # cell edges in `arch_ops` order
NUM_NODES = len(EDGES) + 2


@cache
def predecessors() -> tuple[tuple[int, ...], ...]:
    """Predecessor node indices of each of the 8 DAG nodes (the same for every cell)."""
    ending_in = {j: tuple(1 + k for k, (_, dst) in enumerate(EDGES) if dst == j) for j in range(4)}
    preds: list[tuple[int, ...]] = [()]
    preds += [(0,) if src == 0 else ending_in[src] for src, _ in EDGES]
    preds.append(ending_in[3])
    return tuple(preds)


def adjacency() -> np.ndarray:
    """(8, 8) bool, [i, j] = node j is a predecessor of node i."""
    adj = np.zeros((NUM_NODES, NUM_NODES), dtype=bool)
    for i, preds in enumerate(predecessors()):
        adj[i, list(preds)] = True
    return adj


def cell_ops(archs: list[str]) -> np.ndarray:
    """(n, 8) op ids of every cell's DAG nodes."""
    index = {op: i for i, op in enumerate(NODE_OPS)}
    rows = [[index["input"], *(index[op] for op in arch_ops(a)), index["output"]] for a in archs]
    return np.array(rows, dtype=np.int64)


@cache
def renumberings() -> np.ndarray:
    """Every numbering of the DAG's nodes that is still a topological order (input first, output last), as
    (k, 8) arrays mapping old index -> new index. Renumbering changes the tokens, not the information flow."""
    preds = predecessors()
    valid = []
    for middle in itertools.permutations(range(1, NUM_NODES - 1)):
        new = np.array([0, *middle, NUM_NODES - 1])
        if all(new[p] < new[i] for i in range(NUM_NODES) for p in preds[i]):
            valid.append(new)
    return np.stack(valid)


def renumber(ops: np.ndarray, adj: np.ndarray, new_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply one renumbering per cell: ops (n, 8), adj (n, 8, 8), new_index (n, 8) -> renumbered ops and adj."""
    n = len(ops)
    rows = np.arange(n)[:, None]
    new_ops = np.empty_like(ops)
    new_ops[rows, new_index] = ops
    new_adj = np.zeros_like(adj)
    new_adj[rows[:, :, None], new_index[:, :, None], new_index[:, None, :]] = adj
    return new_ops, new_adj
