import pytest

from tart.graphs.from_module import module_to_graph
from tart.spaces.nb201.network import (
    ArchStringError,
    GraphComposer,
    all_arch_ops,
    arch_ops,
    arch_string,
    build_network,
    count_params,
    parse_arch,
)

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
EMPTY = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def test_parse_and_round_trip():
    assert parse_arch(BEST)[2] == [("skip_connect", 0), ("nor_conv_3x3", 1), ("nor_conv_1x1", 2)]
    assert arch_string(arch_ops(BEST)) == BEST
    assert len(set(all_arch_ops())) == 15625


@pytest.mark.parametrize("bad", ["|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "|none~0|", "|none~1|+|a|+|b|"])
def test_bad_arch_strings(bad):
    with pytest.raises(ArchStringError):
        parse_arch(bad)


def test_composed_graph_equals_traced_network():
    composer = GraphComposer()
    for arch in [BEST, EMPTY, *(arch_string(o) for o in all_arch_ops()[::1301])]:
        direct = module_to_graph(build_network(arch), (3, 32, 32))
        composed, params = composer.graph(arch)
        assert (composed.primitives, composed.cells, composed.names, composed.shapes) == (
            direct.primitives, direct.cells, direct.names, direct.shapes,
        )  # fmt: skip
        assert sorted(composed.edges) == sorted(direct.edges) and composed.outputs == direct.outputs
        assert params == count_params(arch)


def test_best_cell_graph():
    g, params = GraphComposer().graph(BEST)
    names = g.primitive_names()
    # per cell 5 convs (4 nor_conv_3x3, 1 nor_conv_1x1); stem 1; each residual block 3; classifier 1
    assert names.count("conv") == 15 * 5 + 1 + 2 * 3 + 1
    # per cell one sum into node 2 and two chained sums into node 3; one per residual block
    assert names.count("sum") == 15 * 3 + 2
    assert g.cells[-1] == 16 and max(g.cells) == 16
    assert params == count_params(BEST)


def test_empty_cell_has_no_cell_nodes():
    g, _ = GraphComposer().graph(EMPTY)
    cell_nodes = [p for p, c in zip(g.primitive_names(), g.cells) if c in (1, 2, 3)]
    assert cell_nodes == []
