"""The teacher-variants benchmark on synthetic features (its numbers come from `python -m benchmarks
teacher-variants`)."""

import numpy as np
from helpers import linear_features

from benchmarks.teacher_variants import compare_variants, teacher_variants_markdown, variant_scores
from tart.core.metrics import kendall_tau_b
from tart.training.distill import teacher_scores


def test_the_unchanged_variant_is_the_pipelines_teacher_and_a_bag_is_not():
    x, label = linear_features()
    train = np.arange(150)
    teacher = teacher_scores("gbm_canonical", {"canonical": x}, label, train, 3)
    assert np.array_equal(variant_scores(x, label, train, 3, {}, 1), teacher)
    bag = variant_scores(x, label, train, 3, {}, 3)
    assert not np.allclose(bag, teacher)
    members = [variant_scores(x, label, train, 3 + 1000 * k, {}, 1) for k in range(3)]
    assert np.allclose(bag, np.mean(members, axis=0))  # the bag averages differently seeded models, teacher first


def test_variants_are_scored_on_validation_and_test_per_size_and_tabled():
    x, label = linear_features()
    test_label = -label  # a scorer that swapped the two columns would show negative validation taus
    variants = {"teacher": ({}, 1), "huber loss": ({"loss": "huber", "n_estimators": 50}, 1)}
    result = compare_variants(x, label, test_label, [100, 150], [0, 1], 50, variants)
    assert [(r["variant"], r["n_train"]) for r in result["records"]] == [
        ("teacher", 100), ("teacher", 150), ("huber loss", 100), ("huber loss", 150)]  # fmt: skip
    for r in result["records"]:
        assert r["val_kendall_tau_b"]["mean"] > 0.5 and r["kendall_tau_b"]["mean"] < -0.5
    huber = [variant_scores(x, label, np.arange(150), seed, variants["huber loss"][0], 1) for seed in (0, 1)]
    expected = np.mean([kendall_tau_b(h[150:200], label[150:200]) for h in huber])
    assert result["records"][3]["val_kendall_tau_b"]["mean"] == expected  # the 50 nets after the 150 training ones
    table = teacher_variants_markdown({"teacher": "gbm_canonical", "train_label": "a", "test_label": "b", **result})
    assert table.count("| 100 |") == 2 and "| 150 | huber loss | 1 |" in table
