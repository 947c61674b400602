import networkx as nx
import numpy as np

from tart.baselines.baselines import function_class_features
from tart.spaces.nb201.cell_function import function_key, instance_graph, representative_cells, representatives
from tart.spaces.nb201.cell_paths import canonical_ops, live_ops
from tart.spaces.nb201.network import all_arch_ops, arch_string, count_params

CONV, SKIP, NONE = "nor_conv_3x3", "skip_connect", "none"
# edges in arch_ops order: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3
CONV_THEN_SKIP = (CONV, NONE, NONE, NONE, SKIP, NONE)  # 0 -> 1 conv, 1 -> 3 skip
CONV_ON_0_3 = (NONE, NONE, NONE, CONV, NONE, NONE)
ONE_CONV_TWICE = (CONV, NONE, SKIP, NONE, SKIP, SKIP)  # one conv reaches the output along two skip routes: 2 conv(x)
TWO_CONVS = (CONV, NONE, NONE, CONV, SKIP, NONE)  # conv_a(x) + conv_b(x): the same sum, separate weights


def test_a_skip_after_a_conv_is_the_conv_itself():
    assert function_key(CONV_THEN_SKIP) == function_key(CONV_ON_0_3)
    assert representative_cells([CONV_THEN_SKIP, CONV_ON_0_3]) == [CONV_ON_0_3, CONV_ON_0_3]


def test_shared_weights_differ_from_separate_weights():
    once, twice = instance_graph(ONE_CONV_TWICE), instance_graph(TWO_CONVS)
    assert once.number_of_nodes() == 3 and once.edges[0, "out"]["times"] == "2"
    assert twice.number_of_nodes() == 4
    assert function_key(ONE_CONV_TWICE) != function_key(TWO_CONVS)


def test_classes_hold_isomorphic_cells_only_and_refine_nothing_the_swap_merges():
    classes: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for ops, rep in representatives().items():
        classes.setdefault(rep, []).append(ops)
    assert len(classes) == 5425  # of 15,625 cells; 8,765 by live ops with interchangeable branches sorted
    node, edge = (nx.algorithms.isomorphism.categorical_node_match("op", None),
                  nx.algorithms.isomorphism.categorical_edge_match("times", None))  # fmt: skip
    for rep, members in classes.items():
        assert live_ops(rep) == rep and rep in members
        first = instance_graph(rep)
        assert all(nx.is_isomorphic(first, instance_graph(m), node_match=node, edge_match=edge) for m in members)
    by_swap: dict[tuple[str, ...], set] = {}
    for ops, rep in representatives().items():
        by_swap.setdefault(canonical_ops(ops), set()).add(rep)
    assert all(len(reps) == 1 for reps in by_swap.values())


def test_function_class_features_are_equal_within_a_class_and_count_live_weights():
    cells = [CONV_THEN_SKIP, CONV_ON_0_3, TWO_CONVS, (CONV,) * 6]
    features = function_class_features([arch_string(ops) for ops in cells])
    np.testing.assert_array_equal(features[0], features[1])
    assert not np.array_equal(features[0], features[2])
    dead_conv = (CONV, NONE, CONV, CONV, NONE, NONE)  # convs on 0 -> 1 and 1 -> 2 reach nothing
    live_params = function_class_features([arch_string(dead_conv)])[0, -1]
    assert live_params == count_params(arch_string(CONV_ON_0_3)) < count_params(arch_string(dead_conv))
    sample = all_arch_ops()[::613]
    reps = representative_cells(sample)
    counted = function_class_features([arch_string(ops) for ops in sample])[:, -1]
    assert counted.tolist() == [count_params(arch_string(rep)) for rep in reps]
