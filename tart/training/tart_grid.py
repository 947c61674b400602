"""The TART grid: the TART recipe (the `train` section, with `tart_grid.overrides` at the sizes where validation
chose otherwise) refit at every (training-set size, seed) on the NB201 protocol (the first N nets by index, the next
`split.val_size` for early stopping) and scored like its rivals, so the comparison table carries TART's mean and
spread over seeds at 5% and 10%.

Each size is its own stage (`tart_grid_fits@N`, one report per size under `reports/tart_grid/`), so changing the
recipe at one size refits that size only; the `tart_grid` stage merges the size reports into one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow.parquet as pq

from tart.core import files
from tart.core.metrics import TRANSFER_LABELS, score_run, summarize_runs, without_predictions
from tart.core.parallel import parallel_map
from tart.core.params import TartGrid, Train
from tart.spaces.nb201.cell_function import function_classes
from tart.tokens.isomorphism import class_mean, isomorphism_classes, load_token_graphs
from tart.tokens.token_set import TokenSet, load_tokens, rows_of
from tart.training import resume
from tart.training.distill import require_target_only, taught_nets, teacher_inputs, teacher_scores
from tart.training.resume import StateFile, resumable_fit
from tart.training.train import fit, fit_key, predict

_tokens: TokenSet | None = None  # loaded once per worker process


def load_worker_tokens(tokens_dir: Path, cfg: Train) -> None:
    """Load the tokens `cfg` reads into this process (a worker initializer)."""
    global _tokens
    _tokens = load_tokens(tokens_dir, tuple(cfg.channels), cfg.graph_pe, cfg.pe_dim)


class GridFit(NamedTuple):
    """One fit of the grid: the first `n_train` nets train (seed `seed`), the next `val_size` early-stop, every net
    is scored. A plain tuple in this field order works too."""

    cfg: Train
    n_train: int
    seed: int
    val_size: int
    y: np.ndarray  # training labels (N, heads): target, then extra heads
    test_y: np.ndarray
    transfer: dict
    init: dict | None = None  # encoder weights to start from
    state_dir: Path | None = None  # training state and finished results, so a killed stage resumes
    teacher: np.ndarray | None = None  # with `cfg.teacher`: its scores of every net (`teacher_scores`)


def fit_and_score(job: tuple) -> dict:
    """Fit and score one `GridFit`; the run's record without the per-net prediction."""
    run = fit_score_predict(job)
    del run["prediction"]
    return run


def fit_score_predict(job: tuple) -> dict:
    """`fit_and_score`, keeping the prediction for every net (key "prediction", net order)."""
    job = GridFit(*job)
    assert _tokens is not None, "the worker initializer loads the tokens"
    if job.cfg.teacher != "none" and job.teacher is None:  # else it would silently fit the training labels alone
        raise ValueError(f"train.teacher is {job.cfg.teacher!r} but the fit got no teacher scores (grid_teachers); "
                         "a study of the recipe without a teacher sets train.teacher to none")  # fmt: skip
    rows = rows_of(_tokens, np.arange(len(job.test_y)))  # token row of net 0, 1, ...
    train, val = np.arange(job.n_train), slice(job.n_train, job.n_train + job.val_size)
    fitted, y_fitted = train, job.y[train]
    if job.teacher is not None:  # the first nets' labels, then the teacher's scores of the nets after validation
        unlabelled = unlabelled_nets(job.n_train, job.val_size, len(job.test_y))
        fitted, y_fitted = taught_nets(job.y[:, 0], job.teacher, train, unlabelled, job.cfg.unlabelled, job.seed)
        y_fitted = y_fitted[:, None]
    data = (job.cfg.model_copy(update={"seed": job.seed}), _tokens, rows[fitted], y_fitted, rows[val],
            job.y[val, 0], job.init)  # fmt: skip

    def fit_and_predict(state_file: StateFile | None) -> dict:
        model, _, facts = fit(*data, state_file=state_file)
        pred = predict(model, _tokens, rows, precision=job.cfg.precision)
        return {"predictor": "tart", "n_train": job.n_train, "seed": job.seed, "fit_seconds": facts["train_seconds"],
                "best_epoch": facts["best_epoch"], "val_kendall_tau_b": facts["best_val_kendall_tau_b"],
                "taught_nets": len(fitted) - job.n_train, **score_run(pred, job.test_y, job.n_train, job.transfer),
                "device": facts["device"], "prediction": pred}  # fmt: skip

    key = finished_fit_key(fit_key(*data), job)
    # the key in the name lets the fits of several recipes (a benchmark's arms) wait side by side for the stage
    return resumable_fit(job.state_dir, f"tart_n{job.n_train}_seed{job.seed}.{key[:16]}", key, fit_and_predict)


def finished_fit_key(fit: str, job: GridFit) -> str:
    """The key of a grid fit's finished result: the fit's own key (`train.fit_key`: settings, tokens, rows, labels,
    code) and what the result is scored on, since it holds the scores against the test and transfer labels."""
    names = sorted(job.transfer)
    return resume.fit_key({"fit": fit, "n_train": job.n_train, "transfer": names}, job.test_y,
                          *(job.transfer[name] for name in names))  # fmt: skip


