"""What every stage flow shares: the params file and the provenance record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from tart.core import provenance
from tart.core.params import Params, load_params


def params() -> Params:
    """The stage's settings: $TART_PARAMS or params.yaml (`tart.core.params.load_params`)."""
    return load_params()


@contextmanager
def recorded(stage: str, p: Params, **facts: object) -> Iterator[dict]:
    """Time the stage and write its provenance file (not tracked by DVC) when it succeeds."""
    extra: dict = dict(facts)
    start = time.perf_counter()
    yield extra
    provenance.record(stage, time.perf_counter() - start, p.paths.reports / "provenance", **extra)
