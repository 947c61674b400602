import json
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from helpers import fit_config, narformer_section, yaml_params

from tart.core.params import TgNas
from tart.models.narformer import NarFormerConfig, NarFormerModel, sinusoid, topology_tokens
from tart.spaces.nb201.cells import NODE_OPS, adjacency, cell_ops, predecessors, renumber, renumberings
from tart.spaces.nb201.network import all_arch_ops, arch_string
from tart.training.cell_models import (
    CellData,
    cell_model_from_files,
    configs_from,
    fit_cell_model,
    predict_cells,
)
from tart.training.losses import pairwise_difference_loss
from tart.training.narformer import narformer_from_files

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
SMALL = NarFormerConfig(n_freq=4, n_layers=1, n_heads=2, d_ff=16, dropout=0.0)


def test_cell_dag_follows_the_information_flow():
    preds = predecessors()
    assert preds[1] == (0,) and preds[3] == (1,)  # edge 1->2 reads the op on edge 0->1
    assert preds[6] == (2, 3)  # edge 2->3 reads both ops that end in node 2
    assert preds[7] == (4, 5, 6)  # the output sums the three ops that end in node 3
    ops = cell_ops([ARCH])[0]
    assert [NODE_OPS[i] for i in ops] == ["input", "nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect",
                                          "none", "nor_conv_1x1", "output"]  # fmt: skip


def test_renumberings_are_topological_and_keep_the_graph():
    table = renumberings()
    assert (table[:, 0] == 0).all() and (table[:, -1] == 7).all() and len({tuple(r) for r in table}) == len(table)
    assert any((r == np.arange(8)).all() for r in table)
    for new in table:
        assert all(new[p] < new[i] for i, ps in enumerate(predecessors()) for p in ps)
    ops, adj = cell_ops([ARCH]), adjacency()[None]
    new_ops, new_adj = renumber(ops, adj, table[-1:])
    edges = {(ops[0, i], ops[0, j]) for i, j in zip(*adj[0].nonzero())}
    assert {(new_ops[0, i], new_ops[0, j]) for i, j in zip(*new_adj[0].nonzero())} == edges
    assert not (new_ops == ops).all()


def test_topology_tokens_encode_op_index_and_predecessors():
    ops, adj = torch.from_numpy(cell_ops([ARCH])), torch.from_numpy(adjacency()[None])
    tokens = topology_tokens(ops, adj, n_freq=4)  # (1, 9, 24): depth token + 8 nodes
    assert tokens.shape == (1, 9, 24)
    index = sinusoid(torch.arange(8.0), 4)
    assert torch.allclose(tokens[0, 1 + 7, 16:], index[4] + index[5] + index[6])  # output <- nodes 4, 5, 6
    assert torch.allclose(tokens[0, 1 + 0, 16:], torch.zeros(8))  # the input has no predecessors
    assert torch.allclose(tokens[0, 1 + 3, 8:16], index[3])


def test_model_predicts_in_unit_interval():
    data = CellData.from_archs([ARCH, arch_string(("none",) * 6)])
    pred = NarFormerModel(SMALL)(data.ops, data.adj)
    assert pred.shape == (2,) and ((pred > 0) & (pred < 1)).all()


def test_pairwise_difference_loss_ignores_a_constant_offset():
    target = torch.tensor([0.1, 0.5, 0.9])
    assert pairwise_difference_loss(target + 0.2, target) == pytest.approx(0.0, abs=1e-6)
    assert pairwise_difference_loss(target.flip(0), target) > 0.3


def test_fit_is_deterministic_and_keeps_the_best_epoch():
    archs = [arch_string(ops) for ops in all_arch_ops()[::97]]  # 162 cells
    data = CellData.from_archs(archs)
    y = cell_ops(archs)[:, 1:7].__eq__(4).sum(1) / 10 + 0.2  # more 3x3 convs = better
    cfg = fit_config(epochs=4, batch_size=32, lr=1e-3, eval_every=2, threads=1, device="cpu")
    rows, val = np.arange(120), np.arange(120, 162)
    runs = [fit_cell_model(cfg, partial(NarFormerModel, SMALL), data, rows, y[rows], val, y[val]) for _ in range(2)]
    (model, curves, facts), (model2, _, _) = runs
    assert [c["epoch"] for c in curves] == [2, 4] and facts["best_epoch"] in (2, 4)
    assert np.array_equal(predict_cells(model, data, val), predict_cells(model2, data, val))


def test_validation_without_any_ranking_stops_with_a_clear_error():
    archs = [arch_string(ops) for ops in all_arch_ops()[::97]]
    data, y = CellData.from_archs(archs), np.linspace(0.3, 0.9, len(archs))
    cfg = fit_config(epochs=2, batch_size=32, eval_every=1, threads=1, device="cpu")
    with pytest.raises(ValueError, match="NaN at every evaluation: the model gave all 42 validation nets"):
        fit_cell_model(cfg, partial(NarFormerModel, SMALL), data, np.arange(120), y[:120], np.arange(120, 162),
                       np.full(42, 0.5))  # fmt: skip


