"""The gp-teacher benchmark on synthetic features (its numbers come from `python -m benchmarks gp-teacher`)."""

import numpy as np
import pytest

from benchmarks.gp_teacher import KERNELS, compare_feature_models, gp_teacher_markdown, mix_on_validation, standardised
from tart.core.metrics import kendall_tau_b


def _data(n=260):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 3))
    label = np.sin(x[:, 0]) + 0.5 * x[:, 1] + rng.normal(0, 0.1, n)  # smooth: a process should fit it well
    return np.hstack([x, np.ones((n, 1))]), label  # a constant column, as a cell feature no net varies can be


def test_standardised_columns_and_a_constant_one_stays_zero():
    x, _ = _data()
    z = standardised(x)
    assert np.allclose(z[:, :3].mean(0), 0) and np.allclose(z[:, :3].std(0), 1)
    assert np.array_equal(z[:, 3], np.zeros(len(x)))


def test_the_mix_share_follows_the_validation_nets():
    rng = np.random.default_rng(0)
    val_y = rng.normal(size=50)
    val = slice(0, 50)
    noisy = val_y + rng.normal(0, 1.0, 50)
    assert mix_on_validation(val_y, noisy, val, val_y)[1] == 1.0  # a perfect process takes the whole mix
    assert mix_on_validation(-val_y, noisy, val, val_y)[1] == 0.0  # a backwards one takes none of it
    assert mix_on_validation(noisy, noisy, val, val_y)[1] == 0.0  # equal validation taus: the smaller share
    mix, share = mix_on_validation(val_y, noisy, val, val_y)
    assert np.array_equal(mix, share * val_y + (1 - share) * noisy)


def test_models_are_scored_per_size_and_the_choices_follow_validation():
    x, label = _data()
    test_label = -label  # a scorer that swapped validation and test would show negative validation taus
    second = label + np.random.default_rng(1).normal(0, 0.1, len(label))  # another dataset's label of each net
    result = compare_feature_models(x, label, test_label, [120, 160], [0, 1], 50, second)
    models = [r["model"] for r in result["records"] if r["n_train"] == 120]
    kernel = result["kernel"]
    assert models == ["gbm_canonical", *(f"gp {k}" for k in KERNELS), f"mix: gp {kernel} + gbm_canonical",
                      "gbm_canonical_cifar100", f"gp {kernel}, two labels"]  # fmt: skip
    assert [r.get("labels", 1) for r in result["records"]].count(2) == 4  # two rows per size
    for r in result["records"]:
        assert r["val_kendall_tau_b"]["mean"] > 0.6 and r["kendall_tau_b"]["mean"] < -0.6
        if r["model"].startswith("gp "):
            assert r["val_kendall_tau_b"]["std"] == 0.0 and "WhiteKernel" in r["fitted"]

    def val_sum(model):
        return sum(r["val_kendall_tau_b"]["mean"] for r in result["records"] if r["model"] == model)

    assert val_sum(f"gp {result['kernel']}") == max(val_sum(f"gp {k}") for k in KERNELS)
    assert result["teacher"] in (f"gp {result['kernel']}", f"mix: gp {result['kernel']} + gbm_canonical")
    assert sorted(result["scores"]) == [(120, 0), (120, 1), (160, 0), (160, 1)]
    teacher_row = next(r for r in result["records"] if r["model"] == result["teacher"] and r["n_train"] == 160)
    taus = [kendall_tau_b(result["scores"][160, s][160:210], label[160:210]) for s in (0, 1)]
    assert np.isclose(teacher_row["val_kendall_tau_b"]["mean"], np.mean(taus))  # the scores are the teacher's

    result.pop("scores")
    student = {"n_train": 120, "seed": 0, "val_kendall_tau_b": 0.9, "grid_val_kendall_tau_b": None,
               "kendall_tau_b": 0.8, "grid_kendall_tau_b": 0.79, "teacher_agreement": 0.95, "best_epoch": 7,
               "blend_kendall_tau_b": 0.81, "blend_student_weight": 0.2, "fit_seconds": 1000.0}  # fmt: skip
    names = {"train_label": "a", "test_label": "b", "second_label": "c"}
    table = gp_teacher_markdown({**names, **result, "students": [student]})
    assert table.count("| 120 | gp ") == len(KERNELS) + 1 and "| 120 | 0 | 0.9000 | - | 0.8000 | 0.7900 |" in table
    assert "mean of" not in table  # one seed, and without the grid's fit to pair it with
    paired = [{**student, "grid_val_kendall_tau_b": v, "seed": k} for k, v in enumerate((0.85, 0.87))]
    table = gp_teacher_markdown({**names, **result, "students": paired})
    assert "| 120 | mean of 2 | 0.9000 | 0.8600 | 0.8000 | 0.7900 |" in table


def test_earlier_students_are_kept_only_with_the_same_teacher_and_recipe(tmp_path):
    import json

    from benchmarks.gp_teacher import earlier_students, student_sizes
    from tart.core.params import load_params
    from tart.training.tart_grid import recipe_record

    p = load_params()
    recipes = {n: p.tart_grid.recipe(p.train, n) for n in (781, 1563)}
    other = recipes[781].model_copy(update={"epochs": recipes[781].epochs + 1})

    def student(n, seed, teacher="mix", recipe=None):
        return {"n_train": n, "seed": seed, "teacher": teacher, "recipe": recipe_record(recipe or recipes[n])}

    previous = tmp_path / "gp_teacher.json"
    taught_by_mix = {n: r.model_copy(update={"teacher": "gp_gbm_canonical"}) for n, r in recipes.items()}
    previous.write_text(json.dumps({"students": [student(781, 0), student(1563, 3), student(781, 1, "gp"),
                                                 student(781, 2, recipe=other), student(3125, 0, recipe=other)]}))
    kept = earlier_students(previous, "mix", recipes)
    assert sorted(kept) == [(781, 0), (1563, 3)]  # any seed, but another teacher, recipe or size is dropped
    assert earlier_students(tmp_path / "missing.json", "mix", recipes) == {}
    # once the grid names the mix, students of the grid's gradient-boosting days stay on record
    assert sorted(earlier_students(previous, "mix", taught_by_mix)) == [(781, 0), (1563, 3)]
    with pytest.raises(ValueError, match="beside the grid's students of gbm_canonical.*781: 'gp_gbm_canonical'"):
        student_sizes(taught_by_mix)
    by_gbm = {n: r.model_copy(update={"teacher": "gbm_canonical"}) for n, r in recipes.items()}
    assert student_sizes(by_gbm) == [781, 1563]
    assert student_sizes({**by_gbm, 781: taught_by_mix[781]}) == [1563]  # the grid's fits at 781 are the students
