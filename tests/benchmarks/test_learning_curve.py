"""The learning-curve benchmark on synthetic tokens labelled with real NB201 cells (its numbers come from
`python -m benchmarks learning-curve`)."""


import json

import pytest
from helpers import with_archs

from benchmarks.learning_curve import learning_curve_benchmark, learning_curve_markdown


def test_fits_every_size_and_takes_the_protocol_sizes_from_matching_reports(tmp_path):
    p = with_archs(tmp_path)
    report = tmp_path / "baselines.json"
    run = {"predictor": "gbm_canonical", "n_train": 781, "seed": 3, "kendall_tau_b": 0.8}
    run.update(kendall_tau_b_remainder=0.7, fit_seconds=2.0)
    report.write_text(json.dumps({"train_label": p.train.target, "test_label": p.evaluate.test_label, "runs": [run]}))
    result = learning_curve_benchmark(p, [20, 30], [0], grid_report=tmp_path / "none.json", baselines_report=report)
    fitted = {(r["predictor"], r["n_train"]) for r in result["runs"] if r["from"] == "this benchmark"}
    assert fitted == {(name, n) for name in ("tart", "tart_function", "gbm_canonical") for n in (20, 30)}
    gbm = result["summary"]["gbm_canonical"]
    assert (gbm["781"]["seeds"], gbm["781"]["kendall_tau_b"], gbm["781"]["kendall_tau_b_remainder"]) == (1, 0.8, 0.7)
    assert "781" not in result["summary"]["tart"]  # no matching tart_grid report
    markdown = learning_curve_markdown(result)
    assert "| 781 | - | - | 0.8000 (0.7000), 1 |" in markdown and "| 20 |" in markdown
    report.write_text(json.dumps({"train_label": "other", "test_label": p.evaluate.test_label, "runs": [run]}))
    other = learning_curve_benchmark(p, [20], [0], grid_report=tmp_path / "none.json", baselines_report=report)
    assert "781" not in other["summary"]["gbm_canonical"]  # another training label: not comparable, not borrowed


def test_a_size_that_leaves_no_validation_nets_is_refused(tmp_path):
    with pytest.raises(ValueError, match="learning-curve size 55"):
        learning_curve_benchmark(with_archs(tmp_path), [55], [0], grid_report=tmp_path / "none.json")
