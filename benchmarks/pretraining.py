"""Does masked-node pretraining on generated DeepNets-1M-style nets help TART on NB201 with few labels?
(`python -m benchmarks pretraining [NETS]`)

Pretrain the encoder once (tart/training/pretrain.py), then fit the `train` recipe on the first N NB201 nets (early
stopping on the next `split.val_size`) from scratch and from the pretrained encoder, same seeds, and score every
net against the test label.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow.parquet as pq

from benchmarks.common import paired_row, paired_summary
from tart.core.metrics import kendall_tau_b
from tart.core.parallel import parallel_map
from tart.core.params import Params
from tart.tokens.token_set import TokenSet, load_tokens, rows_of
from tart.training.pretrain import PretrainConfig, corpus_tokens, pretrain
from tart.training.tart_grid import fit_and_score, load_worker_tokens, protocol_labels
from tart.training.train import fit, predict


def _fine_tune(job: tuple) -> dict:
    start, *rest = job
    return {"start": start, **fit_and_score(tuple(rest))}


def zero_shot(p: Params, corpus: TokenSet, corpus_params: np.ndarray, n_fit: int = 1000, epochs: int = 10) -> dict:
    """TART fitted on generated DARTS-style nets to rank their parameter counts (self-measured by the generator),
    then scored on NB201 without seeing an NB201 label."""
    val = min(200, len(corpus.nets) // 10)
    n_fit = min(n_fit, len(corpus.nets) - val)
    cfg = p.train.model_copy(update={"epochs": epochs, "aux_targets": []})
    y = np.log(corpus_params)
    rows = np.arange(n_fit + val)
    start = time.perf_counter()
    model, _, facts = fit(cfg, corpus, rows[:n_fit], y[:n_fit], rows[n_fit:], y[n_fit : n_fit + val])
    seconds = time.perf_counter() - start
    nb201 = load_tokens(p.paths.tokens, tuple(cfg.channels), cfg.graph_pe, cfg.pe_dim)
    if int(nb201.lengths.max()) > model.cfg.max_len:
        raise ValueError(f"NB201 nets have up to {int(nb201.lengths.max())} nodes, the corpus model handles "
                         f"{model.cfg.max_len}; generate more or longer nets")  # fmt: skip
    table = pq.read_table(p.paths.labels, columns=["net", "params", p.evaluate.test_label]).sort_by("net")
    params, test = (np.asarray(table[c].to_pylist(), dtype=float) for c in ("params", p.evaluate.test_label))
    pred = predict(model, nb201, rows_of(nb201, np.asarray(table["net"].to_pylist())))
    return {"fit_nets": n_fit, "epochs": epochs, "fit_seconds": round(seconds, 1), "target": "log parameter count",
            "corpus_val_kendall_tau_b": facts["best_val_kendall_tau_b"],
            "nb201_kendall_tau_b_params": kendall_tau_b(pred, params),
            "nb201_kendall_tau_b_test_acc": kendall_tau_b(pred, test),
            "nb201_params_itself_test_acc": kendall_tau_b(params, test)}  # fmt: skip


def pretraining_benchmark(p: Params, cfg: PretrainConfig, train_sizes: list[int], seeds: list[int],
                          workers: int = 2) -> dict:  # fmt: skip
    corpus, corpus_params = corpus_tokens(cfg, p.train, workers)
    state, curves, facts = pretrain(cfg, p.train, corpus)
    transfer_result = zero_shot(p, corpus, corpus_params)
    del corpus
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    fine = p.train.model_copy(update={"threads": max(1, p.train.threads // workers)})
    starts = (("scratch", None), ("pretrained", state))
    jobs = [(start, fine, n, seed, p.split.val_size, y, test_y, transfer, init)
            for n in train_sizes for seed in seeds for start, init in starts]  # fmt: skip
    runs = []
    for run in parallel_map(_fine_tune, jobs, workers, load_worker_tokens, (p.paths.tokens, p.train)):
        runs.append(run)
        print(f"n={run['n_train']} seed={run['seed']} {run['start']}: tau {run['kendall_tau_b']:.4f}", flush=True)
    tau = {(r["n_train"], r["seed"], r["start"]): r["kendall_tau_b"] for r in runs}
    summary = paired_summary(tau, train_sizes, seeds, "scratch", "pretrained")
    return {"pretrain": {**facts, "curves": curves}, "zero_shot": transfer_result, "train": p.train.model_dump(),
            "seeds": seeds,
            "threads_per_fit": fine.threads, "workers": workers, "summary": summary, "runs": runs}  # fmt: skip


def pretraining_markdown(result: dict) -> str:
    pre = result["pretrain"]
    last = pre["curves"][-1]
    lines = [
        f"Masked-node pretraining on {pre['corpus_nets']:,} generated DeepNets-1M-style nets (median "
        f"{pre['corpus_nodes_median']:.0f} nodes, {pre['config']['epochs']} epochs, {pre['seconds']:.0f} s on "
        f"{pre['device']}): held-out masked-primitive accuracy {last['holdout_masked_accuracy']:.3f} (always "
        f"guessing the commonest primitive: {last['holdout_majority_accuracy']:.3f}). Then the `train` recipe on the "
        f"first N NB201 nets, Kendall tau-b over all 15,625 against CIFAR-10 test accuracy, mean ± std over seeds "
        f"{result['seeds']}:",
        "",
        "| training nets | from scratch | from the pretrained encoder | gain per seed |",
        "|---|---|---|---|",
    ]
    lines += [paired_row(n, s, ("scratch", "pretrained")) for n, s in result["summary"].items()]
    z = result["zero_shot"]
    lines += [
        "",
        f"Zero-shot from another space: TART fitted on {z['fit_nets']:,} of the generated nets to rank their "
        f"{z['target']} ({z['epochs']} epochs, {z['fit_seconds']:.0f} s; tau {z['corpus_val_kendall_tau_b']:.3f} on "
        f"held-out generated nets), never shown an NB201 net: on NB201 its scores rank the parameter counts with tau "
        f"{z['nb201_kendall_tau_b_params']:.3f} and CIFAR-10 test accuracy with tau "
        f"{z['nb201_kendall_tau_b_test_acc']:.3f} (NB201's own parameter count: "
        f"{z['nb201_params_itself_test_acc']:.3f}).",
    ]
    return "\n".join(lines)
