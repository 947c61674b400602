"""The `package` stage: ship the pipeline's checkpoint with the package.

Copies the checkpoint and writes its card with what a user of the shipped model needs without the repository: the
data and label it was trained on, the pipeline's scores, the code commit, the SHA-256 of the weights, and the
training profile (`tart/app/distribution.py`) with the training nets' embeddings in a file beside it. The profile is
calibrated on the NB201 nets the model was not trained on: the share of them that `assess` calls outside is
recorded, so a reader can tell how often the warning fires inside the training space.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from tart.app.checkpoints import CHECKPOINT_NAME, EMBEDDINGS_NAME
from tart.app.distribution import assess, profile
from tart.core.files import atomic_path, write_text
from tart.core.provenance import code_commit
from tart.io.fetch import sha256_of
from tart.tokens.token_set import load_tokens, rows_of
from tart.training.checkpoint import card_path, load_checkpoint


def _scores(metrics: dict) -> dict:
    """The headline numbers of the evaluate stage's metrics file."""
    keep = ("n", "kendall_tau_b", "kendall_tau_b_ci95", "spearman_rho")
    return {
        "test_label": metrics["test_label"],
        **{part: {k: metrics[part][k] for k in keep} for part in ("test_all", "test_remainder")},
    }


def package(checkpoint: Path, tokens_dir: Path, split: Path, metrics_file: Path, out_dir: Path) -> dict:
    """Write `out_dir/tart.pt`, its card and the training embeddings; returns the card."""
    model, card = load_checkpoint(checkpoint)
    ts = load_tokens(tokens_dir, tuple(card["channels"]), model.cfg.graph_pe, model.cfg.pe_dim)
    roles = pq.read_table(split, columns=["net", "role"]).to_pydict()
    train_nets = np.array([n for n, r in zip(roles["net"], roles["role"]) if r == "train"])
    train_rows = rows_of(ts, train_nets)
    found = profile(model, ts, train_rows)
    others = np.setdiff1d(np.arange(len(ts.nets)), train_rows)
    outside_share = float(assess(found, model, ts.select(others)).outside.mean()) if len(others) else None
    facts = found.facts()
    facts.update(embeddings=EMBEDDINGS_NAME, outside_share_of_untrained_nets=outside_share,
                 untrained_nets=int(len(others)))  # fmt: skip
    packaged = {
        **card,
        "weights_sha256": sha256_of(checkpoint),
        "code_commit": code_commit(),
        "training": {
            "data": "NAS-Bench-201 in the DeepNets-1M layout (tokens of the pipeline's tokenize stage)",
            "label": card["params"]["target"],
            "nets": int(len(train_nets)),
            "validation_nets": int(sum(r == "val" for r in roles["role"])),
        },
        "scores": _scores(json.loads(metrics_file.read_text())),
        "profile": facts,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / CHECKPOINT_NAME
    with atomic_path(target) as tmp:
        shutil.copyfile(checkpoint, tmp)
    with atomic_path(out_dir / EMBEDDINGS_NAME) as tmp, tmp.open("wb") as f:
        np.save(f, found.embeddings.astype(np.float32))
    write_text(card_path(target), json.dumps(packaged, indent=2, sort_keys=True) + "\n")
    return packaged
