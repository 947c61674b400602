"""A Gaussian process on the function-class cell features, as a feature model and as TART's teacher
(`python -m benchmarks gp-teacher [SEEDS [STUDENT_SEEDS]]`).

Gradient boosting (`gbm_canonical`) was the best single-label feature model and the distillation teacher, and its
variants sit within seed noise of it (teacher_variants.md). A Gaussian process reads the same features with another
prior: the score of a cell is close to the scores of cells whose features are close, with the length scale and the
noise level fit to the training labels' marginal likelihood alone. Features are standardised over every net (the
graphs of unlabelled nets are known; their labels are not read). Compared on the 200 validation nets after the N
training ones, which is what a choice may look at:
- gradient boosting as the pipeline fits it (`fit_scores`), one model per seed;
- a Gaussian process per kernel of `KERNELS` (deterministic: every seed gets the same model), and per kernel of
  `CANDIDATE_KERNELS`, kernels the library does not offer yet (the processes fit in parallel on `workers` cores);
- the mean of a process's and gradient boosting's scores (both on the training labels' normal-score scale), the
  process's share chosen per seed on the validation nets, for the chosen library kernel and each candidate.
The library's kernel is the one with the best validation tau summed over the sizes, and its teacher that process or
its mix, whichever validates better; that mix must score exactly as the pipeline's `gp_gbm_canonical` does. Each size
also gets its own pick among every process and mix (`teacher_by_size`). With STUDENT_SEEDS, at each size where the
pick is not the teacher the grid's recipe names, TART is fit with that recipe (`tart_grid.recipe` of the size) to
the pick's scores instead, and set beside the grid's own fits of the same seeds; where the grid is taught by the
pick, its own fits are the pick's students. Every student an earlier call fit stays in the table with its teacher
and passes; one of the same teacher, size and recipe spares the fit, so seeds can be added call by call (each fit's
state sits in the grid's state directory, so a killed call resumes).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Kernel, Matern, WhiteKernel
from tqdm import tqdm

from benchmarks.common import grid_runs, labels_by_net, mean_std, protocol_sizes, protocol_taus
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
def per_feature_scales(n_features: int) -> tuple[np.ndarray, tuple[float, float]]:
    """(starting length scales, their bounds) shared by every per-feature-scale candidate, so that they differ in
    shape alone; the upper bound lies above `KERNELS`' so that an unneeded feature can drop out."""
    return np.full(n_features, 5.0), (1e-1, 1e4)


# Kernels tried here before the library offers them (tart.baselines.gaussian_process holds the ones a stage may use;
# a candidate moves there with the pipeline refit that adopts it). Each takes the number of features.
CANDIDATE_KERNELS: dict[str, Callable[[int], Kernel]] = {
    # One length scale per feature ("automatic relevance determination"): a feature the labels do not need can
    # stretch its scale towards the upper bound and drop out of the distance; the shared scale of `KERNELS` weighs
    # all 64 standardised features alike. Its marginal likelihood has 64 more hyperparameters to fit, which makes
    # one fit minutes rather than seconds at 10%.
    "matern 2.5 ard": lambda n_features: Matern(*per_feature_scales(n_features), nu=2.5),
    # The same per-feature scales under the other shapes of `KERNELS` that take them (sklearn's rational quadratic
    # has one scale only): whether the shape, rather than the scales, holds the teacher back.
    "matern 1.5 ard": lambda n_features: Matern(*per_feature_scales(n_features), nu=1.5),
    "rbf ard": lambda n_features: RBF(*per_feature_scales(n_features)),
}
UNNEEDED_SCALE = 1e3  # a fitted length scale above this many standard deviations: the feature barely matters


def candidate_process(kernel: Kernel) -> GaussianProcessRegressor:
    """The library's process (`make_process`) around another `kernel`; tests hold the two compositions equal."""
    return GaussianProcessRegressor(ConstantKernel(1.0) * kernel + WhiteKernel(0.1), normalize_y=True)


def fitted_text(kernel: Kernel) -> str:
    """A fitted kernel as text, a per-feature length scale summarised (64 numbers would fill the table's cell)."""
    scales = [v for name, v in kernel.get_params().items() if name.endswith("length_scale") and np.ndim(v) == 1]
    if not scales:
        return str(kernel)
    scale = np.asarray(scales[0])
    noise = next(v for name, v in kernel.get_params().items() if name.endswith("noise_level"))
    return (
        f"{int((scale < UNNEEDED_SCALE).sum())} of {len(scale)} length scales below {UNNEEDED_SCALE:g} "
        f"(median {np.median(scale):.3g}), noise {noise:.3g}"
    )


