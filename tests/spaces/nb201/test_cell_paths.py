import networkx as nx
import numpy as np
import pytest

from tart.app.predict import nb201_graph
from tart.graphs.graph import graph_row
from tart.spaces.nb201 import cell_paths
from tart.spaces.nb201.cell_paths import NUM_FEATURES, PATHS, canonical_features, canonical_ops, live_ops, path_features
from tart.spaces.nb201.cells import predecessors
from tart.spaces.nb201.network import OPS, all_arch_ops, arch_ops, arch_string
from tart.tokens.tokenize import tokenize_row, vocabulary

CONV = "nor_conv_3x3"
ONLY_INPUT_EDGE = ("none", "none", "none", CONV, "none", "none")  # node 3 reads the input only


@pytest.mark.parametrize(
    "ops",
    [
        (CONV, CONV, CONV, CONV, "none", "none"),  # nodes 1 and 2 compute, nothing reads them
        ("none", "none", CONV, CONV, "none", "skip_connect"),  # node 1 has no input, so neither has node 2
        ONLY_INPUT_EDGE,
    ],
)
def test_ops_off_every_input_output_path_are_dropped(ops):
    assert live_ops(ops) == ONLY_INPUT_EDGE


def test_live_ops_agree_with_the_built_and_pruned_graph():
    # cells with the same live ops tokenize to the same sequence: what live_ops drops, the network lacks
    vocab = vocabulary()
    archs = [arch_string((CONV, CONV, CONV, CONV, "none", "none")), arch_string(("none", "none", CONV, CONV,
             "none", "skip_connect")), arch_string(ONLY_INPUT_EDGE)]  # fmt: skip
    tokens = [tokenize_row(graph_row(nb201_graph(a), net, "nb201"), vocab) for net, a in enumerate(archs)]
    assert {live_ops(arch_ops(a)) for a in archs} == {ONLY_INPUT_EDGE}
    for other in tokens[1:]:
        assert other["tokens"] == tokens[0]["tokens"] and other["shape_tokens"] == tokens[0]["shape_tokens"]
    full = arch_string((CONV,) * 6)
    assert tokenize_row(graph_row(nb201_graph(full), 9, "nb201"), vocab)["length"] > tokens[0]["length"]


def test_path_features_count_the_ops_along_each_path():
    ops = ("skip_connect", CONV, "nor_conv_1x1", CONV, "none", "avg_pool_3x3")
    features = path_features([arch_string(ops)])[0]
    assert features.shape == (NUM_FEATURES,) and features[:30].sum() == 6  # one-hot live ops: all six live here
    per_path = features[30 : 30 + 5 * len(PATHS)].reshape(len(PATHS), 5)  # live?, skip, 1x1, 3x3, pool
    np.testing.assert_array_equal(per_path, [[1, 0, 0, 1, 0],  # 0 -> 3: the 3x3 conv
                                             [0, 0, 0, 0, 0],  # 0 -> 1 -> 3: edge 1 -> 3 is none
                                             [1, 0, 0, 1, 1],  # 0 -> 2 -> 3: 3x3 conv, pool
                                             [1, 1, 1, 0, 1]])  # 0 -> 1 -> 2 -> 3: skip, 1x1, pool  # fmt: skip
    np.testing.assert_array_equal(features[-len(OPS) :], [1, 1, 1, 2, 1])  # none, skip, 1x1, 3x3, pool


def test_dead_ops_do_not_reach_the_features():
    dead = path_features([arch_string((CONV, CONV, CONV, CONV, "none", "none"))])
    np.testing.assert_array_equal(dead, path_features([arch_string(ONLY_INPUT_EDGE)]))


def _op_graph(ops: tuple[str, ...]) -> nx.DiGraph:
    """The cell's op-node DAG (tart.spaces.nb201.cells) without `none` ops: what the built cell computes."""
    kinds = ("input", *ops, "output")
    graph = nx.DiGraph()
    graph.add_nodes_from((i, {"op": op}) for i, op in enumerate(kinds) if op != "none")
    graph.add_edges_from((j, i) for i, preds in enumerate(predecessors()) for j in preds if {i, j} <= set(graph))
    return graph


def test_canonical_ops_swap_interchangeable_branches_only():
    pool, skip = "avg_pool_3x3", "skip_connect"
    branch_a = (CONV, pool, "none", skip, skip, CONV)  # 0->1 conv, 1->3 skip; 0->2 pool, 2->3 conv
    branch_b = (pool, CONV, "none", skip, CONV, skip)  # the same with nodes 1 and 2 swapped
    assert canonical_ops(branch_a) == canonical_ops(branch_b) == branch_a  # 3x3 conv before pool in OPS
    joined_a, joined_b = branch_a[:2] + (skip,) + branch_a[3:], branch_b[:2] + (skip,) + branch_b[3:]
    assert canonical_ops(joined_a) == joined_a and canonical_ops(joined_b) == joined_b  # edge 1 -> 2 orders them
    assert canonical_ops((CONV, CONV, CONV, CONV, "none", "none")) == ONLY_INPUT_EDGE  # dead ops go first


def test_cells_merged_by_canonical_ops_are_isomorphic():
    groups: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for ops in all_arch_ops()[::7]:
        groups.setdefault(canonical_ops(ops), []).append(ops)
    merged = [members for members in groups.values() if len(members) > 1]
    assert len(merged) > 50
    match = nx.algorithms.isomorphism.categorical_node_match("op", None)
    for members in merged:
        first = _op_graph(live_ops(members[0]))
        assert all(nx.is_isomorphic(first, _op_graph(live_ops(other)), node_match=match) for other in members[1:])


def test_canonical_features_merge_swapped_cells_and_count_path_shapes():
    swapped = [arch_string((CONV, "avg_pool_3x3", "none", "skip_connect", "nor_conv_1x1", CONV)),
               arch_string(("avg_pool_3x3", CONV, "none", "skip_connect", CONV, "nor_conv_1x1"))]  # fmt: skip
    features = canonical_features(swapped)
    assert features.shape == (2, NUM_FEATURES + cell_paths.NUM_SHAPE_FEATURES)
    np.testing.assert_array_equal(features[0], features[1])
    assert not np.array_equal(path_features(swapped)[0], path_features(swapped)[1])
    # live paths: 0->3 skip; 0->1->3 conv, 1x1; 0->2->3 pool, conv
    shape = features[0, NUM_FEATURES:]
    np.testing.assert_array_equal(shape, [3, 2, 2, 0, 2, 0, 1, 2])  # paths, depth, weighted max/min, wide max/min,
    # 3x3 convs max and summed
