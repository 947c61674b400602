"""What every stage flow shares: the params file and the provenance record."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tart import provenance
from tart.params import Params, load_params

PARAMS_FILE = Path(os.environ.get("TART_PARAMS", "params.yaml"))


def params() -> Params:
    return load_params(PARAMS_FILE)


@contextmanager
def recorded(stage: str, p: Params, **facts: object) -> Iterator[dict]:
    """Time the stage and write its provenance file (not tracked by DVC) when it succeeds."""
    extra: dict = dict(facts)
    start = time.perf_counter()
    yield extra
    provenance.record(stage, time.perf_counter() - start, p.paths.reports / "provenance", **extra)