def mix_name(kernel: str) -> str:
    """The benchmark's name of the mean of `kernel`'s process and gradient boosting."""
    return f"mix: gp {kernel} + {GBM}"


def gp_scores(x: np.ndarray, target: np.ndarray, train: np.ndarray, kernel: str) -> tuple[np.ndarray, str]:
    """(every net's posterior mean, the fitted kernel as text) of the process with `kernel` (the library's, or a
    `CANDIDATE_KERNELS` one), fit to `target` of the `train` nets (normal scores of their labels: the teachers'
    scale)."""
    if kernel in CANDIDATE_KERNELS:
        model = candidate_process(CANDIDATE_KERNELS[kernel](x.shape[1]))
    else:
        model = make_process(kernel)
    with warnings.catch_warnings():  # a hyperparameter at its bound is recorded in the fitted kernel's text
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[train], target)
    return model.predict(x), fitted_text(model.kernel_)


@dataclass(frozen=True)
class ProcessFit:
    """One Gaussian process to fit: every net's standardised features `x`, the normal scores `target` of the first
    `n_train` nets' labels, and the kernel's name."""

    x: np.ndarray
    target: np.ndarray
    n_train: int
    kernel: str


def fit_process(job: ProcessFit) -> tuple[np.ndarray, str, float]:
    """(every net's posterior mean, the fitted kernel as text, seconds) of `gp_scores` for `job`."""
    start = time.perf_counter()
    scores, fitted = gp_scores(job.x, job.target, np.arange(job.n_train), job.kernel)
    return scores, fitted, time.perf_counter() - start


