"""Hand-made NB201 cell features for the strongest classic baseline: the live edge ops and what each
input-to-output path of the cell applies.

An edge op counts only if it lies on a path from the cell input (node 0) to its output (node 3) along edges that
are not `none`: the built network drops the others (a node with no inputs has no state, and an op whose result
reaches nothing is pruned at tokenization, README "Dead nodes"), so here they become `none` as well.
"""

from __future__ import annotations

import numpy as np

from tart.cells import EDGES
from tart.spaces.nb201 import OPS, arch_ops

PATHS = ((0, 3), (0, 1, 3), (0, 2, 3), (0, 1, 2, 3))  # every input-to-output path of the cell DAG
PATH_OPS = OPS[1:]  # the ops a live path can apply
NUM_FEATURES = len(EDGES) * len(OPS) + len(PATHS) * (1 + len(PATH_OPS)) + len(OPS)


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


def path_features(archs: list[str]) -> np.ndarray:
    """(n, NUM_FEATURES) float32 per net: one-hot live edge ops (6 x 5); per path whether it is live and how many
    of each non-`none` op it applies (4 x 5); how many live edges carry each op (5)."""
    op_index = {op: k for k, op in enumerate(OPS)}
    features = np.zeros((len(archs), NUM_FEATURES), dtype=np.float32)
    for row, arch in enumerate(archs):
        ops = live_ops(arch_ops(arch))
        on_edge = dict(zip(EDGES, ops))
        values: list[float] = []
        for path in PATHS:
            applied = [on_edge[step] for step in zip(path, path[1:])]
            live = "none" not in applied
            values += [float(live), *(float(live) * applied.count(op) for op in PATH_OPS)]
        values += [float(ops.count(op)) for op in OPS]
        features[row, [edge * len(OPS) + op_index[op] for edge, op in enumerate(ops)]] = 1.0
        features[row, len(EDGES) * len(OPS) :] = values
    return features
