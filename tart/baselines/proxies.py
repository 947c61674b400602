"""The `proxies` stage: zero-cost proxies of a seeded sample of NB201 nets, scored against the test label."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from tqdm import tqdm

from tart.baselines.zero_cost import PROXIES, load_minibatch, proxy_scores
from tart.core import files, schemas
from tart.core.metrics import TRANSFER_LABELS, bootstrap_interval, kendall_tau_b, spearman_rho, transfer_scores
from tart.core.parallel import default_workers, parallel_map
from tart.core.params import Proxies
from tart.spaces.nb201.flops import COUNTS as FLOPS_COUNTS
from tart.spaces.nb201.flops import nb201_flops

_batch: tuple[torch.Tensor, torch.Tensor] | None = None  # the minibatch, set once per worker process


def _init_worker(images: Path, batch_size: int, seed: int) -> None:
    global _batch
    torch.set_num_threads(1)  # one process per core
    _batch = load_minibatch(images, batch_size, seed)


def _score(job: tuple[str, int]) -> dict[str, float]:
    arch, seed = job
    assert _batch is not None
    return proxy_scores(arch, seed, *_batch)


def sample_nets(n_nets: int, sample: int | None, seed: int) -> np.ndarray:
    """Sorted row indices of the scored nets: a seeded sample without replacement, or all."""
    if sample is None or sample >= n_nets:
        return np.arange(n_nets)
    return np.sort(np.random.default_rng(seed).choice(n_nets, sample, replace=False))


def _ranking_scores(pred: np.ndarray, true: np.ndarray, transfer: dict, cfg: Proxies) -> dict:
    out = {}
    for name, metric in (("kendall_tau_b", kendall_tau_b), ("spearman_rho", spearman_rho)):
        out[name] = metric(pred, true)
        out[name + "_ci95"] = list(bootstrap_interval(metric, pred, true, cfg.bootstrap, cfg.seed))
    return {**out, **transfer_scores(pred, transfer)}


def proxies_from_files(labels_path: Path, test_label: str, cfg: Proxies, scores_path: Path, out_path: Path,
                       progress: Callable[[str], None] | None = None) -> dict:  # fmt: skip
    """Score the sampled nets (parallel over cores), write the per-net Parquet and the summary JSON."""
    columns = ["net", "arch", "params", test_label, *TRANSFER_LABELS]
    table = pq.read_table(labels_path, columns=list(dict.fromkeys(columns))).sort_by("net")
    rows = sample_nets(table.num_rows, cfg.sample, cfg.seed)
    sub = table.take(pa.array(rows)).to_pydict()
    workers = cfg.workers or default_workers()
    jobs = [(arch, cfg.seed) for arch in sub["arch"]]
    scored = parallel_map(_score, jobs, workers, _init_worker, (cfg.images, cfg.batch_size, cfg.seed),
                          name=lambda job: f"the zero-cost proxies of {job[0]}")  # fmt: skip
    results = list(tqdm(scored, total=len(jobs), desc="zero-cost proxies", unit="net"))
    scores = {name: np.array([r[name] for r in results]) for name in (*PROXIES, "seconds")}
    files.write_table(pa.table({"net": sub["net"], "arch": sub["arch"], **scores}), scores_path,
                        schemas.PROXY_SCORES)  # fmt: skip
    true = np.array(sub[test_label], float)
    transfer = {label: np.array(sub[label], float) for label in TRANSFER_LABELS}
    reference = {"params": np.array(sub["params"], float),
                 **{kind: nb201_flops(sub["arch"], kind).astype(float) for kind in FLOPS_COUNTS}}  # fmt: skip
    summary = {}
    for name, pred in {**{p: scores[p] for p in PROXIES}, **reference}.items():
        summary[name] = {**_ranking_scores(pred, true, transfer, cfg),
                         "non_finite": int((~np.isfinite(pred)).sum())}  # fmt: skip
        if progress:
            progress(f"{name}: tau {summary[name]['kendall_tau_b']:.4f} on {len(rows)} nets")
    report = {
        "test_label": test_label, "n_nets": table.num_rows, "n_scored": len(rows), "sample_seed": cfg.seed,
        "batch_size": cfg.batch_size, "images": cfg.images.name, "device": "cpu", "workers": workers,
        "seconds_per_net_median": float(np.median(scores["seconds"])),
        "seconds_per_net_max": float(scores["seconds"].max()),
        "cpu_seconds_total": float(scores["seconds"].sum()),
        "proxies": summary,
    }  # fmt: skip
    files.write_json(report, out_path)
    return report
