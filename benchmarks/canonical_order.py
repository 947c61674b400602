"""Does TART gain from reading nets in canonical node order (tart.tokens.canonical_order) instead of file order?
(`python -m benchmarks canonical-order [SEEDS]`)

In canonical order isomorphic nets share one token sequence, so training pools their labels and the model gives
them one prediction. Compared, seed by seed, with the file-order fits and with their predictions averaged over
isomorphism classes afterwards (the `tart` and `tart_iso` runs of the `tart_grid` report when it ran the same
recipe, since CPU fits are deterministic; else those are fit here too).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import distinct_sequences, grid_runs, paired_row, paired_summary
from tart.core.metrics import without_predictions
from tart.core.parallel import parallel_map
from tart.core.params import Params
from tart.tokens.canonical_order import canonical_tokens
from tart.tokens.isomorphism import isomorphism_classes, load_token_graphs
from tart.training.tart_grid import (
    class_mean_runs,
    fit_and_score,
    fit_score_predict,
    load_worker_tokens,
    protocol_labels,
)


def file_order_runs(p: Params, jobs: list[tuple], workers: int) -> list[dict]:
    """File-order fits missing from the `tart_grid` report, and their isomorphism-class means."""
    runs = list(parallel_map(fit_score_predict, jobs, workers, load_worker_tokens, (p.paths.tokens, p.train)))
    if not runs:
        return []
    test_y, transfer = jobs[0][5], jobs[0][6]
    classes = isomorphism_classes(load_token_graphs(p.paths.tokens, np.arange(len(test_y))))
    runs += class_mean_runs(runs, {"iso": classes}, test_y, transfer)
    return without_predictions(runs)


def canonical_order_benchmark(p: Params, sizes: list[int], seeds: list[int], workers: int = 2,
                              grid_report: Path = Path("reports/tart_grid.json")) -> dict:  # fmt: skip
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    cfg = p.train.model_copy(update={"threads": max(1, p.train.threads // workers)})
    known = {
        **{(*key, "file"): r for key, r in grid_runs(grid_report, p, sizes, seeds).items()},
        **{(*key, "file_iso"): r for key, r in grid_runs(grid_report, p, sizes, seeds, "tart_iso").items()},
    }
    jobs = [(cfg, n, seed, p.split.val_size, y, test_y, transfer) for n in sizes for seed in seeds]
    missing = [job for job in jobs if any((job[1], job[2], order) not in known for order in ("file", "file_iso"))]
    refit = {(job[1], job[2]) for job in missing}
    runs = [{**r, "order": key[2], "from": "tart_grid"} for key, r in known.items() if key[:2] not in refit]
    for run in file_order_runs(p, missing, workers):
        order = "file_iso" if run["predictor"] == "tart_iso" else "file"
        runs.append({**run, "order": order, "from": "this benchmark"})
    with tempfile.TemporaryDirectory() as tmp:
        canonical_dir = Path(tmp) / "tokens"
        start = time.perf_counter()
        canonical_tokens(p.paths.tokens, canonical_dir)
        reorder_seconds = time.perf_counter() - start
        counts = {"file": distinct_sequences(p.paths.tokens), "canonical": distinct_sequences(canonical_dir)}
        for run in parallel_map(fit_and_score, jobs, workers, load_worker_tokens, (canonical_dir, p.train)):
            runs.append({**run, "order": "canonical", "from": "this benchmark"})
            print(f"n={run['n_train']} seed={run['seed']} canonical: tau {run['kendall_tau_b']:.4f}", flush=True)
    tau = {(r["n_train"], r["seed"], r["order"]): r["kendall_tau_b"] for r in runs}
    over_file = paired_summary(tau, sizes, seeds, "file", "canonical")
    over_iso = paired_summary(tau, sizes, seeds, "file_iso", "canonical")
    summary = {n: {"file": over_file[n]["file"], "file_iso": over_iso[n]["file_iso"],
                   "canonical": over_file[n]["canonical"], "gain_over_file": over_file[n]["gain_per_seed"],
                   "gain_over_file_iso": over_iso[n]["gain_per_seed"]} for n in over_file}  # fmt: skip
    return {"test_label": p.evaluate.test_label, "seeds": seeds, "distinct_sequences": counts,
            "reorder_seconds": round(reorder_seconds, 1), "threads_per_fit": cfg.threads, "workers": workers,
            "summary": summary,
            "runs": sorted(runs, key=lambda r: (r["n_train"], r["seed"], r["order"]))}  # fmt: skip


def canonical_order_markdown(result: dict) -> str:
    counts = result["distinct_sequences"]
    lines = [
        f"TART on file-order and canonical-order tokens (seeds {result['seeds']}; Kendall tau-b against "
        f"`{result['test_label']}` over all nets). Distinct token sequences (primitive, shape, offsets) among the "
        f"15,625 nets: {counts['file']:,} in file order, {counts['canonical']:,} in canonical order; reordering took "
        f"{result['reorder_seconds']:.0f} s.",
        "",
        "| training nets | file order | file order, isomorphism-class mean | canonical order | gain per seed over file "
        "order | over the class mean |",
        "|---|---|---|---|---|---|",
    ]
    lines += [paired_row(n, s, ("file", "file_iso", "canonical"), ("gain_over_file", "gain_over_file_iso"))
              for n, s in result["summary"].items()]  # fmt: skip
    return "\n".join(lines)
