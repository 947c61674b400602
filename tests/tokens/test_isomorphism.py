import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tart.core.metrics import kendall_tau_b
from tart.spaces.nb201.cell_function import function_classes
from tart.spaces.nb201.network import arch_string
from tart.tokens.isomorphism import class_mean, isomorphism_classes, load_token_graphs, token_graph
from tart.training.tart_grid import class_mean_runs


def row(tokens, shapes, edges):
    src, dst = zip(*edges) if edges else ((), ())
    return {"tokens": tokens, "shape_tokens": shapes, "edge_src": list(src), "edge_dst": list(dst)}


def test_renumbered_graphs_share_a_class_and_labels_or_edges_split_it():
    chain = row([1, 2, 3, 4], [0, 5, 6, 0], [(0, 1), (0, 2), (1, 3), (2, 3)])
    renumbered = row([1, 3, 2, 4], [0, 6, 5, 0], [(0, 1), (0, 2), (2, 3), (1, 3)])  # branches swapped
    other_shape = row([1, 2, 3, 4], [0, 5, 7, 0], [(0, 1), (0, 2), (1, 3), (2, 3)])
    other_edge = row([1, 2, 3, 4], [0, 5, 6, 0], [(0, 1), (1, 2), (2, 3)])
    classes = isomorphism_classes([token_graph(r) for r in (chain, renumbered, other_shape, other_edge)], False)
    assert classes.tolist() == [0, 0, 1, 2]


@pytest.mark.filterwarnings("ignore:The hashes produced for directed graphs")
def test_a_hash_collision_is_split_by_the_exact_test():
    # A directed 6-cycle and two directed 3-cycles: every node has one in- and one out-neighbour, so
    # Weisfeiler-Lehman cannot tell them apart; they are not isomorphic.
    six, two_threes = nx.DiGraph(nx.cycle_graph(6, nx.DiGraph)), nx.DiGraph()
    two_threes.add_edges_from([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)])
    for graph in (six, two_threes):
        nx.set_node_attributes(graph, (1, 0), "label")
    assert nx.weisfeiler_lehman_graph_hash(six, node_attr="label") == nx.weisfeiler_lehman_graph_hash(
        two_threes, node_attr="label"
    )
    assert isomorphism_classes([six, two_threes, six], False).tolist() == [0, 1, 0]


def test_function_classes_merge_cells_that_differ_by_a_skip():
    conv_then_skip = arch_string(("nor_conv_3x3", "none", "none", "none", "skip_connect", "none"))
    conv_direct = arch_string(("none", "none", "none", "nor_conv_3x3", "none", "none"))
    pool_direct = arch_string(("none", "none", "none", "avg_pool_3x3", "none", "none"))
    classes = function_classes([conv_then_skip, conv_direct, pool_direct])
    assert classes[0] == classes[1] != classes[2]


def test_class_mean_averages_within_each_class():
    values = np.array([1.0, 2.0, 10.0, 3.0])
    assert class_mean(values, np.array([0, 0, 1, 0])).tolist() == [2.0, 2.0, 10.0, 2.0]


def test_class_mean_runs_score_the_averaged_prediction():
    rng = np.random.default_rng(0)
    classes = np.repeat(np.arange(100), 3)  # three copies of each of 100 networks
    truth = rng.normal(size=100)[classes]
    run = {"predictor": "tart", "n_train": 30, "seed": 0, "fit_seconds": 1.0, "device": "cpu",
           "prediction": truth + rng.normal(0, 0.5, 300)}  # fmt: skip
    (averaged,) = class_mean_runs([run], {"iso": classes}, truth, {})
    assert averaged["predictor"] == "tart_iso" and averaged["seed"] == 0 and averaged["fit_seconds"] == 1.0
    assert averaged["kendall_tau_b"] == kendall_tau_b(class_mean(run["prediction"], classes), truth)
    assert averaged["kendall_tau_b"] > kendall_tau_b(run["prediction"], truth)  # the copies' errors average out


def test_load_token_graphs_names_a_missing_net(tmp_path):
    table = pa.table({"net": [0, 1], **{k: [v, v] for k, v in row([1, 2], [0, 0], [(0, 1)]).items()}})
    pq.write_table(table, tmp_path / "tokens-00000.parquet")
    graphs = load_token_graphs(tmp_path, np.array([1, 0]))
    assert [g.number_of_edges() for g in graphs] == [1, 1]
    with pytest.raises(KeyError, match=r"nets \[7\] have no tokens"):
        load_token_graphs(tmp_path, np.array([0, 7]))
    with pytest.raises(FileNotFoundError, match="run the tokenize stage"):
        load_token_graphs(tmp_path / "missing", np.array([0]))
