import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.gbm_grid import gbm_grid_markdown, grid_search, settings_grid
from tart.baselines.baselines import (
    REGRESSORS,
    fit_predict,
    fit_target,
    make_regressor,
    normal_scores,
    one_hot_edges,
    run_baselines,
)
from tart.core.metrics import summarize_runs
from tart.evaluation.report import comparison_entries, comparison_markdown, cost_markdown, transfer_markdown
from tart.spaces.nb201.cell_paths import canonical_features, live_ops
from tart.spaces.nb201.flops import COUNTS, count_flops_2mac, count_flops_nb201, nb201_flops
from tart.spaces.nb201.network import all_arch_ops, arch_string

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
# By hand: stem 3x3 conv (3->16 at 32x32), two residual blocks (3x3 stride-2 conv, 3x3 conv, 1x1 shortcut), the
# classifier, at 2 FLOPs per multiply-accumulate; pools, BN and additions are not counted.
SKELETON = 2 * (27 * 16 * 1024 + 2 * (16 * 9 * 32 * 256 + 32 * 9 * 32 * 256 + 16 * 32 * 256) + 64 * 10)
CONV3X3_EDGE_ALL_STAGES = 2 * 9 * 3 * 5 * 16 * 16 * 1024  # C^2 * H * W is the same in the three stages


def test_one_hot_edges_marks_one_op_per_edge():
    features = one_hot_edges([ARCH])
    assert features.shape == (1, 30) and features.sum() == 6
    assert features[0, 3] == 1  # edge 0 is nor_conv_3x3, op index 3


def test_flop_counter_matches_hand_counts():
    assert count_flops_2mac(arch_string(("none",) * 6)) == SKELETON
    assert count_flops_2mac(arch_string(("nor_conv_3x3",) * 6)) == SKELETON + 6 * CONV3X3_EDGE_ALL_STAGES
    assert count_flops_2mac(arch_string(("nor_conv_1x1",) * 6)) == SKELETON + 6 * CONV3X3_EDGE_ALL_STAGES // 9


@pytest.mark.parametrize(
    ("arch", "mflops"),
    [  # the costs NAS-Bench-201's own tables list for these cells, in MFLOPs to two decimals
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", "222.86"),
        ("|skip_connect~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|skip_connect~1|none~2|", "12.31"),
        ("|skip_connect~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|skip_connect~1|avg_pool_3x3~2|", "13.10"),
    ],
)
def test_the_benchmarks_count_reproduces_its_tables(arch, mflops):
    assert f"{count_flops_nb201(arch) / 1e6:.2f}" == mflops


def test_the_two_counts_differ_where_pools_and_normalisation_matter():
    pools, convs = arch_string(("avg_pool_3x3",) * 6), arch_string(("nor_conv_1x1",) * 6)
    assert count_flops_2mac(pools) < count_flops_2mac(convs)  # pooling is free in the 2-per-MAC count ...
    assert count_flops_nb201(pools) > count_flops_nb201(arch_string(("none",) * 6))  # ... not in the benchmark's


@pytest.mark.parametrize("kind", sorted(COUNTS))
def test_additive_flops_equal_the_full_count(kind):
    archs = [ARCH, arch_string(("skip_connect", "nor_conv_1x1", "none", "avg_pool_3x3", "nor_conv_3x3", "none"))]
    assert nb201_flops(archs, kind).tolist() == [COUNTS[kind](a) for a in archs]


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(0)
    archs = [arch_string(ops) for ops in all_arch_ops()[::50]]  # 313 cells
    convs = one_hot_edges(archs)[:, 3::5].sum(1)  # more 3x3 convs = better, plus noise
    train = convs + rng.normal(0, 0.3, len(archs))
    test = convs + rng.normal(0, 0.3, len(archs))
    return archs, np.arange(len(archs)) % 7 * 1000, train, test


def test_baselines_learn_a_signal_and_report_every_run(synthetic):
    archs, params, train, test = synthetic
    predictors = ["params", "ridge_onehot", "gbm_onehot", "rf_onehot"]
    rows = run_baselines(
        archs, params, train, test, predictors, [50, 100], [0, 1], transfer={"cifar100_test_acc": -test}
    )
    assert [(r["predictor"], r["n_train"]) for r in rows].count(("ridge_onehot", 50)) == 1  # no randomness: one run
    assert len(rows) == 2 * 2 + 2 * 2 * 2
    summary = summarize_runs(rows)
    assert summary["rf_onehot"]["100"]["seeds"] == 2 and summary["rf_onehot"]["100"]["kendall_tau_b"] > 0.5
    assert summary["params"]["50"]["kendall_tau_b_std"] == 0.0
    rf = summary["rf_onehot"]["100"]  # a reversed label transfers as the exact opposite ranking
    assert rf["kendall_tau_b_cifar100_test_acc"] == pytest.approx(-rf["kendall_tau_b"])


