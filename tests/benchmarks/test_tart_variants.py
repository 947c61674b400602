"""The TART benchmarks (throughput, tokenization variants) on synthetic tokens: they run and report what they
measured (the numbers themselves come from `python -m benchmarks ...`, not from tests)."""


import json

import numpy as np
import pytest
import torch
from helpers import small_tart_config, synthetic_params

from benchmarks.common import peak_tflops
from benchmarks.label_mix import grid_runs, label_mix_benchmark, label_mix_markdown, mixed_column
from benchmarks.pretraining import pretraining_benchmark, pretraining_markdown
from benchmarks.throughput import PlainEncoder, throughput_benchmark, throughput_markdown
from benchmarks.tokenization import VARIANTS, tokenization_benchmark, tokenization_markdown
from tart.training.pretrain import PretrainConfig


def test_throughput_counts_the_timed_batches(tmp_path):
    result = throughput_benchmark(synthetic_params(tmp_path), "cpu", "fp32", batch_size=8, steps=3, warmup=1)
    assert result["device"] == "cpu" and result["peak_bf16_tflops"] is None
    for setup in result["setups"].values():
        assert setup["graphs"] == 24 and setup["graphs_per_second"] > 0 and setup["flops_per_graph"] > 0
        assert setup["fraction_of_peak_bf16"] is None
    assert "| tart | fp32 |" in throughput_markdown(result)


def test_peak_lookup_is_for_cuda_only():
    assert peak_tflops(torch.device("cpu")) == ("cpu", None)


def test_plain_encoder_ignores_padding():
    torch.manual_seed(0)
    model = PlainEncoder(small_tart_config(n_layers=3)).eval()
    ids = torch.tensor([[[3], [4], [5]]])
    with torch.no_grad():
        assert torch.allclose(model(ids), model(torch.nn.functional.pad(ids, (0, 0, 0, 4))), atol=1e-5)


def test_tokenization_variants_all_train(tmp_path):
    result = tokenization_benchmark(synthetic_params(tmp_path), n_train=30, workers=1)
    assert [r["variant"] for r in result["runs"]] == [name for name, _ in VARIANTS]
    assert {r["graph_pe"] for r in result["runs"]} == {"none", "topology", "laplacian", "random_walk"}
    taus = [r["kendall_tau_b"] for r in result["runs"]]
    assert len(set(taus)) == len(taus)  # each variant is another model, not the same one rescored
    # the labels count convs: even one epoch of the order-blind primitive model ranks the nets (a model fed
    # misaligned labels or tokens stays near 0)
    assert taus[0] > 0.3
    assert tokenization_markdown(result).count("\n| ") == len(VARIANTS) + 1


def test_pretraining_benchmark_compares_starts_on_the_same_seeds(tmp_path):
    p = synthetic_params(tmp_path)
    cfg = PretrainConfig(nets=30, epochs=1, batch_size=8, holdout=5)
    result = pretraining_benchmark(p, cfg, train_sizes=[20], seeds=[0, 1], workers=1)
    assert [(r["seed"], r["start"]) for r in result["runs"]] == [
        (0, "scratch"), (0, "pretrained"), (1, "scratch"), (1, "pretrained")]  # fmt: skip
    assert len(result["summary"]["20"]["gain_per_seed"]) == 2
    z = result["zero_shot"]
    assert z["fit_nets"] == 27
    assert f"accuracy with tau {z['nb201_kendall_tau_b_test_acc']:.3f}" in pretraining_markdown(result)


def test_label_mix_target_is_ranked_within_the_training_and_validation_nets():
    y, extra = np.array([1.0, 2.0, 3.0, 9.0, 8.0, 7.0, 0.0]), np.array([3.0, 2.0, 1.0, 7.0, 8.0, 9.0, 5.0])
    mixed = mixed_column(y, extra, 3, 3)
    assert mixed[:3].tolist() == pytest.approx([0.0, 0.0, 0.0])  # opposite orders cancel
    assert mixed[3:6].tolist() == pytest.approx([0.0, 0.0, 0.0]) and mixed[6] == 0.0  # the rest: unused


def test_label_mix_benchmark_reuses_matching_grid_runs_only(tmp_path):
    p = synthetic_params(tmp_path)
    report = tmp_path / "tart_grid.json"
    run = {"predictor": "tart", "n_train": 30, "seed": 0, "kendall_tau_b": 0.5}
    recipe = {k: v for k, v in p.train.model_dump().items() if k not in ("seed", "device")}
    report.write_text(json.dumps({"model": recipe, "test_label": p.evaluate.test_label, "runs": [run]}))
    result = label_mix_benchmark(p, [30], [0, 1], workers=1, grid_report=report)
    sources = {(r["seed"], r["target"]): r["from"] for r in result["runs"]}
    assert sources == {(0, "single"): "tart_grid", (1, "single"): "this benchmark",
                       (0, "mixed"): "this benchmark", (1, "mixed"): "this benchmark"}  # fmt: skip
    assert result["summary"]["30"]["gain_per_seed"][0] == pytest.approx(result["runs"][0]["kendall_tau_b"] - 0.5)
    assert "| 30 |" in label_mix_markdown(result)
    other = p.model_copy(update={"train": p.train.model_copy(update={"lr": p.train.lr * 2})})
    assert grid_runs(report, other, [30], [0]) == {}  # another recipe: refit, never borrowed


def test_canonical_order_benchmark_pairs_each_seed_with_the_file_order_fits(tmp_path):
    from benchmarks.canonical_order import canonical_order_benchmark, canonical_order_markdown

    p = synthetic_params(tmp_path)
    result = canonical_order_benchmark(p, [30], [0, 1], workers=1, grid_report=tmp_path / "none.json")
    assert {(r["seed"], r["order"], r["from"]) for r in result["runs"]} == {
        (s, o, "this benchmark") for s in (0, 1) for o in ("file", "file_iso", "canonical")}  # fmt: skip
    entry = result["summary"]["30"]
    assert len(entry["gain_over_file"]) == len(entry["gain_over_file_iso"]) == 2
    assert result["distinct_sequences"]["canonical"] <= result["distinct_sequences"]["file"]
    assert "| 30 |" in canonical_order_markdown(result)
