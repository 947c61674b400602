import numpy as np
import pytest
import torch
from helpers import small_tart_config

from tart.models.transformer import TartModel
from tart.tokens.positional import graph_input, laplacian_pe, predecessor_table, random_walk_pe, sinusoid_table

PATH = (3, np.array([0, 1]), np.array([1, 2]))  # 0 -> 1 -> 2


def test_laplacian_pe_of_a_path():
    # Normalised Laplacian of a 3-node path: eigenvalues 0, 1, 2 with eigenvectors (1, 0, -1) / sqrt 2 and
    # (1, -sqrt 2, 1) / 2; each sign flipped so that the first non-zero entry is positive.
    pe = laplacian_pe(*PATH, k=3)
    r = np.sqrt(0.5)
    assert np.allclose(pe, [[r, 0.5, 0.0], [0.0, -r, 0.0], [-r, 0.5, 0.0]], atol=1e-6)  # no third non-trivial one


def test_random_walk_pe_of_a_path():
    # P = [[0, 1, 0], [1/2, 0, 1/2], [0, 1, 0]]: no 1-step returns; 2-step returns 1/2, 1, 1/2
    pe = random_walk_pe(*PATH, k=3)
    assert np.allclose(pe[:, 0], 0) and np.allclose(pe[:, 1], [0.5, 1.0, 0.5]) and np.allclose(pe[:, 2], 0)


def test_random_walk_pe_is_permutation_equivariant():
    rng = np.random.default_rng(0)
    src, dst = np.array([0, 0, 1, 2, 3]), np.array([1, 2, 3, 3, 4])
    perm = rng.permutation(5)  # node i becomes perm[i]
    moved = random_walk_pe(5, perm[src], perm[dst], 4)
    assert np.allclose(moved[perm], random_walk_pe(5, src, dst, 4))


def test_predecessor_table():
    table = predecessor_table(3, np.array([1, 0, 0]), np.array([2, 2, 1]), width=2)
    assert table.tolist() == [[0, 0], [1, 0], [1, 2]]  # index + 1, ascending, 0 = none
    with pytest.raises(ValueError, match="node 2 has more than 1 predecessors"):
        predecessor_table(3, np.array([1, 0]), np.array([2, 2]), width=1)


def test_sinusoid_table_reserves_row_zero():
    table = sinusoid_table(5, 6)
    assert table.shape == (6, 6) and not table[0].any()
    assert np.allclose(table[1], [0, 1, 0, 1, 0, 1])  # index 0: sin 0, cos 0


def test_graph_input_pads_to_the_longest_net():
    lengths, srcs, dsts = [3, 2], [[0, 1], [0]], [[1, 2], [1]]
    assert graph_input("none", 4, lengths, srcs, dsts) is None
    pe = graph_input("random_walk", 4, lengths, srcs, dsts)
    assert pe.shape == (2, 3, 4) and pe.dtype == torch.float32 and not pe[1, 2].any()
    preds = graph_input("topology", 4, lengths, srcs, dsts)
    assert preds.tolist() == [[[0], [1], [2]], [[0], [1], [0]]]
    with pytest.raises(ValueError, match="graph_pe 'spectral'"):
        graph_input("spectral", 4, lengths, srcs, dsts)


def _model(graph_pe: str) -> TartModel:
    torch.manual_seed(0)
    cfg = small_tart_config(positions="none",
                     graph_pe=graph_pe, pe_dim=4)  # fmt: skip
    return TartModel(cfg).eval()


def test_topology_encoding_tells_wirings_apart():
    # Same tokens, order-blind model: only the predecessor table differs (a chain vs everything fed by node 0).
    ids = torch.tensor([[[10], [5], [5], [5]]])
    chain = graph_input("topology", 4, [4], [[0, 1, 2]], [[1, 2, 3]])
    star = graph_input("topology", 4, [4], [[0, 0, 0]], [[1, 2, 3]])
    model = _model("topology")
    with torch.no_grad():
        assert not torch.allclose(model(ids, chain), model(ids, star))
    with pytest.raises(ValueError, match="needs the graph input"):
        model(ids)


def test_laplacian_signs_flip_only_while_training():
    ids = torch.tensor([[[10], [5], [5], [5]]])
    pe = graph_input("laplacian", 4, [4], [[0, 1, 2]], [[1, 2, 3]])
    model = _model("laplacian")
    with torch.no_grad():
        assert torch.equal(model(ids, pe), model(ids, pe))  # eval: deterministic
        model.train()
        torch.manual_seed(1)
        outs = {round(float(model(ids, pe)), 6) for _ in range(8)}
    assert len(outs) > 1
