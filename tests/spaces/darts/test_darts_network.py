import json

import pytest
import torch

from tart.graphs.edit import simplify
from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID
from tart.io.deepnets1m import DeepNetsFile, find_misaligned_nodes
from tart.spaces.darts.fast import count_params_fast, fast_graph
from tart.spaces.darts.network import (
    DARTS_V2,
    Genotype,
    NetArgs,
    NetArgsError,
    build_network,
    count_params,
    darts_graph,
)
from tart.spaces.darts.ops import OpNameError, parse_op
from tart.spaces.darts.reference_match import StoredNet, explain, match_stored, realigned_rows


def summary(g: ArchGraph):
    return g.primitive_names(), sorted(g.edges)


def same_graph(a: ArchGraph, b: ArchGraph) -> bool:
    key = lambda g: (g.primitives, g.cells, g.names, g.shapes, sorted(g.edges), g.outputs)  # noqa: E731
    return key(a) == key(b)


@pytest.mark.parametrize(
    "name, expected",
    [("sep_conv_3x3", ("sep_conv", 3)), ("conv_7x1_1x7", ("conv2", 7)), ("msa", ("msa", 0)),
     ("max_pool_3x3", ("max_pool", 3)), ("skip_connect", ("skip_connect", 0)), ("dil_conv_5x5", ("dil_conv", 5))],
)  # fmt: skip
def test_parse_op(name, expected):
    assert parse_op(name) == expected


def test_unknown_op_is_refused():
    with pytest.raises(OpNameError, match="'swish_conv_3x3'"):
        parse_op("swish_conv_3x3")


def tiny_args(**kw) -> NetArgs:
    g = Genotype((("skip_connect", 0), ("max_pool_3x3", 1)), (2,), (("skip_connect", 0), ("max_pool_3x3", 1)), (2,))
    base = dict(genotype=g, n_cells=1, C=8, C_mult=1, preproc=False, norm=None, fc_layers=1)
    return NetArgs(**{**base, **kw})


def test_smallest_net_has_exact_graph():
    """Stem conv, one cell computing skip(s0) + max_pool(s1) with s0 = s1 = stem, a one-input concat (glue)."""
    g = darts_graph(tiny_args())
    assert summary(g) == (
        ["input", "conv", "max_pool", "sum", "glob_avg", "conv", "bias"],
        [(0, 1), (1, 2), (1, 3), (2, 3), (3, 4), (4, 5), (5, 6)],
    )
    assert g.names == ["input", "stem.0.weight", "max_pool", "sum", "glob_avg", "classifier.0.weight",
                       "classifier.0.bias"]  # fmt: skip
    assert same_graph(g, fast_graph(tiny_args()))


def test_msa_and_cse_nodes_come_from_the_module_structure():
    g = Genotype((("msa", 0), ("cse", 1)), (2,), (("msa", 0), ("cse", 1)), (2,))
    args = NetArgs(g, n_cells=2, C=16, C_mult=1, preproc=True)
    graph = darts_graph(args)
    names = graph.primitive_names()
    assert names.count("msa") == 2 and names.count("cse") == 2 and names.count("pos_enc") == 1
    for k, p in enumerate(graph.primitives):
        if p == PRIMITIVE_ID["cse"]:  # fed by the feature map and by the gate (fc2 bias)
            sources = sorted(s for s, t in graph.edges if t == k)
            assert len(sources) == 2 and graph.names[sources[1]].endswith("fc2.bias")
    assert same_graph(graph, fast_graph(args))
    assert count_params_fast(args) == count_params(build_network(args))


def test_forward_runs_on_real_tensors():
    net = build_network(NetArgs(DARTS_V2, n_cells=5, C=8), device="cpu")
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_darts_v2_has_its_published_size():
    """DARTS (2nd order) on CIFAR-10: 20 cells, 36 channels, 3.3M parameters without the auxiliary head."""
    params = count_params(build_network(NetArgs(DARTS_V2, n_cells=20, C=36)))
    assert 3.25e6 < params < 3.4e6
    assert params == count_params_fast(NetArgs(DARTS_V2, n_cells=20, C=36))


