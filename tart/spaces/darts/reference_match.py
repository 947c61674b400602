"""Does a rebuilt graph equal a graph stored by the original DeepNets-1M generator, given its row-order quirk?

The original writer lists `adj` in a global topological order but writes the `nodes` rows grouped by cell (the first
quirk of the published files, docs/data.md). So a stored net is explained by our graph when some one-to-one map
from `adj` rows to our nodes (a) carries every edge onto an edge and back, and (b) gives, cell by cell, the labels
that the stored rows of that cell list in `adj` order. The original writer gives a parameter-free node (sum, concat,
pooling) the cell of the last parameter node before it in `adj` order, not the cell whose code ran it, so the
check uses that rule for them. The search walks `adj` rows in order; a row's predecessors
are already placed, so the candidates are our unplaced nodes with exactly those predecessors and the next expected
label of their cell. Ties (interchangeable nodes) are resolved by backtracking.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations, product
from math import comb, prod
from pathlib import Path

import numpy as np

from tart.graphs.edit import contract_nodes
from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID

Label = tuple[int, str]  # (canonical primitive id, parameter name)


@dataclass(frozen=True)
class StoredNet:
    """A stored net: plain edges of `adj` (sources < targets) and its `nodes` rows as (primitive, cell, name)."""

    num_nodes: int
    edges: np.ndarray  # (E, 2)
    primitives: np.ndarray  # (N,) canonical ids, in row order of `nodes`
    cells: np.ndarray  # (N,)
    names: list[str]


def blocks_by_cell(net: StoredNet) -> dict[int, list[Label]]:
    blocks: dict[int, list[Label]] = defaultdict(list)
    for p, c, name in zip(net.primitives.tolist(), net.cells.tolist(), net.names):
        blocks[c].append((p, name))
    return blocks


def match_stored(ours: ArchGraph, net: StoredNet, max_steps: int = 200_000) -> np.ndarray | None:
    """The map adj row -> our node if `ours` explains `net` (see module docstring), else None."""
    if ours.num_nodes != net.num_nodes or len(set(ours.edges)) != len(net.edges):
        return None
    blocks = blocks_by_cell(net)
    our_preds: dict[int, set[int]] = defaultdict(set)
    for s, t in ours.edges:
        our_preds[t].add(s)
    by_preds: dict[frozenset[int], list[int]] = defaultdict(list)
    for v in range(ours.num_nodes):
        by_preds[frozenset(our_preds[v])].append(v)
    adj_preds: list[list[int]] = [[] for _ in range(net.num_nodes)]
    for s, t in net.edges.tolist():
        adj_preds[t].append(s)

    has_params = [bool(shape) for shape in ours.shapes]
    mapping = np.full(net.num_nodes, -1, dtype=np.int64)
    row_cell = np.zeros(net.num_nodes + 1, dtype=np.int64)  # row_cell[k + 1]: the cell that row k was filed under
    used = np.zeros(ours.num_nodes, dtype=bool)
    filled: dict[int, int] = defaultdict(int)
    choices: list[list[int]] = []  # per placed row, the candidates not yet tried
    k, steps = 0, 0
    while 0 <= k < net.num_nodes:
        steps += 1
        if steps > max_steps:
            return None
        if len(choices) == k:  # first visit of row k: list its candidates
            wanted = frozenset(int(mapping[s]) for s in adj_preds[k])
            cands = []
            for v in by_preds.get(wanted, ()):
                cell = ours.cells[v] if has_params[v] else int(row_cell[k])
                block = blocks.get(cell, [])
                label = (ours.primitives[v], ours.names[v])
                if not used[v] and filled[cell] < len(block) and block[filled[cell]] == label:
                    cands.append(v)
            choices.append(cands)
        else:  # backtracking into row k: undo its placement
            used[mapping[k]] = False
            filled[int(row_cell[k + 1])] -= 1
            mapping[k] = -1
        if not choices[k]:
            choices.pop()
            k -= 1
            continue
        v = choices[k].pop()
        mapping[k], used[v] = v, True
        row_cell[k + 1] = ours.cells[v] if has_params[v] else row_cell[k]
        filled[int(row_cell[k + 1])] += 1
        k += 1
    return mapping if k == net.num_nodes else None


MISSING_KINDS = ("msa", "cse")


@dataclass(frozen=True)
class Explanation:
    verdict: str  # exact | missing_msa_cse | unexplained
    graph: ArchGraph | None = None  # ours, with the msa/cse nodes the stored net lacks contracted
    mapping: np.ndarray | None = None  # adj row -> node of `graph`


def explain(ours: ArchGraph, net: StoredNet, max_subsets: int = 5_000) -> Explanation:
    """`exact`, `missing_msa_cse` (the stored net lacks msa/cse nodes that ours has: quirk 2), or `unexplained`.

    When the stored net keeps some of its msa/cse nodes, every way of dropping the right number of ours is tried
    (at most `max_subsets`); the original generator's choice depends on its own node order.
    """
    mapping = match_stored(ours, net)
    if mapping is not None:
        return Explanation("exact", ours, mapping)
    per_kind = []  # for msa and for cse: (our nodes of that kind, how many of them the stored net lacks)
    for kind in MISSING_KINDS:
        ours_of_kind = [v for v, p in enumerate(ours.primitives) if p == PRIMITIVE_ID[kind]]
        per_kind.append((ours_of_kind, len(ours_of_kind) - int((net.primitives == PRIMITIVE_ID[kind]).sum())))
    if any(drop < 0 for _, drop in per_kind) or all(drop == 0 for _, drop in per_kind):
        return Explanation("unexplained")
    if prod(comb(len(nodes), drop) for nodes, drop in per_kind) > max_subsets:
        return Explanation("unexplained")
    for subsets in product(*(combinations(nodes, drop) for nodes, drop in per_kind)):
        graph = contract_nodes(ours, {v for subset in subsets for v in subset})
        mapping = match_stored(graph, net)
        if mapping is not None:
            return Explanation("missing_msa_cse", graph, mapping)
    return Explanation("unexplained")


def realigned_rows(explanation: Explanation) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The principled repair of quirk 1: (primitive, cell, name) of every `adj` row, read off the rebuilt net
    that explains the stored graph (cells by module structure, not by the original writer's order)."""
    if explanation.mapping is None or explanation.graph is None:
        raise ValueError("only an explained net can be realigned")
    g, order = explanation.graph, explanation.mapping
    return (np.array([g.primitives[v] for v in order], dtype=np.uint8), np.array([g.cells[v] for v in order]),
            [g.names[v] for v in order])  # fmt: skip