def test_path_features_see_what_one_hot_ops_miss():
    # a label that counts only the live 3x3 convolutions: dead ones look the same as live ones in one-hot ops
    rng = np.random.default_rng(1)
    ops = all_arch_ops()[::25]
    archs = [arch_string(o) for o in ops]
    live_convs = np.array([live_ops(o).count("nor_conv_3x3") for o in ops], dtype=float)
    train, test = (live_convs + rng.normal(0, 0.3, len(ops)) for _ in range(2))
    rows = run_baselines(archs, np.zeros(len(ops)), train, test, ["gbm_onehot", "gbm_paths", "rf_paths"], [300], [0])
    tau = {r["predictor"]: r["kendall_tau_b_remainder"] for r in rows}
    assert tau["gbm_paths"] > tau["gbm_onehot"] + 0.03 and tau["rf_paths"] > tau["gbm_onehot"]


def test_canonical_baselines_predict_alike_for_cells_that_compute_alike():
    rng = np.random.default_rng(2)
    ops = [o for o in all_arch_ops() if o[2] == "none"][::5]  # no edge 1 -> 2: nodes 1 and 2 interchangeable
    archs = [arch_string(o) for o in ops]
    swapped = [arch_string((o[1], o[0], "none", o[3], o[5], o[4])) for o in ops]  # nodes 1 and 2 exchanged
    live_convs = np.array([live_ops(o).count("nor_conv_3x3") for o in ops], dtype=float)
    label = np.concatenate([live_convs, live_convs]) + rng.normal(0, 0.3, 2 * len(ops))
    names = ["gbm_canonical", "rf_canonical"]
    rows = run_baselines(archs + swapped, np.zeros(2 * len(ops)), label, label, names, [300], [0])
    assert min(r["kendall_tau_b_remainder"] for r in rows) > 0.5
    inputs = {"canonical": np.hstack([canonical_features(archs + swapped), np.zeros((2 * len(ops), 1))])}
    pred = fit_predict("gbm_canonical", inputs, label, 300, 0)
    assert np.array_equal(pred[: len(ops)], pred[len(ops) :])


def test_a_mixed_target_averages_normal_scores_of_the_training_nets_only():
    y, other = np.array([1.0, 2.0, 3.0, 50.0]), np.array([30.0, 10.0, 20.0, -5.0])
    target = fit_target(REGRESSORS["gbm_canonical_cifar100"], y, np.arange(3), {"cifar100_test_acc": other})
    np.testing.assert_allclose(target, (normal_scores(y[:3]) + normal_scores(other[:3])) / 2)
    other[3] = 1e6  # a net outside the training set changes nothing
    np.testing.assert_allclose(target, fit_target(REGRESSORS["gbm_canonical_cifar100"], y, np.arange(3),
                                                  {"cifar100_test_acc": other}))  # fmt: skip


def test_a_second_label_averages_out_label_noise():
    # two labels of the same nets with independent noise; the test label is the noiseless signal
    rng = np.random.default_rng(3)
    ops = all_arch_ops()[::13]  # 1202 cells, every edge varied
    archs = [arch_string(o) for o in ops]
    count = np.array([[live_ops(o).count(op) for op in ("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")] for o in ops])
    signal = count @ np.array([1.0, 0.6, -0.3])
    first, second = (signal + rng.normal(0, 1.0, len(ops)) for _ in range(2))
    extra = {"cifar100_test_acc": second, "imagenet16_test_acc": signal}
    rows = run_baselines(archs, np.zeros(len(ops)), first, signal, ["gbm_canonical", "gbm_canonical_cifar100"],
                         [300], [0], transfer=extra)  # fmt: skip
    tau = {r["predictor"]: r["kendall_tau_b_remainder"] for r in rows}
    assert tau["gbm_canonical_cifar100"] > tau["gbm_canonical"] + 0.05
    mixed = rows[1]  # the label it was fit to is not reported as a transfer score
    assert "kendall_tau_b_imagenet16_test_acc" in mixed and "kendall_tau_b_cifar100_test_acc" not in mixed
    with pytest.raises(ValueError, match="also fits label 'cifar100_test_acc'"):
        run_baselines(archs, np.zeros(len(ops)), first, signal, ["gbm_canonical_cifar100"], [300], [0])


