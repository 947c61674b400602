"""Does TART gain from learning a teacher's scores of the nets nobody labelled?
(`python -m benchmarks distill [SIZES [SEEDS [EPOCHS [PSEUDO]]]]`)

The protocol labels the first N NB201 nets and holds the next `split.val_size` out for model selection; the other
~14,000 architectures are known but unlabelled, and the protocol lets a predictor use them. Here a teacher, the
`gbm_canonical` baseline fit on the N training labels only, scores every net; TART (the `train` recipe) is then fit
to the true labels of the N training nets plus the teacher's scores of PSEUDO of the unlabelled nets (a seeded
sample, or all of them), early-stopping on the validation nets' true labels as always. The validation and test
labels reach neither model.

Each arm is one (epochs, pseudo count) pair; `EPOCHS` counts passes over the enlarged training set, so one epoch
here costs (N + PSEUDO) / N epochs of the plain recipe. The plain recipe's fits of the same seeds come from the
`tart_grid` report when it ran the same recipe, else they are fit here. Reported per run: validation tau (what a
choice may look at), Kendall tau-b against the test label over all nets and over the nets not labelled, the
teacher's own tau, and the student's agreement with the teacher on the pseudo-labelled nets.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow.parquet as pq

from benchmarks.common import grid_runs
from tart.baselines.baselines import fit_predict, function_class_features, normal_scores
from tart.core.metrics import kendall_tau_b, score_run
from tart.core.parallel import parallel_map
from tart.core.params import Params, Train
from tart.tokens.token_set import TokenSet, load_tokens, rows_of
from tart.training.tart_grid import protocol_labels
from tart.training.train import fit, predict

TEACHER = "gbm_canonical"

_tokens: TokenSet | None = None  # loaded once per worker process


def _load_tokens(tokens_dir: Path, cfg: Train) -> None:
    global _tokens
    _tokens = load_tokens(tokens_dir, tuple(cfg.channels), cfg.graph_pe, cfg.pe_dim)


class StudentFit(NamedTuple):
    cfg: Train  # the recipe, with this arm's seed and epochs
    n_train: int
    val_size: int
    pseudo: np.ndarray  # nets fit to the teacher's score
    target: np.ndarray  # (N,): the true label on the first n_train nets, the teacher's score elsewhere
    val_y: np.ndarray  # true labels of the validation nets
    teacher: np.ndarray  # (N,) the teacher's scores, for the agreement figure
    test_y: np.ndarray
    transfer: dict


def pseudo_nets(n_nets: int, n_train: int, val_size: int, count: int | None, seed: int) -> np.ndarray:
    """The unlabelled nets a student is fit on: every net after the training and validation nets, or a seeded
    sample of `count` of them (sorted)."""
    unlabelled = np.arange(n_train + val_size, n_nets)
    if count is None or count >= len(unlabelled):
        return unlabelled
    if count < 0:
        raise ValueError(f"pseudo count {count}: expected a non-negative number or 'all'")
    return np.sort(np.random.default_rng(seed).choice(unlabelled, count, replace=False))


def student_target(label: np.ndarray, teacher: np.ndarray, n_train: int) -> np.ndarray:
    """Per net: the normal score of its true label among the training nets (first `n_train`), else the teacher's
    score. The teacher is fit to those same normal scores, so both halves share one scale."""
    target = teacher.astype(np.float64).copy()
    target[:n_train] = normal_scores(label[:n_train])
    return target


def fit_student(job: tuple) -> dict:
    job = StudentFit(*job)
    assert _tokens is not None, "the worker initializer loads the tokens"
    n_nets = len(job.test_y)
    rows = rows_of(_tokens, np.arange(n_nets))
    fitted = np.concatenate([np.arange(job.n_train), job.pseudo])
    val = np.arange(job.n_train, job.n_train + job.val_size)
    model, _, facts = fit(job.cfg, _tokens, rows[fitted], job.target[fitted], rows[val], job.val_y)
    pred = predict(model, _tokens, rows, precision=job.cfg.precision)
    agreement = kendall_tau_b(pred[job.pseudo], job.teacher[job.pseudo]) if len(job.pseudo) > 1 else None
    return {"n_train": job.n_train, "seed": job.cfg.seed, "epochs": job.cfg.epochs, "pseudo": len(job.pseudo),
            "fit_seconds": facts["train_seconds"], "best_epoch": facts["best_epoch"],
            "val_kendall_tau_b": facts["best_val_kendall_tau_b"], "teacher_agreement": agreement,
            **score_run(pred, job.test_y, job.n_train, job.transfer)}  # fmt: skip


def arm_name(epochs: int, pseudo: int | None) -> str:
    return f"distill_e{epochs}_{'all' if pseudo is None else pseudo}"


def distill_benchmark(p: Params, sizes: list[int], seeds: list[int], epochs: list[int], pseudo: list[int | None],
                      workers: int = 2, grid_report: Path = Path("reports/tart_grid.json")) -> dict:  # fmt: skip
    if p.train.aux_targets:
        raise ValueError("distill compares single-head fits: set train.aux_targets to []")
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    label = y[:, 0]
    archs = pq.read_table(p.paths.labels, columns=["net", "arch"]).sort_by("net")["arch"].to_pylist()
    inputs = {"canonical": function_class_features(archs)}
    cfg = p.train.model_copy(update={"threads": max(1, p.train.threads // workers)})
    val_size = p.split.val_size
    teachers, jobs, arms = {}, [], []
    for n in sizes:
        if n + val_size >= len(label):
            raise ValueError(f"train size {n} + {val_size} validation nets: only {len(label)} nets")
        for seed in seeds:
            teacher = fit_predict(TEACHER, inputs, label, n, seed, p.train.threads)
            teachers[n, seed] = {"n_train": n, "seed": seed, **score_run(teacher, test_y, n, transfer)}
            print(f"teacher {TEACHER} n={n} seed={seed}: tau {teachers[n, seed]['kendall_tau_b']:.4f}", flush=True)
            target, val_y = student_target(label, teacher, n), label[n : n + val_size]
            for e in epochs:
                for count in pseudo:
                    chosen = pseudo_nets(len(label), n, val_size, count, seed)
                    jobs.append(StudentFit(cfg.model_copy(update={"seed": seed, "epochs": e}), n, val_size, chosen,
                                           target, val_y, teacher, test_y, transfer))  # fmt: skip
                    arms.append(arm_name(e, count))
    runs = [{**r, "arm": "plain", "from": "tart_grid"} for r in grid_runs(grid_report, p, sizes, seeds).values()]
    known = {(r["n_train"], r["seed"]) for r in runs}
    for n in sizes:  # the plain recipe where the tart_grid report lacks it: no unlabelled nets
        for seed in seeds:
            if (n, seed) not in known:
                jobs.append(StudentFit(cfg.model_copy(update={"seed": seed}), n, val_size, np.zeros(0, np.int64),
                                       student_target(label, np.zeros(len(label)), n), label[n : n + val_size],
                                       np.zeros(len(label)), test_y, transfer))  # fmt: skip
                arms.append("plain")
    results = parallel_map(fit_student, jobs, workers, _load_tokens, (p.paths.tokens, p.train))
    for arm, run in zip(arms, results):
        runs.append({**run, "arm": arm, "from": "this benchmark"})
        print(f"{arm} n={run['n_train']} seed={run['seed']}: val {run['val_kendall_tau_b']:.4f}, "
              f"test {run['kendall_tau_b']:.4f} ({run['fit_seconds']:.0f} s)", flush=True)  # fmt: skip
    return {"train_label": p.train.target, "test_label": p.evaluate.test_label, "teacher": TEACHER,
            "seeds": seeds, "threads_per_fit": cfg.threads, "workers": workers,
            "teachers": sorted(teachers.values(), key=lambda r: (r["n_train"], r["seed"])),
            "summary": summarize_arms(runs, sizes),
            "runs": sorted(runs, key=lambda r: (r["n_train"], r["arm"], r["seed"]))}  # fmt: skip


def summarize_arms(runs: list[dict], sizes: list[int]) -> dict:
    """{size: {arm: mean/std over seeds of validation and test tau, seeds, median fit seconds}}."""
    out = {}
    for n in sizes:
        out[str(n)] = {}
        for arm in dict.fromkeys(r["arm"] for r in runs if r["n_train"] == n):
            group = [r for r in runs if r["n_train"] == n and r["arm"] == arm]
            entry = {"seeds": len(group), "fit_seconds_median": float(np.median([r["fit_seconds"] for r in group]))}
            for key in ("val_kendall_tau_b", "kendall_tau_b", "kendall_tau_b_remainder"):
                values = [r[key] for r in group]
                entry[key] = {"mean": float(np.mean(values)),
                              "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}  # fmt: skip
            out[str(n)][arm] = entry
    return out


def distill_markdown(result: dict) -> str:
    def cell(entry: dict, key: str) -> str:
        return f"{entry[key]['mean']:.4f} ± {entry[key]['std']:.4f}"

    lines = [f"TART fit to the `{result['train_label']}` labels of the first N nets plus the scores a "
             f"`{result['teacher']}` teacher (fit on the same labels only) gives unlabelled nets; Kendall tau-b "
             f"against `{result['test_label']}` (mean ± std over seeds {result['seeds']}). Arms are named "
             "`distill_e<epochs>_<unlabelled nets>`; `plain` is the `train` recipe. Choose on the validation "
             "column only.", "",
             "| training nets | arm | seeds | validation tau | test tau, all nets | not labelled | seconds per fit |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for n, arms in result["summary"].items():
        for arm, e in arms.items():
            lines.append(f"| {n} | {arm} | {e['seeds']} | {cell(e, 'val_kendall_tau_b')} | "
                         f"{cell(e, 'kendall_tau_b')} | {cell(e, 'kendall_tau_b_remainder')} | "
                         f"{e['fit_seconds_median']:,.0f} |")  # fmt: skip
    lines += ["", "Teachers (the same seeds):", "", "| training nets | seed | teacher tau, all nets |", "|---|---|---|"]
    lines += [f"| {t['n_train']} | {t['seed']} | {t['kendall_tau_b']:.4f} |" for t in result["teachers"]]
    return "\n".join(lines)
