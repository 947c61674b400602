"""The cell-workers benchmark on a few real NB201 cells (its numbers come from
`python -m benchmarks cell-workers`)."""

import pytest
from helpers import with_archs

from benchmarks.cell_workers import cell_workers_benchmark, cell_workers_markdown


def test_times_both_cell_models_serial_and_side_by_side(tmp_path):
    result = cell_workers_benchmark(with_archs(tmp_path), fits=2, epochs=2, rounds=1, n_train=20)
    assert set(result["predictors"]) == {"narformer", "tgnas"}
    for r in result["predictors"].values():
        (serial,), (side_by_side,) = r["wall_seconds"].values()
        assert r["speedup"] == pytest.approx(serial / side_by_side, abs=0.01) and serial > 0 and side_by_side > 0
    markdown = cell_workers_markdown(result)
    assert "2 fits of 2 epochs at 20 training nets" in markdown and "| tgnas |" in markdown


def test_a_size_that_leaves_no_validation_nets_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cell-workers: 55 training"):
        cell_workers_benchmark(with_archs(tmp_path), n_train=55)
