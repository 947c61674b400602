"""The distillation benchmark on synthetic tokens labelled with real NB201 cells (its numbers come from
`python -m benchmarks distill`)."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import with_archs

from benchmarks.distill import distill_benchmark, distill_markdown, pseudo_nets, student_target
from tart.baselines.baselines import normal_scores


def test_pseudo_nets_skip_the_labelled_and_validation_nets():
    assert pseudo_nets(20, 5, 3, None, 0).tolist() == list(range(8, 20))
    sample = pseudo_nets(20, 5, 3, 4, 0)
    assert len(sample) == 4 and sample.min() >= 8 and sorted(sample) == sample.tolist()
    assert sample.tolist() == pseudo_nets(20, 5, 3, 4, 0).tolist() != pseudo_nets(20, 5, 3, 4, 1).tolist()
    assert pseudo_nets(20, 5, 3, 100, 0).tolist() == list(range(8, 20))
    with pytest.raises(ValueError, match="pseudo count -1"):
        pseudo_nets(20, 5, 3, -1, 0)


def test_student_target_keeps_true_labels_only_where_the_protocol_gives_them():
    label, teacher = np.array([3.0, 1.0, 2.0, 9.0, 9.0]), np.array([0.1, 0.2, 0.3, 0.4, -0.5])
    target = student_target(label, teacher, 3)
    assert target[:3].tolist() == normal_scores(label[:3]).tolist()
    assert target[3:].tolist() == [0.4, -0.5]


def test_every_arm_fits_and_unlabelled_labels_never_reach_a_model(tmp_path):
    p = with_archs(tmp_path)
    result = distill_benchmark(p, [20], [0], [4], [None, 5], workers=1, grid_report=tmp_path / "none.json")
    runs = {r["arm"]: r for r in result["runs"]}
    assert set(runs) == {"distill_e4_all", "distill_e4_5", "plain"}
    assert (runs["distill_e4_all"]["pseudo"], runs["distill_e4_5"]["pseudo"], runs["plain"]["pseudo"]) == (30, 5, 0)
    assert runs["plain"]["teacher_agreement"] is None and runs["distill_e4_all"]["teacher_agreement"] is not None
    taus = [r["kendall_tau_b"] for r in runs.values()]
    assert len(set(taus)) == 3  # three different models, not one rescored
    assert [t["n_train"] for t in result["teachers"]] == [20]
    markdown = distill_markdown(result)
    assert "| 20 | distill_e4_all | 1 |" in markdown and "| 20 | plain | 1 |" in markdown

    # Scramble the training label of every net past the validation ones: no model may change.
    labels = pq.read_table(p.paths.labels)
    column = labels["cifar10_valid_val_acc"].to_numpy().copy()
    column[30:] = np.random.default_rng(0).permutation(column[30:])
    index = labels.column_names.index("cifar10_valid_val_acc")
    pq.write_table(labels.set_column(index, "cifar10_valid_val_acc", pa.array(column)), p.paths.labels)
    again = distill_benchmark(p, [20], [0], [4], [None, 5], workers=1, grid_report=tmp_path / "none.json")
    assert {r["arm"]: r["kendall_tau_b"] for r in again["runs"]} == {a: r["kendall_tau_b"] for a, r in runs.items()}
