"""The gp-teacher benchmark on synthetic features (its numbers come from `python -m benchmarks gp-teacher`)."""

import numpy as np
import pytest

from benchmarks.gp_teacher import (
    CANDIDATE_KERNELS,
    KERNELS,
    candidate_process,
    compare_feature_models,
    gp_scores,
    gp_teacher_markdown,
    mix_on_validation,
    standardised,
)
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
    processes = [kernel, *CANDIDATE_KERNELS]
    assert models == ["gbm_canonical", *(f"gp {k}" for k in [*KERNELS, *CANDIDATE_KERNELS]),
                      *(f"mix: gp {k} + gbm_canonical" for k in processes),
                      "gbm_canonical_cifar100", f"gp {kernel}, two labels"]  # fmt: skip
    assert [r.get("labels", 1) for r in result["records"]].count(2) == 4  # two rows per size
    for r in result["records"]:
        assert r["val_kendall_tau_b"]["mean"] > 0.6 and r["kendall_tau_b"]["mean"] < -0.6
        if r["model"].startswith("gp "):
            assert r["val_kendall_tau_b"]["std"] == 0.0 and "noise" in r["fitted"].lower()

    def val_of(model, n):
        return next(r["val_kendall_tau_b"]["mean"] for r in result["records"] if (r["model"], r["n_train"]) ==
                    (model, n))  # fmt: skip

    def val_sum(model):
        return val_of(model, 120) + val_of(model, 160)

    assert val_sum(f"gp {result['kernel']}") == max(val_sum(f"gp {k}") for k in KERNELS)
    assert result["teacher"] in (f"gp {result['kernel']}", f"mix: gp {result['kernel']} + gbm_canonical")
    assert sorted(result["scores"]) == sorted(result["pick_scores"]) == [(120, 0), (120, 1), (160, 0), (160, 1)]
    teacher_row = next(r for r in result["records"] if r["model"] == result["teacher"] and r["n_train"] == 160)
    taus = [kendall_tau_b(result["scores"][160, s][160:210], label[160:210]) for s in (0, 1)]
    assert np.isclose(teacher_row["val_kendall_tau_b"]["mean"], np.mean(taus))  # the scores are the teacher's
    candidates = [*(f"gp {k}" for k in processes), *(f"mix: gp {k} + gbm_canonical" for k in processes)]
    for n, pick in result["teacher_by_size"].items():  # each size's own pick, and the scores are the pick's
        assert val_of(pick, n) == max(val_of(m, n) for m in candidates)
        taus = [kendall_tau_b(result["pick_scores"][n, s][n:n + 50], label[n:n + 50]) for s in (0, 1)]
        assert np.isclose(val_of(pick, n), np.mean(taus))

    result.pop("scores"), result.pop("pick_scores")
    recipe = {"epochs": 64}
    student = {"n_train": 120, "seed": 0, "teacher": "mix", "recipe": recipe, "val_kendall_tau_b": 0.9,
               "grid_val_kendall_tau_b": None, "kendall_tau_b": 0.8, "grid_kendall_tau_b": 0.79,
               "teacher_agreement": 0.95, "best_epoch": 7, "blend_kendall_tau_b": 0.81, "blend_student_weight": 0.2,
               "fit_seconds": 1000.0}  # fmt: skip
    names = {"train_label": "a", "test_label": "b", "second_label": "c"}
    table = gp_teacher_markdown({**names, **result, "students": [student]})
    assert table.count("| 120 | gp ") == len(KERNELS) + len(CANDIDATE_KERNELS) + 1
    assert "| 120 | mix | 64 | 0 | 0.9000 | - | 0.8000 | 0.7900 |" in table
    assert f"at 160 nets `{result['teacher_by_size'][160]}`" in table
    assert "mean of" not in table  # one seed, and without the grid's fit to pair it with
    paired = [{**student, "grid_val_kendall_tau_b": v, "seed": k} for k, v in enumerate((0.85, 0.87))]
    shorter = {**student, "recipe": {"epochs": 16}, "grid_val_kendall_tau_b": 0.5, "val_kendall_tau_b": 0.1}
    table = gp_teacher_markdown({**names, **result, "students": [*paired, shorter]})
    # seeds pair within one teacher and number of passes: the 16-pass student is no part of the 64-pass mean
    assert "| 120 | mix | 64 | mean of 2 | 0.9000 | 0.8600 | 0.8000 | 0.7900 |" in table
    assert "| 120 | mix | 16 | mean of" not in table