def test_params_section_maps_onto_both_configs():
    section = narformer_section(epochs=7, lr=0.5, n_freq=8, n_heads=2, target_transform="unit", seeds=[3, 4])
    fit, model = configs_from(section, NarFormerConfig)
    assert (fit.epochs, fit.lr, fit.target_transform, fit.seed) == (7, 0.5, "unit", 3)
    assert (model.n_freq, model.n_heads, model.d_model, model.fusion_queries) == (8, 2, 48, (4, 2, 1))
    with pytest.raises(ValueError, match="not divisible by n_heads = 5"):
        narformer_section(n_heads=5)


def test_a_section_field_no_config_uses_is_an_error():
    # the TG-NAS-style section has no n_freq / n_heads / d_ff: building the NAR-Former-style configs from it fails
    tgnas = TgNas(**yaml_params()["tgnas"])
    with pytest.raises(ValueError, match=r"missing \['d_ff', 'n_freq', 'n_heads'\], not used \['width'\]"):
        configs_from(tgnas, NarFormerConfig)


def test_live_cell_input_turns_dead_ops_into_none():
    dead = arch_string(("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "none", "none"))
    raw, live = (CellData.from_archs([dead], cell_input).ops[0].tolist() for cell_input in ("raw", "live"))
    assert [NODE_OPS[i] for i in raw].count("nor_conv_3x3") == 4
    assert [NODE_OPS[i] for i in live] == ["input", "none", "none", "none", "nor_conv_3x3", "none", "none", "output"]
    with pytest.raises(ValueError, match="cell_input 'pruned'"):
        CellData.from_archs([dead], "pruned")


def test_canonical_cell_input_reads_alike_for_cells_that_build_the_same_network():
    # nodes 1 and 2 exchanged (no edge between them), and a 3x3 conv followed by a skip vs the conv on 0 -> 3
    pairs = [(("nor_conv_3x3", "avg_pool_3x3", "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3"),
              ("avg_pool_3x3", "nor_conv_3x3", "none", "skip_connect", "nor_conv_3x3", "nor_conv_1x1")),
             (("nor_conv_3x3", "none", "none", "none", "skip_connect", "none"),
              ("none", "none", "none", "nor_conv_3x3", "none", "none"))]  # fmt: skip
    for first, second in pairs:
        archs = [arch_string(first), arch_string(second)]
        raw, canonical = (CellData.from_archs(archs, cell_input).ops for cell_input in ("raw", "canonical"))
        assert not torch.equal(raw[0], raw[1]) and torch.equal(canonical[0], canonical[1])


def test_stage_reports_one_predictor_per_cell_input(tmp_path):
    archs = [arch_string(ops) for ops in all_arch_ops()[::211]]  # 75 cells
    acc = cell_ops(archs)[:, 1:7].__eq__(4).sum(1) + 80.0
    columns = {"net": np.arange(len(archs)), "arch": archs, "val": acc, "test": acc,
               "cifar100_test_acc": acc, "imagenet16_test_acc": acc}  # fmt: skip
    pq.write_table(pa.table(columns), tmp_path / "labels.parquet")
    section = narformer_section(epochs=2, batch_size=16, eval_every=1, threads=1, workers=1, device="cpu",
                                train_sizes=[40], seeds=[0], cell_inputs=["raw", "live"], n_freq=4, n_layers=1,
                                n_heads=2, d_ff=16, dropout=0.0)  # fmt: skip
    report = narformer_from_files(tmp_path / "labels.parquet", "val", "test", section, 20, tmp_path / "narformer.json")
    assert list(report["baselines"]) == ["narformer", "narformer_live"] and report["cell_inputs"] == ["raw", "live"]
    assert json.loads((tmp_path / "narformer.json").read_text())["runs"][1]["predictor"] == "narformer_live"
    assert {"spearman_rho", "spearman_rho_remainder"} <= set(report["baselines"]["narformer"]["40"])


def test_parallel_fits_give_the_serial_fits_results(tmp_path):
    archs = [arch_string(ops) for ops in all_arch_ops()[::211]]  # 75 cells
    acc = cell_ops(archs)[:, 1:7].__eq__(4).sum(1) + np.linspace(80.0, 81.0, len(archs))
    columns = {"net": np.arange(len(archs)), "arch": archs, "val": acc, "test": acc,
               "cifar100_test_acc": acc, "imagenet16_test_acc": acc}  # fmt: skip
    pq.write_table(pa.table(columns), tmp_path / "labels.parquet")
    reports = {}
    for workers, threads in ((1, 1), (2, 2)):  # one thread per fit either way
        fit = fit_config(epochs=2, batch_size=16, eval_every=1, threads=threads, workers=workers, device="cpu")
        reports[workers] = cell_model_from_files(
            "narformer", partial(NarFormerModel, SMALL), SMALL.to_dict(), tmp_path / "labels.parquet", "val",
            "test", [30, 40], [0, 1], 20, fit, tmp_path / f"narformer{workers}.json", cell_inputs=("raw", "live"),
        )  # fmt: skip
    serial, parallel = ([{k: v for k, v in r.items() if k != "fit_seconds"} for r in reports[w]["runs"]]
                        for w in (1, 2))  # fmt: skip
    assert len(serial) == 8 and serial == parallel
    assert [(r["predictor"], r["n_train"], r["seed"]) for r in parallel][:3] == [
        ("narformer", 30, 0), ("narformer", 30, 1), ("narformer", 40, 0)]  # fmt: skip
    assert reports[2]["fit"]["workers"] == 2