def grid_state_dir(resume_root: Path) -> Path:
    """Where grid fits keep their training state and finished results (under `paths.resume`): the `tart_grid`
    stage's, which the benchmarks that fit the grid's protocol share, so the stage reads back a fit one of them
    finished with the same key instead of fitting it again."""
    return Path(resume_root) / "tart_grid"


def unlabelled_nets(n_train: int, val_size: int, n_nets: int) -> np.ndarray:
    """The nets the first-N protocol leaves unlabelled: every one after the training and validation nets."""
    return np.arange(n_train + val_size, n_nets)


def seed_ensembles(runs: list[dict], test_y: np.ndarray, transfer: dict) -> list[dict]:
    """Per training-set size with several seeds: the mean of the seeds' predictions (the models' shared normal-score
    scale), scored like one run (prediction kept); fit seconds are the members' sum."""
    rows = []
    for n_train in dict.fromkeys(r["n_train"] for r in runs):
        members = [r for r in runs if r["n_train"] == n_train]
        if len(members) < 2:
            continue
        pred = np.mean([r["prediction"] for r in members], axis=0)
        rows.append({"predictor": "tart_ensemble", "n_train": n_train, "seed": None, "members": len(members),
                     "fit_seconds": float(sum(r["fit_seconds"] for r in members)),
                     **score_run(pred, test_y, n_train, transfer), "device": members[0]["device"],
                     "prediction": pred})  # fmt: skip
    return rows


def class_mean_runs(runs: list[dict], classes: dict[str, np.ndarray], test_y: np.ndarray, transfer: dict) -> list[dict]:
    """Every run again per {suffix: class id of each net}, its predictions averaged within each class and scored
    as `<predictor>_<suffix>` (no refit: fit seconds and device are the run's)."""
    return [{**run, "predictor": f"{run['predictor']}_{suffix}",
             **score_run(class_mean(run["prediction"], ids), test_y, run["n_train"], transfer)}
            for suffix, ids in classes.items() for run in runs]  # fmt: skip


def net_classes(tokens_dir: Path, labels_path: Path, n_nets: int) -> dict[str, np.ndarray]:
    """Class ids of nets 0 .. n_nets-1: "iso" (isomorphic token graphs) and "function" (NB201 cell function)."""
    archs = pq.read_table(labels_path, columns=["net", "arch"]).sort_by("net")["arch"].to_pylist()
    nets = np.arange(n_nets)
    return {"iso": isomorphism_classes(load_token_graphs(tokens_dir, nets)), "function": function_classes(archs)}


