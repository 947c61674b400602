"""Run provenance: what a stage records and how its last duration is read back."""

import json

from tart.core.provenance import last_seconds, record


def test_a_recorded_run_is_read_back(tmp_path):
    path = record("train", 12.345, tmp_path, result="ok")
    facts = json.loads(path.read_text())
    assert (facts["stage"], facts["seconds"], facts["result"]) == ("train", 12.35, "ok") and facts["cpu_model"]
    assert last_seconds("train", tmp_path) == 12.35


def test_missing_or_unreadable_records_give_no_duration(tmp_path):
    assert last_seconds("train", tmp_path) is None
    (tmp_path / "build.json").write_text("{not json")
    (tmp_path / "split.json").write_text(json.dumps({"stage": "split"}))
    (tmp_path / "fetch.json").write_text(json.dumps({"seconds": None}))
    assert last_seconds("build", tmp_path) is None and last_seconds("split", tmp_path) is None
    assert last_seconds("fetch", tmp_path) is None
