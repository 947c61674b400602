import numpy as np
import pytest
from scipy import stats

from tart.core.metrics import bootstrap_interval, kendall_tau_b, mae, spearman_rho, summarize


def test_against_scipy_with_ties():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 5, 200).astype(float)  # many ties
    pred = true + rng.normal(0, 2, 200).round()
    assert kendall_tau_b(pred, true) == pytest.approx(stats.kendalltau(pred, true, variant="b").statistic)
    assert spearman_rho(pred, true) == pytest.approx(stats.spearmanr(pred, true).statistic)
    assert mae(pred, true) == pytest.approx(np.abs(pred - true).mean())
    # tau-b differs from tau-c when there are ties: make sure we are not computing the other one
    assert kendall_tau_b(pred, true) != pytest.approx(stats.kendalltau(pred, true, variant="c").statistic)


def test_bootstrap_interval_brackets_the_value():
    rng = np.random.default_rng(1)
    true = rng.normal(size=300)
    pred = true + rng.normal(size=300)
    low, high = bootstrap_interval(kendall_tau_b, pred, true, 200, seed=0)
    assert low < kendall_tau_b(pred, true) < high
    assert (low, high) == bootstrap_interval(kendall_tau_b, pred, true, 200, seed=0)


def test_summarize_rounding_is_optional():
    pred, true = np.array([1.0, 2.0, 3.0, 5.0]), np.array([1.0, 3.0, 2.0, 4.0])
    full, rounded = summarize(pred, true, 20, 0), summarize(pred, true, 20, 0, digits=2)
    assert full["kendall_tau_b"] == pytest.approx(2 / 3)
    assert rounded["kendall_tau_b"] == 0.67
    assert full["n"] == 4


def test_score_run_scores_all_nets_and_the_remainder_apart():
    from tart.core.metrics import score_run

    rng = np.random.default_rng(3)
    true = rng.normal(size=120)
    pred = np.concatenate([true[:40], rng.normal(size=80)])  # memorised training nets, noise elsewhere
    scores = score_run(pred, true, 40, {"other": -true})
    assert scores["spearman_rho_remainder"] == pytest.approx(stats.spearmanr(pred[40:], true[40:]).statistic)
    assert scores["kendall_tau_b_remainder"] == pytest.approx(stats.kendalltau(pred[40:], true[40:]).statistic)
    assert scores["spearman_rho"] > scores["spearman_rho_remainder"] + 0.2
    assert scores["spearman_rho_other"] == pytest.approx(-scores["spearman_rho"])
