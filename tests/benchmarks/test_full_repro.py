"""The full-rebuild benchmark on the tiny profile: a fresh clone, an empty cache, every stage timed."""

import pytest
import yaml
from helpers import ROOT, run_stages, tiny_pipeline_params

from benchmarks.full_repro import ReproError, full_repro, full_repro_markdown

pytestmark = pytest.mark.integration


def test_every_stage_of_a_clean_clone_is_timed(mirror, tiny_workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("TART_DATA_MIRROR", str(mirror))
    params = tmp_path / "tiny.yaml"
    params.write_text(yaml.safe_dump(tiny_pipeline_params(), sort_keys=False))
    result = full_repro(["HEAD"], ROOT, params, tmp_path / "state")
    run = result["runs"][0]
    expected = set(run_stages(tiny_workspace))  # the same dvc.yaml under the same tiny params
    assert set(run["stages"]) == expected  # an empty cache: every stage runs, none is skipped
    assert 0 < sum(run["stages"].values()) <= run["total_seconds"] and run["repro_commands"] == 1
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())  # nothing left behind
    table = full_repro_markdown(result)
    assert "| fetch |" in table and "| **total** |" in table


def test_an_unknown_revision_is_one_clear_error(tmp_path):
    with pytest.raises(ReproError, match="no-such-rev"):
        full_repro(["no-such-rev"], ROOT)
