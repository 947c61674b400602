"""The distillation benchmark on synthetic tokens labelled with real NB201 cells (its numbers come from
`python -m benchmarks distill`)."""

import importlib
import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import with_archs

from benchmarks.distill import (
    STUDENT_VARIANTS,
    arm_name,
    arm_recipe,
    base_and_variant,
    blend_with_teacher,
    distill_benchmark,
    distill_markdown,
    table_order,
)
from tart.core.metrics import kendall_tau_b
from tart.training.tart_grid import grid_state_dir, recipe_record


def test_every_arm_fits_and_unlabelled_labels_never_reach_a_model(tmp_path):
    p = with_archs(tmp_path)
    result = distill_benchmark(p, [20], [0], [4], [None, 5], workers=1, grid_report=tmp_path / "none.json")
    runs = {r["arm"]: r for r in result["runs"]}
    assert set(runs) == {"distill_e4_all", "distill_e4_5", "plain"}
    taught = (runs["distill_e4_all"]["taught_nets"], runs["distill_e4_5"]["taught_nets"], runs["plain"]["taught_nets"])
    assert taught == (30, 5, 0)  # 60 nets - 20 labelled - 10 validation
    assert runs["plain"]["teacher_agreement"] is None and runs["distill_e4_all"]["teacher_agreement"] is not None
    taus = [r["kendall_tau_b"] for r in runs.values()]
    assert len(set(taus)) == 3  # three different models, not one rescored
    assert [t["n_train"] for t in result["teachers"]] == [20]
    markdown = distill_markdown(result)
    cells = [line.split(" | ") for line in markdown.splitlines() if line.startswith("| 20 |")]
    rows = {row[1]: row for row in cells if len(row) == 10}  # the arms' table, not the teachers'
    assert set(rows) == {"distill_e4_all", "distill_e4_5", "plain"}
    agreement = runs["distill_e4_all"]["teacher_agreement"]
    assert rows["distill_e4_all"][6] == f"{agreement:.4f} ± 0.0000" and rows["plain"][6] == "-"
    assert rows["distill_e4_all"][7] == f"{runs['distill_e4_all']['best_epoch']} of 4"
    assert rows["plain"][7] == f"{runs['plain']['best_epoch']} of {p.train.epochs}"
    taught = runs["distill_e4_all"]
    assert rows["distill_e4_all"][8] == (f"{taught['blend_kendall_tau_b']:.4f} ± 0.0000 "
                                         f"(weight {taught['blend_student_weight']:g})")  # fmt: skip
    assert rows["plain"][8] == "-" and "blend_kendall_tau_b" not in runs["plain"]
    teacher_rows = [line for line in markdown.splitlines() if line.startswith("| gbm_canonical | 20 | 0 |")]
    assert teacher_rows == [f"| gbm_canonical | 20 | 0 | {result['teachers'][0]['val_kendall_tau_b']:.4f} | "
                            f"{result['teachers'][0]['kendall_tau_b']:.4f} |"]  # fmt: skip

    # Scramble the training label of every net past the validation ones: no model may change.
    labels = pq.read_table(p.paths.labels)
    column = labels["cifar10_valid_val_acc"].to_numpy().copy()
    column[30:] = np.random.default_rng(0).permutation(column[30:])
    index = labels.column_names.index("cifar10_valid_val_acc")
    pq.write_table(labels.set_column(index, "cifar10_valid_val_acc", pa.array(column)), p.paths.labels)
    shutil.rmtree(grid_state_dir(p.paths.resume))  # else the same fits would be read back, not made again
    again = distill_benchmark(p, [20], [0], [4], [None, 5], workers=1, grid_report=tmp_path / "none.json")
    assert {r["arm"]: r["kendall_tau_b"] for r in again["runs"]} == {a: r["kendall_tau_b"] for a, r in runs.items()}