def test_normal_scores_keep_the_order_and_drop_the_scale():
    y = np.array([10.0, 90.0, 91.0, 93.5, 93.6])
    z = normal_scores(y)
    assert list(np.argsort(z)) == list(range(5)) and z.mean() == pytest.approx(0.0)
    np.testing.assert_allclose(normal_scores(y**3), z)


def test_bad_baseline_config_is_refused(synthetic):
    archs, params, train, test = synthetic
    with pytest.raises(ValueError, match="unknown baseline 'svm'"):
        run_baselines(archs, params, train, test, ["svm"], [50], [0])
    with pytest.raises(ValueError, match="train size 313"):
        run_baselines(archs, params, train, test, ["ridge_onehot"], [313], [0])


def test_comparison_table_marks_published_and_missing_numbers(synthetic):
    archs, params, train, test = synthetic
    rows = run_baselines(archs, params, train, test, ["params", "rf_onehot"], [100], [0, 1],
                         transfer={"imagenet16_test_acc": test})  # fmt: skip
    baselines = {"n_nets": len(archs), "baselines": summarize_runs(rows), "runs": rows, "train_label": "val_acc",
                 "label_ceiling": {"kendall_tau_b": 0.89, "kendall_tau_b_imagenet16_test_acc": 0.8},
                 "mixed_label_ceilings": {"c100_acc": 0.9}}  # fmt: skip
    metrics = {"n_train": 150, "test_all": {"kendall_tau_b": 0.7, "spearman_rho": 0.85},
               "test_remainder": {"kendall_tau_b": 0.6, "spearman_rho": 0.75},
               "transfer": {"kendall_tau_b_imagenet16_test_acc": 0.55}}  # fmt: skip
    entries = comparison_entries(baselines, metrics)
    text = comparison_markdown(entries, len(archs))
    assert "| ceiling: the training label (val_acc) itself | 0.8900 | - | 0.8900 | - | - |" in text
    assert "| ceiling: mean normal score of val_acc and c100_acc | 0.9000 | - | 0.9000 | - | - |" in text
    transfer = transfer_markdown(entries)
    assert "with 150 training nets" in transfer and "| predictor | CIFAR-10 | ImageNet16-120 |" in transfer
    assert "| TART (this pipeline) | 0.7000 | 0.5500 |" in transfer
    assert "| ceiling: the training label (val_acc) itself | 0.8900 | 0.8000 |" in transfer
    assert "| TART (this pipeline) | - | - | 0.7000 | 0.6000 | 1 |" in text
    assert "| NAR-Former (published, not run here) | - | - | - | - | - |" in text  # published at 781/1563 only
    assert " ± " in text.split("random forest")[1].splitlines()[0]
    cost = cost_markdown(entries)
    header = ("| predictor | rho, 100 train: all nets | not trained on | rho, 150 train: all nets | not trained on | "
              "seconds per fit, 100 | seconds per fit, 150 | device |")  # fmt: skip
    assert header in cost and "ceiling" not in cost and "published" not in cost
    # the `train` run alone, at 150 nets: its rho from metrics.json, no timing here
    assert "| TART (this pipeline) | - | - | 0.8500 | 0.7500 | - | - | - |" in cost
    forest = cost.split("| random forest on one-hot edge ops |")[1].splitlines()[0]
    assert forest.count(" ± ") == 2 and forest.endswith("| - | cpu |")  # scikit-learn fits run on the CPU
    rho_all, rho_rest = (float(c.split(" ± ")[0]) for c in forest.split(" | ")[:2])
    forest_runs = [r for r in rows if r["predictor"] == "rf_onehot"]
    assert rho_all == pytest.approx(np.mean([r["spearman_rho"] for r in forest_runs]), abs=1e-4)
    assert rho_rest == pytest.approx(np.mean([r["spearman_rho_remainder"] for r in forest_runs]), abs=1e-4)
    assert rho_rest != rho_all


def test_table_keeps_the_two_largest_sizes_and_figures_render(synthetic, tmp_path):
    from tart.evaluation.figures import comparison_bars, tau_vs_train_size
    from tart.evaluation.report import table_sizes

    archs, params, train, test = synthetic
    rows = run_baselines(archs, params, train, test, ["params", "rf_onehot"], [25, 50, 100], [0, 1])
    baselines = {"n_nets": len(archs), "baselines": summarize_runs(rows), "train_label": "val_acc",
                 "label_ceiling": {"kendall_tau_b": 0.89}}  # fmt: skip
    metrics = {
        "n_train": 100,
        "test_all": {"kendall_tau_b": 0.7, "spearman_rho": 0.8},
        "test_remainder": {"kendall_tau_b": 0.6, "spearman_rho": 0.7},
    }
    entries = comparison_entries(baselines, metrics)
    assert table_sizes(entries) == [50, 100]
    assert "25 train" not in comparison_markdown(entries, len(archs))
    comparison_bars(entries, tmp_path / "bars.png")
    tau_vs_train_size(entries, tmp_path / "curve.png")
    assert (tmp_path / "bars.png").stat().st_size > 1000 and (tmp_path / "curve.png").stat().st_size > 1000


