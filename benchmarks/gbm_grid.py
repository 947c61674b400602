"""How the `gbm_canonical` settings were picked: a grid over gradient-boosting settings on the function-class
features of tart.baselines.baselines, each fit at 5% and 10% of NB201, scored on the 200 validation nets after the
training ones (against the training label, as TART's early stopping is) and, for the record only, on all nets against
the test label.

The pick is the setting with the highest validation tau summed over both sizes; the test column never chooses.
"""

from __future__ import annotations

import itertools
import json
import time

import numpy as np
from tqdm import tqdm

from benchmarks.common import labels_by_net, protocol_taus
from tart.baselines.baselines import function_class_features, normal_scores

GRID = {"max_depth": [4, 6, 8], "min_samples_leaf": [1, 5, 10], "learning_rate": [0.05, 0.02],
        "max_features": [1.0, 0.5]}  # fmt: skip
TREES_TIMES_RATE = 25  # n_estimators = 25 / learning_rate: 500 trees at 0.05, 1250 at 0.02


def settings_grid(grid: dict[str, list] = GRID) -> list[dict]:
    settings = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    return [{**s, "n_estimators": round(TREES_TIMES_RATE / s["learning_rate"])} for s in settings]


def grid_search(features: np.ndarray, train_label: np.ndarray, test_label: np.ndarray, settings: list[dict],
                sizes: list[int], seeds: list[int], val_size: int = 200) -> dict:  # fmt: skip
    """One record per setting: mean validation and test tau per training-set size over `seeds`, fit seconds;
    and the pick (highest validation tau summed over the sizes)."""
    from sklearn.ensemble import GradientBoostingRegressor

    records = []
    for setting in tqdm(settings, desc="gbm grid", unit="setting"):
        record: dict = {"setting": setting, "val_kendall_tau_b": {}, "test_kendall_tau_b": {}}
        start = time.perf_counter()
        for n in sizes:
            val, test = [], []
            for seed in seeds:
                model = GradientBoostingRegressor(subsample=0.8, random_state=seed, **setting)
                model.fit(features[:n], normal_scores(train_label[:n]))
                pred = model.predict(features)
                val_tau, test_tau = protocol_taus(pred, train_label, test_label, n, val_size)
                val.append(val_tau)
                test.append(test_tau)
            record["val_kendall_tau_b"][n], record["test_kendall_tau_b"][n] = float(np.mean(val)), float(np.mean(test))
        record["seconds"] = round(time.perf_counter() - start, 1)
        records.append(record)
    pick = max(records, key=lambda r: sum(r["val_kendall_tau_b"].values()))
    return {"sizes": sizes, "seeds": seeds, "val_size": val_size, "records": records, "pick": pick["setting"]}


def gbm_grid_benchmark(p, seeds: list[int]) -> dict:
    target, test_label = p.train.target, p.evaluate.test_label
    columns = labels_by_net(p)
    features = function_class_features(columns["arch"])
    sizes = [n for n in p.baselines.train_sizes if n in (781, 1563)] or list(p.baselines.train_sizes)
    result = grid_search(features, np.array(columns[target]), np.array(columns[test_label]), settings_grid(), sizes,
                         seeds, p.split.val_size)  # fmt: skip
    return {"train_label": target, "test_label": test_label, **result}


def gbm_grid_markdown(result: dict, top: int = 5) -> str:
    result = json.loads(json.dumps(result))  # keyed as the JSON holds it (sizes as strings), fresh or read back
    sizes = [str(n) for n in result["sizes"]]
    ranked = sorted(result["records"], key=lambda r: -sum(r["val_kendall_tau_b"].values()))
    header = ["depth", "leaf", "rate", "trees", "features", *(f"val {n}" for n in sizes), *(f"test {n}" for n in sizes)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in ranked[:top] + ranked[-1:]:
        s = r["setting"]
        cells = [s["max_depth"], s["min_samples_leaf"], s["learning_rate"], s["n_estimators"], s["max_features"],
                 *(f"{r['val_kendall_tau_b'][n]:.4f}" for n in sizes),
                 *(f"{r['test_kendall_tau_b'][n]:.4f}" for n in sizes)]  # fmt: skip
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    tests = {n: [r["test_kendall_tau_b"][n] for r in result["records"]] for n in sizes}
    spread = ", ".join(f"{min(v):.4f}-{max(v):.4f} at {n}" for n, v in tests.items())
    return (
        f"{len(result['records'])} settings, seeds {result['seeds']}; the five best by validation tau (summed "
        f"over {' and '.join(map(str, sizes))} training nets) and the worst. Test tau over all settings: "
        f"{spread}.\n\n" + "\n".join(lines)
    )
