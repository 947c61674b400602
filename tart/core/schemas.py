"""Every Parquet schema of the pipeline (written through `tart.core.files.write_table`)."""

from __future__ import annotations

import pyarrow as pa

LABELS = pa.schema(
    [
        ("net", pa.int32()),
        ("arch", pa.string()),
        ("cifar10_valid_val_acc", pa.float64()),
        ("cifar10_test_acc", pa.float64()),
        ("cifar100_test_acc", pa.float64()),
        ("imagenet16_test_acc", pa.float64()),
        ("params", pa.int64()),
    ]
)

NODE_SHAPES = pa.schema([("net", pa.int32()), ("shapes", pa.list_(pa.list_(pa.int32())))])

GRAPHS = pa.schema(
    [
        ("net", pa.int32()),
        ("split", pa.string()),
        ("num_nodes", pa.int32()),
        ("primitives", pa.list_(pa.uint8())),  # canonical ids, file order
        ("cells", pa.list_(pa.int16())),
        ("name_ids", pa.list_(pa.int32())),
        ("edge_src", pa.list_(pa.int32())),
        ("edge_dst", pa.list_(pa.int32())),
        ("shapes", pa.list_(pa.list_(pa.int32()))),  # empty lists where the source has no shapes
        ("misaligned", pa.bool_()),
    ]
)

TOKENS = pa.schema(
    [
        ("net", pa.int32()),
        ("split", pa.string()),
        ("length", pa.int32()),
        ("tokens", pa.list_(pa.int16())),  # primitive token ids (vocab "tokens")
        ("shape_tokens", pa.list_(pa.int16())),  # parameter-shape token ids (vocab "shape_tokens")
        ("cells", pa.list_(pa.int16())),
        ("cell_tokens", pa.list_(pa.int16())),  # cell index ids (vocab "cell_tokens")
        ("near_tokens", pa.list_(pa.int16())),  # nearest-predecessor offset ids (vocab "offset_tokens")
        ("far_tokens", pa.list_(pa.int16())),  # farthest-predecessor offset ids
        ("edge_src", pa.list_(pa.int16())),  # the graph's edges, for the graph positional encodings
        ("edge_dst", pa.list_(pa.int16())),
    ]
)

SPLIT = pa.schema([("net", pa.int32()), ("role", pa.string())])

PREDICTIONS = pa.schema(
    [
        ("net", pa.int32()),
        ("role", pa.string()),
        ("prediction", pa.float64()),
        ("target", pa.float64()),
    ]
)

# Zero-cost proxy scores of sampled NB201 nets (tart/baselines/proxies.py); -inf marks a degenerate network.
PROXY_SCORES = pa.schema(
    [("net", pa.int32()), ("arch", pa.string())]
    + [(name, pa.float64()) for name in ("synflow", "snip", "grad_norm", "jacob_cov", "naswot", "seconds")]
)
