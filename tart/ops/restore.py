"""Bring a workspace back to its last committed results after an interrupted stage (`tart restore`).

DVC deletes a stage's outputs before running it, so a stage killed midway leaves them missing (writes are atomic:
nothing is left half-written). Outputs kept in DVC's cache come back with `dvc checkout`; outputs committed to git
(`cache: false`: reports, figures, the shipped checkpoint) from HEAD. Only files missing from the working tree are
restored from git: an edited file stays as it is. A DVC command killed while it rewrote its lock table
(`.dvc/tmp/rwlock`) leaves that file empty, and DVC then refuses every command until it is removed: restore removes it
when it is unreadable, and says so.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tart.ops.revisions import DvcCommandError, RevisionError, run_dvc


def deleted_tracked_files(repo: Path) -> list[str]:
    done = subprocess.run(["git", "ls-files", "--deleted", "-z"], cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        raise RevisionError(f"{repo.resolve()}: not a git repository ({done.stderr.strip()})")
    return sorted(set(filter(None, done.stdout.split("\0"))))


# DVC's table of the paths its running commands read and write; rewritten in place, so a kill can leave it empty
RWLOCK = Path(".dvc/tmp/rwlock")


def remove_unreadable_rwlock(repo: Path) -> list[str]:
    """Remove DVC's lock table if it is not JSON (left by a killed DVC command); the removed path, or none."""
    path = repo / RWLOCK
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (json.JSONDecodeError, UnicodeDecodeError):
        path.unlink()
        return [str(RWLOCK)]
    return []


def restore(repo: Path = Path(".")) -> dict:
    """Restore deleted git-tracked files from HEAD, then DVC outputs from the cache, then remove DVC's lock table if a
    killed command left it unreadable; returns what was done."""
    deleted = deleted_tracked_files(repo)
    if deleted:
        done = subprocess.run(["git", "checkout", "HEAD", "--", *deleted], cwd=repo, capture_output=True, text=True)
        if done.returncode != 0:
            raise RevisionError(f"git checkout of {len(deleted)} deleted files failed: {done.stderr.strip()}")
    try:
        checkout = run_dvc(["checkout"], repo)
    except DvcCommandError as exc:
        raise RevisionError(f"{exc}\nThe local cache lacks those outputs: fetch them from the remote with "
                            "`dvc pull` (docs/operations.md, \"Sharing results\")") from exc  # fmt: skip
    # after the checkout: it takes DVC's workspace lock, so it has failed if a DVC command is still running
    removed = remove_unreadable_rwlock(repo)
    return {"from_git": deleted, "from_dvc_cache": [line for line in checkout.splitlines() if line.strip()],
            "removed": removed}  # fmt: skip