def explain_reference_files(reference_dir: Path) -> dict:
    """Rebuild every net of the format-reference files from its meta record; count parameter-count matches
    (CIFAR and ImageNet input) and how each stored graph is explained (see `explain`)."""
    from tart.io.deepnets1m import DeepNetsFile
    from tart.spaces.darts.network import NetArgs, build_network, count_params, darts_graph

    result: dict = {}
    for stem, split in (("deepnets1m_train", "train"), ("deepnets1m_eval", "val"), ("deepnets1m_eval", "test")):
        counts = {"nets": 0, "params_cifar10_equal": 0, "params_imagenet_equal": 0, "exact": 0,
                  "missing_msa_cse": 0, "unexplained": 0, "unexplained_nets": []}  # fmt: skip
        with DeepNetsFile(reference_dir / f"{stem}.hdf5", reference_dir / f"{stem}_meta.json", split) as f:
            for index in range(len(f)):
                record, rec = f.nets[index], f.read(index)
                args = NetArgs.from_record(record)
                counts["nets"] += 1
                counts["params_cifar10_equal"] += count_params(build_network(args)) == record["num_params"]["cifar10"]
                counts["params_imagenet_equal"] += (
                    count_params(build_network(args, imagenet=True)) == record["num_params"]["imagenet"]
                )
                stored = StoredNet(len(rec.primitives), rec.edges, rec.primitives, rec.cells,
                                   [f.names[str(n)] for n in rec.name_ids])  # fmt: skip
                verdict = explain(darts_graph(args), stored).verdict
                counts[verdict] += 1
                if verdict == "unexplained":
                    counts["unexplained_nets"].append(index)
        result[split] = counts
    return result


def reference_markdown(result: dict) -> str:
    rows = [
        "| split | nets | parameter count equal (CIFAR / ImageNet input) | graph equal | equal once the msa/cse "
        "nodes the original generator missed are dropped | unexplained |",
        "|---|---|---|---|---|---|",
    ]
    for split in ("train", "val", "test"):
        c = result[split]
        rows.append(f"| {split} | {c['nets']} | {c['params_cifar10_equal']} / {c['params_imagenet_equal']} | "
                    f"{c['exact']} | {c['missing_msa_cse']} | {c['unexplained']} |")  # fmt: skip
    return "\n".join(rows)
