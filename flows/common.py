"""What every stage flow shares: the params file, the provenance record, and the lines a stage prints."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tart.core import provenance
from tart.core.params import Params, load_params


def params() -> Params:
    """The stage's settings: $TART_PARAMS or params.yaml (`tart.core.params.load_params`)."""
    return load_params()


def say(message: str) -> None:
    """One progress line on stderr. Prefect's own records stay at WARNING (flows/__init__.py): a stage shows what it
    does, its bars and its result, not the orchestration."""
    print(message, file=sys.stderr, flush=True)


def grid(section) -> str:
    """How many fits a cell-model grid stage runs: "3 cell inputs x 5 sizes x 5 seeds = 75 fits of 150 epochs"."""
    inputs, sizes, seeds = len(section.cell_inputs), len(section.train_sizes), len(section.seeds)
    return (f"{inputs} cell inputs x {sizes} sizes x {seeds} seeds = {inputs * sizes * seeds} fits of "
            f"{section.epochs} epochs, {section.workers} at a time")  # fmt: skip


@contextmanager
def recorded(stage: str, p: Params, what: str, **facts: object) -> Iterator[dict]:
    """Say what the stage does (and how long its last run here took), time it, write its provenance file (not
    tracked by DVC) when it succeeds, and end with one line: the `result` the flow put in the yielded dict."""
    last = provenance.last_seconds(stage, p.paths.reports / "provenance")
    say(f"{stage}: {what}" + (f" (last run here: {last:,.0f} s)" if last is not None else ""))
    extra: dict = dict(facts)
    start = time.perf_counter()
    yield extra
    seconds = time.perf_counter() - start
    result = extra.pop("result", "done")
    provenance.record(stage, seconds, p.paths.reports / "provenance", **extra)
    say(f"{stage}: {result} ({seconds:,.0f} s)")