def compare_feature_models(features: np.ndarray, label: np.ndarray, test_label: np.ndarray, sizes: list[int],
                           seeds: list[int], val_size: int, second_label: np.ndarray | None = None,
                           workers: int = 1) -> dict:  # fmt: skip
    """Validation and test tau per model and size (see the module text), the chosen kernel and teacher of the library,
    each size's pick among every process and mix (`teacher_by_size`), and the scores of every net per (size, seed) of
    the library's teacher under "scores" and of each size's pick under "pick_scores" (neither written to the report).
    With `second_label` (every net's `TWO_LABEL_GBM` extra label), also that model and the chosen process fit to the
    same two labels: rows beside the table's two-label row, never a teacher (a teacher scores the training label
    alone)."""
    x = standardised(features)
    records, gbm, gp, seconds_of = [], {}, {}, {}

    def record(model: str, n: int, preds: list[np.ndarray], seconds: list[float], **extra) -> None:
        taus = [protocol_taus(p, label, test_label, n, val_size) for p in preds]
        records.append({"model": model, "n_train": n, **extra, "seconds_per_fit": float(np.median(seconds)),
                        "val_kendall_tau_b": mean_std([val for val, _ in taus]),
                        "kendall_tau_b": mean_std([test for _, test in taus])})  # fmt: skip

    def val_of(model: str, n: int) -> float:
        return next(r["val_kendall_tau_b"]["mean"] for r in records if r["model"] == model and r["n_train"] == n)

    def val_sum(model: str) -> float:
        return sum(val_of(model, n) for n in sizes)

    for n in tqdm(sizes, desc="gradient boosting"):
        train, seconds = np.arange(n), []
        for seed in seeds:
            start = time.perf_counter()
            gbm[n, seed] = fit_scores(GBM, {REGRESSORS[GBM].features: features}, label, train, seed)
            seconds.append(time.perf_counter() - start)
        record(GBM, n, [gbm[n, s] for s in seeds], seconds)
        seconds_of[n, GBM] = float(np.median(seconds))
    # One process per (size, kernel), in parallel: a per-feature-scale fit at 10% takes ten to thirty minutes.
    targets = {n: normal_scores(label[:n]) for n in sizes}
    jobs = [ProcessFit(x, targets[n], n, kernel) for n in sizes for kernel in [*KERNELS, *CANDIDATE_KERNELS]]
    fits = parallel_map(fit_process, jobs, workers, name=lambda job: f"gp {job.kernel} at {job.n_train} nets")
    for job, (scores, fitted, seconds) in tqdm(zip(jobs, fits), total=len(jobs), desc="gaussian processes"):
        gp[job.n_train, job.kernel], seconds_of[job.n_train, job.kernel] = scores, seconds
        record(f"gp {job.kernel}", job.n_train, [scores], [seconds], fitted=fitted)

    kernel = max(KERNELS, key=lambda k: val_sum(f"gp {k}"))  # first of equals: KERNELS order
    preds = {(f"gp {k}", n, s): gp[n, k] for k in (kernel, *CANDIDATE_KERNELS) for n in sizes for s in seeds}
    for k in (kernel, *CANDIDATE_KERNELS):  # the library's pick mixed with gradient boosting, and each candidate
        for n in sizes:
            val = np.arange(n, n + val_size)
            mixed = {s: mix_on_validation(gp[n, k], gbm[n, s], val, label[val]) for s in seeds}
            preds.update({(mix_name(k), n, s): m for s, (m, _) in mixed.items()})
            both = seconds_of[n, GBM] + seconds_of[n, k]  # the mix fits both models
            record(mix_name(k), n, [m for m, _ in mixed.values()], [both],
                   gp_share_median=float(np.median([share for _, share in mixed.values()])))  # fmt: skip
    # The library's teacher: its kernel's process or mix, over both sizes (what `require_library_teacher` checks).
    teacher = mix_name(kernel) if val_sum(mix_name(kernel)) > val_sum(f"gp {kernel}") else f"gp {kernel}"
    # Each size's pick among every process and mix above: a size's grid recipe has its own teacher.
    candidates = list(dict.fromkeys(model for model, _, _ in preds))  # first of equals: the library's first
    teacher_by_size = {n: max(candidates, key=lambda m: val_of(m, n)) for n in sizes}
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
            "teacher_by_size": teacher_by_size, "records": records,
            "scores": {(n, s): preds[teacher, n, s] for n in sizes for s in seeds},
            "pick_scores": {(n, s): preds[teacher_by_size[n], n, s] for n in sizes for s in seeds}}  # fmt: skip


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
    library = fit_scores(TEACHER, inputs, label, np.arange(n), seed, val=np.arange(n, n + val_size))
    if not np.allclose(library, scores[n, seed]):
        raise RuntimeError(f"gp-teacher: its mix differs from the pipeline's {TEACHER} at {n} nets, seed {seed}")


# The pipeline's name of each teacher the benchmark can pick that the grid may already be taught by.
GRID_TEACHERS = {GBM: GBM, f"gp {KERNEL}": "gp_canonical", mix_name(KERNEL): TEACHER}


def student_sizes(recipes: dict[int, Train], teacher_by_size: dict[int, str]) -> list[int]:
    """The sizes where validation picks another teacher than the grid's recipe names: there a student (that recipe
    fit to the pick's scores) is a new fit beside the grid's; elsewhere the grid's own fits are the pick's students.
    Refused when no size is left, since the call would fit nothing."""
    sizes = [n for n, recipe in recipes.items() if GRID_TEACHERS.get(teacher_by_size[n]) != recipe.teacher]
    if not sizes:
        picks = ", ".join(f"{n}: {teacher_by_size[n]!r}" for n in recipes)
        raise ValueError(f"gp-teacher fits students where validation picks another teacher than the grid's, but the "
                         f"grid is taught by the pick at every size ({picks}): reports/tart_grid.json holds its "
                         "students")  # fmt: skip
    return sizes


def without_teacher(recipe: dict) -> dict:
    """A recipe record less its teacher: a student's scores replace the grid's teacher's."""
    return {k: v for k, v in recipe.items() if k != "teacher"}


def student_recipe(recipe: Train) -> dict:
    """A student's recipe as its record keeps it: the grid's, without the grid's teacher."""
    return without_teacher(recipe_record(recipe))


def earlier_students(previous: Path | None) -> list[dict]:
    """Every student an earlier call (`previous`) fit: each stays on record with its teacher, recipe and the grid's
    fit of its seed at the time, whatever the grid's recipe is now (`spared` says which of them a call need not fit
    again)."""
    if previous is None or not previous.exists():
        return []
    return json.loads(previous.read_text()).get("students", [])


