"""Which NB201 cells build the same network, up to the naming of their weights.

A cell computes through a small DAG of op instances: the input, one node per live edge op other than a skip
connection, and the output. A skip is the identity, so the value at a cell node is the multiset of instances (or
the input) that reach it through skips; an instance reads the value at its edge's source, the output the value at
node 3, each with its multiplicity (x + x is 2x). `none` and dead ops (tart.spaces.nb201.cell_paths.live_ops) contribute
nothing. Two cells compute the same function exactly when these DAGs are isomorphic, op labels and multiplicities
included: e.g. a 3x3 conv into node 1 followed by a skip to the output equals the 3x3 conv on edge 0 -> 3.
"""

from __future__ import annotations

import warnings
from collections import Counter
from functools import cache

import networkx as nx
import numpy as np

from tart.spaces.nb201.cell_paths import live_ops
from tart.spaces.nb201.cells import EDGES
from tart.spaces.nb201.network import OPS, all_arch_ops, arch_ops


def instance_graph(ops: tuple[str, ...]) -> nx.DiGraph:
    """The op-instance DAG of a cell: nodes "in", edge indices 0-5 (non-skip live ops), "out"; node attribute
    "op", edge attribute "times" (multiplicity, as a string for hashing)."""
    live = live_ops(ops)
    graph = nx.DiGraph()
    graph.add_node("in", op="input")
    value: dict[int, Counter] = {0: Counter({"in": 1})}
    for node in (1, 2, 3):
        reaching: Counter = Counter()
        for edge, ((src, dst), op) in enumerate(zip(EDGES, live)):
            if dst != node or op == "none":
                continue
            if op == "skip_connect":
                reaching.update(value[src])
                continue
            graph.add_node(edge, op=op)
            graph.add_edges_from((origin, edge, {"times": str(k)}) for origin, k in value[src].items())
            reaching[edge] += 1
        value[node] = reaching
    graph.add_node("out", op="output")
    graph.add_edges_from((origin, "out", {"times": str(k)}) for origin, k in value[3].items())
    return graph


def function_key(ops: tuple[str, ...]) -> str:
    """Weisfeiler-Lehman hash of the instance graph: isomorphic graphs always share it (that the hash merges no
    non-isomorphic NB201 cells is checked by a test over the whole space)."""
    with warnings.catch_warnings():  # networkx 3.5 changed directed-graph hashes; keys never leave the process
        warnings.simplefilter("ignore", UserWarning)
        return nx.weisfeiler_lehman_graph_hash(instance_graph(ops), node_attr="op", edge_attr="times")


@cache
def representatives() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Every NB201 cell -> the representative of its class: the smallest live-op cell (ops compared by their
    index in OPS, edge by edge) among all cells of the space that compute the same function."""
    index = {op: k for k, op in enumerate(OPS)}
    cells = all_arch_ops()
    keys = [function_key(ops) for ops in cells]
    smallest: dict[str, tuple[str, ...]] = {}
    for ops, key in zip(cells, keys):
        live = live_ops(ops)
        if key not in smallest or [index[op] for op in live] < [index[op] for op in smallest[key]]:
            smallest[key] = live
    return {ops: smallest[key] for ops, key in zip(cells, keys)}


def representative_cells(cells: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    table = representatives()
    return [table[tuple(ops)] for ops in cells]


def function_classes(archs: list[str]) -> np.ndarray:
    """Class id per NB201 arch string: equal ids exactly when the cells compute the same function."""
    _, classes = np.unique([str(cell) for cell in representative_cells([arch_ops(a) for a in archs])],
                           return_inverse=True)  # fmt: skip
    return classes
