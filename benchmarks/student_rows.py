"""The comparison table's TART rows as a study's students would make them (`python -m benchmarks student-rows`).

gp-teacher fits TART with a teacher the grid is not taught by and records each fit's own scores. Whether adopting
that teacher would lift the table is a question about the rows the grid derives from its fits: the seed ensemble,
and every prediction averaged over the nets with an isomorphic graph and over the net's NB201 function class. This
benchmark derives them with the grid's own functions from the students' finished fits, which stay in the grid's
state directory until the `tart_grid_fits` stage of their size next runs, and sets them beside the rows the grid's
report holds for that size now. A set of students (one size, teacher and number of passes) is scored only when the
finished fit of every seed is there, found by its seed and the scores its record holds; a set with a fit missing
is listed with the seeds whose fits are gone (gp-teacher fits them again).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import BENCHMARK_DIR
from benchmarks.gp_teacher import student_sets
from tart.core.metrics import summarize_runs
from tart.core.params import Params
from tart.evaluation.report import PREDICTOR_LABELS
from tart.training.tart_grid import class_mean_runs, grid_state_dir, net_classes, protocol_labels, seed_ensembles

SOURCE = BENCHMARK_DIR / "gp_teacher.json"
# What identifies a student's finished fit: its record holds these, exactly as the fit returned them.
IDENTITY = ("val_kendall_tau_b", "kendall_tau_b", "best_epoch", "fit_seconds")
SCORES = ("kendall_tau_b", "kendall_tau_b_remainder")


def finished_fit(state_dir: Path, student: dict) -> dict | None:
    """The result of `student`'s fit as the grid's state directory keeps it (prediction included), or None when no
    finished fit of its size and seed there carries the scores its record holds."""
    for path in sorted(state_dir.glob(f"tart_n{student['n_train']}_seed{student['seed']}.*.done.pt")):
        # the grid's own state file (tart.training.resume): numpy arrays inside, hence not weights-only
        result = torch.load(path, map_location="cpu", weights_only=False).get("result", {})
        if all(result.get(k) == student[k] for k in IDENTITY):
            return result
    return None


def table_rows(runs: list[dict], classes: dict[str, np.ndarray], test_y: np.ndarray, transfer: dict) -> dict:
    """{predictor: {score: mean, score_std: std over seeds, seeds}} of the rows the grid derives from `runs` (fits
    of one size, each with its prediction): the runs, their seed ensemble, and both again averaged per class."""
    runs = [*runs, *seed_ensembles(runs, test_y, transfer)]
    runs += class_mean_runs(runs, classes, test_y, transfer)
    (n_train,) = {r["n_train"] for r in runs}
    return {name: row_scores(sizes[str(n_train)]) for name, sizes in summarize_runs(runs).items()}


def row_scores(entry: dict) -> dict:
    """One row of a `summarize_runs` summary: its scores and their spread over seeds."""
    return {"seeds": entry["seeds"], **{k: entry[k] for k in SCORES}, **{f"{k}_std": entry[f"{k}_std"] for k in SCORES}}


def grid_rows(report_path: Path, n_train: int) -> tuple[dict, dict | None]:
    """(the rows the grid's report holds at `n_train`, that size's recipe), as `table_rows` gives them."""
    if not report_path.exists():
        return {}, None
    report = json.loads(report_path.read_text())
    rows = {name: row_scores(sizes[str(n_train)]) for name, sizes in report["baselines"].items()
            if str(n_train) in sizes}  # fmt: skip
    return rows, report.get("recipes", {}).get(str(n_train))


def student_rows(students: list[dict], state_dir: Path, classes: Callable[[], dict[str, np.ndarray]],
                 test_y: np.ndarray, transfer: dict, grid_report: Path) -> dict:  # fmt: skip
    """Every set of `students` (records as gp-teacher keeps them) scored as table rows when all its fits are in
    `state_dir`, beside the grid's rows of its size; the others under "missing" with the seeds whose fits are gone.
    `classes` gives the class ids of every net (called once, and only when a set is scored: it reads every graph)."""
    scored, missing, class_ids = [], [], None
    for (n, teacher, passes), members in student_sets(students).items():
        fits = {s["seed"]: finished_fit(state_dir, s) for s in members}
        gone = [seed for seed, fit in fits.items() if fit is None]
        if gone:
            missing.append({"n_train": n, "teacher": teacher, "passes": passes, "seeds": sorted(fits),
                            "missing_seeds": gone})  # fmt: skip
            continue
        class_ids = class_ids if class_ids is not None else classes()
        # the predictions' own dtype (float32), as the grid averages them: a float64 mean breaks ties that the
        # float32 one rounds together, which moves the ensemble's tau in the fourth decimal
        runs = [{**fit, "prediction": np.asarray(fit["prediction"])} for fit in fits.values()]
        grid, recipe = grid_rows(grid_report, n)
        scored.append({"n_train": n, "teacher": teacher, "passes": passes, "seeds": sorted(fits),
                       "rows": table_rows(runs, class_ids, test_y, transfer), "grid_rows": grid,
                       "grid_teacher": None if recipe is None else recipe.get("teacher"),
                       "grid_passes": None if recipe is None else recipe.get("epochs")})  # fmt: skip
        print(f"student-rows: {n} nets, {teacher}, {passes} passes: {len(runs)} fits scored", flush=True)
    return {"scored": scored, "missing": missing}


def student_rows_benchmark(p: Params, source: Path = SOURCE,
                           grid_report: Path = Path("reports/tart_grid.json")) -> dict:  # fmt: skip
    """`student_rows` of the students in the gp-teacher report `source`, from the grid's state directory."""
    if not source.exists():
        raise FileNotFoundError(f"{source}: no gp-teacher report; `python -m benchmarks gp-teacher SEEDS "
                                "STUDENT_SEEDS` fits the students this benchmark scores")  # fmt: skip
    students = json.loads(source.read_text()).get("students", [])
    if not students:
        raise ValueError(f"{source}: no students on record; `python -m benchmarks gp-teacher SEEDS STUDENT_SEEDS` "
                         "fits them")  # fmt: skip
    _, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    result = student_rows(students, grid_state_dir(p.paths.resume),
                          lambda: net_classes(p.paths.tokens, p.paths.labels, len(test_y)), test_y, transfer,
                          grid_report)  # fmt: skip
    if not result["scored"]:
        sets = "; ".join(f"{m['n_train']} nets, {m['teacher']}: seeds {m['missing_seeds']}" for m in result["missing"])
        raise ValueError(f"student-rows: no set of students has every finished fit in "
                         f"{grid_state_dir(p.paths.resume)} (missing: {sets}); a `tart_grid_fits` run clears them, "
                         "and gp-teacher fits them again")  # fmt: skip
    return {"source": str(source), "test_label": p.evaluate.test_label, **result}


