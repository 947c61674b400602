"""Stage code deps from import closures (tart/ops/stage_deps.py): a gap or an extra dep is found and mended, package
data counts as code, whole folders compact, stages it cannot read are refused. The repository's own dvc.yaml files
are checked in tests/flows/test_dvc_graph.py."""

import pytest
import yaml
from helpers import ROOT

from tart.ops.stage_deps import StageDepsError, code_files, compact, differences, rewrite


def test_a_module_left_out_or_a_folder_too_many_is_found(tmp_path):
    deps = ["flows/__init__.py", "flows/common.py", "flows/train.py", "tart/__init__.py", "tart/core", "tart/graphs",
            "tart/models", "tart/training", "tart/app", "${paths.tokens}"]  # fmt: skip
    stage = {"cmd": "python -m flows.train", "wdir": str(ROOT), "deps": deps}
    dvc_file = tmp_path / "dvc.yaml"
    dvc_file.write_text(yaml.safe_dump({"stages": {"train": stage}}, default_flow_style=None, width=1000))
    missing, extra = differences(dvc_file)["train"]
    assert "tart/tokens/token_set.py" in missing and "tart/app" in extra
    dvc_file.write_text(rewrite(dvc_file))  # the writer mends it, keeping the data dep
    assert not differences(dvc_file) and yaml.safe_load(dvc_file.read_text())["stages"]["train"]["deps"][-1] == (
        "${paths.tokens}")  # fmt: skip


def test_package_data_beside_an_imported_module_is_code_and_full_folders_compact():
    files = code_files("flows.tgnas")
    assert ROOT / "tart/models/op_embeddings.json" in files and ROOT / "tart/models/tgnas.py" in files
    assert ROOT / "tart/app/cli.py" not in files
    listed = compact(files)
    assert "tart/models/tgnas.py" in listed and "tart/app" not in listed
    assert compact({p for p in (ROOT / "tart/core").rglob("*.py")} | {ROOT / "tart/__init__.py"}) == [
        "tart/__init__.py", "tart/core"]  # fmt: skip


def test_a_stage_outside_the_repository_root_or_module_is_refused(tmp_path):
    dvc_file = tmp_path / "dvc.yaml"
    dvc_file.write_text(yaml.safe_dump({"stages": {"x": {"cmd": "python -m flows.train", "deps": []}}}))
    with pytest.raises(StageDepsError, match="repository root"):
        differences(dvc_file)
    dvc_file.write_text(yaml.safe_dump({"stages": {"x": {"cmd": "python -m flows.nothing", "wdir": str(ROOT)}}}))
    with pytest.raises(StageDepsError, match="flows.nothing is no module"):
        differences(dvc_file)
