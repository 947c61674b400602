"""The rank-objectives benchmark on synthetic features (its numbers come from `python -m benchmarks
rank-objectives`)."""

import numpy as np
from helpers import linear_features

from benchmarks import rank_objectives
from benchmarks.rank_objectives import (
    QUERY_SIZE,
    SHUFFLES,
    Variant,
    compare_objectives,
    queries,
    rank_grades,
    rank_objectives_markdown,
    variant_scores,
)
from tart.baselines.baselines import fit_scores
from tart.core.metrics import kendall_tau_b


def test_grades_are_equal_count_bins_of_the_rank():
    label = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4])
    assert rank_grades(label, 4).tolist() == [3, 0, 2, 1, 2, 0, 3, 1]
    assert np.bincount(rank_grades(np.arange(100.0), 8)).tolist() == [13, 12, 13, 12, 13, 12, 13, 12]


def test_random_queries_cover_every_net_once_per_shuffle_in_whole_queries():
    order = queries(100, 3)
    assert len(order) % QUERY_SIZE == 0 and len(order) > 100 * SHUFFLES - QUERY_SIZE
    assert np.array_equal(np.sort(order[:100]), np.arange(100))  # the first shuffle is a permutation
    assert np.array_equal(order, queries(100, 3)) and not np.array_equal(order, queries(100, 4))


def test_every_objective_learns_the_order_from_the_training_nets_only(monkeypatch):
    monkeypatch.setitem(rank_objectives.TREES, "n_estimators", 60)
    x, label = linear_features()
    for variant in (Variant("regression"), Variant("lambdarank", 8), Variant("lambdarank", 8, True),
                    Variant("rank_xendcg", 4)):  # fmt: skip
        pred = variant_scores(x, label, 200, 0, variant)
        assert kendall_tau_b(pred[200:], label[200:]) > 0.5, variant
        changed = label.copy()
        changed[200:] = -changed[200:]  # the labels of nets outside the training set are never read
        assert np.array_equal(pred, variant_scores(x, changed, 200, 0, variant)), variant


def test_objectives_are_scored_on_validation_and_test_beside_the_pipelines_model(monkeypatch):
    monkeypatch.setitem(rank_objectives.TREES, "n_estimators", 40)
    x, label = linear_features()
    variants = {"least squares": Variant("regression"), "lambdarank": Variant("lambdarank", 8, True)}
    result = compare_objectives({"canonical": x}, label, -label, [100, 150], [0, 1], 50, variants)
    assert [(r["model"], r["n_train"]) for r in result["records"]] == [
        ("gbm_canonical", 100), ("gbm_canonical", 150), ("least squares", 100), ("least squares", 150),
        ("lambdarank", 100), ("lambdarank", 150)]  # fmt: skip
    for r in result["records"]:  # the test label is negated: swapped columns would show here
        assert r["val_kendall_tau_b"]["mean"] > 0.5 and r["kendall_tau_b"]["mean"] < -0.5
    reference = [fit_scores("gbm_canonical", {"canonical": x}, label, np.arange(150), s) for s in (0, 1)]
    expected = np.mean([kendall_tau_b(r[150:200], label[150:200]) for r in reference])
    assert result["records"][1]["val_kendall_tau_b"]["mean"] == expected  # the pipeline's own model, 50 after 150
    assert result["records"][5]["queries"] == f"{QUERY_SIZE} nets x {SHUFFLES} shuffles"
    table = rank_objectives_markdown({"reference": "gbm_canonical", "train_label": "a", "test_label": "b", **result})
    assert "| 150 | lambdarank | lambdarank | 8 | 32 nets x 8 shuffles |" in table
    assert "| 100 | gbm_canonical | pipeline |  |  |" in table
