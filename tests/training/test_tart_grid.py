"""The tart_grid stage fits each training-set size with its own recipe: the `train` section with that size's
overrides."""

import json

import numpy as np
import pytest
from helpers import with_archs

from benchmarks.distill import distill_benchmark
from tart.core.params import TartGrid
from tart.training import tart_grid
from tart.training.tart_grid import GridFit, finished_fit_key, grid_state_dir, tart_grid_from_files


def test_each_size_fits_its_own_recipe_and_the_report_names_it(tmp_path):
    p = with_archs(tmp_path)
    grid = TartGrid(train_sizes=[20, 30], seeds=[0], workers=1, overrides={20: {"teacher": "gbm_canonical"}})
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
    assert not state.exists()  # removed with the benchmark's other arm once the outputs are written

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
