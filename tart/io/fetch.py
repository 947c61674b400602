"""Fetch the shared benchmark files: copy from a mirror directory or download, always verifying sha256.

The project's own manifest (`data/manifest.tsv`: path, sha256, url) names every file it uses. A file is first
looked up in the mirror (`TART_DATA_MIRROR`, else the `fetch.mirror` param); failing that it is downloaded from its
public URL with pooch. Either way it lands under a temporary name and is renamed only once its hash matches.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pooch

from tart.core.files import atomic_path

MIRROR_ENV = "TART_DATA_MIRROR"


class FetchError(RuntimeError):
    """A file could not be obtained or failed verification."""


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    sha256: str
    url: str


def read_manifest(manifest: Path) -> dict[str, ManifestEntry]:
    """Manifest rows keyed by relative path."""
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    entries = {}
    for line, row in enumerate(rows, start=2):
        if set(row) != {"path", "sha256", "url"} or len(row["sha256"] or "") != 64:
            raise FetchError(f"{manifest}:{line}: expected columns path, sha256 (64 hex digits), url; got {row}")
        entries[row["path"]] = ManifestEntry(row["path"], row["sha256"], row["url"] or "")
    return entries


def resolve_mirror(configured: str | None) -> Path | None:
    """The mirror directory: the environment variable wins over the param; None when neither is set."""
    value = os.environ.get(MIRROR_ENV) or configured
    return Path(value).expanduser() if value else None


def sha256_of(path: Path) -> str:
    return pooch.file_hash(str(path), alg="sha256")


def _verify(path: Path, entry: ManifestEntry, origin: str) -> None:
    actual = sha256_of(path)
    if actual != entry.sha256:
        path.unlink(missing_ok=True)
        raise FetchError(
            f"{entry.path} from {origin}: sha256 mismatch (expected {entry.sha256}, got {actual}); "
            "the file is corrupt or a different version; nothing was written"
        )


def fetch_file(entry: ManifestEntry, dest_dir: Path, mirror: Path | None) -> Path:
    """Place `entry` at `dest_dir/entry.path`, verified; reuse an existing verified copy."""
    dest = dest_dir / entry.path
    if dest.exists() and sha256_of(dest) == entry.sha256:
        return dest
    with atomic_path(dest) as tmp:  # removed again if the copy, download or check fails
        source = mirror / entry.path if mirror is not None else None
        if source is not None and source.is_file():
            shutil.copyfile(source, tmp)
            _verify(tmp, entry, str(source))
        elif entry.url:
            try:
                pooch.retrieve(
                    entry.url, known_hash=f"sha256:{entry.sha256}", fname=tmp.name, path=tmp.parent, progressbar=True
                )
            except Exception as exc:  # network errors and hash mismatches alike: one message with the fix
                where = f"not in mirror {mirror}" if mirror is not None else f"no mirror set (${MIRROR_ENV})"
                raise FetchError(
                    f"{entry.path}: {where}, and the download from {entry.url} failed ({exc}). "
                    f"Point {MIRROR_ENV} (or params fetch.mirror) at a directory holding the shared data files, "
                    "or run where that URL is reachable."
                ) from exc
        else:
            where = f"not found in mirror {mirror}" if mirror is not None else f"no mirror set (${MIRROR_ENV})"
            raise FetchError(
                f"{entry.path}: {where}, and it has no public URL to download from. "
                f"Point {MIRROR_ENV} (or params fetch.mirror) at a directory holding it."
            )
    return dest


def fetch_all(manifest: Path, files: list[str], dest_dir: Path, mirror: Path | None) -> list[Path]:
    """Fetch the named manifest files into `dest_dir`."""
    entries = read_manifest(manifest)
    unknown = [f for f in files if f not in entries]
    if unknown:
        raise FetchError(f"{manifest}: no entry for {unknown}; known: {sorted(entries)}")
    return [fetch_file(entries[f], dest_dir, mirror) for f in files]
