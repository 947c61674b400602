"""The rebuild-floor benchmark on synthetic tokens and real NB201 cells (its numbers come from
`python -m benchmarks rebuild-floor`)."""

import json
import math

import pyarrow.parquet as pq
import pytest
from helpers import with_archs

from benchmarks.rebuild_floor import last_run_seconds, rebuild_floor, rebuild_floor_markdown, stage_steps


def small_grid(tmp_path):
    p = with_archs(tmp_path)
    cell = {"train_sizes": [20, 40], "seeds": [0, 1], "epochs": 3, "batch_size": 16}
    return p.model_copy(update={
        "narformer": p.narformer.model_copy(update={**cell, "cell_inputs": ["raw", "live"]}),
        "tgnas": p.tgnas.model_copy(update={**cell, "cell_inputs": ["raw"]}),
        "tart_grid": p.tart_grid.model_copy(update={"train_sizes": [20, 40], "seeds": [0, 1, 2]}),
        "split": p.split.model_copy(update={"train_size": 40}),
        "paths": p.paths.model_copy(update={"reports": tmp_path / "reports"}),
    })  # fmt: skip


def test_steps_follow_the_params(tmp_path):
    p = small_grid(tmp_path)
    plans = stage_steps(p)
    assert plans["narformer"]["steps"] == 2 * 2 * 3 * (math.ceil(20 / 16) + math.ceil(40 / 16))  # inputs, seeds
    assert plans["narformer"]["fits"] == 8 and plans["tgnas"]["fits"] == 4
    per_epoch = math.ceil(20 / p.train.batch_size) + math.ceil(40 / p.train.batch_size)
    assert plans["tart_grid"]["steps"] == 3 * p.train.epochs * per_epoch
    assert plans["train"]["steps"] == p.train.epochs * math.ceil(40 / p.train.batch_size)


def test_a_taught_size_counts_its_passes_over_the_unlabelled_nets(tmp_path):
    p = small_grid(tmp_path)
    n_nets = len(pq.read_table(p.paths.labels))
    taught = {40: {"teacher": "gbm_canonical", "epochs": 2}}
    p = p.model_copy(update={"tart_grid": p.tart_grid.model_copy(update={"overrides": taught})})
    plain = 3 * p.train.epochs * math.ceil(20 / p.train.batch_size)
    outside = n_nets - 40 - p.split.val_size
    assert outside > 0
    assert stage_steps(p)["tart_grid"]["steps"] == plain + 3 * 2 * math.ceil((40 + outside) / p.train.batch_size)
    p.tart_grid.overrides[40]["unlabelled"] = 5
    assert stage_steps(p)["tart_grid"]["steps"] == plain + 3 * 2 * math.ceil(45 / p.train.batch_size)


def test_floor_is_steps_times_step_seconds_plus_the_other_stages(tmp_path):
    p = small_grid(tmp_path)
    provenance = tmp_path / "reports" / "provenance"
    provenance.mkdir(parents=True)
    (provenance / "build.json").write_text(json.dumps({"stage": "build", "seconds": 100.0}))
    result = rebuild_floor(p, epochs=1)
    for s in result["training_stages"].values():
        assert s["floor_seconds"] == pytest.approx(s["steps"] * s["seconds_per_step"] / s["workers"], abs=0.05)
        assert s["seconds_per_step"] > 0
    assert result["other_stages_last_run"]["build"] == 100.0 and "build" not in result["other_stages_missing"]
    assert result["floor_seconds"] == pytest.approx(result["training_floor_seconds"] + 100.0, abs=0.2)
    markdown = rebuild_floor_markdown(result)
    assert "| narformer |" in markdown and "build 100" in markdown and "not run here: fetch" in markdown


def test_the_grids_last_run_is_its_size_stages_together(tmp_path):
    p = small_grid(tmp_path)
    provenance = tmp_path / "reports" / "provenance"
    provenance.mkdir(parents=True)
    (provenance / "tart_grid_fits@20.json").write_text(json.dumps({"stage": "tart_grid_fits@20", "seconds": 30.0}))
    assert last_run_seconds(p, "tart_grid") is None  # size 40 has not run here
    (provenance / "tart_grid_fits@40.json").write_text(json.dumps({"stage": "tart_grid_fits@40", "seconds": 50.0}))
    assert last_run_seconds(p, "tart_grid") == 80.0
