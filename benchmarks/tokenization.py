"""Tokenization variants of TART, each fitted on the NB201 protocol and scored on all nets
(`python -m benchmarks tokenization [N_TRAIN]`).

Each row adds one ingredient to the one before (the graph encodings replace each other), ending at the pipeline's
own `train` settings; every other setting is the `train` section's. One seed per variant: compare against the
seed spread of the `tart_grid` stage before reading much into a small gap.
"""

from __future__ import annotations

from tart.core.parallel import parallel_map
from tart.core.params import Params, Train
from tart.training.tart_grid import fit_and_score, load_worker_tokens, protocol_labels

BASE = ["tokens", "shape_tokens", "cell_tokens"]
# (name, overrides of the train section)
VARIANTS: list[tuple[str, dict]] = [
    ("primitive per node, order-blind", {"channels": ["tokens"], "positions": "none", "attention_bias": "none"}),
    ("+ learned positions (file order)", {"channels": ["tokens"], "attention_bias": "none"}),
    ("+ parameter-shape tokens", {"channels": ["tokens", "shape_tokens"], "attention_bias": "none"}),
    ("+ cell index", {"channels": BASE, "attention_bias": "none"}),
    ("+ NAR-Former topology encoding", {"channels": BASE, "attention_bias": "none", "graph_pe": "topology"}),
    ("+ Laplacian eigenvectors (instead)", {"channels": BASE, "attention_bias": "none", "graph_pe": "laplacian"}),
    ("+ random-walk encoding (instead)", {"channels": BASE, "attention_bias": "none", "graph_pe": "random_walk"}),
    ("+ predecessor offsets, edge attention bias", {"attention_bias": "edges"}),
    ("+ predecessor offsets, path-hop attention bias (instead)", {"attention_bias": "paths"}),
]


def _variant(job: tuple) -> dict:
    name, cfg, tokens_dir, n_train, val_size, labels = job
    load_worker_tokens(tokens_dir, cfg)
    run = fit_and_score((cfg, n_train, cfg.seed, val_size, *labels))
    return {"variant": name, "channels": cfg.channels, "positions": cfg.positions,
            "attention_bias": cfg.attention_bias, "graph_pe": cfg.graph_pe, **run}  # fmt: skip


def tokenization_benchmark(p: Params, n_train: int, workers: int = 2) -> dict:
    labels = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    threads = max(1, p.train.threads // workers)
    jobs = []
    for name, overrides in VARIANTS:
        cfg = Train(**{**p.train.model_dump(), **overrides, "threads": threads})
        jobs.append((name, cfg, p.paths.tokens, n_train, p.split.val_size, labels))
    runs = []
    for run in parallel_map(_variant, jobs, workers):
        runs.append(run)
        print(f"{run['variant']}: tau {run['kendall_tau_b']:.4f} ({run['fit_seconds']:.0f} s)", flush=True)
    return {"n_train": n_train, "val_size": p.split.val_size, "seed": p.train.seed, "workers": workers,
            "threads_per_fit": threads, "train": p.train.model_dump(), "runs": runs}  # fmt: skip


def tokenization_markdown(result: dict) -> str:
    lines = [
        f"TART tokenization variants: trained on the first {result['n_train']} NB201 nets (seed "
        f"{result['seed']}, early stopping on the next {result['val_size']}), Kendall tau-b against CIFAR-10 test "
        f"accuracy; fit time on {result['threads_per_fit']} CPU thread(s), {result['workers']} fits at a time.",
        "",
        "| variant | tau-b, all nets | not trained on | Spearman rho | fit seconds |",
        "|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        lines.append(f"| {r['variant']} | {r['kendall_tau_b']:.4f} | {r['kendall_tau_b_remainder']:.4f} | "
                     f"{r['spearman_rho']:.4f} | {r['fit_seconds']:.0f} |")  # fmt: skip
    return "\n".join(lines)