def protocol_labels(labels_path: Path, train: Train, test_label: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """(training labels (N, heads): target then extra heads, test label (N,), transfer labels), net order."""
    targets = [train.target, *train.aux_targets]
    names = list(dict.fromkeys(["net", *targets, test_label, *TRANSFER_LABELS]))
    table = pq.read_table(labels_path, columns=names).sort_by("net").to_pydict()
    y = np.stack([np.asarray(table[t], dtype=float) for t in targets], 1)
    transfer = {label: np.asarray(table[label], dtype=float) for label in TRANSFER_LABELS}
    return y, np.asarray(table[test_label], dtype=float), transfer


def grid_teachers(labels_path: Path, recipes: dict[int, Train], label: np.ndarray, seeds: list[int],
                  val_size: int) -> dict[tuple[int, int], np.ndarray]:  # fmt: skip
    """{(n_train, seed): the teacher's scores of every net, fit on the first n_train nets' labels (a mix choosing its
    share on the `val_size` after them)} for each size whose recipe (`recipes`: {n_train: recipe}) has a teacher.
    Net order, as `protocol_labels` gives the labels."""
    taught = {n: recipe for n, recipe in recipes.items() if recipe.teacher != "none"}
    if not taught:
        return {}
    archs = pq.read_table(labels_path, columns=["net", "arch"]).sort_by("net")["arch"].to_pylist()
    features = {}  # one set of teacher inputs per teacher kind
    scores = {}
    for n, recipe in taught.items():
        require_target_only(recipe.teacher, recipe.aux_targets)
        if recipe.teacher not in features:
            features[recipe.teacher] = teacher_inputs(recipe.teacher, archs)
        for s in seeds:
            scores[n, s] = teacher_scores(recipe.teacher, features[recipe.teacher], label, np.arange(n), s,
                                          recipe.threads, val=np.arange(n, n + val_size))  # fmt: skip
    return scores


def recipe_record(recipe: Train) -> dict:
    """A recipe as the report keeps it: every `train` key but the per-fit ones (seed, device)."""
    return {k: v for k, v in recipe.model_dump().items() if k not in ("seed", "device")}


def tart_grid_from_files(tokens_dir: Path, labels_path: Path, train: Train, test_label: str, grid: TartGrid,
                         val_size: int, out_path: Path,
                         progress: Callable[[str], None] | None = None,
                         state_dir: Path | None = None) -> dict:  # fmt: skip
    """One TART fit per (train size, seed) of that size's recipe (`grid.recipe`), `grid.workers` at a time, each
    on `train.threads // workers` threads; summary + raw runs as JSON, in the rivals' format, with each size's
    recipe. Beside each run and seed ensemble, the same predictions averaged over isomorphism classes (`_iso`) and
    NB201 function classes (`_function`). `state_dir` (`grid_state_dir`): each fit's training state and each
    finished fit's result, so a killed stage resumes and a fit a benchmark finished there is read back; the files
    of these sizes' fits are removed at the end."""
    y, test_y, transfer = protocol_labels(labels_path, train, test_label)
    for n_train in grid.train_sizes:
        if n_train + val_size >= len(test_y):
            raise ValueError(f"tart_grid train size {n_train} + {val_size} validation nets: only {len(test_y)} nets")
    recipes = {n: grid.recipe(train, n) for n in grid.train_sizes}
    teachers = grid_teachers(labels_path, recipes, y[:, 0], grid.seeds, val_size)
    threads = max(1, train.threads // grid.workers)
    jobs = [GridFit(recipes[n].model_copy(update={"threads": threads}), n, s, val_size, y, test_y, transfer,
                    state_dir=state_dir, teacher=teachers.get((n, s)))
            for n in grid.train_sizes for s in grid.seeds]  # fmt: skip
    runs = []
    for run in parallel_map(fit_score_predict, jobs, grid.workers, load_worker_tokens, (tokens_dir, train)):
        runs.append(run)
        if progress:
            progress(f"tart n={run['n_train']} seed={run['seed']}: tau {run['kendall_tau_b']:.4f} "
                     f"({run['fit_seconds']:.0f} s)")  # fmt: skip
    runs += seed_ensembles(runs, test_y, transfer)
    runs += class_mean_runs(runs, net_classes(tokens_dir, labels_path, len(test_y)), test_y, transfer)
    runs = without_predictions(runs)
    report = {"train_label": train.target, "test_label": test_label, "n_nets": len(test_y),
              "model": recipe_record(train),
              "recipes": {str(n): recipe_record(recipe) for n, recipe in recipes.items()},
              "workers": grid.workers, "baselines": summarize_runs(runs), "runs": runs}  # fmt: skip
    files.write_json(report, out_path)
    clear_fits(state_dir, grid.train_sizes)
    return report


def clear_fits(state_dir: Path | None, sizes: list[int]) -> None:
    """Remove the state and finished results of every grid fit at `sizes` once their report is written. Only
    theirs: the per-size stages and the benchmarks share the directory, and fits at other sizes may be waiting."""
    if state_dir is None:
        return
    for n_train in sizes:
        for path in Path(state_dir).glob(f"tart_n{n_train}_seed*"):
            path.unlink()


def size_report_path(reports_dir: Path, n_train: int) -> Path:
    """Where the `tart_grid_fits@N` stage writes the report of size N."""
    return Path(reports_dir) / "tart_grid" / f"{n_train}.json"


# Keys every size report must agree on to be merged: the labels, the nets and the base recipe.
SHARED_REPORT_KEYS = ("train_label", "test_label", "n_nets", "model", "workers")


def merge_size_reports(paths: list[Path], out_path: Path) -> dict:
    """The `tart_grid` stage: one report from the per-size reports at `paths` (in their order), as one grid over
    all their sizes would write it, the summary recomputed over every run. Reports that disagree on a shared key
    (written under different labels or base recipes) or repeat a size are refused, naming the file."""
    runs: list[dict] = []
    recipes: dict[str, dict] = {}
    first = None
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no size report; `dvc repro tart_grid_fits` writes one per size")
        try:
            part = json.loads(Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not a JSON report ({exc})") from None
        missing = [key for key in (*SHARED_REPORT_KEYS, "recipes", "runs") if key not in part]
        if missing:
            raise ValueError(f"{path}: not a size report of the TART grid (no {', '.join(missing)})")
        first = first or (path, part)
        for key in SHARED_REPORT_KEYS:
            if part[key] != first[1][key]:
                raise ValueError(f"{path}: {key} is {part[key]!r} but {first[0]} has {first[1][key]!r}; "
                                 "rerun the size stages under the same params (`dvc repro tart_grid`)")  # fmt: skip
        repeated = sorted(set(part["recipes"]) & set(recipes), key=int)
        if repeated:
            raise ValueError(f"{path}: size {', '.join(repeated)} is in an earlier report too")
        recipes.update(part["recipes"])
        runs += part["runs"]
    if first is None:
        raise ValueError("tart_grid: no size reports to merge (tart_grid.train_sizes is empty)")
    report = {**{key: first[1][key] for key in SHARED_REPORT_KEYS[:4]}, "recipes": recipes,
              "workers": first[1]["workers"], "baselines": summarize_runs(runs), "runs": runs}  # fmt: skip
    files.write_json(report, out_path)
    return report
