"""The student-rows benchmark on synthetic fits (its numbers come from `python -m benchmarks student-rows`)."""

import json

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

from benchmarks.student_rows import finished_fit, student_rows, student_rows_markdown
from tart.core.metrics import score_run

N_NETS, N_TRAIN = 60, 20


def _labels():
    rng = np.random.default_rng(3)
    test_y = rng.normal(size=N_NETS)
    return test_y, {"cifar100_test_acc": test_y + rng.normal(0, 0.5, N_NETS)}


def _fit(seed, test_y, transfer, offset=0.0):
    """A finished grid fit as the state directory keeps it: its record and its prediction of every net."""
    pred = test_y + np.random.default_rng(seed).normal(0, 1.0, N_NETS) + offset
    return {"predictor": "tart", "n_train": N_TRAIN, "seed": seed, "fit_seconds": 100.0 + seed, "best_epoch": 7,
            "val_kendall_tau_b": 0.5 + seed / 100, **score_run(pred, test_y, N_TRAIN, transfer), "device": "cpu",
            "prediction": pred}  # fmt: skip


def _student(fit, teacher="mix: gp x + gbm_canonical", passes=64):
    """The record gp-teacher keeps of a fit (no prediction)."""
    return {"n_train": fit["n_train"], "seed": fit["seed"], "teacher": teacher, "recipe": {"epochs": passes},
            **{k: fit[k] for k in ("val_kendall_tau_b", "kendall_tau_b", "best_epoch", "fit_seconds")}}  # fmt: skip


def _save(state_dir, fit, tag):
    torch.save({"result": fit, "key": tag}, state_dir / f"tart_n{fit['n_train']}_seed{fit['seed']}.{tag}.done.pt")


def _classes():
    return {"iso": np.arange(N_NETS) // 2, "function": np.arange(N_NETS) // 4}


def test_a_fit_is_found_by_its_seed_and_scores_and_another_run_of_the_seed_is_not(tmp_path):
    test_y, transfer = _labels()
    fit, other = _fit(0, test_y, transfer), _fit(0, test_y, transfer, offset=0.3)
    other["kendall_tau_b"] += 0.01  # another recipe's fit of the same seed scored otherwise
    _save(tmp_path, other, "aaaa")
    assert finished_fit(tmp_path, _student(fit)) is None
    _save(tmp_path, fit, "bbbb")
    found = finished_fit(tmp_path, _student(fit))
    assert found is not None and np.array_equal(found["prediction"], fit["prediction"])


def test_rows_are_the_grids_ensemble_and_class_means_of_the_fits(tmp_path):
    test_y, transfer = _labels()
    fits = [_fit(s, test_y, transfer) for s in (0, 1, 2)]
    for k, fit in enumerate(fits):
        _save(tmp_path, fit, f"k{k}")
    grid_row = {"seeds": 5, "kendall_tau_b": 0.25, "kendall_tau_b_std": 0.01, "kendall_tau_b_remainder": 0.2,
                "kendall_tau_b_remainder_std": 0.02}  # fmt: skip
    report = tmp_path / "tart_grid.json"  # the grid's report: rows per predictor and size, each size's recipe
    report.write_text(json.dumps({"baselines": {"tart": {str(N_TRAIN): grid_row, "1563": {}}},
                                  "recipes": {str(N_TRAIN): {"teacher": "gp_gbm_canonical", "epochs": 32}}}))
    result = student_rows([_student(f) for f in fits], tmp_path, _classes, test_y, transfer, report)
    (scored,) = result["scored"]
    assert result["missing"] == [] and scored["seeds"] == [0, 1, 2]
    assert scored["grid_rows"] == {"tart": grid_row} and (scored["grid_teacher"], scored["grid_passes"]) == (
        "gp_gbm_canonical", 32)  # fmt: skip
    rows = scored["rows"]
    assert set(rows) == {"tart", "tart_ensemble", "tart_iso", "tart_function", "tart_ensemble_iso",
                         "tart_ensemble_function"}  # fmt: skip
    singles = [kendalltau(f["prediction"], test_y).statistic for f in fits]
    assert rows["tart"]["kendall_tau_b"] == pytest.approx(np.mean(singles))
    assert rows["tart"]["kendall_tau_b_std"] == pytest.approx(np.std(singles, ddof=1))
    mean_pred = np.mean([f["prediction"] for f in fits], axis=0)
    assert rows["tart_ensemble"]["kendall_tau_b"] == pytest.approx(kendalltau(mean_pred, test_y).statistic)
    function_mean = mean_pred.reshape(-1, 4).mean(1).repeat(4)  # classes of four consecutive nets
    assert rows["tart_ensemble_function"]["kendall_tau_b"] == pytest.approx(kendalltau(function_mean, test_y).statistic)
    remainder = kendalltau(mean_pred[N_TRAIN:], test_y[N_TRAIN:]).statistic
    assert rows["tart_ensemble"]["kendall_tau_b_remainder"] == pytest.approx(remainder)
    text = student_rows_markdown({"source": "gp_teacher.json", "test_label": "cifar10_test_acc", **result})
    assert "TART seed ensemble, averaged over the net's NB201 function class" in text and "Not scored" not in text
    assert "| TART (this pipeline) | " in text and "| 0.2500 ± 0.0100 |" in text


def test_a_set_with_a_fit_gone_is_listed_not_scored_and_no_graph_is_read(tmp_path):
    test_y, transfer = _labels()
    fits = [_fit(s, test_y, transfer) for s in (0, 1)]
    _save(tmp_path, fits[0], "k0")

    def no_classes():
        raise AssertionError("classes are read only for a set that is scored")

    result = student_rows([_student(f) for f in fits], tmp_path, no_classes, test_y, transfer, tmp_path / "x.json")
    assert result["scored"] == []
    assert result["missing"] == [{"n_train": N_TRAIN, "teacher": "mix: gp x + gbm_canonical", "passes": 64,
                                  "seeds": [0, 1], "missing_seeds": [1]}]  # fmt: skip