def test_fits_the_tart_grid_report_holds_are_read_not_refit(tmp_path):
    p = with_archs(tmp_path)
    first = distill_benchmark(p, [20], [0], [4], [None], workers=1, grid_report=tmp_path / "none.json")
    taught = next(r for r in first["runs"] if r["arm"] == "distill_e4_all")
    recipe = p.train.model_copy(update={"teacher": "gbm_canonical", "epochs": 4, "unlabelled": None})
    record = {k: v for k, v in taught.items() if k not in ("arm", "epochs", "teacher_agreement", "from")}
    report = tmp_path / "tart_grid.json"
    report.write_text(json.dumps({"test_label": p.evaluate.test_label, "runs": [{**record, "kendall_tau_b": 0.5}],
                                  "recipes": {"20": recipe_record(recipe)}}))  # fmt: skip
    again = {r["arm"]: r for r in distill_benchmark(p, [20], [0], [4], [None], workers=1, grid_report=report)["runs"]}
    assert again["distill_e4_all"]["from"] == "tart_grid" and again["distill_e4_all"]["kendall_tau_b"] == 0.5
    assert again["plain"]["from"] == "this benchmark"  # the report holds the taught recipe only

    # An earlier call's own fit of that recipe measured its agreement with the teacher: it is kept over the report's.
    earlier = tmp_path / "distill.json"
    earlier.write_text(json.dumps(first))
    kept = distill_benchmark(p, [20], [0], [4], [None], workers=1, grid_report=report, previous=earlier)
    kept_run = next(r for r in kept["runs"] if r["arm"] == "distill_e4_all")
    assert kept_run["kendall_tau_b"] == taught["kendall_tau_b"] and kept_run["teacher_agreement"] is not None


def test_a_train_recipe_with_a_teacher_is_refused_as_the_plain_arm(tmp_path):
    p = with_archs(tmp_path)
    taught = p.model_copy(update={"train": p.train.model_copy(update={"teacher": "gbm_canonical"})})
    with pytest.raises(ValueError, match="train.teacher is 'gbm_canonical': set it to none"):
        distill_benchmark(taught, [20], [0], [4], [None], workers=1, grid_report=tmp_path / "none.json")


def test_the_table_grows_keeping_earlier_runs_whose_recipe_still_holds(tmp_path):
    p = with_archs(tmp_path)
    none = tmp_path / "none.json"
    earlier = tmp_path / "distill.json"
    first = distill_benchmark(p, [20], [0], [2], [None], workers=1, grid_report=none)
    for run in first["runs"]:
        run["kendall_tau_b"] = 0.5  # marks what was carried over rather than fit again
    earlier.write_text(json.dumps(first))

    grown = distill_benchmark(p, [20], [0], [3], [None], workers=1, grid_report=none, previous=earlier)
    runs = {r["arm"]: r for r in grown["runs"]}
    assert set(runs) == {"distill_e2_all", "distill_e3_all", "plain"}
    assert runs["distill_e2_all"]["kendall_tau_b"] == 0.5 and runs["plain"]["kendall_tau_b"] == 0.5
    assert runs["distill_e3_all"]["kendall_tau_b"] != 0.5 and runs["distill_e3_all"]["from"] == "this benchmark"
    assert [t["n_train"] for t in grown["teachers"]] == [20]
    assert "| 20 | distill_e2_all | 1 |" in distill_markdown(grown)

    # Another train section: what the earlier arms stood for no longer holds, so every arm is fit again.
    other = p.model_copy(update={"train": p.train.model_copy(update={"lr": p.train.lr / 2})})
    refit = distill_benchmark(other, [20], [0], [2], [None], workers=1, grid_report=none, previous=earlier)
    assert {r["arm"] for r in refit["runs"]} == {"distill_e2_all", "plain"}
    assert all(r["kendall_tau_b"] != 0.5 for r in refit["runs"])


def test_an_arm_name_stands_for_one_recipe(tmp_path):
    p = with_archs(tmp_path)
    assert arm_recipe("plain", p.train) == p.train
    recipe = arm_recipe(arm_name(8, 500), p.train)
    assert (recipe.teacher, recipe.epochs, recipe.unlabelled) == ("gbm_canonical", 8, 500)
    assert arm_recipe(arm_name(4, None), p.train).unlabelled is None
    assert arm_name(32, None, "gp_gbm_canonical") == "distill_e32_all_gp_gbm_canonical"
    recipe = arm_recipe("distill_e32_all_gp_gbm_canonical", p.train)
    assert (recipe.teacher, recipe.epochs, recipe.unlabelled) == ("gp_gbm_canonical", 32, None)
    for bad in ("taught", "distill_e4_all_gbm_canonical", "distill_e4_all_none"):  # the default is never named
        with pytest.raises(ValueError, match=f"arm '{bad}': expected 'plain' or distill_e<epochs>"):
            arm_recipe(bad, p.train)
    with pytest.raises(ValueError, match="teacher 'none': expected one of gbm_canonical, gp_gbm_canonical"):
        arm_name(4, None, "none")


