"""Compare two `metrics.json` results and decide whether a change is beyond bootstrap noise."""

from __future__ import annotations

import math
from dataclasses import dataclass

CI_SUFFIX = "_ci95"
LOWER_IS_BETTER = ("mae",)
DIGITS = 4  # reports show values to 4 decimals; a difference below that is not called a change

VERDICT_TEXT = {
    "better": "better beyond noise",
    "worse": "worse beyond noise",
    "noise": "unchanged within noise",
    "identical": "identical",
    "changed": "changed (no interval to judge by)",
    "below_shown": f"differs below {10**-DIGITS:g} (no interval)",
    "new": "new",
    "removed": "removed",
}


@dataclass(frozen=True)
class Change:
    metric: str  # dotted path, e.g. test_all.kendall_tau_b
    old: float | str | None
    new: float | str | None
    old_ci: tuple[float, float] | None
    new_ci: tuple[float, float] | None
    verdict: str  # a key of VERDICT_TEXT

    @property
    def delta(self) -> float | None:
        numeric = isinstance(self.old, int | float) and isinstance(self.new, int | float)
        return self.new - self.old if numeric else None


def flatten(metrics: dict, prefix: str = "") -> dict[str, tuple[object, tuple[float, float] | None]]:
    """Dotted metric name -> (value, 95% interval or None); `X_ci95` lists attach to their `X`."""
    flat: dict[str, tuple[object, tuple[float, float] | None]] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif not key.endswith(CI_SUFFIX):
            ci = metrics.get(key + CI_SUFFIX)
            flat[name] = (value, (float(ci[0]), float(ci[1])) if ci else None)
    return flat


def _verdict(metric: str, old: object, new: object, old_ci, new_ci) -> str:
    if old == new:
        return "identical"
    numeric = all(isinstance(v, int | float) and math.isfinite(v) for v in (old, new))
    if not (numeric and old_ci and new_ci):
        # without intervals only the size of the change can be told; one hidden by rounding is not reported as one
        small = numeric and isinstance(old, float) and abs(new - old) < 0.5 * 10**-DIGITS
        return "below_shown" if small else "changed"
    # Beyond noise only when each point lies outside the other run's 95% bootstrap interval.
    if old_ci[0] <= new <= old_ci[1] or new_ci[0] <= old <= new_ci[1]:
        return "noise"
    higher_is_better = not metric.rsplit(".", 1)[-1].startswith(LOWER_IS_BETTER)
    return "better" if (new > old) == higher_is_better else "worse"


def compare(old: dict | None, new: dict) -> list[Change]:
    """One Change per metric present in either result (old None: the first results)."""
    old_flat, new_flat = flatten(old or {}), flatten(new)
    changes = []
    for metric in [*new_flat, *(m for m in old_flat if m not in new_flat)]:
        if metric not in old_flat:
            value, ci = new_flat[metric]
            changes.append(Change(metric, None, value, None, ci, "new"))
        elif metric not in new_flat:
            value, ci = old_flat[metric]
            changes.append(Change(metric, value, None, ci, None, "removed"))
        else:
            (a, a_ci), (b, b_ci) = old_flat[metric], new_flat[metric]
            changes.append(Change(metric, a, b, a_ci, b_ci, _verdict(metric, a, b, a_ci, b_ci)))
    return changes


def overall(changes: list[Change], primary: str) -> str:
    """The verdict of the primary metric, which decides whether a retraining run helped."""
    for change in changes:
        if change.metric == primary:
            return change.verdict
    known = ", ".join(c.metric for c in changes)
    raise KeyError(f"primary metric {primary!r} not in the results (have: {known})")


def _fmt(value: object, ci: tuple[float, float] | None = None, between: str = " ") -> str:
    if value is None:
        return "-"
    text = f"{value:.{DIGITS}f}" if isinstance(value, float) else str(value)
    return f"{text}{between}[{ci[0]:.{DIGITS}f}, {ci[1]:.{DIGITS}f}]" if ci else text


def _delta(change: Change) -> str:
    d = change.delta
    if d is None:
        return ""
    if isinstance(d, int):
        return f"{d:+d}"
    return f"{d:+.1e}" if 0 < abs(d) < 0.5 * 10**-DIGITS else f"{d:+.{DIGITS}f}"  # never a "+0.0000" change


def rows(changes: list[Change], between: str = " ") -> list[list[str]]:
    """Metric, old (interval), new (interval), delta, verdict: one list of strings per metric; `between` separates
    a value from its interval ("\n" stacks them for a narrow terminal)."""
    return [[c.metric, _fmt(c.old, c.old_ci, between), _fmt(c.new, c.new_ci, between), _delta(c),
             VERDICT_TEXT[c.verdict]] for c in changes]  # fmt: skip


def markdown(changes: list[Change], old_label: str, new_label: str, primary: str) -> str:
    """A Markdown report: the verdict line, then the table."""
    verdict = overall(changes, primary)
    lines = [
        f"**Verdict: {VERDICT_TEXT[verdict]}** ({primary}, {old_label} -> {new_label}; "
        "beyond noise = each value outside the other's 95% bootstrap interval)",
        "",
        f"| metric | {old_label} | {new_label} | delta | verdict |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows(changes)]
    return "\n".join(lines) + "\n"


def stacked(changes: list[Change], old_label: str, new_label: str) -> str:
    """A plain-text report for a narrow terminal (fits 80 columns whatever the metric names): per metric, its full
    name and verdict, then old and new values with their intervals and the change."""
    lines = [f"old = {old_label}, new = {new_label}; [95% bootstrap interval]", ""]
    for c in changes:
        lines.append(f"{c.metric}: {VERDICT_TEXT[c.verdict]}")
        delta = _delta(c)
        lines.append(f"  old {_fmt(c.old, c.old_ci)}  new {_fmt(c.new, c.new_ci)}" + (f"  {delta}" if delta else ""))
    return "\n".join(lines) + "\n"
