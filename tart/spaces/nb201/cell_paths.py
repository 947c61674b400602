"""Hand-made NB201 cell features for the classic baselines: one-hot edge ops, the live edge ops and what each
input-to-output path of the cell applies, and the canonical form of cells that compute the same function.

An edge op counts only if it lies on a path from the cell input (node 0) to its output (node 3) along edges that
are not `none`: the built network drops the others (a node with no inputs has no state, and an op whose result
reaches nothing is pruned at tokenization, docs/models.md, "Dead nodes"), so here they become `none` as well.
"""

from __future__ import annotations

import numpy as np

from tart.spaces.nb201.cells import EDGES
from tart.spaces.nb201.network import OPS, arch_ops

ROUTE_OPS = ("nor_conv_1x1", "nor_conv_3x3")  # ops with weights, counted along each path
WIDE_OPS = ("nor_conv_3x3", "avg_pool_3x3")  # ops that widen the receptive field
PATHS = ((0, 3), (0, 1, 3), (0, 2, 3), (0, 1, 2, 3))  # every input-to-output path of the cell DAG
PATH_OPS = OPS[1:]  # the ops a live path can apply
NUM_FEATURES = len(EDGES) * len(OPS) + len(PATHS) * (1 + len(PATH_OPS)) + len(OPS)
NUM_SHAPE_FEATURES = 8


def one_hot_ops(cells: list[tuple[str, ...]]) -> np.ndarray:
    """(n, 6 * 5) float32 indicator of the op on each of the six cell edges."""
    index = {op: i for i, op in enumerate(OPS)}
    features = np.zeros((len(cells), len(EDGES) * len(OPS)), dtype=np.float32)
    for row, ops in enumerate(cells):
        features[row, [edge * len(OPS) + index[op] for edge, op in enumerate(ops)]] = 1.0
    return features


def live_ops(ops: tuple[str, ...]) -> tuple[str, ...]:
    """The six edge ops with every op off all input-to-output paths replaced by `none`."""
    on = {edge: op != "none" for edge, op in zip(EDGES, ops)}
    from_input = {0}
    for j in (1, 2, 3):
        if any(on[(i, j)] and i in from_input for i in range(j)):
            from_input.add(j)
    to_output = {3}
    for i in (2, 1, 0):
        if any(on[(i, j)] and j in to_output for j in range(i + 1, 4)):
            to_output.add(i)
    return tuple(op if on[(i, j)] and i in from_input and j in to_output else "none"
                 for (i, j), op in zip(EDGES, ops))  # fmt: skip


def canonical_ops(ops: tuple[str, ...]) -> tuple[str, ...]:
    """The live ops, with the branches 0 -> 1 -> 3 and 0 -> 2 -> 3 in sorted order when no live edge joins
    nodes 1 and 2: the two nodes are then interchangeable, so both orders compute the same function."""
    live = list(live_ops(ops))
    if live[2] == "none":  # edge 1 -> 2
        index = {op: k for k, op in enumerate(OPS)}
        first, second = (live[0], live[4]), (live[1], live[5])  # (0 -> 1, 1 -> 3), (0 -> 2, 2 -> 3)
        if [index[op] for op in first] > [index[op] for op in second]:
            live[0], live[4], live[1], live[5] = *second, *first
    return tuple(live)


def _applied(ops: tuple[str, ...]) -> list[list[str]]:
    """The ops each of the four paths applies, in `PATHS` order."""
    on_edge = dict(zip(EDGES, ops))
    return [[on_edge[step] for step in zip(path, path[1:])] for path in PATHS]


def _path_values(ops: tuple[str, ...]) -> list[float]:
    values: list[float] = []
    for applied in _applied(ops):
        live = "none" not in applied
        values += [float(live), *(float(live) * applied.count(op) for op in PATH_OPS)]
    return values + [float(ops.count(op)) for op in OPS]


def _shape_values(ops: tuple[str, ...]) -> list[float]:
    """Live path count, deepest live path, and per live path the most / fewest weighted ops, the most / fewest
    receptive-field-widening ops, the most 3x3 convs, and the 3x3 convs summed over paths."""
    live = [applied for applied in _applied(ops) if "none" not in applied]
    weighted = [sum(op in ROUTE_OPS for op in a) for a in live] or [0]
    wide = [sum(op in WIDE_OPS for op in a) for a in live] or [0]
    convs = [a.count("nor_conv_3x3") for a in live] or [0]
    depth = max((len(a) for a in live), default=0)
    return [len(live), depth, max(weighted), min(weighted), max(wide), min(wide), max(convs), sum(convs)]


def path_features(archs: list[str]) -> np.ndarray:
    """(n, NUM_FEATURES) float32 per net: one-hot live edge ops (6 x 5); per path whether it is live and how many
    of each non-`none` op it applies (4 x 5); how many live edges carry each op (5)."""
    cells = [live_ops(arch_ops(arch)) for arch in archs]
    return np.hstack([one_hot_ops(cells), np.array([_path_values(ops) for ops in cells], np.float32)])


def canonical_features(archs: list[str]) -> np.ndarray:
    """(n, NUM_FEATURES + NUM_SHAPE_FEATURES) float32: `path_features` of the canonical cell, then the path
    shape figures of `_shape_values`. Cells that differ only by swapping interchangeable nodes get equal rows."""
    cells = [canonical_ops(arch_ops(arch)) for arch in archs]
    values = [_path_values(ops) + _shape_values(ops) for ops in cells]
    return np.hstack([one_hot_ops(cells), np.array(values, np.float32)])
