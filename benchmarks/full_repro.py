"""One full rebuild from an empty cache, per revision: `python -m benchmarks full-repro [REV ...]`.

Each revision (default: HEAD) is checked out into a fresh clone with its own empty DVC cache, and `dvc repro` runs
there as a user would run it after cloning: every stage, fetch first. A stage's wall seconds run from DVC's
"Running stage" line to the next stage's (so they include DVC's and Prefect's start-up); the total is the wall time
of the `dvc repro` command. Revisions run one after another on the same machine, so their ratio is the figure to
quote (shared machines are noisy). `--params FILE` replaces params.yaml in every clone (the tests use the tiny
profile).

A rebuild of the default pipeline takes hours on a small machine, longer than one sitting may last, so the work
survives an interruption (`kill -9` included): each revision's clone, cache and timings live under
`.tart/full_repro/` (ignored by git), the timings written as they are measured. Running the same command again
continues every unfinished revision with `dvc repro` in its clone: finished stages are skipped, a stage cut off
part-way resumes from its saved training state, and its seconds before and after the interruption are added. The
result says how many `dvc repro` commands each revision took. A finished revision's clone is removed (its timings
are kept until every revision is done), so a later call measures it again only if asked to.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tart.core.files import write_json
from tart.core.provenance import cpu_model

STAGE_LINE = re.compile(r"^Running stage '([^']+)'")
SKIPPED_LINE = re.compile(r"^Stage '([^']+)' didn't change, skipping")
STATE_DIR = Path(".tart/full_repro")  # clones and timings of unfinished revisions (ignored by git)
SAVE_EVERY_S = 30.0  # how often a running stage's seconds so far are written down


class ReproError(RuntimeError):
    """A clone or a `dvc repro` that failed; the message holds the end of its output."""


def _git(args: list[str], cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise ReproError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


def timed_repro(work: Path, env: dict, on_progress: Callable[[dict], None] | None = None,
                command: list[str] | None = None) -> dict:  # fmt: skip
    """Run `dvc repro` (or `command`) in `work`, reading its output as it comes: seconds per stage and in all.
    `on_progress` gets the timings so far (the running stage's seconds included) at each stage boundary and every
    `SAVE_EVERY_S` seconds of output, so a killed run leaves what it had measured."""
    start = time.perf_counter()
    stages: dict[str, float] = {}
    current, since, tail, saved = None, start, [], start

    def snapshot(now: float) -> dict:
        running = {current: round(now - since, 1)} if current is not None else {}
        return {"stages": {**stages, **running}, "total_seconds": round(now - start, 1)}

    proc = subprocess.Popen(command or [sys.executable, "-m", "dvc", "repro"], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)  # fmt: skip
    for line in proc.stdout:
        now = time.perf_counter()
        tail = [*tail[-40:], line.rstrip()]
        match = STAGE_LINE.match(line) or SKIPPED_LINE.match(line)
        if match:
            if current is not None:
                stages[current] = round(now - since, 1)
            current, since = (match.group(1), now) if STAGE_LINE.match(line) else (None, now)
        if on_progress is not None and (match or now - saved >= SAVE_EVERY_S):
            on_progress(snapshot(now))
            saved = now
    proc.wait()
    end = time.perf_counter()
    if proc.returncode != 0:
        raise ReproError(f"dvc repro failed in {work} (exit {proc.returncode}):\n" + "\n".join(tail))
    if current is not None:
        stages[current] = round(end - since, 1)
    current = None
    return snapshot(end)


def add_timings(before: dict, after: dict) -> dict:
    """The timings of two `dvc repro` commands on one clone, the second continuing the first: a stage the first
    was cut off in appears in both, and its seconds add up."""
    stages = dict(before["stages"])
    for name, seconds in after["stages"].items():
        stages[name] = round(stages.get(name, 0.0) + seconds, 1)
    return {"stages": stages, "total_seconds": round(before["total_seconds"] + after["total_seconds"], 1)}


def _run_dir(state_dir: Path, commit: str, params: Path | None) -> Path:
    # one directory per (commit, settings): another params file is another measurement
    settings = hashlib.sha256(params.read_bytes()).hexdigest()[:8] if params is not None else "params.yaml"
    return state_dir / f"{commit[:12]}-{settings}"


def _start_clone(repo: Path, commit: str, run_dir: Path, params: Path | None, env: dict) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)  # a clone cut off before its first timing: start it again
    run_dir.mkdir(parents=True)
    work = run_dir / "repo"
    _git(["clone", "-q", str(repo.resolve()), str(work)], run_dir)
    _git(["checkout", "-q", commit], work)
    if params is not None:
        shutil.copy(params, work / "params.yaml")
    subprocess.run([sys.executable, "-m", "dvc", "cache", "dir", "--local", str(run_dir / "cache")], cwd=work,
                   env=env, check=True, capture_output=True)  # fmt: skip


def measure(repo: Path, rev: str, commit: str, run_dir: Path, params: Path | None, env: dict,
            command: list[str] | None = None) -> dict:  # fmt: skip
    """One revision's full rebuild, continued from what `run_dir` holds; its run record once every stage ran."""
    progress_file = run_dir / "progress.json"
    progress = json.loads(progress_file.read_text()) if progress_file.exists() else None
    if progress is not None and progress.get("done"):
        print(f"full-repro: {rev} ({commit[:10]}) already measured", file=sys.stderr, flush=True)
        return progress["run"]
    if progress is not None and not (run_dir / "repo").is_dir():
        raise ReproError(f"{run_dir}: the timings of an unfinished rebuild but not its clone; delete {run_dir} "
                         "to measure that revision again from the start")  # fmt: skip
    if progress is None:
        _start_clone(repo, commit, run_dir, params, env)
        progress = {"commit": commit, "commands": 0, "timing": {"stages": {}, "total_seconds": 0.0}}
    earlier, commands = progress["timing"], progress["commands"] + 1
    work = run_dir / "repo"
    verb = "continuing" if commands > 1 else "starting"
    print(f"full-repro: {verb} {rev} ({commit[:10]}) in {work}", file=sys.stderr, flush=True)

    def save(timing: dict, done: bool = False) -> None:
        record = {**progress, "commands": commands, "timing": add_timings(earlier, timing), "done": done}
        if done:
            record["run"] = {"rev": rev, "commit": commit, **record["timing"], "repro_commands": commands}
        write_json(record, progress_file)

    timing = timed_repro(work, {**env, "PREFECT_HOME": str(run_dir / "prefect")}, save, command)
    save(timing, done=True)
    shutil.rmtree(work, ignore_errors=True)  # the clone and its cache are GBs; the timings stay
    shutil.rmtree(run_dir / "cache", ignore_errors=True)
    return json.loads(progress_file.read_text())["run"]


def full_repro(revs: list[str], repo: Path = Path("."), params: Path | None = None,
               state_dir: Path = STATE_DIR) -> dict:  # fmt: skip
    """Time one full `dvc repro` from an empty cache at each of `revs`, continuing any that an earlier call left
    unfinished (see the module's docstring); the state of a revision is removed once all of `revs` are done."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    commits = [_git(["rev-parse", "--verify", f"{rev}^{{commit}}"], repo) for rev in revs]
    runs, dirs = [], []
    for rev, commit in zip(revs, commits):
        dirs.append(_run_dir(state_dir, commit, params))
        runs.append(measure(repo, rev, commit, dirs[-1], params, env))
        print(f"full-repro: {rev}: {runs[-1]['total_seconds']:,.0f} s in {runs[-1]['repro_commands']} "
              "dvc repro command(s)", file=sys.stderr, flush=True)  # fmt: skip
    result = {"cpu_model": cpu_model(), "cpus": os.cpu_count(), "params": str(params) if params else "params.yaml",
              "runs": runs}  # fmt: skip
    if len(runs) > 1:
        result["ratio_first_to_last"] = round(runs[0]["total_seconds"] / runs[-1]["total_seconds"], 3)
    for run_dir in dirs:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def full_repro_markdown(result: dict) -> str:
    runs = result["runs"]
    names = list(dict.fromkeys(name for run in runs for name in run["stages"]))
    header = " | ".join(f"{run['rev']} ({run['commit'][:7]})" for run in runs)
    lines = [
        f"One `dvc repro` from an empty cache per revision, back to back on {result['cpus']} cores "
        f"({result['cpu_model']}), settings {result['params']}. Stage seconds include DVC's and Prefect's start-up; "
        "a rebuild that took more than one `dvc repro` command (an interruption, then a continuation) adds their "
        "seconds.",
        "",
        f"| stage | {header} |",
        "|---|" + "---|" * len(runs),
    ]
    for name in names:
        cells = " | ".join(f"{run['stages'][name]:,.0f}" if name in run["stages"] else "-" for run in runs)
        lines.append(f"| {name} | {cells} |")
    lines.append("| **total** | " + " | ".join(f"**{run['total_seconds']:,.0f}**" for run in runs) + " |")
    lines.append("| `dvc repro` commands | " + " | ".join(str(run.get("repro_commands", 1)) for run in runs) + " |")
    if "ratio_first_to_last" in result:
        lines += ["", f"First revision / last: {result['ratio_first_to_last']:.2f}x the wall time."]
    return "\n".join(lines)
