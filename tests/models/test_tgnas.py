import numpy as np
import pytest
import torch

from tart.models.op_embeddings import ARTEFACT, DESCRIPTIONS, descriptions_hash, load_embeddings
from tart.models.tgnas import TgnasConfig, TgnasGCN
from tart.spaces.nb201.cells import NODE_OPS, adjacency, cell_ops, renumber, renumberings
from tart.spaces.nb201.network import all_arch_ops, arch_string


def model() -> TgnasGCN:
    torch.manual_seed(0)
    return TgnasGCN(TgnasConfig(width=16, n_layers=2, dropout=0.0), torch.from_numpy(load_embeddings(NODE_OPS))).eval()


def cells(n: int = 40):
    archs = [arch_string(ops) for ops in all_arch_ops()[::397][:n]]
    ops = torch.from_numpy(cell_ops(archs))
    adj = torch.from_numpy(np.broadcast_to(adjacency(), (len(ops), 8, 8)).copy())
    return ops, adj


def test_embedding_artefact_is_pinned():
    e = load_embeddings(NODE_OPS)
    assert e.shape == (len(NODE_OPS), 384)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)  # unit-normalised sentence embeddings
    assert descriptions_hash(DESCRIPTIONS) in ARTEFACT.read_text()
    # different sentences, different vectors; the two convolutions are the closest pair of ops
    sim = e @ e.T
    conv1, conv3 = NODE_OPS.index("nor_conv_1x1"), NODE_OPS.index("nor_conv_3x3")
    assert sim[conv1, conv3] > 0.6 and (sim[~np.eye(len(e), dtype=bool)] < 0.99).all()


def test_stale_artefact_is_refused(tmp_path):
    stale = tmp_path / "e.json"
    stale.write_text(ARTEFACT.read_text().replace(descriptions_hash(DESCRIPTIONS), "0" * 16))
    with pytest.raises(ValueError, match="other descriptions"):
        load_embeddings(NODE_OPS, stale)


def test_prediction_does_not_depend_on_the_dag_numbering():
    ops, adj = cells()
    net = model()
    with torch.no_grad():
        base = net(ops, adj)
        for new_index in renumberings()[::7]:
            ops2, adj2 = renumber(ops.numpy(), adj.numpy(), np.broadcast_to(new_index, (len(ops), 8)))
            assert torch.allclose(net(torch.from_numpy(ops2), torch.from_numpy(adj2)), base, atol=1e-5)
    assert base.shape == (len(ops),) and ((base > 0) & (base < 1)).all()


def test_none_nodes_carry_no_edges():
    ops, adj = cells()
    norm = model().normalized_adjacency(ops, adj)
    none = ops == NODE_OPS.index("none")
    # a none node talks only to itself and the global node
    rows = norm[:, :8, :8][none]
    assert (rows.count_nonzero(-1) == 1).all()
    assert (norm[:, 8, :] > 0).all()  # the global node reads every node
