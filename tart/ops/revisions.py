"""Results at a git revision (through `dvc.api`) or in the working tree, and offline `dvc plots diff`."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tart.core.files import write_text

WORKSPACE = "workspace"


class RevisionError(RuntimeError):
    """A revision or a results file that cannot be read."""


def read_metrics(path: Path, rev: str = WORKSPACE, repo: Path = Path(".")) -> dict:
    """`path` (relative to `repo`) as committed at `rev`, or as it is now for `workspace`."""
    if rev == WORKSPACE:
        file = repo / path
        if not file.exists():
            raise RevisionError(f"{file}: no results in the working tree; run `dvc repro` first")
        return json.loads(file.read_text())
    import dvc.api  # lazily: the library stays importable without dvc
    from dvc.exceptions import DvcException, PathMissingError
    from scmrepo.exceptions import SCMError

    try:
        return json.loads(dvc.api.read(str(path), repo=str(repo), rev=rev))
    except (FileNotFoundError, PathMissingError) as exc:
        raise RevisionError(f"{rev}: no {path} at that revision (was the pipeline's result committed?)") from exc
    except (DvcException, SCMError) as exc:
        raise RevisionError(f"{rev}: not a revision of {repo.resolve()} ({exc})") from exc


def committed_metrics(path: Path, repo: Path = Path(".")) -> dict | None:
    """The results of the last commit, or None when HEAD has none yet (the first run)."""
    try:
        return read_metrics(path, "HEAD", repo)
    except RevisionError:
        return None


class DvcCommandError(RevisionError):
    """A `dvc` command that exited with an error."""


def run_dvc(args: list[str], repo: Path) -> str:
    """`dvc ARGS` in `repo` with this interpreter's DVC; its stdout, or DvcCommandError with its message."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise DvcCommandError(f"dvc {' '.join(args)} failed:\n{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def plots_diff(revs: list[str], out_dir: Path, repo: Path = Path(".")) -> Path:
    """`dvc plots diff REVS` rendered without any script or CDN: Vega-Lite plots become inline SVG
    (vl-convert), image plots are copied beside the page. Returns the page, written atomically."""
    import vl_convert

    out_dir = out_dir.resolve()
    static = out_dir / "static"
    shutil.rmtree(static, ignore_errors=True)
    rev_args = [r for r in revs if r != WORKSPACE] or ["HEAD"]
    data = json.loads(run_dvc(["plots", "diff", *rev_args, "--json", "-o", str(static)], repo))["data"]
    sections = []
    for name, entries in data.items():
        parts = []
        for entry in entries:
            if entry["type"] == "vega":
                parts.append(vl_convert.vegalite_to_svg(entry["content"]))
            elif entry["type"] == "image":
                src = Path(entry["url"]).relative_to(out_dir)
                label = html.escape(", ".join(entry["revisions"]))
                parts.append(f'<figure><img src="{src}" alt="{label}"><figcaption>{label}</figcaption></figure>')
        sections.append(f"<section><h2>{html.escape(name)}</h2>{''.join(parts)}</section>")
    title = html.escape("TART plots: " + " vs ".join(revs or ["HEAD", WORKSPACE]))
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif} figure{display:inline-block;margin:8px}"
        " img{max-width:560px}</style></head>"
        f"<body><h1>{title}</h1>{''.join(sections)}</body></html>\n"
    )
    index = out_dir / "index.html"
    write_text(index, page)
    return index
