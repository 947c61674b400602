"""Rewrite an `ArchGraph`: drop dead nodes, contract nodes into edges, collapse degenerate merges."""

from __future__ import annotations

from collections.abc import Iterable

from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID

MERGE_PRIMITIVES = frozenset({PRIMITIVE_ID["sum"], PRIMITIVE_ID["concat"]})


def reaching_outputs(graph: ArchGraph) -> set[int]:
    """Nodes with a path to one of `graph.outputs` (the outputs included)."""
    preds: dict[int, list[int]] = {}
    for src, dst in graph.edges:
        preds.setdefault(dst, []).append(src)
    seen, stack = set(graph.outputs), list(graph.outputs)
    while stack:
        for src in preds.get(stack.pop(), ()):
            if src not in seen:
                seen.add(src)
                stack.append(src)
    return seen


def contract_nodes(graph: ArchGraph, nodes: set[int]) -> ArchGraph:
    """A copy with `nodes` replaced by edges from their inputs to their outputs (then `simplify`d)."""
    return simplify(graph, contract_ids=nodes)


def simplify(graph: ArchGraph, contract: Iterable[str] = (), contract_ids: Iterable[int] = ()) -> ArchGraph:
    """A copy without nodes that reach no output, with `contract` primitives replaced by edges through them, and
    with every sum/concat that is left with fewer than two distinct inputs replaced by an edge.

    The last rule is DeepNets-1M's: `x + x`, or a concat whose other inputs are zeros, is not a merge node.
    """
    live = reaching_outputs(graph)
    contracted = {PRIMITIVE_ID[p] for p in contract}
    contracted_ids = set(contract_ids)
    preds: dict[int, list[int]] = {}
    for src, dst in graph.edges:
        preds.setdefault(dst, []).append(src)
    out = ArchGraph()
    new_id: dict[int, frozenset[int]] = {}
    for k in range(graph.num_nodes):
        if k not in live:
            continue
        sources = frozenset().union(*(new_id.get(s, frozenset()) for s in preds.get(k, ())))
        primitive = graph.primitives[k]
        if primitive in contracted or k in contracted_ids or (primitive in MERGE_PRIMITIVES and len(sources) < 2):
            new_id[k] = sources
            continue
        node = out.add_node(primitive, graph.cells[k], graph.names[k], graph.shapes[k], list(sources))
        new_id[k] = frozenset({node})
    out.outputs = frozenset().union(*(new_id[k] for k in graph.outputs))
    return out
