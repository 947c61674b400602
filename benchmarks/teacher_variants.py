"""Can the distillation teacher be made stronger without a second label? (`python -m benchmarks teacher-variants
[SEEDS]`)

A taught TART follows its teacher closely and, blended with it, adds nothing (reports/benchmarks/distill.md), so the
teacher's tau bounds that route. `gbm_canonical`'s settings were already picked on a grid (gbm_grid.md); this
benchmark tries what that grid does not span, each against the teacher exactly as the pipeline fits it
(`teacher_scores`): averaging several seeds' models (bagging), a loss less swayed by outlying labels (Huber), and
twice the trees at half the learning rate. Each is fit at 5% and 10% of NB201 on the training label's normal scores,
scored on the 200 validation nets after the training ones (what a choice may look at) and, for the record, on all
nets against the test label.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from tqdm import tqdm

from benchmarks.common import labels_by_net, protocol_sizes, taus_over_seeds
from tart.baselines.baselines import REGRESSORS, fit_target, function_class_features, make_regressor
from tart.training.distill import teacher_scores

TEACHER = "gbm_canonical"
BAGGED_MODELS = 5
# name: (changes to the teacher's regressor settings, models averaged per fit)
VARIANTS = {"teacher": ({}, 1), f"bag of {BAGGED_MODELS}": ({}, BAGGED_MODELS), "huber loss": ({"loss": "huber"}, 1),
            "2x trees, half rate": ({"n_estimators": 2500, "learning_rate": 0.01}, 1)}  # fmt: skip


def variant_scores(features: np.ndarray, label: np.ndarray, train: np.ndarray, seed: int, changes: dict,
                   models: int) -> np.ndarray:  # fmt: skip
    """Every net's score by the teacher's regressor with `changes`, averaged over `models` fits whose seeds are
    derived from `seed` (the first is `seed` itself, so one unchanged model is the teacher)."""
    spec = REGRESSORS[TEACHER]
    target = fit_target(spec, label, train, {})
    scores = []
    for k in range(models):
        model = make_regressor(spec.model, seed + 1000 * k, 1).set_params(**changes)
        scores.append(model.fit(features[train], target).predict(features))
    return np.mean(scores, axis=0)


def compare_variants(features: np.ndarray, label: np.ndarray, test_label: np.ndarray, sizes: list[int],
                     seeds: list[int], val_size: int, variants: dict = VARIANTS) -> dict:  # fmt: skip
    """Per variant and size: mean ± std over `seeds` of the validation and test tau, and seconds per fit."""
    records = []
    for (name, (changes, models)), n in tqdm([(v, n) for v in variants.items() for n in sizes], desc="teachers"):
        fit = partial(variant_scores, features, label, np.arange(n), changes=changes, models=models)  # fit(seed)
        records.append({"variant": name, "changes": changes, "models": models, "n_train": n,
                        **taus_over_seeds(fit, seeds, label, test_label, n, val_size)})  # fmt: skip
    return {"sizes": sizes, "seeds": seeds, "val_size": val_size, "records": records}


def teacher_variants_benchmark(p, seeds: list[int]) -> dict:
    target, test_label = p.train.target, p.evaluate.test_label
    columns = labels_by_net(p)
    label = np.array(columns[target])
    features = function_class_features(columns["arch"])
    sizes = protocol_sizes(p, len(label))
    # the benchmark's unchanged variant must be the teacher the pipeline fits, or its gains mean nothing
    first, inputs = np.arange(sizes[0]), {REGRESSORS[TEACHER].features: features}
    if not np.allclose(variant_scores(features, label, first, seeds[0], {}, 1),
                       teacher_scores(TEACHER, inputs, label, first, seeds[0])):  # fmt: skip
        raise RuntimeError(f"teacher-variants: its unchanged {TEACHER} differs from tart.training.distill's teacher")
    result = compare_variants(features, label, np.array(columns[test_label]), sizes, seeds, p.split.val_size)
    return {"teacher": TEACHER, "train_label": target, "test_label": test_label, **result}


def teacher_variants_markdown(result: dict) -> str:
    lines = [f"The `{result['teacher']}` distillation teacher and variants of it, fit on the first N nets' "
             f"`{result['train_label']}` labels (normal scores); Kendall tau-b on the {result['val_size']} validation "
             f"nets after them (against the training label: what a choice may look at) and over all nets against "
             f"`{result['test_label']}`; mean ± std over seeds {result['seeds']}. `teacher` is the pipeline's own; a "
             "bag averages models whose seeds differ.", "",
             "| training nets | variant | models | validation tau | test tau, all nets | seconds per fit |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for r in sorted(result["records"], key=lambda r: r["n_train"]):
        val, test = r["val_kendall_tau_b"], r["kendall_tau_b"]
        lines.append(f"| {r['n_train']} | {r['variant']} | {r['models']} | {val['mean']:.4f} ± {val['std']:.4f} | "
                     f"{test['mean']:.4f} ± {test['std']:.4f} | {r['seconds_per_fit']:.1f} |")  # fmt: skip
    return "\n".join(lines)
