"""Does TART gain from learning a teacher's scores of the nets nobody labelled?
(`python -m benchmarks distill [SIZES [SEEDS [EPOCHS [UNLABELLED [TEACHERS [VARIANTS]]]]]]`)

The protocol labels the first N NB201 nets and holds the next `split.val_size` out for model selection; the other
~14,000 architectures are known but unlabelled, and the protocol lets a predictor use them. Each arm is the `train`
recipe with a teacher, `gbm_canonical` unless TEACHERS names others (tart/training/distill.py: the teacher is fit on
the N training labels only and scores every net; TART fits the true labels of the N nets plus the teacher's scores
of UNLABELLED other nets, a seeded sample or all) for EPOCHS passes over that enlarged set, so one epoch costs (N +
UNLABELLED) / N epochs of the `train` recipe itself (no teacher, `train.epochs` passes over the N nets), the arm
`plain`. Reported per run: validation tau (what a choice may look at), Kendall tau-b against the test label over all
nets and over the nets not labelled, the teacher's own tau, the student's agreement with the teacher (Kendall tau-b)
on the unlabelled nets, and a rank blend of student and teacher weighted on the validation nets
(`blend_with_teacher`). VARIANTS names changes of the student itself (`STUDENT_VARIANTS`: its averaging, loss,
input or width), each an arm of every taught recipe asked for; `-` is the recipe unchanged. Fits the `tart_grid`
report holds for an arm's recipe (the pipeline's own recipe, with or without a teacher) are read from it, not fit
again; their agreement is not recorded. The table grows: each run
records its recipe, and the runs of an earlier call (reports/benchmarks/distill.json) whose recipe is still what
their arm stands for are kept, so a call fits only the arms, sizes and seeds nobody has fit yet. Each fit keeps its
training state and its finished result in the `tart_grid` stage's state directory (`paths.resume`), so a killed call
resumes, and the stage, once an arm's recipe is adopted, reads back the fits it would make again instead of
refitting them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import get_args

import numpy as np
from scipy import stats

from benchmarks.common import grid_runs, mean_std
from tart.core.metrics import kendall_tau_b, score_run
from tart.core.parallel import parallel_map
from tart.core.params import Params, Train
from tart.training.tart_grid import (
    GridFit,
    fit_score_predict,
    grid_state_dir,
    grid_teachers,
    load_worker_tokens,
    protocol_labels,
    recipe_record,
    unlabelled_nets,
)

DEFAULT_TEACHER = "gbm_canonical"  # the teacher of arms whose name names none (the benchmark's first one)
VARIANT_MARK = "+"  # between a taught arm's name and the student variant of it (`arm_name`, `base_and_variant`)
# Changes of the student, tried on a taught recipe: can a student follow its teacher more closely, or learn what the
# teacher's features miss? An arm `<taught arm>+<name>` is the taught recipe with the `train` keys that the function
# gives for the plain recipe replaced.
STUDENT_VARIANTS: dict[str, Callable[[Train], dict]] = {
    "ema": lambda plain: {"ema": 0.99},  # validate and keep an average of the weights: a smoother copy of the teacher
    "rank": lambda plain: {"rank_weight": 1.0},  # ten times the pairwise ranking loss: the order is what tau scores
    "cells": lambda plain: {"channels": list(dict.fromkeys([*plain.channels, "cell_tokens"]))},  # cell identity
    "wide": lambda plain: {"d_model": 2 * plain.d_model, "d_ff": 2 * plain.d_ff},  # twice the width
}
TEACHERS = tuple(t for t in get_args(Train.model_fields["teacher"].annotation) if t != "none")
BLEND_WEIGHTS = np.round(np.linspace(0, 1, 11), 2)  # the student's share of a blend with its teacher


def blend_with_teacher(student: np.ndarray, teacher: np.ndarray, val: slice, val_y: np.ndarray,
                       test_y: np.ndarray) -> dict:  # fmt: skip
    """Does the student know something its teacher does not? The two scores of every net are blended on their ranks
    (each model's scale is its own), the student's weight chosen on the validation nets alone (of equal taus the
    smaller weight, so a student that adds nothing gets 0, the teacher itself); then scored on the test label."""
    s, t = stats.rankdata(student) / len(student), stats.rankdata(teacher) / len(teacher)
    val_taus = [kendall_tau_b(w * s[val] + (1 - w) * t[val], val_y) for w in BLEND_WEIGHTS]
    best = int(np.argmax(val_taus))  # the first of equal maxima
    w = float(BLEND_WEIGHTS[best])
    return {"blend_student_weight": w, "blend_val_kendall_tau_b": val_taus[best],
            "blend_kendall_tau_b": kendall_tau_b(w * s + (1 - w) * t, test_y)}  # fmt: skip


def arm_name(epochs: int, unlabelled: int | None, teacher: str = DEFAULT_TEACHER, variant: str | None = None) -> str:
    """`distill_e<epochs>_<all|unlabelled nets>`, then `_<teacher>` unless it is the default teacher (so the arms
    measured before the benchmark offered others keep their names), then `+<variant>` for a `STUDENT_VARIANTS` one."""
    if teacher not in TEACHERS:
        raise ValueError(f"teacher {teacher!r}: expected one of {', '.join(TEACHERS)}")
    if variant is not None and variant not in STUDENT_VARIANTS:
        raise ValueError(f"student variant {variant!r}: expected one of {', '.join(STUDENT_VARIANTS)}")
    taught = f"distill_e{epochs}_{'all' if unlabelled is None else unlabelled}"
    taught += "" if teacher == DEFAULT_TEACHER else f"_{teacher}"
    return taught if variant is None else f"{taught}{VARIANT_MARK}{variant}"


def base_and_variant(arm: str) -> tuple[str, str | None]:
    """An arm name split into the taught arm it changes and its `STUDENT_VARIANTS` name (None when it is no
    variant): the one reader of the mark `arm_name` writes."""
    base, mark, variant = arm.partition(VARIANT_MARK)
    return base, (variant if mark else None)


def arm_recipe(arm: str, plain: Train) -> Train:
    """The recipe an arm name stands for under the `train` section `plain` (see `arm_name`)."""
    if arm == "plain":
        return plain
    others = "|".join(t for t in TEACHERS if t != DEFAULT_TEACHER)  # the default teacher is never named
    taught, variant = base_and_variant(arm)
    match = re.fullmatch(rf"distill_e(\d+)_(all|\d+)(?:_({others}))?", taught)
    if match is None or (variant is not None and variant not in STUDENT_VARIANTS):
        raise ValueError(f"arm {arm!r}: expected 'plain' or distill_e<epochs>_<all|unlabelled nets>[_<teacher>]"
                         f"[+<variant>], the teacher one of {', '.join(TEACHERS)}, the variant one of "
                         f"{', '.join(STUDENT_VARIANTS)}")  # fmt: skip
    epochs, count, teacher = match.groups()
    return plain.model_copy(update={"teacher": teacher or DEFAULT_TEACHER, "epochs": int(epochs),
                                    "unlabelled": None if count == "all" else int(count),
                                    **(STUDENT_VARIANTS[variant](plain) if variant else {})})  # fmt: skip


def table_order(run: dict) -> tuple:
    """Sort key of the runs: per size, the taught arms by their number of passes (e4 before e16, which name order
    would reverse), then the plain recipe; seeds in order."""
    return run["n_train"], run["arm"] == "plain", run["epochs"], run["arm"], run["seed"]


def earlier_runs(path: Path | None, plain: Train) -> list[dict]:
    """The runs an earlier call wrote to `path` whose recorded recipe is still what their arm stands for under
    `plain`; one fit with another recipe (or none recorded) is dropped, and said so, not carried over."""
    if path is None or not path.exists():
        return []
    kept, dropped = [], 0
    for run in json.loads(path.read_text())["runs"]:
        if run.get("recipe") == recipe_record(arm_recipe(run["arm"], plain)):
            kept.append(run)
        else:
            dropped += 1
    if dropped:
        print(f"{path}: {dropped} earlier runs were fit with another recipe than their arm now stands for; "
              f"not kept", flush=True)  # fmt: skip
    return kept


def distill_benchmark(p: Params, sizes: list[int], seeds: list[int], epochs: list[int],
                      unlabelled: list[int | None], workers: int = 2,
                      grid_report: Path = Path("reports/tart_grid.json"),
                      previous: Path | None = None,
                      teachers: tuple[str, ...] = (DEFAULT_TEACHER,),
                      variants: tuple[str | None, ...] = (None,)) -> dict:  # fmt: skip
    """Fit every arm (EPOCHS x UNLABELLED x `teachers` x `variants`, None for the taught recipe unchanged, and
    `plain`) at every size and seed no report holds yet; the runs of every arm measured so far, the teachers' scores
    and a summary per size and arm."""
    if p.train.aux_targets:
        raise ValueError("distill compares single-head fits: set train.aux_targets to []")
    if p.train.teacher != "none":  # the plain arm is the `train` recipe itself
        raise ValueError(f"distill compares the train recipe without a teacher against taught variants of it; "
                         f"train.teacher is {p.train.teacher!r}: set it to none (and epochs to the plain schedule)")
    # named first: `arm_name` refuses an unknown teacher before any teacher is fit
    taught_arms = [arm_name(e, count, kind, variant)
                   for kind in teachers for e in epochs for count in unlabelled for variant in variants]
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    val_size = p.split.val_size
    for n in sizes:
        if n + val_size >= len(test_y):
            raise ValueError(f"train size {n} + {val_size} validation nets: only {len(test_y)} nets")
    threads = max(1, p.train.threads // workers)
    earlier = earlier_runs(previous, p.train)
    all_sizes = sorted(set(sizes) | {r["n_train"] for r in earlier})  # the table's, earlier calls' sizes included
    all_seeds = sorted(set(seeds) | {r["seed"] for r in earlier})
    kinds = {arm_recipe(r["arm"], p.train).teacher for r in earlier} | set(teachers)
    scores = {kind: grid_teachers(p.paths.labels, {n: p.train.model_copy(update={"teacher": kind}) for n in all_sizes},
                                  y[:, 0], all_seeds, p.split.val_size)
              for kind in TEACHERS if kind in kinds}  # fmt: skip

    def recorded(recipe: Train, arm: str) -> dict[tuple[int, int], dict]:
        # fits the tart_grid report already holds (it runs the `train` recipe, with or without a teacher), then
        # the ones an earlier call of this benchmark made with the same recipe; of two fits of one recipe, the
        # benchmark's own wins when it measured the agreement with its teacher, which the report does not record
        found = grid_runs(grid_report, p.model_copy(update={"train": recipe}), sizes, seeds)
        known = {key: {**r, "arm": arm, "epochs": recipe.epochs, "teacher_agreement": None, "from": "tart_grid",
                       "recipe": recipe_record(recipe)} for key, r in found.items()}  # fmt: skip
        for r in earlier:
            if r["arm"] != arm or r["n_train"] not in sizes or r["seed"] not in seeds:
                continue
            key = (r["n_train"], r["seed"])
            if key not in known or r["teacher_agreement"] is not None:
                known[key] = r
        return known

    jobs, arms, runs, asked = [], [], [], set()
    state_dir = grid_state_dir(p.paths.resume)

    def add_arm(recipe: Train, arm: str) -> None:
        # the fits of one arm that no report holds yet, each taught by its (size, seed) teacher when the recipe has one
        known = recorded(recipe, arm)
        runs.extend(known.values())
        asked.add(arm)
        cfg = recipe.model_copy(update={"threads": threads})
        for n in sizes:
            for seed in seeds:
                if (n, seed) not in known:
                    teacher = None if recipe.teacher == "none" else scores[recipe.teacher][n, seed]
                    jobs.append(GridFit(cfg, n, seed, val_size, y, test_y, transfer, teacher=teacher,
                                        state_dir=state_dir))
                    arms.append(arm)

    for arm in taught_arms:
        add_arm(arm_recipe(arm, p.train), arm)
    add_arm(p.train, "plain")
    # earlier runs of the arms and sizes not asked for this time stay in the table
    runs.extend(r for r in earlier if not (r["arm"] in asked and r["n_train"] in sizes and r["seed"] in seeds))
    print(f"distill: {len(runs)} runs kept from the tart_grid report and earlier calls, {len(jobs)} to fit", flush=True)
    for job, arm, run in fit_by_tokens(jobs, arms, p.paths.tokens, workers):
        pred = run.pop("prediction")
        rest = unlabelled_nets(job.n_train, val_size, len(test_y))
        agreement = kendall_tau_b(pred[rest], job.teacher[rest]) if job.teacher is not None else None
        val = slice(job.n_train, job.n_train + val_size)
        blend = {} if job.teacher is None else blend_with_teacher(pred, job.teacher, val, y[val, 0], test_y)
        recipe = recipe_record(job.cfg.model_copy(update={"threads": p.train.threads}))
        runs.append({**run, **blend, "arm": arm, "epochs": job.cfg.epochs, "teacher_agreement": agreement,
                     "from": "this benchmark", "recipe": recipe})  # fmt: skip
        print(f"{arm} n={run['n_train']} seed={run['seed']}: val {run['val_kendall_tau_b']:.4f}, "
              f"test {run['kendall_tau_b']:.4f} ({run['fit_seconds']:.0f} s)", flush=True)  # fmt: skip
    teacher_rows = [{"teacher": kind, "n_train": n, "seed": s, **score_run(t, test_y, n, transfer),
                     "val_kendall_tau_b": kendall_tau_b(t[n:n + val_size], y[n:n + val_size, 0])}
                    for kind, by_fit in scores.items() for (n, s), t in by_fit.items()]  # fmt: skip
    runs.sort(key=table_order)
    measured = {base_and_variant(r["arm"])[1] for r in runs} - {None}
    return {"train_label": p.train.target, "test_label": p.evaluate.test_label, "default_teacher": DEFAULT_TEACHER,
            "student_variants": {name: make(p.train) for name, make in STUDENT_VARIANTS.items() if name in measured},
            "seeds": all_seeds, "plain_epochs": p.train.epochs, "threads_per_fit": threads, "workers": workers,
            "teachers": sorted(teacher_rows, key=lambda r: (TEACHERS.index(r["teacher"]), r["n_train"], r["seed"])),
            "summary": summarize_arms(runs, all_sizes),
            "runs": runs}  # fmt: skip


def token_settings(recipe: Train) -> tuple:
    """What `load_worker_tokens` reads for a recipe: the fits of one worker pool must agree on it, since a fit reads
    the channels its worker loaded, whatever its recipe names."""
    return tuple(recipe.channels), recipe.graph_pe, recipe.pe_dim


def fit_by_tokens(jobs: list[GridFit], arms: list[str], tokens_dir: Path,
                  workers: int) -> Iterator[tuple[GridFit, str, dict]]:  # fmt: skip
    """(job, arm, run) of every job, one worker pool per `token_settings`, each loading the tokens its recipes read
    (a variant with another input, such as the cell-index channel, gets its own)."""
    groups: dict[tuple, list[int]] = {}
    for k, job in enumerate(jobs):
        groups.setdefault(token_settings(job.cfg), []).append(k)
    for members in groups.values():
        fits = parallel_map(fit_score_predict, [jobs[k] for k in members], workers, load_worker_tokens,
                            (tokens_dir, jobs[members[0]].cfg))  # fmt: skip
        for k, run in zip(members, fits):
            yield jobs[k], arms[k], run


def summarize_arms(runs: list[dict], sizes: list[int]) -> dict:
    """{size: {arm: mean/std over seeds of validation and test tau and of the teacher agreement (over the fits that
    recorded it: `agreement_fits`), seeds, median fit seconds}}."""
    out = {}
    for n in sizes:
        out[str(n)] = {}
        for arm in dict.fromkeys(r["arm"] for r in runs if r["n_train"] == n):
            group = [r for r in runs if r["n_train"] == n and r["arm"] == arm]
            entry = {"seeds": len(group), "fit_seconds_median": float(np.median([r["fit_seconds"] for r in group])),
                     "agreement_fits": sum(r.get("teacher_agreement") is not None for r in group),
                     "blend_fits": sum(r.get("blend_kendall_tau_b") is not None for r in group)}  # fmt: skip
            for key in ("val_kendall_tau_b", "kendall_tau_b", "kendall_tau_b_remainder", "teacher_agreement",
                        "blend_kendall_tau_b"):
                entry[key] = mean_std([r[key] for r in group if r.get(key) is not None])
            out[str(n)][arm] = entry
    return out


def variant_lines(result: dict) -> list[str]:
    """What each student variant changes, and per size its mean taus beside its base arm's over the same seeds: a
    variant fit on fewer seeds than its base is judged on the same teachers and seeds, not on the base's mean."""
    runs = result["runs"]
    split = {(r["n_train"], r["arm"]): base_and_variant(r["arm"]) for r in runs}  # first-seen order, one split each
    lines = []
    for name, update in result.get("student_variants", {}).items():
        lines.append(f"- `+{name}`: the taught recipe with `{json.dumps(update)}`.")
        for (n, arm), (taught, variant) in split.items():
            if variant != name:
                continue
            own = [r for r in runs if r["n_train"] == n and r["arm"] == arm]
            seeds = {r["seed"] for r in own}
            base = [r for r in runs if r["n_train"] == n and r["arm"] == taught and r["seed"] in seeds]
            if len(base) < len(own):
                continue
            val, test = (np.mean([r[key] for r in own]) for key in ("val_kendall_tau_b", "kendall_tau_b"))
            base_val, base_test = (np.mean([r[key] for r in base]) for key in ("val_kendall_tau_b", "kendall_tau_b"))
            lines.append(f"  At {n} nets, seeds {sorted(seeds)}: validation {val:.4f} against its base arm's "
                         f"{base_val:.4f} on the same seeds (test {test:.4f} against {base_test:.4f}).")
    return [""] + lines if lines else []


def distill_markdown(result: dict) -> str:
    def cell(entry: dict, key: str) -> str:
        value = entry[key]
        return "-" if value["mean"] is None else f"{value['mean']:.4f} ± {value['std']:.4f}"

    def agreement(entry: dict) -> str:
        # fits read from the tart_grid report carry no agreement: say over how many fits the mean is
        fits = entry["agreement_fits"]
        if fits == 0:
            return "-"
        return cell(entry, "teacher_agreement") + ("" if fits == entry["seeds"] else f" ({fits} fits)")

    def best_epoch(n: str, arm: str) -> str:
        # read from the runs, so the column needs no new summary key and older JSON renders too; a median near the
        # last epoch says that the arm's validation tau was still rising when its schedule ended
        group = [r for r in result["runs"] if str(r["n_train"]) == n and r["arm"] == arm]
        return f"{np.median([r['best_epoch'] for r in group]):g} of {group[0]['epochs']}"

    def blend(n: str, arm: str, entry: dict) -> str:
        # the median weight, read from the runs like the best epoch: a weight near 0 says the student adds nothing
        group = [r for r in result["runs"] if str(r["n_train"]) == n and r["arm"] == arm
                 and r.get("blend_kendall_tau_b") is not None]  # fmt: skip
        if not group:
            return "-"
        fits = "" if len(group) == entry["seeds"] else f", {len(group)} fits"
        weight = np.median([r["blend_student_weight"] for r in group])
        return f"{cell(entry, 'blend_kendall_tau_b')} (weight {weight:g}{fits})"

    lines = [f"TART fit to the `{result['train_label']}` labels of the first N nets plus the scores a teacher (fit "
             "on the same labels only) gives unlabelled nets; Kendall tau-b against "
             f"`{result['test_label']}` (mean ± std over seeds {result['seeds']}). Arms are named "
             f"`distill_e<epochs>_<unlabelled nets>`, taught by `{result['default_teacher']}`, or "
             "`distill_e<epochs>_<unlabelled nets>_<teacher>`; `plain` is the recipe without a teacher "
             f"({result['plain_epochs']} epochs over the training nets). Choose on the validation column "
             "only. Agreement: Kendall tau-b between the student's and its teacher's scores of the unlabelled nets, "
             "for the fits this benchmark made (`-`: read from the `tart_grid` report, which does not record it). "
             "Best epoch: the epoch whose model each fit keeps (best validation tau), median over the seeds. "
             "Blended with its teacher: test tau of the student's and the teacher's scores averaged on their ranks, "
             "the student's weight (0 to 1 by 0.1, median over the seeds in brackets) chosen on the validation nets; "
             "a weight of 0 is the teacher alone, so a blend above the teacher says the student learned something "
             "the teacher's features miss (`-`: fits made before this column).",
             *variant_lines(result),
             "",
             "| training nets | arm | seeds | validation tau | test tau, all nets | not labelled | agreement with "
             "teacher | best epoch | blended with its teacher | seconds per fit |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for n, arms in result["summary"].items():
        for arm, e in arms.items():
            lines.append(f"| {n} | {arm} | {e['seeds']} | {cell(e, 'val_kendall_tau_b')} | "
                         f"{cell(e, 'kendall_tau_b')} | {cell(e, 'kendall_tau_b_remainder')} | {agreement(e)} | "
                         f"{best_epoch(n, arm)} | {blend(n, arm, e)} | {e['fit_seconds_median']:,.0f} |")  # fmt: skip
    lines += ["", "Teachers (the same seeds):", "",
              "| teacher | training nets | seed | validation tau | teacher tau, all nets |", "|---|---|---|---|---|"]
    lines += [f"| {t['teacher']} | {t['n_train']} | {t['seed']} | {t['val_kendall_tau_b']:.4f} | "
              f"{t['kendall_tau_b']:.4f} |" for t in result["teachers"]]  # fmt: skip
    return "\n".join(lines)
