"""One full rebuild from an empty cache, per revision: `python -m benchmarks full-repro [REV ...]`.

Each revision (default: HEAD) is checked out into a fresh temporary clone with its own empty DVC cache, and
`dvc repro` runs there as a user would run it after cloning: every stage, fetch first. A stage's wall seconds run
from DVC's "Running stage" line to the next stage's (so they include DVC's and Prefect's start-up); the total is the
whole command. Revisions run one after another on the same machine, so their ratio is the figure to quote (shared
machines are noisy). `--params FILE` replaces params.yaml in every clone (the tests use the tiny profile).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tart.core.provenance import cpu_model

STAGE_LINE = re.compile(r"^Running stage '([^']+)'")
SKIPPED_LINE = re.compile(r"^Stage '([^']+)' didn't change, skipping")


class ReproError(RuntimeError):
    """A clone or a `dvc repro` that failed; the message holds the end of its output."""


def _git(args: list[str], cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise ReproError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


def timed_repro(work: Path, env: dict) -> dict:
    """Run `dvc repro` in `work`, reading its output as it comes: seconds per stage and in all."""
    start = time.perf_counter()
    stages: dict[str, float] = {}
    current, since, tail = None, start, []
    proc = subprocess.Popen([sys.executable, "-m", "dvc", "repro"], cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)  # fmt: skip
    for line in proc.stdout:
        now = time.perf_counter()
        tail = [*tail[-40:], line.rstrip()]
        match = STAGE_LINE.match(line) or SKIPPED_LINE.match(line)
        if match:
            if current is not None:
                stages[current] = round(now - since, 1)
            current, since = (match.group(1), now) if STAGE_LINE.match(line) else (None, now)
    proc.wait()
    end = time.perf_counter()
    if proc.returncode != 0:
        raise ReproError(f"dvc repro failed in {work} (exit {proc.returncode}):\n" + "\n".join(tail))
    if current is not None:
        stages[current] = round(end - since, 1)
    return {"stages": stages, "total_seconds": round(end - start, 1)}


def full_repro(revs: list[str], repo: Path = Path("."), params: Path | None = None, keep: Path | None = None) -> dict:
    """Time one full `dvc repro` from an empty cache at each of `revs`; `keep` (a directory) keeps the clones."""
    runs = []
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    for rev in revs:
        commit = _git(["rev-parse", "--verify", f"{rev}^{{commit}}"], repo)
        parent = Path(tempfile.mkdtemp(prefix="tart-full-repro-", dir=keep))
        work = parent / "repo"
        _git(["clone", "-q", str(repo.resolve()), str(work)], parent)
        _git(["checkout", "-q", commit], work)
        if params is not None:
            shutil.copy(params, work / "params.yaml")
        subprocess.run([sys.executable, "-m", "dvc", "cache", "dir", "--local", str(parent / "cache")], cwd=work,
                       env=env, check=True, capture_output=True)  # fmt: skip
        print(f"full-repro: {rev} ({commit[:10]}) in {work}", file=sys.stderr, flush=True)
        try:
            timing = timed_repro(work, {**env, "PREFECT_HOME": str(parent / "prefect")})
        finally:
            if keep is None:
                shutil.rmtree(parent, ignore_errors=True)
        runs.append({"rev": rev, "commit": commit, **timing})
        print(f"full-repro: {rev}: {timing['total_seconds']:,.0f} s", file=sys.stderr, flush=True)
    result = {"cpu_model": cpu_model(), "cpus": os.cpu_count(), "params": str(params) if params else "params.yaml",
              "runs": runs}  # fmt: skip
    if len(runs) > 1:
        result["ratio_first_to_last"] = round(runs[0]["total_seconds"] / runs[-1]["total_seconds"], 3)
    return result


def full_repro_markdown(result: dict) -> str:
    runs = result["runs"]
    names = list(dict.fromkeys(name for run in runs for name in run["stages"]))
    header = " | ".join(f"{run['rev']} ({run['commit'][:7]})" for run in runs)
    lines = [
        f"One `dvc repro` from an empty cache per revision, back to back on {result['cpus']} cores "
        f"({result['cpu_model']}), settings {result['params']}. Stage seconds include DVC's and Prefect's start-up.",
        "",
        f"| stage | {header} |",
        "|---|" + "---|" * len(runs),
    ]
    for name in names:
        cells = " | ".join(f"{run['stages'][name]:,.0f}" if name in run["stages"] else "-" for run in runs)
        lines.append(f"| {name} | {cells} |")
    lines.append("| **total** | " + " | ".join(f"**{run['total_seconds']:,.0f}**" for run in runs) + " |")
    if "ratio_first_to_last" in result:
        lines += ["", f"First revision / last: {result['ratio_first_to_last']:.2f}x the wall time."]
    return "\n".join(lines)