def test_each_teacher_asked_for_is_an_arm_taught_by_its_own_scores(tmp_path):
    p = with_archs(tmp_path)
    none = tmp_path / "none.json"
    result = distill_benchmark(p, [20], [0], [2], [None], workers=1, grid_report=none,
                               teachers=("gbm_canonical", "gp_gbm_canonical"))  # fmt: skip
    runs = {r["arm"]: r for r in result["runs"]}
    assert set(runs) == {"distill_e2_all", "distill_e2_all_gp_gbm_canonical", "plain"}
    assert runs["distill_e2_all_gp_gbm_canonical"]["recipe"]["teacher"] == "gp_gbm_canonical"
    teachers = {t["teacher"]: t for t in result["teachers"]}
    assert set(teachers) == {"gbm_canonical", "gp_gbm_canonical"}
    assert teachers["gbm_canonical"]["kendall_tau_b"] != teachers["gp_gbm_canonical"]["kendall_tau_b"]
    assert runs["distill_e2_all"]["kendall_tau_b"] != runs["distill_e2_all_gp_gbm_canonical"]["kendall_tau_b"]
    assert "| gp_gbm_canonical | 20 | 0 |" in distill_markdown(result)

    # A later call for the default teacher alone keeps the other teacher's arm, and its teacher's rows.
    earlier = tmp_path / "distill.json"
    earlier.write_text(json.dumps(result))
    again = distill_benchmark(p, [20], [0], [3], [None], workers=1, grid_report=none, previous=earlier)
    assert {r["arm"] for r in again["runs"]} == set(runs) | {"distill_e3_all"}
    assert {t["teacher"] for t in again["teachers"]} == {"gbm_canonical", "gp_gbm_canonical"}
    with pytest.raises(ValueError, match="teacher 'gp': expected one of gbm_canonical, gp_gbm_canonical"):
        distill_benchmark(p, [20], [0], [2], [None], workers=1, grid_report=none, teachers=("gp",))


def test_the_table_lists_taught_arms_by_passes_then_the_plain_recipe():
    runs = [{"n_train": n, "arm": arm, "epochs": epochs, "seed": seed}
            for n in (1563, 781) for arm, epochs in (("plain", 40), ("distill_e4_all", 4), ("distill_e16_all", 16),
                                                     ("distill_e8_500", 8), ("distill_e8_all", 8))
            for seed in (1, 0)]  # fmt: skip
    ordered = [(r["n_train"], r["arm"], r["seed"]) for r in sorted(runs, key=table_order)]
    arms = ["distill_e4_all", "distill_e8_500", "distill_e8_all", "distill_e16_all", "plain"]
    assert ordered == [(n, arm, seed) for n in (781, 1563) for arm in arms for seed in (0, 1)]


def test_a_blend_weighs_the_student_by_what_it_adds_on_the_validation_nets():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=2000)
    val = slice(200, 700)
    teacher = truth + rng.normal(size=2000)
    own_errors = truth + rng.normal(size=2000)  # as good as the teacher, wrong elsewhere
    for student, weight in ((-truth, 0.0), (teacher.copy(), 0.0), (truth, 1.0)):  # backwards, a copy, perfect
        blend = blend_with_teacher(student, teacher, val, truth[val], truth)
        assert blend["blend_student_weight"] == weight
    assert blend["blend_kendall_tau_b"] == pytest.approx(1.0)
    blend = blend_with_teacher(own_errors, teacher, val, truth[val], truth)
    assert 0.3 <= blend["blend_student_weight"] <= 0.7
    assert blend["blend_kendall_tau_b"] > max(kendall_tau_b(teacher, truth), kendall_tau_b(own_errors, truth)) + 0.03