def test_tart_grid_replaces_the_single_tart_run(synthetic):
    archs, params, train, test = synthetic
    rows = run_baselines(archs, params, train, test, ["params"], [100], [0])
    baselines = {"n_nets": len(archs), "train_label": "val_acc", "baselines": summarize_runs(rows)}
    grid_runs = [{"predictor": "tart", "n_train": n, "seed": s, "fit_seconds": 1.0, "kendall_tau_b": t,
                  "kendall_tau_b_remainder": t - 0.01, "spearman_rho": t + 0.1, "spearman_rho_remainder": t + 0.05}
                 for n, s, t in ((50, 0, 0.60), (50, 1, 0.62), (100, 0, 0.70), (100, 1, 0.72))]  # fmt: skip
    grid = {"baselines": summarize_runs(grid_runs), "runs": [{**r, "device": "cuda"} for r in grid_runs]}
    metrics = {
        "n_train": 100,
        "test_all": {"kendall_tau_b": 0.7, "spearman_rho": 0.8},
        "test_remainder": {"kendall_tau_b": 0.69, "spearman_rho": 0.79},
    }
    entries = comparison_entries(baselines, metrics, grid)
    assert [e["name"] for e in entries].count("TART (this pipeline)") == 1
    text = comparison_markdown(entries, len(archs))
    assert (
        "| TART (this pipeline) | 0.6100 ± 0.0141 | 0.6000 ± 0.0141 | 0.7100 ± 0.0141 | 0.7000 ± 0.0141 | 2 |" in text
    )
    row = "| TART (this pipeline) | 0.7100 ± 0.0141 | 0.6600 ± 0.0141 | 0.8100 ± 0.0141 | 0.7600 ± 0.0141 | 1.0 | 1.0 |"
    assert row + " cuda |" in cost_markdown(entries)


def test_seed_ensembles_score_the_mean_prediction():
    from tart.core.metrics import kendall_tau_b
    from tart.training.tart_grid import seed_ensembles

    rng = np.random.default_rng(0)
    test = rng.normal(size=200)
    preds = [test + rng.normal(0, 1.0, 200) for _ in range(3)]
    runs = [
        {"n_train": 50, "seed": s, "fit_seconds": 2.0, "device": "cpu", "prediction": p} for s, p in enumerate(preds)
    ]
    runs.append({"n_train": 100, "seed": 0, "fit_seconds": 2.0, "device": "cpu", "prediction": preds[0]})
    (row,) = seed_ensembles(runs, test, {})  # one seed at 100 nets: nothing to average
    assert row["n_train"] == 50 and row["members"] == 3 and row["fit_seconds"] == 6.0
    assert row["kendall_tau_b"] == kendall_tau_b(np.mean(preds, 0), test)
    assert row["kendall_tau_b"] > max(kendall_tau_b(p, test) for p in preds)  # independent errors average out


def test_gbm_grid_picks_by_validation_tau_not_test_tau():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 3))
    train_label = x[:, 0] + rng.normal(0, 0.1, 400)
    test_label = -train_label  # any pick made on the test label would be the worst by validation
    settings = [s for s in settings_grid() if s["max_features"] == 1.0 and s["min_samples_leaf"] == 5][:2]
    settings = [{**s, "n_estimators": 20} for s in settings]
    result = grid_search(x, train_label, test_label, settings, [100, 200], [0], val_size=50)
    best = max(result["records"], key=lambda r: sum(r["val_kendall_tau_b"].values()))
    assert result["pick"] == best["setting"] and best["val_kendall_tau_b"][100] > 0.5
    assert all(r["test_kendall_tau_b"][200] < -0.5 for r in result["records"])
    assert len(settings_grid()) == 36 and {s["n_estimators"] for s in settings_grid()} == {500, 1250}
    assert "settings, seeds [0]" in gbm_grid_markdown(result)


def test_gbm_canonical_runs_the_setting_the_grid_picked():
    pick = json.loads((Path(__file__).parents[2] / "reports/benchmarks/gbm_grid.json").read_text())["pick"]
    model = make_regressor("gbm_deep", 0, 1)
    assert {key: model.get_params()[key] for key in pick} == pick
