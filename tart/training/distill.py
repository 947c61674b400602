"""Teaching TART with a teacher's scores of the nets nobody labelled (`train.teacher`).

The NB201 protocol labels a few nets (5% or 10%) and holds the next ones out for model selection; the graphs of all
the others are known and the protocol lets a predictor use them, unlabelled. A teacher fit on the training labels
only scores every net; TART is then fit to the true labels of its training nets plus the teacher's scores of
`train.unlabelled` other nets (all of them by default), early-stopping on the validation nets' true labels as always.
Teachers (`TEACHERS`): `gbm_canonical`, the best single feature model (gradient boosting on function-class cell
features), and `gp_gbm_canonical`, its mix with a Gaussian process on the same features, whose share the validation
nets' labels choose just as they choose the student's stopping epoch. Test labels reach neither model. `python -m
benchmarks distill` measures what teaching buys, `python -m benchmarks gp-teacher` what the mix buys over gradient
boosting.
"""

from __future__ import annotations

import numpy as np

from tart.baselines.baselines import feature_inputs, fit_scores, normal_scores

TEACHERS = ("gbm_canonical", "gp_gbm_canonical")


def require_target_only(teacher: str, aux_targets: list[str]) -> None:
    """A teacher scores `train.target` only: the unlabelled nets would have nothing for an extra head to fit."""
    if aux_targets:
        raise ValueError(f"train.teacher {teacher!r} scores train.target only, so it cannot train extra heads "
                         f"(aux_targets {aux_targets}); set aux_targets to [], or teacher to none")


def teacher_inputs(name: str, archs: list[str]) -> dict[str, np.ndarray]:
    """The feature matrices teacher `name` reads, one row per arch string (compute once, fit many times)."""
    if name not in TEACHERS:
        raise ValueError(f"unknown teacher {name!r}; expected one of {TEACHERS}")
    return feature_inputs(archs, [name])


def teacher_scores(name: str, inputs: dict[str, np.ndarray], label: np.ndarray, train: np.ndarray, seed: int,
                   threads: int = 1, val: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Scores of every net by teacher `name` (`inputs` from `teacher_inputs`) fit on the nets `train` with their
    `label`, a mix choosing its share on the nets `val`: fit to normal scores of the label ranks, as the baselines
    are, so the scores share that scale. Positions index `label` and the inputs' rows."""
    return fit_scores(name, inputs, label, train, seed, threads, val=val)


def pseudo_nets(candidates: np.ndarray, count: int | None, seed: int) -> np.ndarray:
    """The unlabelled nets a student is fit on: all `candidates`, or a seeded sample of `count` of them (sorted)."""
    if count is not None and count < 0:
        raise ValueError(f"unlabelled count {count}: expected a non-negative number or null (all)")
    if count is None or count >= len(candidates):
        return np.sort(candidates)
    return np.sort(np.random.default_rng(seed).choice(candidates, count, replace=False))


def student_target(label: np.ndarray, teacher: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Per net: the normal score of its true label among the training nets `train`, else the teacher's score. The
    teacher is fit to those same normal scores, so both parts share one scale."""
    target = teacher.astype(np.float64).copy()
    target[train] = normal_scores(label[train])
    return target


def taught_nets(label: np.ndarray, scores: np.ndarray, train: np.ndarray, unlabelled: np.ndarray, count: int | None,
                seed: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(nets a student fits, their targets): the `train` nets with their labels' normal scores, then `count` of the
    `unlabelled` nets (all: None; a sample drawn with `seed`) with the teacher's `scores`. Arrays are indexed by
    position: `label` and `scores` hold every net."""
    fitted = np.concatenate([train, pseudo_nets(unlabelled, count, seed)])
    return fitted, student_target(label, scores, train)[fitted]
