"""In-memory computational graph in DeepNets-1M terms: one node per primitive, edges along the data flow."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tart.graphs.primitives import PRIMITIVES


@dataclass
class ArchGraph:
    """A DAG whose nodes are listed in a topological order (every edge goes from a lower to a higher index).

    `shapes[k]` is the parameter shape of node k (empty for parameter-free nodes such as sum or max_pool).
    `names[k]` is the parameter name (or the primitive name for parameter-free nodes), as DeepNets-1M stores it.
    """

    primitives: list[int] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)
    outputs: frozenset[int] = frozenset()

    def add_node(self, primitive: int, cell: int, name: str, shape: tuple[int, ...], sources: list[int]) -> int:
        node = len(self.primitives)
        self.primitives.append(primitive)
        self.cells.append(cell)
        self.names.append(name)
        self.shapes.append(tuple(int(s) for s in shape))
        self.edges.extend((src, node) for src in sorted(set(sources)))
        return node

    def splice(self, sub: ArchGraph, inputs: frozenset[int], cell: int, prefix: str) -> frozenset[int]:
        """Append `sub` (a converted submodule) with its `input` nodes replaced by `inputs`; return its outputs.

        Lets a space reuse the graph of a repeated block instead of tracing it again.
        """
        input_id = PRIMITIVES.index("input")
        new_id: dict[int, frozenset[int]] = {}
        for k in range(sub.num_nodes):
            if sub.primitives[k] == input_id:
                new_id[k] = inputs
                continue
            sources = frozenset().union(*(new_id[s] for s, t in sub.edges if t == k))
            name = sub.names[k] if sub.shapes[k] == () else prefix + sub.names[k]
            new_id[k] = frozenset({self.add_node(sub.primitives[k], cell, name, sub.shapes[k], list(sources))})
        return frozenset().union(*(new_id[k] for k in sub.outputs))

    @property
    def num_nodes(self) -> int:
        return len(self.primitives)

    def primitive_names(self) -> list[str]:
        return [PRIMITIVES[p] for p in self.primitives]

    def edge_array(self) -> np.ndarray:
        """Edges as an (E, 2) int32 array sorted by (source, target)."""
        if not self.edges:
            return np.zeros((0, 2), dtype=np.int32)
        return np.array(sorted(self.edges), dtype=np.int32)


def graph_row(graph: ArchGraph, net: int, split: str) -> dict:
    """An in-memory graph as a row of the graph shards (`schemas.GRAPHS`), ready for `tokenize_row`."""
    edges = graph.edge_array()
    return {
        "net": net, "split": split, "num_nodes": graph.num_nodes, "primitives": graph.primitives,
        "cells": graph.cells, "shapes": [list(s) for s in graph.shapes],
        "edge_src": edges[:, 0].tolist(), "edge_dst": edges[:, 1].tolist(),
    }  # fmt: skip
