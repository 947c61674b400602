"""The DeepNets-1M property-prediction protocol (Knyazev et al., NeurIPS 2021), as a pipeline profile.

Fit on the 500 `val` nets of the published eval file, report Kendall tau-b on the 500 `test` nets, for the
properties `val_acc`, `val_acc_noise`, `time` and `converge_time` (labels: `results_cifar10.json`), mean and std
over seeds. Predictors: TART (a holdout of the fit nets picks its best epoch), the reference-style baseline (an
RBF SVR, grid over C / gamma / epsilon with 5-fold CV, on a mean-pooled graph representation: mean one-hot
primitive and mean in/out degree over nodes, plus log node count), and the parameter count (no fitting).

The published graphs cannot be fetched on the machines this project is tested on: a missing file gets one error
that says what to download and where to point `params.yaml`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from tart.core.metrics import kendall_tau_b
from tart.core.params import DeepNets1MProtocol
from tart.graphs.primitives import PRIMITIVES
from tart.io.deepnets1m import read_results_labels
from tart.io.extract import extract
from tart.tokens.token_set import TokenSet, load_tokens
from tart.tokens.tokenize import tokenize
from tart.training.train import fit, predict

PUBLISHED = {
    "deepnets1m_eval.hdf5": ("https://dl.fbaipublicfiles.com/deepnets1m/deepnets1m_eval.hdf5", "16 MB",
                             "1f5641329271583ad068f43e1521517e"),
    "deepnets1m_meta.tar.gz": ("https://dl.fbaipublicfiles.com/deepnets1m/deepnets1m_meta.tar.gz", "35 MB",
                               "a42b6f513da6bbe493fc16a30d6d4e3e"),
}  # fmt: skip


class MissingPublishedFile(FileNotFoundError):
    """The published DeepNets-1M eval file (or its meta) is not where params.yaml says."""


def download_help() -> str:
    lines = [f"  {name} ({size}, md5 {md5}): {url}" for name, (url, size, md5) in PUBLISHED.items()]
    return (
        "Download\n" + "\n".join(lines) + "\nextract deepnets1m_eval_meta.json from the tarball "
        "(tar -xzf deepnets1m_meta.tar.gz), and set deepnets1m_protocol.eval_h5 and deepnets1m_protocol.eval_meta "
        "in params.yaml to the two files."
    )


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def require_inputs(cfg: DeepNets1MProtocol) -> tuple[Path, Path, Path]:
    """(eval HDF5, eval meta, labels), or one error saying what is missing and how to get it."""
    for key, path in (("eval_h5", cfg.eval_h5), ("eval_meta", cfg.eval_meta)):
        if path is None or not Path(path).is_file():
            where = "is not set" if path is None else f"is {path}, which does not exist"
            raise MissingPublishedFile(f"deepnets1m_protocol.{key} {where}. {download_help()}")
    if cfg.eval_md5 is not None and md5sum(cfg.eval_h5) != cfg.eval_md5:
        raise MissingPublishedFile(
            f"{cfg.eval_h5}: md5 {md5sum(cfg.eval_h5)} is not the published {cfg.eval_md5} (a partial download, "
            f"or another file). {download_help()}"
        )
    if not Path(cfg.labels).is_file():
        raise FileNotFoundError(f"{cfg.labels}: results JSON not found (run `tart fetch`, or set "
                                "deepnets1m_protocol.labels)")  # fmt: skip
    return Path(cfg.eval_h5), Path(cfg.eval_meta), Path(cfg.labels)


@dataclass
class SplitData:
    tokens: TokenSet
    pooled: np.ndarray  # (N, F) mean-pooled graph representation
    labels: dict[str, np.ndarray]  # property -> (N,)
    params: np.ndarray  # (N,)


def pooled_features(graphs_dir: Path) -> np.ndarray:
    """Mean one-hot primitive, mean in- and out-degree over nodes, log node count: one row per net."""
    table = pa.concat_tables(pq.read_table(s) for s in sorted(graphs_dir.glob("graphs-*.parquet")))
    rows = []
    for prims, src, dst, n in zip(*(table[c].to_pylist() for c in ("primitives", "edge_src", "edge_dst",
                                                                   "num_nodes"))):  # fmt: skip
        onehot = np.bincount(prims, minlength=len(PRIMITIVES)) / n
        rows.append([*onehot, len(src) / n, len(dst) / n, np.log(n)])
    return np.array(rows)


def load_split(h5: Path, meta: Path, split: str, labels: dict, cfg: DeepNets1MProtocol, work: Path) -> SplitData:
    graphs, tokens = work / f"graphs-{split}", work / f"tokens-{split}"
    count = extract(h5, meta, split, graphs, cfg.repair, 5000, workers=1)["nets"]
    tokenize(graphs, tokens, workers=1)
    values: dict[str, list] = {p: [] for p in (*cfg.properties, "params")}
    for net in range(count):
        props = labels.get((split, net))
        for p in values:
            value = None if props is None else props.get(p)
            if value is None:
                raise KeyError(f"{cfg.labels}: no {p!r} for {split}/{net}; every {split} net needs every property")
            values[p].append(float(value))
    token_set = load_tokens(tokens, tuple(cfg.train.channels), cfg.train.graph_pe, cfg.train.pe_dim)
    return SplitData(token_set, pooled_features(graphs), {p: np.array(values[p]) for p in cfg.properties},
                     np.array(values["params"]))  # fmt: skip


def svr_tau(fit_x: np.ndarray, fit_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
            cfg: DeepNets1MProtocol, seed: int) -> float:  # fmt: skip
    grid = {"svr__C": cfg.svr_c, "svr__gamma": cfg.svr_gamma, "svr__epsilon": cfg.svr_epsilon}
    search = GridSearchCV(make_pipeline(StandardScaler(), SVR(kernel="rbf")), grid,
                          cv=KFold(cfg.svr_folds, shuffle=True, random_state=seed))  # fmt: skip
    mean, std = fit_y.mean(), fit_y.std() or 1.0
    search.fit(fit_x, (fit_y - mean) / std)
    return kendall_tau_b(search.predict(test_x), test_y)


def _joined(a: TokenSet, b: TokenSet) -> TokenSet:
    """Both splits in one padded tensor (rows of `a`, then rows of `b`), as `fit` wants one token set."""
    length = max(a.ids.shape[1], b.ids.shape[1])

    def joined(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # pad nodes (dim 1) and features (dim 2)
        width = max(x.shape[2], y.shape[2])
        pad = lambda t: torch.nn.functional.pad(t, (0, width - t.shape[2], 0, length - t.shape[1]))  # noqa: E731
        return torch.cat([pad(x), pad(y)])

    nets = np.concatenate([a.nets, b.nets + len(a.nets)])
    graph = None if a.graph is None else joined(a.graph, b.graph)
    return TokenSet(nets, joined(a.ids, b.ids), torch.cat([a.lengths, b.lengths]), a.channels, a.vocab, graph,
                    a.graph_pe)  # fmt: skip


def tart_tau(fit_split: SplitData, test_split: SplitData, prop: str, cfg: DeepNets1MProtocol, seed: int) -> float:
    tokens = _joined(fit_split.tokens, test_split.tokens)
    n_fit = len(fit_split.tokens.nets)
    order = np.random.default_rng(seed).permutation(n_fit)
    hold, train = order[: cfg.holdout], order[cfg.holdout :]
    y = fit_split.labels[prop]
    model, _, _ = fit(cfg.train.model_copy(update={"seed": seed}), tokens, train, y[train], hold, y[hold])
    test_rows = np.arange(n_fit, n_fit + len(test_split.tokens.nets))
    return kendall_tau_b(predict(model, tokens, test_rows), test_split.labels[prop])


def run_protocol(cfg: DeepNets1MProtocol, work: Path) -> dict:
    h5, meta, labels_path = require_inputs(cfg)
    labels = {(r["split"], r["net"]): r for r in read_results_labels(labels_path)}
    fit_split = load_split(h5, meta, cfg.fit_split, labels, cfg, work)
    test_split = load_split(h5, meta, cfg.test_split, labels, cfg, work)
    results: dict = {}
    for prop in cfg.properties:
        y_test = test_split.labels[prop]
        runs = {"tart": [tart_tau(fit_split, test_split, prop, cfg, s) for s in cfg.seeds],
                "svr_mean_pooled": [svr_tau(fit_split.pooled, fit_split.labels[prop], test_split.pooled, y_test, cfg,
                                            s) for s in cfg.seeds]}  # fmt: skip
        results[prop] = {name: {"kendall_tau_b_mean": float(np.mean(v)), "kendall_tau_b_std": float(np.std(v)),
                                "per_seed": v} for name, v in runs.items()}  # fmt: skip
        results[prop]["params"] = {"kendall_tau_b_mean": kendall_tau_b(test_split.params.astype(float), y_test),
                                   "kendall_tau_b_std": 0.0}  # fmt: skip
    return {"fit_split": cfg.fit_split, "test_split": cfg.test_split, "fit_nets": len(fit_split.tokens.nets),
            "test_nets": len(test_split.tokens.nets), "seeds": list(cfg.seeds), "results": results}  # fmt: skip


def protocol_markdown(result: dict) -> str:
    names = {"tart": "TART", "svr_mean_pooled": "RBF SVR, mean-pooled graph", "params": "parameter count"}
    props = list(result["results"])
    rows = ["| predictor | " + " | ".join(props) + " |", "|---" * (len(props) + 1) + "|"]
    for key, label in names.items():
        runs = [result["results"][p][key] for p in props]
        cells = [f"{r['kendall_tau_b_mean']:.3f} ± {r['kendall_tau_b_std']:.3f}" for r in runs]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
