"""A Gaussian process on the function-class cell features, as a feature model and as TART's teacher
(`python -m benchmarks gp-teacher [SEEDS [STUDENT_SEEDS]]`).

Gradient boosting (`gbm_canonical`) was the best single-label feature model and the distillation teacher, and its
variants sit within seed noise of it (teacher_variants.md). A Gaussian process reads the same features with another
prior: the score of a cell is close to the scores of cells whose features are close, with the length scale and the
noise level fit to the training labels' marginal likelihood alone. Features are standardised over every net (the
graphs of unlabelled nets are known; their labels are not read). Compared on the 200 validation nets after the N
training ones, which is what a choice may look at:
- gradient boosting as the pipeline fits it (`fit_scores`), one model per seed;
- a Gaussian process per kernel of `KERNELS` (deterministic: every seed gets the same model);
- the mean of the two models' scores (both on the training labels' normal-score scale), the process's share chosen
  per seed on the validation nets.
The kernel is the one with the best validation tau summed over the sizes; the teacher is that process or the mix,
whichever validates better; with the library's kernel, the mix must score exactly as the pipeline's
`gp_gbm_canonical` does. With STUDENT_SEEDS, at each size whose grid recipe is still taught by gradient boosting,
TART is fit with that recipe (`tart_grid.recipe` of the size) to the pick's scores instead, and set beside the grid's
own fits of the same seeds; students an earlier call fit with the same teacher and recipe stay in the table, so seeds
can be added call by call (each fit's state sits in the grid's state directory, so a killed call resumes). Where the
grid names the mix (both sizes), its own fits are the mix's students, and the table keeps the earlier ones with the
grid's fits of their time.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from sklearn.exceptions import ConvergenceWarning
from tqdm import tqdm

from benchmarks.common import grid_runs, mean_std
from benchmarks.distill import blend_with_teacher
from tart.baselines.baselines import (
    REGRESSORS,
    feature_inputs,
    fit_predict,
    fit_scores,
    fit_target,
    mix_on_validation,
    normal_scores,
    standardised,
)
from tart.baselines.gaussian_process import KERNEL, KERNELS, make_process
from tart.core.metrics import kendall_tau_b
from tart.core.parallel import parallel_map
from tart.core.params import Params, Train
from tart.training.tart_grid import (
    GridFit,
    fit_score_predict,
    grid_state_dir,
    load_worker_tokens,
    protocol_labels,
    recipe_record,
    unlabelled_nets,
)

GBM = "gbm_canonical"
TEACHER = "gp_gbm_canonical"  # the pipeline's mix of the process and GBM
TWO_LABEL_GBM = "gbm_canonical_cifar100"  # the table's best row: the same model fit to two labels per net


def gp_scores(x: np.ndarray, target: np.ndarray, train: np.ndarray, kernel: str) -> tuple[np.ndarray, str]:
    """(every net's posterior mean, the fitted kernel as text) of the library's process with `kernel`, fit to
    `target` of the `train` nets (normal scores of their labels: the teachers' scale)."""
    model = make_process(kernel)
    with warnings.catch_warnings():  # a hyperparameter at its bound is recorded in the fitted kernel's text
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[train], target)
    return model.predict(x), str(model.kernel_)


def compare_feature_models(features: np.ndarray, label: np.ndarray, test_label: np.ndarray, sizes: list[int],
                           seeds: list[int], val_size: int,
                           second_label: np.ndarray | None = None) -> dict:  # fmt: skip
    """Validation and test tau per model and size (see the module text), the chosen kernel and teacher, and the
    teacher's scores of every net per (size, seed) under "scores" (not written to the report). With `second_label`
    (every net's `TWO_LABEL_GBM` extra label), also that model and the chosen process fit to the same two labels:
    rows beside the table's two-label row, never a teacher (a teacher scores the training label alone)."""
    x = standardised(features)
    records, gbm, gp, kernels_fitted, seconds_of = [], {}, {}, {}, {}

    def record(model: str, n: int, preds: list[np.ndarray], seconds: list[float], **extra) -> None:
        val = slice(n, n + val_size)
        records.append({"model": model, "n_train": n, **extra, "seconds_per_fit": float(np.median(seconds)),
                        "val_kendall_tau_b": mean_std([kendall_tau_b(p[val], label[val]) for p in preds]),
                        "kendall_tau_b": mean_std([kendall_tau_b(p, test_label) for p in preds])})  # fmt: skip

    for n in tqdm(sizes, desc="feature models"):
        train, seconds = np.arange(n), []
        for seed in seeds:
            start = time.perf_counter()
            gbm[n, seed] = fit_scores(GBM, {REGRESSORS[GBM].features: features}, label, train, seed)
            seconds.append(time.perf_counter() - start)
        record(GBM, n, [gbm[n, s] for s in seeds], seconds)
        seconds_of[n, GBM] = float(np.median(seconds))
        for kernel in KERNELS:
            start = time.perf_counter()
            gp[n, kernel], kernels_fitted[n, kernel] = gp_scores(x, normal_scores(label[train]), train, kernel)
            seconds_of[n, kernel] = time.perf_counter() - start
            record(f"gp {kernel}", n, [gp[n, kernel]], [seconds_of[n, kernel]], fitted=kernels_fitted[n, kernel])

    def val_sum(model: str) -> float:
        return sum(r["val_kendall_tau_b"]["mean"] for r in records if r["model"] == model)

    kernel = max(KERNELS, key=lambda k: val_sum(f"gp {k}"))  # first of equals: KERNELS order
    mix_name, mixes = f"mix: gp {kernel} + {GBM}", {}
    for n in sizes:
        val = np.arange(n, n + val_size)
        mixed = {s: mix_on_validation(gp[n, kernel], gbm[n, s], val, label[val]) for s in seeds}
        mixes.update({(n, s): m for s, (m, _) in mixed.items()})
        both = seconds_of[n, GBM] + seconds_of[n, kernel]  # the mix fits both models
        record(mix_name, n, [m for m, _ in mixed.values()], [both],
               gp_share_median=float(np.median([share for _, share in mixed.values()])))
    teacher = mix_name if val_sum(mix_name) > val_sum(f"gp {kernel}") else f"gp {kernel}"
    scores = {(n, s): mixes[n, s] if teacher == mix_name else gp[n, kernel] for n in sizes for s in seeds}
    if second_label is not None:
        spec = REGRESSORS[TWO_LABEL_GBM]
        extra = {spec.extra_labels[0]: second_label}
        for n in sizes:
            start = time.perf_counter()
            two_gbm = [fit_predict(TWO_LABEL_GBM, {spec.features: features}, label, n, seed, extra=extra)
                       for seed in seeds]  # fmt: skip
            record(TWO_LABEL_GBM, n, two_gbm, [(time.perf_counter() - start) / len(seeds)], labels=2)
            start = time.perf_counter()
            two_gp, fitted = gp_scores(x, fit_target(spec, label, np.arange(n), extra), np.arange(n), kernel)
            record(f"gp {kernel}, two labels", n, [two_gp], [time.perf_counter() - start], labels=2, fitted=fitted)
    return {"sizes": sizes, "seeds": seeds, "val_size": val_size, "kernel": kernel, "teacher": teacher,
            "records": records, "scores": scores}  # fmt: skip


def require_library_teacher(result: dict, scores: dict, inputs: dict[str, np.ndarray], label: np.ndarray,
                            val_size: int) -> None:  # fmt: skip
    """The benchmark's mix with the library's kernel must score as the pipeline's `gp_gbm_canonical` does, or its
    findings say nothing about the pipeline's teacher (checked on the first size and seed; `inputs`: the mix's
    `feature_inputs`)."""
    if result["kernel"] != KERNEL or not result["teacher"].startswith("mix"):
        print(f"gp-teacher: validation picks {result['teacher']!r}, the library's teacher mixes `{KERNEL}` with "
              f"{GBM}: revisit tart.baselines.gaussian_process.KERNEL", flush=True)  # fmt: skip
        return
    n, seed = result["sizes"][0], result["seeds"][0]
    library = fit_scores(TEACHER, inputs, label, np.arange(n), seed,
                         val=np.arange(n, n + val_size))
    if not np.allclose(library, scores[n, seed]):
        raise RuntimeError(f"gp-teacher: its mix differs from the pipeline's {TEACHER} at {n} nets, seed {seed}")


def student_sizes(recipes: dict[int, Train]) -> list[int]:
    """The sizes whose grid recipe is taught by gradient boosting: there a student (that recipe fit to the mix's
    scores) is a new fit beside the grid's. Where the grid names the mix, its own fits are the students. Refused when
    no size is left, since the call would fit nothing."""
    sizes = [n for n, recipe in recipes.items() if recipe.teacher == GBM]
    if not sizes:
        teachers = ", ".join(f"{n}: {recipe.teacher!r}" for n, recipe in recipes.items())
        raise ValueError(f"gp-teacher sets its students beside the grid's students of {GBM}, but every size's "
                         f"tart_grid recipe names another teacher ({teachers}); with {TEACHER}, "
                         "reports/tart_grid.json holds the mix's students")  # fmt: skip
    return sizes


def same_but_teacher(recipe: dict, other: dict) -> bool:
    return {k: v for k, v in recipe.items() if k != "teacher"} == {k: v for k, v in other.items() if k != "teacher"}


def earlier_students(previous: Path | None, teacher: str, recipes: dict[int, Train]) -> dict[tuple[int, int], dict]:
    """{(size, seed): student} of an earlier call (`previous`) taught by `teacher` with the recipe its size has now
    apart from the grid's teacher (students fit while the grid was taught by gradient boosting stay on record, with
    the grid's fits of that time); the others were fit to something else and are dropped."""
    if previous is None or not previous.exists():
        return {}
    return {(r["n_train"], r["seed"]): r for r in json.loads(previous.read_text()).get("students", [])
            if r["teacher"] == teacher and r["n_train"] in recipes
            and same_but_teacher(r["recipe"], recipe_record(recipes[r["n_train"]]))}  # fmt: skip


def taught_students(p: Params, scores: dict, teacher: str, recipes: dict[int, Train], earlier: dict, workers: int,
                    grid_report: Path) -> list[dict]:  # fmt: skip
    """The `earlier` students, and TART fit with each size's recipe to `teacher`'s `scores` ({(size, seed): every
    net's score}) for each (size, seed) no earlier student covers, each beside the grid's own fit of its seed (the
    same recipe, taught by gradient boosting) as the grid's report holds it now; earlier students keep theirs."""
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    val_size = p.split.val_size
    threads = max(1, p.train.threads // workers)
    jobs = [GridFit(recipes[n].model_copy(update={"threads": threads}), n, seed, val_size, y, test_y, transfer,
                    teacher=teacher_of_fit, state_dir=grid_state_dir(p.paths.resume))
            for (n, seed), teacher_of_fit in sorted(scores.items()) if (n, seed) not in earlier]  # fmt: skip
    print(f"gp-teacher: {len(earlier)} students kept from an earlier call, {len(jobs)} to fit", flush=True)
    results = []
    if jobs:  # workers load every token shard: not for nothing
        results = parallel_map(fit_score_predict, jobs, workers, load_worker_tokens, (p.paths.tokens, p.train))
    students = []
    for job, run in zip(jobs, results):
        pred = run.pop("prediction")
        n, val = job.n_train, slice(job.n_train, job.n_train + val_size)
        rest = unlabelled_nets(n, val_size, len(test_y))
        students.append({"n_train": n, "seed": job.seed, "teacher": teacher, "recipe": recipe_record(recipes[n]),
                         "val_kendall_tau_b": run["val_kendall_tau_b"], "kendall_tau_b": run["kendall_tau_b"],
                         "best_epoch": run["best_epoch"], "fit_seconds": run["fit_seconds"],
                         "teacher_agreement": kendall_tau_b(pred[rest], job.teacher[rest]),
                         **blend_with_teacher(pred, job.teacher, val, y[val, 0], test_y)})  # fmt: skip
        print(f"student n={n} seed={job.seed}: val {run['val_kendall_tau_b']:.4f}, test {run['kendall_tau_b']:.4f}",
              flush=True)  # fmt: skip
    grid_of = {}  # the grid's fit of each student's seed, the report read once per size
    for n in {s["n_train"] for s in students}:
        grid_of.update(grid_runs(grid_report, p.model_copy(update={"train": recipes[n]}), [n],
                              [s["seed"] for s in students if s["n_train"] == n]))  # fmt: skip
    for s in students:
        grid = grid_of.get((s["n_train"], s["seed"]))
        s["grid_val_kendall_tau_b"] = None if grid is None else grid["val_kendall_tau_b"]
        s["grid_kendall_tau_b"] = None if grid is None else grid["kendall_tau_b"]
    return sorted([*earlier.values(), *students], key=lambda r: (r["n_train"], r["seed"]))


def gp_teacher_benchmark(p: Params, seeds: list[int], student_seeds: list[int], workers: int = 2,
                         grid_report: Path = Path("reports/tart_grid.json"),
                         previous: Path | None = None) -> dict:  # fmt: skip
    missing = sorted(set(student_seeds) - set(seeds))
    if missing:
        raise ValueError(f"student seeds {missing} have no teacher: add them to SEEDS ({seeds})")
    target, test_label = p.train.target, p.evaluate.test_label
    second = REGRESSORS[TWO_LABEL_GBM].extra_labels[0]
    names = list(dict.fromkeys(["net", "arch", target, test_label, second]))
    columns = pq.read_table(p.paths.labels, columns=names).sort_by("net").to_pydict()
    label = np.array(columns[target])
    sizes = [n for n in p.tart_grid.train_sizes if n + p.split.val_size < len(label)]
    inputs = feature_inputs(columns["arch"], [TEACHER])  # function-class features once, for the study and the check
    result = compare_feature_models(inputs["canonical"], label, np.array(columns[test_label]),
                                    sizes, seeds, p.split.val_size, np.array(columns[second]))  # fmt: skip
    scores = result.pop("scores")
    require_library_teacher(result, scores, inputs, label, p.split.val_size)
    recipes = {n: p.tart_grid.recipe(p.train, n) for n in sizes}
    taught = student_sizes(recipes) if student_seeds else []
    if student_seeds and len(taught) < len(sizes):
        print(f"gp-teacher: no students at {sorted(set(sizes) - set(taught))} nets, where the grid's own fits are "
              "the mix's", flush=True)  # fmt: skip
    earlier = earlier_students(previous, result["teacher"], recipes)  # kept whichever seeds this call asks for
    picked = {(n, s): scores[n, s] for n in taught for s in student_seeds}
    students = taught_students(p, picked, result["teacher"], recipes, earlier, workers, grid_report)
    return {"train_label": target, "test_label": test_label, "second_label": second, **result, "students": students}


def gp_teacher_markdown(result: dict) -> str:
    def cell(value: dict | None) -> str:
        return "-" if value is None or value["mean"] is None else f"{value['mean']:.4f} ± {value['std']:.4f}"

    lines = [f"Feature models fit on the first N nets' `{result['train_label']}` labels (normal scores): Kendall "
             f"tau-b on the {result['val_size']} validation nets after them (against the training label: what a "
             f"choice may look at) and over all nets against `{result['test_label']}`; mean ± std over seeds "
             f"{result['seeds']} (a Gaussian process is deterministic: std 0). Chosen on validation: kernel "
             f"`{result['kernel']}`, teacher `{result['teacher']}`. The last two rows per size are fit to the mean "
             f"normal score of the training label and `{result['second_label']}` (the table's two-label row and the "
             "chosen process on the same target): beside that row, never a teacher.", "",
             "| training nets | model | validation tau | test tau, all nets | seconds per fit | fitted |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for r in sorted(result["records"], key=lambda r: r["n_train"]):
        fitted = r.get("fitted") or (f"process's share {r['gp_share_median']:g} (median)" if "gp_share_median" in r
                                     else "")  # fmt: skip
        lines.append(f"| {r['n_train']} | {r['model']} | {cell(r['val_kendall_tau_b'])} | {cell(r['kendall_tau_b'])} "
                     f"| {r['seconds_per_fit']:.1f} | {fitted} |")  # fmt: skip
    if result["students"]:
        lines += ["", f"TART students of `{result['teacher']}` (the grid's taught recipe, its teacher's scores "
                  "replaced), beside the grid's own fit of each seed taught by gradient boosting (as its report "
                  "held it when the student was fit). Blend: the student's and its teacher's scores averaged on "
                  "their ranks, the student's weight chosen on the validation nets.", "",
                  "| training nets | seed | validation tau | grid's validation tau | test tau | grid's test tau | "
                  "agreement with teacher | best epoch | blend (student's weight) | seconds |",
                  "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip

        def num(v: float | None) -> str:
            return "-" if v is None else f"{v:.4f}"

        for s in result["students"]:
            lines.append(f"| {s['n_train']} | {s['seed']} | {s['val_kendall_tau_b']:.4f} | "
                         f"{num(s['grid_val_kendall_tau_b'])} | {s['kendall_tau_b']:.4f} | "
                         f"{num(s['grid_kendall_tau_b'])} | {s['teacher_agreement']:.4f} | {s['best_epoch']} | "
                         f"{s['blend_kendall_tau_b']:.4f} ({s['blend_student_weight']:g}) | "
                         f"{s['fit_seconds']:,.0f} |")  # fmt: skip
        for n in dict.fromkeys(s["n_train"] for s in result["students"]):
            # the paired means an adoption would be judged on: only seeds the grid also fit
            paired = [s for s in result["students"] if s["n_train"] == n and s["grid_val_kendall_tau_b"] is not None]
            if len(paired) > 1:
                mean = {k: np.mean([s[k] for s in paired]) for k in
                        ("val_kendall_tau_b", "grid_val_kendall_tau_b", "kendall_tau_b", "grid_kendall_tau_b")}
                lines.append(f"| {n} | mean of {len(paired)} | {mean['val_kendall_tau_b']:.4f} | "
                             f"{mean['grid_val_kendall_tau_b']:.4f} | {mean['kendall_tau_b']:.4f} | "
                             f"{mean['grid_kendall_tau_b']:.4f} | | | | |")  # fmt: skip
    return "\n".join(lines)