def test_nas_bench_301_style_genotype_record():
    """NB301 stores DARTS genotypes as lists of [op, input] pairs with concat ranges: the same record form."""
    record = {"normal": [["sep_conv_5x5", 0], ["dil_conv_3x3", 1], ["skip_connect", 0], ["sep_conv_3x3", 2],
                         ["max_pool_3x3", 1], ["avg_pool_3x3", 3], ["dil_conv_5x5", 2], ["skip_connect", 4]],
              "normal_concat": [2, 3, 4, 5],
              "reduce": [["max_pool_3x3", 0], ["sep_conv_5x5", 1], ["avg_pool_3x3", 0], ["skip_connect", 2],
                         ["dil_conv_5x5", 1], ["max_pool_3x3", 3], ["sep_conv_3x3", 4], ["skip_connect", 2]],
              "reduce_concat": [2, 3, 4, 5]}  # fmt: skip
    args = NetArgs(Genotype.from_record(record), n_cells=8, C=16)
    assert same_graph(darts_graph(args), fast_graph(args))
    assert count_params(build_network(args)) == count_params_fast(args)


def test_bad_genotypes_are_refused():
    with pytest.raises(NetArgsError, match="reads state 3"):
        build_network(tiny_args(genotype=Genotype((("skip_connect", 3), ("skip_connect", 0)), (2,),
                                                  (("skip_connect", 0), ("skip_connect", 1)), (2,))))  # fmt: skip
    with pytest.raises(NetArgsError, match="preproc must be true"):
        build_network(tiny_args(C_mult=2))
    with pytest.raises(NetArgsError, match="lacks the field 'n_cells'"):
        NetArgs.from_record({"genotype": DARTS_V2.to_record()})


def test_simplify_drops_dead_nodes_and_degenerate_merges():
    g = ArchGraph()
    g.add_node(PRIMITIVE_ID["input"], 0, "input", (), [])
    g.add_node(PRIMITIVE_ID["conv"], 0, "a.weight", (4, 3), [0])
    g.add_node(PRIMITIVE_ID["sum"], 0, "sum", (), [1, 1])  # x + x: one distinct input
    g.add_node(PRIMITIVE_ID["conv"], 0, "dead.weight", (4, 4), [1])  # reaches no output
    g.add_node(PRIMITIVE_ID["bn"], 0, "b.weight", (4,), [2])
    g.outputs = frozenset({4})
    out = simplify(g)
    assert summary(out) == (["input", "conv", "bn"], [(0, 1), (1, 2)])


def stored(fh: DeepNetsFile, index: int) -> StoredNet:
    r = fh.read(index)
    return StoredNet(len(r.primitives), r.edges, r.primitives, r.cells, [fh.names[str(n)] for n in r.name_ids])


def test_reference_nets_are_rebuilt(reference):
    """Parameter counts (CIFAR and ImageNet input) and graphs of the first 40 val nets, both build paths."""
    categories = []
    with DeepNetsFile(reference / "deepnets1m_eval.hdf5", reference / "deepnets1m_eval_meta.json", "val") as fh:
        for index in range(40):
            record = fh.nets[index]
            args = NetArgs.from_record(record)
            assert count_params(build_network(args)) == record["num_params"]["cifar10"]
            assert count_params_fast(args, imagenet=True) == record["num_params"]["imagenet"]
            graph = darts_graph(args)
            assert same_graph(graph, fast_graph(args))
            categories.append(explain(graph, stored(fh, index)).verdict)
    assert set(categories) == {"exact", "missing_msa_cse"}
    assert categories.count("exact") >= 15


def test_matching_refuses_a_changed_graph(reference):
    with DeepNetsFile(reference / "deepnets1m_eval.hdf5", reference / "deepnets1m_eval_meta.json", "val") as fh:
        net, record = stored(fh, 2), fh.nets[2]  # net 2 matches exactly
    graph = fast_graph(record)
    assert match_stored(graph, net) is not None
    record = json.loads(json.dumps(record))
    record["genotype"]["normal"][0][0] = "conv_5x5" if record["genotype"]["normal"][0][0] != "conv_5x5" else "conv_3x3"
    assert explain(fast_graph(record), net).verdict == "unexplained"


def test_realigned_rows_repair_the_misaligned_reference_nets(reference):
    """The stored rows of net 0 contradict its edges (quirk 1); the rebuilt labels never do."""
    with DeepNetsFile(reference / "deepnets1m_eval.hdf5", reference / "deepnets1m_eval_meta.json", "val") as fh:
        repaired = 0
        for index in range(10):
            rec, net = fh.read(index), stored(fh, index)
            primitives, _, names = realigned_rows(explain(fast_graph(fh.nets[index]), net))
            assert len(find_misaligned_nodes(primitives, rec.edges)) == 0
            assert sorted(names) == sorted(net.names)  # same rows, in adj order
            repaired += rec.misaligned
    assert repaired >= 5