def spared(earlier: list[dict], teacher: str, n: int, recipe: Train) -> set[int]:
    """The seeds at size `n` an earlier student covers: taught by `teacher` with `recipe` (the grid's teacher aside,
    as students of the gradient-boosting days recorded it)."""
    now = student_recipe(recipe)
    return {r["seed"] for r in earlier if r["teacher"] == teacher and r["n_train"] == n
            and without_teacher(r["recipe"]) == now}  # fmt: skip


def student_sets(students: list[dict]) -> dict[tuple[int, str, int], list[dict]]:
    """{(training nets, teacher, passes): its students in seed order}, in the order the records first name them."""
    sets: dict[tuple[int, str, int], list[dict]] = {}
    for s in students:
        sets.setdefault((s["n_train"], s["teacher"], s["recipe"]["epochs"]), []).append(s)
    return {key: sorted(members, key=lambda s: s["seed"]) for key, members in sets.items()}


def taught_students(p: Params, scores: dict, teacher_by_size: dict[int, str], recipes: dict[int, Train],
                    workers: int, grid_report: Path) -> list[dict]:  # fmt: skip
    """TART fit with each size's recipe to its picked teacher's `scores` ({(size, seed): every net's score}), each
    beside the grid's own fit of its seed (the same recipe, taught by the grid's teacher) as the grid's report holds
    it now."""
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    val_size = p.split.val_size
    workers = max(1, min(workers, len(scores)))  # one fit gets every thread
    threads = max(1, p.train.threads // workers)
    jobs = [GridFit(recipes[n].model_copy(update={"threads": threads}), n, seed, val_size, y, test_y, transfer,
                    teacher=teacher_of_fit, state_dir=grid_state_dir(p.paths.resume))
            for (n, seed), teacher_of_fit in sorted(scores.items())]  # fmt: skip
    results = []
    if jobs:  # workers load every token shard: not for nothing
        results = parallel_map(fit_score_predict, jobs, workers, load_worker_tokens, (p.paths.tokens, p.train))
    students = []
    for job, run in zip(jobs, results):
        pred = run.pop("prediction")
        n, val = job.n_train, slice(job.n_train, job.n_train + val_size)
        rest = unlabelled_nets(n, val_size, len(test_y))
        students.append({"n_train": n, "seed": job.seed, "teacher": teacher_by_size[n],
                         "recipe": student_recipe(recipes[n]),
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
    return students


def gp_teacher_benchmark(p: Params, seeds: list[int], student_seeds: list[int], workers: int = 2,
                         grid_report: Path = Path("reports/tart_grid.json"),
                         previous: Path | None = None) -> dict:  # fmt: skip
    missing = sorted(set(student_seeds) - set(seeds))
    if missing:
        raise ValueError(f"student seeds {missing} have no teacher: add them to SEEDS ({seeds})")
    target, test_label = p.train.target, p.evaluate.test_label
    second = REGRESSORS[TWO_LABEL_GBM].extra_labels[0]
    columns = labels_by_net(p, second)
    label = np.array(columns[target])
    sizes = protocol_sizes(p, len(label))
    inputs = feature_inputs(columns["arch"], [TEACHER])  # function-class features once, for the study and the check
    result = compare_feature_models(inputs["canonical"], label, np.array(columns[test_label]),
                                    sizes, seeds, p.split.val_size, np.array(columns[second]), workers)  # fmt: skip
    scores, pick_scores = result.pop("scores"), result.pop("pick_scores")
    require_library_teacher(result, scores, inputs, label, p.split.val_size)
    recipes = {n: p.tart_grid.recipe(p.train, n) for n in sizes}
    picks = result["teacher_by_size"]
    taught = student_sizes(recipes, picks) if student_seeds else []
    if student_seeds and len(taught) < len(sizes):
        print(f"gp-teacher: no students at {sorted(set(sizes) - set(taught))} nets, where the grid is taught by the "
              "pick", flush=True)  # fmt: skip
    earlier = earlier_students(previous)  # all kept, whichever seeds this call asks for
    covered = {n: spared(earlier, picks[n], n, recipes[n]) for n in taught}
    jobs = {(n, s): pick_scores[n, s] for n in taught for s in student_seeds if s not in covered[n]}
    print(f"gp-teacher: {len(earlier)} students on record, {len(jobs)} to fit", flush=True)
    students = taught_students(p, jobs, picks, recipes, workers, grid_report)
    students = sorted([*earlier, *students], key=lambda r: (r["n_train"], r["teacher"], r["recipe"]["epochs"],
                                                            r["seed"]))  # fmt: skip
    return {"train_label": target, "test_label": test_label, "second_label": second, **result, "students": students}


def gp_teacher_markdown(result: dict) -> str:
    def cell(value: dict | None) -> str:
        return "-" if value is None or value["mean"] is None else f"{value['mean']:.4f} ± {value['std']:.4f}"

    picks = result.get("teacher_by_size", {})  # absent from reports written before the benchmark picked per size
    pick_text = "; ".join(f"at {n} nets `{t}`" for n, t in picks.items())
    lines = [f"Feature models fit on the first N nets' `{result['train_label']}` labels (normal scores): Kendall "
             f"tau-b on the {result['val_size']} validation nets after them (against the training label: what a "
             f"choice may look at) and over all nets against `{result['test_label']}`; mean ± std over seeds "
             f"{result['seeds']} (a Gaussian process is deterministic: std 0). Chosen on validation among the "
             f"library's kernels: `{result['kernel']}`, its teacher `{result['teacher']}`"
             + (f"; each size's pick among every process and mix, candidates included: {pick_text}" if picks else "")
             + f". The last two rows per size are fit to the mean normal score of the training label and "
             f"`{result['second_label']}` (the table's two-label row and the chosen process on the same target): "
             "beside that row, never a teacher.", "",
             "| training nets | model | validation tau | test tau, all nets | seconds per fit | fitted |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for r in sorted(result["records"], key=lambda r: r["n_train"]):
        fitted = r.get("fitted") or (f"process's share {r['gp_share_median']:g} (median)" if "gp_share_median" in r
                                     else "")  # fmt: skip
        lines.append(f"| {r['n_train']} | {r['model']} | {cell(r['val_kendall_tau_b'])} | {cell(r['kendall_tau_b'])} "
                     f"| {r['seconds_per_fit']:.1f} | {fitted} |")  # fmt: skip
    if result["students"]:
        lines += ["", "TART students of a teacher the grid was not taught by: the grid's recipe at the size, with "
                  "that many passes, fit to the teacher's scores instead of its own teacher's, beside the grid's "
                  "own fit of the seed as the grid's report held it when the student was fit. Blend: the student's "
                  "and its teacher's scores averaged on their ranks, the student's weight chosen on the validation "
                  "nets.", "",
                  "| training nets | teacher | passes | seed | validation tau | grid's validation tau | test tau | "
                  "grid's test tau | agreement with teacher | best epoch | blend (student's weight) | seconds |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip

        def num(v: float | None) -> str:
            return "-" if v is None else f"{v:.4f}"

        for s in result["students"]:
            lines.append(f"| {s['n_train']} | {s['teacher']} | {s['recipe']['epochs']} | {s['seed']} | "
                         f"{s['val_kendall_tau_b']:.4f} | {num(s['grid_val_kendall_tau_b'])} | "
                         f"{s['kendall_tau_b']:.4f} | {num(s['grid_kendall_tau_b'])} | {s['teacher_agreement']:.4f} | "
                         f"{s['best_epoch']} | {s['blend_kendall_tau_b']:.4f} ({s['blend_student_weight']:g}) | "
                         f"{s['fit_seconds']:,.0f} |")  # fmt: skip
        for (n, teacher, passes), members in student_sets(result["students"]).items():
            # the paired means an adoption would be judged on: only seeds the grid also fit
            paired = [s for s in members if s["grid_val_kendall_tau_b"] is not None]
            if len(paired) > 1:
                mean = {
                    k: np.mean([s[k] for s in paired])
                    for k in ("val_kendall_tau_b", "grid_val_kendall_tau_b", "kendall_tau_b", "grid_kendall_tau_b")
                }
                lines.append(f"| {n} | {teacher} | {passes} | mean of {len(paired)} | "
                             f"{mean['val_kendall_tau_b']:.4f} | {mean['grid_val_kendall_tau_b']:.4f} | "
                             f"{mean['kendall_tau_b']:.4f} | {mean['grid_kendall_tau_b']:.4f} | | | | |")  # fmt: skip
    return "\n".join(lines)
