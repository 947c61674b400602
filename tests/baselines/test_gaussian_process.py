"""The Gaussian process on function-class cell features and its mix with gradient boosting
(tart/baselines/gaussian_process.py, tart/baselines/baselines.py), on real NB201 cells with synthetic labels."""

import numpy as np
import pytest

from tart.baselines.baselines import (
    MIX_SHARES,
    feature_inputs,
    fit_scores,
    mix_on_validation,
    run_baselines,
    standardised,
)
from tart.baselines.gaussian_process import make_process
from tart.core.metrics import kendall_tau_b
from tart.spaces.nb201.cell_paths import live_ops
from tart.spaces.nb201.network import all_arch_ops, arch_string


def _cells(step=13, noise=0.5, seed=4):
    rng = np.random.default_rng(seed)
    ops = all_arch_ops()[::step]
    archs = [arch_string(o) for o in ops]
    count = np.array([[live_ops(o).count(op) for op in ("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")] for o in ops])
    signal = count @ np.array([1.0, 0.6, -0.3])
    return archs, signal, signal + rng.normal(0, noise, len(ops))


def test_standardised_columns_have_zero_mean_and_unit_variance_and_a_constant_column_stays_zero():
    x = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]])
    z = standardised(x)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), [1.0, 0.0, 1.0])
    assert not np.isnan(z).any()


def test_the_process_runs_once_and_ranks_unseen_cells_by_the_signal():
    archs, signal, label = _cells()
    rows = run_baselines(archs, np.zeros(len(archs)), label, signal, ["gp_canonical"], [300], [0, 1])
    assert [(r["predictor"], r["seed"]) for r in rows] == [("gp_canonical", 0)]  # no seed to vary
    assert rows[0]["kendall_tau_b_remainder"] > 0.7
    with pytest.raises(ValueError, match="unknown kernel 'linear'"):
        make_process("linear")


def test_a_mix_takes_the_share_that_validates_best_and_the_smaller_of_equals():
    rng = np.random.default_rng(0)
    val_label = rng.normal(size=50)
    good, noise = np.concatenate([np.zeros(10), val_label]), rng.normal(size=60)
    val = np.arange(10, 60)
    mixed, share = mix_on_validation(good, noise, val, val_label)
    assert share == 1.0 and np.array_equal(mixed, good)
    assert mix_on_validation(noise, good, val, val_label)[1] == 0.0
    assert mix_on_validation(good, good, val, val_label)[1] == MIX_SHARES[0] == 0.0


def test_the_mix_reads_only_training_and_validation_labels_and_needs_validation_nets():
    archs, _, label = _cells(step=29)
    inputs = feature_inputs(archs, ["gp_gbm_canonical"])
    assert set(inputs) == {"canonical", "canonical_standardised"}
    train, val = np.arange(200), np.arange(200, 260)
    scores = fit_scores("gp_gbm_canonical", inputs, label, train, 0, val=val)
    shuffled = label.copy()
    shuffled[260:] = np.random.default_rng(1).permutation(shuffled[260:])
    assert np.array_equal(scores, fit_scores("gp_gbm_canonical", inputs, shuffled, train, 0, val=val))
    moved = label.copy()
    moved[val] = -moved[val]  # validation labels that disagree with the models move the share, so they are read
    members = [fit_scores(m, inputs, label, train, 0) for m in ("gp_canonical", "gbm_canonical")]
    expected = mix_on_validation(*members, val, moved[val])[0]
    assert np.array_equal(fit_scores("gp_gbm_canonical", inputs, moved, train, 0, val=val), expected)
    assert kendall_tau_b(scores[260:], label[260:]) > 0.5
    with pytest.raises(ValueError, match="chooses its mix on validation nets"):
        fit_scores("gp_gbm_canonical", inputs, label, train, 0)
    with pytest.raises(ValueError, match="expected a validation size >= 1"):
        run_baselines(archs, np.zeros(len(archs)), label, label, ["gp_gbm_canonical"], [100], [0])
    with pytest.raises(ValueError, match=f"train size 500 \\+ 100 validation nets: only {len(archs)} nets"):
        run_baselines(archs, np.zeros(len(archs)), label, label, ["gp_gbm_canonical"], [500], [0], val_size=100)
