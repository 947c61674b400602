import numpy as np
import pytest

from tart.cell_paths import NUM_FEATURES, PATHS, live_ops, path_features
from tart.predict import graph_row, nb201_graph
from tart.spaces.nb201 import OPS, arch_ops, arch_string
from tart.tokenize import tokenize_row, vocabulary

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
