import hashlib

import pytest

from tart.io.fetch import MIRROR_ENV, FetchError, ManifestEntry, fetch_all, fetch_file, read_manifest, resolve_mirror


@pytest.fixture
def mirror_with_file(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "sub").mkdir(parents=True)
    (mirror / "sub" / "a.csv").write_text("x,y\n1,2\n")
    digest = hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    return mirror, ManifestEntry("sub/a.csv", digest, "")


def test_copy_from_mirror_verified(mirror_with_file, tmp_path):
    mirror, entry = mirror_with_file
    dest = fetch_file(entry, tmp_path / "raw", mirror)
    assert dest.read_text() == "x,y\n1,2\n"
    assert fetch_file(entry, tmp_path / "raw", None) == dest  # a verified copy is reused without a mirror


def test_sha_mismatch_leaves_nothing(mirror_with_file, tmp_path):
    mirror, entry = mirror_with_file
    wrong = ManifestEntry(entry.path, "0" * 64, "")
    with pytest.raises(FetchError, match="sub/a.csv from .*sha256 mismatch"):
        fetch_file(wrong, tmp_path / "raw", mirror)
    assert not any((tmp_path / "raw").rglob("*.*"))


def test_no_mirror_no_url_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    with pytest.raises(FetchError, match=f"no mirror set.*{MIRROR_ENV}"):
        fetch_file(ManifestEntry("x.csv", "0" * 64, ""), tmp_path, resolve_mirror(None))


def test_unreachable_url_says_how_to_fix(tmp_path):
    entry = ManifestEntry("x.csv", "0" * 64, "http://127.0.0.1:9/x.csv")
    with pytest.raises(FetchError, match="download from http://127.0.0.1:9/x.csv failed"):
        fetch_file(entry, tmp_path / "raw", tmp_path / "empty-mirror")
    assert not any((tmp_path / "raw").rglob("*"))


def test_env_mirror_wins(monkeypatch, tmp_path):
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    assert resolve_mirror("elsewhere") == tmp_path


def test_project_manifest_matches_mirror(mirror, tmp_path):
    from helpers import ROOT

    entries = read_manifest(ROOT / "data" / "manifest.tsv")
    files = [p for p in entries if p.startswith("nb201_")]
    paths = fetch_all(ROOT / "data" / "manifest.tsv", files, tmp_path, mirror)
    assert [p.name for p in paths] == [f.split("/")[-1] for f in files]


def test_bad_manifest(tmp_path):
    path = tmp_path / "m.tsv"
    path.write_text("path\tsha256\turl\nx.csv\tabc\t\n")
    with pytest.raises(FetchError, match="m.tsv:2"):
        read_manifest(path)
