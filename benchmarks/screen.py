"""How fast `tart screen` ranks the whole NB201 space (`python -m benchmarks screen [WORKERS]`).

Both input routes are timed end to end with the pipeline's checkpoint: the 15,625 architecture strings (each net
converted from its PyTorch module) and the build stage's DeepNets-1M-format file with its node shapes. Both must
reproduce the `evaluate` stage's predictions, which the result records as the largest difference. It also says
what the ranking buys a search: the true test accuracy of the nets it puts first.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.stats import rankdata

from tart.app.screen import Candidates, deepnets_candidates, nb201_candidates, screen
from tart.core.params import Params


def screen_benchmark(p: Params, workers: int) -> dict:
    labels = pq.read_table(p.paths.labels, columns=["net", "arch"])
    if labels["net"].to_pylist() != list(range(labels.num_rows)):
        raise ValueError(f"{p.paths.labels}: expected one row per net in index order")
    evaluated = pq.read_table(p.paths.predictions, columns=["net", "prediction"])
    reference = np.empty(labels.num_rows)
    reference[evaluated["net"].to_numpy()] = evaluated["prediction"].to_numpy()
    routes = {
        "nb201_strings": lambda: nb201_candidates(labels["arch"].to_pylist(), workers),
        "deepnets1m_hdf5": lambda: deepnets_candidates(
            p.paths.nb201_h5, p.paths.nb201_meta, p.build.split, p.paths.node_shapes
        ),
    }
    result = {"nets": labels.num_rows, "workers": workers, "checkpoint": str(p.paths.model), "routes": {}}
    for name, candidates in routes.items():
        table = _timed(candidates(), p, reference, result["routes"].setdefault(name, {}))
    truth = pq.read_table(p.paths.labels, columns=[p.evaluate.test_label])[p.evaluate.test_label].to_numpy()
    result["search"] = top_k_quality(table["prediction"].to_numpy(), truth, (1, 10, 100))
    result["search"]["label"] = p.evaluate.test_label
    return result


def _timed(candidates: Candidates, p: Params, reference: np.ndarray, out: dict) -> pa.Table:
    start = time.perf_counter()
    table, _ = screen(candidates, p.paths.model)
    seconds = time.perf_counter() - start
    out.update(seconds=round(seconds, 1), nets_per_second=round(table.num_rows / seconds, 1),
               max_abs_diff_vs_evaluate=float(np.abs(table["prediction"].to_numpy() - reference).max()))  # fmt: skip
    return table


def top_k_quality(prediction: np.ndarray, truth: np.ndarray, ks: tuple[int, ...]) -> dict:
    """What screening buys a search: for the k nets ranked highest, their best and mean true accuracy, and the
    true rank of that best (1 = the space's best net)."""
    order = np.argsort(-prediction, kind="stable")
    true_rank = rankdata(-truth, method="min").astype(np.int64)  # nets of equal accuracy share a rank
    out = {"space_best": float(truth.max()), "space_mean": float(truth.mean()), "top": {}}
    for k in ks:
        picked = order[:k]
        best = picked[np.argmax(truth[picked])]
        out["top"][str(k)] = {"best": float(truth[best]), "mean": float(truth[picked].mean()),
                              "true_rank_of_best": int(true_rank[best])}  # fmt: skip
    return out


def screen_markdown(result: dict) -> str:
    titles = {"nb201_strings": "NB201 architecture strings (text file)",
              "deepnets1m_hdf5": "DeepNets-1M-format HDF5 + node shapes (the build stage's file)"}  # fmt: skip
    rows = [
        f"`tart screen` on all {result['nets']:,} NB201 nets with the pipeline's checkpoint "
        f"({result['workers']} worker processes converting strings), end to end: input to ranked Parquet table.",
        "",
        "| input | seconds | nets/s | largest difference from the `evaluate` stage's predictions |",
        "|---|---|---|---|",
    ]
    for name, r in result["routes"].items():
        rows.append(f"| {titles[name]} | {r['seconds']:,.1f} | {r['nets_per_second']:,.0f} | "
                    f"{r['max_abs_diff_vs_evaluate']:.1e} |")  # fmt: skip
    search = result["search"]
    rows += [
        "",
        f"The nets it ranks highest, by their true `{search['label']}` (the space: best {search['space_best']:.2f}, "
        f"mean {search['space_mean']:.2f}; true rank 1 = the best of all {result['nets']:,}):",
        "",
        "| screened top k | best of them | mean of them | true rank of that best |",
        "|---|---|---|---|",
    ]
    for k, r in search["top"].items():
        rows.append(f"| {k} | {r['best']:.2f} | {r['mean']:.2f} | {r['true_rank_of_best']:,} |")
    return "\n".join(rows)