def student_rows_markdown(result: dict) -> str:
    def cell(row: dict | None, key: str = "kendall_tau_b") -> str:
        if row is None:
            return "-"
        return f"{row[key]:.4f}" + (f" ± {row[f'{key}_std']:.4f}" if row["seeds"] > 1 else "")

    lines = [f"The comparison table's TART rows (Kendall tau-b against `{result['test_label']}` over all nets, and "
             "over the nets not trained on; mean ± std over seeds) as the grid would derive them from the students "
             f"of `{result['source']}`, beside the rows the grid's report holds for the size now. Every set below "
             "is scored from the finished fits of all its seeds."]  # fmt: skip
    for s in result["scored"]:
        lines += ["", f"**{s['n_train']} training nets**: students of `{s['teacher']}`, {s['passes']} passes, seeds "
                  f"{s['seeds']}; the grid: taught by `{s['grid_teacher']}`, {s['grid_passes']} passes.", "",
                  "| row | students, all nets | grid, all nets | students, not trained on | grid, not trained on |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for name, row in s["rows"].items():
            grid = s["grid_rows"].get(name)
            lines.append(f"| {PREDICTOR_LABELS.get(name, name)} | {cell(row)} | {cell(grid)} | "
                         f"{cell(row, 'kendall_tau_b_remainder')} | {cell(grid, 'kendall_tau_b_remainder')} |")
    if result["missing"]:
        lines += ["", "Not scored (finished fits gone from the grid's state directory): " + "; ".join(
            f"{m['n_train']} nets, `{m['teacher']}`, {m['passes']} passes, seeds {m['missing_seeds']}"
            for m in result["missing"]) + "."]  # fmt: skip
    return "\n".join(lines)