def test_a_per_feature_length_scale_drops_a_feature_the_labels_do_not_need():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    target = np.sin(2 * x[:, 0])  # the second feature is noise
    _, fitted = gp_scores(x, target[:150], np.arange(150), "matern 2.5 ard")
    assert fitted.startswith("1 of 2 length scales below 1000")
    _, shared = gp_scores(x, target[:150], np.arange(150), "matern 2.5")
    assert "Matern(length_scale=" in shared  # a shared scale is shown as the library writes it


def test_a_candidate_process_is_composed_as_the_library_composes_its_own():
    from tart.baselines.gaussian_process import make_process

    for kernel, base in KERNELS.items():
        library, candidate = make_process(kernel), candidate_process(base())
        assert repr(candidate.kernel) == repr(library.kernel)
        assert candidate.get_params(deep=False).keys() == library.get_params(deep=False).keys()
        assert {k: v for k, v in candidate.get_params(deep=False).items() if k != "kernel"} == {
            k: v for k, v in library.get_params(deep=False).items() if k != "kernel"}


def test_students_are_fit_where_the_pick_is_not_the_grids_teacher_and_earlier_ones_stay(tmp_path):
    import json

    from benchmarks.gp_teacher import earlier_students, spared, student_recipe, student_sizes
    from tart.core.params import load_params

    p = load_params()
    recipes = {n: p.tart_grid.recipe(p.train, n).model_copy(update={"teacher": "gp_gbm_canonical"})
               for n in (781, 1563)}  # fmt: skip
    library_mix, ard_mix = "mix: gp rational quadratic + gbm_canonical", "mix: gp matern 2.5 ard + gbm_canonical"
    assert student_sizes(recipes, {781: library_mix, 1563: ard_mix}) == [1563]
    assert student_sizes(recipes, {781: ard_mix, 1563: ard_mix}) == [781, 1563]
    with pytest.raises(ValueError, match="taught by the pick at every size.*781: 'mix: gp rational quadratic"):
        student_sizes(recipes, {781: library_mix, 1563: library_mix})
    by_gbm = {n: r.model_copy(update={"teacher": "gbm_canonical"}) for n, r in recipes.items()}
    assert student_sizes(by_gbm, {781: "gbm_canonical", 1563: library_mix}) == [1563]

    shorter = recipes[1563].model_copy(update={"epochs": 16})
    old = {**student_recipe(shorter), "teacher": "gbm_canonical"}  # as the gradient-boosting days recorded it
    previous = tmp_path / "gp_teacher.json"
    records = [{"n_train": 1563, "seed": 0, "teacher": ard_mix, "recipe": student_recipe(recipes[1563])},
               {"n_train": 1563, "seed": 1, "teacher": library_mix, "recipe": student_recipe(recipes[1563])},
               {"n_train": 1563, "seed": 2, "teacher": ard_mix, "recipe": old},
               {"n_train": 781, "seed": 3, "teacher": ard_mix, "recipe": student_recipe(recipes[781])}]
    previous.write_text(json.dumps({"students": records}))
    earlier = earlier_students(previous)
    assert earlier == records  # every earlier student stays on record
    assert earlier_students(tmp_path / "missing.json") == []
    # only a student of the same teacher, size and recipe spares a fit
    assert spared(earlier, ard_mix, 1563, recipes[1563]) == {0}
    assert spared(earlier, ard_mix, 1563, shorter) == {2}  # the grid's teacher of its time does not count
    assert "teacher" not in student_recipe(recipes[1563])  # a student's scores were not the grid's teacher's


def test_processes_fit_in_worker_processes_score_as_in_this_one():
    x, label = _data()
    runs = [compare_feature_models(x, label, -label, [120], [0], 50, workers=w) for w in (1, 2)]
    for r in runs:
        r.pop("scores"), r.pop("pick_scores")
        for record in r["records"]:
            record.pop("seconds_per_fit")
    assert runs[0] == runs[1]
