"""Do learning-to-rank objectives make a better feature model? (`python -m benchmarks rank-objectives [SEEDS]`)

The table scores every predictor by Kendall tau, a measure of pairwise order, while the feature models are fit by
least squares to the training labels' normal scores. LightGBM fits the order itself with two objectives:
- LambdaRank (pairwise): every pair of nets in a query pulls the two scores apart, weighted by how much swapping them
  would change the query's NDCG, which counts the top of a query most;
- XE-NDCG (listwise): a cross entropy between the query's softmax of scores and a distribution its grades give.
Both read integer relevance grades (here equal-count bins of the training label's rank among the training nets) and
queries, the groups of nets ranked against each other: the whole training set as one query, or random queries of
`QUERY_SIZE` nets from `SHUFFLES` shuffles of it, so that every net sits in several queries and the top of a query
falls on many different nets rather than on the best few of the training set.

Every LightGBM variant grows the trees of the pipeline's `gbm_canonical` (`make_regressor("gbm_deep")`: 1,250 trees
at rate 0.02, depth 6, at least 5 nets per leaf, 80% of the nets per tree, half the features per split), and its
least-squares fit to the same normal scores separates the library from the objective; the pipeline's own model is
the first row. Scored as in teacher-variants: on the 200 validation nets after the first N training ones (what a
choice may look at) and, for the record, on all nets against the test label.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import stats
from tqdm import tqdm

from benchmarks.common import labels_by_net, protocol_sizes, taus_over_seeds
from tart.baselines.baselines import feature_inputs, fit_scores, normal_scores

REFERENCE = "gbm_canonical"
QUERY_SIZE = 32
SHUFFLES = 8
# `gbm_deep`'s settings in LightGBM's names; a depth-6 tree has at most 64 leaves.
TREES = {"n_estimators": 1250, "learning_rate": 0.02, "max_depth": 6, "num_leaves": 64, "min_child_samples": 5,
         "subsample": 0.8, "subsample_freq": 1, "feature_fraction_bynode": 0.5}  # fmt: skip


@dataclass(frozen=True)
class Variant:
    objective: str  # a LightGBM objective
    grades: int = 0  # relevance levels of a ranking objective (0: least squares on normal scores)
    random_queries: bool = False  # queries of QUERY_SIZE from SHUFFLES shuffles, else one query of every net

    @property
    def queries(self) -> str | None:
        """How the training nets are grouped into queries, as the table says it (None: no queries)."""
        if not self.grades:
            return None
        return f"{QUERY_SIZE} nets x {SHUFFLES} shuffles" if self.random_queries else "one"


VARIANTS = {
    "least squares": Variant("regression"),
    "lambdarank, one query": Variant("lambdarank", 32),
    f"lambdarank, queries of {QUERY_SIZE}": Variant("lambdarank", 32, True),
    # XE-NDCG weighs a grade by 2 to its power, so 32 grades leave little but the top one; 8 validated above 5 and
    # 32 at 5% (seeds 0, 1, 2).
    "xe-ndcg, one query": Variant("rank_xendcg", 8),
    f"xe-ndcg, queries of {QUERY_SIZE}": Variant("rank_xendcg", 8, True),
}


def rank_grades(label: np.ndarray, grades: int) -> np.ndarray:
    """`label` as `grades` equal-count integer levels of its rank, 0 the worst."""
    quantile = (stats.rankdata(label) - 1) / len(label)
    return np.minimum((quantile * grades).astype(int), grades - 1)


def queries(n: int, seed: int) -> np.ndarray:
    """Training positions in query order: `SHUFFLES` shuffles of range(n) end to end, cut to whole queries."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(n) for _ in range(SHUFFLES)])
    return order[: len(order) // QUERY_SIZE * QUERY_SIZE]


def variant_scores(features: np.ndarray, label: np.ndarray, n_train: int, seed: int, variant: Variant) -> np.ndarray:
    """Every net's score by LightGBM with `variant`'s objective, fit on the first `n_train` nets' `label`."""
    import lightgbm

    x, y = features[:n_train], label[:n_train]
    settings = {**TREES, "objective": variant.objective, "random_state": seed, "n_jobs": 1, "verbose": -1}
    with warnings.catch_warnings():
        # LightGBM's scikit-learn wrapper names the columns it was fit on, then warns that an unnamed array has none
        # when it predicts: the array has the very columns it was fit on.
        warnings.filterwarnings("ignore", "X does not have valid feature names", UserWarning)
        if not variant.grades:
            return lightgbm.LGBMRegressor(**settings).fit(x, normal_scores(y)).predict(features)
        rows = queries(n_train, seed) if variant.random_queries else np.arange(n_train)
        size = QUERY_SIZE if variant.random_queries else n_train
        settings |= {"label_gain": list(range(variant.grades)), "lambdarank_truncation_level": size}  # all pairs
        model = lightgbm.LGBMRanker(**settings)
        model.fit(x[rows], rank_grades(y, variant.grades)[rows], group=[size] * (len(rows) // size))
        return model.predict(features)


def compare_objectives(inputs: dict[str, np.ndarray], label: np.ndarray, test_label: np.ndarray, sizes: list[int],
                       seeds: list[int], val_size: int, variants: dict[str, Variant] = VARIANTS) -> dict:  # fmt: skip
    """Per model and size: mean ± std over `seeds` of the validation and test tau, and the median seconds per fit.
    `inputs` are the pipeline's feature inputs of `REFERENCE` (its function-class features under "canonical")."""
    models = [REFERENCE, *variants]
    records = []
    for name, n in tqdm([(m, n) for m in models for n in sizes], desc="objectives"):
        variant = variants.get(name)
        fit = (partial(fit_scores, REFERENCE, inputs, label, np.arange(n)) if variant is None
               else partial(variant_scores, inputs["canonical"], label, n, variant=variant))  # fit(seed)  # fmt: skip
        records.append({"model": name, "n_train": n, "objective": "pipeline" if variant is None else variant.objective,
                        "grades": None if variant is None else variant.grades,
                        "queries": None if variant is None else variant.queries,
                        **taus_over_seeds(fit, seeds, label, test_label, n, val_size)})  # fmt: skip
    return {"sizes": sizes, "seeds": seeds, "val_size": val_size, "records": records}


def rank_objectives_benchmark(p, seeds: list[int]) -> dict:
    target, test_label = p.train.target, p.evaluate.test_label
    columns = labels_by_net(p)
    label = np.array(columns[target])
    sizes = protocol_sizes(p, len(label))
    inputs = feature_inputs(columns["arch"], [REFERENCE])
    result = compare_objectives(inputs, label, np.array(columns[test_label]), sizes, seeds, p.split.val_size)
    return {"reference": REFERENCE, "train_label": target, "test_label": test_label, **result}


def rank_objectives_markdown(result: dict) -> str:
    lines = [f"Gradient boosting on the function-class cell features with learning-to-rank objectives (LightGBM), "
             f"beside the pipeline's `{result['reference']}` and LightGBM's least-squares fit of the same trees, fit "
             f"on the first N nets' `{result['train_label']}`; Kendall tau-b on the {result['val_size']} validation "
             f"nets after them (against the training label: what a choice may look at) and over all nets against "
             f"`{result['test_label']}`; mean ± std over seeds {result['seeds']}. Grades are equal-count bins of the "
             "training label's rank.", "",
             "| training nets | model | objective | grades | queries | validation tau | test tau, all nets | "
             "seconds per fit |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in sorted(result["records"], key=lambda r: r["n_train"]):
        val, test = r["val_kendall_tau_b"], r["kendall_tau_b"]
        lines.append(f"| {r['n_train']} | {r['model']} | {r['objective']} | {r['grades'] or ''} | "
                     f"{r['queries'] or ''} | {val['mean']:.4f} ± {val['std']:.4f} | {test['mean']:.4f} ± "
                     f"{test['std']:.4f} | {r['seconds_per_fit']:.1f} |")  # fmt: skip
    return "\n".join(lines)
