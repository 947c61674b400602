"""The tart_grid stage fits each training-set size with its own recipe: the `train` section with that size's
overrides."""

import json

import numpy as np
import pytest
from helpers import with_archs

from benchmarks.distill import distill_benchmark
from tart.core.params import TartGrid
from tart.training import tart_grid
from tart.training.tart_grid import (
    GridFit,
    clear_fits,
    finished_fit_key,
    grid_state_dir,
    merge_size_reports,
    size_report_path,
    tart_grid_from_files,
)


def test_each_size_fits_its_own_recipe_and_the_report_names_it(tmp_path):
    p = with_archs(tmp_path)
    grid = TartGrid(train_sizes=[20, 30], seeds=[0], workers=1, overrides={20: {"teacher": "gbm_canonical"}, 30: {}})
    out = tmp_path / "tart_grid.json"
    report = tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, grid,
                                  p.split.val_size, out)  # fmt: skip
    taught = {r["n_train"]: r["taught_nets"] for r in report["runs"] if r["predictor"] == "tart"}
    assert taught == {20: 60 - 20 - 10, 30: 0}  # the teacher scores every net after the validation ones
    written = json.loads(out.read_text())
    assert written["recipes"]["20"]["teacher"] == "gbm_canonical" and written["recipes"]["30"]["teacher"] == "none"
    assert written["model"]["teacher"] == "none"  # the `train` section itself


def test_the_stage_reads_back_a_fit_a_benchmark_finished_with_the_same_key(tmp_path, monkeypatch):
    p = with_archs(tmp_path)
    made = distill_benchmark(p, [20], [0], [4], [None], workers=1, grid_report=tmp_path / "none.json")
    taught = next(r for r in made["runs"] if r["arm"] == "distill_e4_all")
    state = grid_state_dir(p.paths.resume)
    assert len(list(state.glob("tart_n20_seed0.*.done.pt"))) == 2  # the taught and the plain arm, side by side

    def no_fit(*args, **kwargs):
        raise AssertionError("the stage fit again what the benchmark had finished")

    monkeypatch.setattr(tart_grid, "fit", no_fit)
    grid = TartGrid(train_sizes=[20], seeds=[0], workers=1, overrides={20: {"teacher": "gbm_canonical", "epochs": 4}})
    report = tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, grid,
                                  p.split.val_size, tmp_path / "tart_grid.json", state_dir=state)  # fmt: skip
    run = next(r for r in report["runs"] if r["predictor"] == "tart")
    assert run["kendall_tau_b"] == taught["kendall_tau_b"] and run["fit_seconds"] == taught["fit_seconds"]
    assert not list(state.iterdir())  # the size's fits, the benchmark's other arm too, once the outputs are written

    # Another recipe (5 passes) has no finished fit to read back: the stage fits it.
    grid = TartGrid(train_sizes=[20], seeds=[0], workers=1, overrides={20: {"teacher": "gbm_canonical", "epochs": 5}})
    with pytest.raises(AssertionError, match="fit again"):
        tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, grid,
                             p.split.val_size, tmp_path / "tart_grid.json", state_dir=state)  # fmt: skip


def test_a_finished_fit_is_keyed_by_the_labels_it_is_scored_on_too():
    labels = np.linspace(0, 1, 30)
    job = GridFit(None, 10, 0, 5, labels[:, None], labels, {"cifar100_test_acc": labels})
    key = finished_fit_key("fit", job)
    assert finished_fit_key("fit", job) == key and finished_fit_key("other fit", job) != key
    assert finished_fit_key("fit", job._replace(test_y=labels[::-1])) != key
    assert finished_fit_key("fit", job._replace(transfer={"cifar100_test_acc": labels[::-1]})) != key


def size_report(tmp_path, p, n_train, **change):
    """The report of one size, as its `tart_grid_fits` stage writes it."""
    grid = TartGrid(train_sizes=[n_train], seeds=[0, 1], workers=1, overrides={n_train: {"epochs": 1, **change}})
    path = size_report_path(tmp_path / "reports", n_train)
    tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, grid, p.split.val_size,
                         path)  # fmt: skip
    return path


def test_the_merged_report_is_the_one_grid_over_both_sizes(tmp_path):
    p = with_archs(tmp_path)
    p = p.model_copy(update={"train": p.train.model_copy(update={"epochs": 1})})
    paths = [size_report(tmp_path, p, 20), size_report(tmp_path, p, 30)]
    whole = TartGrid(train_sizes=[20, 30], seeds=[0, 1], workers=1, overrides={20: {}, 30: {}})
    one = tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, whole,
                               p.split.val_size, tmp_path / "one.json")  # fmt: skip
    merged = merge_size_reports(paths, tmp_path / "tart_grid.json")
    assert json.loads((tmp_path / "tart_grid.json").read_text()) == merged
    assert list(merged["recipes"]) == ["20", "30"] and merged["model"] == one["model"]

    def scores(report):  # fit seconds differ from run to run; everything scored must not
        return sorted((r["predictor"], r["n_train"], str(r["seed"]), r["kendall_tau_b"], r["val_kendall_tau_b"]
                       if "val_kendall_tau_b" in r else None) for r in report["runs"])  # fmt: skip

    assert scores(merged) == scores(one)
    for name, sizes in one["baselines"].items():
        for n, entry in sizes.items():
            assert merged["baselines"][name][n]["kendall_tau_b"] == entry["kendall_tau_b"]


def test_merging_refuses_reports_of_other_labels_or_a_repeated_size(tmp_path):
    p = with_archs(tmp_path)
    p = p.model_copy(update={"train": p.train.model_copy(update={"epochs": 1})})
    first = size_report(tmp_path, p, 20)
    with pytest.raises(ValueError, match=r"20.json: size 20 is in an earlier report too"):
        merge_size_reports([first, first], tmp_path / "tart_grid.json")
    other = p.model_copy(update={"train": p.train.model_copy(update={"lr": 0.01})})
    second = size_report(tmp_path, other, 30)
    with pytest.raises(ValueError, match=r"30.json: model is .* but .*20.json has"):
        merge_size_reports([first, second], tmp_path / "tart_grid.json")
    with pytest.raises(FileNotFoundError, match=r"40.json: no size report; `dvc repro tart_grid_fits`"):
        merge_size_reports([first, size_report_path(tmp_path / "reports", 40)], tmp_path / "tart_grid.json")
    second.write_text("{not json")
    with pytest.raises(ValueError, match=r"30.json: not a JSON report"):
        merge_size_reports([first, second], tmp_path / "tart_grid.json")
    assert not (tmp_path / "tart_grid.json").exists()  # nothing half-merged is written


def test_a_size_stage_clears_only_its_own_fits_state(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    for name in ("tart_n20_seed0.a.pt", "tart_n20_seed1.a.done.pt", "tart_n200_seed0.a.pt", "tart_n30_seed0.a.pt"):
        (state / name).write_text("")
    clear_fits(state, [20])
    assert sorted(f.name for f in state.iterdir()) == ["tart_n200_seed0.a.pt", "tart_n30_seed0.a.pt"]
