"""One retraining run: lock the workspace, rerun the pipeline, compare with the committed results.

A failed run puts the last good results back (the reports directory and `dvc.lock` from a backup, the
DVC-cached outputs with `dvc checkout`), so a broken commit never leaves half-written results behind.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tart.core.params import Params
from tart.ops.compare import VERDICT_TEXT, Change, compare, markdown, overall
from tart.ops.revisions import WORKSPACE, DvcCommandError, committed_metrics, read_metrics, run_dvc

Log = Callable[[str], None]


class WorkspaceBusy(RuntimeError):
    """Another retraining run holds this workspace."""


class RetrainError(RuntimeError):
    """The pipeline command failed; the last good results were restored."""


@contextmanager
def workspace_lock(path: Path) -> Iterator[None]:
    """An OS-level lock (released even if the holder dies) plus a note saying who holds it."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    holder = path.with_name(path.name + ".holder.json")
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        who = holder.read_text().strip() if holder.exists() else "unknown holder"
        raise WorkspaceBusy(
            f"{path}: another retraining run is working in {path.parent.parent.resolve()} ({who}); "
            "two runs must not share a workspace: wait for it to finish"
        ) from None
    try:
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        holder.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                      "user": getpass.getuser(), "started": started}))  # fmt: skip
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


@contextmanager
def results_kept_on_failure(workdir: Path, reports: Path, log: Log = print) -> Iterator[None]:
    """Back up `dvc.lock` and the (uncached) reports; on any failure put them back and check out
    the cached outputs that `dvc.lock` names."""
    with tempfile.TemporaryDirectory(prefix="tart-retrain-") as backup_dir:
        backup = Path(backup_dir)
        lock_file, reports_dir = workdir / "dvc.lock", workdir / reports
        if lock_file.exists():
            shutil.copy2(lock_file, backup / "dvc.lock")
        if reports_dir.exists():
            shutil.copytree(reports_dir, backup / "reports", symlinks=True)
        try:
            yield
        except BaseException:
            log("run failed: restoring the last good results")
            if (backup / "dvc.lock").exists():
                shutil.copy2(backup / "dvc.lock", lock_file)
            if (backup / "reports").exists():
                shutil.rmtree(reports_dir, ignore_errors=True)
                shutil.copytree(backup / "reports", reports_dir, symlinks=True)
            if lock_file.exists():
                try:
                    run_dvc(["checkout", "--force", "--quiet"], workdir)
                except DvcCommandError as exc:
                    raise RetrainError(f"restoring the DVC outputs failed: {exc}") from exc
            raise


def run_command(command: list[str], workdir: Path, log: Log = print, keep_lines: int = 40) -> None:
    """Run the pipeline command, streaming its output; raise with the output's tail if it fails."""
    tail: deque[str] = deque(maxlen=keep_lines)
    log(f"$ {' '.join(command)}")
    try:
        process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as exc:
        raise RetrainError(f"retrain.command {command}: cannot start it ({exc})") from exc
    assert process.stdout is not None
    for line in process.stdout:
        tail.append(line.rstrip())
        log(line.rstrip())
    if process.wait() != 0:
        raise RetrainError(f"{' '.join(command)} exited with {process.returncode}; last output:\n" + "\n".join(tail))


@dataclass(frozen=True)
class RetrainReport:
    verdict: str
    markdown: str
    changes: list[Change]
    baseline_found: bool

    @property
    def summary(self) -> str:
        return VERDICT_TEXT[self.verdict] if self.baseline_found else "first results (nothing committed yet)"


def retrain_once(p: Params, workdir: Path = Path("."), log: Log = print) -> RetrainReport:
    """Lock, rerun the pipeline, and compare the new metrics with those committed at HEAD."""
    metrics = p.paths.reports / "metrics.json"
    with workspace_lock(workdir / p.retrain.lock):
        baseline = committed_metrics(metrics, workdir)
        with results_kept_on_failure(workdir, p.paths.reports, log):
            run_command(p.retrain.command, workdir, log)
            new = read_metrics(metrics, WORKSPACE, workdir)
    changes = compare(baseline, new)
    verdict = overall(changes, p.retrain.primary_metric)
    text = markdown(changes, "committed (HEAD)", "this run", p.retrain.primary_metric)
    return RetrainReport(verdict, text, changes, baseline is not None)