def test_a_student_variant_is_its_taught_arm_with_the_variant_keys_replaced(tmp_path):
    p = with_archs(tmp_path)
    assert arm_name(32, None, "gp_gbm_canonical", "ema") == "distill_e32_all_gp_gbm_canonical+ema"
    assert base_and_variant("distill_e32_all_gp_gbm_canonical+ema") == ("distill_e32_all_gp_gbm_canonical", "ema")
    assert base_and_variant("distill_e32_all_gp_gbm_canonical") == ("distill_e32_all_gp_gbm_canonical", None)
    recipe = arm_recipe("distill_e32_all_gp_gbm_canonical+ema", p.train)
    base = arm_recipe("distill_e32_all_gp_gbm_canonical", p.train)
    assert recipe == base.model_copy(update={"ema": 0.99}) and recipe != base
    assert arm_recipe("distill_e4_all+wide", p.train).d_model == 2 * p.train.d_model
    with pytest.raises(ValueError, match="student variant 'deep': expected one of ema, rank"):
        arm_name(4, None, variant="deep")
    with pytest.raises(ValueError, match=r"arm 'distill_e4_all\+deep': expected .*the variant one of ema"):
        arm_recipe("distill_e4_all+deep", p.train)

    result = distill_benchmark(p, [20], [0], [2], [None], workers=1, grid_report=tmp_path / "none.json",
                               variants=(None, "rank"))  # fmt: skip
    runs = {r["arm"]: r for r in result["runs"]}
    assert list(runs) == ["distill_e2_all", "distill_e2_all+rank", "plain"]  # a variant right after its base arm
    assert runs["distill_e2_all+rank"]["recipe"]["rank_weight"] == 1.0
    assert runs["distill_e2_all+rank"]["kendall_tau_b"] != runs["distill_e2_all"]["kendall_tau_b"]
    assert result["student_variants"] == {"rank": {"rank_weight": 1.0}}
    markdown = distill_markdown(result)
    assert '- `+rank`: the taught recipe with `{"rank_weight": 1.0}`.' in markdown
    own, base = runs["distill_e2_all+rank"], runs["distill_e2_all"]
    assert (f"At 20 nets, seeds [0]: validation {own['val_kendall_tau_b']:.4f} against its base arm's "
            f"{base['val_kendall_tau_b']:.4f} on the same seeds (test {own['kendall_tau_b']:.4f} against "
            f"{base['kendall_tau_b']:.4f}).") in markdown  # fmt: skip

    # A variant reading another input gets workers that load it: else it would fit the base arm's tokens again.
    without = [c for c in p.train.channels if c != "cell_tokens"]
    p = p.model_copy(update={"train": p.train.model_copy(update={"channels": without})})
    cells = distill_benchmark(p, [20], [0], [2], [None], workers=1, grid_report=tmp_path / "none.json",
                              variants=(None, "cells"))  # fmt: skip
    runs = {r["arm"]: r for r in cells["runs"]}
    assert runs["distill_e2_all+cells"]["recipe"]["channels"] == [*without, "cell_tokens"]
    assert STUDENT_VARIANTS["cells"](arm_recipe("distill_e2_all+cells", p.train))["channels"].count("cell_tokens") == 1
    assert runs["distill_e2_all+cells"]["kendall_tau_b"] != runs["distill_e2_all"]["kendall_tau_b"]


def test_the_command_line_passes_teachers_and_variants_only_when_given(monkeypatch):
    dispatch = importlib.import_module("benchmarks.__main__")
    calls = []
    monkeypatch.setattr(dispatch, "_load", lambda ref: lambda *args, **kwargs: calls.append(kwargs) or {})
    dispatch._distill(None, ["781", "0,1", "32", "all"])
    dispatch._distill(None, ["781", "0,1", "32", "all", "gp_gbm_canonical", "-,ema"])
    assert "teachers" not in calls[0] and "variants" not in calls[0]  # distill_benchmark's defaults decide
    assert calls[1]["teachers"] == ("gp_gbm_canonical",) and calls[1]["variants"] == (None, "ema")
