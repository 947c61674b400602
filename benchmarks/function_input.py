"""Does TART gain from reading every net as its NB201 function-class representative?
(`python -m benchmarks function-input [SEEDS]`)

Each net's token row is replaced by that of the representative of its function class (`tart.spaces.nb201.cell_function`:
the smallest live-op cell computing the same function, itself a net of the space), the input the `_canonical` rivals
get. Training then pools the labels of cells that build the same network and the model gives a class one prediction.
Compared, seed by seed, with the file-input fits and with their predictions averaged over function classes afterwards
(the `tart` and `tart_function` runs of the `tart_grid` report when it ran the same recipe, since CPU fits are
deterministic; else those are fit here too), and as a seed ensemble.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import distinct_sequences, grid_runs, paired_row, paired_summary
from tart.core import files, schemas
from tart.core.metrics import without_predictions
from tart.core.parallel import parallel_map
from tart.core.params import Params
from tart.spaces.nb201.cell_function import representative_cells
from tart.spaces.nb201.network import arch_ops, arch_string
from tart.training.tart_grid import (
    class_mean_runs,
    fit_score_predict,
    load_worker_tokens,
    protocol_labels,
    seed_ensembles,
)

INPUTS = ("file", "file_function", "function_input")


def representative_nets(archs: list[str]) -> np.ndarray:
    """For net k (`archs[k]`), the net whose cell is its function-class representative."""
    net_of = {arch_string(arch_ops(arch)): k for k, arch in enumerate(archs)}
    reps = [arch_string(ops) for ops in representative_cells([arch_ops(arch) for arch in archs])]
    absent = [k for k, rep in enumerate(reps) if rep not in net_of]
    if absent:
        raise ValueError(f"net {absent[0]} ({archs[absent[0]]}): its function-class representative {reps[absent[0]]} "
                         "is not among the nets; the benchmark needs whole classes (the full NB201 space)")  # fmt: skip
    return np.array([net_of[rep] for rep in reps])


def representative_tokens(tokens_dir: Path, read_as: np.ndarray, out_dir: Path) -> None:
    """Token shards in `out_dir` (one shard, same vocabulary) where net k carries the token row of net
    `read_as[k]`."""
    shards = sorted(tokens_dir.glob("tokens-*.parquet"))
    if not shards:
        raise FileNotFoundError(f"{tokens_dir}: no tokens-*.parquet; run the tokenize stage first")
    table = pa.concat_tables(pq.read_table(s) for s in shards).sort_by("net")
    nets = table["net"].to_numpy()
    if not np.array_equal(nets, np.arange(len(read_as))):
        raise ValueError(f"{tokens_dir}: expected tokens for nets 0..{len(read_as) - 1}, found {len(nets)} nets")
    remapped = table.take(pa.array(read_as)).set_column(table.schema.get_field_index("net"), "net", table["net"])
    with files.atomic_dir(out_dir) as tmp:
        files.write_table(remapped, tmp / "tokens-00000.parquet", schemas.TOKENS)
        shutil.copyfile(tokens_dir / "vocab.json", tmp / "vocab.json")


def function_input_benchmark(p: Params, sizes: list[int], seeds: list[int], workers: int = 2,
                             grid_report: Path = Path("reports/tart_grid.json")) -> dict:  # fmt: skip
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    archs = pq.read_table(p.paths.labels, columns=["net", "arch"]).sort_by("net")["arch"].to_pylist()
    read_as = representative_nets(archs)
    # nets read as one representative are one function class
    classes = {"function": np.unique(read_as, return_inverse=True)[1]}
    cfg = p.train.model_copy(update={"threads": max(1, p.train.threads // workers)})
    jobs = [(cfg, n, seed, p.split.val_size, y, test_y, transfer) for n in sizes for seed in seeds]
    known = {
        **{(*key, "file"): r for key, r in grid_runs(grid_report, p, sizes, seeds).items()},
        **{(*key, "file_function"): r for key, r in grid_runs(grid_report, p, sizes, seeds, "tart_function").items()},
    }
    missing = [job for job in jobs if any((job[1], job[2], kind) not in known for kind in INPUTS[:2])]
    refit = {(job[1], job[2]) for job in missing}
    runs = [{**r, "input": key[2], "from": "tart_grid"} for key, r in known.items() if key[:2] not in refit]
    fitted = list(parallel_map(fit_score_predict, missing, workers, load_worker_tokens, (p.paths.tokens, p.train)))
    for run in without_predictions(fitted + class_mean_runs(fitted, classes, test_y, transfer)):
        runs.append({**run, "input": "file_function" if run["predictor"] == "tart_function" else "file",
                     "from": "this benchmark"})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        rep_dir = Path(tmp) / "tokens"
        representative_tokens(p.paths.tokens, read_as, rep_dir)
        counts = {"file": distinct_sequences(p.paths.tokens), "function_input": distinct_sequences(rep_dir)}
        rep_runs = []
        for run in parallel_map(fit_score_predict, jobs, workers, load_worker_tokens, (rep_dir, p.train)):
            rep_runs.append(run)
            print(f"n={run['n_train']} seed={run['seed']} function input: tau {run['kendall_tau_b']:.4f}", flush=True)
    runs += [{**r, "input": "function_input", "from": "this benchmark"} for r in without_predictions(rep_runs)]
    ensembles = without_predictions(seed_ensembles(rep_runs, test_y, transfer))
    tau = {(r["n_train"], r["seed"], r["input"]): r["kendall_tau_b"] for r in runs}
    over_file = paired_summary(tau, sizes, seeds, "file", "function_input")
    over_mean = paired_summary(tau, sizes, seeds, "file_function", "function_input")
    grid_ensembles = grid_runs(grid_report, p, sizes, [None], "tart_ensemble_function")
    summary = {n: {"file": over_file[n]["file"], "file_function": over_mean[n]["file_function"],
                   "function_input": over_file[n]["function_input"],
                   "gain_over_file": over_file[n]["gain_per_seed"],
                   "gain_over_file_function": over_mean[n]["gain_per_seed"],
                   "ensemble_function_input": next(e["kendall_tau_b"] for e in ensembles if str(e["n_train"]) == n)
                   if len(seeds) > 1 else None,
                   "ensemble_file_function": grid_ensembles[int(n), None]["kendall_tau_b"]
                   if (int(n), None) in grid_ensembles else None}
               for n in over_file}  # fmt: skip
    return {"test_label": p.evaluate.test_label, "seeds": seeds, "distinct_sequences": counts,
            "function_classes": int(classes["function"].max() + 1), "threads_per_fit": cfg.threads,
            "workers": workers, "summary": summary, "ensembles": ensembles,
            "runs": sorted(runs, key=lambda r: (r["n_train"], r["seed"], r["input"]))}  # fmt: skip


def function_input_markdown(result: dict) -> str:
    counts = result["distinct_sequences"]
    lines = [
        f"TART reading each net as itself (file input) or as its function-class representative (seeds "
        f"{result['seeds']}; Kendall tau-b against `{result['test_label']}` over all nets). Distinct token sequences "
        f"among the nets: {counts['file']:,} as written, {counts['function_input']:,} as representatives "
        f"({result['function_classes']:,} function classes).",
        "",
        "| training nets | file input | file input, function-class mean | representative input | gain per seed over "
        "file input | over the class mean | seed ensembles: class mean, representative input |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, s in result["summary"].items():
        ens = " / ".join("-" if s[k] is None else f"{s[k]:.4f}"
                         for k in ("ensemble_file_function", "ensemble_function_input"))  # fmt: skip
        arms, gains = ("file", "file_function", "function_input"), ("gain_over_file", "gain_over_file_function")
        lines.append(f"{paired_row(n, s, arms, gains)} {ens} |")
    return "\n".join(lines)
